"""Runs bnconv commands on the files tools/attack/make_attacks.py wrote and tabulates what happened.

For each file and command: exit status (or the signal), wall time, peak RSS (GNU time), how many
lines stderr had and whether any output or temporary file was left. The issue's bar: status 1 (2
for a usage error) with one line naming the file, or 0 for a file that is a valid model with absurd
sizes (inspect, fold --no-verify); within 2 s and 200 MB; no temporary file left.

Usage: python3 tools/attack/run_attacks.py --bnconv BIN --dir ATTACK_DIR [--timeout 60] [--only SUBSTR]
"""
import argparse
import glob
import os
import subprocess
import tempfile
import time


def commands(path, out):
    ext = os.path.splitext(path)[1]
    return [
        ("inspect", ["inspect", path]),
        ("fold", ["fold", path, "-o", os.path.join(out, "folded" + ext)]),
        ("fold --no-verify", ["fold", path, "--no-verify", "-o", os.path.join(out, "fast" + ext)]),
        ("run", ["run", path]),
        ("convert onnx", ["convert", path, "-o", os.path.join(out, "x.onnx")]),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnconv", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    rows = []
    for path in sorted(glob.glob(os.path.join(args.dir, "*"))):
        if args.only not in os.path.basename(path):
            continue
        for label, _ in commands(path, ""):
            out = tempfile.mkdtemp(prefix="attack-")
            argv = dict(commands(path, out))[label]
            rss_file = tempfile.mktemp()
            started = time.time()
            try:
                p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file, args.bnconv] + argv,
                                   capture_output=True, text=True, timeout=args.timeout)
                status = p.returncode
                stderr = p.stderr
            except subprocess.TimeoutExpired:
                status, stderr = "TIMEOUT", ""
                subprocess.run(["pkill", "-9", "-f", argv[1]], capture_output=True)
            elapsed = time.time() - started
            try:
                text = open(rss_file).read().strip().splitlines()
                rss = int(text[-1]) // 1024
                if any("signal" in line for line in text):
                    status = next(line for line in text if "signal" in line).strip()
            except (OSError, ValueError, IndexError):
                rss = -1
            left = os.listdir(out)
            temporaries = [name for name in left if name.endswith(".tmp")]
            lines = [l for l in stderr.splitlines() if l.strip()]
            # The bar: a clean end (0 for a valid if absurd model, 1 or 2 with one line naming the
            # file), within 2 s and 200 MB, no temporary left, no output after an error.
            # (An export refusal names the output it would have written.)
            clean = status == 0 or (status in (1, 2) and len(lines) == 1 and (path in lines[0] or out in lines[0]) and not left)
            ok = clean and elapsed < 2 and rss < 200 and not temporaries
            rows.append((os.path.basename(path), label, status, f"{elapsed:.2f}", rss, len(lines), ",".join(left), "ok" if ok else "FAIL",
                         (lines[-1] if lines else "")[:160]))
            print(" | ".join(str(c) for c in rows[-1]), flush=True)


if __name__ == "__main__":
    main()
