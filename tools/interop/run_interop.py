#!/usr/bin/env python3
"""`make interop`: fold every committed fixture with bnconv, then load each output in the REAL
framework of its flavour and compare with the framework's own recorded output of the original.

    python tools/interop/run_interop.py --bnconv .build/release/bnconv --fixtures Tests/Fixtures [--only CASE] [--no-verify]

With --no-verify the Keras files are folded without verification (weights deferred, `.h5` and
`.keras` outputs streamed). Keras 2 files load in tf_keras, Keras 3 files in keras 3 (docs/formats.md, Which Keras loads which file: each Keras loads only its own
flavour); GraphDefs in TensorFlow (tools/interop/check_graphdef.py); ONNX in onnx.checker +
onnxruntime (tools/interop/check_onnx.py). A row passes when the file loads, no BatchNormalization
remains that a correct folder removes, and max|y - y_ref| <= tol x max|y_ref| (1e-5; the half
precision cases use their dtype's epsilon). Then the `bnconv convert` exports
(tools/interop/check_export.py: ONNX in onnx.checker + onnxruntime, safetensors with the
safetensors package; tools/interop/check_tensor_export.py: graphs of op-library ops, the GraphDef op
fixtures against TensorFlow and the old-opset ONNX fixtures upgraded, against onnxruntime).

Layout section (`bnconv convert --layout nchw`, with and without --keep-io-layout): every Keras
fixture with a 3-, 4- or 5-D input (full-model files) is converted, loaded in its Keras by
tools/interop/check_layout.py and fed the recorded input transposed to NCHW; every 3-D and 4-D
TensorFlow fixture is converted and run by tools/interop/check_graphdef.py with the input and
output permutations `bnconv convert --json` reports; every graph of Tests/Fixtures/tensorflow_layout
(ExpandDims/Reshape/Transpose/Pad/grouped convs/Mean/ConcatV2/StridedSlice around the convs, NHWC and
NCHW) is converted to the other layout verified and with --no-verify, and the --no-verify file back
again, each file imported and run by TensorFlow (tools/interop/graphdef_layout.py). A row
the framework's CPU kernels refuse in channels-first, or that bnconv itself refuses to write with
a reason, is listed as SKIP, not counted as a failure. A row where Keras 3 answers wrongly and
the same file answers right once `keras.ops.add` broadcasts like numpy is KNOWN: a Keras 3 bug
(its TensorFlow backend adds a channels_first bias along the width when width == channels;
tools/interop/keras3_bias_add_probe.py, docs/layout.md), listed with both errors.

tf.cond rows: the fixtures with a cond.json whose other outputs TensorFlow recorded with other feeds
(`cond_training_flag` with `training` fed true, the branch bnconv does not run): the folded graph
run by TensorFlow with those feeds against TensorFlow's own output of the original.

Assume-inference rows (tools/interop/check_assumed_inference.py): the graph whose FusedBatchNormV3
runs in training mode, folded with --assume-inference and kept with --keep (written with
is_training: false), both run in TensorFlow against its own output of the original switched to
inference.

Recalibration rows (tools/interop/check_recalibrated.py): `bnconv recalibrate` on the cases with
`calib.npy`, in momentum mode (batches of 4) and cumulative mode, for every Keras file; the output
loads in its Keras, predicts what `bnconv run` computes on the same file, and (momentum) its BN
variables equal what Keras itself stored (`recal_momentum_<flavour>.json`). GraphDef and ONNX
fixtures are recalibrated on their own input.npy and run in TensorFlow / onnxruntime against
`bnconv run`.

Ends with the line 'N passed, M failed, K skipped' (', J known framework bugs' when any row is KNOWN).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)   # the sibling check modules (check_export, graphdef_layout)
HALF_TOLERANCE = {"mixed_dtypes": 2.0 ** -10 * 5, "mixed_bfloat16": 2.0 ** -7 * 2.5}
FLAVOUR_FILES = {
    "keras2": ["keras2.h5", "keras2.keras", "keras2_weights.h5"],
    "keras3": ["keras3.keras", "keras3_legacy.h5", "keras3.weights.h5"],
}


def graph_names(case_dir):
    """--input-name / --output-name of a TensorFlow fixture: from facts.json, else from cond.json (a
    tf.cond fixture the engine refuses has no facts.json), else check_graphdef.py's defaults."""
    for file in ("facts.json", "cond.json"):
        path = os.path.join(case_dir, file)
        if os.path.exists(path):
            facts = json.load(open(path))
            return ["--input-name", facts.get("input", "input:0"), "--output-name", facts.get("output", "Identity:0")]
    return []


