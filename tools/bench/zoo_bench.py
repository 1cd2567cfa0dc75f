#!/usr/bin/env python3
"""`bnconv run` against onnxruntime and TensorFlow on Keras-applications models (issue #20), side by side
in one run, rounds alternated. A benchmark, not a test: it asserts nothing about speed.

    python tools/bench/zoo_bench.py [--bnconv .build/release/bnconv] [--models resnet50,mobilenetv2]
        [--batches 1,8] [--rounds 5] [--runs 10] [--json zoo.json] [--openblas-coretype auto]

Models (tf_keras applications, weights=None, every BatchNormalization given random gamma, beta, moving
mean and variance by common.randomize_batch_norms): resnet50, mobilenetv2 (alpha 1.0), densenet121,
efficientnetb0 and mobilenetv3small (hard-swish) at 224x224, and mobilenetv2-0.35-96 (alpha 0.35 at
96x96, the small-model case). `--models` picks a subset (comma-separated keys).

Files, built once into $BNCONV_BENCH_DIR/zoo (default bench-out/zoo, gitignored; `--dir` to change,
`--rebuild` to make them again), per model STEM (e.g. resnet50-224):
  STEM.h5    the tf_keras model saved as a Keras 2 HDF5 file;
  STEM.pb    the frozen GraphDef (NHWC): tf.function(model(x, training=False)) over a [None, H, W, 3]
             input frozen by convert_variables_to_constants_v2 (as tools/interop/efficientnet.py does);
  STEM.onnx  bnconv's own ONNX export, made by exactly
                 bnconv convert STEM.h5 -o STEM.onnx --json
             (no --fold: the BatchNorms stay BatchNormalization nodes; no --inputs-as-nhwc: the
             interface is NCHW, the permutation read from the command's `inputPermutations`);
  STEM.ref_x.npy / STEM.ref_y.npy  a seeded NHWC batch of 2 and tf_keras' prediction on it;
  STEM.meta.json  the graph's input/output tensor names and the export command and permutations.
Before timing, onnxruntime on each .onnx and TensorFlow on each .pb must agree with tf_keras on the
reference batch (range-relative error <= 1e-5, input and output transposed as the export says); the
bench stops with a message naming the file if not.

Timing. Each round runs, for every model and batch: onnxruntime 1.32 (intra_op_num_threads 2, default
graph optimizations) on the .onnx, `bnconv run STEM.onnx --input x.npy -o y.npy --time --runs N --quiet`,
TensorFlow 2.21 on the .pb (the GraphDef imported into a tf.Graph, run by a tf.compat.v1.Session with
inter- and intra-op threads 2 through Session.make_callable: in a side-by-side try on ResNet-50 and
MobileNetV2 it was as fast at batch 8 as a tf.compat.v1.wrap_function of the same GraphDef and faster
at batch 1), and `bnconv run STEM.pb ...`; even rounds run the peer first, odd rounds bnconv first.
Each peer is one long-lived worker process (this script with --worker) that keeps its sessions across
rounds and, per request, does one warm-up run and N timed runs; `bnconv run --time` does one warm-up
and N timed runs in its own process and its `median X ms` line is parsed. Each round's figure is the
median of its N runs (upper median, as bnconv's); the table gives the median over rounds. Inputs are
seeded random batches, the same numbers for every engine (NHWC for the .pb, the .onnx's declared NCHW
for the .onnx). Every round bnconv's output is compared with the peer's:
max|bnconv - peer| / (max(peer) - min(peer)); rows above 1e-5 are marked. A bnconv or peer failure is
printed in its row (the errors in full below the table) and the bench carries on; so is a model bnconv
cannot export to ONNX (its .onnx rows name the failed `bnconv convert`; its .pb rows still run).

Peak RSS: one `bnconv run FILE --input x.npy --time --runs 1 --quiet` per model and file at the first
--batches size (1 by default), measured by common.measure (os.wait4) from a small child process, so that
this script's own pages do not count.

Output: markdown tables on stdout: per model, file and batch the peer's and bnconv's milliseconds, the
ratio bnconv / peer and the error; per model and batch bnconv's ratio against the faster of the two peers
(issue #20's goal: within 1.2x, aiming at 1.0x); the peak RSS. `--json FILE` also saves every round.

`bnconv run` multiplies with OpenBLAS, which honours OPENBLAS_CORETYPE: `--openblas-coretype auto` runs
bnconv without the variable, NAME sets it (see tools/bench/onnx_bench.py); the kernel set is printed.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from common import openblas_env, randomize_batch_norms  # noqa: E402  (shared with fold_bench.py)

TOL = 1e-5

# key: (file stem, display name, tf_keras.applications function, its keyword arguments, image size,
#       input value range: [0, 255] for models that rescale their input themselves, else [-1, 1])
MODELS = {
    "resnet50": ("resnet50-224", "ResNet50", "ResNet50", {}, 224, (-1.0, 1.0)),
    "mobilenetv2": ("mobilenetv2-a1.0-224", "MobileNetV2 1.0", "MobileNetV2", {"alpha": 1.0}, 224, (-1.0, 1.0)),
    "densenet121": ("densenet121-224", "DenseNet121", "DenseNet121", {}, 224, (-1.0, 1.0)),
    "efficientnetb0": ("efficientnetb0-224", "EfficientNetB0", "EfficientNetB0", {}, 224, (0.0, 255.0)),
    "mobilenetv2-0.35-96": ("mobilenetv2-a0.35-96", "MobileNetV2 0.35 96px", "MobileNetV2", {"alpha": 0.35}, 96, (-1.0, 1.0)),
    "mobilenetv3small": ("mobilenetv3small-224", "MobileNetV3Small", "MobileNetV3Small", {}, 224, (0.0, 255.0)),
}


def seeded_input(key, batch, tag=0):
    """A seeded NHWC float32 batch for model `key` (the same numbers every run)."""
    import numpy as np
    _, _, _, _, size, (low, high) = MODELS[key]
    rng = np.random.default_rng(zlib.crc32(key.encode()) * 1000 + batch * 10 + tag)
    return rng.uniform(low, high, (batch, size, size, 3)).astype(np.float32)


def range_error(got, ref):
    """max|got - ref| / (max(ref) - min(ref)), in float64."""
    import numpy as np
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got.shape != ref.shape:
        return float("inf")
    span = float(ref.max() - ref.min())
    return float(np.abs(got - ref).max()) / max(span, 1e-30)


def paths(d, key):
    stem = MODELS[key][0]
    return {kind: os.path.join(d, stem + suffix) for kind, suffix in
            (("h5", ".h5"), ("pb", ".pb"), ("onnx", ".onnx"), ("meta", ".meta.json"),
             ("ref_x", ".ref_x.npy"), ("ref_y", ".ref_y.npy"))}


# ---------------------------------------------------------------------------------------------------
# Building the files (in a child process: TensorFlow stays out of the measuring process)

def build_models(d, keys):
    """Writes STEM.h5, STEM.pb, the reference batch and its tf_keras output, and STEM.meta.json."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf
    import tf_keras
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    for key in keys:
        stem, _, function, kwargs, size, _ = MODELS[key]
        p = paths(d, key)
        print(f"building {stem} (tf_keras {function}{kwargs or ''}, {size}x{size}) ...", flush=True)
        model = getattr(tf_keras.applications, function)(weights=None, input_shape=(size, size, 3), **kwargs)
        randomize_batch_norms(model, np.random.default_rng(zlib.crc32(key.encode())), tf_keras.layers.BatchNormalization)
        model.save(p["h5"])
        x = seeded_input(key, 2, tag=1)
        np.save(p["ref_x"], x)
        np.save(p["ref_y"], model.predict(x, verbose=0))
        fn = tf.function(lambda t: model(t, training=False)).get_concrete_function(
            tf.TensorSpec([None, size, size, 3], tf.float32, name="input"))
        frozen = convert_variables_to_constants_v2(fn)
        with open(p["pb"], "wb") as f:
            f.write(frozen.graph.as_graph_def().SerializeToString())
        meta = {"model": key, "keras": f"tf_keras.applications.{function}(weights=None, input_shape=({size}, {size}, 3)"
                + "".join(f", {k}={v!r}" for k, v in kwargs.items()) + ")",
                "graphInput": frozen.inputs[0].name, "graphOutput": frozen.outputs[0].name}
        with open(p["meta"], "w") as f:
            json.dump(meta, f, indent=1)


