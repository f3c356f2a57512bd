"""Background photographs: drawn per scene from a folder, recorded, a factor; seen
where no surface is, covering the image; no label layer changes."""

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from scenegen import load_config
from scenegen.errors import ConfigError
from scenegen.render.backgrounds import cover
from scenegen.scene.scene import Background, Scene
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render
SIZE = ["width=96", "height=72"]
LABELS = ("depth", "instances", "semantic", "parts", "amodal", "normals")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Two smooth gradients (red grows to the right, green downwards), one landscape
    and one portrait, and a meta.yaml giving both the level ``gradient``."""
    folder = tmp_path_factory.mktemp("photos")
    for name, (w, h) in (("wide", (320, 120)), ("tall", (90, 200))):
        x, y = np.meshgrid(np.linspace(0, 1, w), np.linspace(0, 1, h))
        pixels = np.stack([x * 255, y * 255, np.full_like(x, 90)], axis=-1).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{name}.png")
    (folder / "meta.yaml").write_text("wide: {level: gradient}\ntall: {level: gradient, weight: 2}\n")
    return folder


def expected_photo(path, width, height):
    """(H, W, 3) float of the photograph covering a width x height image, centred."""
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=float)
    ph, pw = pixels.shape[:2]
    cu, cv = cover((pw, ph), (width, height))
    cols, rows = np.meshgrid((np.arange(width) + 0.5) / width, (np.arange(height) + 0.5) / height)
    x = np.clip((0.5 + (cols - 0.5) * cu) * pw - 0.5, 0, pw - 1)
    y = np.clip((0.5 + (rows - 0.5) * cv) * ph - 0.5, 0, ph - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, pw - 1), np.minimum(y0 + 1, ph - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    top = pixels[y0, x0] * (1 - fx) + pixels[y0, x1] * fx
    bottom = pixels[y1, x0] * (1 - fx) + pixels[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def test_cover_fills_the_image_with_one_side_whole():
    assert cover((200, 100), (100, 100)) == (0.5, 1.0)
    assert cover((100, 200), (100, 100)) == (1.0, 0.5)
    assert cover((64, 48), (128, 96)) == (1.0, 1.0)


def test_photographs_are_drawn_recorded_and_levels(photos):
    cfg = load_config([*SIZE, f"background.images={photos}", "factors.tracked=[category,background]"])
    sampler = Sampler(cfg)
    scenes = [sampler.sample(i) for i in range(20)]
    assert {s.background.name for s in scenes} == {"wide", "tall"}
    assert all(s.background.level == "gradient" and s.background.source == str(photos) for s in scenes)
    assert sum(s.background.name == "tall" for s in scenes) > 8  # twice the weight
    assert all(Scene.from_json(s.to_json()) == s for s in scenes)
    half = Sampler(load_config([*SIZE, f"background.images={photos}", "background.weight=0.5"]))
    levels = [half.sample(i).background.level for i in range(30)]
    assert 5 < levels.count("none") < 25
    assert half.sample(0, {"background": "none"}).background == Background(str(photos), "", "none")
    assert half.sample(0, {"background": "gradient"}).background.name in ("wide", "tall")


def test_the_photograph_is_seen_where_no_surface_is_and_labels_do_not_change(photos, renderer):
    cfg = load_config([*SIZE, f"background.images={photos}", "camera.elevation=[2,4]", "camera.fov=[70,70]"])
    sampler = Sampler(cfg)
    for index in range(4):
        scene = sampler.sample(index)
        frame = renderer.render(scene)
        plain = renderer.render(replace(scene, background=None))
        for layer in LABELS:
            assert np.array_equal(getattr(frame, layer), getattr(plain, layer)), layer
        sky = frame.depth == 0
        assert sky.sum() > 200
        want = expected_photo(photos / f"{scene.background.name}.png", scene.camera.width, scene.camera.height)
        got = frame.rgb.astype(float)
        inner = sky.copy()  # away from surface edges, where multisamples mix
        inner[1:] &= sky[:-1]
        inner[:-1] &= sky[1:]
        inner[:, 1:] &= sky[:, :-1]
        inner[:, :-1] &= sky[:, 1:]
        assert np.abs(got[inner] - want[inner]).max() <= 4.0
        # objects away from the sky keep their colours (the floor's far edge, thinner
        # than a pixel at grazing angles, blends with what is behind it)
        solid = frame.instances > 0
        solid[1:] &= ~sky[:-1]
        solid[:-1] &= ~sky[1:]
        solid[:, 1:] &= ~sky[:, :-1]
        solid[:, :-1] &= ~sky[:, 1:]
        changed = np.any(frame.rgb[solid] != plain.rgb[solid], axis=1)
        assert changed.mean() < 0.05  # thin parts (slats, legs) blend with what is behind them


def test_bad_background_settings_name_the_problem(photos):
    with pytest.raises(ConfigError, match="background photos folder .* does not exist"):
        load_config([*SIZE, "background.images=/nonexistent/photos"])
    with pytest.raises(ConfigError, match="background.images"):
        load_config([*SIZE, "factors.tracked=[category,background]"])
    with pytest.raises(ConfigError, match="'gradient'"):
        Sampler(load_config([*SIZE, f"background.images={photos}"])).sample(0, {"background": "beach"})
