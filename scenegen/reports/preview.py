"""Contact sheets: a quick look at a dataset folder, or at a config before generating.

Each tile of a sheet is one scene: a title bar (scene index, context, object count)
above three panels side by side:

* the RGB image with each visible instance outlined in its own colour, its 2D box, and
  a small label (category and visible fraction) on a filled background;
* the depth image, colourised (near = bright, no surface = black);
* the part image, one hue per object and one shade per part.

::

    from scenegen.preview import preview_dataset, preview_config
    preview_dataset("/tmp/d", "/tmp/d/preview.png", count=16)
    preview_config(scenegen.load_config(["n=8"]), "/tmp/p.png", count=8)

The output depends only on the inputs: no timestamp in the PNG, no font lookup (text
uses Pillow's built-in bitmap font), so the same inputs give the same bytes.
"""

from __future__ import annotations

import colorsys
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..dataset import files
from ..dataset.layout import PREVIEW
from ..errors import ConfigError, ScenegenError, positive_int
from ..fileio import atomic_write_bytes

Color = Tuple[int, int, int]

BACKGROUND: Color = (22, 24, 29)  # the sheet, around the tiles
TILE: Color = (38, 41, 48)  # a tile, around its panels
TITLE_TEXT: Color = (226, 229, 236)
TITLE_DIM: Color = (150, 156, 170)
LABEL_TEXT: Color = (0, 0, 0)

MARGIN = 10  # around the sheet and between tiles
PAD = 6  # inside a tile, around its panels
GAP = 4  # between the panels of a tile
TITLE_HEIGHT = 17  # a tile's title bar (text + padding)
HEADER_HEIGHT = 22  # the sheet's header bar, when it has a title
MIN_PANEL_WIDTH = 192  # small images are enlarged (nearest, integer factor) to this
PANELS = ("rgb", "depth", "parts")

# ------------------------------------------------------------------ colourising helpers


def colorize_ids(ids: np.ndarray) -> np.ndarray:
    """(H, W) integer ids -> (H, W, 3) uint8, a fixed pseudo-random colour per id (0 black)."""
    palette = np.random.default_rng(3).integers(40, 255, size=(int(ids.max()) + 1, 3)).astype(np.uint8)
    palette[0] = 0
    return palette[ids]


