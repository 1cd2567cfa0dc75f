#!/usr/bin/env python3
"""Restores a tensor bundle written by bnconv with TensorFlow itself and compares every value.

    /root/.cache/bnconv/venv/bin/python tools/interop/check_bundle.py PREFIX EXPECTED_DIR

PREFIX is the bundle (PREFIX.index, PREFIX.data-*); EXPECTED_DIR holds a values.json as
tools/fixtures/make_bundle_fixtures.py writes it (what TensorFlow read from the original bundle).
TensorFlow opens the bundle with tf.train.load_checkpoint (its BundleReader: index table, header,
every entry's checksum) and must report the same keys, dtypes and shapes
(get_variable_to_dtype_map, get_variable_to_shape_map) and the same bytes for every tensor
(get_tensor; bfloat16 compared as bit patterns, strings element by element). Exits 0 when all
agree, 1 when a value differs, 2 when TensorFlow refuses the bundle.

To check bnconv's round trips of the fixtures:
    BNCONV_BUNDLE_OUT=/tmp/bundles swift test --skip-build --filter TensorBundleWriterTests/testWritesBundlesForTensorFlowToRestore
    for d in /tmp/bundles/*/; do .../python tools/interop/check_bundle.py "$d/model.ckpt" "$d"; done
"""
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    prefix, expected_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    expected = json.loads((expected_dir / "values.json").read_text())["entries"]
    import tensorflow as tf
    try:
        reader = tf.train.load_checkpoint(prefix)
        dtypes = reader.get_variable_to_dtype_map()
        shapes = reader.get_variable_to_shape_map()
    except Exception as error:  # TensorFlow's own refusal
        print(f"{prefix}: refused by TensorFlow: {error}")
        return 2
    problems = []
    if sorted(dtypes) != [e["key"] for e in expected]:
        problems.append(f"keys differ: {len(dtypes)} read, {len(expected)} expected")
    for e in expected:
        key = e["key"]
        if key not in dtypes:
            problems.append(f"{key[:80]}: missing")
            continue
        if dtypes[key].name != e["dtype"] or [int(d) for d in shapes[key]] != e["shape"]:
            problems.append(f"{key[:80]}: {dtypes[key].name} {shapes[key]}, expected {e['dtype']} {e['shape']}")
            continue
        try:
            value = reader.get_tensor(key)
        except Exception as error:
            print(f"{prefix}: {key[:80]}: refused by TensorFlow: {error}")
            return 2
        if "strings" in e:
            got = [bytes(s).hex() for s in np.asarray(value, dtype=object).reshape(-1)]
            if got != e["strings"]:
                problems.append(f"{key[:80]}: strings differ")
        else:
            array = np.ascontiguousarray(np.asarray(value))
            if dtypes[key] == tf.bfloat16:
                array = array.view(np.uint16)
            if array.astype(array.dtype.newbyteorder("<")).tobytes().hex() != e["hex"]:
                problems.append(f"{key[:80]}: values differ")
    for p in problems:
        print(f"{prefix}: {p}")
    print(f"{prefix}: {len(expected)} keys, {len(problems)} differ" + ("" if problems else ": TensorFlow restores every value"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