def export_onnx(bnconv, d, key):
    """bnconv's ONNX export of STEM.h5 (the command the docstring names); records it, or the error line
    it stopped with (then the model has no .onnx rows; the export is tried again next run), in the meta
    file."""
    p = paths(d, key)
    cmd = [bnconv, "convert", p["h5"], "-o", p["onnx"], "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    with open(p["meta"]) as f:
        meta = json.load(f)
    meta["onnxExport"] = " ".join(["bnconv"] + cmd[1:])
    meta.pop("onnxExportError", None)
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}").splitlines()
        meta["onnxExportError"] = lines[-1]
        print(f"  failed: {lines[-1]}", flush=True)
    else:
        summary = json.loads(proc.stdout)
        meta["inputPermutation"] = (summary.get("inputPermutations") or [None])[0]
        meta["outputPermutation"] = (summary.get("outputPermutations") or [None])[0]
    with open(p["meta"], "w") as f:
        json.dump(meta, f, indent=1)


# ---------------------------------------------------------------------------------------------------
# Peer workers: this script with --worker ort|tf, one JSON request per stdin line, one reply per line

def serve(kind):
    """Runs requests {"file", "input", "output", "runs", "meta"} until stdin closes; replies
    {"ms": median of the timed runs} or {"error": message}. Sessions are kept per file."""
    reply_to = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the replies
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    sessions = {}

    def open_ort(path, meta):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        return lambda x: sess.run(None, {name: x})[0]

    def open_tf(path, meta):
        import tensorflow as tf
        gd = tf.compat.v1.GraphDef()
        with open(path, "rb") as f:
            gd.ParseFromString(f.read())
        graph = tf.Graph()
        with graph.as_default():
            tf.import_graph_def(gd, name="")
        config = tf.compat.v1.ConfigProto(inter_op_parallelism_threads=2, intra_op_parallelism_threads=2)
        sess = tf.compat.v1.Session(graph=graph, config=config)
        return sess.make_callable(meta["graphOutput"], [meta["graphInput"]])

    opener = {"ort": open_ort, "tf": open_tf}[kind]
    for line in sys.stdin:
        request = json.loads(line)
        try:
            path = request["file"]
            if path not in sessions:
                sessions[path] = opener(path, request["meta"])
            run = sessions[path]
            x = np.load(request["input"])
            y = run(x)  # warm-up
            times = []
            for _ in range(request["runs"]):
                start = time.perf_counter()
                y = run(x)
                times.append((time.perf_counter() - start) * 1000)
            np.save(request["output"], np.asarray(y))
            reply = {"ms": sorted(times)[len(times) // 2]}
        except Exception as e:  # reported in the row; the worker serves the next request
            reply = {"error": f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"}
        reply_to.write(json.dumps(reply) + "\n")
        reply_to.flush()


class Worker:
    """A long-lived peer process (onnxruntime or TensorFlow); restarted if it dies."""

    def __init__(self, kind, log):
        self.kind, self.log, self.proc = kind, log, None
        open(log, "w").close()  # this run's log only; a restarted worker appends

    def request(self, **fields):
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", self.kind],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=open(self.log, "a"), text=True)
        try:
            self.proc.stdin.write(json.dumps(fields) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self.proc.wait()
            self.proc = None
            with open(self.log) as f:
                tail = f.read().strip().splitlines()[-1:] or [""]
            return {"error": f"{self.kind} worker exited ({tail[0]}; log {self.log})"}
        return json.loads(line)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()


# ---------------------------------------------------------------------------------------------------
# bnconv

def bnconv_run(bnconv, path, x, y, runs, env):
    """(median ms, OpenBLAS kernel set, None) or (None, None, error line) of one `bnconv run --time`."""
    cmd = [bnconv, "run", path, "--input", x, "-o", y, "--time", "--runs", str(runs), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}").splitlines()
        return None, None, lines[-1]
    median = re.search(r"median ([0-9.]+) ms", proc.stdout)
    if not median:
        return None, None, f"no `median X ms` in bnconv's output: {proc.stdout.strip()!r}"
    kernels = re.search(r"OpenBLAS (\w+)", proc.stdout)
    return float(median.group(1)), kernels.group(1) if kernels else None, None


MEASURE = """
import sys
sys.path.insert(0, sys.argv[1])
from common import measure
print(measure(sys.argv[2:])[1])
"""


def peak_rss(bnconv, path, x, env):
    """Peak RSS in bytes of `bnconv run --time --runs 1`, or the error line."""
    cmd = [bnconv, "run", path, "--input", x, "--time", "--runs", "1", "--quiet"]
    proc = subprocess.run([sys.executable, "-c", MEASURE, HERE, *cmd], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return None, (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return int(proc.stdout.split()[-1]), None


# ---------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnconv", default=os.path.join(ROOT, ".build", "release", "bnconv"))
    default_dir = os.path.join(os.environ["BNCONV_BENCH_DIR"], "zoo") if os.environ.get("BNCONV_BENCH_DIR") \
        else os.path.join("bench-out", "zoo")
    ap.add_argument("--dir", default=default_dir, help="the model cache (default $BNCONV_BENCH_DIR/zoo or bench-out/zoo)")
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--rounds", type=int, default=5, help="alternated rounds")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per engine per round")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--rebuild", action="store_true", help="make the model files again")
    ap.add_argument("--openblas-coretype", help="'auto' (unset OPENBLAS_CORETYPE for bnconv run) or a kernel set name")
    ap.add_argument("--worker", choices=("ort", "tf"), help=argparse.SUPPRESS)
    ap.add_argument("--build-models", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return serve(args.worker)
    if args.build_models:
        return build_models(args.dir, args.build_models.split(","))

    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        sys.exit(f"zoo_bench: unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    batches = [int(b) for b in args.batches.split(",")]
    bnconv = os.path.abspath(args.bnconv)
    if not os.access(bnconv, os.X_OK):
        sys.exit(f"zoo_bench: {bnconv} is not an executable (build it with tools/release)")
    run_env = openblas_env(args.openblas_coretype)
    os.makedirs(args.dir, exist_ok=True)

    # The files, made once.
    missing = [k for k in keys if args.rebuild or not all(os.path.exists(p) for kind, p in paths(args.dir, k).items() if kind != "onnx")]
    if missing:
        subprocess.run([sys.executable, os.path.abspath(__file__), "--dir", args.dir, "--build-models", ",".join(missing)], check=True)
    for key in keys:
        with open(paths(args.dir, key)["meta"]) as f:
            meta = json.load(f)
            if key in missing or "onnxExport" not in meta or "onnxExportError" in meta \
                    or not os.path.exists(paths(args.dir, key)["onnx"]):
                print(f"exporting {MODELS[key][0]}.onnx with bnconv convert ...", flush=True)
                export_onnx(bnconv, args.dir, key)

    import numpy as np
    metas = {}
    for key in keys:
        with open(paths(args.dir, key)["meta"]) as f:
            metas[key] = json.load(f)
    to_onnx = lambda key, x: np.ascontiguousarray(np.transpose(x, metas[key]["inputPermutation"])) \
        if metas[key].get("inputPermutation") else x
    from_onnx = lambda key, y: np.transpose(y, np.argsort(metas[key]["outputPermutation"])) \
        if metas[key].get("outputPermutation") else y
    # A model bnconv could not export has no .onnx: its .onnx rows carry the export's error.
    export_failure = lambda key: f"`{metas[key]['onnxExport']}`: {metas[key]['onnxExportError']}" \
        if "onnxExportError" in metas[key] else None
    has = lambda key, fmt: fmt != "onnx" or not export_failure(key)

    workers = {"onnxruntime": Worker("ort", os.path.join(args.dir, "worker-onnxruntime.log")),
               "TensorFlow": Worker("tf", os.path.join(args.dir, "worker-tensorflow.log"))}
    formats = [("onnx", "onnxruntime"), ("pb", "TensorFlow")]
    try:
        # Each peer on each file against tf_keras, before anything is timed.
        for key in keys:
            p = paths(args.dir, key)
            ref_x, ref_y = np.load(p["ref_x"]), np.load(p["ref_y"])
            for fmt, peer in formats:
                if not has(key, fmt):
                    continue
                x = to_onnx(key, ref_x) if fmt == "onnx" else ref_x
                xp, yp = os.path.join(args.dir, f"check.{fmt}.x.npy"), os.path.join(args.dir, f"check.{fmt}.y.npy")
                np.save(xp, x)
                reply = workers[peer].request(file=p[fmt], input=xp, output=yp, runs=1, meta=metas[key])
                if "error" in reply:
                    sys.exit(f"zoo_bench: {peer} cannot run {p[fmt]}: {reply['error']}")
                y = np.load(yp)
                err = range_error(from_onnx(key, y) if fmt == "onnx" else y, ref_y)
                if not err <= TOL:
                    sys.exit(f"zoo_bench: {peer} on {p[fmt]} disagrees with tf_keras on {p['ref_x']}: "
                             f"range-relative error {err:.2e} > {TOL:g}")
                print(f"checked {os.path.basename(p[fmt])} in {peer} against tf_keras: {err:.1e}", flush=True)

        # Inputs: the same seeded numbers for every engine, in each file's layout.
        inputs = {}
        for key in keys:
            for b in batches:
                x = seeded_input(key, b)
                for fmt, layout in (("pb", x), ("onnx", to_onnx(key, x))):
                    if not has(key, fmt):
                        continue
                    inputs[key, fmt, b] = os.path.join(args.dir, f"{MODELS[key][0]}.b{b}.{fmt}.x.npy")
                    np.save(inputs[key, fmt, b], layout)

        # Peak RSS of one bnconv run per model and file at batch 1 (the first batch given).
        rss = {}
        for key in keys:
            for fmt, _ in formats:
                rss[key, fmt] = peak_rss(bnconv, paths(args.dir, key)[fmt], inputs[key, fmt, batches[0]], run_env) \
                    if has(key, fmt) else (None, "no .onnx (bnconv convert failed)")

        # The alternated rounds.
        rows = {(key, fmt, b): {"peer": [], "bnconv": [], "error": 0.0,
                                "peerError": None if has(key, fmt) else "no .onnx to run",
                                "bnconvError": None if has(key, fmt) else export_failure(key)}
                for key in keys for fmt, _ in formats for b in batches}
        kernels = None
        for r in range(args.rounds):
            print(f"round {r + 1} of {args.rounds} ...", flush=True)
            for key in keys:
                for b in batches:
                    for fmt, peer in formats:
                        row = rows[key, fmt, b]
                        path = paths(args.dir, key)[fmt]
                        stem = f"{MODELS[key][0]}.b{b}.{fmt}"
                        yp_peer, yp_bn = os.path.join(args.dir, stem + ".peer.y.npy"), os.path.join(args.dir, stem + ".bnconv.y.npy")

                        def run_peer():
                            if row["peerError"]:
                                return
                            reply = workers[peer].request(file=path, input=inputs[key, fmt, b], output=yp_peer,
                                                          runs=args.runs, meta=metas[key])
                            if "error" in reply:
                                row["peerError"] = reply["error"]
                            else:
                                row["peer"].append(reply["ms"])

                        def run_bnconv():
                            nonlocal kernels
                            if row["bnconvError"]:
                                return
                            ms, k, error = bnconv_run(bnconv, path, inputs[key, fmt, b], yp_bn, args.runs, run_env)
                            if error:
                                row["bnconvError"] = error
                            else:
                                row["bnconv"].append(ms)
                                kernels = kernels or k

                        for step in ((run_peer, run_bnconv) if r % 2 == 0 else (run_bnconv, run_peer)):
                            step()
                        if not row["peerError"] and not row["bnconvError"]:
                            row["error"] = max(row["error"], range_error(np.load(yp_bn), np.load(yp_peer)))
    finally:
        for w in workers.values():
            w.close()

    # The tables.
    med = lambda v: statistics.median(v) if v else None
    fmt_ms = lambda v: f"{v:.1f}" if v is not None and v >= 10 else (f"{v:.2f}" if v is not None else "-")
    print()
    print(f"bnconv {bnconv} (OpenBLAS {kernels or '?'}), {args.rounds} rounds x {args.runs} runs, "
          f"medians of the rounds' medians; error = max|bnconv - peer| / (max(peer) - min(peer)), limit {TOL:g}")
    print()
    print("| model | file | batch | peer | peer ms | bnconv ms | ratio (bnconv / peer) | error |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    failures, out_rows = {}, []  # error text -> footnote number
    for (key, fmt, b), row in rows.items():
        peer = dict(formats)[fmt]
        p_ms, b_ms = med(row["peer"]), med(row["bnconv"])
        if row["bnconvError"] or row["peerError"]:
            who = "bnconv" if row["bnconvError"] else peer
            text = f"{MODELS[key][1]} .{fmt} ({who}): {row['bnconvError'] or row['peerError']}"
            failures.setdefault(text, len(failures) + 1)
            err_text = f"{who} failed [{failures[text]}]"
        else:
            err_text = f"{row['error']:.1e}" + (" **over limit**" if not row["error"] <= TOL else "")
        ratio = f"{b_ms / p_ms:.2f}x" if p_ms and b_ms else "-"
        print(f"| {MODELS[key][1]} | .{fmt} | {b} | {peer} | {fmt_ms(p_ms)} | {fmt_ms(b_ms)} | {ratio} | {err_text} |")
        out_rows.append({"model": key, "file": os.path.basename(paths(args.dir, key)[fmt]), "batch": b, "peer": peer,
                         "peerMs": p_ms, "bnconvMs": b_ms, "peerRounds": row["peer"], "bnconvRounds": row["bnconv"],
                         "error": None if (row["bnconvError"] or row["peerError"]) else row["error"],
                         "peerFailure": row["peerError"], "bnconvFailure": row["bnconvError"]})
    for text, number in failures.items():
        print(f"[{number}] {text}")

    print()
    print("Against the faster peer (goal: within 1.2x, aiming at 1.0x):")
    print()
    print("| model | batch | faster peer | peer ms | bnconv .onnx / faster | bnconv .pb / faster |")
    print("|---|---|---|---:|---:|---:|")
    faster_rows = []
    for key in keys:
        for b in batches:
            peers = {dict(formats)[fmt]: med(rows[key, fmt, b]["peer"]) for fmt, _ in formats}
            peers = {k: v for k, v in peers.items() if v is not None}
            if not peers:
                continue
            name, best = min(peers.items(), key=lambda kv: kv[1])
            ratios = {fmt: (med(rows[key, fmt, b]["bnconv"]) / best if rows[key, fmt, b]["bnconv"] else None) for fmt, _ in formats}
            show = lambda v: "-" if v is None else f"{v:.2f}x" + ("" if v <= 1.2 else " (> 1.2x)")
            print(f"| {MODELS[key][1]} | {b} | {name}{'' if len(peers) == 2 else ' (only one ran)'} | {fmt_ms(best)} | "
                  f"{show(ratios['onnx'])} | {show(ratios['pb'])} |")
            faster_rows.append({"model": key, "batch": b, "fasterPeer": name, "fasterPeerMs": best,
                                "onnxRatio": ratios["onnx"], "pbRatio": ratios["pb"]})

    print()
    print(f"Peak RSS of one `bnconv run --time --runs 1` at batch {batches[0]}:")
    print()
    print("| model | file | file MB | bnconv peak RSS MB |")
    print("|---|---|---:|---:|")
    rss_rows = []
    for (key, fmt), (value, error) in rss.items():
        size = os.path.getsize(paths(args.dir, key)[fmt]) if has(key, fmt) else None
        print(f"| {MODELS[key][1]} | .{fmt} | {f'{size / 1e6:.1f}' if size else '-'} | "
              f"{f'{value / 1e6:.0f}' if value else 'failed: ' + error} |")
        rss_rows.append({"model": key, "file": os.path.basename(paths(args.dir, key)[fmt]), "fileBytes": size,
                         "peakRssBytes": value, "failure": error})

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bnconv": bnconv, "openblas": kernels, "rounds": args.rounds, "runs": args.runs,
                       "tolerance": TOL, "models": {k: metas[k] for k in keys}, "rows": out_rows,
                       "fasterPeer": faster_rows, "peakRss": rss_rows}, f, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
