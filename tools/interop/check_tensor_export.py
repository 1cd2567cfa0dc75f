#!/usr/bin/env python3
"""Checks `bnconv convert -o x.onnx` of graphs whose nodes bnconv runs in its op library, in the real
tools: onnx.checker (full_check) and onnxruntime (graph optimizations off) against the framework's own
recorded outputs.

    python tools/interop/check_tensor_export.py --bnconv .build/release/bnconv --fixtures Tests/Fixtures [--only CASE]

(a) Tests/Fixtures/graphdef_ops/<case>/graph.pb (raw TensorFlow ops: shape arithmetic, StridedSlice with
    every mask, Pack, Slice, MirrorPad REFLECT and SYMMETRIC, reductions, All/Any, BiasAdd, FloorDiv,
    Conv2D and DepthwiseConv2dNative on computed filters, ...): every output of the exported model
    against TensorFlow's output_<k>.npy, the input laid out as `convert --json` says.
(b) Tests/Fixtures/onnx_opset/<case>/model.onnx (one graph per signature change, in the opset before
    it): the export, in opset 17 or newer, against onnxruntime's outputs of the old-opset graph.

(c) tf_keras Cropping2D and UpSampling2D (nearest, bilinear) before a Conv2D, saved as .h5, exported plain
    and with --inputs-as-nhwc, against Keras's prediction.

A row passes when the checker accepts the model, no op of the old form is left (Upsample, or a
node in an opset older than the graph's), and every output matches: integers and bools exactly,
floats within 1e-5 x max(1, max|reference|). Prints one row per file and ends with
'N passed, M failed'.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

TOLERANCE = 1e-5


def convert(bnconv, src, dst, flags=()):
    proc = subprocess.run([bnconv, "convert", src, "-o", dst, "--json", *flags], capture_output=True, text=True)
    try:
        summary = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        summary = None
    return proc.returncode, summary, proc.stderr.strip()


def export_and_run(bnconv, src, dst, inputs, label, rows, flags=()):
    """`bnconv convert src -o dst`, then the export run by onnxruntime on `inputs`: (outputs by
    name, op counts, opset), or None after a failed row for `label` is added to `rows`."""
    rc, summary, err = convert(bnconv, src, dst, flags)
    if rc != 0:
        rows.append((label, False, f"bnconv convert exit {rc}: {(err.splitlines() or [''])[-1][:200]}"))
        return None
    try:
        return run_export(dst, summary, inputs)
    except Exception as error:
        rows.append((label, False, f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"))
        return None


def compare(got, reference):
    """None when `got` matches `reference`, else why not."""
    got, reference = np.asarray(got), np.asarray(reference)
    if got.shape != reference.shape:
        return f"shape {got.shape} vs {reference.shape}"
    if reference.dtype.kind in "biu":
        return None if np.array_equal(got.astype(np.int64), reference.astype(np.int64)) else "integers differ"
    scale = max(1.0, float(np.max(np.abs(reference))) if reference.size else 0.0)
    error = float(np.max(np.abs(got.astype(np.float64) - reference))) if reference.size else 0.0
    return None if error <= TOLERANCE * scale else f"error {error:.2e} (scale {scale:.2g})"


def run_export(path, summary, inputs):
    """onnx.checker, then onnxruntime on `inputs` laid out per the summary; (outputs by name, node counts, opset)."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    counts = Counter(n.op_type for n in model.graph.node)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    perms = (summary or {}).get("inputPermutations") or [None] * len(inputs)
    feeds = {i.name: (np.transpose(x, p) if p else x) for i, x, p in zip(session.get_inputs(), inputs, perms)}
    outputs = session.run(None, feeds)
    out_perms = (summary or {}).get("outputPermutations") or [None] * len(outputs)
    outputs = [np.transpose(y, np.argsort(p)) if p else y for y, p in zip(outputs, out_perms)]
    return dict(zip([o.name for o in session.get_outputs()], outputs)), counts, opset


