"""Render the README's figures:

* docs/samples.png: RGB, instances and depth of 4 scenes;
* docs/directives.png: directive {category: chair, pose, occlusion} for 4 poses (columns)
  and 3 occlusion levels (rows); each cell is the RGB image around the target, its
  visible pixels outlined, and the target's part image (one colour per part);
* docs/preview.png: ``scenegen preview`` of the default config, 8 scenes at 256x192.

    python docs/make_figure.py
"""

from pathlib import Path

import numpy as np
from PIL import Image

from scenegen import Renderer, Sampler, SceneWorker, load_config
from scenegen.reports.preview import (
    colorize_depth,
    colorize_ids,
    outline,
    preview_config,
)


def crop_window(mask: np.ndarray, margin: float = 0.35) -> tuple:
    """(x0, y0, x1, y1): a square around ``mask``'s box, ``margin`` of its side wider."""
    ys, xs = np.nonzero(mask)
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    half = max(xs.max() - xs.min(), ys.max() - ys.min()) * (1 + margin) / 2 + 2
    return int(cx - half), int(cy - half), int(cx + half), int(cy + half)


def zoom(image: np.ndarray, window: tuple, side: int = 144) -> np.ndarray:
    """The ``window`` of ``image`` (black outside it) resized to ``side`` x ``side``."""
    return np.asarray(Image.fromarray(image).crop(window).resize((side, side), Image.NEAREST))


def directive_grid(poses=("front", "left", "back", "right"), occlusions=("none", "partial", "heavy")) -> np.ndarray:
    cfg = load_config(["width=384", "height=288", "seed=3"])
    sampler = Sampler(cfg)
    rows = []
    with Renderer(sampler.dictionary) as renderer:
        for r, occlusion in enumerate(occlusions):
            cells = []
            for c, pose in enumerate(poses):
                scene = sampler.sample(r * len(poses) + c, {"category": "chair", "pose": pose, "occlusion": occlusion})
                frame = renderer.render(scene)
                mask = frame.instances == scene.target + 1
                parts = colorize_ids(np.where(mask, frame.parts, 0))
                window = crop_window(frame.amodal[scene.target])
                cells.append(np.hstack([zoom(outline(frame.rgb, mask), window), zoom(parts, window)]))
            rows.append(np.hstack(cells))
    return np.vstack(rows)


def main() -> None:
    Image.fromarray(directive_grid()).save(Path(__file__).with_name("directives.png"), optimize=True)
    cfg = load_config(["width=256", "height=192", "seed=1"])
    worker = SceneWorker(cfg)
    rows = []
    for index in (0, 2, 5, 9):
        _, frame, _ = worker.make(index)
        rows.append(np.hstack([frame.rgb, colorize_ids(frame.instances), colorize_depth(frame.depth)]))
    Image.fromarray(np.vstack(rows)).save(Path(__file__).with_name("samples.png"), optimize=True)
    preview_config(load_config(["width=256", "height=192"]), Path(__file__).with_name("preview.png"), count=8)


if __name__ == "__main__":
    main()
