#!/usr/bin/env python3
"""Times `bnconv recalibrate` on a ResNet-50 Keras 2 `.h5` with 256 calibration samples of 224x224
against TensorFlow's own training-mode forward (`model(x, training=True)` in a tf.function, which
updates the BN moving statistics) over the same samples in the same batches. A benchmark, not a test.

The model (tf_keras ResNet50, weights=None, BN statistics randomized; shared with fold_bench.py)
and the seeded samples are generated on demand into $BNCONV_BENCH_DIR or bench-out/, never into git.

    python tools/bench/recalibrate_bench.py --bnconv .build/release/bnconv [--dir bench-out]
        [--samples 256] [--batch-size 32] [--modes momentum,cumulative]

Reports wall time (whole command: read, recalibrate, write) and the recalibration's own time and
throughput in samples per second; TensorFlow's figure is the warm pass (after a first traced pass),
and its moving statistics are compared with bnconv's momentum-mode ones (same batches, same order).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def make_inputs(path, samples):
    import numpy as np
    rng = np.random.default_rng(256)
    x = rng.standard_normal((samples, 224, 224, 3), dtype=np.float32)
    np.save(path, x)


def run_bnconv(bnconv, model, data, out, mode, batch):
    start = time.perf_counter()
    proc = subprocess.run([bnconv, "recalibrate", model, "--data", data, "-o", out, "--mode", mode,
                           "--batch-size", str(batch), "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bnconv recalibrate failed ({proc.returncode}): {proc.stderr.strip()}")
    return wall, json.loads(proc.stdout)


def run_tf(model_path, data, batch):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf
    import tf_keras
    x = np.load(data)
    model = tf_keras.models.load_model(model_path, compile=False)
    step = tf.function(lambda t: model(t, training=True))
    batches = [tf.constant(x[i:i + batch]) for i in range(0, len(x), batch)]
    start = time.perf_counter()
    for b in batches:
        step(b)
    first = time.perf_counter() - start
    # Reload so the timed (warm) pass starts from the file's statistics, like bnconv does.
    fresh = tf_keras.models.load_model(model_path, compile=False)
    model.set_weights(fresh.get_weights())
    start = time.perf_counter()
    for b in batches:
        step(b)
    warm = time.perf_counter() - start
    stats = {l.name: (l.moving_mean.numpy(), l.moving_variance.numpy())
             for l in model.layers if isinstance(l, tf_keras.layers.BatchNormalization)}
    return first, warm, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--dir", default=os.environ.get("BNCONV_BENCH_DIR", "bench-out"))
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--modes", default="momentum,cumulative")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    model = os.path.join(args.dir, "resnet50_keras2.h5")
    if not os.path.exists(model):
        print(f"generating {model} (tf_keras ResNet50, randomized BN statistics) ...", flush=True)
        from fold_bench import make_resnet50
        make_resnet50(model)
    data = os.path.join(args.dir, f"calib_{args.samples}x224.npy")
    if not os.path.exists(data):
        print(f"generating {data} ({args.samples} seeded samples) ...", flush=True)
        make_inputs(data, args.samples)

    n = args.samples
    print(f"ResNet-50 (tf_keras .h5), {n} samples of 224x224x3, batches of {args.batch_size}, {os.cpu_count()} cores")
    results = {}
    for mode in args.modes.split(","):
        out = os.path.join(args.dir, f"resnet50_keras2.recalibrated-{mode}.h5")
        wall, summary = run_bnconv(args.bnconv, model, data, out, mode, args.batch_size)
        results[mode] = out
        print(f"bnconv recalibrate --mode {mode:<10}: {wall:7.2f} s wall, recalibration {summary['calibrationSeconds']:.2f} s "
              f"in {summary['passes']} pass(es), {summary['samplesPerSecond']:.1f} samples/s")
    first, warm, tf_stats = run_tf(model, data, args.batch_size)
    print(f"TensorFlow model(x, training=True)   : {warm:7.2f} s warm ({n / warm:.1f} samples/s); first traced pass {first:.2f} s")
    if "momentum" in results:
        import numpy as np
        sys.path.insert(0, os.path.join(HERE, "..", ".."))
        import tf_keras
        ours = tf_keras.models.load_model(results["momentum"], compile=False)
        worst = 0.0
        for layer in ours.layers:
            if layer.name in tf_stats:
                for got, want in zip((layer.moving_mean.numpy(), layer.moving_variance.numpy()), tf_stats[layer.name]):
                    worst = max(worst, float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30)))
        print(f"momentum statistics vs TensorFlow's after the same batches: max rel diff {worst:.1e} over {len(tf_stats)} BN layers")


if __name__ == "__main__":
    main()
