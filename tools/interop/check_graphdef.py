#!/usr/bin/env python3
"""Loads a GraphDef with TensorFlow itself, runs it on INPUT.npy and compares with EXPECTED.npy.

    /root/.cache/bnconv/venv/bin/python tools/interop/check_graphdef.py GRAPH.pb INPUT.npy EXPECTED.npy \
        [--input input:0] [--output Identity:0] [--atol 1e-4] [--rtol 1e-4]

The graph is imported with tf.graph_util.import_graph_def and run in a tf.compat.v1.Session, so
TensorFlow validates every node, input and attribute. Prints the op counts that matter for BN
folding and the error statistics; exits 0 when allclose(actual, expected, rtol, atol) holds, 1 when
the numbers differ, 2 when TensorFlow refuses the graph.
"""
import argparse
import collections
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("graph")
    ap.add_argument("input")
    ap.add_argument("expected")
    ap.add_argument("--input-name", default="input:0")
    ap.add_argument("--output-name", default="Identity:0")
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--rtol", type=float, default=1e-4)
    args = ap.parse_args()

    graph_def = tf.compat.v1.GraphDef()
    with open(args.graph, "rb") as f:
        graph_def.ParseFromString(f.read())
    counts = collections.Counter(n.op for n in graph_def.node)
    bn_ops = {k: v for k, v in counts.items() if k.startswith("FusedBatchNorm") or k in ("Rsqrt", "BiasAdd")}
    x = np.load(args.input)
    expected = np.load(args.expected)
    try:
        with tf.Graph().as_default() as g:
            tf.graph_util.import_graph_def(graph_def, name="")
            with tf.compat.v1.Session(graph=g) as sess:
                actual = sess.run(args.output_name, {args.input_name: x})
    except Exception as e:  # TensorFlow refused the graph
        print(f"{args.graph}: TensorFlow refused the graph: {type(e).__name__}: {str(e).splitlines()[0]}")
        return 2
    if actual.shape != expected.shape:
        print(f"{args.graph}: output shape {actual.shape} != expected {expected.shape}")
        return 1
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    rel = diff / np.maximum(np.abs(expected.astype(np.float64)), 1e-12)
    ok = np.allclose(actual, expected, rtol=args.rtol, atol=args.atol)
    print(f"{args.graph}: {len(graph_def.node)} nodes {dict(sorted(bn_ops.items()))}; output {actual.shape}; "
          f"max abs err {diff.max():.3g}, max rel err {rel.max():.3g}: {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
