#!/usr/bin/env python3
"""`bnconv run` against onnxruntime on the ONNX real models of tools/interop/real_models.py (PaddleOCR
detector, recognizer, classifier, basic-pitch; fetched by tools/interop/fetch_real_models), side by
side in one run, rounds alternated. Not a test.

    python tools/bench/real_models_bench.py --bnconv .build/release/bnconv [--rounds 5] [--runs 10]

Each round: onnxruntime (2 intra-op threads, graph optimizations on) times --runs runs in-process
after a warm-up; `bnconv run --time --runs N` does the same in its process. The table gives the median
of the rounds' medians and the ratio bnconv / onnxruntime.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
from real_models import CASES, MODELS  # noqa: E402


def ort_median(path, x, runs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x}
    sess.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bnconv_median(bnconv, path, xp, runs):
    proc = subprocess.run([bnconv, "run", path, "--input", xp, "--time", "--runs", str(runs), "--json"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    import json
    return json.loads(proc.stdout)["timing"]["medianMilliseconds"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    print("| model | input | onnxruntime | bnconv | ratio |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, rel, shape in CASES:
            if not rel.endswith(".onnx"):
                continue  # the frozen GraphDef is timed against TensorFlow by graphdef_bench.py's kind of run
            path = os.path.join(MODELS, rel)
            x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
            xp = os.path.join(tmp, name + ".npy")
            np.save(xp, x)
            peer, ours = [], []
            for _ in range(args.rounds):
                peer.append(ort_median(path, x, args.runs))
                ours.append(bnconv_median(args.bnconv, path, xp, args.runs))
            p, b = statistics.median(peer), statistics.median(ours)
            print(f"| {name} | {list(shape)} | {p:.1f} ms | {b:.1f} ms | {b / p:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
