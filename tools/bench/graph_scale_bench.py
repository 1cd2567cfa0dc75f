"""Graph size scaling: time and peak RSS of bnconv on chains of 10,000, 100,000 and 1,000,000
nodes (ONNX Relu chains, GraphDef Identity chains, GraphDef NoOps), to show that reading,
planning and writing are linear in the nodes (issue #21: the chains took minutes, quadratically).

    python3 tools/bench/graph_scale_bench.py --bnconv .build/release/bnconv [--sizes 10000,100000,1000000]

Standard library only (the graphs are written by tools/attack/wire.py); needs GNU time
(/usr/bin/time) for the peak RSS. Prints one row per file and command. A benchmark, not a test.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "attack"))
from wire import onnx_model, relu_chain, tf_attr, tf_node, tf_placeholder, vi  # noqa: E402


def graphs(n):
    yield f"onnx-relu-{n}.onnx", onnx_model(relu_chain(n))
    yield f"graphdef-identity-{n}.pb", tf_placeholder("x", [1, 4]) + b"".join(
        tf_node(f"i{k}", "Identity", [f"i{k - 1}" if k else "x"], tf_attr("T", vi(6, 1))) for k in range(n))
    yield f"graphdef-noop-{n}.pb", tf_placeholder("x", [1, 4]) + b"".join(tf_node(f"n{k}", "NoOp") for k in range(n))


def measure(bnconv, argv):
    with tempfile.NamedTemporaryFile() as rss:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, bnconv] + argv, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak = int(open(rss.name).read().split()[-1]) // 1024
    return proc.returncode, seconds, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="graph-scale-")
    print(f"{'file':28} {'nodes':>9} {'command':18} {'status':>6} {'seconds':>8} {'peak MB':>8} {'us/node':>8}")
    for n in (int(x) for x in args.sizes.split(",")):
        for name, data in graphs(n):
            path = os.path.join(work, name)
            with open(path, "wb") as f:
                f.write(data)
            out = os.path.join(work, "out" + os.path.splitext(name)[1])
            for label, argv in [("inspect", ["inspect", path]), ("fold --no-verify", ["fold", path, "--no-verify", "-o", out]),
                                ("run", ["run", path])]:
                status, seconds, peak = measure(args.bnconv, argv)
                print(f"{name:28} {n:9} {label:18} {status:6} {seconds:8.2f} {peak:8} {seconds / n * 1e6:8.1f}", flush=True)
            os.remove(path)


if __name__ == "__main__":
    main()
