"""What rest states and piles cost, beside the rest of the pipeline, measured in one run.

For each case it writes ``--n`` scenes exactly as ``scenegen generate`` does
(``SceneWorker.write``: sample + render every layer + labels + PNG encoding + files, one
process) and prints scenes/s, the sampling time per scene and, for piles, the time spent
settling (PyBullet, inside sampling) and everything else per scene, and their ratio:

  * ``upright``: the default (rest states off);
  * ``rest``: ``rest.chance=1`` (every object that carries nothing lies in a drawn level);
  * ``pile-K``: ``grammar=piles grammar.start=heaps`` with heaps of exactly K objects
    (K = 5, 10, 20) beside a group of 1 to 6 objects; the issue's bound is settling 10
    objects costing no more than the rest of that scene's pipeline.

Settling time is measured around ``scenegen.world.piles.settle`` (every call, the
layouts drawn again after a pile that did not settle included).

    python benchmarks/bench_rest.py                     # 30 scenes per case at 256x256
    python benchmarks/bench_rest.py --n 60 --size 512 --piles 10
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict

from scenegen import load_config
from scenegen.config.load import config_from_dict, config_to_dict
from scenegen.dataset.worker import SceneWorker
from scenegen.world import piles


class SettleClock:
    """Wraps ``scenegen.world.piles.settle`` for the block, adding up its seconds."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0
        self._settle = piles.settle

    def __enter__(self) -> "SettleClock":
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return self._settle(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        piles.settle = timed
        return self

    def __exit__(self, *exc) -> None:
        piles.settle = self._settle


def pile_config(size: int, objects: int, out: str):
    """grammar=piles with every scene a heap of exactly ``objects`` beside a group."""
    cfg = load_config([f"width={size}", f"height={size}", "grammar=piles", "grammar.start=heaps", f"out={out}",
                       f"placement.objects=[{objects + 1},{objects + 6}]"])
    data = config_to_dict(cfg)
    data["grammar"]["rules"]["heap"] = [{"repeat": "small", "count": [objects, objects], "arrange": "pile"}]
    return config_from_dict(data)


def run_case(cfg, n: int) -> dict:
    """Seconds of writing scenes 0..n-1 with one SceneWorker: total, sampling, settling."""
    stages = defaultdict(float)
    with SettleClock() as clock:
        worker = SceneWorker(cfg)
        try:
            worker.write(n, timings=defaultdict(float))  # warm: GL context, shaders, meshes (not counted)
            start = time.perf_counter()
            clock.seconds = 0.0
            for index in range(n):
                worker.write(index, timings=stages)
            worker.flush()
            total = time.perf_counter() - start
        finally:
            worker.close()
    return {"total": total, "sample": stages["sample"], "settle": clock.seconds,
            "rejected": int(worker.sampler.stats.get("pile did not settle", 0))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30, help="scenes per case")
    parser.add_argument("--size", type=int, default=256, help="image side, pixels")
    parser.add_argument("--piles", type=int, nargs="*", default=[5, 10, 20], help="objects per heap")
    args = parser.parse_args()
    print(f"{args.n} scenes per case, {args.size}x{args.size}, one process")
    print(f"{'case':>9} {'scenes/s':>9} {'sample ms':>10} {'settle ms':>10} {'rest ms':>8} {'settle/rest':>12} "
          f"{'redrawn':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        cases = {"upright": load_config([f"width={args.size}", f"height={args.size}", f"out={tmp}/upright"]),
                 "rest": load_config([f"width={args.size}", f"height={args.size}", "rest.chance=1",
                                      f"out={tmp}/rest"])}
        for objects in args.piles:
            cases[f"pile-{objects}"] = pile_config(args.size, objects, f"{tmp}/pile{objects}")
        for name, cfg in cases.items():
            figures = run_case(cfg, args.n)
            per_scene = {key: 1000 * value / args.n for key, value in figures.items() if key != "rejected"}
            others = per_scene["total"] - per_scene["settle"]
            ratio = f"{per_scene['settle'] / others:.2f}" if per_scene["settle"] else "-"
            print(f"{name:>9} {args.n / figures['total']:>9.1f} {per_scene['sample']:>10.1f} "
                  f"{per_scene['settle']:>10.1f} {others:>8.1f} {ratio:>12} {figures['rejected']:>8}")


if __name__ == "__main__":
    main()
