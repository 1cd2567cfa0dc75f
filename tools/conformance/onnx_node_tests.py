#!/usr/bin/env python3
"""The onnx package's backend node tests (`onnx/backend/test/data/node`, onnx 1.16 wheel) as the
engine's conformance suite: each test in the op scope of docs/engine.md is run with `bnconv run`
on its recorded inputs and compared with its recorded outputs.

    python tools/conformance/onnx_node_tests.py --bnconv .build/release/bnconv [--data DIR] [--only SUBSTR] [--list]

DIR defaults to the node tests of the onnx 1.16.2 wheel, downloaded into ~/.cache/bnconv/onnx116
(tools/conformance/fetch_onnx_node_tests). A test passes when every output has the recorded
shape and dtype and |y - y_ref| <= 1e-5 * max(1, max|y_ref|) elementwise (exact for integer and
bool outputs; NaN where the reference has NaN). A run bnconv refuses with a reason is REFUSED;
wrong numbers are WRONG. Ends with 'N passed, M refused, K wrong of T (P%)'.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

# The op scope of issue #17 (ONNX names).
SCOPE = set("""Add Sub Mul Div Pow Sqrt Neg Abs Exp Log Reciprocal Floor Ceil Min Max Mean Sum Equal Greater Less Where
Not And Or Erf Relu LeakyRelu PRelu Elu Selu Sigmoid HardSigmoid HardSwish Tanh Softplus Softsign Clip Gelu Mish
Softmax LogSoftmax Conv ConvTranspose Gemm MatMul BatchNormalization InstanceNormalization LayerNormalization LRN
MaxPool AveragePool GlobalAveragePool GlobalMaxPool Shape Size Reshape Flatten Transpose Squeeze Unsqueeze Concat
Split Slice Gather Expand Tile Pad Resize Upsample DepthToSpace SpaceToDepth Cast Identity Dropout Constant
ConstantOfShape Range ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL2 ArgMax""".split())

DEFAULT_DATA = os.path.expanduser("~/.cache/bnconv/onnx116/extracted/onnx/backend/test/data/node")


# Element types of the model representation (docs/engine.md): float32/16/64, bfloat16, int8/16/32/64,
# uint8, bool. Tests on other types (strings, unsigned 16-64 bit, 8-bit and 4-bit floats and
# integers, complex) or on sequences and optionals are out of scope, and so are tests whose inputs or
# outputs are bfloat16: `bnconv run` takes and writes .npy files, which have no bfloat16 dtype (the
# engine computes bfloat16 inside a graph).
TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE,
         onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT16, onnx.TensorProto.INT32,
         onnx.TensorProto.INT64, onnx.TensorProto.BOOL}


def typed(value_info):
    t = value_info.type
    return t.HasField("tensor_type") and t.tensor_type.elem_type in TYPES


def tests_in_scope(data):
    out = []
    for d in sorted(glob.glob(os.path.join(data, "test_*"))):
        model_path = os.path.join(d, "model.onnx")
        if not os.path.exists(model_path):
            continue
        m = onnx.load(model_path, load_external_data=False)
        ops = {n.op_type for n in m.graph.node if n.domain in ("", "ai.onnx")}
        foreign = [n for n in m.graph.node if n.domain not in ("", "ai.onnx")]
        if ops and ops <= SCOPE and not foreign and not any(a.g.node or a.graphs for n in m.graph.node for a in n.attribute) \
                and all(typed(v) for v in list(m.graph.input) + list(m.graph.output)):
            out.append((os.path.basename(d), d, m))
    return out


def load_pb(path, template=None):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def compare(got, ref):
    if got.shape != ref.shape:
        return f"shape {list(got.shape)}, expected {list(ref.shape)}"
    if ref.dtype == np.bool_ or np.issubdtype(ref.dtype, np.integer):
        if got.dtype != ref.dtype:
            return f"dtype {got.dtype}, expected {ref.dtype}"
        bad = np.flatnonzero(got.reshape(-1) != ref.reshape(-1))
        return None if bad.size == 0 else f"{bad.size} elements differ, first at {bad[0]}: {got.reshape(-1)[bad[0]]} vs {ref.reshape(-1)[bad[0]]}"
    if got.dtype != ref.dtype:
        return f"dtype {got.dtype}, expected {ref.dtype}"
    g = got.astype(np.float64).reshape(-1)
    r = ref.astype(np.float64).reshape(-1)
    nan_r = np.isnan(r)
    if np.any(np.isnan(g) != nan_r):
        return "NaN in other places than the reference"
    fin = ~nan_r
    same_inf = (g[fin] == r[fin])
    scale = max(1.0, float(np.max(np.abs(r[fin][np.isfinite(r[fin])]), initial=0.0)))
    tol = {np.dtype(np.float16): 1e-3, np.dtype(np.float64): 1e-7}.get(ref.dtype, 1e-5)
    err = np.abs(g[fin] - r[fin])
    err[same_inf] = 0
    worst = float(np.max(err, initial=0.0))
    return None if worst <= tol * scale else f"max error {worst:.3g} > {tol:g} x {scale:.3g}"


def run_one(bnconv, name, d, model, tmp):
    case = sorted(glob.glob(os.path.join(d, "test_data_set_*")))[0]
    inits = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in inits]
    args = [bnconv, "run", os.path.join(d, "model.onnx"), "--quiet"]
    for k in range(len(inputs)):
        arr = load_pb(os.path.join(case, f"input_{k}.pb"))
        p = os.path.join(tmp, f"{name}_in{k}.npy")
        np.save(p, arr)
        args += ["--input", p]
    outs = [o.name for o in model.graph.output]
    out_base = os.path.join(tmp, f"{name}_out.npy")
    args += ["-o", out_base]
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        return "REFUSED", (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["exit %d" % proc.returncode]
    problems = []
    for k, oname in enumerate(outs):
        ref = load_pb(os.path.join(case, f"output_{k}.pb"))
        path = out_base if len(outs) == 1 else os.path.join(tmp, f"{name}_out_{k}.npy")
        if not os.path.exists(path):
            problems.append(f"output {k} not written ({path})")
            continue
        got = np.load(path)
        problem = compare(got, ref)
        if problem:
            problems.append(f"output {k} ({oname}): {problem}")
    return ("WRONG", problems) if problems else ("PASS", [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--only", default=None)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--json", default=None, help="write per-test results here")
    ap.add_argument("--quiet", action="store_true", help="print only failures and the summary")
    args = ap.parse_args()
    tests = tests_in_scope(args.data)
    if args.only:
        tests = [t for t in tests if args.only in t[0]]
    if args.list:
        for t in tests:
            print(t[0])
        print(len(tests), "tests")
        return 0
    counts = {"PASS": 0, "REFUSED": 0, "WRONG": 0}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, d, model in tests:
            status, detail = run_one(args.bnconv, name, d, model, tmp)
            counts[status] += 1
            results[name] = {"status": status, "detail": detail}
            if status != "PASS" or not args.quiet:
                print(f"{status:8} {name}" + (": " + "; ".join(detail) if detail else ""), flush=True)
    total = len(tests)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    print(f"{counts['PASS']} passed, {counts['REFUSED']} refused, {counts['WRONG']} wrong of {total} "
          f"({100.0 * counts['PASS'] / max(total, 1):.1f}%)")
    return 0 if counts["WRONG"] == 0 and counts["PASS"] >= 0.98 * total else 1


if __name__ == "__main__":
    sys.exit(main())
