#!/usr/bin/env python3
"""`bnconv run --time` of two builds side by side on the real models (issue #17: shape subgraphs evaluated
once per input shape): a build of the branch point (`--base`) and the build under test (`--bnconv`).
Not a test.

    python tools/bench/constant_planning_bench.py --base /path/to/main/bnconv --bnconv .build/release/bnconv \
        [--rounds 7] [--runs 20] [--efficientnet graph.pb]

Models: the ONNX and TensorFlow files of tools/interop/real_models.py (PaddleOCR detector, recognizer and
classifier, basic-pitch as ONNX, as a frozen GraphDef and as its SavedModel; fetched by
tools/interop/fetch_real_models) and, with --efficientnet, an EfficientNet-B0 GraphDef frozen as
tools/interop/efficientnet.py freezes it (input 1x224x224x3). Each round runs both builds, in
alternating order, `run --time --runs N --json` in its own process after a warm-up run; the table gives
the median of the rounds' medians. Before timing, both builds write each model's outputs and the bench
stops unless they are the same bytes. The build under test also reports the nodes it evaluated once
and the kernels a run runs; a run of the base build runs those nodes too (each one kernel), so its
kernel count is the sum.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
from real_models import CASES, MODELS  # noqa: E402


def run_json(bnconv, path, xp, runs):
    proc = subprocess.run([bnconv, "run", path, "--input", xp, "--time", "--runs", str(runs), "--json"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{bnconv} {path}: {proc.stderr}")
    return json.loads(proc.stdout)


def outputs(bnconv, path, xp, out):
    proc = subprocess.run([bnconv, "run", path, "--input", xp, "-o", out, "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{bnconv} {path}: {proc.stderr}")
    return [o["file"] for o in json.loads(proc.stdout)["outputs"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="bnconv built from the branch point")
    ap.add_argument("--bnconv", required=True, help="bnconv under test")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--efficientnet", help="an EfficientNet-B0 frozen GraphDef (tools/interop/efficientnet.py's graph.pb)")
    args = ap.parse_args()
    cases = [(name, os.path.join(MODELS, rel), shape) for name, rel, shape in CASES if not rel.endswith(".hdf5")]
    if args.efficientnet:
        cases.append(("efficientnet-b0-frozen", args.efficientnet, (1, 224, 224, 3)))
    print("| model | nodes evaluated once | kernels per run (main -> branch) | main | branch | change |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, shape in cases:
            x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
            xp = os.path.join(tmp, name + ".npy")
            np.save(xp, x)
            ours = outputs(args.bnconv, path, xp, os.path.join(tmp, name + ".branch.npy"))
            theirs = outputs(args.base, path, xp, os.path.join(tmp, name + ".main.npy"))
            for a, b in zip(ours, theirs):
                if open(a, "rb").read() != open(b, "rb").read():
                    sys.exit(f"{name}: the outputs differ ({a} vs {b})")
            base_times, branch_times, planning = [], [], None
            for round_ in range(args.rounds):
                order = [("base", args.base), ("branch", args.bnconv)]
                for which, binary in order if round_ % 2 == 0 else reversed(order):
                    summary = run_json(binary, path, xp, args.runs)
                    median = summary["timing"]["medianMilliseconds"]
                    if which == "base":
                        base_times.append(median)
                    else:
                        branch_times.append(median)
                        planning = summary["planning"]
            b, o = statistics.median(base_times), statistics.median(branch_times)
            once, kernels = planning["nodesEvaluatedOnce"], planning["kernelsPerRun"]
            kinds = ", ".join(f"{op} {n}" for op, n in sorted(planning["byOp"].items(), key=lambda kv: (-kv[1], kv[0])))
            print(f"| {name} | {once}{' (' + kinds + ')' if kinds else ''} | {kernels + once} -> {kernels} | "
                  f"{b:.2f} ms | {o:.2f} ms | {100 * (o - b) / b:+.1f}% |", flush=True)
            print(f"<!-- {name} rounds: main {' '.join(f'{t:.2f}' for t in base_times)}; "
                  f"branch {' '.join(f'{t:.2f}' for t in branch_times)} -->", flush=True)


if __name__ == "__main__":
    main()
