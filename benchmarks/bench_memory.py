"""Memory over a long run: resident memory after 500 scenes and after 10,000.

Runs ``scenegen generate`` (the API, as the command does) into a temporary folder and
reads the resident memory (VmRSS) of the process that renders: this process with
``--workers 1``, else each worker process (as reported after each chunk it writes).
Prints the resident memory at each checkpoint, the ratio of the last to the first
(flat means close to 1.00), the peak resident memory (VmHWM) of each worker and the
scenes/s.

    python benchmarks/bench_memory.py                       # 10,000 scenes of 64x64, 1 worker
    python benchmarks/bench_memory.py --workers 2 --n 2000 --checkpoints 500 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time

from scenegen import load_config
from scenegen.dataset.generate import generate
from scenegen.dataset.shards import peak_memory_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=64, help="image side, pixels")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[500, 2_000, 5_000, 10_000])
    args = parser.parse_args()
    checkpoints = sorted(c for c in args.checkpoints if c <= args.n)

    with tempfile.TemporaryDirectory() as out:
        cfg = load_config([f"out={out}", f"n={args.n}", f"width={args.size}", f"height={args.size}",
                           f"workers={args.workers}", "progress=false"])
        stats: dict = {}
        done, readings = 0, {}

        def on_scene(index: int) -> None:
            nonlocal done
            done += 1
            if done in checkpoints:
                if args.workers == 1:
                    readings[done] = [peak_memory_mib()[0]]
                else:
                    readings[done] = sorted(w["rss_mib"] for w in stats.get("workers", {}).values())
                print(f"  after {done:>6,} scenes: resident {', '.join(f'{r:.0f}' for r in readings[done])} MiB "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)

        print(f"{args.n:,} scenes of {args.size}x{args.size}, workers={args.workers}")
        start = time.perf_counter()
        generate(cfg, progress=False, on_scene=on_scene, stats=stats)
        elapsed = time.perf_counter() - start

    first, last = readings[checkpoints[0]], readings[checkpoints[-1]]
    ratios = [b / a for a, b in zip(first, last)]
    print(f"resident after {checkpoints[-1]:,} / after {checkpoints[0]:,}: {', '.join(f'{r:.3f}' for r in ratios)}")
    peaks = [peak_memory_mib()[1]] if args.workers == 1 else [w["peak_mib"] for w in stats["workers"].values()]
    print(f"peak resident per worker: {', '.join(f'{p:.0f} MiB' for p in sorted(peaks))}")
    print(f"throughput: {args.n / elapsed:.1f} scenes/s over {elapsed:.0f} s (including finishing)")


if __name__ == "__main__":
    main()
