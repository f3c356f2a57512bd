"""scenegen.reports.preview and 'scenegen preview': contact sheets of a dataset or a config."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import scenegen
from scenegen.reports.preview import (
    BACKGROUND,
    GAP,
    HEADER_HEIGHT,
    MARGIN,
    PAD,
    TILE,
    TITLE_HEIGHT,
    PreviewItem,
    border,
    colorize_depth,
    colorize_parts,
    contact_sheet,
    dataset_items,
    instance_color,
    preview_dataset,
    sheet_layout,
)

WIDTH, HEIGHT = 96, 72


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("preview") / "d"
    cfg = scenegen.load_config([f"out={root}", "n=4", f"width={WIDTH}", f"height={HEIGHT}"])
    scenegen.generate(cfg, progress=False)
    return root


def scenegen_cli(*args, cwd=None):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "scenegen", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


def read_rgb(path):
    with Image.open(path) as image:
        assert image.mode == "RGB"
        return np.asarray(image)


# ------------------------------------------------------------------------------ layout


def test_layout_size_is_the_grid_formula():
    # 96 px wide images are enlarged x2 (to at least 192 px); 3 panels per tile.
    layout = sheet_layout(4, WIDTH, HEIGHT, columns=2, title="t")
    assert layout.scale == 2
    tile_w = 2 * PAD + 3 * 2 * WIDTH + 2 * GAP
    tile_h = TITLE_HEIGHT + 2 * HEIGHT + PAD
    assert (layout.width, layout.height) == (MARGIN + 2 * (tile_w + MARGIN),
                                             HEADER_HEIGHT + MARGIN + 2 * (tile_h + MARGIN))
    assert (layout.width, layout.height) == (1222, 386)  # pinned: a layout change is deliberate
    # 3 scenes in 2 columns: 2 rows, the last one half empty; no title: no header.
    three = sheet_layout(3, WIDTH, HEIGHT, columns=2)
    assert (three.rows, three.columns, three.header_height) == (2, 2, 0)
    assert sheet_layout(1, 256, 192, columns=4).columns == 1  # never wider than the scene count
    assert sheet_layout(1, 256, 192).scale == 1


def test_bad_layout_arguments_are_config_errors():
    with pytest.raises(scenegen.ConfigError, match="at least 1 scene"):
        sheet_layout(0, WIDTH, HEIGHT)
    with pytest.raises(scenegen.ConfigError, match="columns"):
        sheet_layout(2, WIDTH, HEIGHT, columns=0)
    with pytest.raises(scenegen.ConfigError, match="at least 1 scene"):
        contact_sheet([])


# ------------------------------------------------------------------- colour helpers


def test_instance_colors_are_distinct_and_bright():
    colors = [instance_color(i) for i in range(1, 21)]
    assert len(set(colors)) == 20
    for a, b in zip(colors, colors[1:]):
        assert sum(abs(x - y) for x, y in zip(a, b)) > 80  # neighbouring ids clearly apart
    assert all(max(c) >= 200 for c in colors)  # black label text stays readable


def test_depth_is_bright_near_dark_far_black_where_no_surface():
    depth = np.array([[0.0, 1.0, 2.0, 3.0]], dtype=np.float32)
    colors = colorize_depth(depth, floor=0.15).astype(int).sum(axis=-1)[0]
    assert colors[0] == 0
    assert colors[1] > colors[2] > colors[3] > 0


def test_parts_one_hue_per_object_one_shade_per_part():
    instances = np.array([[0, 1, 1, 2]], dtype=np.uint16)
    parts = np.array([[0, 1, 2, 1]], dtype=np.uint8)
    colors = colorize_parts(instances, parts)[0]
    assert tuple(colors[0]) == (0, 0, 0)
    assert tuple(colors[1]) == instance_color(1)
    assert tuple(colors[3]) == instance_color(2)
    assert tuple(colors[2]) != tuple(colors[1])


# ---------------------------------------------------------------------- dataset sheet


def test_dataset_preview_panels_outlines_and_tiles(dataset, tmp_path):
    out = preview_dataset(dataset, tmp_path / "p.png", count=3)
    sheet = read_rgb(out)
    layout = sheet_layout(3, WIDTH, HEIGHT, columns=2, title="x")
    assert sheet.shape == (layout.height, layout.width, 3)
    # Three tiles: each tile corner has the tile colour; the empty fourth slot is background.
    for i in range(3):
        x, y = layout.tile_origin(i)
        assert tuple(sheet[y + 1, x + 1]) == TILE
    x, y = layout.tile_origin(3)
    assert tuple(sheet[y + 1, x + 1]) == BACKGROUND
    assert tuple(sheet[0, 0]) == BACKGROUND

    items = dataset_items(dataset, count=3)
    s = layout.scale
    for i, item in enumerate(items):
        # The RGB panel is the scene's image (enlarged), not background.
        px, py = layout.panel_origin(i, "rgb")
        panel = sheet[py:py + HEIGHT * s, px:px + WIDTH * s]
        assert (panel != BACKGROUND).any(axis=-1).mean() > 0.99
        enlarged = np.repeat(np.repeat(item.rgb, s, axis=0), s, axis=1)
        assert (panel == enlarged).all(axis=-1).mean() > 0.5  # the image, under the overlays
        # Depth and parts panels hold the colourised layers exactly.
        dx, dy = layout.panel_origin(i, "depth")
        depth = sheet[dy:dy + HEIGHT * s, dx:dx + WIDTH * s]
        assert (depth[::s, ::s] == colorize_depth(item.depth, floor=0.15)).all()
        qx, qy = layout.panel_origin(i, "parts")
        parts = sheet[qy:qy + HEIGHT * s, qx:qx + WIDTH * s]
        assert (parts[::s, ::s] == colorize_parts(item.instances, item.parts)).all()


def test_outline_pixels_have_their_instance_colour(dataset):
    items = dataset_items(dataset, count=4)
    for labels in (False, True):
        sheet = contact_sheet(items, labels=labels)
        layout = sheet_layout(len(items), WIDTH, HEIGHT)
        s = layout.scale
        checked = 0
        for i, item in enumerate(items):
            px, py = layout.panel_origin(i, "rgb")
            panel = sheet[py:py + HEIGHT * s, px:px + WIDTH * s]
            ids = np.repeat(np.repeat(item.instances, s, axis=0), s, axis=1)
            for obj in item.objects:
                if obj["visible_pixels"] == 0 or (labels and obj["visible_pixels"] < 100):
                    continue  # a label may cover the whole outline of a small object
                edge = border(ids == obj["instance_id"])
                match = (panel[edge] == instance_color(obj["instance_id"])).all(axis=-1).mean()
                # Without labels every outline pixel is painted; labels may cover a few.
                assert match == 1.0 if not labels else match > 0.5, (i, obj["instance_id"], match)
                checked += 1
        assert checked >= 4


def test_boxes_drawn_in_instance_colour(dataset):
    items = dataset_items(dataset, count=1)
    sheet = contact_sheet(items, outlines=False, labels=False)
    layout = sheet_layout(1, WIDTH, HEIGHT)
    s = layout.scale
    px, py = layout.panel_origin(0, "rgb")
    obj = next(o for o in items[0].objects if o["visible_pixels"] > 0)
    x, y, w, h = obj["bbox"]
    color = instance_color(obj["instance_id"])
    assert tuple(sheet[py + y * s, px + x * s]) == color  # top-left corner
    assert tuple(sheet[py + (y + h) * s - 1, px + (x + w) * s - 1]) == color  # bottom-right


def test_count_caps_tiles_and_default_out_is_dir_preview(dataset):
    out = preview_dataset(dataset, count=16)  # only 4 scenes exist
    try:
        assert out == dataset / "preview.png"
        assert read_rgb(out).shape[:2] == (386, 1222)  # 4 tiles, 2 x 2
    finally:
        out.unlink()


def test_same_inputs_same_bytes(dataset, tmp_path):
    a = preview_dataset(dataset, tmp_path / "a.png", count=4)
    b = preview_dataset(dataset, tmp_path / "b.png", count=4)
    assert a.read_bytes() == b.read_bytes()


def test_mixed_image_sizes_are_refused():
    small = PreviewItem(0, np.zeros((4, 6, 3), np.uint8), np.zeros((4, 6)), np.zeros((4, 6), np.uint16),
                        np.zeros((4, 6), np.uint8))
    big = PreviewItem(1, np.zeros((5, 6, 3), np.uint8), np.zeros((5, 6)), np.zeros((5, 6), np.uint16),
                      np.zeros((5, 6), np.uint8))
    with pytest.raises(ValueError, match="one image size"):
        contact_sheet([small, big])


# ------------------------------------------------------------------------------- CLI


def test_cli_dataset_preview_count_and_default_out(dataset, tmp_path):
    out = tmp_path / "two.png"
    result = scenegen_cli("preview", str(dataset), "--count", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    layout = sheet_layout(2, WIDTH, HEIGHT, columns=2, title="x")
    assert read_rgb(out).shape[:2] == (layout.height, layout.width)
    assert layout.rows == 1
    result = scenegen_cli("preview", str(dataset), "--count", "1")
    assert result.returncode == 0, result.stderr
    try:
        assert read_rgb(dataset / "preview.png").shape[:2] == (sheet_layout(1, WIDTH, HEIGHT, title="x").height,
                                                               sheet_layout(1, WIDTH, HEIGHT, title="x").width)
    finally:
        (dataset / "preview.png").unlink()


@pytest.mark.parametrize(
    "args, named",
    [
        (["{missing}"], "not found"),
        (["{empty}"], "no scene records"),
        (["{dataset}", "--count", "0"], "--count"),
        (["{dataset}", "--count", "many"], "--count"),
        (["{dataset}", "--columns", "-1"], "--columns"),
        (["{dataset}", "n=3"], "overrides"),
        (["{dataset}", "{empty}"], "one dataset folder"),
        (["width=64"], "--out"),
        (["width=wide", "--out", "{out}"], "width"),
    ],
)
def test_cli_bad_input_exits_2_and_writes_nothing(dataset, tmp_path, args, named):
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "dataset": dataset,
             "out": tmp_path / "o.png"}
    result = scenegen_cli("preview", *[a.format(**paths) for a in args], cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
    assert not (dataset / "preview.png").exists()


def test_cli_config_preview_writes_only_the_requested_file(tmp_path):
    out = tmp_path / "sheet" / "cfg.png"
    result = scenegen_cli("preview", f"width={WIDTH}", f"height={HEIGHT}", "seed=5", "--count", "3",
                          "--columns", "3", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert written == ["sheet", os.path.join("sheet", "cfg.png")]
    layout = sheet_layout(3, WIDTH, HEIGHT, columns=3, title="x")
    sheet = read_rgb(out)
    assert sheet.shape[:2] == (layout.height, layout.width) and layout.rows == 1
    for i in range(3):
        x, y = layout.panel_origin(i, "rgb")
        assert (sheet[y:y + layout.panel_height, x:x + layout.panel_width] != BACKGROUND).any(axis=-1).all()


def test_help_documents_dir_versus_overrides():
    result = scenegen_cli("preview", "--help")
    assert result.returncode == 0
    assert "An argument containing '=' is an override" in " ".join(result.stdout.split())
