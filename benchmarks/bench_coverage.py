"""Coverage tracker throughput: add 1,000,000 object records and report on them.

Objects get random levels of the default config's tracked factors (9 factors), in
scenes of 1..6 objects; the records are built before the clock starts. Prints the time
to add them, to report t-way coverage (objects and scenes), to serialise and reload
coverage.json, and to merge shards.

    python benchmarks/bench_coverage.py [--objects 1000000]
"""

from __future__ import annotations

import argparse
import time

from scenegen import load_config
from scenegen.design.coverage import CoverageTracker
from scenegen.design.universe import coverage_universe
from scenegen.streams import Stream, generator
from scenegen.world.sampler import Sampler


def make_records(levels: dict, n_objects: int, seed: int = 0) -> list[dict]:
    rng = generator(seed, Stream.BENCH_COVERAGE)
    factors = list(levels)
    picks = {f: rng.integers(len(levels[f]), size=n_objects) for f in factors}
    sizes = rng.integers(1, 7, size=n_objects)
    records, start = [], 0
    while start < n_objects:
        stop = min(n_objects, start + int(sizes[len(records)]))
        objects = [{"factors": {f: levels[f][picks[f][i]] for f in factors}} for i in range(start, stop)]
        records.append({"index": len(records), "objects": objects})
        start = stop
    return records


def timed(label: str, fn):
    t0 = time.perf_counter()
    result = fn()
    print(f"  {label:<44} {time.perf_counter() - t0:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1_000_000)
    args = parser.parse_args()
    cfg = load_config([])
    levels, forbidden = coverage_universe(Sampler(cfg).world)
    records = make_records(levels, args.objects)
    print(f"{args.objects:,} objects in {len(records):,} scenes, {len(levels)} factors, {len(forbidden)} constraints")

    def add_all():
        tracker = CoverageTracker(levels, forbidden=forbidden)
        for record in records:
            tracker.add_record(record)
        return tracker

    tracker = timed("add_record (all objects)", add_all)
    design = list(cfg.design_factors)
    report = timed("tway(2) over design factors, objects", lambda: tracker.tway(2, design))
    print(f"    -> {report['covered']}/{report['tuples']} pairs covered")
    timed("tway(2) over all 9 factors, objects", lambda: tracker.tway(2))
    timed("tway(2) over all 9 factors, scenes", lambda: tracker.tway(2, unit="scenes"))
    timed("tway(3) over all 9 factors, objects", lambda: tracker.tway(3))
    data = timed("to_dict (coverage.json content)", tracker.to_dict)
    timed("from_dict (verified reload)", lambda: CoverageTracker.from_dict(data))
    quarter = len(records) // 4

    def shards():
        parts = []
        for k in range(4):
            part = CoverageTracker(levels, forbidden=forbidden)
            for record in records[k * quarter:(k + 1) * quarter if k < 3 else len(records)]:
                part.add_record(record)
            parts.append(part)
        return parts

    parts = shards()
    merged = timed("merge 4 shards", lambda: parts[3].merge(parts[1]).merge(parts[0]).merge(parts[2]))
    print(f"  merged == whole: {merged.to_dict() == data}")


if __name__ == "__main__":
    main()
