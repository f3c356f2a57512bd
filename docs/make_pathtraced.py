"""The README's picture of the two engines on the same scenes, rendered by the current
checkout (needs ``pip install 'scenegen[pathtraced]'``):

- docs/pathtraced.png: three scenes of ``preset=realistic`` (no camera effects), the
  rasterizer's colour image above Mitsuba's path-traced one (``--spp``, 64 by
  default), every label layer the same for both;
- docs/spheres.png: a mirror ball (metallic 1, roughness 0.04, the least the raster
  draws) and a rough metal ball (metallic 1, roughness 0.35) side by side on the floor
  of a realistic scene with an environment map and no walls, the rasterizer's image
  (left: image-based lighting from the prefiltered map) beside Mitsuba's (right: the
  map and the scene itself reflected; ``--sphere-spp``, 128 by default).

    python docs/make_pathtraced.py              # writes both into docs/
    python docs/make_pathtraced.py --spp 256 --out /tmp
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from scenegen import load_config
from scenegen.render.pathtraced import PathTracer
from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv
from scenegen.world.sampler import Sampler

SCENES = (0, 3, 5)
FINISHES = (0.04, 0.35)  # roughness of each ball, metallic 1
DIAMETER = 0.3  # metres


def engines(width: int, height: int, spp: int) -> Image.Image:
    """Raster (top row) over path traced (bottom row), the same scenes."""
    cfg = load_config(["preset=realistic", f"width={width}", f"height={height}", "camera.effects={}"])
    sampler = Sampler(cfg)
    scenes = [sampler.sample(i) for i in SCENES]
    with PathTracer(sampler.dictionary, spp=spp) as tracer:
        frames = [tracer.raster.render(scene) for scene in scenes]
        rows = [[frame.rgb for frame in frames],
                [tracer.colour(scene, frame.depth) for scene, frame in zip(scenes, frames)]]
        print(f"path traced with {tracer.version}")
    gutter = 2
    canvas = np.full((2 * height + gutter, len(SCENES) * (width + gutter) - gutter, 3), 255, np.uint8)
    for r, tiles in enumerate(rows):
        for c, tile in enumerate(tiles):
            canvas[r * (height + gutter): r * (height + gutter) + height,
                   c * (width + gutter): c * (width + gutter) + width] = tile
    return Image.fromarray(canvas)


def sphere_scene(width: int, height: int):
    """(dictionary, Scene): two metal balls of the built-in dictionary side by side in
    the first scene of ``preset=realistic`` with an environment map and no walls, seen
    from 1.1 m."""
    cfg = load_config(["preset=realistic", f"width={width}", f"height={height}", "camera.effects={}",
                       "directive={category:ball}"])
    sampler = Sampler(cfg)
    scene = next(s for s in (sampler.sample(i) for i in range(40)) if s.environment is not None and not s.context.walls)
    ball = next(o for o in scene.objects if o.category == "ball")
    balls = [replace(ball, position=(x, 0.0, 0.0), yaw=0.0, scale=DIAMETER, metallic=1.0, roughness=roughness,
                     rgb=(0.95, 0.93, 0.88), texture="plain", surface="", support=-1, anchor=-1, relation="ground")
             for x, roughness in zip((-0.17, 0.17), FINISHES)]
    eye, target = (0.0, -1.05, 0.42), (0.0, 0.0, DIAMETER / 2)
    fx, fy, cx, cy = intrinsics_from_fov(math.radians(32), width, height)
    camera = replace(scene.camera, fx=fx, fy=fy, cx=cx, cy=cy, world_from_camera=look_at_opencv(eye, target),
                     target=target, distance=float(np.linalg.norm(np.subtract(eye, target))))
    return sampler.dictionary, replace(scene, objects=balls, camera=camera)


def spheres(width: int, height: int, spp: int) -> Image.Image:
    """Raster (left) beside path traced (right), the metal balls of :func:`sphere_scene`."""
    dictionary, scene = sphere_scene(width, height)
    with PathTracer(dictionary, spp=spp) as tracer:
        frame = tracer.raster.render(scene)
        traced = tracer.colour(scene, frame.depth)
    gutter = np.full((height, 2, 3), 255, np.uint8)
    return Image.fromarray(np.concatenate([frame.rgb, gutter, traced], axis=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=240, help="tile width of pathtraced.png, pixels")
    parser.add_argument("--height", type=int, default=180, help="tile height of pathtraced.png, pixels")
    parser.add_argument("--spp", type=int, default=64, help="path tracer samples per pixel (pathtraced.png)")
    parser.add_argument("--sphere-spp", type=int, default=128, help="samples per pixel of spheres.png")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="folder written")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, image in (("pathtraced.png", engines(args.width, args.height, args.spp)),
                        ("spheres.png", spheres(320, 200, args.sphere_spp))):
        image.save(args.out / name, optimize=True)
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
