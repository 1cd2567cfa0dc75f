#!/usr/bin/env python3
"""Checks `bnconv convert` exports of every committed Keras fixture in the real tools.

    python tools/interop/check_export.py --bnconv .build/release/bnconv --fixtures Tests/Fixtures [--only CASE]

(a) ONNX: each keras2.h5 / keras3.keras is exported three ways (plain, --fold, --inputs-as-nhwc);
    every model must pass onnx.checker (full_check) and, run by onnxruntime (graph optimizations
    off) on the fixture's input laid out as bnconv's --json says (inputPermutations), give Keras's
    recorded output (output_<flavour>.npy, outputs transposed back by outputPermutations) within
    1e-5 x max|reference| (half-precision cases: their dtype's epsilon). A layer bnconv refuses to
    export (exit 1 naming it) is reported as SKIP, not as a failure.
    The GraphDef fixtures are exported too (plain and --fold) and compared with TensorFlow's
    recorded output.npy.
(b) safetensors: each keras2.h5 is exported to .safetensors, read with the `safetensors` package's
    numpy API, and every tensor must equal the Keras weight read with h5py under the documented
    transpose (docs/convert.md): conv (k..., in, out) -> (out, in, k...); depthwise (k..., in, m)
    -> (in*m, 1, k...); transposed conv (k..., out, in) -> (in, out, k...); dense (in, out) ->
    (out, in), with the rows of a Dense after a Flatten of an (H, W, C) tensor put in (C, H, W)
    order; BN gamma/beta/moving_mean/moving_variance -> weight/bias/running_mean/running_var, and
    num_batches_tracked = 0 (int64). Every Keras weight must be present and no extra tensor either.

Prints one row per check and ends with the line 'N passed, M failed'.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import h5py
import numpy as np

HALF_TOLERANCE = {"mixed_dtypes": 2.0 ** -10 * 5, "mixed_bfloat16": 2.0 ** -7 * 2.5}
ONNX_FILES = [("keras2.h5", "output_keras2.npy"), ("keras3.keras", "output_keras3.npy")]
ONNX_VARIANTS = [("plain", []), ("fold", ["--fold"]), ("nhwc", ["--inputs-as-nhwc"])]


def convert(bnconv, src, dst, extra=()):
    proc = subprocess.run([bnconv, "convert", src, "-o", dst, "--json", *extra], capture_output=True, text=True)
    summary = None
    if proc.stdout.strip():
        try:
            summary = json.loads(proc.stdout)
        except json.JSONDecodeError:
            pass
    return proc.returncode, summary, proc.stderr.strip()


def check_onnx(path, summary, x, reference, tolerance):
    import onnx
    import onnxruntime as ort

    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    counts = Counter(n.op_type for n in model.graph.node)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    perm_in = (summary.get("inputPermutations") or [None])[0]
    perm_out = (summary.get("outputPermutations") or [None])[0]
    feed = np.transpose(x, perm_in) if perm_in else x
    y = session.run(None, {session.get_inputs()[0].name: feed.astype(np.float32)})[0]
    if perm_out:
        y = np.transpose(y, np.argsort(perm_out))
    if y.shape != reference.shape:
        return False, f"shape {y.shape} vs Keras {reference.shape}"
    error = float(np.max(np.abs(y - reference)) / max(float(np.max(np.abs(reference))), 1e-30))
    bn = counts.get("BatchNormalization", 0)
    transposes = counts.get("Transpose", 0)
    ok = error <= tolerance
    return ok, f"opset {summary.get('opset')}, {sum(counts.values())} nodes, BN {bn}, Transpose {transposes}, error {error:.2e} x max|ref|"


# ---------------------------------------------------------------- safetensors vs h5py

def layer_classes(config):
    """name -> (class_name, layer config) for every layer, nested models included."""
    out = {}

    def walk(layers):
        for layer in layers:
            out[layer["config"].get("name", layer.get("name"))] = (layer["class_name"], layer)
            inner = layer.get("config", {}).get("layers")
            if isinstance(inner, list):
                walk(inner)

    walk(config["config"]["layers"])
    return out


def predecessor(layer, container_layers, index):
    inbound = layer.get("inbound_nodes") or []
    if inbound and isinstance(inbound[0], list) and inbound[0]:
        return inbound[0][0][0]
    if index > 0:  # Sequential: the previous layer
        return container_layers[index - 1]["config"]["name"]
    return None


def dense_after_flatten(config):
    """Names of Dense layers whose input is a Flatten's output, with that Flatten's name."""
    found = {}

    def walk(layers):
        for i, layer in enumerate(layers):
            if layer["class_name"] == "Dense":
                p = predecessor(layer, layers, i)
                prev = next((l for l in layers if l["config"]["name"] == p), None)
                if prev is not None and prev["class_name"] == "Flatten":
                    found[layer["config"]["name"]] = p
            inner = layer.get("config", {}).get("layers")
            if isinstance(inner, list):
                walk(inner)

    walk(config["config"]["layers"])
    return found


def chunked_attribute(group, name):
    """A Keras HDF5 list attribute, joined from its chunks (`name0`, `name1`, ...) when Keras split
    it to stay under HDF5's 64 KB attribute limit (tf_keras hdf5_format.load_attributes_from_hdf5_group)."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def keras_weights(path):
    """[(module, layer name, variable, array)] from a Keras 2 full-model .h5, read with h5py."""
    out = []
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        weights = f["model_weights"]
        for top in chunked_attribute(weights, "layer_names"):
            group = weights[top]
            for name in chunked_attribute(group, "weight_names"):
                parts = name.split("/")
                layer = parts[0]
                module = top if layer == top else f"{top}.{layer}"
                variable = parts[-1].split(":")[0]
                out.append((module, layer, variable, np.array(group[name])))
    return config, out


