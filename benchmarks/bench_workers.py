"""Speed-up of ``scenegen generate`` with worker processes and Mesa render threads.

Runs the whole command (the API it calls: every scene written, then finishing) into a
temporary folder for each setting, in one run, and prints scenes/s and the speed-up
over one worker. Settings are ``WORKERSxTHREADS``: worker processes x llvmpipe threads
per worker (``LP_NUM_THREADS``; ``auto`` = what scenegen chooses: cores // workers for
several workers, Mesa's default of one per core for one).

    python benchmarks/bench_workers.py                      # 60 scenes at 256x256
    python benchmarks/bench_workers.py --n 100 --size 512 --settings 1xauto 2xauto 2x2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

CHILD = """
import sys, time
from scenegen import load_config
from scenegen.dataset.generate import generate
cfg = load_config(sys.argv[1:])
start = time.perf_counter()
generate(cfg, progress=False)
print(time.perf_counter() - start)
"""


def run(setting: str, n: int, size: int) -> float:
    """Seconds for one generate run in a fresh process (so each gets its own GL and
    thread settings)."""
    workers, threads = setting.split("x")
    env = dict(os.environ)
    env.pop("LP_NUM_THREADS", None)
    if threads != "auto":
        env["LP_NUM_THREADS"] = threads
    with tempfile.TemporaryDirectory() as out:
        args = [f"out={out}", f"n={n}", f"width={size}", f"height={size}", f"workers={workers}", "progress=false"]
        result = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--settings", nargs="+", default=["1xauto", "1x1", "2xauto", "2x2"])
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.n} scenes of {args.size}x{args.size} on {cores} cores, whole generate (scenes + finishing)")
    print(f"  {'workers x threads':<18} {'seconds':>8} {'scenes/s':>9} {'speed-up':>9}")
    base = None
    start = time.perf_counter()
    for setting in args.settings:
        seconds = run(setting, args.n, args.size)
        base = base or seconds
        print(f"  {setting:<18} {seconds:8.2f} {args.n / seconds:9.1f} {base / seconds:9.2f}", flush=True)
    print(f"({time.perf_counter() - start:.0f} s in all)")


if __name__ == "__main__":
    main()