def colorize_depth(depth: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """(H, W) depth (0 = no surface) -> (H, W, 3) uint8: near bright, far dark, none black.

    The range is the 1st..99th percentile of the valid depths, so one far pixel does not
    flatten the rest; ``floor`` (0..1) is the brightness of the farthest surface, so that
    it stays apart from "no surface".
    """
    valid = depth > 0
    scaled = np.zeros_like(depth)
    if valid.any():
        lo, hi = np.percentile(depth[valid], [1, 99])
        scaled[valid] = 1 - np.clip((depth[valid] - lo) / max(hi - lo, 1e-6), 0, 1)
        scaled[valid] = floor + (1 - floor) * scaled[valid]
    return (np.stack([scaled, scaled ** 2, 0.4 * scaled], axis=-1) * 255).astype(np.uint8)


def outline(rgb: np.ndarray, mask: np.ndarray, color=(255, 0, 255)) -> np.ndarray:
    """``rgb`` with the border pixels of ``mask`` painted ``color``."""
    painted = rgb.copy()
    painted[border(mask)] = color
    return painted


def border(mask: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` with a 4-neighbour outside it (the image edge counts as inside)."""
    mask = np.asarray(mask, dtype=bool)
    inner = mask.copy()
    inner[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    return mask & ~inner


def instance_color(instance_id: int) -> Color:
    """The outline / box / label colour of instance ``instance_id`` (1-based): bright,
    saturated hues spread by the golden angle, so neighbouring ids differ clearly."""
    hue = (0.07 + 0.618033988749895 * (int(instance_id) - 1)) % 1.0
    value = 1.0 if instance_id % 2 else 0.88
    r, g, b = colorsys.hsv_to_rgb(hue, 0.72, value)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def colorize_parts(instances: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: each object in its :func:`instance_color`, each of its parts a
    different shade of it (part 1 the colour itself, then darker / lighter in turn);
    background black."""
    instances = np.asarray(instances)
    parts = np.asarray(parts)
    out = np.zeros(instances.shape + (3,), dtype=np.uint8)
    # > 0: mix towards black by that amount; < 0: towards white.
    shades = (0.0, 0.45, -0.45, 0.7, -0.7, 0.25, -0.25, 0.85)
    for instance_id in np.unique(instances):
        if instance_id == 0:
            continue
        base = np.array(instance_color(int(instance_id)), dtype=np.float64)
        mask = instances == instance_id
        for part in np.unique(parts[mask]):
            shade = shades[max(int(part) - 1, 0) % len(shades)]
            color = base * (1 - shade) if shade >= 0 else base + (255 - base) * -shade
            out[mask & (parts == part)] = np.clip(np.rint(color), 0, 255).astype(np.uint8)
    return out


# ------------------------------------------------------------------------- sheet layout


@dataclass
class PreviewItem:
    """One scene's layers and labels, the input of a tile.

    ``depth`` is in metres (0 = no surface); ``objects`` are label dicts as in a scene
    record (``instance_id``, ``category``, ``bbox`` [x, y, w, h], ``visible_fraction``,
    ``visible_pixels``).
    """

    index: int
    rgb: np.ndarray
    depth: np.ndarray
    instances: np.ndarray
    parts: np.ndarray
    objects: List[dict] = field(default_factory=list)
    context: str = ""


@dataclass(frozen=True)
class SheetLayout:
    """Pixel geometry of a contact sheet (all in sheet pixels)."""

    count: int
    columns: int
    rows: int
    scale: int  # integer enlargement of the images
    panel_width: int
    panel_height: int
    header_height: int

    @property
    def tile_width(self) -> int:
        return 2 * PAD + len(PANELS) * self.panel_width + (len(PANELS) - 1) * GAP

    @property
    def tile_height(self) -> int:
        return TITLE_HEIGHT + self.panel_height + PAD

    @property
    def width(self) -> int:
        return MARGIN + self.columns * (self.tile_width + MARGIN)

    @property
    def height(self) -> int:
        return self.header_height + MARGIN + self.rows * (self.tile_height + MARGIN)

    def tile_origin(self, i: int) -> Tuple[int, int]:
        """(x, y) of tile ``i``'s top-left corner (tiles fill rows left to right)."""
        row, col = divmod(i, self.columns)
        return (MARGIN + col * (self.tile_width + MARGIN),
                self.header_height + MARGIN + row * (self.tile_height + MARGIN))

    def panel_origin(self, i: int, panel: str) -> Tuple[int, int]:
        """(x, y) of the top-left pixel of ``panel`` (one of :data:`PANELS`) in tile ``i``."""
        x, y = self.tile_origin(i)
        k = PANELS.index(panel)
        return x + PAD + k * (self.panel_width + GAP), y + TITLE_HEIGHT


def sheet_layout(count: int, width: int, height: int, columns: int = 2, scale: Optional[int] = None,
                 title: Optional[str] = None) -> SheetLayout:
    """The layout of a sheet of ``count`` scenes of ``width`` x ``height`` pixels.

    ``scale`` None enlarges small images by the smallest integer factor that makes them
    at least :data:`MIN_PANEL_WIDTH` wide.
    """
    if count < 1:
        raise ConfigError(f"a contact sheet needs at least 1 scene, got {count}")
    if columns < 1:
        raise ConfigError(f"columns must be >= 1, got {columns}")
    if scale is None:
        scale = max(1, math.ceil(MIN_PANEL_WIDTH / width))
    if scale < 1:
        raise ConfigError(f"scale must be >= 1, got {scale}")
    columns = min(columns, count)
    return SheetLayout(count=count, columns=columns, rows=math.ceil(count / columns), scale=scale,
                       panel_width=width * scale, panel_height=height * scale,
                       header_height=HEADER_HEIGHT if title else 0)


def _font() -> ImageFont.ImageFont:
    # The built-in bitmap font: no file lookup, the same glyphs everywhere.
    loader = getattr(ImageFont, "load_default_imagefont", None)
    return loader() if loader is not None else ImageFont.load_default()


def _enlarge(array: np.ndarray, scale: int) -> np.ndarray:
    if scale == 1:
        return array
    return np.repeat(np.repeat(array, scale, axis=0), scale, axis=1)


def _visible(objects: Sequence[dict]) -> List[dict]:
    return [o for o in objects
            if o.get("visible_pixels", 1) > 0 and o.get("bbox") and o["bbox"][2] > 0 and o["bbox"][3] > 0]


def _rgb_panel(item: PreviewItem, scale: int, boxes: bool, outlines: bool) -> np.ndarray:
    rgb = _enlarge(np.asarray(item.rgb, dtype=np.uint8)[..., :3], scale).copy()
    instances = _enlarge(np.asarray(item.instances), scale)
    if boxes:
        for obj in _visible(item.objects):
            x, y, w, h = (int(v) for v in obj["bbox"])
            x0, y0, x1, y1 = x * scale, y * scale, (x + w) * scale - 1, (y + h) * scale - 1
            color = instance_color(obj["instance_id"])
            rgb[y0, x0:x1 + 1] = color
            rgb[y1, x0:x1 + 1] = color
            rgb[y0:y1 + 1, x0] = color
            rgb[y0:y1 + 1, x1] = color
    if outlines:
        for instance_id in np.unique(instances):
            if instance_id:
                rgb[border(instances == instance_id)] = instance_color(int(instance_id))
    return rgb


def _label_text(obj: dict) -> str:
    text = str(obj.get("category", "?"))
    fraction = obj.get("visible_fraction")
    if fraction is not None:
        text += f" {100 * float(fraction):.0f}%"
    return text


def _draw_labels(draw: ImageDraw.ImageDraw, font, item: PreviewItem, origin: Tuple[int, int],
                 layout: SheetLayout) -> None:
    """Category and visible fraction of each visible object, on a filled background at
    its box's top-left corner (above the box where there is room), kept in the panel."""
    ox, oy = origin
    s = layout.scale
    placed: List[Tuple[int, int, int, int]] = []
    for obj in _visible(item.objects):
        text = _label_text(obj)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        w, h = right - left + 4, bottom - top + 2
        x, y = int(obj["bbox"][0]) * s, int(obj["bbox"][1]) * s
        y = y - h if y - h >= 0 else y
        x = min(max(x, 0), max(layout.panel_width - w, 0))
        for _ in range(len(placed)):  # step down past labels already drawn
            y = min(max(y, 0), max(layout.panel_height - h, 0))
            hit = [b for b in placed if x < b[2] and b[0] < x + w and y < b[3] and b[1] < y + h]
            if not hit:
                break
            y = max(b[3] for b in hit)
        y = min(max(y, 0), max(layout.panel_height - h, 0))
        placed.append((x, y, x + w, y + h))
        draw.rectangle([ox + x, oy + y, ox + x + w - 1, oy + y + h - 1], fill=instance_color(obj["instance_id"]))
        draw.text((ox + x + 2 - left, oy + y + 1 - top), text, font=font, fill=LABEL_TEXT)


def _fit(draw, font, text: str, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def contact_sheet(items: Sequence[PreviewItem], columns: int = 2, scale: Optional[int] = None,
                  title: Optional[str] = None, boxes: bool = True, outlines: bool = True,
                  labels: bool = True) -> np.ndarray:
    """A grid of scene tiles as an (H, W, 3) uint8 image; see :func:`sheet_layout` for
    the geometry. All items must have the same image size.

    Args:
        items: the scenes, in tile order (rows filled left to right).
        columns: tiles per row (fewer if there are fewer items).
        scale: integer enlargement of the images; None: automatic (see :func:`sheet_layout`).
        title: a header bar above the grid; None: no header.
        boxes, outlines, labels: draw the 2D boxes / instance outlines / text labels.
    """
    items = list(items)
    if not items:
        raise ConfigError("a contact sheet needs at least 1 scene, got 0")
    height, width = np.asarray(items[0].rgb).shape[:2]
    for item in items:
        if np.asarray(item.rgb).shape[:2] != (height, width):
            raise ValueError(f"scene {item.index} is {item.rgb.shape[1]}x{item.rgb.shape[0]}, "
                             f"the first scene is {width}x{height}: a sheet needs one image size")
    layout = sheet_layout(len(items), width, height, columns, scale, title)
    sheet = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font()
    if title:
        draw.text((MARGIN, (layout.header_height - 11) // 2 + 2), _fit(draw, font, title, layout.width - 2 * MARGIN),
                  font=font, fill=TITLE_TEXT)
    for i, item in enumerate(items):
        tx, ty = layout.tile_origin(i)
        draw.rectangle([tx, ty, tx + layout.tile_width - 1, ty + layout.tile_height - 1], fill=TILE)
        visible = _visible(item.objects)
        head = f"scene {item.index}" + (f"  {item.context}" if item.context else "")
        tail = f"{len(visible)} object{'s' if len(visible) != 1 else ''}"
        tail_w = int(draw.textlength(tail, font=font))
        draw.text((tx + PAD, ty + 4), _fit(draw, font, head, layout.tile_width - 3 * PAD - tail_w),
                  font=font, fill=TITLE_TEXT)
        draw.text((tx + layout.tile_width - PAD - tail_w, ty + 4), tail, font=font, fill=TITLE_DIM)
        panels = {
            "rgb": _rgb_panel(item, layout.scale, boxes, outlines),
            "depth": _enlarge(colorize_depth(item.depth, floor=0.15), layout.scale),
            "parts": _enlarge(colorize_parts(item.instances, item.parts), layout.scale),
        }
        for name in PANELS:
            sheet.paste(Image.fromarray(np.ascontiguousarray(panels[name])), layout.panel_origin(i, name))
        if labels:
            _draw_labels(draw, font, item, layout.panel_origin(i, "rgb"), layout)
    return np.asarray(sheet)


def encode_sheet(sheet: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG bytes of a sheet (no metadata, so the same sheet gives the same bytes).
    Level 6 is ~5x faster than 9 for ~3% more bytes."""
    buffer = io.BytesIO()
    Image.fromarray(sheet).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def write_sheet(path: str | os.PathLike, sheet: np.ndarray) -> Path:
    """Write a sheet as a PNG, atomically; return the path.

    Raises:
        ConfigError: ``path`` is a folder.
    """
    path = _png_target(path)
    atomic_write_bytes(path, encode_sheet(sheet))
    return path


def _png_target(path: str | os.PathLike) -> Path:
    """``path`` as a Path, checked to be where a PNG file can go (not a folder).

    Raises:
        ConfigError: ``path`` is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"--out {str(path)!r} is a folder; give a PNG file name")
    return path


# --------------------------------------------------------------------------- sources


def dataset_items(root: str | os.PathLike, count: int = 16) -> List[PreviewItem]:
    """The first ``count`` scenes (by index) of the dataset folder ``root``.

    Raises:
        ConfigError: ``root`` is not a folder or holds no scene records.
        ScenegenError: a layer file a record names is missing.
    """
    count = positive_int(count, "count")
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"dataset folder {str(root)!r} not found")
    indices = files.record_indices(root)[:count]
    if not indices:
        raise ConfigError(f"{str(root)!r} holds no scene records ({files.RECORD_FOLDER}/NNNNNN.json): "
                            "is it a dataset written by 'scenegen generate'?")
    items = []
    for index in indices:
        record = files.read_record(root, index)
        layers = record["files"]
        try:
            item = PreviewItem(
                index=int(record.get("index", index)),
                rgb=files.read_png(root / layers["rgb"]),
                depth=files.read_depth(root / layers["depth"], float(record["depth_scale"])),
                instances=files.read_png(root / layers["instances"]),
                parts=files.read_parts(root / layers["parts"]),
                objects=record.get("objects", []),
                context=str(record.get("context", "")),
            )
        except (FileNotFoundError, KeyError) as exc:
            raise ScenegenError(f"scene {index} of {str(root)!r}: layer file missing ({exc})") from None
        items.append(item)
    return items


def config_items(cfg, count: int = 16, start: int = 0) -> List[PreviewItem]:
    """Scenes ``start`` .. ``start + count - 1`` of ``cfg``, sampled and rendered in
    memory (nothing is written)."""
    from ..dataset.worker import SceneWorker

    count = positive_int(count, "count")
    worker = SceneWorker(cfg)
    items = []
    try:
        for index in range(start, start + count):
            scene, frame, labels = worker.make(index)
            items.append(PreviewItem(index=index, rgb=frame.rgb, depth=frame.depth, instances=frame.instances,
                                     parts=frame.parts, objects=labels, context=scene.context.name))
    finally:
        worker.close()
    return items


def _title(source: str, items: Sequence[PreviewItem]) -> str:
    h, w = np.asarray(items[0].rgb).shape[:2]
    return (f"{source}  |  {len(items)} scenes, {w}x{h}  |  "
            "image + outlines, boxes, category & visible %  |  depth (near = bright)  |  parts")


def preview_dataset(root: str | os.PathLike, out_png: str | os.PathLike | None = None, count: int = 16,
                    columns: int = 2, scale: Optional[int] = None) -> Path:
    """Write a contact sheet of the first ``count`` scenes of a dataset folder.

    Args:
        out_png: the PNG to write; None: ``root/preview.png``.
    Returns:
        the path written.
    """
    out_png = Path(root) / PREVIEW if out_png is None else _png_target(out_png)
    items = dataset_items(root, count)
    sheet = contact_sheet(items, columns=columns, scale=scale, title=_title(str(root), items))
    return write_sheet(out_png, sheet)


def preview_config(cfg, out_png: str | os.PathLike, count: int = 16, columns: int = 2,
                   scale: Optional[int] = None, start: int = 0) -> Path:
    """Render scenes of ``cfg`` in memory and write their contact sheet to ``out_png``
    (the only file written). Returns the path written."""
    out_png = _png_target(out_png)  # before the scenes are rendered
    items = config_items(cfg, count, start)
    sheet = contact_sheet(items, columns=columns, scale=scale, title=_title("config preview", items))
    return write_sheet(out_png, sheet)
