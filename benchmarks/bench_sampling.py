"""Sampling speed alone (no rendering): scenes/s for scenes of a fixed object count.

    python benchmarks/bench_sampling.py                  # 3- and 12-object scenes
    python benchmarks/bench_sampling.py --objects 3 6 12 --n 500
"""

from __future__ import annotations

import argparse
import time

from scenegen import load_config
from scenegen.world.sampler import Sampler


def scenes_per_second(objects: int, n: int) -> float:
    # a 12-object layout needs more ground than the default area
    area = 0.8 if objects <= 5 else 1.6
    cfg = load_config([f"placement.objects=[{objects},{objects}]", f"placement.area={area}"])
    sampler = Sampler(cfg)
    sampler.sample(0)  # build the dictionary's meshes before the clock starts
    start = time.perf_counter()
    for index in range(n):
        sampler.sample(index)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, nargs="+", default=[3, 12])
    parser.add_argument("--n", type=int, default=300, help="scenes per object count")
    args = parser.parse_args()
    print(f"{'objects':>8} {'scenes/s':>10} {'ms/scene':>9}")
    for objects in args.objects:
        rate = scenes_per_second(objects, args.n)
        print(f"{objects:>8} {rate:>10.1f} {1000 / rate:>9.2f}")


if __name__ == "__main__":
    main()
