#!/usr/bin/env python3
"""Benchmark (never a test): TensorFlow's own predict vs `bnconv run` on ResNet-50.

Run: /root/.cache/bnconv/venv/bin/python tools/bench/run_bench.py [--out DIR] [--bnconv PATH] [--runs N]
Uses the ResNet-50 every benchmark here shares (fold_bench.randomized_resnet50: tf_keras
ResNet50(weights=None) with randomized BatchNorm statistics), built once into a scratch dir
(default bench-out/, gitignored; never committed) as resnet50_keras2.h5 (the file fold_bench.py
folds), with input_b{1,8}.npy; then times, warm, TensorFlow's model.predict_on_batch / model(x) and `bnconv run --time` (release
build: swift build -c release) on the same input, checks both answer the same, and prints the ratios.
"""
import argparse
import os
import json
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
from fold_bench import make_resnet50  # noqa: E402  (the one shared randomized ResNet-50)


def build(out):
    """The shared ResNet-50 as a Keras 2 .h5 in `out`, made on first use."""
    path = os.path.join(out, "resnet50_keras2.h5")
    if not os.path.exists(path):
        make_resnet50(path)
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
    done = subprocess.run([binary, "run", path, "--input", xpath, "-o", ypath, "--time", "--runs", str(runs), "--json"],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit("bnconv run failed (%d): %s" % (done.returncode, done.stderr.strip()))
    timing = json.loads(done.stdout)["timing"]
    return timing["medianMilliseconds"], timing["minMilliseconds"], np.load(ypath)


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
