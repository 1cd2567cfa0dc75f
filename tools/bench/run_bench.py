#!/usr/bin/env python3
"""Benchmark (never a test): TensorFlow's own predict vs `bnconv run` on ResNet-50.

Run: /root/.cache/bnconv/venv/bin/python tools/bench/run_bench.py [--out DIR] [--bnconv PATH] [--runs N]
Builds tf_keras.applications.ResNet50(weights=None) with randomized BatchNorm statistics once into a
scratch dir (default bench-out/, gitignored; never committed), saves resnet50.h5 and input_b{1,8}.npy,
then times, warm, TensorFlow's model.predict_on_batch / model(x) and `bnconv run --time` (release
build: swift build -c release) on the same input, checks both answer the same, and prints the ratios.
"""
import argparse
import os
import re
import subprocess
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def build(out):
    import tf_keras as K
    path = os.path.join(out, "resnet50.h5")
    if os.path.exists(path):
        return path
    rng = np.random.default_rng(50)
    model = K.applications.ResNet50(weights=None)
    for layer in model.layers:
        if isinstance(layer, K.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, g.shape).astype(np.float32),
                               rng.uniform(-0.2, 0.2, b.shape).astype(np.float32),
                               rng.uniform(-0.2, 0.2, m.shape).astype(np.float32),
                               rng.uniform(0.5, 2.0, v.shape).astype(np.float32)])
    model.save(path)
    return path


def time_tf(path, x, runs):
    import tensorflow as tf
    import tf_keras as K
    model = K.models.load_model(path, compile=False)
    fn = tf.function(lambda t: model(t, training=False))
    t = tf.constant(x)
    y = fn(t).numpy()
    fn(t)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(t).numpy()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times)), float(np.min(times)), y


def time_bnconv(binary, path, xpath, ypath, runs, env=None):
    done = subprocess.run([binary, "run", path, "--input", xpath, "-o", ypath, "--time", "--runs", str(runs)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit("bnconv run failed (%d): %s" % (done.returncode, done.stderr.strip()))
    out = done.stdout
    median = float(re.search(r"median ([0-9.]+) ms", out).group(1))
    best = float(re.search(r"min ([0-9.]+) ms", out).group(1))
    return median, best, np.load(ypath)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.environ.get("BNCONV_BENCH_DIR", os.path.join(ROOT, "bench-out")))
    p.add_argument("--bnconv", default=os.path.join(ROOT, ".build", "release", "bnconv"))
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--batches", default="1,8")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    path = build(args.out)
    rng = np.random.default_rng(1)
    for batch in [int(b) for b in args.batches.split(",")]:
        xpath = os.path.join(args.out, "input_b%d.npy" % batch)
        x = rng.standard_normal((batch, 224, 224, 3)).astype(np.float32)
        np.save(xpath, x)
        tf_ms, tf_min, y_tf = time_tf(path, x, args.runs)
        # OpenBLAS picks its kernels once at load time from OPENBLAS_CORETYPE (this machine's
        # environment forces Haswell = AVX2); time bnconv as given and, if forced, auto-detected too.
        envs = [("OPENBLAS_CORETYPE=%s" % os.environ.get("OPENBLAS_CORETYPE", "(auto)"), None)]
        if "OPENBLAS_CORETYPE" in os.environ:
            envs.append(("OPENBLAS_CORETYPE unset (auto)",
                         {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}))
        for label, env in envs:
            bn_ms, bn_min, y_bn = time_bnconv(args.bnconv, path, xpath, os.path.join(args.out, "y_b%d.npy" % batch),
                                              args.runs, env)
            err = float(np.abs(y_tf - y_bn).max() / np.abs(y_tf).max())
            print("ResNet-50 batch %d [%s]: TensorFlow median %.1f ms (min %.1f), bnconv median %.1f ms (min %.1f); "
                  "bnconv/TF %.2fx median, %.2fx min; max error %.2e x max|ref|; load average %.2f"
                  % (batch, label, tf_ms, tf_min, bn_ms, bn_min, bn_ms / tf_ms, bn_min / tf_min, err, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
