#!/usr/bin/env python3
"""The baseline bnconv's fold is timed against: a plain h5py + numpy fold of a Keras 2 `.h5`.

    python tools/bench/h5py_fold.py IN.h5 OUT.h5

Folds every BatchNormalization whose only input is a Conv2D/Dense output read by nothing else
(the usual conv -> BN pattern), rewrites model_config (BN layers removed, consumers rewired,
use_bias true), and writes a new file with h5py. No verification, no edge cases: the minimum a
hand-written script does, so the comparison is fair to the script.
"""
import json
import sys

import h5py
import numpy as np


def main(src, dst):
    with h5py.File(src, "r") as f:
        config = json.loads(f.attrs["model_config"])
        layers = config["config"]["layers"]
        by_name = {l["name"]: l for l in layers}
        consumers = {}
        for l in layers:
            for node in l.get("inbound_nodes", []):
                for inbound in node:
                    consumers.setdefault(inbound[0], []).append(l["name"])
        mw = f["model_weights"]
        weights = {}
        for name in [n.decode() if isinstance(n, bytes) else n for n in mw.attrs["layer_names"]]:
            g = mw[name]
            names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
            weights[name] = [(n, g[n][()]) for n in names]
        folds = {}
        for l in layers:
            if l["class_name"] != "BatchNormalization" or not l["inbound_nodes"]:
                continue
            src_name = l["inbound_nodes"][0][0][0]
            producer = by_name[src_name]
            if producer["class_name"] not in ("Conv2D", "Dense") or consumers.get(src_name) != [l["name"]]:
                continue
            cfg = l["config"]
            w = dict((n.split("/")[-1].split(":")[0], v) for n, v in weights[l["name"]])
            gamma = w.get("gamma", 1.0)
            beta = w.get("beta", 0.0)
            s = gamma / np.sqrt(w["moving_variance"].astype(np.float64) + cfg["epsilon"])
            pw = weights[src_name]
            kernel = pw[0][1].astype(np.float64) * s
            bias = pw[1][1].astype(np.float64) if len(pw) > 1 else 0.0
            bias = (bias - w["moving_mean"]) * s + beta
            kname = pw[0][0]
            bname = kname.rsplit("/", 1)[0] + "/bias:0"
            weights[src_name] = [(kname, kernel.astype(np.float32)), (bname, bias.astype(np.float32))]
            producer["config"]["use_bias"] = True
            folds[l["name"]] = src_name
        kept = [l for l in layers if l["name"] not in folds]
        for l in kept:
            for node in l.get("inbound_nodes", []):
                for inbound in node:
                    while inbound[0] in folds:
                        inbound[0] = folds[inbound[0]]
        for out in config["config"]["output_layers"]:
            while out[0] in folds:
                out[0] = folds[out[0]]
        config["config"]["layers"] = kept
        with h5py.File(dst, "w") as g:
            for k, v in f.attrs.items():
                g.attrs[k] = v
            g.attrs["model_config"] = json.dumps(config).encode("utf8")
            gw = g.create_group("model_weights")
            for k, v in mw.attrs.items():
                gw.attrs[k] = v
            names = [l["name"] for l in kept]
            gw.attrs["layer_names"] = [n.encode("utf8") for n in names]
            for name in names + ["top_level_model_weights"]:
                group = gw.create_group(name)
                pairs = weights.get(name, [])
                group.attrs["weight_names"] = [n.encode("utf8") for n, _ in pairs]
                for n, v in pairs:
                    group.create_dataset(n, data=v)
    print(f"folded {len(folds)} BatchNorms")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