def graphdef_rows(bnconv, fixtures, only, out_dir):
    rows = []
    root = os.path.join(fixtures, "graphdef_ops")
    for case in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        if only and only not in case:
            continue
        folder = os.path.join(root, case)
        facts = json.load(open(os.path.join(folder, "facts.json")))
        dst = os.path.join(out_dir, f"graphdef_ops-{case}.onnx")
        label = f"graphdef_ops/{case} -> onnx"
        ran = export_and_run(bnconv, os.path.join(folder, "graph.pb"), dst, [np.load(os.path.join(folder, "input.npy"))], label, rows)
        if ran is None:
            continue
        outputs, counts, opset = ran
        problems, worst = [], 0.0
        for k, out in enumerate(facts["outputs"]):
            reference = np.load(os.path.join(folder, f"output_{k}.npy"))
            name = out["name"].split(":")[0]
            if name not in outputs:
                problems.append(f"{out['key']}: missing")
                continue
            problem = compare(outputs[name], reference)
            if problem:
                problems.append(f"{out['key']}: {problem}")
            elif reference.dtype.kind == "f" and reference.size:
                worst = max(worst, float(np.max(np.abs(outputs[name] - reference))) / max(1.0, float(np.max(np.abs(reference)))))
        rows.append((label, not problems, f"opset {opset}, {sum(counts.values())} nodes, {len(facts['outputs'])} outputs, "
                     f"worst {worst:.1e}" + (f"; {problems}" if problems else "")))
    return rows


def opset_rows(bnconv, fixtures, only, out_dir):
    rows = []
    root = os.path.join(fixtures, "onnx_opset")
    for case in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        if only and only not in case:
            continue
        folder = os.path.join(root, case)
        facts = json.load(open(os.path.join(folder, "facts.json")))
        dst = os.path.join(out_dir, f"onnx_opset-{case}.onnx")
        label = f"onnx_opset/{case} (opset {facts['opset']}) -> onnx"
        inputs, k = [], 0
        while os.path.exists(os.path.join(folder, f"input_{k}.npy")):
            inputs.append(np.load(os.path.join(folder, f"input_{k}.npy")))
            k += 1
        ran = export_and_run(bnconv, os.path.join(folder, "model.onnx"), dst, inputs, label, rows)
        if ran is None:
            continue
        outputs, counts, opset = ran
        problems = []
        if "Upsample" in counts:
            problems.append("Upsample left")
        for k, got in enumerate(outputs.values()):
            problem = compare(got, np.load(os.path.join(folder, f"output_{k}.npy")))
            if problem:
                problems.append(f"output {k}: {problem}")
        ops = ", ".join(f"{op} {n}" for op, n in sorted(counts.items()))
        rows.append((label, not problems and opset >= 17, f"opset {opset}: {ops}" + (f"; {problems}" if problems else "")))
    return rows


def resampling_rows(bnconv, only, out_dir):
    """tf_keras Cropping2D and UpSampling2D (nearest, bilinear) saved as .h5, exported (NCHW and
    --inputs-as-nhwc) and run by onnxruntime against Keras's prediction."""
    if only and only not in "keras_resampling":
        return []
    import tf_keras as K

    rng = np.random.default_rng(20261206)
    x = rng.standard_normal((2, 5, 7, 3)).astype(np.float32)
    rows = []
    for name, layer in [("crop", K.layers.Cropping2D(((1, 2), (2, 1)))), ("upsample_nearest", K.layers.UpSampling2D((2, 3))),
                        ("upsample_bilinear", K.layers.UpSampling2D((3, 2), interpolation="bilinear"))]:
        inp = K.Input((5, 7, 3))
        model = K.Model(inp, K.layers.Conv2D(4, 3, padding="same", name="conv")(layer(inp)))
        src = os.path.join(out_dir, f"keras_resampling-{name}.h5")
        model.save(src)
        reference = model.predict(x, verbose=0)
        for variant, flags in (("nchw", []), ("nhwc", ["--inputs-as-nhwc"])):
            dst = os.path.join(out_dir, f"keras_resampling-{name}-{variant}.onnx")
            label = f"keras_resampling/{name} -> onnx ({variant})"
            ran = export_and_run(bnconv, src, dst, [x], label, rows, flags)
            if ran is None:
                continue
            outputs, counts, opset = ran
            problem = compare(next(iter(outputs.values())), reference)
            rows.append((label, problem is None, f"opset {opset}, {dict(counts)}" + (f"; {problem}" if problem else "")))
    return rows


def rows(bnconv, fixtures, only=None, out_dir=None):
    """The check rows: (name, ok, detail)."""
    out_dir = out_dir or tempfile.mkdtemp(prefix="bnconv-tensor-export-")
    return (graphdef_rows(bnconv, fixtures, only, out_dir) + opset_rows(bnconv, fixtures, only, out_dir)
            + resampling_rows(bnconv, only, out_dir))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--fixtures", default="Tests/Fixtures")
    ap.add_argument("--only")
    args = ap.parse_args()
    result = rows(args.bnconv, args.fixtures, args.only)
    for name, ok, detail in result:
        print(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}", flush=True)
    failed = sum(1 for r in result if not r[1])
    print(f"{len(result) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