def bnconv_fold(bnconv, src, dst, extra=()):
    proc = subprocess.run([bnconv, "fold", src, "-o", dst, "--json", *extra], capture_output=True, text=True)
    summary = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else None
    return proc.returncode, summary, proc.stderr.strip()


def keras_module(flavour):
    if flavour == "keras2":
        import tf_keras
        return tf_keras
    import keras
    return keras


def load_keras(flavour, path, folded_config):
    K = keras_module(flavour)
    if path.endswith(".weights.h5") or path.endswith("_weights.h5"):
        with open(folded_config) as f:
            model = K.models.model_from_json(f.read())
        model.load_weights(path)
        return model
    return K.models.load_model(path, compile=False)


def check_keras(args, case_dir, case, facts, flavour, name, out_dir):
    src = os.path.join(case_dir, name)
    dst = os.path.join(out_dir, f"{case}.{name.replace('.', '.folded.', 1) if name.endswith('.weights.h5') else name}")
    extra = ["--no-verify"] if args.no_verify else []
    if "weights" in name:
        extra += ["--config", os.path.join(case_dir, f"{flavour}.json")]
    rc, summary, err = bnconv_fold(args.bnconv, src, dst, extra)
    if rc != 0:
        return False, f"bnconv fold exit {rc}: {err.splitlines()[-1] if err else ''}"
    into_next = facts[flavour].get("expect_fold_into_next") or facts.get("expect_fold_into_next") or {}
    if summary is not None and summary.get("output") is None and summary.get("folded") == 0:
        # Nothing to fold: bnconv says so and writes nothing; right when no BN of the case should fold.
        none_expected = all(v is None and into_next.get(k) is None for k, v in facts[flavour]["expect_fold"].items())
        return none_expected and not os.path.exists(dst), "nothing to fold: nothing written" + ("" if none_expected else " (a BN should have folded)")
    folded_config = dst[: -len(".weights.h5")] + ".json" if dst.endswith(".weights.h5") else os.path.splitext(dst)[0] + ".json"
    if "weights" in name and not os.path.exists(folded_config):
        folded_config = extra[-1]  # nothing folded: the weights go with the original architecture
    try:
        model = load_keras(flavour, dst, folded_config)
    except Exception as error:  # the framework refused the file
        return False, f"{flavour} cannot load it: {type(error).__name__}: {str(error).splitlines()[0][:160]}"
    x = np.load(os.path.join(case_dir, "input.npy"))
    outputs = model.predict(x, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    refs = [np.load(os.path.join(case_dir, o["file"])) for o in facts[flavour]["outputs"]]
    tol = HALF_TOLERANCE.get(case, 1e-5)
    worst = 0.0
    for y, r in zip(outputs, refs):
        y = np.asarray(y, dtype=np.float64)
        r = r.astype(np.float64)
        if y.shape != r.shape:
            return False, f"output shape {y.shape} != recorded {r.shape}"
        worst = max(worst, float(np.max(np.abs(y - r)) / max(np.max(np.abs(r)), 1e-30)))
    kept = [l.name for l in all_layers(model) if type(l).__name__ == "BatchNormalization"]
    expected_kept = sorted(k for k, v in facts[flavour]["expect_fold"].items() if v is None and into_next.get(k) is None)
    ok = worst <= tol and sorted(kept) == expected_kept
    detail = f"max rel {worst:.2e} (tol {tol:.0e}); BN left {len(kept)} (expected {len(expected_kept)})"
    return ok, detail


def all_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from all_layers(layer)
        else:
            yield layer


def check_script(args, script, src, dst, x, ref, extra=()):
    rc, summary, err = bnconv_fold(args.bnconv, src, dst)
    note = ""
    if rc == 0 and summary is not None and summary.get("output") is None and summary.get("folded") == 0:
        # Nothing to fold (no BN, or every one kept with its reason): nothing written, nothing to load.
        return not os.path.exists(dst), "nothing to fold: nothing written"
    if rc == 1 and ("cannot run node" in err or "is not supported (node" in err):
        # The engine cannot run an op of this graph: fold without engine verification and let the
        # framework be the judge.
        rc, summary, err = bnconv_fold(args.bnconv, src, dst, ["--no-verify"])
        note = " (engine cannot run it; folded with --no-verify)"
    if rc != 0:
        return False, f"bnconv fold exit {rc}: {err.splitlines()[-1] if err else ''}"
    proc = subprocess.run([sys.executable, os.path.join(HERE, script), dst, x, ref, *extra], capture_output=True, text=True)
    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if l.strip()]
    return proc.returncode == 0, (lines[-1] if lines else "")[:200] + note


