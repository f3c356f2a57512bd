"""Seconds per scene of the path-traced engine (Mitsuba 3) beside the raster, same scenes.

For each image size and look, N scenes are sampled (``scenegen.load_config`` and
``Sampler(cfg).sample(i)``, seed 0) and rendered

  * by the raster engine (``Renderer.render``: every layer, the colour pass included);
  * by the path-traced engine (``PathTracer.render``: the same raster Frame with its
    colour image path traced), per Mitsuba variant (``--variants``; default: every one
    that renders on this machine, :func:`scenegen.render.pathtraced.probe_variant`) and
    per sample count (``--spp``), path depth ``--max-depth``.

One line per case: seconds per scene (mean over the N scenes after one warm-up render
of scene 0, which pays Mitsuba's kernel compilation in the JIT variants; that first
render is shown apart), the path tracer's own share (conversion to Mitsuba and loading;
tracing, which includes compiling any kernel not cached in memory or in ``~/.drjit``: the
count compiled is printed; ``HOME=$(mktemp -d)`` measures a machine's first run), the raster's seconds per scene and the ratio raster / pathtraced (how many
raster frames one path-traced frame costs, inverted).

    python benchmarks/bench_pathtraced.py                                  # 256x256, 512x512; 16, 64 spp
    python benchmarks/bench_pathtraced.py --sizes 256x256 --spp 16 --n 3 --variants scalar_rgb
    DRJIT_LIBLLVM_PATH=/usr/lib/x86_64-linux-gnu/libLLVM.so.19.1 python benchmarks/bench_pathtraced.py
    python benchmarks/bench_pathtraced.py --looks flat realistic

Needs ``pip install 'scenegen[pathtraced]'``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from scenegen import load_config
from scenegen.render.pathtraced import VARIANTS, PathTracer, probe_variant
from scenegen.render.raster import Renderer
from scenegen.world.dictionary import ObjectDictionary
from scenegen.world.sampler import Sampler

LOOKS = {"flat": [], "realistic": ["preset=realistic"]}


def size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def available_variants() -> list[str]:
    """The variants that render here (the scalar one always; the JIT ones by a probe)."""
    import mitsuba as mi

    return [v for v in VARIANTS if v in mi.variants() and (v == "scalar_rgb" or probe_variant(v)[0])]


class KernelCount:
    """Counts the path-tracing kernels Dr.Jit compiles (not found in its memory or disk
    cache) from now to :meth:`stop`, in the JIT variants."""

    def __init__(self, variant: str):
        self.jit = variant != "scalar_rgb"
        if self.jit:
            import drjit as dr

            dr.kernel_history_clear()
            dr.set_flag(dr.JitFlag.KernelHistory, True)

    def stop(self) -> str:
        """'kernels compiled: C of K' (K path-tracing kernels launched)."""
        if not self.jit:
            return "no kernels (scalar)"
        import drjit as dr

        launched = [k for k in dr.kernel_history() if k["type"] == dr.KernelType.JIT and k["operation_count"] > 500]
        dr.set_flag(dr.JitFlag.KernelHistory, False)
        return f"kernels compiled: {sum(not k['cache_hit'] for k in launched)} of {len(launched)}"


def seconds_per_scene(render, scenes) -> tuple[float, float, dict]:
    """(first render's seconds, mean seconds per scene of the renders after it, mean of
    the per-step timings after it)."""
    start = time.perf_counter()
    render(scenes[0], None)
    first = time.perf_counter() - start
    spent, steps = [], {}
    for scene in scenes:
        timings = {}
        start = time.perf_counter()
        render(scene, timings)
        spent.append(time.perf_counter() - start)
        for key, value in timings.items():
            steps[key] = steps.get(key, 0.0) + value / len(scenes)
    return first, statistics.fmean(spent), steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=size, default=[(256, 256), (512, 512)], help="WxH")
    parser.add_argument("--spp", nargs="+", type=int, default=[16, 64], help="samples per pixel")
    parser.add_argument("--max-depth", type=int, default=8, help="bounces (render.max_depth)")
    parser.add_argument("--n", type=int, default=5, help="scenes per size and look")
    parser.add_argument("--looks", nargs="+", choices=sorted(LOOKS), default=["flat"])
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=None,
                        help="Mitsuba variants (default: every one that renders here)")
    args = parser.parse_args(argv)
    variants = args.variants or available_variants()
    print(f"variants: {', '.join(variants)}; {args.n} scenes per case; depth {args.max_depth}")
    for width, height in args.sizes:
        for look in args.looks:
            cfg = load_config([f"width={width}", f"height={height}", *LOOKS[look]])
            dictionary = ObjectDictionary.from_config(cfg)
            sampler = Sampler(cfg, dictionary)
            scenes = [sampler.sample(i) for i in range(args.n)]
            with Renderer(dictionary) as raster:
                _, raster_s, _ = seconds_per_scene(lambda s, t: raster.render(s, t), scenes)
            print(f"{width}x{height} {look:9s} raster: {raster_s:.4f} s/scene")
            for variant in variants:
                for spp in args.spp:
                    with PathTracer(dictionary, spp=spp, max_depth=args.max_depth, variant=variant) as tracer:
                        compiled = KernelCount(variant)
                        first, traced_s, steps = seconds_per_scene(tracer.render, scenes)
                        compiled = compiled.stop()
                    convert, trace = steps.get("mitsuba scene", 0.0), steps.get("path tracing", 0.0)
                    print(f"{width}x{height} {look:9s} {variant:11s} {spp:4d} spp: pathtraced {traced_s:.3f} s/scene "
                          f"(first {first:.2f} s; convert {convert:.3f}, trace {trace:.3f}, "
                          f"denoise {steps.get('denoise', 0.0):.3f}; {compiled}), raster {raster_s:.4f} s/scene, "
                          f"raster/pathtraced {raster_s / traced_s:.4f}")


if __name__ == "__main__":
    main()
