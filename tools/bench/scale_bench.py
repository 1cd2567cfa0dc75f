#!/usr/bin/env python3
"""Scaling: wall time and peak RSS of `bnconv fold` (verified and --no-verify), `bnconv verify`
and `bnconv run` on Keras 2 `.h5` conv + BatchNorm stacks of about 100 MB, 400 MB, 1.5 GB and
4 GB, and on the shared ResNet-50, against `cp` of the same file (issue #19). A benchmark, not a
test.

    python tools/bench/scale_bench.py [--bnconv .build/release/bnconv] [--label NAME] [--baseline OLD_BINARY]
        [--sizes 100M,400M,1.5G,4G,resnet50] [--repeat 3] [--warmup 1] [--timeout 1800]
        [--commands fold,fold-no-verify,verify,run,cp] [--min-available 2G] [--max-rss 16G]

The synthetic models (make_conv_bn_stack: Conv2D 3x3 C->C, padding same, + BatchNormalization +
ReLU, repeated, on an 8x8xC input, so the weights dominate; random weights and BN statistics) are
saved by tf_keras into $BNCONV_BENCH_DIR (default bench-out/, gitignored) on first use and reused;
ResNet-50 is fold_bench.make_resnet50's resnet50_keras2.h5 in the same directory. Each round runs
every command once, binaries alternated (--baseline: a second bnconv measured in the same rounds,
for before/after side by side); the table gives the median wall time and the largest peak RSS over
--repeat rounds. A command that fails, times out or is stopped by the memory guard (MemAvailable
below --min-available, or its RSS above --max-rss) is shown as failed with its status; it is not
run again for that model. Peak RSS comes from GNU time (/usr/bin/time), which this needs.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

CHANNELS = 1024
SPATIAL = 8
COMMANDS = ["fold", "fold-no-verify", "verify", "run", "cp"]
DEFAULT_SIZES = "100M,400M,1.5G,4G,resnet50"


def conv_bn_layer_bytes(channels=CHANNELS):
    """Bytes one Conv2D 3x3 (kernel + bias) + BatchNormalization (4 vectors) adds, float32."""
    return 4 * (9 * channels * channels + channels + 4 * channels)


def layers_for(size_bytes, channels=CHANNELS):
    """The number of conv + BN layers whose weights come closest to `size_bytes`."""
    return max(1, round(size_bytes / conv_bn_layer_bytes(channels)))


def conv_bn_stack_name(layers, channels=CHANNELS, spatial=SPATIAL):
    return f"convbn_c{channels}_s{spatial}_l{layers}.h5"


def make_conv_bn_stack(path, layers, channels=CHANNELS, spatial=SPATIAL, seed=0, relu=True, epsilon=1e-3):
    """Saves (tf_keras `model.save`, Keras 2 .h5) a stack of `layers` x [Conv2D(channels, 3x3,
    padding same) + BatchNormalization(epsilon) (+ ReLU)] on a spatial x spatial x channels input.
    Kernels are He-normal random, biases small, BN statistics random and non-trivial (gamma
    0.5-1.5, beta and moving mean -0.5-0.5, moving variance 0.5-2). Weights are set layer by layer
    (the layers are built with zero initializers), so the process needs about the model's size
    plus one layer; the file is written beside `path` and renamed into place when complete."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import warnings
    import numpy as np
    import tensorflow as tf
    import tf_keras
    warnings.filterwarnings("ignore", message=".*HDF5 file.*")
    tf.get_logger().setLevel("ERROR")
    rng = np.random.default_rng(seed)
    L = tf_keras.layers
    inputs = tf_keras.Input((spatial, spatial, channels), name="x")
    x = inputs
    for i in range(layers):
        x = L.Conv2D(channels, 3, padding="same", kernel_initializer="zeros", name=f"conv{i}")(x)
        x = L.BatchNormalization(epsilon=epsilon, name=f"bn{i}")(x)
        if relu:
            x = L.ReLU(name=f"relu{i}")(x)
    model = tf_keras.Model(inputs, x, name=f"convbn_c{channels}_l{layers}")
    std = np.float32(np.sqrt(2.0 / (9 * channels)))
    f32 = lambda a: a.astype(np.float32)
    for layer in model.layers:
        if isinstance(layer, L.Conv2D):
            kernel = rng.standard_normal((3, 3, channels, channels), dtype=np.float32)
            kernel *= std
            layer.set_weights([kernel, f32(rng.uniform(-0.1, 0.1, channels))])
            del kernel
        elif isinstance(layer, L.BatchNormalization):
            layer.set_weights([f32(rng.uniform(0.5, 1.5, channels)), f32(rng.uniform(-0.5, 0.5, channels)),
                               f32(rng.uniform(-0.5, 0.5, channels)), f32(rng.uniform(0.5, 2.0, channels))])
    partial = path + ".partial.h5"
    model.save(partial, save_format="h5", include_optimizer=False)
    os.replace(partial, path)
    return path


