"""How many renders each probe strategy needs to find a known failure, and how fast a
probe renders.

Part 1 (no rendering): the FakeEvaluator of tests/probe_fakes.py stands in for the
renderer and a model that errs with probability FAIL_RATE inside a failure region and
NOISE elsewhere. For each region, strategy and seed it prints the renders after which
the region's tuple is the worst finding for good (the budget + 1 when it is not at the
end), and the mean over the seeds.

Part 2: a real probe run (rendering, stub classifier) and its scenes per second.

    python benchmarks/bench_probe.py [--seeds 10] [--budget 400] [--renders 120]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from probe_fakes import FakeEvaluator, renders_to_find  # noqa: E402

import scenegen  # noqa: E402
from scenegen.probe import run_probe  # noqa: E402
from scenegen.probe.run import run_search  # noqa: E402

FAIL_RATE, NOISE = 0.7, 0.1
REGIONS = {
    "category=chair, context=outdoor": (lambda f: f["category"] == "chair" and f["context"] == "outdoor",
                                        {"category": "chair", "context": "outdoor"}),
    "category=mug, pose=back": (lambda f: f["category"] == "mug" and f["pose"] == "back", {"category": "mug", "pose": "back"}),
    "occlusion=heavy": (lambda f: f["occlusion"] == "heavy", {"occlusion": "heavy"}),
}


def search_table(seeds: int, budget: int) -> None:
    base = scenegen.load_config(["probe.local_fraction=0", "probe.batch=8"])
    print(f"renders until the failing tuple is the worst finding for good (budget {budget}; model wrong "
          f"{FAIL_RATE:.0%} inside, {NOISE:.0%} outside; {seeds} seeds; '-' = not found)")
    for region, (fails, wanted) in REGIONS.items():
        print(f"\n{region}")
        means = {}
        for strategy in ("covering", "random", "adaptive"):
            counts = []
            for seed in range(seeds):
                cfg = OmegaConf.merge(base, {"seed": seed, "probe": {"strategy": strategy, "budget": budget}})
                search = run_search(cfg, FakeEvaluator(cfg, fails, fail_rate=FAIL_RATE, noise=NOISE, seed=seed))
                counts.append(renders_to_find(search.history, wanted))
            means[strategy] = np.mean([budget + 1 if c is None else c for c in counts])
            shown = " ".join("-" if c is None else str(c) for c in counts)
            print(f"  {strategy:9s} mean {means[strategy]:6.1f}  found {sum(c is not None for c in counts)}/{seeds}  [{shown}]")
        print(f"  adaptive / random = {means['adaptive'] / means['random']:.2f}")


def chair_outdoor(images, truth):
    return ["table" if (t["factors"]["category"], t["factors"]["context"]) == ("chair", "outdoor") else t["category"]
            for t in truth]


def render_speed(renders: int) -> None:
    print(f"\nrendered probe, {renders} scenes, stub classifier on 64x64 crops:")
    for factors in ("[category,context]", "[category,pose,context,occlusion]"):
        with tempfile.TemporaryDirectory() as out:
            cfg = scenegen.load_config(["width=128", "height=128", "progress=false", "probe.strategy=random",
                                        f"probe.budget={renders}", f"probe.factors={factors}", f"probe.out={out}"])
            start = time.perf_counter()
            run_probe(cfg, chair_outdoor)
            seconds = time.perf_counter() - start
        print(f"  factors {factors:36s} {renders / seconds:5.1f} scenes/s ({seconds:.1f} s, report files included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--renders", type=int, default=120)
    args = parser.parse_args()
    search_table(args.seeds, args.budget)
    render_speed(args.renders)


if __name__ == "__main__":
    main()
