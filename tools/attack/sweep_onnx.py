"""Sweeps every integer attribute and every declared input/output dimension of an ONNX model
through hostile values (-1, 0, 2^31, 2^62, -2^63), one at a time, and runs `inspect`, `run`,
`fold` and `convert --layout nhwc` on each variant; prints a FINDING line for any run that ends
by a signal, past 30 s, or with an error of more than one line.

    python tools/attack/sweep_onnx.py MODEL.onnx BNCONV SCRATCH_DIR   (the tools venv: onnx)

Run on the ONNX fixtures it found a ConvTranspose `group` of 2^62 (a trap in every command) and
an input of 2^62 channels crashing `convert --layout` (Tests/Fixtures/robustness/attacks).
"""
import onnx, copy, subprocess, sys, os
src, bn, out = sys.argv[1:4]
m = onnx.load(src)
targets = []
for ni, node in enumerate(m.graph.node):
    for ai, a in enumerate(node.attribute):
        if a.type == onnx.AttributeProto.INT: targets.append(("attr_i", ni, ai, None))
        if a.type == onnx.AttributeProto.INTS:
            for k in range(len(a.ints)): targets.append(("attr_ints", ni, ai, k))
for vi_, v in enumerate(list(m.graph.input) + list(m.graph.output)):
    for k, d in enumerate(v.type.tensor_type.shape.dim): targets.append(("dim", vi_, k, None))
values = [-1, 0, 1 << 31, 1 << 62, -(1 << 63)]
n = 0
for t in targets:
    for val in values:
        mm = copy.deepcopy(m)
        kind, a, b, c = t
        if kind == "attr_i": mm.graph.node[a].attribute[b].i = val
        elif kind == "attr_ints": mm.graph.node[a].attribute[b].ints[c] = val
        else:
            vs = list(mm.graph.input) + list(mm.graph.output)
            vs[a].type.tensor_type.shape.dim[b].dim_value = val if val >= 0 else 0
            if val < 0: continue
        dst = os.path.join(out, f"m{n}.onnx"); n += 1
        onnx.save(mm, dst)
        for cmd in (["inspect", dst], ["run", dst], ["fold", dst, "-o", dst + ".out.onnx"], ["convert", dst, "--layout", "nhwc", "-o", dst + ".l.onnx"]):
            try:
                r = subprocess.run([bn] + cmd, capture_output=True, text=True, timeout=30)
                code = r.returncode; lines = len([l for l in r.stderr.splitlines() if l.strip()])
            except subprocess.TimeoutExpired:
                code, lines = "TIMEOUT", 0
            if code not in (0, 1, 2) or (code in (1, 2) and lines != 1):
                name = m.graph.node[a].op_type + "." + m.graph.node[a].attribute[b].name if kind != "dim" else "dim"
                print("FINDING", kind, name, a, b, c, val, cmd[0], code, lines, flush=True)
        for f in (dst, dst + ".out.onnx", dst + ".l.onnx"):
            if os.path.exists(f): os.remove(f)
print("done", n, "variants", flush=True)
