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
