#!/usr/bin/env python3
"""Freezes a SavedModel's serving signature into a GraphDef (`convert_variables_to_constants_v2`), as
TensorFlow users do before deploying, and records the input and output tensor names beside it.

    python tools/interop/freeze_saved_model.py SAVED_MODEL_DIR OUT.pb

Writes OUT.pb and OUT.pb.json ({"inputs": [...], "outputs": [...]}).
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2


def main(src, out):
    loaded = tf.saved_model.load(src)
    fn = loaded.signatures["serving_default"]
    frozen = convert_variables_to_constants_v2(fn)
    with open(out, "wb") as f:
        f.write(frozen.graph.as_graph_def().SerializeToString())
    names = {"inputs": [t.name for t in frozen.inputs if t.dtype != tf.resource],
             "outputs": [t.name for t in frozen.outputs]}
    with open(out + ".json", "w") as f:
        json.dump(names, f)
    print(out, names)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
