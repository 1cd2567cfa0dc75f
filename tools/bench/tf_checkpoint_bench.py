#!/usr/bin/env python3
"""Freezing and folding TensorFlow SavedModels: bnconv beside TensorFlow's own tools, on every model.

    python tools/bench/tf_checkpoint_bench.py --bnconv .build/release/bnconv [--runs 3]

Models: every SavedModel fixture (Tests/Fixtures/tf_savedmodel) and tf_keras ResNet-50 and
MobileNetV2 (weights=None, random BN statistics) saved with `model.save(dir)` into
~/.cache/bnconv/models/savedmodels (made on first use). For each, wall-clock seconds (best of --runs):
  bnconv freeze       `bnconv convert DIR -o x.pb` (verified against the model as read)
  bnconv fold         `bnconv convert DIR -o x.pb --fold --no-verify`
  bnconv fold+verify  `bnconv convert DIR -o x.pb --fold`
  TF freeze           tf.saved_model.load + convert_variables_to_constants_v2 + SerializeToString + write,
                      in a fresh process (as a user runs it)
  TF freeze+fold      the same, then optimize_for_inference_lib.fold_batch_norms on the frozen graph
and the size. Not a test: figures for docs/tensorflow-checkpoints.md.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CACHE = os.path.expanduser("~/.cache/bnconv/models/savedmodels")

MAKE = r'''
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tf_keras
name, out = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
m = {"resnet50": tf_keras.applications.ResNet50, "mobilenetv2": tf_keras.applications.MobileNetV2}[name](weights=None)
for l in m.layers:
    if isinstance(l, tf_keras.layers.BatchNormalization):
        c = l.get_weights()[0].shape
        l.set_weights([rng.uniform(0.5, 1.5, c), rng.uniform(-.2, .2, c), rng.uniform(-.2, .2, c), rng.uniform(.5, 2, c)][:len(l.get_weights())])
m.save(out, save_format="tf")
'''

TF_FREEZE = r'''
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
t0 = time.perf_counter()
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
path, out, fold = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
loaded = tf.saved_model.load(path)  # kept alive: the signature's variables belong to it
f = loaded.signatures["serving_default"]
gd = convert_variables_to_constants_v2(f).graph.as_graph_def()
if fold:
    from tensorflow.python.tools import optimize_for_inference_lib
    gd = optimize_for_inference_lib.fold_batch_norms(gd)
open(out, "wb").write(gd.SerializeToString())
'''


def timed(cmd, runs):
    best = None
    for _ in range(runs):
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t
        if r.returncode != 0:
            return None, (r.stderr.strip().splitlines() or [""])[-1]
        best = dt if best is None else min(best, dt)
    return best, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", default=os.path.join(ROOT, ".build", "release", "bnconv"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    models = []
    fixtures = os.path.join(ROOT, "Tests", "Fixtures", "tf_savedmodel")
    for case in sorted(os.listdir(fixtures)):
        if os.path.isdir(os.path.join(fixtures, case, "model")):
            models.append((case, os.path.join(fixtures, case, "model")))
    for name in ("mobilenetv2", "resnet50"):
        path = os.path.join(CACHE, name)
        if not os.path.exists(os.path.join(path, "saved_model.pb")):
            subprocess.run([sys.executable, "-c", MAKE, name, path], check=True)
        models.append((name, path))
    tmp = tempfile.mkdtemp(prefix="bnconv-tfbench-")
    out = os.path.join(tmp, "x.pb")
    print("| model | size | bnconv freeze (verified) | bnconv fold --no-verify | bnconv fold (verified) | TF freeze | TF freeze + fold_batch_norms |")
    print("|---|---|---|---|---|---|---|")
    for name, path in models:
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
        cells = []
        for cmd in ([args.bnconv, "convert", path, "-o", out],
                    [args.bnconv, "convert", path, "-o", out, "--fold", "--no-verify"],
                    [args.bnconv, "convert", path, "-o", out, "--fold"],
                    [sys.executable, "-c", TF_FREEZE, path, out, "0"],
                    [sys.executable, "-c", TF_FREEZE, path, out, "1"]):
            if os.path.exists(out):
                os.remove(out)
            t, err = timed(cmd, args.runs)
            cells.append(f"{t:.2f} s" if t is not None else f"fails: {err[:60]}")
        print(f"| {name} | {size / 1e6:.1f} MB | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
