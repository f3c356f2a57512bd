"""Memory over a long run: resident memory after 500 scenes and after 10,000.

Runs ``scenegen generate`` (the API, as the command does) into a temporary folder and
reads the resident memory (VmRSS) of the process that renders: this process with
``--workers 1``, else each worker process (as reported after each chunk it writes).
Prints the resident memory at each checkpoint, the ratio of the last to the first
(flat means close to 1.00), the peak resident memory (VmHWM) of each worker and the
scenes/s. Then the finishing step (coco.json, coverage.json, the ``--format`` exports
and the manifest, streamed from the scenes' pieces): the coordinating process's resident
memory before it and its peak after it, and its seconds. With ``--workers`` 2 or more the
coordinator renders nothing, so its peak is the finishing step's.

    python benchmarks/bench_memory.py                       # 10,000 scenes of 64x64, 1 worker
    python benchmarks/bench_memory.py --workers 2 --n 2000 --checkpoints 500 2000
    python benchmarks/bench_memory.py --workers 2 --n 2000 --checkpoints 2000 --format webdataset hf bop
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
    parser.add_argument("--format", nargs="*", default=[], help="export formats besides coco (webdataset hf bop)")
    args = parser.parse_args()
    checkpoints = sorted(c for c in args.checkpoints if c <= args.n)

    with tempfile.TemporaryDirectory() as out:
        cfg = load_config([f"out={out}", f"n={args.n}", f"width={args.size}", f"height={args.size}",
                           f"workers={args.workers}", "progress=false", f"format=[{','.join(['coco', *args.format])}]"])
        stats: dict = {}
        done, readings = 0, {}
        finishing: dict = {}

        def on_scene(index: int) -> None:
            nonlocal done
            done += 1
            if done == args.n:  # the last scene: the finishing step comes next
                finishing["resident"], finishing["start"] = peak_memory_mib()[0], time.perf_counter()
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
        finishing["seconds"] = time.perf_counter() - finishing.get("start", start)

    first, last = readings[checkpoints[0]], readings[checkpoints[-1]]
    ratios = [b / a for a, b in zip(first, last)]
    print(f"resident after {checkpoints[-1]:,} / after {checkpoints[0]:,}: {', '.join(f'{r:.3f}' for r in ratios)}")
    peaks = [peak_memory_mib()[1]] if args.workers == 1 else [w["peak_mib"] for w in stats["workers"].values()]
    print(f"peak resident per worker: {', '.join(f'{p:.0f} MiB' for p in sorted(peaks))}")
    print(f"throughput: {args.n / elapsed:.1f} scenes/s over {elapsed:.0f} s (including finishing)")
    if "resident" in finishing:
        print(f"finishing ({', '.join(['coco', *args.format])}): coordinator resident {finishing['resident']:.0f} MiB "
              f"before it, peak {peak_memory_mib()[1]:.0f} MiB after it"
              f"{' (the rendering included: one worker)' if args.workers == 1 else ''}; {finishing['seconds']:.1f} s")


if __name__ == "__main__":
    main()
