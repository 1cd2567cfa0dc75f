#!/usr/bin/env python3
"""EfficientNet-B0 through every path (#17): its Keras 2 `.h5` (tf_keras), Keras 3 `.keras`, the frozen
GraphDef of the Keras 2 model (convert_variables_to_constants_v2) and its ONNX export by bnconv.

    python tools/interop/efficientnet.py --bnconv .build/release/bnconv [--out DIR]

weights=None, 224x224, every BatchNorm given random statistics (gamma, beta, mean, variance). For
each file: `bnconv run` against the framework's own output; `bnconv fold` (verified) and the folded
file loaded back in its framework (tf_keras, keras 3, TensorFlow, onnxruntime) against the same
output; `bnconv convert -o x.onnx` (Keras files and the GraphDef, whose op-library nodes export
too) in onnx.checker and onnxruntime; `bnconv convert --layout nchw`
(Keras files and the GraphDef) verified by bnconv. A row passes at max|y - y_ref| <= 1e-5 x max|y_ref|.
Ends with 'N passed, M failed'.
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOL = 1e-5


def randomize_bn(model, rng, bn_class):
    for layer in model.layers:
        if isinstance(layer, bn_class):
            weights = layer.get_weights()
            c = weights[-1].shape
            values = [rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c), rng.uniform(-0.2, 0.2, c), rng.uniform(0.5, 2.0, c)]
            layer.set_weights([v.astype(np.float32) for v in values[4 - len(weights):]])


def rel(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b))) / max(float(np.max(np.abs(b))), 1e-30)


def bnconv(args, *cmd):
    proc = subprocess.run([args.bnconv, *cmd], capture_output=True, text=True)
    return proc.returncode, (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or [""]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", default=os.path.join(ROOT, ".build", "release", "bnconv"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "efficientnet"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 224, 224, 3)).astype(np.float32) * 40 + 110
    np.save(out("x.npy"), x)
    results = []

    def row(name, ok, detail):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

    import tf_keras as K2
    import tensorflow as tf
    m2 = K2.applications.EfficientNetB0(weights=None)
    randomize_bn(m2, rng, K2.layers.BatchNormalization)
    ref2 = m2.predict(x, verbose=0)
    m2.save(out("keras2.h5"))
    fn = tf.function(lambda t: m2(t, training=False)).get_concrete_function(tf.TensorSpec([None, 224, 224, 3], tf.float32))
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    frozen = convert_variables_to_constants_v2(fn)
    open(out("graph.pb"), "wb").write(frozen.graph.as_graph_def().SerializeToString())
    gd_in = frozen.inputs[0].name
    gd_out = frozen.outputs[0].name

    import keras as K3
    m3 = K3.applications.EfficientNetB0(weights=None)
    randomize_bn(m3, np.random.default_rng(1), K3.layers.BatchNormalization)
    ref3 = np.asarray(m3.predict(x, verbose=0))
    m3.save(out("keras3.keras"))

    def run_graphdef(path, inputs):
        gd = tf.compat.v1.GraphDef()
        gd.ParseFromString(open(path, "rb").read())
        g = tf.Graph()
        with g.as_default():
            tf.import_graph_def(gd, name="")
        with tf.compat.v1.Session(graph=g) as s:
            return s.run(gd_out, {gd_in: inputs})

    def run_onnx(path, inputs):
        # bnconv's export computes NCHW and takes its input so (convert prints the permutation).
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        declared = sess.get_inputs()[0].shape
        if declared[1] == 3 and inputs.shape[1] != 3:
            inputs = np.ascontiguousarray(inputs.transpose(0, 3, 1, 2))
        return sess.run(None, {sess.get_inputs()[0].name: inputs})[0]

    loaders = {
        "keras2.h5": (lambda p: K2.models.load_model(p, compile=False).predict(x, verbose=0), ref2),
        "keras3.keras": (lambda p: np.asarray(K3.models.load_model(p, compile=False).predict(x, verbose=0)), ref3),
        "graph.pb": (lambda p: run_graphdef(p, x), ref2),
    }
    # bnconv's ONNX export of the Keras 2 model (NCHW inside, NHWC at the boundary unless said otherwise).
    code, msg = bnconv(args, "convert", out("keras2.h5"), "-o", out("exported.onnx"))
    if code == 0:
        y = run_onnx(out("exported.onnx"), x)
        row("keras2.h5 convert -o .onnx", rel(y, ref2) <= TOL, f"onnxruntime error {rel(y, ref2):.2e}")
        loaders["exported.onnx"] = (lambda p: run_onnx(p, x), ref2)
    else:
        row("keras2.h5 convert -o .onnx", False, msg[0])
    code, msg = bnconv(args, "convert", out("keras3.keras"), "-o", out("exported3.onnx"))
    if code == 0:
        y = run_onnx(out("exported3.onnx"), x)
        row("keras3.keras convert -o .onnx", rel(y, ref3) <= TOL, f"onnxruntime error {rel(y, ref3):.2e}")
    else:
        row("keras3.keras convert -o .onnx", False, msg[0])

    # bnconv's ONNX export of the frozen GraphDef (its swish IdentityN and squeeze-excite shape
    # arithmetic run in the op library), fed as `convert --json` says.
    proc = subprocess.run([args.bnconv, "convert", out("graph.pb"), "-o", out("graph_exported.onnx"), "--json"],
                          capture_output=True, text=True)
    if proc.returncode == 0:
        import onnx
        summary = json.loads(proc.stdout)
        onnx.checker.check_model(onnx.load(out("graph_exported.onnx")), full_check=True)
        perm = (summary.get("inputPermutations") or [None])[0]
        import onnxruntime as ort
        sess = ort.InferenceSession(out("graph_exported.onnx"), providers=["CPUExecutionProvider"])
        y = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(np.transpose(x, perm) if perm else x)})[0]
        row("graph.pb convert -o .onnx", rel(y, ref2) <= TOL,
            f"opset {summary.get('opset')}, onnx.checker ok, onnxruntime error {rel(y, ref2):.2e}")
    else:
        row("graph.pb convert -o .onnx", False, ((proc.stderr or proc.stdout).strip().splitlines() or [""])[-1])

    for name, (load, ref) in loaders.items():
        path = out(name)
        xin = out("x.npy")
        if name.endswith(".onnx"):
            xin = out("x_nchw.npy")
            np.save(xin, np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        code, msg = bnconv(args, "run", path, "--input", xin, "-o", out(name + ".y.npy"))
        if code == 0:
            y = np.load(out(name + ".y.npy"))
            row(f"{name} run", rel(y, ref) <= TOL, f"error {rel(y, ref):.2e}")
        else:
            row(f"{name} run", False, msg[0])
        folded = out("folded_" + name)
        proc = subprocess.run([args.bnconv, "fold", path, "-o", folded, "--json"], capture_output=True, text=True)
        if proc.returncode == 0:
            summary = json.loads(proc.stdout)
            y = load(folded)
            row(f"{name} fold", rel(y, ref) <= TOL and summary["folded"] > 0,
                f"{summary['folded']} of {len(summary['batchNorms'])} BNs folded; framework on the folded file: error {rel(y, ref):.2e}")
        else:
            row(f"{name} fold", False, (proc.stderr.strip().splitlines() or [""])[-1])
        if name != "exported.onnx":
            code, msg = bnconv(args, "convert", path, "--layout", "nchw", "-o", out("nchw_" + name))
            row(f"{name} convert --layout nchw", code == 0, msg[0])
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
