#!/usr/bin/env python3
"""Load a layout-converted Keras file (`bnconv convert --layout nchw|nhwc`) in the real Keras of
its flavour, feed it the ORIGINAL model's recorded input in the converted layout and compare its
output (moved back to channels-last) with the ORIGINAL model's recorded output.

usage: check_layout.py FILE INPUT.npy EXPECTED.npy [--input-layout nchw|nhwc] [--output-layout nchw|nhwc]
                       [--config MODEL.json] [--tolerance T]

INPUT.npy and EXPECTED.npy are channels-last (as the fixtures record them); `--input-layout nchw`
transposes the input to channels-first before predict, `--output-layout nchw` transposes every
output of rank >= 3 back to channels-last before comparing. Pass `nhwc` for both when the file was
converted with --keep-io-layout.

Prints one line and exits with:
  0  `OK <file>: ...`                                    max|y - ref| <= T x max|ref| (T = 1e-5)
  1  `FAIL <file>: ...`                                  Keras loaded and ran it and the numbers differ,
                                                         or Keras could not read the file
  2  `SKIP <file>: refused by Keras on CPU: <error>`     TensorFlow's CPU kernels refuse a
                                                         channels-first op (not a bnconv error)
  4  `KNOWN <file>: Keras 3 bug: ...`                    Keras 3 answers wrongly, and the same file
                                                         answers right once keras.ops.add broadcasts
                                                         like numpy (the Keras 3 TensorFlow backend
                                                         picks NHWC bias_add when the width equals
                                                         the channel count; evidence printed on the
                                                         line; tools/interop/keras3_bias_add_probe.py)
Run with the pinned venv: /root/.cache/bnconv/venv/bin/python tools/interop/check_layout.py ...
"""
import argparse
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# TensorFlow's messages when a CPU kernel has no channels-first (NCHW / NCDHW) implementation.
CPU_REFUSAL = re.compile(
    r"only support\w* (the |for )?N(D)?HWC|NHWC tensor format for now|data_format=NCHW.*(CPU|not supported)"
    r"|(CPU|cpu).*(NCHW|channels_first)|(NCHW|channels_first).*(CPU|cpu)|No OpKernel was registered.*NCHW"
    r"|Tensor format .*NC.*not supported|conv.*data format.*not supported", re.S)


def to_layout(x, layout):
    """A channels-last array in `layout`."""
    import numpy as np
    if layout != "nchw" or x.ndim < 3:
        return x
    return np.transpose(x, (0, x.ndim - 1) + tuple(range(1, x.ndim - 1)))


def from_layout(y, layout):
    """An array in `layout` moved back to channels-last."""
    import numpy as np
    if layout != "nchw" or y.ndim < 3:
        return y
    return np.transpose(y, (0,) + tuple(range(2, y.ndim)) + (1,))


def one_line(error):
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:300]


def worst_error(outputs, expected, output_layout):
    """max |y - ref| / max|ref| over the outputs, or a shape-mismatch message."""
    import numpy as np
    worst = 0.0
    for y, path in zip(outputs, expected):
        y = from_layout(np.asarray(y, dtype=np.float64), output_layout)
        ref = np.load(path).astype(np.float64)
        if y.shape != ref.shape:
            return None, f"output shape {y.shape} != recorded {ref.shape}"
        scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-30)
        worst = max(worst, float(np.max(np.abs(y - ref))) / scale if y.size else 0.0)
    return worst, None


def with_broadcasting_add(args, x):
    """Keras 3 only: the file's outputs when keras.ops.add broadcasts like numpy.

    Keras 3's TensorFlow backend (keras/src/backend/tensorflow/numpy.py `add`) turns `x + bias`
    into `tf.nn.bias_add` and picks NHWC whenever the bias length equals x.shape[-1], even for a
    (1, C, 1, 1) bias of an NCHW tensor: a channels_first layer whose width equals its channel
    count gets its bias added along the width. Returns None when the patch cannot be applied.
    """
    try:
        import tensorflow as tf
        from keras.src.backend.tensorflow import numpy as tf_numpy
        from check_keras_load import load
    except Exception:  # noqa: BLE001
        return None

    def add(a, b):
        a = tf.convert_to_tensor(a)
        return tf.add(a, tf.cast(tf.convert_to_tensor(b), a.dtype))

    buggy = tf_numpy.add
    tf_numpy.add = add
    try:
        model, _ = load(args.file, args.config)     # loaded again: predict traces anew
        outputs = model.predict(x, verbose=0)
    finally:
        tf_numpy.add = buggy
    return outputs if isinstance(outputs, list) else [outputs]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("input")
    parser.add_argument("expected", nargs="+")
    parser.add_argument("--input-layout", choices=["nchw", "nhwc"], default="nchw")
    parser.add_argument("--output-layout", choices=["nchw", "nhwc"], default="nchw")
    parser.add_argument("--config")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    import numpy as np
    from check_keras_load import load

    try:
        model, major = load(args.file, args.config)
    except Exception as error:  # noqa: BLE001 - every load failure is reported as one line
        if CPU_REFUSAL.search(str(error)):
            print(f"SKIP {args.file}: refused by Keras on CPU: {one_line(error)}")
            return 2
        print(f"FAIL {args.file}: Keras could not load it: {one_line(error)}")
        return 1
    x = to_layout(np.load(args.input), args.input_layout)
    try:
        outputs = model.predict(x, verbose=0)
    except Exception as error:  # noqa: BLE001
        if CPU_REFUSAL.search(str(error)):
            print(f"SKIP {args.file}: refused by Keras on CPU: {one_line(error)}")
            return 2
        print(f"FAIL {args.file}: Keras loaded it but predict failed: {one_line(error)}")
        return 1
    outputs = outputs if isinstance(outputs, list) else [outputs]
    if len(outputs) != len(args.expected):
        print(f"FAIL {args.file}: {len(outputs)} outputs, {len(args.expected)} recorded")
        return 1
    worst, problem = worst_error(outputs, args.expected, args.output_layout)
    if problem:
        print(f"FAIL {args.file}: numeric mismatch: {problem}")
        return 1
    if worst > args.tolerance and major >= 3:
        patched = with_broadcasting_add(args, x)
        fixed, _ = worst_error(patched, args.expected, args.output_layout) if patched else (None, None)
        if fixed is not None and fixed <= args.tolerance:
            print(f"KNOWN {args.file}: Keras 3 bug (not bnconv): answers {worst:.2e}; with keras.ops.add broadcasting "
                  f"like numpy {fixed:.2e} (tol {args.tolerance:.0e}): its TF backend adds a (1,C,1,1) bias as NHWC "
                  f"bias_add when W == C; see tools/interop/keras3_bias_add_probe.py")
            return 4
    verdict = "OK" if worst <= args.tolerance else "FAIL"
    kind = "" if verdict == "OK" else "numeric mismatch: "
    print(f"{verdict} {args.file}: {kind}keras {major}, input {args.input_layout}, output {args.output_layout}, "
          f"max rel {worst:.2e} (tol {args.tolerance:.0e})")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
