#!/usr/bin/env python3
"""Times, on a ResNet-50 ONNX model with explicit BatchNormalization nodes (exported from the
fold benchmark's Keras ResNet-50 by `bnconv convert` without --fold), in one run:
`bnconv fold` vs onnxsim and onnxoptimizer's fuse_bn_into_conv (each result checked in
onnxruntime against the original), and `bnconv run` vs onnxruntime (2 threads, default graph
optimizations) at batch 1 and 8. A benchmark, not a test; models go to $BNCONV_BENCH_DIR.

    python tools/bench/onnx_bench.py --bnconv .build/release/bnconv [--repeat 5] [--runs 20] [--rounds 5] [--openblas-coretype auto]

`bnconv run` multiplies with OpenBLAS, which honours OPENBLAS_CORETYPE; an environment that pins it
(e.g. `Haswell`, AVX2) keeps bnconv off AVX-512 while onnxruntime uses it. `--openblas-coretype auto`
runs bnconv without the variable (bnconv then picks the kernels for the CPU), NAME sets it; the
default inherits the environment. The kernel set used is printed.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import openblas_env, wall  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

TOOL = """
import sys, time, onnx
kind, src, dst = sys.argv[1:4]
start = time.perf_counter()
m = onnx.load(src)
if kind == "onnxsim":
    import onnxsim
    m, ok = onnxsim.simplify(m)
else:
    import onnxoptimizer
    m = onnxoptimizer.optimize(m, ["fuse_bn_into_conv"])
onnx.save(m, dst)
print(time.perf_counter() - start)
"""

CHECK = """
import sys, numpy as np, onnx, onnxruntime as ort
x = np.load(sys.argv[1])
def run(path):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0]
ref = run(sys.argv[2])
for p in sys.argv[3:]:
    n = sum(1 for n in onnx.load(p).graph.node if n.op_type == "BatchNormalization")
    print(f"{p.split('/')[-1]}: BatchNormalization left {n}, max|y - ref| / max|ref| = {np.abs(run(p) - ref).max() / np.abs(ref).max():.2e}")
"""

ORT = """
import sys, time, numpy as np, onnxruntime as ort
path, xpath, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
o = ort.SessionOptions(); o.intra_op_num_threads = 2
s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
x = np.load(xpath); name = s.get_inputs()[0].name
s.run(None, {name: x})
t = []
for _ in range(runs):
    a = time.perf_counter(); s.run(None, {name: x}); t.append((time.perf_counter() - a) * 1000)
print(sorted(t)[len(t) // 2])
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--dir", default=os.environ.get("BNCONV_BENCH_DIR", "bench-out"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5, help="alternating onnxruntime/bnconv rounds per batch size")
    ap.add_argument("--openblas-coretype", help="'auto' (unset OPENBLAS_CORETYPE for bnconv run) or a kernel set name")
    args = ap.parse_args()
    run_env = openblas_env(args.openblas_coretype)
    os.makedirs(args.dir, exist_ok=True)
    h5 = os.path.join(args.dir, "resnet50_keras2.h5")
    if not os.path.exists(h5):
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import fold_bench; "
                        f"fold_bench.make_resnet50({h5!r})"], check=True)
    src = os.path.join(args.dir, "resnet50.onnx")
    if not os.path.exists(src):
        wall([args.bnconv, "convert", h5, "-o", src, "-q"])
    import numpy as np
    inputs = {}
    for b in (1, 8):
        inputs[b] = os.path.join(args.dir, f"resnet50_nchw_b{b}.npy")
        np.save(inputs[b], np.random.default_rng(b).normal(0, 1, (b, 3, 224, 224)).astype(np.float32))
    med = statistics.median
    outs = {k: os.path.join(args.dir, f"resnet50.{k}.onnx") for k in ("bnconv", "onnxsim", "onnxoptimizer")}
    t_fold = med(wall([args.bnconv, "fold", src, "-o", outs["bnconv"], "--no-verify", "-q"])[0] for _ in range(args.repeat))
    t_fold_v = med(wall([args.bnconv, "fold", src, "-o", outs["bnconv"], "-q"])[0] for _ in range(args.repeat))
    tools = {}
    for kind in ("onnxsim", "onnxoptimizer"):
        runs = [wall([sys.executable, "-c", TOOL, kind, src, outs[kind]]) for _ in range(args.repeat)]
        tools[kind] = (med(r[0] for r in runs), med(float(r[1].split()[-1]) for r in runs))
    print(f"ResNet-50 ONNX with BatchNormalization: {os.path.getsize(src) / 1e6:.1f} MB, median of {args.repeat}")
    print(f"  bnconv fold --no-verify: {t_fold:.3f} s; verified: {t_fold_v:.3f} s")
    for kind, (proc, call) in tools.items():
        print(f"  {kind}: process {proc:.3f} s, library call {call:.3f} s -> bnconv/process {t_fold / proc:.2f}x, "
              f"bnconv/call {t_fold / call:.2f}x (target <= 0.5x)")
    print("  " + wall([sys.executable, "-c", CHECK, inputs[1], src, *outs.values()])[1].strip().replace("\n", "\n  "))
    for b in (1, 8):
        # Rounds alternate the two runtimes, so that a slow spell of the machine falls on both;
        # each round is the median of --runs timed runs in one process, and the figure is the
        # median over rounds.
        ort_rounds, bn_rounds, core = [], [], None
        for _ in range(args.rounds):
            ort_rounds.append(float(wall([sys.executable, "-c", ORT, src, inputs[b], str(args.runs)])[1].split()[-1]))
            out = wall([args.bnconv, "run", src, "--input", inputs[b], "-o", os.path.join(args.dir, "y.npy"),
                        "--time", "--runs", str(args.runs)], env=run_env)[1]
            bn_rounds.append(float(re.search(r"median ([0-9.]+) ms", out).group(1)))
            core = re.search(r"OpenBLAS (\w+)", out)
        ort_ms, bn_ms = med(ort_rounds), med(bn_rounds)
        print(f"  batch {b}: onnxruntime (2 intra-op threads) {ort_ms:.1f} ms, bnconv run (2 cores, OpenBLAS "
              f"{core.group(1) if core else '?'}) {bn_ms:.1f} ms -> {bn_ms / ort_ms:.2f}x (target <= 1.5x); "
              f"rounds: onnxruntime {', '.join(f'{x:.1f}' for x in ort_rounds)}; bnconv {', '.join(f'{x:.1f}' for x in bn_rounds)}")


if __name__ == "__main__":
    main()
