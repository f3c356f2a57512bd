"""The README's picture of the two engines on the same scenes, rendered by the current
checkout (needs ``pip install 'scenegen[pathtraced]'``):

- docs/pathtraced.png: three scenes of ``preset=realistic`` (no camera effects), the
  rasterizer's colour image above Mitsuba's path-traced one (``render.spp``, 64 by
  default), every label layer the same for both.

    python docs/make_pathtraced.py              # writes it into docs/
    python docs/make_pathtraced.py --spp 256 --out /tmp
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from scenegen import load_config
from scenegen.render.pathtraced import PathTracer
from scenegen.world.sampler import Sampler

SCENES = (0, 3, 5)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=240, help="tile width, pixels")
    parser.add_argument("--height", type=int, default=180, help="tile height, pixels")
    parser.add_argument("--spp", type=int, default=64, help="path tracer samples per pixel")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="folder written")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "pathtraced.png"
    engines(args.width, args.height, args.spp).save(path, optimize=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