def flatten_shapes(path, pairs):
    """Flatten name -> its input shape (H, W, C), from the model loaded in tf_keras."""
    if not pairs:
        return {}
    import tf_keras

    model = tf_keras.models.load_model(path, compile=False)
    shapes = {}

    def find(m, name):
        for layer in m.layers:
            if layer.name == name:
                return layer
            if hasattr(layer, "layers"):
                hit = find(layer, name)
                if hit is not None:
                    return hit
        return None

    for flatten in set(pairs.values()):
        layer = find(model, flatten)
        shapes[flatten] = tuple(layer.input_shape[1:])
    return shapes


def expected_tensor(cls, variable, value, row_shape):
    r = value.ndim
    if variable in ("kernel", "depthwise_kernel", "pointwise_kernel") and cls.startswith(("Conv", "Separable", "Depthwise")):
        if variable == "depthwise_kernel" or cls.startswith("Depthwise"):
            moved = np.transpose(value, (r - 2, r - 1, *range(r - 2)))
            return moved.reshape(value.shape[r - 2] * value.shape[r - 1], 1, *value.shape[: r - 2])
        return np.transpose(value, (r - 1, r - 2, *range(r - 2)))  # conv (out, in, k) and transposed (in, out, k)
    if cls == "Dense" and variable == "kernel":
        if row_shape is not None and len(row_shape) >= 2:
            spatial, channels = row_shape[:-1], row_shape[-1]
            n = len(row_shape)
            value = value.reshape(*row_shape, value.shape[1]).transpose(n - 1, *range(n - 1), n).reshape(value.shape[0], value.shape[1])
        return value.T
    return value


def torch_key(cls, module, variable):
    if cls.startswith("Separable"):
        return {"depthwise_kernel": f"{module}.depthwise.weight", "pointwise_kernel": f"{module}.pointwise.weight",
                "bias": f"{module}.pointwise.bias"}.get(variable, f"{module}.{variable}")
    if cls == "BatchNormalization":
        return {"gamma": f"{module}.weight", "beta": f"{module}.bias", "moving_mean": f"{module}.running_mean",
                "moving_variance": f"{module}.running_var"}[variable]
    if variable in ("kernel", "depthwise_kernel"):
        return f"{module}.weight"
    return f"{module}.{variable}"


def check_safetensors(path, h5_path):
    from safetensors.numpy import load_file

    tensors = load_file(path)
    config, weights = keras_weights(h5_path)
    classes = layer_classes(config)
    pairs = dense_after_flatten(config)
    shapes = flatten_shapes(h5_path, pairs)
    seen = set()
    for module, layer, variable, value in weights:
        cls = classes[layer][0]
        key = torch_key(cls, module, variable)
        if key not in tensors:
            return False, f"{key} (from {layer}/{variable}) is missing"
        row_shape = shapes.get(pairs.get(layer)) if cls == "Dense" else None
        want = expected_tensor(cls, variable, value, row_shape)
        got = tensors[key]
        if got.shape != want.shape or got.dtype != want.dtype or not np.array_equal(got, want):
            return False, f"{key}: {got.dtype}{list(got.shape)} differs from Keras {layer}/{variable} {want.dtype}{list(want.shape)} under the documented transpose"
        seen.add(key)
        if cls == "BatchNormalization" and variable == "moving_mean":
            tracked = tensors.get(f"{module}.num_batches_tracked")
            if tracked is None or tracked.dtype != np.int64 or tracked.shape != () or int(tracked) != 0:
                return False, f"{module}.num_batches_tracked missing or not int64 0"
            seen.add(f"{module}.num_batches_tracked")
    extra = set(tensors) - seen
    # A BN with scale/center False has ones/zeros bnconv adds; anything else is unexpected.
    extra = {k for k in extra if not k.endswith((".weight", ".bias")) or classes.get(k.split(".")[-2], ("",))[0] != "BatchNormalization"}
    if extra:
        return False, f"unexpected tensors: {sorted(extra)[:5]}"
    return True, f"{len(seen)} tensors equal to Keras's under the documented transposes"


