#!/usr/bin/env python3
"""Times `bnconv fold` on a ResNet-50 frozen GraphDef against TensorFlow's optimize_for_inference
(which folds BN too) on the same file, in one run, and checks both results against TensorFlow's
output of the original. A benchmark, not a test; the graph is generated on demand (tf_keras
ResNet50, weights=None, BN statistics randomized, frozen with convert_variables_to_constants_v2)
into $BNCONV_BENCH_DIR (default bench-out/), never into git.

    python tools/bench/graphdef_bench.py --bnconv .build/release/bnconv [--repeat 5]

Two figures for optimize_for_inference: the command users run (a process that imports TensorFlow)
and the library call alone, timed in-process after the import; bnconv is always a whole process.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import wall  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def make_graph(path, input_path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    from fold_bench import randomized_resnet50  # same directory (the caller puts it on sys.path)
    rng = np.random.default_rng(50)
    model = randomized_resnet50(rng)
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([None, 224, 224, 3], tf.float32, name="input"))
    frozen = convert_variables_to_constants_v2(fn)
    with open(path, "wb") as f:
        f.write(frozen.graph.as_graph_def().SerializeToString())
    np.save(input_path, rng.normal(0, 1, (1, 224, 224, 3)).astype(np.float32))


OFI = """
import sys, time, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
from tensorflow.python.tools import optimize_for_inference_lib
src, dst = sys.argv[1], sys.argv[2]
start = time.perf_counter()
gd = tf.compat.v1.GraphDef()
with open(src, "rb") as f:
    gd.ParseFromString(f.read())
out = optimize_for_inference_lib.optimize_for_inference(gd, ["input"], ["Identity"], tf.float32.as_datatype_enum)
with open(dst, "wb") as f:
    f.write(out.SerializeToString())
print(time.perf_counter() - start)
"""

CHECK = """
import sys, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf
def run(path, x):
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(open(path, "rb").read())
    with tf.Graph().as_default() as g:
        tf.graph_util.import_graph_def(gd, name="")
        ops = [n.op for n in gd.node]
        with tf.compat.v1.Session(graph=g) as s:
            return s.run("Identity:0", {"input:0": x}), ops.count("FusedBatchNormV3")
x = np.load(sys.argv[1])
ref, n0 = run(sys.argv[2], x)
for path in sys.argv[3:]:
    y, n = run(path, x)
    print(f"{os.path.basename(path)}: FusedBatchNormV3 {n0} -> {n}, max|y - ref| / max|ref| = {np.abs(y - ref).max() / np.abs(ref).max():.2e}")
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--dir", default=os.environ.get("BNCONV_BENCH_DIR", "bench-out"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    src = os.path.join(args.dir, "resnet50_frozen.pb")
    x = os.path.join(args.dir, "resnet50_input_b1.npy")
    if not os.path.exists(src) or not os.path.exists(x):
        print(f"generating {src} ...", flush=True)
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import graphdef_bench; "
                        f"graphdef_bench.make_graph({src!r}, {x!r})"], check=True)
    ofi_out = os.path.join(args.dir, "resnet50_frozen.ofi.pb")
    bn_out = os.path.join(args.dir, "resnet50_frozen.bnconv.pb")
    ofi_process, ofi_call = [], []
    for _ in range(args.repeat):
        t, out = wall([sys.executable, "-c", OFI, src, ofi_out])
        ofi_process.append(t)
        ofi_call.append(float(out.strip().splitlines()[-1]))
    fold_nv = [wall([args.bnconv, "fold", src, "-o", bn_out, "--no-verify", "-q"])[0] for _ in range(args.repeat)]
    fold_v = [wall([args.bnconv, "fold", src, "-o", bn_out, "-q"])[0] for _ in range(args.repeat)]
    med = statistics.median
    print(f"ResNet-50 frozen GraphDef: {os.path.getsize(src) / 1e6:.1f} MB, median of {args.repeat} runs")
    print(f"  optimize_for_inference, whole process (imports TensorFlow): {med(ofi_process):.3f} s")
    print(f"  optimize_for_inference, library call only (after import):  {med(ofi_call):.3f} s")
    print(f"  bnconv fold --no-verify (whole process):                    {med(fold_nv):.3f} s"
          f"  -> {med(fold_nv) / med(ofi_process):.2f}x process, {med(fold_nv) / med(ofi_call):.2f}x call (target <= 0.5x)")
    print(f"  bnconv fold, verified on 2 random batches (whole process):  {med(fold_v):.3f} s")
    _, report = wall([sys.executable, "-c", CHECK, x, src, ofi_out, bn_out])
    print("  " + report.strip().replace("\n", "\n  "))


if __name__ == "__main__":
    main()
