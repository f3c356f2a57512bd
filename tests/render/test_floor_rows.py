"""The pass behind the scene (environment map or photograph) leaves out the image's
bottom rows that the floor covers wholly (``scenegen.render.graph.floor_rows``): those
rows are on the floor at every pixel, and the images are the same bytes as with the
whole pass."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from studio import STUDIO, make_camera

from scenegen import load_config
from scenegen.render import colour
from scenegen.render.graph import floor_rows
from scenegen.scene.scene import Scene
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render
SIZE = ["width=96", "height=72"]


def rows_of(scene):
    return floor_rows(scene.camera, scene.context.floor_size)


def bare_scene(eye, target, width=96, height=72, floor_size=12.0, fov_deg=40.0):
    """A studio with nothing on its floor, seen from ``eye`` towards ``target``."""
    return Scene(index=0, seed=0, context=replace(STUDIO, floor_size=floor_size), objects=(), lights=(),
                 camera=make_camera(eye, target, width, height, fov_deg))


def test_looking_down_on_a_wide_floor_covers_every_row():
    assert rows_of(bare_scene((0.0, -2.0, 3.0), (0.0, 0.0, 0.0))) == 72


def test_looking_at_the_horizon_covers_the_lower_rows_only():
    rows = rows_of(bare_scene((0.0, -3.0, 1.0), (0.0, 5.0, 1.0)))  # level: the horizon at mid-height
    assert 20 < rows < 36


def test_no_rows_when_the_floor_is_not_at_the_bottom_of_the_image():
    assert rows_of(bare_scene((0.0, -3.0, 1.0), (0.0, 5.0, 6.0))) == 0  # looking up
    assert rows_of(bare_scene((30.0, 0.0, 1.0), (40.0, 0.0, 0.0))) == 0  # looking away from it
    assert rows_of(bare_scene((0.0, -3.0, -1.0), (0.0, 0.0, -2.0))) == 0  # from under it


def test_a_small_floor_in_the_middle_of_the_view_covers_no_whole_row():
    assert rows_of(bare_scene((0.0, -6.0, 4.0), (0.0, 0.0, 0.0), floor_size=0.5)) == 0


@settings(max_examples=25, deadline=None)
@given(azimuth=st.floats(0, 2 * math.pi), elevation=st.floats(-0.3, 1.5), distance=st.floats(0.3, 8.0),
       floor_size=st.sampled_from([1.0, 4.0, 12.0, 40.0]), fov=st.floats(20.0, 90.0),
       tilt=st.floats(-0.6, 0.6))
def test_the_rows_are_on_the_floor_at_every_pixel(renderer, azimuth, elevation, distance, floor_size, fov,
                                                  tilt):
    """Cameras all around and above floors of several sizes: every pixel of the rows
    counted sees a surface (the floor; nothing else is there)."""
    eye = (distance * math.cos(elevation) * math.cos(azimuth), distance * math.cos(elevation) * math.sin(azimuth),
           0.05 + distance * math.sin(elevation) + 0.3)
    target = (0.0, 0.0, tilt)
    scene = bare_scene(eye, target, floor_size=floor_size, fov_deg=fov)
    rows = rows_of(scene)
    depth = renderer.render(scene).depth
    height = scene.camera.height
    assert 0 <= rows <= height
    assert (depth[height - rows:] > 0).all()


def test_the_pass_behind_gives_the_same_bytes_without_the_rows(monkeypatch, renderer):
    """Sampled scenes of the realistic look, whose map is seen behind them: the colour
    image is the same with the floor's rows left out as with the whole pass; the scenes
    include rows left out, whole images left out and none."""
    cfg = load_config([*SIZE, "preset=realistic", "camera.effects={}"])
    sampler = Sampler(cfg)
    scenes = [sampler.sample(index) for index in range(24)]
    counted = [rows_of(scene) for scene in scenes]
    assert 0 in counted and 72 in counted and any(0 < rows < 72 for rows in counted)
    assert all(scene.environment is not None for scene in scenes)
    scissored = [renderer.render(scene).rgb for scene in scenes]
    monkeypatch.setattr(colour, "floor_rows", lambda camera, floor_size: 0)
    whole = [renderer.render(scene).rgb for scene in scenes]
    for index, (mine, reference) in enumerate(zip(scissored, whole)):
        np.testing.assert_array_equal(mine, reference, err_msg=f"scene {index}, {counted[index]} rows")


def test_a_photograph_behind_gives_the_same_bytes_without_the_rows(monkeypatch, renderer, tmp_path):
    x, y = np.meshgrid(np.linspace(0, 1, 160), np.linspace(0, 1, 120))
    Image.fromarray(np.stack([x * 255, y * 255, np.full_like(x, 90)], axis=-1).astype(np.uint8)).save(
        tmp_path / "gradient.png")
    cfg = load_config([*SIZE, f"background.images={tmp_path}"])
    sampler = Sampler(cfg)
    scenes = [sampler.sample(index) for index in range(12)]
    assert any(rows_of(scene) > 0 for scene in scenes)
    scissored = [renderer.render(scene).rgb for scene in scenes]
    monkeypatch.setattr(colour, "floor_rows", lambda camera, floor_size: 0)
    whole = [renderer.render(scene).rgb for scene in scenes]
    for index, (mine, reference) in enumerate(zip(scissored, whole)):
        np.testing.assert_array_equal(mine, reference, err_msg=f"scene {index}")
