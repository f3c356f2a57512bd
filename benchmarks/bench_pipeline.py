"""Throughput of the full pipeline against a bare pyrender loop, measured in one run.

For each image size it prints:
  * pipeline scenes/s: sample + render all layers + label + PNG encode + write, one process;
  * bare frames/s: a plain pyrender loop rendering the same scenes (RGB and depth), with
    scene graphs built before the clock starts;
  * the ratio of the two, and the time per scene and share of each pipeline stage
    (sample; render: scene graph build, RGB pass, id pass, amodal passes, normals;
    labels; PNG/JSON encoding; file writing).

    python benchmarks/bench_pipeline.py                 # 60 scenes at 256 and 512
    python benchmarks/bench_pipeline.py --n 200 --sizes 256
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict

from scenegen.config import load_config
from scenegen.formats.files import write_scene
from scenegen.labels import object_labels
from scenegen.worker import SceneWorker
from scenegen.render import _offscreen_renderer

# pipeline stages in order; the renderer and write_scene report their own steps
STAGES = ("sample", "build", "rgb pass", "id pass", "amodal passes", "normals", "labels", "encode", "write")


def bench_size(size: int, n: int, warmup: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cfg = load_config([f"width={size}", f"height={size}", f"out={out}", f"n={n}"])
        worker = SceneWorker(cfg)
        for index in range(warmup):  # GL context, shader compilation, mesh caches
            worker.write(n + index)

        stage = defaultdict(float)
        start = time.perf_counter()
        scenes = []
        for index in range(n):
            t0 = time.perf_counter()
            scene = worker.sampler.sample(index)
            t1 = time.perf_counter()
            frame = worker.renderer.render(scene, timings=stage)  # build, rgb, id, amodal, normals
            t2 = time.perf_counter()
            labels = object_labels(scene, frame, worker.dictionary, cfg.factors)
            t3 = time.perf_counter()
            write_scene(out, scene, frame, labels, cfg.output, timings=stage)  # encode, write
            stage["sample"] += t1 - t0
            stage["labels"] += t3 - t2
            scenes.append(scene)
        pipeline_time = time.perf_counter() - start

        renderer = worker.renderer
        graphs = [renderer._build(scene)[:2] for scene in scenes]
        offscreen = _offscreen_renderer(renderer._pyrender, size, size)
        offscreen.render(graphs[0][0])
        start = time.perf_counter()
        for graph, object_nodes in graphs:
            with renderer.colour_pass(object_nodes):  # one node per object, as a user would build
                offscreen.render(graph)  # RGB and depth
        bare_time = time.perf_counter() - start
        objects = sum(len(s.objects) for s in scenes)
    return {
        "size": size,
        "pipeline": n / pipeline_time,
        "bare": n / bare_time,
        "stage": {k: v / pipeline_time for k, v in stage.items()},
        "objects": objects / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=60, help="scenes per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="square image sides, pixels")
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    print(f"{'size':>6} {'pipeline scenes/s':>18} {'bare frames/s':>14} {'ratio':>7} {'objects/scene':>14}")
    results = [bench_size(size, args.n, args.warmup) for size in args.sizes]
    for r in results:
        print(f"{r['size']:>6} {r['pipeline']:>18.1f} {r['bare']:>14.1f} {r['pipeline'] / r['bare']:>7.2f} "
              f"{r['objects']:>14.1f}")
    for r in results:
        print(f"time per scene at {r['size']}:")
        for name in STAGES:
            share = r["stage"].get(name, 0.0)
            print(f"  {name:>14} {1000 * share / r['pipeline']:7.2f} ms  {share:5.1%}")


if __name__ == "__main__":
    main()
