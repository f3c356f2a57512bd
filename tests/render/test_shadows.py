"""Shadows: on by default, recorded per light in the Scene, cast by objects onto the
floor, and changing the colour image only."""

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from scenegen import load_config
from scenegen.render.meshes import shadow_map_size
from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv, project
from scenegen.scene.scene import Camera, Context, Environment, Light, ObjectInstance, Scene
from scenegen.world.environments import write_hdr
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


@pytest.mark.parametrize("width, height, size", [(160, 120, 512), (341, 200, 512), (342, 256, 1024),
                                                  (640, 480, 1024), (2000, 100, 1024)])
def test_the_shadow_map_size_follows_the_image_size(width, height, size):
    assert shadow_map_size(width, height) == size
    assert shadow_map_size(height, width) == size


def test_scenes_of_two_image_sizes_keep_maps_of_their_own_size(dictionary, renderer):
    """A renderer drawing small and large images alternately gives each its map size,
    and the small image is the same before and after the large one."""
    small = crate_scene(dictionary, [sun(0, 35)])
    large = replace(small, camera=replace(small.camera, width=400, height=300, cx=199.5, cy=149.5))
    first = renderer.render(small).rgb
    build = renderer.build(large)
    assert {node.light.shadow_texture.width for node, _ in build.lights} == {1024}
    renderer.render(large)
    np.testing.assert_array_equal(renderer.render(small).rgb, first)
    assert {node.light.shadow_texture.width for node, _ in renderer.build(small).lights} == {512}


@pytest.fixture(scope="module")
def grey_sky(tmp_path_factory):
    """An environment of a constant grey map (the realistic look's shader and filter)."""
    pytest.importorskip("imagecodecs")
    folder = tmp_path_factory.mktemp("maps")
    write_hdr(folder / "grey.hdr", np.full((16, 32, 3), 0.3, np.float32))
    return Environment(source=str(folder), name="grey", level="grey", rotation=0.0, intensity=1.0,
                       background=False, occlusion=0.0)


@pytest.mark.parametrize("look", ["flat", "environment"])
@pytest.mark.parametrize("elevation", [15, 25, 35, 55, 75])
@pytest.mark.parametrize("width, height", [(160, 120), (480, 360)])
def test_lit_faces_do_not_shade_themselves(dictionary, renderer, grey_sky, look, elevation, width, height):
    """No shadow acne, with either map size (512 and 1024 texels) and either look's
    filter: the crate's flat lid, which nothing hides from the sun, looks the same with
    and without shadows, down to a sun 15 degrees above the horizon."""
    base = crate_scene(dictionary, [])
    zoom = 2.0 * width / base.camera.width  # the crate fills more of the image
    camera = replace(base.camera, width=width, height=height, fx=base.camera.fx * zoom, fy=base.camera.fy * zoom,
                     cx=(width - 1) / 2, cy=(height - 1) / 2)
    base = replace(base, camera=camera, environment=grey_sky if look == "environment" else None)
    lit = renderer.render(replace(base, lights=(sun(0, elevation, shadows=False),)))
    shaded = renderer.render(replace(base, lights=(sun(0, elevation, shadows=True),)))
    up = camera.pose[:3, :3].T @ np.array([0.0, 0.0, 1.0])  # world +z in the camera frame
    tops = (lit.instances == 1) & ((lit.normals @ up) > 0.99)
    labels, _ = ndimage.label(tops)
    lid = labels == np.argmax(np.bincount(labels[tops]))  # the largest: the lid (the others: slats' tops)
    # 4 pixels in from its outline: the filter's reach past the edge facing the sun (a
    # low sun sees that side face beside the lid, nearer than it) is left out
    inside = ndimage.binary_erosion(lid, np.ones((3, 3), dtype=bool), iterations=4)
    assert inside.sum() > 0.01 * width * height
    difference = np.abs(shaded.rgb.astype(int) - lit.rgb.astype(int)).max(axis=-1)[inside]
    assert difference.max() <= 1, (difference.max(), (difference > 1).sum(), inside.sum())
