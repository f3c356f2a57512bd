"""Render the README's sample grid: docs/samples.png (RGB, instances, depth of 4 scenes).

    python docs/make_figure.py
"""

from pathlib import Path

import numpy as np
from PIL import Image

from scenegen import Sampler, SceneWorker, load_config


def colorize_ids(ids: np.ndarray) -> np.ndarray:
    palette = np.random.default_rng(3).integers(40, 255, size=(int(ids.max()) + 1, 3)).astype(np.uint8)
    palette[0] = 0
    return palette[ids]


def colorize_depth(depth: np.ndarray) -> np.ndarray:
    valid = depth > 0
    scaled = np.zeros_like(depth)
    if valid.any():
        lo, hi = np.percentile(depth[valid], [1, 99])
        scaled[valid] = 1 - np.clip((depth[valid] - lo) / max(hi - lo, 1e-6), 0, 1)
    return (np.stack([scaled, scaled ** 2, 0.4 * scaled], axis=-1) * 255).astype(np.uint8)


def main() -> None:
    cfg = load_config(["width=256", "height=192", "seed=1"])
    worker = SceneWorker(cfg)
    rows = []
    for index in (0, 2, 5, 9):
        _, frame, _ = worker.make(index)
        rows.append(np.hstack([frame.rgb, colorize_ids(frame.instances), colorize_depth(frame.depth)]))
    Image.fromarray(np.vstack(rows)).save(Path(__file__).with_name("samples.png"), optimize=True)


if __name__ == "__main__":
    main()
