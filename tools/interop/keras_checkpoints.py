#!/usr/bin/env python3
"""Keras TF-format weights through bnconv, checked by tf_keras itself.

    python tools/interop/keras_checkpoints.py --bnconv .build/release/bnconv [--fixtures Tests/Fixtures] [--out DIR]

(also run by tools/interop/tf_checkpoints.py). For every fixture under tf_checkpoint/ written by tf_keras
`model.save_weights("weights.ckpt")` (keras_weights, keras_weights_nested; model.json is `model.to_json()`,
model.h5 the same weights as a full Keras 2 model):
  run        `bnconv run weights.ckpt --config model.json` against tf_keras's output.npy;
  to .h5     `bnconv convert weights.ckpt --config model.json -o model.h5`: tf_keras.models.load_model answers
             the same, and model_from_json(model.json).load_weights(model.h5) too;
  to .ckpt   `bnconv convert model.h5 -o w.ckpt` (and a tf_keras save_weights .h5 + --config): model_from_json
             of the w.json written beside it, load_weights(w.ckpt) with every value consumed
             (assert_consumed), answers the same; so does the fixture's own model.json;
  copy       `bnconv convert weights.ckpt --config model.json -o copy.ckpt`: every tensor (optimizer and object
             graph included) stored as before;
  fold       `bnconv fold weights.ckpt --config model.json -o folded.ckpt` and `-o folded.h5`: tf_keras loads
             them (model_from_json(folded.json) + load_weights, assert_consumed; load_model) with no
             BatchNormalization layer left and answers the same;
  onnx       `bnconv convert weights.ckpt --config model.json -o model.onnx --fold --inputs-as-nhwc` in onnxruntime;
  recalibrate `bnconv recalibrate weights.ckpt --config model.json --data calib.npy -o fixed.ckpt`: only the moving
             statistics changed, every other tensor (optimizer slots, object graph) byte for byte; tf_keras
             restores fixed.ckpt and each top-level BN's moving mean/variance are the moments of its input
             over the calibration data;
  refused    a config that does not match the checkpoint (a BN removed, a conv's filters changed): exit 1,
             one error naming the checkpoint, the layer and the key, nothing written.
Then one row per tf_keras fixture under keras/ (zoo_rows): tf_keras's save_weights of it read by bnconv, and
bnconv's checkpoints of its keras2.h5 (also folded) and keras2.keras loaded by tf_keras.
A row passes at max|y - y_ref| <= 1e-5 x max|y_ref| (1e-4 for the folded ones). Ends with 'N passed, M failed'.
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CASES = ["keras_weights", "keras_weights_nested"]
# Fixtures computed by tf_keras in half precision: bnconv's float32 engine answers within these.
HALF_PRECISION = {"mixed_dtypes": 5e-3, "mixed_bfloat16": 2e-2}


def rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(b))), 1e-30)


def bnconv(args, *cmd):
    proc = subprocess.run([args.bnconv, *cmd], capture_output=True, text=True)
    text = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
    return proc.returncode, (text[-1] if text else "")


def leaves(layers):
    for layer in layers:
        if hasattr(layer, "layers"):
            yield from leaves(layer.layers)
        else:
            yield layer


def bn_count(model):
    return sum(1 for layer in leaves(model.layers) if type(layer).__name__ == "BatchNormalization")


def from_json_with_weights(json_path, weights, consumed=True):
    import tf_keras
    with open(json_path) as f:
        model = tf_keras.models.model_from_json(f.read())
    status = model.load_weights(weights)
    if consumed and status is not None:
        status.assert_consumed()
    return model


def stored(prefix):
    """Every tensor of a checkpoint by key, as bytes (the object graph as its serialized string)."""
    import tensorflow as tf
    reader = tf.train.load_checkpoint(prefix)
    out = {}
    for key in reader.get_variable_to_shape_map():
        value = reader.get_tensor(key)
        out[key] = value if isinstance(value, bytes) else np.asarray(value).tobytes()
    return out


def rows(args, row, fixtures, out_dir):
    """The Keras TF-format weights rows; `row(name, ok, detail)` records each."""
    import tf_keras
    os.makedirs(out_dir, exist_ok=True)
    for case in CASES:
        d = os.path.join(fixtures, "tf_checkpoint", case)
        if not os.path.exists(os.path.join(d, "weights.ckpt.index")):
            continue
        ckpt, config, h5 = os.path.join(d, "weights.ckpt"), os.path.join(d, "model.json"), os.path.join(d, "model.h5")
        x, ref = np.load(os.path.join(d, "input.npy")), np.load(os.path.join(d, "output.npy"))
        out = lambda name: os.path.join(out_dir, f"{case}.{name}")
        predict = lambda m: m.predict(x, verbose=0)

        rc, msg = bnconv(args, "run", ckpt, "--config", config, "--input", os.path.join(d, "input.npy"), "-o", out("run.npy"))
        row(f"{case} run", rc == 0 and rel(np.load(out("run.npy")), ref) <= 1e-5,
            f"rel err {rel(np.load(out('run.npy')), ref):.2e}" if rc == 0 else msg)

        # Checkpoint -> Keras 2 H5.
        rc, msg = bnconv(args, "convert", ckpt, "--config", config, "-o", out("model.h5"), "-q")
        if rc == 0:
            e1 = rel(predict(tf_keras.models.load_model(out("model.h5"))), ref)
            e2 = rel(predict(from_json_with_weights(config, out("model.h5"), consumed=False)), ref)
            row(f"{case} convert .ckpt -> .h5, tf_keras load_model / model_from_json + load_weights", max(e1, e2) <= 1e-5,
                f"rel err {e1:.2e} / {e2:.2e}")
        else:
            row(f"{case} convert .ckpt -> .h5", False, msg)

        # Keras 2 H5 (full, and weights-only + config) -> checkpoint.
        weights_h5 = out("save_weights.h5")
        tf_keras.models.load_model(h5).save_weights(weights_h5)
        for label, source in (("full .h5", [h5]), ("save_weights .h5 + --config", [weights_h5, "--config", config])):
            target = out("from_" + ("full" if len(source) == 1 else "weights") + ".ckpt")
            beside = target[: -len(".ckpt")] + ".json"
            if os.path.exists(beside):
                os.remove(beside)
            rc, msg = bnconv(args, "convert", *source, "-o", target, "-q")
            if rc != 0:
                row(f"{case} convert {label} -> .ckpt", False, msg)
                continue
            arch = beside if os.path.exists(beside) else config
            try:
                e1 = rel(predict(from_json_with_weights(arch, target)), ref)
                e2 = rel(predict(from_json_with_weights(config, target)), ref)
            except Exception as error:  # tf_keras refusing the checkpoint fails the row
                row(f"{case} convert {label} -> .ckpt, tf_keras load_weights", False, str(error).splitlines()[0])
                continue
            row(f"{case} convert {label} -> .ckpt, tf_keras model_from_json({os.path.basename(arch)}) + load_weights (all consumed)",
                max(e1, e2) <= 1e-5, f"rel err {e1:.2e} (model.json: {e2:.2e})")

        # Checkpoint -> checkpoint, nothing changed: every tensor as stored.
        rc, msg = bnconv(args, "convert", ckpt, "--config", config, "-o", out("copy.ckpt"), "-q")
        if rc == 0:
            a, b = stored(ckpt), stored(out("copy.ckpt"))
            row(f"{case} convert .ckpt -> .ckpt: every tensor as stored", a == b, f"{len(a)} tensors, {sum(a[k] == b.get(k) for k in a)} identical")
        else:
            row(f"{case} convert .ckpt -> .ckpt", False, msg)

        # Fold into a checkpoint (+ its architecture) and into a full .h5.
        before = bn_count(tf_keras.models.load_model(h5))
        rc, msg = bnconv(args, "fold", ckpt, "--config", config, "-o", out("folded.ckpt"), "-q")
        if rc == 0:
            m = from_json_with_weights(out("folded.json"), out("folded.ckpt"))
            e = rel(predict(m), ref)
            row(f"{case} fold -> .ckpt + folded.json, tf_keras load_weights (all consumed)", e <= 1e-4 and bn_count(m) == 0,
                f"rel err {e:.2e}, BatchNormalization layers {before} -> {bn_count(m)}")
        else:
            row(f"{case} fold -> .ckpt", False, msg)
        rc, msg = bnconv(args, "fold", ckpt, "--config", config, "-o", out("folded.h5"), "-q")
        if rc == 0:
            m = tf_keras.models.load_model(out("folded.h5"))
            e = rel(predict(m), ref)
            row(f"{case} fold -> .h5, tf_keras load_model", e <= 1e-4 and bn_count(m) == 0,
                f"rel err {e:.2e}, BatchNormalization layers {before} -> {bn_count(m)}")
        else:
            row(f"{case} fold -> .h5", False, msg)

        rc, msg = bnconv(args, "convert", ckpt, "--config", config, "-o", out("onnx"), "--fold", "--inputs-as-nhwc", "-q")
        if rc == 0:
            import onnxruntime as rt
            s = rt.InferenceSession(out("onnx"), providers=["CPUExecutionProvider"])
            e = rel(s.run(None, {s.get_inputs()[0].name: x})[0], ref)
            row(f"{case} convert -o .onnx --fold in onnxruntime", e <= 1e-4, f"rel err {e:.2e}")
        else:
            row(f"{case} convert -o .onnx", False, msg)

        # Recalibration written back as a checkpoint: only the moving statistics new.
        calib = np.random.default_rng(11).standard_normal((32,) + x.shape[1:]).astype(np.float32) * 1.5 + 0.25
        np.save(out("calib.npy"), calib)
        rc, msg = bnconv(args, "recalibrate", ckpt, "--config", config, "--data", out("calib.npy"), "-o", out("fixed.ckpt"), "-q")
        if rc == 0:
            a, b = stored(ckpt), stored(out("fixed.ckpt"))
            changed = sorted(k for k in a if a[k] != b.get(k))
            same = len(a) - len(changed)
            optimizer = sum(1 for k in a if k.startswith("optimizer/"))
            m = from_json_with_weights(config, out("fixed.ckpt"), consumed=False)
            worst = 0.0
            for layer in m.layers:
                if type(layer).__name__ != "BatchNormalization":
                    continue
                act = tf_keras.Model(m.inputs, layer.input).predict(calib, verbose=0).astype(np.float64)
                axes = tuple(range(act.ndim - 1))
                worst = max(worst, rel(layer.moving_mean.numpy(), act.mean(axis=axes)), rel(layer.moving_variance.numpy(), act.var(axis=axes)))
            ok = bool(changed) and all("moving_" in k for k in changed) and set(a) == set(b) and worst <= 1e-5
            row(f"{case} recalibrate -> .ckpt, restored by tf_keras", ok,
                f"{len(changed)} tensors changed ({', '.join(k.split('/.ATTRIBUTES')[0] for k in changed)}), {same} byte for byte "
                f"({optimizer} optimizer, the object graph among them); moving statistics vs tf_keras moments: rel err {worst:.2e}")
        else:
            row(f"{case} recalibrate", False, msg)

        # A config that does not match the checkpoint: refused, nothing written.
        with open(config) as f:
            arch = json.load(f)
        layers = arch["config"]["layers"]
        conv = next(i for i, layer in enumerate(layers) if layer["class_name"] == "Conv2D")
        wider = json.loads(json.dumps(arch))
        wider["config"]["layers"][conv]["config"]["filters"] += 2
        # Without the first BatchNormalization: the layer after it reads the conv directly.
        bn = next(i for i, layer in enumerate(layers) if layer["class_name"] == "BatchNormalization")
        fewer = json.loads(json.dumps(arch))
        bn_name = fewer["config"]["layers"][bn]["name"]
        del fewer["config"]["layers"][bn]
        text = json.dumps(fewer).replace(f'["{bn_name}", 0, 0, {{}}]', f'["{layers[bn - 1]["name"]}", 0, 0, {{}}]')
        fewer = json.loads(text)
        for label, bad in (("filters changed", wider), ("a BatchNormalization removed", fewer)):
            path = out("bad_config.json")
            with open(path, "w") as f:
                json.dump(bad, f)
            target = out("never.h5")
            if os.path.exists(target):
                os.remove(target)
            rc, msg = bnconv(args, "convert", ckpt, "--config", path, "-o", target)
            named = "weights.ckpt" in msg and "layer" in msg and "/.ATTRIBUTES/VARIABLE_VALUE" in msg
            row(f"{case} mismatched config ({label}) refused", rc == 1 and named and not os.path.exists(target), msg)


def zoo_rows(args, row, fixtures, out_dir):
    """Every tf_keras fixture under keras/ (Sequential, nested, Conv1D/3D, transposed, depthwise, separable,
    Normalization, mixed dtypes, ...): tf_keras's own save_weights read by `bnconv run --config` against
    output_keras2.npy, and `bnconv convert keras2.h5 / keras2.keras -o w.ckpt` (and keras2.h5 with --fold) loaded by
    tf_keras (model_from_json of the w.json written beside, load_weights with every value consumed) giving
    output_keras2.npy; the folded checkpoint read back by bnconv too."""
    import glob
    import tf_keras
    os.makedirs(out_dir, exist_ok=True)
    for d in sorted(glob.glob(os.path.join(fixtures, "keras", "*", ""))):
        name = os.path.basename(d.rstrip("/"))
        if not os.path.exists(os.path.join(d, "keras2.h5")) or not os.path.exists(os.path.join(d, "output_keras2.npy")):
            continue
        x, ref = np.load(os.path.join(d, "input.npy")), np.load(os.path.join(d, "output_keras2.npy"))
        errors, problems, run_error = [], [], float("inf")
        # tf_keras writes the checkpoint; bnconv reads it.
        model = tf_keras.models.load_model(os.path.join(d, "keras2.h5"), compile=False)
        prefix, arch = os.path.join(out_dir, f"{name}.tf_keras.ckpt"), os.path.join(out_dir, f"{name}.tf_keras.json")
        model.save_weights(prefix)
        with open(arch, "w") as f:
            f.write(model.to_json())
        np.save(os.path.join(out_dir, f"{name}.x.npy"), x)
        rc, msg = bnconv(args, "run", prefix, "--config", arch, "--input", os.path.join(out_dir, f"{name}.x.npy"),
                         "-o", os.path.join(out_dir, f"{name}.y.npy"))
        if rc == 0:
            # bnconv's engine computes in float32 what tf_keras's mixed policies compute in half precision
            # (the tolerances of ModelRunnerKerasFixturesTests).
            run_error = rel(np.load(os.path.join(out_dir, f"{name}.y.npy")), ref)
            if run_error > HALF_PRECISION.get(name, 1e-5):
                problems.append(f"run: rel err {run_error:.2e}")
        else:
            problems.append(f"run: {msg}")
        # bnconv writes the checkpoint; tf_keras reads it.
        for source in ("keras2.h5", "keras2.keras"):
            if not os.path.exists(os.path.join(d, source)):
                continue
            target = os.path.join(out_dir, f"{name}.{source}.ckpt")
            rc, msg = bnconv(args, "convert", os.path.join(d, source), "-o", target, "-q")
            if rc != 0:
                problems.append(f"{source}: {msg}")
                continue
            try:
                errors.append(rel(from_json_with_weights(target[: -len(".ckpt")] + ".json", target).predict(x, verbose=0), ref))
            except Exception as error:  # tf_keras refusing the checkpoint fails the row
                problems.append(f"{source}: {str(error).splitlines()[0]}")
        worst = max(errors) if errors else float("inf")
        # Folded on the way (layers removed: tf_keras renumbers the rest in its model.layers order), then
        # loaded by tf_keras and read back by bnconv with the folded architecture written beside it.
        target = os.path.join(out_dir, f"{name}.folded.ckpt")
        folded_error = float("inf")
        rc, msg = bnconv(args, "convert", os.path.join(d, "keras2.h5"), "-o", target, "--fold", "-q")
        if rc != 0:
            problems.append(f"--fold: {msg}")
        else:
            arch = target[: -len(".ckpt")] + ".json"
            try:
                folded_error = rel(from_json_with_weights(arch, target).predict(x, verbose=0), ref)
            except Exception as error:  # tf_keras refusing the checkpoint fails the row
                problems.append(f"--fold: {str(error).splitlines()[0]}")
            rc, msg = bnconv(args, "run", target, "--config", arch, "--input", os.path.join(out_dir, f"{name}.x.npy"),
                             "-o", os.path.join(out_dir, f"{name}.folded.y.npy"))
            if rc != 0:
                problems.append(f"--fold read back: {msg}")
            elif rel(np.load(os.path.join(out_dir, f"{name}.folded.y.npy")), ref) > max(HALF_PRECISION.get(name, 1e-5), 1e-4):
                problems.append("--fold read back: differs")
        row(f"keras/{name}: tf_keras save_weights read by bnconv; keras2.h5, keras2.keras and a fold -> .ckpt loaded by tf_keras",
            not problems and worst <= 1e-5 and folded_error <= max(HALF_PRECISION.get(name, 1e-5), 1e-4), "; ".join(problems)
            or f"bnconv run rel err {run_error:.2e}; tf_keras on {len(errors)} written checkpoints: worst rel err {worst:.2e}, "
               f"folded {folded_error:.2e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", default=os.path.join(ROOT, ".build", "release", "bnconv"))
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "Tests", "Fixtures"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "keras_checkpoints"))
    args = ap.parse_args()
    results = []

    def row(name, ok, detail):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

    rows(args, row, args.fixtures, args.out)
    zoo_rows(args, row, args.fixtures, os.path.join(args.out, "zoo"))
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
