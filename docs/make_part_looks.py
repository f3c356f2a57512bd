"""A row of framed, unoccluded built-in objects whose parts have looks of their own
(laptop, book, traffic cone, can, bottle, bucket), as the current checkout renders them.

    python docs/make_part_looks.py --out row.png             # one row, 6 x 192 px
    python docs/make_part_looks.py --stack before.png after.png --out docs/part_looks.png

The README's docs/part_looks.png stacks the row of f6927c1 (before parts had looks)
over the row of the current checkout, the same scenes (scene 0 of each category's
directive, seed 0).
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from scenegen import load_config
from scenegen.render.raster import Renderer
from scenegen.world.sampler import Sampler

CATEGORIES = ("laptop", "book", "cone", "can", "bottle", "bucket")
SIZE = 192


def row() -> Image.Image:
    """The categories side by side, each framed on the target."""
    cfg = load_config([f"width={SIZE}", f"height={SIZE}", "camera.framing.target_fraction=0.3"])
    sampler = Sampler(cfg)
    tiles = []
    with Renderer(sampler.dictionary) as renderer:
        for category in CATEGORIES:
            scene = sampler.sample(0, {"category": category, "occlusion": "none"})
            tiles.append(renderer.render(scene).rgb)
    return Image.fromarray(np.concatenate(tiles, axis=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--stack", nargs="+", help="rows to stack top to bottom instead of rendering one")
    args = parser.parse_args()
    if args.stack:
        rows = [np.asarray(Image.open(path).convert("RGB")) for path in args.stack]
        Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    else:
        row().save(args.out)


if __name__ == "__main__":
    main()
