"""Shadows: on by default, recorded per light in the Scene, cast by objects onto the
floor, and changing the colour image only."""

import math
from dataclasses import replace

import numpy as np
import pytest

from scenegen import load_config
from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv, project
from scenegen.scene.scene import Camera, Context, Light, ObjectInstance, Scene
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render

STUDIO = Context(name="studio", background=(0.6, 0.6, 0.6), floor_color=(0.6, 0.6, 0.6), floor_size=12.0,
                 walls=False, wall_color=(0.7, 0.7, 0.7), wall_height=3.0, ambient=0.2)
SIDE = 0.5  # metres: the crate's largest extent


def sun(azimuth_deg, elevation_deg, shadows=True):
    a, e = math.radians(azimuth_deg), math.radians(elevation_deg)
    direction = (math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e))
    return Light(direction=direction, color=(1.0, 1.0, 1.0), intensity=3.0, shadows=shadows)


def camera_looking_down():
    pose = look_at_opencv([0.3, -3.0, 3.0], [0.0, 0.0, 0.0])
    fx, fy, cx, cy = intrinsics_from_fov(math.radians(45.0), 160, 120)
    return Camera(width=160, height=120, fx=fx, fy=fy, cx=cx, cy=cy, world_from_camera=tuple(map(tuple, pose)),
                  target=(0.0, 0.0, 0.0), distance=4.2, azimuth=0.0, elevation=0.8, znear=0.05, zfar=100.0)


def crate_scene(dictionary, lights):
    crate = ObjectInstance(entry="crate", category=dictionary["crate"].category, position=(0.0, 0.0, 0.0), yaw=0.0,
                           scale=SIDE, color="red", rgb=(0.8, 0.1, 0.1), material="matte", metallic=0.0,
                           roughness=0.9)
    return Scene(index=0, seed=0, context=STUDIO, objects=(crate,), lights=tuple(lights), camera=camera_looking_down())


def floor_pixels(scene, points_xy):
    """(row, col) of floor points (z = 0) in the image."""
    uv = np.rint(project(np.column_stack([points_xy, np.zeros(len(points_xy))]), scene.camera.K,
                         scene.camera.pose)).astype(int)
    return uv[:, 1], uv[:, 0]


# the sun at azimuth 0 (from +x), 35 degrees up: the crate's shadow falls on -x
BEHIND = np.array([[-0.45, 0.0], [-0.4, 0.1], [-0.4, -0.1], [-0.5, 0.05]])  # in the shadow
OPEN = np.array([[0.9, 0.8], [-0.9, 0.9], [0.8, -0.9], [1.2, 0.0]])  # far from the crate


def test_shadows_are_on_by_default_and_recorded_per_light():
    cfg = load_config()
    assert cfg.lights.shadows is True
    scene = Sampler(cfg).sample(0)
    assert scene.lights and all(light.shadows for light in scene.lights)
    off = Sampler(load_config(["lights.shadows=false"])).sample(0)
    assert not any(light.shadows for light in off.lights)
    # the switch changes nothing else the sampler draws
    assert replace(off, lights=tuple(replace(light, shadows=True) for light in off.lights)) == scene


def test_light_shadows_round_trip_and_old_scenes_have_none():
    scene = crate_scene_for_json()
    assert Scene.from_json(scene.to_json()) == scene
    data = scene.to_dict()
    for light in data["lights"]:
        del light["shadows"]  # a scene recorded before the key existed
    assert not any(light.shadows for light in Scene.from_dict(data).lights)


def crate_scene_for_json():
    crate = ObjectInstance(entry="crate", category="crate", position=(0.0, 0.0, 0.0), yaw=0.0, scale=SIDE,
                           color="red", rgb=(0.8, 0.1, 0.1), material="matte", metallic=0.0, roughness=0.9)
    return Scene(index=0, seed=0, context=STUDIO, objects=(crate,), lights=(sun(0, 35), sun(90, 60, False)),
                 camera=camera_looking_down())


def test_the_floor_behind_an_object_is_darker_with_shadows(dictionary, renderer):
    lit = renderer.render(crate_scene(dictionary, [sun(0, 35, shadows=False)]))
    shaded = renderer.render(crate_scene(dictionary, [sun(0, 35, shadows=True)]))
    scene = crate_scene(dictionary, [])
    rows, cols = floor_pixels(scene, BEHIND)
    assert (shaded.instances[rows, cols] == 0).all()  # floor, not the crate
    dark = shaded.rgb[rows, cols].astype(int).sum(axis=1)
    bright = lit.rgb[rows, cols].astype(int).sum(axis=1)
    assert (dark < 0.7 * bright).all(), (dark, bright)  # only ambient light is left there
    # open floor, far from the crate: the same with and without shadows
    rows, cols = floor_pixels(scene, OPEN)
    assert np.abs(shaded.rgb[rows, cols].astype(int) - lit.rgb[rows, cols].astype(int)).max() <= 2
    # the shadow lies on the side away from the light: the floor on the lit side is open
    rows, cols = floor_pixels(scene, -BEHIND)
    assert np.abs(shaded.rgb[rows, cols].astype(int) - lit.rgb[rows, cols].astype(int)).max() <= 2


def test_only_lights_with_shadows_cast_them(dictionary, renderer):
    """Two suns on opposite sides: only the one with ``shadows`` darkens the floor
    behind the crate; the other's side stays as without shadows."""
    both = [sun(0, 35, shadows=True), sun(180, 35, shadows=False)]
    none = [sun(0, 35, shadows=False), sun(180, 35, shadows=False)]
    mixed = renderer.render(crate_scene(dictionary, both))
    plain = renderer.render(crate_scene(dictionary, none))
    scene = crate_scene(dictionary, [])
    rows, cols = floor_pixels(scene, BEHIND)  # in the shadow of the sun from +x
    assert (mixed.rgb[rows, cols].astype(int).sum(axis=1) < plain.rgb[rows, cols].astype(int).sum(axis=1) - 20).all()
    rows, cols = floor_pixels(scene, -BEHIND)  # where the sun from -x would cast one
    assert np.abs(mixed.rgb[rows, cols].astype(int) - plain.rgb[rows, cols].astype(int)).max() <= 2


def test_shadows_change_the_colour_image_only(small_cfg, dictionary, renderer):
    sampler = Sampler(small_cfg, dictionary)
    changed = 0
    for index in range(6):
        scene = sampler.sample(index)
        assert all(light.shadows for light in scene.lights)
        shaded = renderer.render(scene)
        plain = renderer.render(replace(scene, lights=tuple(replace(light, shadows=False) for light in scene.lights)))
        for name, layer in shaded.layers().items():
            if name != "rgb":
                np.testing.assert_array_equal(layer, plain.layers()[name], err_msg=name)
        changed += int((shaded.rgb != plain.rgb).any())
        assert shaded.rgb.astype(int).sum() <= plain.rgb.astype(int).sum()  # shadows only darken
    assert changed >= 4


def test_shadowed_rendering_is_deterministic(small_cfg, dictionary, renderer):
    scene = Sampler(small_cfg, dictionary).sample(3)
    first = renderer.render(scene).rgb
    renderer.render(Sampler(small_cfg, dictionary).sample(4))  # other lights and casters in between
    np.testing.assert_array_equal(renderer.render(scene).rgb, first)