LAYOUT_KERAS_FILES = {"keras2": ["keras2.h5", "keras2.keras"], "keras3": ["keras3.keras", "keras3_legacy.h5"]}


def bnconv_convert(bnconv, src, dst, extra=()):
    proc = subprocess.run([bnconv, "convert", src, "-o", dst, *extra], capture_output=True, text=True)
    lines = [l for l in (proc.stderr + proc.stdout).splitlines() if l.strip()]
    return proc.returncode, (lines[-1] if lines else "")


def has_layout_convert(bnconv):
    proc = subprocess.run([bnconv, "convert", "--help"], capture_output=True, text=True)
    return proc.returncode == 0 and "--layout" in proc.stdout


def run_check(script, argv):
    proc = subprocess.run([sys.executable, os.path.join(HERE, script), *argv], capture_output=True, text=True)
    # The verdict is the script's last stdout line; stderr carries TensorFlow's start-up chatter.
    lines = [l for l in proc.stdout.splitlines() if l.strip()] or [l for l in proc.stderr.splitlines() if l.strip()]
    return proc.returncode, (lines[-1] if lines else "")[:400]


def layout_rows(args, out_dir):
    """Rows (name, PASS/FAIL/SKIP, detail) of the `convert --layout nchw` section."""
    if not has_layout_convert(args.bnconv):
        return [("layout", "SKIP", "this bnconv has no `convert --layout` subcommand")]
    rows = []
    keras_root = os.path.join(args.fixtures, "keras")
    for case in sorted(os.listdir(keras_root)):
        case_dir = os.path.join(keras_root, case)
        facts_path = os.path.join(case_dir, "facts.json")
        x_path = os.path.join(case_dir, "input.npy")
        if not os.path.exists(facts_path) or not os.path.exists(x_path) or (args.only and args.only not in case):
            continue
        if np.load(x_path).ndim < 3:
            continue
        facts = json.load(open(facts_path))
        for flavour, names in LAYOUT_KERAS_FILES.items():
            if flavour not in facts:
                continue
            refs = [os.path.join(case_dir, o["file"]) for o in facts[flavour]["outputs"]]
            for name in names:
                if name not in facts[flavour].get("files", []) or not os.path.exists(os.path.join(case_dir, name)):
                    continue
                for keep in (False, True):
                    label = f"layout/keras/{case}/{name}{' keep-io' if keep else ''}"
                    dst = os.path.join(out_dir, f"nchw{'_keepio' if keep else ''}-{case}-{name}")
                    rc, err = bnconv_convert(args.bnconv, os.path.join(case_dir, name), dst,
                                             ["--layout", "nchw"] + (["--keep-io-layout"] if keep else []))
                    if rc != 0:
                        rows.append((label, "FAIL", f"bnconv convert exit {rc}: {err}"))
                        continue
                    io = "nhwc" if keep else "nchw"
                    rc, line = run_check("check_layout.py", [dst, x_path, *refs, "--input-layout", io, "--output-layout", io,
                                                             "--tolerance", str(HALF_TOLERANCE.get(case, 1e-5))])
                    rows.append((label, {0: "PASS", 2: "SKIP", 4: "KNOWN"}.get(rc, "FAIL"), line))
    tf_root = os.path.join(args.fixtures, "tensorflow")
    for case in sorted(os.listdir(tf_root)) if os.path.isdir(tf_root) else []:
        case_dir = os.path.join(tf_root, case)
        paths = [os.path.join(case_dir, f) for f in ("graph.pb", "input.npy", "output.npy")]
        if case == "nchw" or not all(os.path.exists(p) for p in paths) or (args.only and args.only not in case):
            continue
        if np.load(paths[1]).ndim not in (3, 4):
            continue
        label = f"layout/tensorflow/{case}"
        dst = os.path.join(out_dir, f"nchw-tensorflow-{case}.pb")
        proc = subprocess.run([args.bnconv, "convert", paths[0], "-o", dst, "--layout", "nchw", "--json"],
                              capture_output=True, text=True)
        rc, lines = proc.returncode, [l for l in (proc.stderr + proc.stdout).splitlines() if l.strip()]
        err = lines[-1] if lines else ""
        if rc != 0:
            # bnconv refusing a change a GraphDef cannot express (with its reason) is not a failure.
            refused = "cannot" in err or "only" in err
            rows.append((label, "SKIP" if refused else "FAIL", f"bnconv convert refuses: {err}"[:240]))
            continue
        half = "float16" in case or "mixed" in case
        tolerance = ["--atol", "5e-3", "--rtol", "5e-3"] if half else []
        # The permutations bnconv reports (3-D graphs, outputs that kept their layout).
        summary = json.loads(proc.stdout)
        perms = []
        for flag, perm in (("--input-perm", summary["inputPermutations"][0]), ("--output-perm", summary["outputPermutations"][0])):
            if perm:
                perms += [flag, ",".join(map(str, perm))]
        rc, line = run_check("check_graphdef.py", [dst, paths[1], paths[2], *perms, *tolerance, *graph_names(case_dir)])
        rows.append((label, {0: "PASS", 3: "SKIP"}.get(rc, "FAIL"), line))
    # The GraphDefs with ExpandDims/Reshape/Transpose/Pad/... around the convs, both directions,
    # verified and --no-verify, and back again (tools/interop/graphdef_layout.py).
    import graphdef_layout

    rows += graphdef_layout.rows(args.bnconv, args.fixtures, args.only, out_dir)
    rows += onnx_layout_rows(args, out_dir)
    return rows


