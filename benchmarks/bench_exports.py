"""What each export format adds to ``scenegen generate``: seconds per scene of the whole
command (every scene written, then finishing) with each ``format`` setting against none,
and the finishing step alone (its seconds, and the peak resident memory of the
coordinating process once it is done).

Each run is a fresh process (``generate`` as the command calls it), the settings are
interleaved round by round and the best of ``--rounds`` is kept, so load from other
processes on a shared machine skews the ratios as little as possible. With ``--workers``
2 or more the coordinator renders nothing, so its peak is the finishing step's.

    python benchmarks/bench_exports.py                                  # 200 scenes of 256x256, bop
    python benchmarks/bench_exports.py --n 100 --formats bop webdataset hf webdataset,hf,bop
    python benchmarks/bench_exports.py --n 2000 --size 64 --formats none --workers 2 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = """
import json, sys, time
from scenegen import load_config
from scenegen.dataset.generate import generate
from scenegen.dataset.shards import peak_memory_mib
cfg = load_config(sys.argv[1:])
n, seen, marks = int(cfg.n), [0], {}
def on_scene(index):
    seen[0] += 1
    if seen[0] == n:  # the last scene: finishing comes next
        marks["finish"], marks["resident"] = time.perf_counter(), peak_memory_mib()[0]
start = time.perf_counter()
generate(cfg, progress=False, on_scene=on_scene)
end = time.perf_counter()
print(json.dumps({"seconds": end - start, "finishing": end - marks.get("finish", start),
                  "resident_mib": marks.get("resident", 0.0), "peak_mib": peak_memory_mib()[1]}))
"""


def run(formats: str, n: int, size: int, workers: int) -> dict:
    """One ``generate`` of ``n`` scenes with ``format=[formats]`` (``none``: COCO alone)."""
    with tempfile.TemporaryDirectory() as out:
        args = [f"out={out}", f"n={n}", f"width={size}", f"height={size}", f"workers={workers}", "progress=false"]
        if formats != "none":
            args.append(f"format=[{formats}]")
        result = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--size", type=int, default=256, help="image side, pixels")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--formats", nargs="+", default=["bop"],
                        help="format settings to compare with none (a comma list is one setting)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; the best of each setting is kept")
    args = parser.parse_args()
    settings = ["none", *[f for f in args.formats if f != "none"]]
    best: dict = {}
    for _ in range(args.rounds):
        for setting in settings:
            result = run(setting, args.n, args.size, args.workers)
            if setting not in best or result["seconds"] < best[setting]["seconds"]:
                best[setting] = result
    print(f"{args.n} scenes of {args.size}x{args.size}, workers={args.workers}, best of {args.rounds}")
    print(f"  {'format':<22} {'s/scene':>8} {'vs none':>8} {'finishing s':>12} {'resident MiB':>13} {'peak MiB':>9}")
    base = best["none"]["seconds"] / args.n
    for setting in settings:
        r = best[setting]
        per_scene = r["seconds"] / args.n
        print(f"  {setting:<22} {per_scene:>8.4f} {per_scene / base - 1:>+8.0%} {r['finishing']:>12.2f} "
              f"{r['resident_mib']:>13.0f} {r['peak_mib']:>9.0f}")
    print("  (resident: the coordinator before finishing; peak: its peak after it)")


if __name__ == "__main__":
    main()
