#!/usr/bin/env bash
# Times reading every tensor of a ~100 MB TensorFlow-written tensor bundle through bnconv's reader
# (TensorBundle: the index, then each tensor's CRC-32C over a read-only mapping of the data file, so
# every byte is read once and none is copied) against `cp` of the same files; warm page cache, best
# of 5 each. Prints one line of figures (the test asserts nothing about time).
#   tools/bench/bundle_read.sh [PYTHON]     (default: the fixtures venv, ~/.cache/bnconv/venv/bin/python)
# TensorFlow writes the bundle once into $BNCONV_BENCH_DIR/bundle_read (default bench-out/, gitignored):
# tf.raw_ops.SaveV2 of 25 float32 tensors of 1,000,000 seeded values (100 MB). The reader runs as an
# opt-in test (TensorBundleBenchTests, BNCONV_BENCH_BUNDLE=PREFIX) of a release build with
# -enable-testing in .build-bench, so it does not disturb .build.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${1:-$HOME/.cache/bnconv/venv/bin/python}
DIR=${BNCONV_BENCH_DIR:-bench-out}/bundle_read
mkdir -p "$DIR"
if [ ! -f "$DIR/model.ckpt.index" ]; then
    TF_CPP_MIN_LOG_LEVEL=3 "$PYTHON" - "$DIR/model.ckpt" <<'PY'
import sys
import numpy as np
import tensorflow as tf
rng = np.random.default_rng(20260301)
names = [f"layer_{i:02d}/kernel" for i in range(25)]
tensors = [tf.constant(rng.standard_normal(1_000_000).astype(np.float32).reshape(1000, 1000)) for _ in names]
tf.raw_ops.SaveV2(prefix=sys.argv[1], tensor_names=names, shape_and_slices=[""] * len(names), tensors=tensors)
PY
fi
swift build -c release --build-tests --scratch-path .build-bench -Xswiftc -enable-testing 2>&1 | grep -E "error|Compiling|Build complete" | tail -n 3
BNCONV_BENCH_BUNDLE="$(realpath "$DIR")/model.ckpt" swift test -c release --skip-build --scratch-path .build-bench \
    --filter 'TensorBundleBenchTests|CRC32CTests/testSpeed' 2>&1 | grep -E "bundle_read:|CRC32C slicing|error" || true
