#!/usr/bin/env python3
"""Copies a small subset of the onnx backend node tests (onnx 1.16 wheel) into Tests/Fixtures/onnx_node
as committed fixtures: per test, model.onnx plus input_K.npy / output_K.npy converted from the
test's TensorProtos by onnx.numpy_helper. Swift's NodeConformanceTests runs each on the engine.

    python tools/conformance/make_node_fixtures.py --results results.json [--out Tests/Fixtures/onnx_node]

`results.json` is written by `onnx_node_tests.py --json`: only tests that pass there are taken,
for each ONNX op the smallest two (by bytes), so every op of the scope is covered in a few hundred KB.
"""
import argparse
import glob
import json
import os
import shutil

import numpy as np
import onnx
from onnx import numpy_helper

from onnx_node_tests import DEFAULT_DATA, tests_in_scope, load_pb

PER_OP = 2
MAX_BYTES = 24 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out", default="Tests/Fixtures/onnx_node")
    args = ap.parse_args()
    results = json.load(open(args.results))
    chosen = {}
    for name, d, model in tests_in_scope(args.data):
        if results.get(name, {}).get("status") != "PASS" or name.endswith("_expanded"):
            continue
        size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "**"), recursive=True) if os.path.isfile(p))
        if size > MAX_BYTES:
            continue
        for op in {n.op_type for n in model.graph.node}:
            chosen.setdefault(op, []).append((size, name, d, model))
    picked = {}
    for op, tests in chosen.items():
        for size, name, d, model in sorted(tests)[:PER_OP]:
            picked[name] = (d, model)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    for name, (d, model) in sorted(picked.items()):
        target = os.path.join(args.out, name)
        os.makedirs(target)
        shutil.copy(os.path.join(d, "model.onnx"), target)
        case = sorted(glob.glob(os.path.join(d, "test_data_set_*")))[0]
        inits = {i.name for i in model.graph.initializer}
        inputs = [i.name for i in model.graph.input if i.name not in inits]
        for k in range(len(inputs)):
            np.save(os.path.join(target, f"input_{k}.npy"), load_pb(os.path.join(case, f"input_{k}.pb")))
        for k in range(len(model.graph.output)):
            np.save(os.path.join(target, f"output_{k}.npy"), load_pb(os.path.join(case, f"output_{k}.pb")))
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write("# onnx backend node tests (subset)\n\n"
                "Copied from the onnx 1.16.2 wheel's `onnx/backend/test/data/node` by "
                "`tools/conformance/make_node_fixtures.py`: for each ONNX op of the engine's scope, the two smallest "
                "tests bnconv passes. Inputs and outputs are the tests' own TensorProtos as .npy "
                "(onnx.numpy_helper). The whole suite runs in `make interop` "
                "(`tools/conformance/onnx_node_tests.py`).\n\n"
                + "\n".join(f"- {n}" for n in sorted(picked)) + "\n")
    print(f"{len(picked)} tests for {len(chosen)} ops into {args.out}")


if __name__ == "__main__":
    main()
