#!/usr/bin/env python3
"""Checks `bnconv fold --assume-inference` on a frozen graph whose FusedBatchNorm* run in training mode.

    /root/.cache/bnconv/venv/bin/python tools/interop/check_assumed_inference.py ORIGINAL.pb FOLDED.pb INPUT.npy \
        [--input-name input:0] [--output-name Identity:0] [--expect-kept N]

The reference is TensorFlow's own output of ORIGINAL.pb with `is_training` set to false on every
FusedBatchNorm* (edited with TensorFlow's protobuf classes, so the stored moving statistics are used),
run on INPUT.npy. FOLDED.pb (bnconv's output) is imported and run the same way; the check passes when
max|y - y_ref| <= 1e-5 x max|y_ref|, exactly N FusedBatchNorm* nodes remain (--expect-kept, default 0)
and every one that remains says is_training: false. Exit 0 on success, 1 on a mismatch, 2 when
TensorFlow refuses the graph.
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf


def load(path):
    graph_def = tf.compat.v1.GraphDef()
    with open(path, "rb") as f:
        graph_def.ParseFromString(f.read())
    return graph_def


def run(graph_def, x, input_name, output_name):
    with tf.Graph().as_default() as g:
        tf.graph_util.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=g) as sess:
            return sess.run(output_name, {input_name: x})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("original")
    ap.add_argument("folded")
    ap.add_argument("input")
    ap.add_argument("--input-name", default="input:0")
    ap.add_argument("--output-name", default="Identity:0")
    ap.add_argument("--expect-kept", type=int, default=0)
    args = ap.parse_args()
    x = np.load(args.input)

    original = load(args.original)
    trained = [n.name for n in original.node if n.op.startswith("FusedBatchNorm")
               and (n.attr["is_training"].b if "is_training" in n.attr else True)]
    for n in original.node:
        if n.name in trained:
            n.attr["is_training"].b = False
    reference = run(original, x, args.input_name, args.output_name)

    folded = load(args.folded)
    try:
        actual = run(folded, x, args.input_name, args.output_name)
    except Exception as e:  # TensorFlow refused the graph
        print(f"{args.folded}: TensorFlow refused the graph: {type(e).__name__}: {str(e).splitlines()[0]}")
        return 2
    kept = [n for n in folded.node if n.op.startswith("FusedBatchNorm")]
    training = [n.name for n in kept if n.attr["is_training"].b or "is_training" not in n.attr]
    err = float(np.abs(actual.astype(np.float64) - reference).max() / max(np.abs(reference).max(), 1e-30))
    ok = actual.shape == reference.shape and err <= 1e-5 and len(kept) == args.expect_kept and not training
    print(f"{args.folded}: {len(trained)} training-mode BN in the original; {len(kept)} FusedBatchNorm left "
          f"(expected {args.expect_kept}), {len(training)} still training; max rel err vs TF's inference-mode "
          f"original {err:.2e} (tol 1e-05): {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
