#!/usr/bin/env python3
"""Check the engine on whole keras.applications models (not a test; needs the venv).

Run: /root/.cache/bnconv/venv/bin/python tools/interop/engine_zoo.py [--bnconv .build/release/bnconv] [--out DIR]
Builds MobileNetV2 (alpha 0.5), EfficientNetB0, DenseNet121, Xception and NASNetMobile with
weights=None and randomized BatchNorm statistics, plus a small channels_first model, into a scratch
dir (default bench-out/zoo, gitignored), predicts with tf_keras, runs `bnconv run` on the same input
and prints max|bnconv - keras| / max|keras| per model.
"""
import argparse
import os
import subprocess

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def randomize_bn(model, rng, K):
    for layer in model.layers:
        if isinstance(layer, K.layers.BatchNormalization):
            weights = layer.get_weights()
            c = weights[-1].shape
            values = [rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c), rng.uniform(-0.2, 0.2, c),
                      rng.uniform(0.5, 2.0, c)]
            layer.set_weights([v.astype(np.float32) for v in values[4 - len(weights):]])


def channels_first_model(K):
    L, df = K.layers, "channels_first"
    i = K.Input((3, 17, 16))
    y = L.Conv2D(8, 3, strides=2, padding="same", data_format=df)(i)
    y = L.ReLU()(L.BatchNormalization(axis=1)(y))
    y = L.DepthwiseConv2D(3, padding="same", data_format=df, depth_multiplier=2)(y)
    y = L.SeparableConv2D(6, 3, padding="same", data_format=df)(y)
    y = L.MaxPooling2D(3, 2, padding="same", data_format=df)(y)
    y = L.Conv2DTranspose(5, 3, strides=2, padding="same", data_format=df)(y)
    y = L.UpSampling2D(2, data_format=df)(y)
    y = L.ZeroPadding2D(((1, 0), (2, 1)), data_format=df)(y)
    y = L.AveragePooling2D(2, data_format=df)(y)
    y = L.Cropping2D(((1, 0), (0, 1)), data_format=df)(y)
    z = L.GlobalAveragePooling2D(data_format=df)(y)
    y = L.Concatenate()([L.Flatten()(y), z])
    return K.Model(i, L.Dense(7)(y))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bnconv", default=os.path.join(ROOT, ".build", "release", "bnconv"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench-out", "zoo"))
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import tf_keras as K
    A = K.applications
    cases = [("mobilenetv2", lambda: A.MobileNetV2(weights=None, alpha=0.5, input_shape=(96, 96, 3)), (2, 96, 96, 3)),
             ("efficientnetb0", lambda: A.EfficientNetB0(weights=None, input_shape=(64, 64, 3)), (2, 64, 64, 3)),
             ("densenet121", lambda: A.DenseNet121(weights=None, input_shape=(64, 64, 3)), (1, 64, 64, 3)),
             ("xception", lambda: A.Xception(weights=None, input_shape=(71, 71, 3)), (1, 71, 71, 3)),
             ("nasnetmobile", lambda: A.NASNetMobile(weights=None, input_shape=(96, 96, 3)), (1, 96, 96, 3)),
             ("channels_first", lambda: channels_first_model(K), (2, 3, 17, 16))]
    rng = np.random.default_rng(0)
    for name, build, shape in cases:
        model = build()
        randomize_bn(model, rng, K)
        x = rng.standard_normal(shape).astype(np.float32)
        h5, xp, yp = (os.path.join(args.out, name + s) for s in (".h5", "_x.npy", "_bnconv.npy"))
        model.save(h5)
        np.save(xp, x)
        ref = model.predict(x, verbose=0)
        done = subprocess.run([args.bnconv, "run", h5, "--input", xp, "-o", yp], capture_output=True, text=True)
        if done.returncode != 0:
            print("%-15s bnconv failed: %s" % (name, done.stderr.strip()))
            continue
        got = np.load(yp)
        print("%-15s shape %s  max error %.2e x max|keras|" % (name, got.shape, np.abs(got - ref).max() / np.abs(ref).max()))


if __name__ == "__main__":
    main()
