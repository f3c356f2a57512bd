"""Throughput of the full pipeline against a bare pyrender loop, measured in one run.

For each image size, with the default lights (which cast shadows) and again with
``lights.shadows=false``, it prints:
  * pipeline scenes/s: exactly what ``scenegen generate`` (workers=1) does per scene,
    through SceneWorker.write: sample + render every layer + label + PNG encode +
    write (encoding and writing on SceneWorker's writer thread, overlapping the next
    scene), in chunks of INLINE_CHUNK_SCENES scenes each flushed (every file on disk) before
    the next, as generate's executor does; one process;
  * bare frames/s: the same scenes' colour images drawn by pyrender alone (its
    shadow-map passes when the lights cast shadows, and its forward pass, RGB and
    depth read back), in one process, with the same scene graphs (meshes, materials,
    lights, shadow setup) built outside the clock: no ground-truth layers, labels or
    files;
  * their ratio; the cost of shadows (bare ms per frame with and without);
  * the time per scene of each stage of the pipeline, on SceneWorker's thread: sample;
    drawing: scene graph build, RGB pass (with its shadow maps), flat passes (ids,
    normals and depth; amodal masks); then, while the rasterizer threads draw, the
    previous scene's decoding (ids, depth, normals, amodal masks), labels, JSON record,
    its part of the ``format`` exports ("export": its COCO image and annotations, and
    what ``--format`` adds) and hand-over to the writer ("wait"); then reading the
    layers back ("readback", mostly waiting for the rasterizer); and, on the writer
    thread (overlapping the next scenes, not on the critical path), PNG encoding and
    writing the files.

Then the looks (``--looks``): the same pipeline under ``preset=realistic`` (environment
maps with their key light's shadows, the map seen behind, ambient occlusion, texture
sets, tone mapping, camera effects drawn per scene), without its camera effects, and
without them and the map behind the scene, the ambient occlusion or the texture sets,
so each costs what the differences say; and each camera effect alone on a rendered
image (ms per image, at the preset's strongest setting).

Each figure is the best of ``--rounds`` rounds (pipeline and bare loop alternate), so
load from other processes on the machine skews the ratio as little as possible.

    python benchmarks/bench_pipeline.py                 # 60 scenes at 256 and 512
    python benchmarks/bench_pipeline.py --n 200 --sizes 256
    python benchmarks/bench_pipeline.py --sizes 256 --no-looks --format bop   # with BOP's per-scene part
    LP_NUM_THREADS=1 python benchmarks/bench_pipeline.py    # llvmpipe's threads
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from dataclasses import replace

from scenegen import load_config
from scenegen.dataset.pipeline import INLINE_CHUNK_SCENES
from scenegen.dataset.worker import SceneWorker
from scenegen.render.effects import apply_effects
from scenegen.scene.scene import CameraEffects

# stages in order, as SceneWorker and the renderer report them: this thread's, then the
# writer thread's; decode, labels, record, export (its part of the format exports) and wait
# (the previous scene's) run while the rasterizer draws the next scene
MAIN_STAGES = ("sample", "build", "rgb pass", "flat passes", "decode", "labels", "record", "export", "wait",
               "readback")
WRITER_STAGES = ("encode", "write")


def pipeline_round(worker: SceneWorker, n: int) -> tuple[float, dict]:
    """Seconds to write scenes 0..n-1 with ``worker`` as ``scenegen generate`` does (in
    chunks of INLINE_CHUNK_SCENES, all files on disk at the end of each), and the seconds of
    each stage."""
    stage = defaultdict(float)
    start = time.perf_counter()
    for first in range(0, n, INLINE_CHUNK_SCENES):
        for index in range(first, min(n, first + INLINE_CHUNK_SCENES)):
            worker.write(index, timings=stage)
        worker.flush()
    return time.perf_counter() - start, stage


def bare_round(worker: SceneWorker, n: int, shadows: bool) -> float:
    """Seconds pyrender takes to draw the colour images (RGB + depth) of scenes 0..n-1,
    each scene graph built before its frame's clock starts."""
    renderer = worker.renderer
    total = 0.0
    for index in range(n):
        graph = renderer.build(worker.sampler.sample(index))
        if not shadows:
            graph.lights = [(node, False) for node, _ in graph.lights]
        start = time.perf_counter()
        renderer.render_colour(graph)
        total += time.perf_counter() - start
    return total


REALISTIC = ["preset=realistic"]
NO_EFFECTS = [*REALISTIC, *(f"camera.effects.{name}.weight=0" for name in ("phone", "portrait", "low-light"))]
LOOKS = {  # name -> overrides
    "flat": [],
    "realistic": REALISTIC,
    "realistic, no camera effects": NO_EFFECTS,
    "realistic, no effects, no map behind": [*NO_EFFECTS, "lighting.background=false"],
    "realistic, no effects, no occlusion": [*NO_EFFECTS, "lighting.occlusion=0"],
    "realistic, no effects, no texture sets": [*NO_EFFECTS, "surfaces.sets=none"],
}
# each camera effect alone, at the realistic preset's strongest setting
EFFECTS = {
    "sensor noise": CameraEffects(name="noise", seed=1, noise=0.06),
    "white balance": CameraEffects(name="wb", white_balance=(1.35, 1.0, 0.62)),
    "JPEG q60": CameraEffects(name="jpeg", jpeg_quality=60),
    "depth of field (3 cm)": CameraEffects(name="dof", aperture=0.03, focus_distance=1.0),
    "motion blur (8 px)": CameraEffects(name="motion", motion_blur=8.0, motion_angle=0.5),
    "vignetting": CameraEffects(name="vignette", vignetting=0.3),
}


