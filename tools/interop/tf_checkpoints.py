#!/usr/bin/env python3
"""TensorFlow checkpoints and SavedModels through bnconv (#18), checked by TensorFlow and onnxruntime.

    python tools/interop/tf_checkpoints.py --bnconv .build/release/bnconv [--fixtures Tests/Fixtures] [--out DIR]

For every fixture under tf_checkpoint/ (TF1 Saver checkpoints with their .meta) and tf_savedmodel/
(TF1 and TF2 SavedModels), written by TensorFlow 2.21 (tools/fixtures/make_checkpoint_fixtures.py):
  run      `bnconv run` on the checkpoint / SavedModel against TensorFlow's own output.npy;
  freeze   `bnconv convert X -o frozen.pb`: TensorFlow imports the frozen graph and answers the same;
  fold     `bnconv convert X -o folded.pb --fold` (verified by bnconv): TensorFlow answers the same
           and the graph holds fewer BatchNorm ops;
  onnx     `bnconv convert X -o model.onnx --fold --inputs-as-nhwc`: onnxruntime answers the same;
  savedmodel  (SavedModels) `bnconv fold DIR -o NEWDIR`: tf.saved_model.load's serving_default answers the same.
  recalibrate  `bnconv recalibrate X --data calib.npy -o Y` (a checkpoint and a SavedModel): TensorFlow
           restores Y; only the moving statistics changed, to the moments of each BN's input.
Keras TF-format weights (tf_keras model.save_weights + model.json) get the rows of
tools/interop/keras_checkpoints.py (run, to .h5, from .h5, fold, recalibrate, refused configs; and every
tf_keras fixture under keras/ through a checkpoint both ways).
The moments MLP (a training graph normalizing by batch moments) must be refused without
--assume-inference, and with it (or with --meta infer.meta) answer as TensorFlow's inference graph.
A row passes at max|y - y_ref| <= 1e-5 x max|y_ref| (1e-4 for the folded ones). Ends with 'N passed, M failed'.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_checkpoints  # noqa: E402  (rows for Keras TF-format weights; rel and bnconv shared)
from keras_checkpoints import bnconv, rel  # noqa: E402


def tf_frozen(path, x, feeds=None):
    """Runs a frozen GraphDef: its one Placeholder fed x, its sinks fetched."""
    import tensorflow as tf
    gd = tf.compat.v1.GraphDef()
    with open(path, "rb") as f:
        gd.ParseFromString(f.read())
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
    read = {i.split(":")[0].lstrip("^") for n in gd.node for i in n.input}
    placeholders = [n.name for n in gd.node if n.op == "Placeholder"]
    sinks = [n.name for n in gd.node if n.name not in read and n.op not in ("Const", "NoOp", "Placeholder")]
    with tf.compat.v1.Session(graph=g) as s:
        out = s.run([g.get_tensor_by_name(n + ":0") for n in sinks], {g.get_tensor_by_name(placeholders[0] + ":0"): x})
    bn_ops = sum(1 for n in gd.node if n.op.startswith("FusedBatchNorm") or n.op == "Rsqrt")
    return out[0] if len(out) == 1 else out, bn_ops


def recalibration_check(prefix_or_dir, fixed, calib, saved_model):
    """Restores the recalibrated checkpoint in TensorFlow: every variable but the moving statistics
    as before, each BN's moving mean/variance the population mean and biased variance of its input
    over the calibration data (docs/recalibrate.md, cumulative mode). Returns (ok, detail)."""
    import tensorflow as tf
    before = tf.train.load_checkpoint(prefix_or_dir + ("/variables/variables" if saved_model else ""))
    after = tf.train.load_checkpoint(fixed + ("/variables/variables" if saved_model else ""))
    changed = sorted(k for k in before.get_variable_to_shape_map()
                     if k != "_CHECKPOINTABLE_OBJECT_GRAPH" and not np.array_equal(before.get_tensor(k), after.get_tensor(k)))
    if not changed or any("moving" not in k and "pop_" not in k for k in changed):
        return False, f"changed variables: {changed}"
    g = tf.Graph()
    with g.as_default(), tf.compat.v1.Session(graph=g) as s:
        if saved_model:
            tf.compat.v1.saved_model.loader.load(s, ["serve"], fixed)
        else:
            tf.compat.v1.train.import_meta_graph(fixed + ".meta").restore(s, fixed)
        worst = 0.0
        for op in g.get_operations():
            if not op.type.startswith("FusedBatchNorm") or op.get_attr("is_training"):
                continue
            x = op.inputs[0]
            feed = [t for t in g.get_operations() if t.type == "Placeholder"][0].outputs[0]
            act = s.run(x, {feed: calib}).astype(np.float64)
            mean, var = act.mean(axis=(0, 1, 2)), act.var(axis=(0, 1, 2))
            got_mean, got_var = s.run([op.inputs[3], op.inputs[4]])
            worst = max(worst, rel(got_mean, mean), rel(got_var, var))
    return worst <= 1e-5, f"{len(changed)} variables changed ({', '.join(changed)}), moving statistics vs TensorFlow's moments: rel err {worst:.2e}"


def tf_saved_model(path, x):
    """Calls a SavedModel's serving_default signature with x (its one input); its first output."""
    import tensorflow as tf
    f = tf.saved_model.load(path).signatures["serving_default"]
    key = list(f.structured_input_signature[1].keys())[0]
    out = f(**{key: tf.constant(x)})
    return list(out.values())[0].numpy()


