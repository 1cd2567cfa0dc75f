#!/usr/bin/env python3
"""`bnconv run --time` of two builds side by side on the real models (issue #17: shape subgraphs evaluated
once per input shape): a build of the branch point (`--base`) and the build under test (`--bnconv`).
Not a test.

    python tools/bench/constant_planning_bench.py --base /path/to/main/bnconv --bnconv .build/release/bnconv \
        [--rounds 7] [--runs 20] [--threads N] [--cpu] [--efficientnet graph.pb]

Models: the ONNX and TensorFlow files of tools/interop/real_models.py (PaddleOCR detector, recognizer and
classifier, basic-pitch as ONNX, as a frozen GraphDef and as its SavedModel; fetched by
tools/interop/fetch_real_models) and, with --efficientnet, an EfficientNet-B0 GraphDef frozen as
tools/interop/efficientnet.py freezes it (input 1x224x224x3). Each round runs both builds, in
alternating order, `run --time --runs N --json` in its own process after a warm-up run; the table gives
the median of the rounds' medians, and the least run time of each build over all rounds (on a busy
machine the least moves less than the medians). Before timing, both builds write each model's outputs and the bench
stops unless they are the same bytes. The build under test also reports the nodes it evaluated once
and the kernels a run runs; a run of the base build runs those nodes too (each one kernel), so its
kernel count is the sum. With --cpu the table gives instead the CPU time (user + system) per run on one
thread (`--threads 1`), from the difference between a process timing --runs runs and one timing one run:
on a machine shared with other work, CPU time moves far less than wall time.
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


def run_json(bnconv, path, xp, runs, threads):
    extra = ["--threads", str(threads)] if threads else []
    proc = subprocess.run([bnconv, "run", path, "--input", xp, "--time", "--runs", str(runs), "--json"] + extra,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{bnconv} {path}: {proc.stderr}")
    return json.loads(proc.stdout)


def cpu_per_run(bnconv, path, xp, runs):
    """CPU seconds (user + system) per run of `run --time --threads 1`: the difference between a process
    timing `runs` runs and one timing 1, over runs - 1, so that reading, planning and the warm-up cancel."""
    def cpu(n):
        proc = subprocess.Popen([bnconv, "run", path, "--input", xp, "--time", "--runs", str(n), "--threads", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        err = proc.stderr.read().decode()
        proc.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{bnconv} {path}: {err}")
        return usage.ru_utime + usage.ru_stime
    return (cpu(runs) - cpu(1)) / (runs - 1)


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
    ap.add_argument("--threads", type=int, help="cores each run uses (default: all)")
    ap.add_argument("--cpu", action="store_true",
                    help="measure CPU time per run on one thread instead (user + system, rounds alternated)")
    ap.add_argument("--efficientnet", help="an EfficientNet-B0 frozen GraphDef (tools/interop/efficientnet.py's graph.pb)")
    args = ap.parse_args()
    cases = [(name, os.path.join(MODELS, rel), shape) for name, rel, shape in CASES if not rel.endswith(".hdf5")]
    if args.efficientnet:
        cases.append(("efficientnet-b0-frozen", args.efficientnet, (1, 224, 224, 3)))
    if args.cpu:
        print("| model | main, CPU per run (1 thread) | branch | change |")
        print("|---|---|---|---|")
    else:
        print("| model | nodes evaluated once | reshapes as views | kernels per run (main -> branch) | main | branch | change | main min | branch min |")
        print("|---|---|---|---|---|---|---|---|---|")
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
            if args.cpu:
                base_cpu, branch_cpu = [], []
                for round_ in range(args.rounds):
                    pair = [(base_cpu, args.base), (branch_cpu, args.bnconv)]
                    for times, binary in pair if round_ % 2 == 0 else reversed(pair):
                        times.append(1000 * cpu_per_run(binary, path, xp, args.runs))
                b, o = statistics.median(base_cpu), statistics.median(branch_cpu)
                print(f"| {name} | {b:.2f} ms | {o:.2f} ms | {100 * (o - b) / b:+.1f}% |", flush=True)
                print(f"<!-- {name} CPU rounds: main {' '.join(f'{t:.2f}' for t in base_cpu)}; "
                      f"branch {' '.join(f'{t:.2f}' for t in branch_cpu)} -->", flush=True)
                continue
            base_times, branch_times, base_min, branch_min, planning = [], [], [], [], None
            for round_ in range(args.rounds):
                order = [("base", args.base), ("branch", args.bnconv)]
                for which, binary in order if round_ % 2 == 0 else reversed(order):
                    summary = run_json(binary, path, xp, args.runs, args.threads)
                    median, least = summary["timing"]["medianMilliseconds"], summary["timing"]["minMilliseconds"]
                    if which == "base":
                        base_times.append(median)
                        base_min.append(least)
                    else:
                        branch_times.append(median)
                        branch_min.append(least)
                        planning = summary["planning"]
            b, o = statistics.median(base_times), statistics.median(branch_times)
            once, kernels = planning["nodesEvaluatedOnce"], planning["kernelsPerRun"]
            kinds = ", ".join(f"{op} {n}" for op, n in sorted(planning["byOp"].items(), key=lambda kv: (-kv[1], kv[0])))
            print(f"| {name} | {once}{' (' + kinds + ')' if kinds else ''} | {planning['reshapeViews']} | {kernels + once} -> {kernels} | "
                  f"{b:.2f} ms | {o:.2f} ms | {100 * (o - b) / b:+.1f}% | {min(base_min):.2f} ms | {min(branch_min):.2f} ms |", flush=True)
            print(f"<!-- {name} rounds: main {' '.join(f'{t:.2f}' for t in base_times)}; "
                  f"branch {' '.join(f'{t:.2f}' for t in branch_times)} -->", flush=True)


if __name__ == "__main__":
    main()
