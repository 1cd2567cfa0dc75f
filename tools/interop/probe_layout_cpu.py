#!/usr/bin/env python3
"""Which channels-first (NCHW) ops run on this CPU: raw TensorFlow kernels (eager and inside a
tf.function graph) and Keras layers with data_format="channels_first" (tf_keras and Keras 3 with
the TensorFlow backend, eager call and model.predict). One line per op: `runs` or `REFUSED <error>`.

    /root/.cache/bnconv/venv/bin/python tools/interop/probe_layout_cpu.py [tensorflow|tf_keras|keras3]
    TF_ENABLE_ONEDNN_OPTS=0 /root/.cache/bnconv/venv/bin/python tools/interop/probe_layout_cpu.py

TensorFlow's x86 CPU build runs these ops through oneDNN by default, which accepts NCHW; with
TF_ENABLE_ONEDNN_OPTS=0 TensorFlow's own CPU kernels are used, and several refuse NCHW.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np


def one_line(error):
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:220]


def probe_tensorflow():
    import tensorflow as tf
    x = np.random.rand(1, 3, 8, 8).astype("float32")
    ones = np.ones(3, "float32")
    zeros = np.zeros(3, "float32")
    ops = {
        "Conv2D": lambda: tf.raw_ops.Conv2D(input=x, filter=np.random.rand(3, 3, 3, 4).astype("float32"),
                                            strides=[1, 1, 1, 1], padding="SAME", data_format="NCHW"),
        "DepthwiseConv2dNative": lambda: tf.raw_ops.DepthwiseConv2dNative(
            input=x, filter=np.random.rand(3, 3, 3, 1).astype("float32"), strides=[1, 1, 1, 1], padding="SAME", data_format="NCHW"),
        "Conv2DBackpropInput": lambda: tf.raw_ops.Conv2DBackpropInput(
            input_sizes=[1, 4, 16, 16], filter=np.random.rand(3, 3, 4, 3).astype("float32"), out_backprop=x,
            strides=[1, 1, 2, 2], padding="SAME", data_format="NCHW"),
        "MaxPool": lambda: tf.raw_ops.MaxPool(input=x, ksize=[1, 1, 2, 2], strides=[1, 1, 2, 2], padding="VALID", data_format="NCHW"),
        "AvgPool": lambda: tf.raw_ops.AvgPool(value=x, ksize=[1, 1, 2, 2], strides=[1, 1, 2, 2], padding="VALID", data_format="NCHW"),
        "BiasAdd": lambda: tf.raw_ops.BiasAdd(value=x, bias=ones, data_format="NCHW"),
        "FusedBatchNormV3": lambda: tf.raw_ops.FusedBatchNormV3(x=x, scale=ones, offset=zeros, mean=zeros, variance=ones,
                                                                 is_training=False, data_format="NCHW")[0],
    }
    for name, fn in ops.items():
        for mode, run in (("eager", fn), ("graph", tf.function(fn))):
            try:
                run()
                print(f"tensorflow {name} NCHW {mode}: runs")
            except Exception as error:  # noqa: BLE001
                print(f"tensorflow {name} NCHW {mode}: REFUSED {one_line(error)}")


def probe_keras(which):
    if which == "tf_keras":
        import tf_keras as keras
    else:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras
    L = keras.layers
    x2, x1, x3 = (np.random.rand(*s).astype("float32") for s in ((1, 3, 8, 8), (1, 3, 8), (1, 3, 4, 4, 4)))
    cf = {"data_format": "channels_first"}
    layers = {
        "Conv2D": (lambda: L.Conv2D(4, 3, **cf), x2),
        "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(3, **cf), x2),
        "SeparableConv2D": (lambda: L.SeparableConv2D(4, 3, **cf), x2),
        "Conv2DTranspose": (lambda: L.Conv2DTranspose(4, 3, strides=2, **cf), x2),
        "MaxPooling2D": (lambda: L.MaxPooling2D(2, **cf), x2),
        "AveragePooling2D": (lambda: L.AveragePooling2D(2, **cf), x2),
        "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(**cf), x2),
        "BatchNormalization(axis=1)": (lambda: L.BatchNormalization(axis=1), x2),
        "ZeroPadding2D": (lambda: L.ZeroPadding2D(1, **cf), x2),
        "UpSampling2D": (lambda: L.UpSampling2D(2, **cf), x2),
        "Conv1D": (lambda: L.Conv1D(4, 3, **cf), x1),
        "Conv3D": (lambda: L.Conv3D(4, 3, **cf), x3),
    }
    for name, (make, x) in layers.items():
        try:
            make()(x)
            inp = keras.Input(shape=x.shape[1:])
            keras.Model(inp, make()(inp)).predict(x, verbose=0)
            print(f"{which} {name} channels_first: runs (eager call and predict)")
        except Exception as error:  # noqa: BLE001
            print(f"{which} {name} channels_first: REFUSED {one_line(error)}")


if __name__ == "__main__":
    which = sys.argv[1:] or ["tensorflow", "tf_keras", "keras3"]
    for w in which:
        probe_tensorflow() if w == "tensorflow" else probe_keras(w)
