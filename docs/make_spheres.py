"""Metal spheres in both engines, to judge reflections by eye (needs
``pip install 'scenegen[pathtraced]'``):

- docs/spheres.png: a mirror ball (metallic 1, roughness 0.04, the least the raster
  draws) and a rough metal ball (metallic 1, roughness 0.35) side by side on the floor
  of a realistic scene (its environment map lights them and shows behind them), the
  rasterizer's image (left: image-based lighting from the prefiltered map) beside
  Mitsuba's (right: the map and the scene itself reflected, path traced).

    python docs/make_spheres.py                 # writes docs/spheres.png
    python docs/make_spheres.py --spp 256 --out /tmp
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

FINISHES = ((0.04, "mirror"), (0.35, "rough metal"))  # roughness of each ball, metallic 1
DIAMETER = 0.3  # metres


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
             for x, (roughness, _) in zip((-0.17, 0.17), FINISHES)]
    eye, target = (0.0, -1.05, 0.42), (0.0, 0.0, DIAMETER / 2)
    fx, fy, cx, cy = intrinsics_from_fov(math.radians(32), width, height)
    camera = replace(scene.camera, fx=fx, fy=fy, cx=cx, cy=cy, world_from_camera=look_at_opencv(eye, target),
                     target=target, distance=float(np.linalg.norm(np.subtract(eye, target))))
    return sampler.dictionary, replace(scene, objects=balls, camera=camera)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=320, help="tile width, pixels")
    parser.add_argument("--height", type=int, default=200, help="tile height, pixels")
    parser.add_argument("--spp", type=int, default=128, help="path tracer samples per pixel")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="folder written")
    args = parser.parse_args()
    dictionary, scene = sphere_scene(args.width, args.height)
    with PathTracer(dictionary, spp=args.spp) as tracer:
        frame = tracer.raster.render(scene)
        traced = tracer.colour(scene, frame.depth)
        print(f"path traced with {tracer.version}; environment {scene.environment.name}")
    gutter = np.full((args.height, 2, 3), 255, np.uint8)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "spheres.png"
    Image.fromarray(np.concatenate([frame.rgb, gutter, traced], axis=1)).save(path, optimize=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
