"""Sweeps every integer of a Keras .h5 model's config through hostile values (-1, 0, 2^31, 2^62,
-2^63), one at a time, and runs `inspect`, `run` and `fold` on each variant; prints a FINDING line
for any run that ends by a signal, past 30 s, or with an error of more than one line.

    python tools/attack/sweep_config.py MODEL.h5 BNCONV SCRATCH_DIR   (the tools venv: h5py)

Run on the Keras fixtures it found the traps that Op.windowProblem and the checked shape
arithmetic now refuse (window sizes and dilations of 2^62, Permute dims out of range, Reshape
targets of 2^62, 2^62 channels into a depthwise convolution).
"""
import h5py, json, shutil, subprocess, sys, os, copy
src = sys.argv[1]; bn = sys.argv[2]; out = sys.argv[3]
with h5py.File(src, 'r') as f:
    config = json.loads(f.attrs['model_config'])
paths = []
def walk(v, path):
    if isinstance(v, bool): return
    if isinstance(v, int): paths.append(path); return
    if isinstance(v, dict):
        for k, x in v.items(): walk(x, path + [k])
    if isinstance(v, list):
        for i, x in enumerate(v): walk(x, path + [i])
walk(config, [])
values = [-1, 0, 1 << 31, 1 << 62, -(1 << 63)]
results = {}
n = 0
for p in paths:
    for val in values:
        c = copy.deepcopy(config)
        o = c
        for k in p[:-1]: o = o[k]
        o[p[-1]] = val
        dst = os.path.join(out, f"m{n}.h5"); n += 1
        shutil.copyfile(src, dst)
        with h5py.File(dst, 'r+') as f:
            f.attrs['model_config'] = json.dumps(c)
        for cmd in (["inspect", dst], ["run", dst], ["fold", dst, "-o", dst + ".out.h5"]):
            try:
                r = subprocess.run([bn] + cmd, capture_output=True, text=True, timeout=30)
                code = r.returncode
                lines = len([l for l in r.stderr.splitlines() if l.strip()])
            except subprocess.TimeoutExpired:
                code, lines = "TIMEOUT", 0
            if code not in (0, 1, 2) or (code in (1, 2) and lines != 1):
                print("FINDING", p, val, cmd[0], code, lines, r.stderr[-300:] if code != "TIMEOUT" else "", flush=True)
        os.remove(dst)
        if os.path.exists(dst + ".out.h5"): os.remove(dst + ".out.h5")
print("done", n, "variants", flush=True)