def onnx_layout_rows(args, out_dir):
    """`convert --layout nhwc` and `--layout nchw` of each 4-D ONNX fixture: only the interface moves
    (transposes inserted after inputs and before outputs, or tf2onnx's removed), and onnxruntime
    answers like the original, fed and read through the permutations bnconv reports."""
    rows = []
    onnx_root = os.path.join(args.fixtures, "onnx")
    for case in sorted(os.listdir(onnx_root)) if os.path.isdir(onnx_root) else []:
        paths = [os.path.join(onnx_root, case, f) for f in ("model.onnx", "input.npy", "output.npy")]
        if not all(os.path.exists(p) for p in paths) or (args.only and args.only not in case):
            continue
        if np.load(paths[1]).ndim != 4:
            continue
        for layout in ("nhwc", "nchw"):
            label = f"layout/onnx/{case} {layout}"
            dst = os.path.join(out_dir, f"{layout}-onnx-{case}.onnx")
            command = [args.bnconv, "convert", paths[0], "-o", dst, "--layout", layout, "--json"]
            proc = subprocess.run(command, capture_output=True, text=True)
            if proc.returncode != 0 and "the engine cannot verify" in proc.stderr:
                # An op the engine lacks (opaque_op's Sin): the interface change is structural, so
                # convert without verification and let onnxruntime judge the file.
                label += " --no-verify"
                proc = subprocess.run(command + ["--no-verify"], capture_output=True, text=True)
            if proc.returncode != 0:
                lines = [l for l in (proc.stderr + proc.stdout).splitlines() if l.strip()]
                rows.append((label, "FAIL", f"bnconv convert exit {proc.returncode}: {lines[-1] if lines else ''}"[:240]))
                continue
            summary = json.loads(proc.stdout)
            perms = []
            for flag, key in (("--input-perm", "inputPermutations"), ("--output-perm", "outputPermutations")):
                perm = summary[key][0] if summary.get(key) else None
                if perm:
                    perms += [flag, ",".join(map(str, perm))]
            rc, line = run_check("check_onnx.py", [dst, paths[1], paths[2], *perms])
            rows.append((label, "PASS" if rc == 0 else "FAIL", line))
    return rows


RECAL_CASES = ["conv2d_bias_bn", "dense_bn", "mini_resnet"]


def engine_output(bnconv, model, x, out, extra=()):
    proc = subprocess.run([bnconv, "run", model, "--input", x, "-o", out, *extra], capture_output=True, text=True)
    return proc.returncode, proc.stderr.strip()


