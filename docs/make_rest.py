"""The README's pictures of rest states and piles, rendered by the current checkout:

- docs/rest_states.png: a chair, a mug and a book in every rest level they have (one
  directed scene each, ``rest.chance=1``, the object alone in the studio, framed on it),
  the level written under each tile;
- docs/piles.png: four scenes of ``grammar=piles grammar.start=heaps`` (a heap settled
  by PyBullet beside a group), in the realistic look (needs ``scenegen[physics]``).

    python docs/make_rest.py             # writes it into docs/
    python docs/make_rest.py --size 160 --out /tmp
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from scenegen import load_config
from scenegen.render.raster import Renderer
from scenegen.world.rest import LEVELS
from scenegen.world.sampler import Sampler

CATEGORIES = ("chair", "mug", "book")
CAPTION = 14  # pixels of caption under each tile


def tile(rgb: np.ndarray, caption: str) -> np.ndarray:
    """``rgb`` (H, W, 3) uint8 with ``caption`` written on a white band under it."""
    height, width = rgb.shape[:2]
    image = Image.new("RGB", (width, height + CAPTION), "white")
    image.paste(Image.fromarray(rgb), (0, 0))
    ImageDraw.Draw(image).text((4, height + 1), caption, fill=(40, 40, 40))
    return np.asarray(image)


def grid(rows: list[list[np.ndarray]], blank: np.ndarray) -> Image.Image:
    """Tiles in rows (shorter rows padded with ``blank``), 2-pixel white gutters."""
    columns = max(len(r) for r in rows)
    height, width = blank.shape[:2]
    gutter = 2
    canvas = np.full((len(rows) * (height + gutter) - gutter, columns * (width + gutter) - gutter, 3), 255, np.uint8)
    for r, tiles in enumerate(rows):
        for c, image in enumerate(tiles + [blank] * (columns - len(tiles))):
            canvas[r * (height + gutter): r * (height + gutter) + height,
                   c * (width + gutter): c * (width + gutter) + width] = image
    return Image.fromarray(canvas)


def rest_states(size: int) -> Image.Image:
    """One row per category, one tile per rest level it has."""
    cfg = load_config([f"width={size}", f"height={size}", "rest.chance=1", "placement.objects=[1,1]",
                       "camera.elevation=[25,35]", "camera.framing.target_fraction=0.2"])
    sampler = Sampler(cfg)
    rest = sampler.world.rest
    rows = []
    with Renderer(sampler.dictionary) as renderer:
        for category in CATEGORIES:
            entry = sampler.dictionary.entries_of(category)[0]
            levels = [level for level in LEVELS if level in rest.levels_of(entry)]
            tiles = []
            for level in levels:
                directive = {"category": category, "rest": level, "context": "studio", "pose": "front-left"}
                if directive["pose"] not in rest_poses(sampler, entry, level):
                    directive.pop("pose")
                scene = sampler.sample(3, directive)
                tiles.append(tile(renderer.render(scene).rgb, f"{category}: {level}"))
            rows.append(tiles)
    return grid(rows, np.full((size + CAPTION, size, 3), 255, np.uint8))


def heaps(size: int) -> Image.Image:
    """Four scenes, each a settled heap beside a group (scenes 2, 4, 8, 9: those whose heap
    shows most), every object in the frame."""
    cfg = load_config([f"width={size * 3 // 2}", f"height={size}", "grammar=piles", "grammar.start=heaps",
                       "placement.objects=[6,14]", "preset=realistic", "camera.effects={}", "camera.elevation=[30,50]",
                       "camera.framing.objects=all", "camera.framing.target_fraction=0.5"])
    sampler = Sampler(cfg)
    with Renderer(sampler.dictionary) as renderer:
        tiles = [renderer.render(sampler.sample(i)).rgb for i in (2, 4, 8, 9)]
    return grid([tiles[:2], tiles[2:]], np.full_like(tiles[0], 255))


def rest_poses(sampler: Sampler, entry, level: str) -> set:
    """The pose levels some shape of ``entry`` lying in ``level`` can show."""
    rest = sampler.world.rest
    return {pose for style in rest.styles_with(entry, level)
            for pose in rest.poses_shown(entry, style, level, sampler._elevations)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=176, help="tile side, pixels")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="folder written")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, image in (("rest_states.png", rest_states(args.size)), ("piles.png", heaps(args.size))):
        image.save(args.out / name, optimize=True)
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
