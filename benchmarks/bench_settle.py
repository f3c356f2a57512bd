"""Settling speed with PyBullet (needs ``pip install 'scenegen[physics]'``): seconds per
``settle`` call for piles of built-in objects, each part of an object one convex piece.

A pile cycles through the built-in entries (first style, mean size) in random orientations
(seeded) over a square of 0.4 m, each released 2 cm above the previous one's top; the
simulation runs 2 s at 1/240 s per step. Median of ``--repeats`` runs.

    python benchmarks/bench_settle.py                   # piles of 5, 10 and 20 objects
    python benchmarks/bench_settle.py --objects 40 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from scenegen import load_config
from scenegen.streams import Stream, generator
from scenegen.world.dictionary import ObjectDictionary
from scenegen.world.piles import random_rotation
from scenegen.world.settle import SettleBody, settle


def pile(dictionary: ObjectDictionary, objects: int, seed: int = 0) -> list[SettleBody]:
    rng = generator(seed, Stream.BENCH_SETTLE)
    names = dictionary.names
    bodies, bottom = [], 0.02
    for i in range(objects):
        entry = dictionary[names[i % len(names)]]
        pieces = tuple(np.asarray(part.mesh.vertices) for part in entry.variant().parts)
        scale = (entry.size[0] + entry.size[1]) / 2
        rotation = random_rotation(rng)
        z = (np.concatenate(pieces) * scale @ rotation.T)[:, 2]
        x, y = rng.uniform(-0.2, 0.2, size=2)
        bodies.append(SettleBody(pieces, scale, rotation, (x, y, bottom - z.min())))
        bottom += float(np.ptp(z)) + 0.02
    return bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--repeats", type=int, default=3, help="runs per pile size (the median is shown)")
    parser.add_argument("--seconds", type=float, default=2.0, help="simulated seconds")
    args = parser.parse_args()
    dictionary = ObjectDictionary.from_config(load_config())
    print(f"{'objects':>8} {'pieces/body':>12} {'s/settle':>9} {'at rest':>8} {'left':>5}")
    for objects in args.objects:
        bodies = pile(dictionary, objects)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = settle(bodies, area_half=1.0, seconds=args.seconds, time_step=1 / 240)
            times.append(time.perf_counter() - start)
        pieces = sum(len(body.pieces) for body in bodies) / objects
        print(f"{objects:>8} {pieces:>12.1f} {statistics.median(times):>9.3f} "
              f"{sum(result.at_rest):>8} {sum(result.left_area):>5}")


if __name__ == "__main__":
    main()