def recalibrate(bnconv, src, data, dst, extra):
    proc = subprocess.run([bnconv, "recalibrate", src, "--data", data, "-o", dst, "--json", *extra],
                          capture_output=True, text=True)
    return proc.returncode, proc.stderr.strip()


def check_recalibrated_keras(args, case_dir, case, flavour, name, mode, out_dir):
    src = os.path.join(case_dir, name)
    stem = name.replace(".weights.h5", "").replace("_weights.h5", "").rsplit(".", 1)[0]
    suffix = name[len(stem):]
    dst = os.path.join(out_dir, f"recal-{mode}-{case}-{stem}{suffix}")
    config = os.path.join(case_dir, f"{flavour}.json") if "weights" in name else None
    extra = ["--mode", mode, "--batch-size", "4" if mode == "momentum" else "5"] + (["--config", config] if config else [])
    rc, err = recalibrate(args.bnconv, src, os.path.join(case_dir, "calib.npy"), dst, extra)
    if rc != 0:
        return False, f"bnconv recalibrate exit {rc}: {err.splitlines()[-1] if err else ''}"
    x = os.path.join(case_dir, "input.npy")
    y = dst + ".engine.npy"
    rc, err = engine_output(args.bnconv, dst, x, y, ["--config", config] if config else [])
    if rc != 0:
        return False, f"bnconv run exit {rc}: {err.splitlines()[-1] if err else ''}"
    check = [sys.executable, os.path.join(HERE, "check_recalibrated.py"), flavour, dst, x, y]
    if config:
        check += ["--config", config]
    if mode == "momentum":
        check += ["--reference", os.path.join(case_dir, f"recal_momentum_{flavour}.json")]
    proc = subprocess.run(check, capture_output=True, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.strip()] or [l for l in proc.stderr.splitlines() if l.strip()]
    return proc.returncode == 0, (lines[-1] if lines else "")[:200]


def check_recalibrated_graph(args, script, case_dir, graph, dst):
    x = os.path.join(case_dir, "input.npy")
    rc, err = recalibrate(args.bnconv, os.path.join(case_dir, graph), x, dst, [])
    if rc != 0:
        # Nothing to check: no BatchNorm, an op the engine cannot run (recalibration needs the
        # engine), or moving statistics two BatchNorms read that one value cannot fit (a layer called
        # twice; an inference-mode BN in each branch of a tf.cond on a flag: cond_shared_bn); the
        # refusals are tested in Swift. A tf.layers BN on a `training` flag recalibrates.
        skip = ("no BatchNormalization" in err or "cannot run node" in err or "is not supported (node" in err
                or "shares its moving statistics" in err or "normalizes by the same moving statistics" in err)
        return None if skip else False, f"bnconv recalibrate exit {rc}: {err.splitlines()[-1] if err else ''}"
    y = dst + ".engine.npy"
    rc, err = engine_output(args.bnconv, dst, x, y)
    if rc != 0:
        return False, f"bnconv run exit {rc}: {err.splitlines()[-1] if err else ''}"
    names = graph_names(case_dir) if script == "check_graphdef.py" else []
    proc = subprocess.run([sys.executable, os.path.join(HERE, script), dst, x, y, *names], capture_output=True, text=True)
    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if l.strip()]
    return proc.returncode == 0, (lines[-1] if lines else "")[:200]


