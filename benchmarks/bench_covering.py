"""Covering-array sizes against the best known ones (and allpairspy, for pairs).

    python benchmarks/bench_covering.py                 # every case, seed 0
    python benchmarks/bench_covering.py --seeds 0 1 2   # best and worst over seeds
    python benchmarks/bench_covering.py --iterations 100000

Best known sizes: C. J. Colbourn, "Covering Array Tables" (Arizona State University,
https://www.public.asu.edu/~ccolbou/src/tabby/catable.html); the uniform cases below
are all orthogonal arrays or proven optimal. For the constrained cases of the
scenegen factors (category 10 x pose 9 x context 3 x occlusion 3) "best" is a proven
optimum: forbidding outdoor lamps leaves all 10 x 9 category-pose pairs, one row each,
and 90 rows suffice; restricting "ball" to pose "any" as well leaves 81 + 1 pairs, but
the ball must also meet 3 contexts, hence 81 + 3 = 84 (see tests/design/test_design.py).
allpairspy (``pip install allpairspy``) only does strength 2; its column is blank when
it is not installed, and notes the feasible pairs its output misses (with a filter it
can drop some).
"""

from __future__ import annotations

import argparse
import time

from scenegen.design.covering import covering_array, verify_covering
from scenegen.streams import Stream, generator


def uniform(v: int, k: int) -> dict[str, list[str]]:
    return {f"f{i}": [f"l{j}" for j in range(v)] for i in range(k)}


MIXED = {
    "category": ["ball", "box", "can", "cone", "crate", "cup", "lamp", "mug", "plant", "vase"],
    "pose": ["front", "back", "left", "right", "top", "bottom", "tilt_l", "tilt_r", "any"],
    "context": ["indoor", "outdoor", "studio"],
    "occlusion": ["none", "partial", "heavy"],
}
MIXED_FORBIDDEN = [{"category": "lamp", "context": "outdoor"}]
BALL_FORBIDDEN = MIXED_FORBIDDEN + [{"category": "ball", "pose": p} for p in MIXED["pose"] if p != "any"]

# name, levels, strength, forbidden, best known size, source
CASES = [
    ("3^4 t=2", uniform(3, 4), 2, [], 9, "Colbourn CA tables (OA)"),
    ("2^10 t=2", uniform(2, 10), 2, [], 6, "Colbourn CA tables (Kleitman-Spencer)"),
    ("5^6 t=2", uniform(5, 6), 2, [], 25, "Colbourn CA tables (OA)"),
    ("3^13 t=2", uniform(3, 13), 2, [], 15, "Colbourn CA tables"),
    ("4^5 t=2", uniform(4, 5), 2, [], 16, "Colbourn CA tables (OA)"),
    ("2^4 t=3", uniform(2, 4), 3, [], 8, "Colbourn CA tables (OA)"),
    ("3^4 t=3", uniform(3, 4), 3, [], 27, "Colbourn CA tables (OA)"),
    ("10x9x3x3 t=2 no lamp/outdoor", MIXED, 2, MIXED_FORBIDDEN, 90, "optimal (10x9 pairs)"),
    ("  + ball pose 'any' only", MIXED, 2, BALL_FORBIDDEN, 84, "optimal (81 + 3 ball contexts)"),
]


def allpairspy_size(levels, forbidden) -> str | None:
    try:
        from allpairspy import AllPairs
    except ImportError:
        return None
    names = list(levels)

    def ok(row) -> bool:  # allpairspy calls this on partial rows (a prefix of the factors)
        got = dict(zip(names, row))
        return not any(all(got.get(f) == lv for f, lv in item.items()) for item in forbidden)

    rows = [dict(zip(names, row)) for row in AllPairs([levels[n] for n in names], filter_func=ok)]
    missing = len(verify_covering(rows, levels, 2, forbidden))
    # allpairspy can drop pairs when a filter is given; say so rather than flatter it
    return f"{len(rows)}" if not missing else f"{len(rows)} (misses {missing})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--iterations", type=int, default=30_000)
    parser.add_argument("--max-seconds", type=float, default=10.0)
    args = parser.parse_args()
    try:
        import allpairspy  # noqa: F401
    except ImportError:
        print("allpairspy not installed: pip install allpairspy")
    print(f"{'case':<30} {'best':>5}  {'source':<38} {'scenegen':>9} {'allpairspy':>16} {'time s':>7}")
    for name, levels, t, forbidden, best, source in CASES:
        sizes, seconds = [], []
        for seed in args.seeds:
            start = time.perf_counter()
            rows = covering_array(levels, t, generator(seed, Stream.BENCH_COVERING), forbidden=forbidden,
                                  iterations=args.iterations, max_seconds=args.max_seconds)
            seconds.append(time.perf_counter() - start)
            assert verify_covering(rows, levels, t, forbidden) == [], name
            sizes.append(len(rows))
        ours = str(min(sizes)) if min(sizes) == max(sizes) else f"{min(sizes)}-{max(sizes)}"
        ap = allpairspy_size(levels, forbidden) if t == 2 else None
        print(f"{name:<30} {best:>5}  {source:<38} {ours:>9} {'' if ap is None else ap:>16} "
              f"{max(seconds):>7.2f}")


if __name__ == "__main__":
    main()