def parse_bytes(text):
    """'100M' -> 100e6, '1.5G' -> 1.5e9 (decimal units, as the tables use)."""
    units = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    text = text.strip().upper().rstrip("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(float(text))


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def in_child(code):
    """Runs `code` in a fresh interpreter with this directory importable. The model generators
    run there: a child's ru_maxrss includes what its parent held before exec, so the measuring
    process stays small (no TensorFlow, no numpy)."""
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); {code}"], check=True)


def ensure_model(directory, label):
    """The model for `label` ('resnet50' or a size such as '400M'), generated on first use."""
    if label.lower() == "resnet50":
        path = os.path.join(directory, "resnet50_keras2.h5")
        if not os.path.exists(path):
            print(f"generating {path} (tf_keras ResNet50, randomized BN statistics) ...", flush=True)
            in_child(f"import fold_bench; fold_bench.make_resnet50({path!r})")
        return "ResNet-50", path
    layers = layers_for(parse_bytes(label))
    path = os.path.join(directory, conv_bn_stack_name(layers))
    if not os.path.exists(path):
        need = layers * conv_bn_layer_bytes()
        free = shutil.disk_usage(directory).free
        if free < need * 1.1 + 2e9:
            raise RuntimeError(f"{need / 1e9:.2f} GB model: only {free / 1e9:.1f} GB free on {directory}")
        if mem_available() < need * 1.5 + 2e9:
            raise RuntimeError(f"{need / 1e9:.2f} GB model: only {mem_available() / 1e9:.1f} GB of memory available")
        print(f"generating {path} ({layers} x conv 3x3 {CHANNELS}->{CHANNELS} + BN + ReLU, "
              f"{need / 1e6:.0f} MB) ...", flush=True)
        start = time.perf_counter()
        in_child(f"import scale_bench; scale_bench.make_conv_bn_stack({path!r}, {layers})")
        print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    return f"{label} ({layers} conv+BN)", path


class Outcome:
    def __init__(self, status, wall=None, rss=None, message=""):
        self.status, self.wall, self.rss, self.message = status, wall, rss, message


