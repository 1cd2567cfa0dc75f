#!/usr/bin/env python3
"""Interop rows for `bnconv convert --layout` on the GraphDefs of Tests/Fixtures/tensorflow_layout
(ExpandDims / Squeeze / Reshape / Transpose / Pad / grouped Conv2D / Mean / ConcatV2 / StridedSlice
around conv + BN layers, channels-last and channels-first graphs).

For every case, to the other layout (`--layout nchw` for an NHWC graph, `--layout nhwc` for an NCHW
one), verified and with `--no-verify`, then the `--no-verify` file converted back to the case's own
layout ("there and back"): each written file is imported by TensorFlow (import_graph_def +
Session, tools/interop/check_graphdef.py), fed the recorded input through the input permutation
`convert --json` reports, and its output, moved back through the reported output permutation, is
compared with TensorFlow's recorded output of the original (1e-4). A conversion bnconv refuses
with its reason ("the layout conversion is refused", "cannot yet write") is a SKIP row naming the
reason; a refusal of any other kind, a file TensorFlow cannot import or a numeric mismatch is a
FAIL.

    /root/.cache/bnconv/venv/bin/python tools/interop/graphdef_layout.py --bnconv .build/release/bnconv \
        --fixtures Tests/Fixtures [--only CASE]

(run_interop.py --section layout calls rows() and prints them with the other layout rows).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REFUSAL_WORDS = ("the layout conversion is refused", "cannot yet write")


def convert(bnconv, src, dst, layout, extra=()):
    """(exit status, last stderr line, the --json summary or None)."""
    proc = subprocess.run([bnconv, "convert", src, "-o", dst, "--layout", layout, "--json", *extra],
                          capture_output=True, text=True)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    summary = json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None
    return proc.returncode, (lines[-1] if lines else ""), summary


def permutation_flags(summaries):
    """--input-perm / --output-perm for the composition of the conversions' boundary permutations."""
    flags = []
    for key, flag in (("inputPermutations", "--input-perm"), ("outputPermutations", "--output-perm")):
        total = None
        for s in summaries:
            p = s[key][0]
            if p:
                total = p if total is None else [total[i] for i in p]
        if total and total != list(range(len(total))):
            flags += [flag, ",".join(map(str, total))]
    return flags


def check(dst, case_dir, facts, summaries):
    proc = subprocess.run([sys.executable, os.path.join(HERE, "check_graphdef.py"), dst,
                           os.path.join(case_dir, "input.npy"), os.path.join(case_dir, "output.npy"),
                           "--input-name", facts["input"], "--output-name", facts["output"], *permutation_flags(summaries)],
                          capture_output=True, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.strip()] or [l for l in proc.stderr.splitlines() if l.strip()]
    status = {0: "PASS", 3: "SKIP"}.get(proc.returncode, "FAIL")
    return status, (lines[-1] if lines else "")[:300]


def rows(bnconv, fixtures, only, out_dir):
    """(name, PASS/FAIL/SKIP, detail) rows."""
    root = os.path.join(fixtures, "tensorflow_layout")
    result = []
    for case in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        case_dir = os.path.join(root, case)
        facts_path = os.path.join(case_dir, "facts.json")
        if not os.path.exists(facts_path) or (only and only not in case):
            continue
        facts = json.load(open(facts_path))
        source = facts["layout"]
        target = "nhwc" if source == "nchw" else "nchw"
        src = os.path.join(case_dir, "graph.pb")
        written = {}
        for label, extra in (("verified", []), ("--no-verify", ["--no-verify"])):
            name = f"layout/tensorflow_layout/{case} -> {target} {label}"
            dst = os.path.join(out_dir, f"{target}-{'noverify' if extra else 'verified'}-{case}.pb")
            rc, err, summary = convert(bnconv, src, dst, target, extra)
            if rc != 0:
                refused = any(w in err for w in REFUSAL_WORDS) and not os.path.exists(dst)
                result.append((name, "SKIP" if refused else "FAIL", f"bnconv refuses: {err}"[:300]))
                continue
            written[label] = (dst, summary)
            result.append((name, *check(dst, case_dir, facts, [summary])))
        if "--no-verify" in written:
            there, first = written["--no-verify"]
            name = f"layout/tensorflow_layout/{case} -> {target} -> {source} --no-verify"
            dst = os.path.join(out_dir, f"{source}-back-{case}.pb")
            rc, err, summary = convert(bnconv, there, dst, source, ["--no-verify"])
            if rc != 0:
                refused = any(w in err for w in REFUSAL_WORDS) and not os.path.exists(dst)
                result.append((name, "SKIP" if refused else "FAIL", f"bnconv refuses: {err}"[:300]))
            else:
                result.append((name, *check(dst, case_dir, facts, [first, summary])))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--only")
    args = ap.parse_args()
    out_dir = tempfile.mkdtemp(prefix="bnconv-graphdef-layout-")
    found = rows(os.path.abspath(args.bnconv), args.fixtures, args.only, out_dir)
    for name, status, detail in found:
        print(f"{status}  {name}  {detail}")
    counts = {s: sum(1 for r in found if r[1] == s) for s in ("PASS", "FAIL", "SKIP")}
    print(f"outputs in {out_dir}")
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    return 0 if counts["FAIL"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