def ort(path, x):
    import onnxruntime as rt
    s = rt.InferenceSession(path, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", default=os.path.join(ROOT, ".build", "release", "bnconv"))
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "Tests", "Fixtures"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "tf_checkpoints"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = []

    def row(name, ok, detail):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

    cases = []
    for d in sorted(glob.glob(os.path.join(args.fixtures, "tf_checkpoint", "*"))):
        if os.path.exists(os.path.join(d, "model.ckpt.meta")):
            cases.append((os.path.basename(d), os.path.join(d, "model.ckpt"), d))
    for d in sorted(glob.glob(os.path.join(args.fixtures, "tf_savedmodel", "*"))):
        if os.path.isdir(os.path.join(d, "model")):
            cases.append((os.path.basename(d), os.path.join(d, "model"), d))

    for name, model, d in cases:
        x = np.load(os.path.join(d, "input.npy"))
        out = lambda suffix: os.path.join(args.out, f"{name}.{suffix}")
        if name == "moments_mlp":
            ref = np.load(os.path.join(d, "output_infer.npy"))
            rc, msg = bnconv(args, "convert", model, "-o", out("frozen.pb"))
            row(f"{name} refused as a training graph", rc == 1 and "batch statistics" in msg, msg)
            for label, extra in (("--assume-inference", ["--assume-inference"]), ("--meta infer.meta", ["--meta", os.path.join(d, "infer.meta")])):
                target = out(("assumed" if extra[0] == "--assume-inference" else "infer") + ".pb")
                rc, msg = bnconv(args, "convert", model, "-o", target, "--fold", *extra)
                if rc != 0:
                    row(f"{name} convert --fold {label}", False, msg)
                    continue
                y, _ = tf_frozen(target, x)
                e = rel(y, ref)
                row(f"{name} convert --fold {label} in TensorFlow", e <= 1e-4, f"rel err {e:.2e} vs the inference graph")
            continue
        ref = np.load(os.path.join(d, "output.npy"))
        if os.path.exists(os.path.join(d, "training_placeholder.meta")):
            # tf.layers' `training` flag as a PlaceholderWithDefault: its tf.cond resolved to the default branch.
            rc, msg = bnconv(args, "convert", model, "--meta", os.path.join(d, "training_placeholder.meta"), "-o", out("cond.pb"), "--fold")
            if rc == 0:
                y, _ = tf_frozen(out("cond.pb"), x)
                e = rel(y, np.load(os.path.join(d, "output_training_placeholder.npy")))
                row(f"{name} training placeholder (tf.cond) frozen and folded, in TensorFlow", e <= 1e-4, f"rel err {e:.2e}")
            else:
                row(f"{name} training placeholder (tf.cond)", False, msg)
        rc, msg = bnconv(args, "run", model, "--input", os.path.join(d, "input.npy"), "-o", out("run.npy"))
        if rc == 0:
            e = rel(np.load(out("run.npy")), ref)
            row(f"{name} run", e <= 1e-5, f"rel err {e:.2e}")
        else:
            row(f"{name} run", False, msg)
        rc, msg = bnconv(args, "convert", model, "-o", out("frozen.pb"))
        if rc == 0:
            y, bn_before = tf_frozen(out("frozen.pb"), x)
            e = rel(y, ref)
            row(f"{name} freeze in TensorFlow", e <= 1e-5, f"rel err {e:.2e}")
        else:
            row(f"{name} freeze", False, msg)
            bn_before = None
        rc, msg = bnconv(args, "convert", model, "-o", out("folded.pb"), "--fold")
        if rc == 0:
            y, bn_after = tf_frozen(out("folded.pb"), x)
            e = rel(y, ref)
            fewer = bn_before is None or bn_after < bn_before
            row(f"{name} freeze --fold in TensorFlow", e <= 1e-4 and fewer, f"rel err {e:.2e}, BN ops {bn_before} -> {bn_after}")
        else:
            row(f"{name} freeze --fold", False, msg)
        if os.path.isdir(model):
            # A SavedModel folded into a SavedModel (the frozen graph under the same signature).
            target = out("folded_savedmodel")
            subprocess.run(["rm", "-rf", target])
            rc, msg = bnconv(args, "fold", model, "-o", target)
            if rc == 0:
                e = rel(tf_saved_model(target, x), ref)
                row(f"{name} fold -o DIR, loaded by tf.saved_model.load", e <= 1e-4, f"rel err {e:.2e}")
            else:
                row(f"{name} fold -o DIR", False, msg)
        rc, msg = bnconv(args, "convert", model, "-o", out("onnx"), "--fold", "--inputs-as-nhwc")
        if rc == 0:
            try:
                e = rel(ort(out("onnx"), x), ref)
            except Exception as error:  # onnxruntime refusing the file is a failure of this row
                row(f"{name} convert -o .onnx in onnxruntime", False, str(error).splitlines()[0])
                continue
            row(f"{name} convert -o .onnx --fold in onnxruntime", e <= 1e-4, f"rel err {e:.2e}")
        else:
            row(f"{name} convert -o .onnx", False, msg)

    # Recalibration: a checkpoint and a SavedModel, written back as such and restored by TensorFlow.
    rng = np.random.default_rng(7)
    for name, model, saved in (("stale_stats", os.path.join(args.fixtures, "tf_checkpoint", "stale_stats", "model.ckpt"), False),
                               ("tf1_simple_save", os.path.join(args.fixtures, "tf_savedmodel", "tf1_simple_save", "model"), True)):
        x = np.load(os.path.join(os.path.dirname(model) if not saved else os.path.dirname(model), "input.npy"))
        calib = rng.standard_normal((32,) + x.shape[1:]).astype(np.float32)
        np.save(os.path.join(args.out, f"{name}.calib.npy"), calib)
        fixed = os.path.join(args.out, f"{name}.recalibrated" + ("" if saved else ".ckpt"))
        subprocess.run(["rm", "-rf", fixed])
        rc, msg = bnconv(args, "recalibrate", model, "--data", os.path.join(args.out, f"{name}.calib.npy"), "-o", fixed)
        if rc != 0:
            row(f"{name} recalibrate", False, msg)
            continue
        ok, detail = recalibration_check(model, fixed, calib, saved)
        row(f"{name} recalibrate, restored by TensorFlow", ok, detail)

    # Keras TF-format weights (tf_keras model.save_weights + model.json): tools/interop/keras_checkpoints.py.
    keras_checkpoints.rows(args, row, args.fixtures, os.path.join(args.out, "keras"))
    keras_checkpoints.zoo_rows(args, row, args.fixtures, os.path.join(args.out, "keras_zoo"))

    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