def bench(size: int, n: int, warmup: int, rounds: int, shadows: bool, overrides=(), bare: bool = True) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cfg = load_config([f"width={size}", f"height={size}", f"out={out}", f"n={n}",
                           f"lights.shadows={str(shadows).lower()}", *overrides])
        worker = SceneWorker(cfg)
        try:
            for index in range(warmup):  # GL context, shader compilation, mesh pools
                worker.write(n + index)
            worker.flush()
            best_pipeline, best_stage, best_bare = float("inf"), {}, float("inf")
            for _ in range(rounds):
                seconds, stage = pipeline_round(worker, n)
                if seconds < best_pipeline:
                    best_pipeline, best_stage = seconds, stage
                if bare:
                    best_bare = min(best_bare, bare_round(worker, n, shadows))
        finally:
            worker.close()
    return {
        "size": size,
        "shadows": shadows,
        "pipeline": n / best_pipeline,
        "bare": n / best_bare,
        "stage_ms": {k: 1000 * v / n for k, v in best_stage.items()},
    }


def effect_ms(size: int, repeats: int = 10) -> dict:
    """ms per image of each camera effect of :data:`EFFECTS` alone on a rendered
    realistic scene of ``size`` pixels a side (best of ``repeats``)."""
    cfg = load_config([f"width={size}", f"height={size}", *NO_EFFECTS])
    worker = SceneWorker(cfg)
    try:
        scene = worker.sampler.sample(0)
        frame = worker.renderer.render(scene)
    finally:
        worker.close()
    costs = {}
    for name, effects in EFFECTS.items():
        effects = replace(effects, focus_distance=scene.camera.distance) if effects.aperture else effects
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            apply_effects(frame.rgb, frame.depth, scene.camera.fx, effects)
            best = min(best, time.perf_counter() - start)
        costs[name] = 1000 * best
    return costs


def print_looks(sizes, n: int, warmup: int, rounds: int) -> None:
    """Pipeline scenes/s of each look of :data:`LOOKS`, and each camera effect's cost."""
    print("looks (pipeline scenes/s; ms per scene):")
    for size in sizes:
        base = None
        for name, overrides in LOOKS.items():
            result = bench(size, n, warmup, rounds, True, overrides, bare=False)
            ms = 1000 / result["pipeline"]
            base = ms if base is None else base
            print(f"  {size}: {name:<38} {result['pipeline']:>6.1f} scenes/s  {ms:>6.2f} ms  "
                  f"({ms / base:.2f}x flat)")
        costs = effect_ms(size)
        print(f"  {size}: each camera effect alone, ms per image: "
              + ", ".join(f"{name} {ms:.2f}" for name, ms in costs.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=60, help="scenes per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="square image sides, pixels")
    parser.add_argument("--warmup", type=int, default=20, help="scenes written first, outside the clock")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per figure; the best is kept")
    parser.add_argument("--looks", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure the realistic preset and the cost of its parts")
    parser.add_argument("--format", nargs="*", default=[],
                        help="export formats besides coco whose per-scene parts the workers make (bop, hf, ...)")
    args = parser.parse_args()
    formats = [f"format=[{','.join(['coco', *args.format])}]"]
    results = [bench(size, args.n, args.warmup, args.rounds, shadows, formats)
               for size in args.sizes for shadows in (True, False)]
    print(f"{'size':>5} {'shadows':>8} {'pipeline scenes/s':>18} {'bare frames/s':>14} {'ratio':>6}")
    for r in results:
        print(f"{r['size']:>5} {'on' if r['shadows'] else 'off':>8} {r['pipeline']:>18.1f} {r['bare']:>14.1f} "
              f"{r['pipeline'] / r['bare']:>6.2f}")
    print("cost of shadows (bare loop, ms per frame):")
    for size in args.sizes:
        on, off = (next(r for r in results if r["size"] == size and r["shadows"] is s) for s in (True, False))
        print(f"  {size}: {1000 / off['bare']:.2f} without, {1000 / on['bare']:.2f} with "
              f"(+{1000 / on['bare'] - 1000 / off['bare']:.2f}); pipeline {1000 / off['pipeline']:.2f} -> "
              f"{1000 / on['pipeline']:.2f} ms per scene")
    for r in results:
        ms = r["stage_ms"]
        print(f"time per scene at {r['size']}, shadows {'on' if r['shadows'] else 'off'} "
              f"(pipeline {1000 / r['pipeline']:.2f} ms):")
        print("  " + ", ".join(f"{name} {ms.get(name, 0.0):.2f}" for name in MAIN_STAGES))
        print("  writer thread (overlaps the next scene): "
              + ", ".join(f"{name} {ms.get(name, 0.0):.2f}" for name in WRITER_STAGES))
    if args.looks:
        print_looks(args.sizes, args.n, args.warmup, args.rounds)


if __name__ == "__main__":
    main()
