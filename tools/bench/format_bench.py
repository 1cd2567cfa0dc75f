#!/usr/bin/env python3
"""Times `bnconv fold` on ResNet-50 in each format it reads (Keras 2 `.h5`, Keras 3 `.keras`,
ONNX, frozen TensorFlow GraphDef) against `cp` of the same file, in one run with the commands
alternated round by round; reports the median wall time and the largest peak RSS of each, and the
ratios against the targets of issue #19 (`.keras` `fold --no-verify` within 1.5x the `.h5` one;
ONNX and GraphDef within 2x `cp`). A benchmark, not a test.

The models are generated on demand into the bench directory ($BNCONV_BENCH_DIR), never into git:
the `.h5` by fold_bench.make_resnet50 (tf_keras, randomized BN statistics), the `.keras` by Keras 3
(`keras.applications.ResNet50(weights=None)`, randomized BN statistics, `model.save`), the frozen
GraphDef by graphdef_bench.make_graph, the ONNX by `bnconv convert resnet50_keras2.h5 -o x.onnx`
(no --fold, so its BatchNormalization nodes stay).

    python tools/bench/format_bench.py --bnconv .build/release/bnconv [--baseline OLD_BNCONV] [--repeat 5] [--formats h5,keras,onnx,pb] [--no-verified]

With --baseline, the same `fold --no-verify` and `fold` commands of another build run in the same
rounds (the before/after figures of one session).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import measure  # noqa: E402  (shared with the other benches)

KERAS3 = """
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np, keras
rng = np.random.default_rng(50)
model = keras.applications.ResNet50(weights=None)
for layer in model.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
        c = layer.gamma.shape[0]
        layer.set_weights([rng.uniform(0.5, 1.5, c), rng.uniform(-0.5, 0.5, c),
                           rng.uniform(-0.5, 0.5, c), rng.uniform(0.5, 2.0, c)])
model.save(sys.argv[1])
"""

NAMES = {"h5": "resnet50_keras2.h5", "keras": "resnet50_keras3.keras", "onnx": "resnet50.onnx", "pb": "resnet50_frozen.pb"}
LABELS = {"h5": "Keras 2 .h5", "keras": "Keras 3 .keras", "onnx": "ONNX", "pb": "GraphDef .pb"}


def ensure_models(directory, formats, bnconv):
    """Generates the missing models of `formats` (each in a child process: a forked child's
    ru_maxrss counts its parent's pages, so the measuring process stays small)."""
    path = {f: os.path.join(directory, NAMES[f]) for f in NAMES}
    py = sys.executable
    needs_h5 = "h5" in formats or ("onnx" in formats and not os.path.exists(path["onnx"]))
    if needs_h5 and not os.path.exists(path["h5"]):
        print(f"generating {path['h5']} ...", flush=True)
        subprocess.run([py, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import fold_bench; fold_bench.make_resnet50({path['h5']!r})"], check=True)
    if "keras" in formats and not os.path.exists(path["keras"]):
        print(f"generating {path['keras']} ...", flush=True)
        subprocess.run([py, "-c", KERAS3, path["keras"]], check=True)
    if "pb" in formats and not os.path.exists(path["pb"]):
        print(f"generating {path['pb']} ...", flush=True)
        x = os.path.join(directory, "resnet50_input_b1.npy")
        subprocess.run([py, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import graphdef_bench; "
                        f"graphdef_bench.make_graph({path['pb']!r}, {x!r})"], check=True)
    if "onnx" in formats and not os.path.exists(path["onnx"]):
        print(f"generating {path['onnx']} ...", flush=True)
        subprocess.run([bnconv, "convert", path["h5"], "-o", path["onnx"], "--quiet"], check=True)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--baseline", help="another bnconv build whose fold --no-verify runs in the same rounds")
    ap.add_argument("--dir", default=os.environ.get("BNCONV_BENCH_DIR", "bench-out"))
    ap.add_argument("--repeat", type=int, default=5, help="measured rounds (after one warm-up round)")
    ap.add_argument("--formats", default="h5,keras,onnx,pb")
    ap.add_argument("--no-verified", action="store_true", help="leave out the verified fold (the slowest command)")
    args = ap.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    unknown = set(formats) - set(NAMES)
    if unknown:
        sys.exit(f"unknown formats {sorted(unknown)}; known: {', '.join(NAMES)}")
    os.makedirs(args.dir, exist_ok=True)
    path = ensure_models(args.dir, formats, args.bnconv)

    def out(fmt, tag):
        base, ext = os.path.splitext(NAMES[fmt])
        return os.path.join(args.dir, f"{base}.{tag}{ext}")

    cases = []   # (format, label, command)
    for fmt in formats:
        src = path[fmt]
        cases.append((fmt, "cp", ["cp", src, out(fmt, "cp")]))
        if args.baseline:
            cases.append((fmt, "baseline fold --no-verify",
                          [args.baseline, "fold", src, "-o", out(fmt, "base"), "--no-verify", "--quiet"]))
        cases.append((fmt, "fold --no-verify", [args.bnconv, "fold", src, "-o", out(fmt, "nv"), "--no-verify", "--quiet"]))
        if not args.no_verified:
            if args.baseline:
                cases.append((fmt, "baseline fold (verified)", [args.baseline, "fold", src, "-o", out(fmt, "base-v"), "--quiet"]))
            cases.append((fmt, "fold (verified)", [args.bnconv, "fold", src, "-o", out(fmt, "v"), "--quiet"]))
    runs = {(fmt, label): [] for fmt, label, _ in cases}
    for round_index in range(args.repeat + 1):   # round 0 warms the page cache and is not counted
        for fmt, label, cmd in cases:
            result = measure(cmd)
            if round_index > 0:
                runs[(fmt, label)].append(result)
    med = {key: (statistics.median(r[0] for r in rs), max(r[1] for r in rs)) for key, rs in runs.items()}

    print(f"ResNet-50, median wall and largest peak RSS of {args.repeat} alternated rounds")
    print(f"{'format':15} {'command':26} {'wall':>9} {'peak RSS':>10} {'RSS/file':>9}")
    for fmt in formats:
        size = os.path.getsize(path[fmt])
        print(f"{LABELS[fmt]:15} ({size / 1e6:.1f} MB)")
        for (f, label), (wall, rss) in med.items():
            if f == fmt:
                print(f"{'':15} {label:26} {wall:8.3f}s {rss / 1e6:8.1f}MB {rss / size:8.2f}x")
    print("ratios:")
    for fmt in formats:
        nv = med[(fmt, "fold --no-verify")][0]
        print(f"  {LABELS[fmt]:15} fold --no-verify / cp: {nv / med[(fmt, 'cp')][0]:.2f}x"
              + (" (target <= 2x)" if fmt in ("onnx", "pb") else ""))
        if args.baseline:
            print(f"  {'':15} fold --no-verify / baseline's: {nv / med[(fmt, 'baseline fold --no-verify')][0]:.2f}x")
    if "keras" in formats and "h5" in formats:
        ratio = med[("keras", "fold --no-verify")][0] / med[("h5", "fold --no-verify")][0]
        print(f"  .keras fold --no-verify / .h5 fold --no-verify: {ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
