#!/usr/bin/env python3
"""Times `bnconv fold` on a ResNet-50 Keras 2 `.h5` against `cp` of the same file and a plain
h5py + numpy fold script (h5py_fold.py), in one run; reports wall time and peak RSS.
A benchmark, not a test. The model is generated on demand (tf_keras ResNet50, weights=None, BN
statistics randomized) into the bench directory, never into git.

    python tools/bench/fold_bench.py --bnconv .build/release/bnconv [--dir bench-out] [--repeat 5]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import measure, randomize_batch_norms  # noqa: E402  (shared with the other benches)


def randomized_resnet50(rng=None):
    """tf_keras ResNet50 (weights=None) with randomized, non-trivial BN statistics."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tf_keras
    rng = rng if rng is not None else np.random.default_rng(50)
    model = tf_keras.applications.ResNet50(weights=None)
    randomize_batch_norms(model, rng, tf_keras.layers.BatchNormalization)
    return model


def make_resnet50(path):
    """Saves randomized_resnet50() as a Keras 2 .h5 at `path`."""
    model = randomized_resnet50()
    model.save(path)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--dir", default=os.environ.get("BNCONV_BENCH_DIR", "bench-out"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    src = os.path.join(args.dir, "resnet50_keras2.h5")
    if not os.path.exists(src):
        print(f"generating {src} (tf_keras ResNet50, randomized BN statistics) ...", flush=True)
        # In a child process: a forked child's ru_maxrss includes its parent's pages from before
        # exec, so the measuring process must stay small (no TensorFlow, no numpy here).
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import fold_bench; fold_bench.make_resnet50({src!r})"], check=True)
    size = os.path.getsize(src)
    out = lambda tag: os.path.join(args.dir, f"resnet50.{tag}.h5")
    cases = [
        ("cp", ["cp", src, out("cp")]),
        ("h5py+numpy fold script", [sys.executable, os.path.join(HERE, "h5py_fold.py"), src, out("h5py")]),
        ("bnconv fold --no-verify", [args.bnconv, "fold", src, "-o", out("bnconv"), "--no-verify", "--quiet"]),
        ("bnconv fold (verify 2x batch 2)", [args.bnconv, "fold", src, "-o", out("bnconv-verified"), "--quiet"]),
    ]
    results = {}
    for name, cmd in cases:
        measure(cmd)  # warm the page cache and the interpreter
        runs = [measure(cmd) for _ in range(args.repeat)]
        results[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
    print(f"ResNet-50 Keras 2 .h5: {size / 1e6:.1f} MB, median of {args.repeat} runs")
    print(f"{'command':34} {'wall':>9} {'peak RSS':>10} {'RSS/file':>9}")
    for name, (wall, rss) in results.items():
        print(f"{name:34} {wall:8.3f}s {rss / 1e6:8.1f}MB {rss / size:8.2f}x")
    script = results["h5py+numpy fold script"][0]
    fold = results["bnconv fold --no-verify"]
    print(f"bnconv fold / script wall: {fold[0] / script:.2f}x (target <= 0.25x); "
          f"bnconv fold peak RSS / file size: {fold[1] / size:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
