#!/usr/bin/env python3
"""Loads a GraphDef with TensorFlow itself, runs it on INPUT.npy and compares with EXPECTED.npy.

    /root/.cache/bnconv/venv/bin/python tools/interop/check_graphdef.py GRAPH.pb INPUT.npy EXPECTED.npy \
        [--input-name input:0] [--output-name Identity:0] [--atol A] [--rtol R] [--nchw-input] [--nchw-output]
        [--input-perm 0,2,1] [--output-perm 0,2,1] [--feed training:0=true]...

The graph is imported with tf.graph_util.import_graph_def and run in a tf.compat.v1.Session, so
TensorFlow validates every node, input and attribute. Prints the op counts that matter for BN
folding and the error statistics; exits 0 when allclose(actual, expected, rtol, atol) holds, 1 when
the numbers differ, 2 when TensorFlow refuses the graph, 3 when TensorFlow's CPU kernels refuse a
channels-first (NCHW) op (printed as 'refused by TensorFlow on CPU: ...'). For a graph converted
with `bnconv convert --layout nchw`, --nchw-input transposes the (channels-last) INPUT.npy to NCHW
and --nchw-output transposes a 4-D output back to NHWC before comparing; --input-perm / --output-perm
give the permutations exactly (what `bnconv convert --json` reports as inputPermutations /
outputPermutations: source -> converted; the output is transposed back by the inverse), for 3-D
graphs and for outputs that did not change layout. --feed NAME=VALUE feeds another tensor a scalar
(true / false, or a number): a `tf.cond`'s `training` PlaceholderWithDefault fed true runs the
branch bnconv does not. Default tolerance: 1e-4 (rtol and atol);
a graph that computes in half precision (an op with T = half or bfloat16) gets atol
4e-3 x max|expected| and rtol 1e-2, since a fold rounds its weights to half once more.
"""
import argparse
import collections
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np


class QuietStderr:
    """Silences file descriptor 2 (TensorFlow's C++ start-up chatter) inside a with block."""

    def __enter__(self):
        sys.stderr.flush()
        self.saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        return False


with QuietStderr():
    import tensorflow as tf

# TensorFlow's messages when a CPU kernel has no NCHW implementation.
CPU_NCHW_REFUSAL = re.compile(r"only support\w* (the |for )?NHWC|NHWC tensor format for now|(CPU|cpu).*NCHW|NCHW.*(CPU|cpu)"
                              r"|data_format=NCHW|Tensor format .*NCHW.*not supported")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("graph")
    ap.add_argument("input")
    ap.add_argument("expected")
    ap.add_argument("--input-name", default="input:0")
    ap.add_argument("--output-name", default="Identity:0")
    ap.add_argument("--atol", type=float)
    ap.add_argument("--rtol", type=float)
    ap.add_argument("--nchw-input", action="store_true", help="feed INPUT.npy transposed NHWC -> NCHW")
    ap.add_argument("--nchw-output", action="store_true", help="transpose a 4-D output NCHW -> NHWC before comparing")
    ap.add_argument("--input-perm", help="comma-separated permutation applied to INPUT.npy (source -> converted)")
    ap.add_argument("--output-perm", help="comma-separated permutation from the expected to the actual output (its inverse is applied)")
    ap.add_argument("--feed", action="append", default=[], metavar="NAME=VALUE",
                    help="also feed tensor NAME the scalar VALUE (true, false or a number); repeatable")
    args = ap.parse_args()

    graph_def = tf.compat.v1.GraphDef()
    with open(args.graph, "rb") as f:
        graph_def.ParseFromString(f.read())
    counts = collections.Counter(n.op for n in graph_def.node)
    bn_ops = {k: v for k, v in counts.items() if k.startswith("FusedBatchNorm") or k in ("Rsqrt", "BiasAdd")}
    x = np.load(args.input)
    if args.input_perm:
        x = np.transpose(x, [int(a) for a in args.input_perm.split(",")])
    elif args.nchw_input and x.ndim == 4:
        x = np.transpose(x, (0, 3, 1, 2))
    expected = np.load(args.expected)
    try:
        with QuietStderr(), tf.Graph().as_default() as g:
            tf.graph_util.import_graph_def(graph_def, name="")
            with tf.compat.v1.Session(graph=g) as sess:
                feeds = {args.input_name: x}
                for item in args.feed:
                    name, value = item.split("=", 1)
                    feeds[name] = value.lower() == "true" if value.lower() in ("true", "false") else float(value)
                actual = sess.run(args.output_name, feeds)
    except Exception as e:  # TensorFlow refused the graph
        message = " ".join(str(e).split())
        if CPU_NCHW_REFUSAL.search(message):
            print(f"{args.graph}: refused by TensorFlow on CPU: {type(e).__name__}: {message[:240]}")
            return 3
        print(f"{args.graph}: TensorFlow refused the graph: {type(e).__name__}: {str(e).splitlines()[0]}")
        return 2
    if args.output_perm:
        actual = np.transpose(actual, np.argsort([int(a) for a in args.output_perm.split(",")]))
    elif args.nchw_output and actual.ndim == 4:
        actual = np.transpose(actual, (0, 2, 3, 1))
    half_types = {tf.float16.as_datatype_enum, tf.bfloat16.as_datatype_enum}
    computes_in_half = any(n.attr["T"].type in half_types for n in graph_def.node if "T" in n.attr)
    scale = float(np.abs(expected).max()) if expected.size else 1.0
    atol = args.atol if args.atol is not None else (4e-3 * scale if computes_in_half else 1e-4)
    rtol = args.rtol if args.rtol is not None else (1e-2 if computes_in_half else 1e-4)
    if actual.shape != expected.shape:
        print(f"{args.graph}: output shape {actual.shape} != expected {expected.shape}")
        return 1
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    rel = diff / np.maximum(np.abs(expected.astype(np.float64)), 1e-12)
    ok = np.allclose(actual, expected, rtol=rtol, atol=atol)
    print(f"{args.graph}: {len(graph_def.node)} nodes {dict(sorted(bn_ops.items()))}; output {actual.shape}; "
          f"max abs err {diff.max():.3g}, max rel err {rel.max():.3g} (atol {atol:.2g}, rtol {rtol:.2g}"
          f"{', half precision' if computes_in_half else ''}): {'OK' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