def recalibration_rows(args, out_dir):
    rows = []
    keras_root = os.path.join(args.fixtures, "keras")
    for case in RECAL_CASES:
        case_dir = os.path.join(keras_root, case)
        if not os.path.exists(os.path.join(case_dir, "calib.npy")) or (args.only and args.only not in case):
            continue
        for flavour, names in FLAVOUR_FILES.items():
            for name in names:
                if not os.path.exists(os.path.join(case_dir, name)):
                    continue
                for mode in ("momentum", "cumulative"):
                    ok, detail = check_recalibrated_keras(args, case_dir, case, flavour, name, mode, out_dir)
                    rows.append((f"recalibrate {mode} keras/{case}/{name}", ok, detail))
    for kind, script, graph in (("tensorflow", "check_graphdef.py", "graph.pb"), ("onnx", "check_onnx.py", "model.onnx")):
        root = os.path.join(args.fixtures, kind)
        if not os.path.isdir(root):
            continue
        for case in sorted(os.listdir(root)):
            case_dir = os.path.join(root, case)
            if not all(os.path.exists(os.path.join(case_dir, f)) for f in (graph, "input.npy")) or (args.only and args.only not in case):
                continue
            dst = os.path.join(out_dir, f"recal-{kind}-{case}.{graph.split('.')[-1]}")
            ok, detail = check_recalibrated_graph(args, script, case_dir, graph, dst)
            if ok is None:
                print(f"SKIP  recalibrate {kind}/{case}  {detail}")
            else:
                rows.append((f"recalibrate {kind}/{case}", ok, detail))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--only", help="run only cases whose name contains this")
    ap.add_argument("--section", choices=["all", "fold", "layout"], default="all",
                    help="run only the fold section or only the layout section")
    ap.add_argument("--no-verify", action="store_true",
                    help="fold the Keras files without verification (deferred weights, the streamed writers)")
    args = ap.parse_args()
    args.bnconv = os.path.abspath(args.bnconv)
    out_dir = tempfile.mkdtemp(prefix="bnconv-interop-")
    rows = []
    if args.section == "layout":
        return report(layout_rows(args, out_dir), out_dir)

    keras_root = os.path.join(args.fixtures, "keras")
    for case in sorted(os.listdir(keras_root)):
        case_dir = os.path.join(keras_root, case)
        facts_path = os.path.join(case_dir, "facts.json")
        if not os.path.exists(facts_path) or (args.only and args.only not in case):
            continue
        facts = json.load(open(facts_path))
        for flavour, names in FLAVOUR_FILES.items():
            if flavour not in facts:
                continue
            for name in names:
                if name not in facts[flavour].get("files", []) or not os.path.exists(os.path.join(case_dir, name)):
                    continue
                if name in (facts.get("skipped") or {}):
                    continue
                ok, detail = check_keras(args, case_dir, case, facts, flavour, name, out_dir)
                rows.append((f"keras/{case}/{name}", ok, detail))

    for kind, script, graph in (("tensorflow", "check_graphdef.py", "graph.pb"), ("onnx", "check_onnx.py", "model.onnx")):
        root = os.path.join(args.fixtures, kind)
        if not os.path.isdir(root):
            continue
        for case in sorted(os.listdir(root)):
            case_dir = os.path.join(root, case)
            src = os.path.join(case_dir, graph)
            complete = all(os.path.exists(os.path.join(case_dir, f)) for f in (graph, "input.npy", "output.npy"))
            if not complete or (args.only and args.only not in case):
                continue
            dst = os.path.join(out_dir, f"{kind}-{case}.{graph.split('.')[-1]}")
            half = "float16" in case or "mixed" in case
            tolerance = {"check_graphdef.py": ["--atol", "5e-3", "--rtol", "5e-3"], "check_onnx.py": ["--tolerance", "5e-3"]}[script] if half else []
            if script == "check_graphdef.py":
                tolerance += graph_names(case_dir)
            ok, detail = check_script(args, script, src, dst, os.path.join(case_dir, "input.npy"),
                                      os.path.join(case_dir, "output.npy"), tolerance)
            rows.append((f"{kind}/{case}", ok, detail))

    rows += assumed_inference_rows(args, out_dir)
    rows += cond_rows(args, out_dir)

    # `bnconv convert` exports (tools/interop/check_export.py): every Keras fixture to ONNX (plain,
    # --fold, --inputs-as-nhwc) checked by onnx.checker + onnxruntime against Keras's recorded
    # output, and to safetensors read by the safetensors package against Keras's weights (h5py).
    # A layer bnconv refuses to export is a SKIP row, counted neither passed nor failed.
    import check_export

    rows.extend(check_export.rows(args.bnconv, args.fixtures, args.only, out_dir))
    # Exports of op-library graphs (tools/interop/check_tensor_export.py): the GraphDef op fixtures
    # against TensorFlow's outputs, the old-opset ONNX fixtures upgraded against onnxruntime's.
    import check_tensor_export

    rows.extend(check_tensor_export.rows(args.bnconv, args.fixtures, args.only, out_dir))
    rows += recalibration_rows(args, out_dir)
    rows = [(name, "SKIP" if ok is None else "PASS" if ok else "FAIL", detail) for name, ok, detail in rows]
    if args.section == "all":
        rows += layout_rows(args, out_dir)
    return report(rows, out_dir)


