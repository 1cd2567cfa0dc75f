#!/usr/bin/env python3
"""Checks an ONNX model bnconv wrote: onnx.checker, then onnxruntime against a recorded output.

usage: check_onnx.py MODEL.onnx INPUT.npy EXPECTED.npy [--tolerance 1e-5] [--input-perm 0,2,3,1] [--output-perm 0,2,3,1]

Runs the model's single input with onnxruntime (graph optimizations disabled, so onnxruntime does
not fold anything itself) and compares its first output with EXPECTED.npy. Passes when
max|out - expected| <= tolerance * max|expected|. Prints the op counts, the BatchNormalization
count and the error; exits 0 on pass, 1 on a mismatch or a checker failure. --input-perm and
--output-perm are the permutations `bnconv convert --json` reports (inputPermutations /
outputPermutations: source -> converted) for a model whose interface layout changed: the input is
transposed by the first before it is fed, the output transposed back by the inverse of the second.
"""
import argparse
import sys
from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("input")
    parser.add_argument("expected")
    parser.add_argument("--tolerance", type=float, default=1e-5, help="relative to max|expected|")
    parser.add_argument("--input-perm", help="source -> converted permutation of the input, e.g. 0,2,3,1")
    parser.add_argument("--output-perm", help="source -> converted permutation of the output")
    args = parser.parse_args()

    model = onnx.load(args.model)
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as error:
        print(f"{args.model}: onnx.checker FAILED: {error}")
        return 1
    counts = Counter(n.op_type for n in model.graph.node)
    print(f"{args.model}: onnx.checker ok; ops {dict(counts)}; BatchNormalization {counts.get('BatchNormalization', 0)}")

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    x = np.load(args.input)
    if args.input_perm:
        x = np.ascontiguousarray(x.transpose([int(a) for a in args.input_perm.split(",")]))
    expected = np.load(args.expected)
    out = session.run(None, {session.get_inputs()[0].name: x})[0]
    if args.output_perm:
        out = out.transpose(np.argsort([int(a) for a in args.output_perm.split(",")]))
    if out.shape != expected.shape:
        print(f"shape mismatch: onnxruntime {out.shape}, expected {expected.shape}")
        return 1
    error = float(np.max(np.abs(out.astype(np.float64) - expected)))
    scale = float(np.max(np.abs(expected)))
    bound = args.tolerance * scale
    verdict = "PASS" if error <= bound else "FAIL"
    print(f"{verdict}: max|onnxruntime - expected| = {error:.3e}, bound {args.tolerance:g} x {scale:.4g} = {bound:.3e}")
    return 0 if error <= bound else 1


if __name__ == "__main__":
    sys.exit(main())
