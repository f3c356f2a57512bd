"""Directive hit rates and cost: how often a requested combination shows in the labels.

Draws feasible random directives (category, context, pose, occlusion, material), samples
one scene per directive, renders it and labels it, then prints per factor the fraction
of scenes whose target object's *rendered* labels show the requested level, per
occlusion level the sampling time (the occluder search runs there), and the occluder
search's work: trials made and cases measured (counts, which do not move with the
machine's load as times do).

    python benchmarks/bench_directives.py                    # 300 directives at 256x256
    python benchmarks/bench_directives.py --n 60 --size 160
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

# scenegen imports trimesh on first use (scenegen.lazy): imported here, before the clock
# starts, its import (about 0.5 s) does not count in the first scene's occlusion level;
# each shape's first build still counts
import trimesh  # noqa: F401

from scenegen import load_config
from scenegen.design.hitrate import directive_outcomes, hit_rates, random_directives
from scenegen.render.raster import Renderer
from scenegen.world.sampler import Sampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300, help="directives")
    parser.add_argument("--size", type=int, default=256, help="image width = height, pixels")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    cfg = load_config([f"width={args.size}", f"height={args.size}", f"seed={args.seed}"])
    sampler = Sampler(cfg)
    directives = random_directives(sampler, args.n, seed=args.seed)

    with Renderer(sampler.dictionary) as renderer:
        start = time.perf_counter()
        outcomes = list(directive_outcomes(sampler, renderer, directives))
        elapsed = time.perf_counter() - start
    report = hit_rates(outcomes)
    seconds = defaultdict(list)  # occlusion level -> sampling seconds per placed scene
    for outcome in outcomes:
        if outcome.placed:
            seconds[outcome.directive.occlusion].append(outcome.seconds)

    failed = report.pop("_failed")["scenes"]
    print(f"{args.n} directives at {args.size}x{args.size}, seed {args.seed}: "
          f"{failed} could not be placed, {args.n / elapsed:.2f} directed scenes/s (sample + render + label)")
    print(f"{'factor':>10} {'hits':>6} {'scenes':>7} {'hit rate':>9}")
    for factor, row in report.items():
        print(f"{factor:>10} {row['hits']:>6} {row['scenes']:>7} {row['rate']:>9.3f}")
    print(f"{'occlusion':>10} {'scenes':>7} {'mean ms':>8} {'max ms':>8}   (sampling only)")
    for level, times in sorted(seconds.items()):
        print(f"{level:>10} {len(times):>7} {1000 * sum(times) / len(times):>8.1f} {1000 * max(times):>8.1f}")
    work, searched = sampler.search_work, len(seconds.get("partial", ())) + len(seconds.get("heavy", ()))
    if searched:  # counts, unlike times, do not move with the machine's load
        print(f"occluder search: {work['trials']} trials, {work['coarse-grid cases']} cases measured on the "
              f"coarse grid and {work['full-grid cases']} on the full grid, for {searched} partial and heavy "
              f"scenes ({work['trials'] / searched:.1f} trials a scene, failed searches included)")
    print(f"rejections while sampling: {dict(sampler.stats)}")


if __name__ == "__main__":
    main()
