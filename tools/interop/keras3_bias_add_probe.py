#!/usr/bin/env python3
"""Minimal evidence for a Keras 3 (TensorFlow backend) bug that breaks channels_first layers whose
last spatial size equals their channel count, and which the layout interop check recognises.

`keras.ops.add(x, bias)` in keras/src/backend/tensorflow/numpy.py rewrites an add whose second
operand squeezes to one vector as `tf.nn.bias_add`, choosing the data format by comparing the
vector's length with `x.shape[-1]` FIRST: a bias shaped (1, C, 1, 1) for an NCHW tensor whose width
W == C is added along the width. The layers add their bias this way in channels_first
(BaseDepthwiseConv.call reshapes it to (1, C, 1, 1) and calls ops.add), so a channels_first
DepthwiseConv2D with W == C answers wrongly in Keras 3; tf_keras (which uses
`backend.bias_add(..., data_format=...)`) and numpy broadcasting agree with each other.

usage: /root/.cache/bnconv/venv/bin/python tools/interop/keras3_bias_add_probe.py
Prints four lines; exit 0 when the bug is present (Keras 3 differs, the others agree), 1 otherwise.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main():
    import numpy as np
    import keras

    # 1. The op itself: an NCHW tensor with 8 channels and width 8, a per-channel bias on axis 1.
    x = np.zeros((1, 8, 4, 8), np.float32)
    b = np.arange(8, dtype=np.float32).reshape(1, 8, 1, 1)
    op_error = float(np.abs(np.asarray(keras.ops.add(x, b)) - (x + b)).max())
    print(f"keras {keras.__version__} ({keras.backend.backend()}): max |keras.ops.add(x, b) - numpy x + b| = {op_error:g}"
          f"  (x {x.shape}, b {b.shape})")

    # 2. The layer: DepthwiseConv2D(depth_multiplier=2) on 4 channels -> 8 channels, width 8.
    rng = np.random.default_rng(0)
    xl = rng.standard_normal((2, 8, 8, 4)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 4, 2)).astype(np.float32)
    bias = rng.standard_normal(8).astype(np.float32)
    outputs = {}
    for fmt, shape, feed in (("channels_last", (None, 8, 8, 4), xl), ("channels_first", (None, 4, 8, 8), xl.transpose(0, 3, 1, 2))):
        layer = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", data_format=fmt)
        layer.build(shape)
        layer.set_weights([kernel, bias])
        y = np.asarray(layer(feed))
        outputs[fmt] = y if fmt == "channels_last" else y.transpose(0, 2, 3, 1)
    ref = outputs["channels_last"]
    layer_error = float(np.abs(outputs["channels_first"] - ref).max() / np.abs(ref).max())
    print(f"DepthwiseConv2D channels_first vs channels_last (same weights, transposed input): max rel {layer_error:.2e}")

    # 3. The same layer with ops.add replaced by plain broadcasting: the two formats agree.
    from keras.src.backend.tensorflow import numpy as tf_numpy
    import tensorflow as tf
    buggy = tf_numpy.add
    tf_numpy.add = lambda a, c: tf.add(tf.convert_to_tensor(a), tf.cast(tf.convert_to_tensor(c), tf.convert_to_tensor(a).dtype))
    try:
        layer = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", data_format="channels_first")
        layer.build((None, 4, 8, 8))
        layer.set_weights([kernel, bias])
        fixed = np.asarray(layer(xl.transpose(0, 3, 1, 2))).transpose(0, 2, 3, 1)
    finally:
        tf_numpy.add = buggy
    fixed_error = float(np.abs(fixed - ref).max() / np.abs(ref).max())
    print(f"... with ops.add replaced by tf.add (numpy broadcasting): max rel {fixed_error:.2e}")

    # 4. tf_keras on the same weights.
    import tf_keras
    layer = tf_keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", data_format="channels_first")
    layer.build((None, 4, 8, 8))
    layer.set_weights([kernel, bias])
    tk = np.asarray(layer(xl.transpose(0, 3, 1, 2))).transpose(0, 2, 3, 1)
    tk_error = float(np.abs(tk - ref).max() / np.abs(ref).max())
    print(f"tf_keras {tf_keras.__version__} DepthwiseConv2D channels_first vs Keras 3 channels_last: max rel {tk_error:.2e}")
    bug = op_error > 0 and layer_error > 1e-5 and fixed_error <= 1e-6 and tk_error <= 1e-5
    return 0 if bug else 1


if __name__ == "__main__":
    sys.exit(main())
