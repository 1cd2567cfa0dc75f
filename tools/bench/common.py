"""Helpers shared by the bench scripts in tools/bench."""
import subprocess
import sys
import time


def wall(cmd, env=None):
    """Runs `cmd` (stopping the bench with its output if it fails); returns (seconds, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - start, proc.stdout


def measure(cmd):
    """Wall seconds and peak RSS (bytes) of one run of `cmd` (its own process, via wait4); stops the
    bench with the command's error output if it fails."""
    import os
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss * 1024


def randomize_batch_norms(model, rng, bn_class):
    """Gives every `bn_class` layer of `model` random, non-trivial statistics, so that a benchmark on
    weights=None models does not run identity BatchNorms: gamma U(0.5, 1.5), beta U(-0.5, 0.5),
    moving mean U(-0.5, 0.5), moving variance U(0.5, 2.0), drawn from `rng` (numpy Generator) in that
    order, layer by layer (a BN without scale or center skips the draw it has no weight for)."""
    ranges = (("gamma", 0.5, 1.5), ("beta", -0.5, 0.5), ("moving_mean", -0.5, 0.5), ("moving_variance", 0.5, 2.0))
    for layer in model.layers:
        if isinstance(layer, bn_class):
            c = layer.moving_mean.shape[0]
            layer.set_weights([rng.uniform(low, high, c) for name, low, high in ranges
                               if getattr(layer, name, None) is not None])


def openblas_env(coretype):
    """The environment for `bnconv run` given an --openblas-coretype value: 'auto' unsets
    OPENBLAS_CORETYPE (bnconv then picks the kernels for the CPU), a name sets it, None inherits."""
    import os
    env = dict(os.environ)
    if coretype == "auto":
        env.pop("OPENBLAS_CORETYPE", None)
    elif coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    return env