def child_rss(pid):
    """Resident bytes of the command GNU time `pid` runs (0 if not started or gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        total = 0
        for kid in kids:
            with open(f"/proc/{kid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        return total
    except (OSError, ValueError):
        return 0


def measure(cmd, timeout, min_available, max_rss):
    """One run of `cmd` under GNU time, in a process group of its own: wall seconds (measured
    here), peak RSS bytes (GNU time's %M) and a status: 'ok', 'exit N', 'signal N', 'timeout',
    'memory guard'. A watchdog thread kills the group on timeout or when memory runs short."""
    with tempfile.NamedTemporaryFile("r") as tfile, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%e %M", "-o", tfile.name] + cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        stop, killed = threading.Event(), []

        def watchdog():
            while not stop.wait(0.05):
                reason = None
                if timeout and time.perf_counter() - start > timeout:
                    reason = "timeout"
                elif mem_available() < min_available:
                    reason = f"memory guard (MemAvailable < {min_available / 1e9:.1f} GB)"
                elif max_rss and child_rss(proc.pid) > max_rss:
                    reason = f"memory guard (RSS > {max_rss / 1e9:.1f} GB)"
                if reason:
                    killed.append(reason)
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    return

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        _, status, _ = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        guard.join()
        lines = [line.strip() for line in tfile.read().splitlines() if line.strip()]
        err.seek(0)
        message = err.read().strip()[-400:]
    rss = None
    if lines:
        try:
            rss = int(lines[-1].split()[1]) * 1024
        except (IndexError, ValueError):
            pass
    if killed:
        return Outcome(killed[0], wall, None, message)
    for line in lines:
        if line.startswith("Command terminated by signal"):
            return Outcome("signal " + line.split()[-1], wall, rss, message)
        if line.startswith("Command exited with non-zero status"):
            return Outcome("exit " + line.split()[-1], wall, rss, message)
    if proc.returncode != 0:
        return Outcome(f"exit {proc.returncode}", wall, rss, message)
    return Outcome("ok", wall, rss, message)


def command_line(name, binary, model, folded, copied, batch):
    return {
        "fold": [binary, "fold", model, "-o", folded, "--quiet"],
        "fold-no-verify": [binary, "fold", model, "-o", folded, "--no-verify", "--quiet"],
        "verify": [binary, "verify", model, folded, "--quiet"],
        "run": [binary, "run", model, "--batch", str(batch), "--quiet"],
        "cp": ["cp", model, copied],
    }[name]


def bench_model(title, model, binaries, commands, args):
    """Measures every command on `model` for every binary; returns the table's rows."""
    size = os.path.getsize(model)
    stem = os.path.splitext(model)[0]
    folded = {label: f"{stem}.{label}.folded.h5" for label, _ in binaries}
    copied = f"{stem}.cp.h5"
    needed = size * (len(binaries) + ("cp" in commands)) + 1e9
    free = shutil.disk_usage(os.path.dirname(model) or ".").free
    print(f"\n{title}: {model} ({size / 1e6:.1f} MB); MemAvailable {mem_available() / 1e9:.1f} GB, "
          f"disk free {free / 1e9:.1f} GB, load average {os.getloadavg()[0]:.2f}", flush=True)
    if free < needed:
        print(f"  skipped: the outputs need {needed / 1e9:.1f} GB of disk", flush=True)
        return []
    with open(model, "rb") as f:  # into the page cache, as for every later run
        while f.read(1 << 24):
            pass
    # The runs: cp once a round, every bnconv command once per binary, the binaries alternated.
    plan = [(label, binary, name) for name in commands for label, binary in
            ([("cp", None)] if name == "cp" else binaries)]
    if "verify" in commands and not {"fold", "fold-no-verify"} & set(commands):
        for label, binary in binaries:  # verify needs a folded file
            measure(command_line("fold-no-verify", binary, model, folded[label], copied, 1), args.timeout,
                    args.min_available, args.max_rss)
    runs = {key: [] for key in plan}
    failed = {}
    for round_index in range(args.warmup + args.repeat):
        warm = round_index < args.warmup
        for key in plan:
            if key in failed:
                continue
            label, binary, name = key
            out = measure(command_line(name, binary, model, folded.get(label), copied, args.batch),
                          args.timeout, args.min_available, args.max_rss)
            note = "warm-up" if warm else f"round {round_index - args.warmup + 1}"
            rss = f"{out.rss / 1e6:.0f} MB" if out.rss else "-"
            print(f"  {note:8} {label:9} {name:15} {out.status:8} {out.wall:8.3f} s {rss:>9}", flush=True)
            if out.status != "ok":
                failed[key] = out
                if out.message:
                    print("    " + out.message.replace("\n", "\n    "), flush=True)
            elif not warm:
                runs[key].append(out)
    rows = []
    for key in plan:
        label, _, name = key
        good = runs[key]
        row = {"model": title, "mb": size / 1e6, "binary": label, "command": name, "size": size}
        if key in failed:
            row.update(status=failed[key].status, wall=None, rss=failed[key].rss)
        if good:
            walls = [o.wall for o in good]
            row.update(wall=statistics.median(walls), lo=min(walls), hi=max(walls), n=len(good),
                       rss=max(o.rss or 0 for o in good) or None)
            row.setdefault("status", "ok")
        rows.append(row)
    if not args.keep_outputs:
        for path in list(folded.values()) + [copied]:
            if os.path.exists(path):
                os.remove(path)
    return rows


def print_table(rows, repeat):
    print(f"\n| model | file MB | binary | command | status | wall s (median of {repeat}) | range s "
          f"| peak RSS MB | RSS / file | verified / no-verify |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    index = {(r["model"], r["binary"], r["command"]): r for r in rows}
    for r in rows:
        wall = f"{r['wall']:.3f}" if r.get("wall") is not None else "-"
        spread = f"{r['lo']:.3f}-{r['hi']:.3f}" if r.get("wall") is not None else "-"
        rss = f"{r['rss'] / 1e6:.0f}" if r.get("rss") else "-"
        ratio = f"{r['rss'] / r['size']:.2f}x" if r.get("rss") and r.get("wall") is not None else "-"
        versus = ""
        plain = index.get((r["model"], r["binary"], "fold-no-verify"))
        if r["command"] == "fold" and r.get("wall") and plain and plain.get("wall"):
            versus = f"{r['wall'] / plain['wall']:.2f}x"
        status = r["status"] if r["status"] == "ok" else f"**{r['status']}**"
        print(f"| {r['model']} | {r['mb']:.1f} | {r['binary']} | {r['command']} | {status} | {wall} | {spread} "
              f"| {rss} | {ratio} | {versus} |")
    print("\nTargets (issue #19): verified fold <= 4x `--no-verify` in wall time; verified fold peak RSS "
          "<= 1.3x the file + one batch's activations.")
    for r in rows:
        if r["command"] != "fold" or not r.get("wall"):
            continue
        plain = index.get((r["model"], r["binary"], "fold-no-verify"))
        line = f"  {r['model']} [{r['binary']}]: verified fold peak RSS / file {r['rss'] / r['size']:.2f}x"
        if plain and plain.get("wall"):
            line += f", verified / no-verify wall {r['wall'] / plain['wall']:.2f}x"
        print(line)


def version(binary):
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
        return done.stdout.strip() or done.stderr.strip()
    except OSError as error:
        return f"({error})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[3:]))
    ap.add_argument("--bnconv", default=os.path.join(ROOT, ".build", "release", "bnconv"))
    ap.add_argument("--label", default="bnconv", help="the --bnconv binary's name in the table (default bnconv)")
    ap.add_argument("--baseline", help="a second bnconv binary, measured in the same rounds, named baseline")
    ap.add_argument("--dir", default=os.environ.get("BNCONV_BENCH_DIR", "bench-out"))
    ap.add_argument("--sizes", default=os.environ.get("BNCONV_SCALE_SIZES", DEFAULT_SIZES),
                    help=f"model sizes (decimal K/M/G) and/or resnet50, comma-separated (default {DEFAULT_SIZES}; "
                         "$BNCONV_SCALE_SIZES)")
    ap.add_argument("--commands", default=",".join(COMMANDS), help=f"a subset of {','.join(COMMANDS)}")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1, help="unrecorded rounds first (default 1)")
    ap.add_argument("--batch", type=int, default=1, help="batch of `bnconv run` (default 1)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per command (default 1800; 0: none)")
    ap.add_argument("--min-available", default="2G", help="kill a command when MemAvailable drops below this")
    ap.add_argument("--max-rss", default="0", help="kill a command whose RSS exceeds this (default 0: no limit)")
    ap.add_argument("--keep-outputs", action="store_true", help="keep the folded and copied files")
    ap.add_argument("--generate-only", action="store_true", help="make the models, measure nothing")
    args = ap.parse_args()
    args.min_available = parse_bytes(args.min_available)
    args.max_rss = parse_bytes(args.max_rss)
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    unknown = set(commands) - set(COMMANDS)
    if unknown:
        ap.error(f"unknown commands: {', '.join(sorted(unknown))}")
    if not os.path.exists("/usr/bin/time"):
        sys.exit("needs GNU time at /usr/bin/time for the peak RSS")
    binaries = [(args.label, os.path.realpath(args.bnconv))]
    if args.baseline:
        if args.label in ("baseline", "cp"):
            ap.error("--label must differ from baseline and cp")
        binaries.append(("baseline", os.path.realpath(args.baseline)))
    os.makedirs(args.dir, exist_ok=True)
    models = []
    for label in (s.strip() for s in args.sizes.split(",") if s.strip()):
        try:
            models.append(ensure_model(args.dir, label))
        except (RuntimeError, subprocess.CalledProcessError) as error:
            print(f"{label}: not generated: {error}", flush=True)
    if args.generate_only:
        for title, path in models:
            print(f"{title}: {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
        return
    for _, binary in binaries:
        if not os.access(binary, os.X_OK):
            sys.exit(f"not an executable: {binary}")
    print(f"scale bench: {', '.join(f'{label} = {path} ({version(path)})' for label, path in binaries)}; "
          f"{args.warmup} warm-up + {args.repeat} rounds; timeout {args.timeout:.0f} s; "
          f"memory guard MemAvailable >= {args.min_available / 1e9:.1f} GB", flush=True)
    rows = []
    for title, path in models:
        rows += bench_model(title, path, binaries, commands, args)
    print_table(rows, args.repeat)


if __name__ == "__main__":
    main()