def rows(bnconv, fixtures, only=None, out_dir=None):
    """The check rows: (name, ok or None for a skip, detail)."""
    out_dir = out_dir or tempfile.mkdtemp(prefix="bnconv-export-")
    result = []
    root = os.path.join(fixtures, "keras")
    for case in sorted(os.listdir(root)):
        case_dir = os.path.join(root, case)
        if only and only not in case or not os.path.exists(os.path.join(case_dir, "input.npy")):
            continue
        x = np.load(os.path.join(case_dir, "input.npy"))
        tolerance = HALF_TOLERANCE.get(case, 1e-5)
        for name, ref_name in ONNX_FILES:
            src, ref_path = os.path.join(case_dir, name), os.path.join(case_dir, ref_name)
            if not (os.path.exists(src) and os.path.exists(ref_path)):
                continue
            reference = np.load(ref_path)
            for variant, flags in ONNX_VARIANTS:
                dst = os.path.join(out_dir, f"{case}-{name.replace('.', '_')}-{variant}.onnx")
                label = f"export/{case}/{name} -> onnx ({variant})"
                rc, summary, err = convert(bnconv, src, dst, flags)
                if rc == 1 and "cannot be exported to ONNX" in err:
                    result.append((label, None, err.splitlines()[-1][:160]))
                    continue
                if rc != 0 or summary is None:
                    result.append((label, False, f"bnconv convert exit {rc}: {err.splitlines()[-1] if err else ''}"[:200]))
                    continue
                try:
                    ok, detail = check_onnx(dst, summary, x, reference, tolerance)
                except Exception as error:  # a checker or runtime refusal is a failure with its message
                    ok, detail = False, f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
                if ok and variant == "fold" and case == "conv_bn_flatten_dense" and "BN 0" not in detail:
                    ok, detail = False, "BN left after --fold: " + detail
                if ok and variant == "plain" and case == "conv_bn_flatten_dense" and "Transpose 0" not in detail:
                    ok, detail = False, "a Transpose before the Gemm: " + detail
                result.append((label, ok, detail))
        h5 = os.path.join(case_dir, "keras2.h5")
        if os.path.exists(h5):
            dst = os.path.join(out_dir, f"{case}.safetensors")
            label = f"export/{case}/keras2.h5 -> safetensors"
            rc, summary, err = convert(bnconv, h5, dst)
            if rc != 0:
                result.append((label, False, f"bnconv convert exit {rc}: {err.splitlines()[-1] if err else ''}"[:200]))
                continue
            try:
                ok, detail = check_safetensors(dst, h5)
            except Exception as error:
                ok, detail = False, f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
            result.append((label, ok, detail))
    # GraphDef fixtures: exported ONNX vs TensorFlow's recorded output.npy.
    tf_root = os.path.join(fixtures, "tensorflow")
    for case in sorted(os.listdir(tf_root)) if os.path.isdir(tf_root) else []:
        case_dir = os.path.join(tf_root, case)
        paths = [os.path.join(case_dir, f) for f in ("graph.pb", "input.npy", "output.npy")]
        if only and only not in case or not all(os.path.exists(p) for p in paths):
            continue
        x, reference = np.load(paths[1]), np.load(paths[2])
        tolerance = 5e-3 if ("float16" in case or "mixed" in case) else 1e-5
        for variant, flags in ONNX_VARIANTS[:2]:
            dst = os.path.join(out_dir, f"tf-{case}-{variant}.onnx")
            label = f"export/tensorflow/{case} -> onnx ({variant})"
            rc, summary, err = convert(bnconv, paths[0], dst, flags)
            if rc == 1 and "cannot be exported to ONNX" in err:
                result.append((label, None, err.splitlines()[-1][:160]))
                continue
            if rc != 0 or summary is None:
                result.append((label, False, f"bnconv convert exit {rc}: {err.splitlines()[-1] if err else ''}"[:200]))
                continue
            try:
                ok, detail = check_onnx(dst, summary, x, reference, tolerance)
            except Exception as error:
                ok, detail = False, f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
            result.append((label, ok, detail))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--only", help="run only cases whose name contains this")
    args = ap.parse_args()
    out_dir = tempfile.mkdtemp(prefix="bnconv-export-")
    table = rows(os.path.abspath(args.bnconv), args.fixtures, args.only, out_dir)
    width = max((len(r[0]) for r in table), default=10)
    for name, ok, detail in table:
        print(f"{'SKIP' if ok is None else 'PASS' if ok else 'FAIL'}  {name:<{width}}  {detail}")
    passed = sum(1 for r in table if r[1])
    failed = sum(1 for r in table if r[1] is False)
    skipped = sum(1 for r in table if r[1] is None)
    print(f"outputs in {out_dir}")
    print(f"{skipped} skipped (layers bnconv refuses to export)")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
