"""Asset libraries at scale: indexing a library of thousands of mesh files, and the
per-scene cost of a dictionary that holds them, measured in one run.

It writes a generic-layout library (one folder per category, small PLY, OBJ and GLB
meshes of a few hundred triangles each, every one a different shape) into a temporary
folder, then prints:

  * cold index: the first ``load_library`` of the folder (every file read, checked and
    hashed, the index written to a fresh ``$SCENEGEN_CACHE``): seconds, files/s, and
    the peak of Python's allocations (tracemalloc) and the growth of the process's
    resident memory;
  * warm index: the same call again with the index in place (files unchanged: only
    their size and mtime are looked at);
  * per-scene cost: sample + render + labels of the same scene indices with the
    built-in dictionary and with the built-in dictionary plus the library, each a
    first pass (a library file is loaded the first time a scene uses it) and a second
    pass over the same scenes (everything in memory), and their ratio.

    python benchmarks/bench_libraries.py                  # 5,000 files, 40 scenes at 128x96
    python benchmarks/bench_libraries.py --files 500 --scenes 20
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import trimesh

from scenegen.streams import Stream, generator

CATEGORIES = ("mug", "bottle", "can", "book", "crate", "ball")
FORMATS = ("ply", "obj", "glb")


def write_library(root: Path, files: int, seed: int = 0) -> None:
    """``files`` meshes spread over CATEGORIES, each a primitive with its own proportions
    and a random bump field, exported in turn as PLY, OBJ and GLB (Z-up: GLB files get
    a ``meta.yaml`` entry saying so)."""
    rng = generator(seed, Stream.BENCH_LIBRARIES)
    for c, category in enumerate(CATEGORIES):
        folder = root / category
        folder.mkdir(parents=True)
        names = []
        for i in range(c, files, len(CATEGORIES)):
            kind = i % 3
            if kind == 0:
                mesh = trimesh.creation.cylinder(radius=rng.uniform(0.3, 0.6), height=1.0, sections=24)
            elif kind == 1:
                mesh = trimesh.creation.box(extents=rng.uniform(0.4, 1.0, size=3))
                mesh = mesh.subdivide().subdivide()
            else:
                mesh = trimesh.creation.icosphere(subdivisions=2, radius=0.5)
            mesh.vertices += rng.normal(0, 0.01, size=mesh.vertices.shape)
            name = f"{category}_{i:05d}.{FORMATS[i % len(FORMATS)]}"
            mesh.export(folder / name)
            names.append(name)
        glbs = "".join(f"  {name}: {{up: z}}\n" for name in names if name.endswith(".glb"))
        (folder / "meta.yaml").write_text(f"size: [0.1, 0.3]\nlicense: CC0-1.0\nfiles:\n{glbs}")


def rss_mib() -> float:
    """The process's peak resident memory so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_index(root: Path, max_faces: int):
    from scenegen.world.libraries import load_library

    tracemalloc.start()
    rss_before = rss_mib()
    start = time.perf_counter()
    assets, report = load_library("bench", {"path": str(root), "layout": "generic"}, list(CATEGORIES), max_faces)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return assets, report, seconds, peak / 2**20, rss_mib() - rss_before


def scene_pass(cfg, indices, sampler, renderer) -> float:
    """Seconds per scene to sample, render and label ``indices``."""
    from scenegen import object_labels

    start = time.perf_counter()
    for index in indices:
        scene = sampler.sample(index)
        frame = renderer.render(scene)
        object_labels(scene, frame, sampler.dictionary, cfg.factors)
    return (time.perf_counter() - start) / len(indices)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=96)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["SCENEGEN_CACHE"] = str(tmp / "cache")  # a cold cache, read by the index
        library = tmp / "library"
        start = time.perf_counter()
        write_library(library, args.files)
        print(f"wrote {args.files} mesh files in {time.perf_counter() - start:.1f} s "
              f"({sum(p.stat().st_size for p in library.rglob('*')) / 2**20:.1f} MiB)")

        from scenegen import Renderer, Sampler, load_config

        max_faces = 200_000
        assets, report, cold, peak, rss = timed_index(library, max_faces)
        print(f"cold index: {cold:.2f} s ({args.files / cold:,.0f} files/s), {report.entries} entries, "
              f"{len(report.skipped)} skipped; Python allocations peak {peak:.1f} MiB, resident +{rss:.0f} MiB")
        _, report, warm, peak, rss = timed_index(library, max_faces)
        print(f"warm index: {warm:.3f} s ({args.files / warm:,.0f} files/s), {report.read} files read again; "
              f"Python allocations peak {peak:.1f} MiB")

        conf = tmp / "conf" / "library"
        conf.mkdir(parents=True)
        (conf / "bench.yaml").write_text(f"# @package _global_\nlibraries:\n  bench:\n    path: {library}\n"
                                         "    layout: generic\n")
        size = [f"width={args.width}", f"height={args.height}"]
        overrides = {
            "built-in": size,
            f"+ {report.entries} library entries": [*size, f"hydra.searchpath=[file://{tmp / 'conf'}]",
                                                    "+library=bench"],
        }
        indices = range(args.scenes)
        warm_up = load_config(size)  # the GL context and shaders, outside both clocks
        with Renderer(Sampler(warm_up).dictionary) as renderer:
            scene_pass(warm_up, range(1000, 1003), Sampler(warm_up), renderer)
        results = {}
        for name, keys in overrides.items():
            start = time.perf_counter()
            cfg = load_config(keys)  # composes, indexes (warm) and compiles the World
            sampler = Sampler(cfg)
            setup = time.perf_counter() - start
            with Renderer(sampler.dictionary) as renderer:
                first = scene_pass(cfg, indices, sampler, renderer)
                second = scene_pass(cfg, indices, sampler, renderer)
            results[name] = (setup, first, second)
            used = sum(o.entry.startswith("bench:") for i in indices for o in sampler.sample(i).objects)
            print(f"{name:>24}: config + world {setup:.2f} s; per scene {first * 1e3:.1f} ms first pass, "
                  f"{second * 1e3:.1f} ms second; library objects in the scenes: {used}")
        (_, base_first, base_second), (_, lib_first, lib_second) = results.values()
        print(f"ratio library / built-in per scene: first pass {lib_first / base_first:.2f}, "
              f"second pass {lib_second / base_second:.2f}")


if __name__ == "__main__":
    main()
