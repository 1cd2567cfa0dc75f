#!/usr/bin/env python3
"""MobileNetV3Small and MobileNetV3Large of tf_keras (TFOpLambda layers) through bnconv and back.

    python tools/interop/mobilenetv3.py --bnconv .build/release/bnconv [--out DIR] [--models small,large]

tf_keras's MobileNetV3 computes its hard-sigmoid with TensorFlow ops called on Keras tensors
(`x + 3.0`, `* (1.0 / 6.0)`), which tf_keras saves as TFOpLambda layers (`__operators__.add`,
`math.multiply`). Each model is built with weights=None and classifier_activation=None (the outputs
are logits, not a softmax that hides errors), every BatchNormalization given random gamma, beta,
moving mean and variance, saved as a Keras 2 `.h5` with tf_keras's prediction on a seeded batch of 2
(224x224, 0..255). Rows:

- `run`: `bnconv run` against tf_keras;
- `fold`: `bnconv fold` (verified by bnconv), the folded `.h5` loaded by tf_keras against its own
  output of the original, every BatchNorm folded;
- `convert -o .onnx` and `convert --fold -o .onnx`: onnx.checker (full check), then onnxruntime on
  the input laid out as `convert --json` says (inputPermutations) against tf_keras.

A row passes at max|y - y_ref| / (max(y_ref) - min(y_ref)) <= 1e-5. Ends with 'N passed, M failed'.
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOL = 1e-5
MODELS = {"small": "MobileNetV3Small", "large": "MobileNetV3Large"}

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efficientnet import randomize_bn  # noqa: E402  (random gamma, beta, mean and variance per BN)


def range_rel(y, ref):
    """max|y - ref| / (max(ref) - min(ref))."""
    y = np.asarray(y, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(y - ref))) / max(float(np.max(ref) - np.min(ref)), 1e-30)


def last_line(text):
    return (text.strip().splitlines() or [""])[-1][:300]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", default=os.path.join(ROOT, ".build", "release", "bnconv"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "mobilenetv3"))
    ap.add_argument("--models", default="small,large")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)
    results = []

    def row(name, ok, detail):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

    import tf_keras as K
    for key in args.models.split(","):
        rng = np.random.default_rng(list(MODELS).index(key))
        model = getattr(K.applications, MODELS[key])(weights=None, classifier_activation=None)
        randomize_bn(model, rng, K.layers.BatchNormalization)
        lambdas = sorted({l.get_config()["function"] for l in model.layers if type(l).__name__ == "TFOpLambda"})
        x = rng.uniform(0.0, 255.0, (2, 224, 224, 3)).astype(np.float32)
        ref = model.predict(x, verbose=0)
        h5 = out(f"{key}.h5")
        model.save(h5)
        np.save(out(f"{key}.x.npy"), x)
        print(f"== {MODELS[key]}: {len(model.layers)} layers, TFOpLambda functions {lambdas}", flush=True)

        proc = subprocess.run([args.bnconv, "run", h5, "--input", out(f"{key}.x.npy"), "-o", out(f"{key}.run.npy")],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            error = range_rel(np.load(out(f"{key}.run.npy")), ref)
            row(f"{key} run", error <= TOL, f"bnconv run against tf_keras: error {error:.2e}")
        else:
            row(f"{key} run", False, last_line(proc.stderr))

        folded = out(f"{key}.folded.h5")
        proc = subprocess.run([args.bnconv, "fold", h5, "-o", folded, "--input", out(f"{key}.x.npy"), "--json"],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            summary = json.loads(proc.stdout)
            reloaded = K.models.load_model(folded, compile=False)
            error = range_rel(reloaded.predict(x, verbose=0), ref)
            left = sum(1 for l in reloaded.layers if isinstance(l, K.layers.BatchNormalization))
            row(f"{key} fold", error <= TOL and left == 0,
                f"{summary['folded']} of {len(summary['batchNorms'])} BNs folded, {left} left in the file; "
                f"tf_keras on the folded .h5: error {error:.2e}")
        else:
            row(f"{key} fold", False, last_line(proc.stderr))

        for label, extra in (("convert -o .onnx", []), ("convert --fold -o .onnx", ["--fold"])):
            onnx_path = out(f"{key}{'.folded' if extra else ''}.onnx")
            proc = subprocess.run([args.bnconv, "convert", h5, "-o", onnx_path, "--input", out(f"{key}.x.npy"), "--json", *extra],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                row(f"{key} {label}", False, last_line(proc.stderr))
                continue
            import onnx
            import onnxruntime as ort
            summary = json.loads(proc.stdout)
            onnx.checker.check_model(onnx.load(onnx_path), full_check=True)
            perm = (summary.get("inputPermutations") or [None])[0]
            session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
            feed = np.ascontiguousarray(np.transpose(x, perm) if perm else x)
            y = session.run(None, {session.get_inputs()[0].name: feed})[0]
            error = range_rel(y, ref)
            row(f"{key} {label}", error <= TOL,
                f"opset {summary.get('opset')}, onnx.checker ok, onnxruntime against tf_keras: error {error:.2e}")
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
