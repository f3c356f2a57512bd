"""The README's pictures of the two looks, rendered by the current checkout:

- docs/looks.png: the same six scenes (seed 0, scenes 0..5: the same layouts, cameras
  and object colours) in ``preset=flat`` (top row) and ``preset=realistic`` (bottom
  row: each scene's environment map and camera effects as drawn);
- docs/environments.png: one scene under each built-in environment map (a directive
  per map, no camera effects), a camera low enough to see the map behind.

    python docs/make_looks.py            # writes both into docs/
    python docs/make_looks.py --size 160 --out /tmp
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from scenegen import load_config
from scenegen.render.raster import Renderer
from scenegen.scene.factors import BUILTIN_ENVIRONMENTS
from scenegen.world.sampler import Sampler

SCENES = range(6)


def grid(rows: list[list[np.ndarray]]) -> Image.Image:
    """Tiles (H, W, 3) uint8 in rows, a 2-pixel white gutter between them."""
    height, width = rows[0][0].shape[:2]
    gutter = 2
    canvas = np.full((len(rows) * (height + gutter) - gutter, len(rows[0]) * (width + gutter) - gutter, 3), 255,
                     np.uint8)
    for r, tiles in enumerate(rows):
        for c, tile in enumerate(tiles):
            canvas[r * (height + gutter): r * (height + gutter) + height,
                   c * (width + gutter): c * (width + gutter) + width] = tile
    return Image.fromarray(canvas)


def looks(size: int) -> Image.Image:
    """Flat over realistic, the same scenes."""
    rows = []
    for preset in ("flat", "realistic"):
        sampler = Sampler(load_config([f"preset={preset}", f"width={size}", f"height={size}"]))
        with Renderer(sampler.dictionary) as renderer:
            rows.append([renderer.render(sampler.sample(i)).rgb for i in SCENES])
    return grid(rows)


def environments(size: int) -> Image.Image:
    """One scene under each built-in map, seen from low enough to show the map."""
    cfg = load_config(["preset=realistic", f"width={size}", f"height={size}", "camera.elevation=[8,14]",
                       "camera.fov=[60,60]", "placement.objects=[3,4]"])
    sampler = Sampler(cfg)
    with Renderer(sampler.dictionary) as renderer:
        tiles = [renderer.render(sampler.sample(1, {"environment": name, "effects": "clean", "context": "outdoor"})).rgb
                 for name in BUILTIN_ENVIRONMENTS]
    return grid([tiles])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=192, help="tile side, pixels")
    parser.add_argument("--out", default=str(Path(__file__).parent), help="folder to write the PNGs into")
    args = parser.parse_args()
    out = Path(args.out)
    looks(args.size).save(out / "looks.png")
    environments(args.size).save(out / "environments.png")


if __name__ == "__main__":
    main()
