#!/usr/bin/env python3
"""Checks a Keras file `bnconv recalibrate` wrote: loads it in the real Keras of its flavour, compares
its inference output with the engine's output of the same file, and (optionally) each BN's
moving_mean / moving_variance variables with what Keras itself stored in a recorded reference.

usage: check_recalibrated.py FLAVOUR MODEL INPUT.npy ENGINE_OUT.npy [--config ARCH.json]
                             [--reference recal_momentum_<flavour>.json] [--tolerance 1e-5]

FLAVOUR is keras2 (tf_keras) or keras3. Passes when max|keras - engine| <= tol x max|engine| and every
recorded statistic is within tol x max|reference| of the loaded variable. Exits 0 on pass.
"""
import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np


def all_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from all_layers(layer)
        else:
            yield layer


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("flavour", choices=["keras2", "keras3"])
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("engine_out")
    ap.add_argument("--config")
    ap.add_argument("--reference")
    ap.add_argument("--tolerance", type=float, default=1e-5)
    args = ap.parse_args()
    if args.flavour == "keras2":
        import tf_keras as K
    else:
        import keras as K
    if args.config:
        with open(args.config) as f:
            model = K.models.model_from_json(f.read())
        model.load_weights(args.model)
    else:
        model = K.models.load_model(args.model, compile=False)
    y = np.asarray(model.predict(np.load(args.input), verbose=0), dtype=np.float64)
    ref = np.load(args.engine_out).astype(np.float64)
    if y.shape != ref.shape:
        print(f"FAIL: output shape {y.shape} != engine {ref.shape}")
        return 1
    out_err = float(np.max(np.abs(y - ref)) / max(np.max(np.abs(ref)), 1e-30))
    stat_err = 0.0
    checked = 0
    if args.reference:
        recorded = json.load(open(args.reference))["batch_norms"]
        layers = {l.name: l for l in all_layers(model)}
        for name, entry in recorded.items():
            layer = layers[name]
            for key in ("moving_mean", "moving_variance"):
                got = np.asarray(getattr(layer, key).numpy(), dtype=np.float64)
                want = np.asarray(entry[key], dtype=np.float64)
                stat_err = max(stat_err, float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30)))
                checked += 1
    ok = out_err <= args.tolerance and stat_err <= args.tolerance
    stats = f"; {checked} statistics vs Keras's own record max rel {stat_err:.1e}" if args.reference else ""
    print(f"{'PASS' if ok else 'FAIL'}: {args.flavour} loads it; output vs engine max rel {out_err:.1e} (tol {args.tolerance:.0e}){stats}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
