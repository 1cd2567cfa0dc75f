#!/usr/bin/env python3
"""Load a Keras checkpoint written by bnconv in the real Keras that wrote its flavour, run it on
INPUT.npy and compare with EXPECTED.npy (recorded from the original model).

usage: check_keras_load.py FILE EXPECTED.npy INPUT.npy [--config MODEL.json] [--atol A] [--rtol R]

Which Keras: the file's own version (root attribute `keras_version` of a .h5, metadata.json of a
.keras; for weights-only files the config's `keras_version`, else keras 3 for `.weights.h5`).
Prints one line `OK <file>: max abs diff ...` (exit 0) or `FAIL <file>: ...` (exit 1).
Run with the pinned venv: /root/.cache/bnconv/venv/bin/python tools/interop/check_keras_load.py ...
"""
import argparse
import json
import os
import sys
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def keras_major(path, config):
    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as z:
            return int(json.loads(z.read("metadata.json"))["keras_version"].split(".")[0])
    import h5py
    with h5py.File(path, "r") as f:
        version = f.attrs.get("keras_version")
        if version is None and "model_weights" in f:
            version = f["model_weights"].attrs.get("keras_version")
    if isinstance(version, bytes):
        version = version.decode()
    if version:
        return int(str(version).split(".")[0])
    if config:
        with open(config) as f:
            version = json.load(f).get("keras_version")
        if version:
            return int(version.split(".")[0])
    return 3


def load(path, config):
    major = keras_major(path, config)
    if major >= 3:
        import keras as K
    else:
        import tf_keras as K
    weights_only = path.endswith(".weights.h5") or (path.endswith(".h5") and not _has_model_config(path))
    if weights_only:
        if not config:
            raise SystemExit(f"FAIL {path}: a weights-only file needs --config")
        with open(config) as f:
            model = K.models.model_from_json(f.read())
        model.load_weights(path)
        return model, major
    return K.models.load_model(path, compile=False), major


def _has_model_config(path):
    import h5py
    with h5py.File(path, "r") as f:
        return "model_config" in f.attrs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("expected")
    parser.add_argument("input")
    parser.add_argument("--config")
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()
    import numpy as np
    try:
        model, major = load(args.file, args.config)
    except Exception as e:  # noqa: BLE001 - report any load failure as one line
        print(f"FAIL {args.file}: Keras could not load it: {type(e).__name__}: {e}".replace("\n", " "))
        return 1
    x = np.load(args.input)
    expected = np.load(args.expected)
    y = np.asarray(model.predict(x, verbose=0))
    if y.shape != expected.shape:
        print(f"FAIL {args.file}: output shape {y.shape} != expected {expected.shape}")
        return 1
    diff = float(np.max(np.abs(y.astype(np.float64) - expected.astype(np.float64)))) if y.size else 0.0
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    rel = diff / scale if scale > 0 else diff
    ok = np.allclose(y, expected, atol=args.atol, rtol=args.rtol)
    layers = len(model.layers)
    print(f"{'OK' if ok else 'FAIL'} {args.file}: keras {major}, {layers} layers, max abs diff {diff:.3g} "
          f"(max |expected| {scale:.3g}, relative {rel:.2e}) "
          f"(atol {args.atol}, rtol {args.rtol})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