def cond_rows(args, out_dir):
    """The tf.cond fixtures (cond.json) whose other outputs TensorFlow recorded with other feeds
    (`training` fed true: the branch bnconv does not run and must leave as it was): bnconv's folded
    graph, run by TensorFlow with those feeds, against TensorFlow's output of the original."""
    rows = []
    root = os.path.join(args.fixtures, "tensorflow")
    for case in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        case_dir = os.path.join(root, case)
        cond_file = os.path.join(case_dir, "cond.json")
        if not os.path.exists(cond_file) or (args.only and args.only not in case):
            continue
        cond = json.load(open(cond_file))
        for file, feeds in sorted((cond.get("other_outputs") or {}).items()):
            name = f"tensorflow/{case} folded, fed {', '.join(f'{k}={v}' for k, v in feeds.items())}"
            dst = os.path.join(out_dir, f"cond-{case}.pb")
            rc, summary, err = bnconv_fold(args.bnconv, os.path.join(case_dir, "graph.pb"), dst)
            if rc != 0 or not os.path.exists(dst):
                rows.append((name, False, f"bnconv fold exit {rc}: {err.splitlines()[-1] if err else 'nothing written'}"))
                continue
            feed_args = [a for k, v in feeds.items() for a in ("--feed", f"{k}={str(v).lower()}")]
            rc, line = run_check("check_graphdef.py", [dst, os.path.join(case_dir, "input.npy"), os.path.join(case_dir, file),
                                                       *graph_names(case_dir), *feed_args])
            rows.append((name, rc == 0, line[:200]))
    return rows


def assumed_inference_rows(args, out_dir):
    """`fold --assume-inference` on the graph whose FusedBatchNormV3 runs in training mode (is_training
    stripped, TF's default true): folded, and kept with --keep (then written with is_training: false).
    TensorFlow runs both against its own output of the original with is_training set to false
    (tools/interop/check_assumed_inference.py)."""
    case_dir = os.path.join(args.fixtures, "tensorflow", "fused_bn_training_default")
    if not os.path.isdir(case_dir) or (args.only and args.only not in "fused_bn_training_default"):
        return []
    facts = json.load(open(os.path.join(case_dir, "facts.json")))
    src, x = os.path.join(case_dir, "graph.pb"), os.path.join(case_dir, "input.npy")
    bn = facts["fused_batch_norms"][0]["name"]
    rows = []
    for label, extra, kept in (("folded", [], 0), ("kept", ["--keep", bn], 1)):
        dst = os.path.join(out_dir, f"assume-inference-{label}.pb")
        rc, _, err = bnconv_fold(args.bnconv, src, dst, ["--assume-inference", *extra])
        name = f"tensorflow/fused_bn_training_default --assume-inference ({label})"
        if rc != 0:
            rows.append((name, False, f"bnconv fold exit {rc}: {err.splitlines()[-1] if err else ''}"))
            continue
        proc = subprocess.run([sys.executable, os.path.join(HERE, "check_assumed_inference.py"), src, dst, x,
                               "--input-name", facts["input"], "--output-name", facts["output"],
                               "--expect-kept", str(kept)], capture_output=True, text=True)
        lines = [l for l in proc.stdout.splitlines() if l.strip()] or [l for l in proc.stderr.splitlines() if l.strip()]
        rows.append((name, proc.returncode == 0, (lines[-1] if lines else "")[:200]))
    return rows


def report(rows, out_dir):
    """Prints every row, skipped ones listed, then 'N passed, M failed, K skipped' (and ', J known
    framework bugs' when a row is KNOWN: the framework, not bnconv, answers wrongly, with the evidence)."""
    width = max((len(r[0]) for r in rows), default=10)
    for name, status, detail in rows:
        print(f"{status}  {name:<{width}}  {detail}")
    counts = {s: sum(1 for r in rows if r[1] == s) for s in ("PASS", "FAIL", "SKIP", "KNOWN")}
    print(f"outputs in {out_dir}")
    # KNOWN: the framework answers wrongly and the row says why, with the evidence (not a skip).
    known = f", {counts['KNOWN']} known framework bug{'s' if counts['KNOWN'] != 1 else ''}" if counts["KNOWN"] else ""
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped{known}")
    return 0 if counts["FAIL"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
