"""Environment lighting in the raster shader, checked against the map itself: a diffuse
floor under a constant map gives the analytic radiance, a mirror ball reflects the map,
the map is seen behind the scene, turning the map and the scene together changes no
pixel, and no label layer changes with the environment or the camera effects."""

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage
from studio import STUDIO, lone_scene, make_camera, make_object

from scenegen import load_config
from scenegen.render.environment import mip_chain, tone_map
from scenegen.scene.scene import CameraEffects, Environment, Light
from scenegen.world.environments import EnvironmentSet, rotate_direction, write_hdr
from scenegen.world.sampler import Sampler
from scenegen.world.skies import map_directions

pytestmark = pytest.mark.render
pytest.importorskip("imagecodecs")

WIDTH, HEIGHT = 120, 90
ROUGH = 0.9  # the floor's roughness (scenegen.render.graph)


def srgb(linear):
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055) * 255.0


def env_brdf(roughness, nv):
    """Karis's split-sum approximation, as mesh.frag has it."""
    c0, c1 = np.array([-1.0, -0.0275, -0.572, 0.022]), np.array([1.0, 0.0425, 1.04, -0.04])
    r = roughness * c0 + c1
    a004 = min(r[0] * r[0], 2.0 ** (-9.28 * nv)) * r[0] + r[1]
    return -1.04 * a004 + r[2], 1.04 * a004 + r[3]


def lookup(radiance, directions, rotation=0.0):
    """Bilinear samples (N, 3) of an equirectangular map at world ``directions`` (N, 3),
    the map turned by ``rotation`` (as the shaders read it)."""
    c, s = math.cos(rotation), math.sin(rotation)
    d = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    m = np.column_stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]])
    h, w = radiance.shape[:2]
    x = (np.arctan2(m[:, 1], m[:, 0]) / (2 * math.pi)) % 1.0 * w - 0.5
    y = np.clip(np.arccos(np.clip(m[:, 2], -1, 1)) / math.pi * h - 0.5, 0, h - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    y1 = np.minimum(y0 + 1, h - 1)
    x0, x1 = x0 % w, (x0 + 1) % w
    top = radiance[y0, x0] * (1 - fx) + radiance[y0, x1] * fx
    bottom = radiance[y1, x0] * (1 - fx) + radiance[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    """A folder of maps: ``constant`` (grey 1.0), ``bands`` (colours changing smoothly
    with azimuth and elevation, no light standing out)."""
    folder = tmp_path_factory.mktemp("maps")
    write_hdr(folder / "constant.hdr", np.ones((32, 64, 3), np.float32))
    directions, _ = map_directions(64, 128)
    x, y, z = (directions[..., k] for k in range(3))
    bands = np.stack([0.55 + 0.45 * x, 0.55 + 0.45 * y, 0.3 + 0.25 * (z + 1)], axis=-1).astype(np.float32)
    write_hdr(folder / "bands.hdr", bands)
    return folder


def environment(folder, name, intensity=2.0, rotation=0.0, background=True):
    return Environment(source=str(folder), name=name, level=name, rotation=rotation, intensity=intensity,
                       background=background)


def ball_scene(dictionary, env, camera, metallic=1.0, roughness=0.0, rgb=(1.0, 1.0, 1.0), yaw=0.0, lights=()):
    ball = replace(make_object(dictionary, "ball", scale=0.6, yaw=yaw), rgb=rgb, metallic=metallic,
                   roughness=roughness)
    return replace(lone_scene(ball, camera), environment=env, lights=tuple(lights))


def test_a_constant_map_lights_a_diffuse_floor_as_the_analytic_irradiance(dictionary, renderer, maps):
    """Floor of albedo a under a constant map scaled to irradiance E: outgoing radiance
    (a (1 - 0.04) + 0.04 A + B) E / pi (diffuse plus the split-sum specular of a
    constant map), then tone mapped and sRGB encoded."""
    intensity = 1.7
    camera = make_camera((0.0, -3.0, 2.0), (0.0, 0.5, 0.0), WIDTH, HEIGHT)
    scene = replace(ball_scene(dictionary, environment(maps, "constant", intensity), camera), objects=())
    albedo = np.array(STUDIO.floor_color)
    frame = renderer.render(scene)
    v, u = HEIGHT // 2, WIDTH // 2
    assert frame.instances[v, u] == 0 and frame.depth[v, u] > 0
    ray = camera.pose[:3, :3] @ np.array([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, 1.0])
    nv = float(-ray[2] / np.linalg.norm(ray))
    a, b = env_brdf(ROUGH, nv)
    radiance = (albedo * (1 - 0.04) + 0.04 * a + b) * intensity / math.pi
    expected = srgb(tone_map(radiance))
    assert np.abs(frame.rgb[v, u].astype(float) - expected).max() <= 2.0, (frame.rgb[v, u], expected)


def test_a_mirror_ball_reflects_the_map(dictionary, renderer, maps):
    camera = make_camera((0.0, -2.5, 0.8), (0.0, 0.0, 0.3), WIDTH, HEIGHT)
    env = environment(maps, "bands", intensity=2.0)
    scene = ball_scene(dictionary, env, camera)
    frame = renderer.render(scene)
    sky = EnvironmentSet.load(str(maps)).lighting("bands")
    scale = env.intensity / sky.up_irradiance
    # the analytic sphere: centre, radius; pixels well inside its silhouette
    centre, radius = np.array([0.0, 0.0, 0.3]), 0.3
    v, u = np.nonzero(frame.instances == 1)
    rays = np.column_stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones(len(u))])
    rays = rays @ camera.pose[:3, :3].T
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    eye = camera.position
    along = rays @ (centre - eye)
    miss = np.sum((eye + along[:, None] * rays - centre) ** 2, axis=1)
    inside = miss < (0.6 * radius) ** 2
    t = along[inside] - np.sqrt(radius**2 - miss[inside])
    normals = (eye + t[:, None] * rays[inside] - centre) / radius
    reflected = rays[inside] - 2 * np.sum(rays[inside] * normals, axis=1)[:, None] * normals
    a, b = env_brdf(0.04, 1.0)
    expected = srgb(tone_map(lookup(sky.sky, reflected) * scale * (a + b)))
    got = frame.rgb[v[inside], u[inside]].astype(float)
    assert inside.sum() > 200
    assert np.abs(got - expected).mean() < 2.0 and np.percentile(np.abs(got - expected), 95) <= 5.0
    # the reflection is of the map, not of a flat colour: it varies across the ball
    assert got.std(axis=0).min() > 5.0


def test_the_map_is_seen_behind_the_scene(dictionary, renderer, maps):
    camera = make_camera((0.0, -3.0, 0.5), (0.0, 0.0, 1.5), WIDTH, HEIGHT, fov_deg=60.0)
    rotation = 0.7
    env = environment(maps, "bands", intensity=2.0, rotation=rotation)
    scene = replace(ball_scene(dictionary, env, camera), objects=())
    frame = renderer.render(scene)
    maps_set = EnvironmentSet.load(str(maps))
    sky, whole = maps_set.lighting("bands"), maps_set.radiance("bands")  # the whole map is seen, light and all
    v, u = np.nonzero(frame.depth == 0)
    assert len(v) > 1000
    rays = np.column_stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones(len(u))])
    rays = rays @ camera.pose[:3, :3].T
    expected = srgb(tone_map(lookup(whole, rays, rotation) * env.intensity / sky.up_irradiance))
    assert np.abs(frame.rgb[v, u].astype(float) - expected).max() <= 3.0
    hidden = renderer.render(replace(scene, environment=replace(env, background=False)))
    assert np.all(hidden.rgb[v, u] == np.rint(np.array(STUDIO.background) * 255).astype(np.uint8))


def test_turning_the_map_and_the_scene_together_changes_no_pixel(dictionary, renderer, maps):
    """The ball, the camera, the key light and the map all turned a quarter about z
    (the square floor onto itself): the same image; the map turned alone: another."""
    key = Light(direction=(0.6, 0.0, 0.8), color=(1.0, 0.9, 0.8), intensity=1.5, shadows=True)

    def scene(turn, turn_map):
        c, s = math.cos(turn), math.sin(turn)
        eye = np.array([2.0, -1.5, 1.4])
        camera = make_camera((c * eye[0] - s * eye[1], s * eye[0] + c * eye[1], eye[2]), (0.0, 0.0, 0.3),
                             WIDTH, HEIGHT)
        light = replace(key, direction=tuple(rotate_direction(np.array(key.direction), turn)))
        env = environment(maps, "bands", intensity=2.5, rotation=0.3 + turn_map)
        return ball_scene(dictionary, env, camera, metallic=0.3, roughness=0.4, rgb=(0.8, 0.5, 0.2), yaw=turn,
                          lights=[light])

    base = renderer.render(scene(0.0, 0.0)).rgb.astype(int)
    turned = renderer.render(scene(math.pi / 2, math.pi / 2)).rgb.astype(int)
    assert np.abs(base - turned).max() <= 2 and np.abs(base - turned).mean() < 0.1
    map_alone = renderer.render(scene(0.0, math.pi / 2)).rgb.astype(int)
    assert np.abs(base - map_alone).mean() > 3.0


LABEL_LAYERS = ("depth", "instances", "semantic", "parts", "amodal", "normals")
EVERY_EFFECT = CameraEffects(name="all", seed=7, noise=0.05, white_balance=(1.3, 1.0, 0.7), jpeg_quality=40,
                             aperture=0.05, focus_distance=1.0, motion_blur=6.0, motion_angle=0.4, vignetting=0.5)


def test_labels_are_pixel_identical_with_and_without_every_effect(dictionary, renderer):
    """Environment lighting (with its background and key light), tone mapping, ambient
    occlusion, texture sets (normal maps included) and each camera effect change the
    image only."""
    cfg = load_config(["preset=realistic", f"width={WIDTH}", f"height={HEIGHT}"])
    sampler = Sampler(cfg)
    for index in range(6):
        realistic = sampler.sample(index)
        assert realistic.environment is not None and realistic.effects is not None
        assert realistic.surfaces == "builtin" and realistic.context.floor_surface
        flat = replace(realistic, environment=None, effects=None, surfaces="",
                       objects=tuple(replace(o, surface="") for o in realistic.objects),
                       context=replace(realistic.context, floor_surface="", wall_surface=""))
        frames = [renderer.render(s) for s in (flat, realistic, replace(realistic, effects=EVERY_EFFECT))]
        for frame in frames[1:]:
            for layer in LABEL_LAYERS:
                assert np.array_equal(getattr(frame, layer), getattr(frames[0], layer)), (index, layer)
        assert not np.array_equal(frames[0].rgb, frames[1].rgb)
        assert not np.array_equal(frames[1].rgb, frames[2].rgb)


def test_the_mip_chain_halves_to_one_row_and_keeps_the_mean():
    radiance = np.random.default_rng(0).random((16, 32, 3)).astype(np.float32)
    levels = mip_chain(radiance)
    assert [level.shape[:2] for level in levels] == [(16, 32), (8, 16), (4, 8), (2, 4), (1, 2)]
    for level in levels:
        assert np.allclose(level.mean(axis=(0, 1)), radiance.mean(axis=(0, 1)), atol=1e-6)


def test_tone_map_is_the_identity_below_its_shoulder_and_stays_below_one():
    mid = np.array([[0.3, 0.5, 0.7]])
    assert np.allclose(tone_map(mid), mid - 0.04)
    bright = np.array([[5.0, 3.0, 1.0], [100.0, 100.0, 100.0]])
    mapped = tone_map(bright)
    assert np.all(mapped < 1.0) and np.all(np.diff(tone_map(np.linspace(0, 50, 200)[:, None].repeat(3, 1))[:, 0]) >= 0)


def test_the_shaders_share_one_tone_mapping():
    """mesh.frag and sky.frag each carry the tone mapping and sRGB curve (GLSL has no
    includes): the same text, so surfaces and the map behind them are exposed alike."""
    from scenegen.render.programs import SHADER_DIR

    def functions(name):
        text = (SHADER_DIR / name).read_text()
        start = text.index("vec3 tone_map(vec3 color)")
        end = text.index("}\n", text.index("vec3 linear_to_srgb(vec3 c)")) + 2
        return text[start:end]

    assert functions("mesh.frag") == functions("sky.frag")


@pytest.mark.parametrize("size", [(WIDTH, HEIGHT), (WIDTH + 1, HEIGHT + 1)], ids=["even", "odd"])
def test_ambient_occlusion_darkens_the_floor_beside_an_object_only(dictionary, renderer, maps, size):
    """Under a constant map (no key light), the floor right beside a crate is darker
    than the same floor point without the crate; the floor far away is unchanged. The
    pass has one texel per 2x2 pixels: an odd side's last column and row get theirs."""
    camera = make_camera((0.0, -2.2, 1.6), (0.0, 0.0, 0.0), *size)
    crate = make_object(dictionary, "crate", scale=0.4)
    with_crate = replace(lone_scene(crate, camera), environment=environment(maps, "constant", 2.0), lights=())
    frames = [renderer.render(s) for s in (with_crate, replace(with_crate, objects=()))]
    # floor pixels not beside the crate's outline (multisampling blends those with it)
    beside = ndimage.binary_dilation(frames[0].instances != 0, structure=np.ones((3, 3), dtype=bool))
    floor = (frames[0].instances == 0) & ~beside
    rays_hit = frames[0].depth > 0
    # floor pixels whose world point lies within 5 cm of the crate's side, and beyond 1 m
    from studio import backproject

    points = backproject(frames[0], with_crate, floor & rays_hit)
    v, u = np.nonzero(floor & rays_hit)
    half = 0.2
    gap = np.maximum(np.abs(points[:, 0]), np.abs(points[:, 1])) - half
    near, far = (gap > 0.005) & (gap < 0.05), gap > 1.0
    assert near.sum() > 20 and far.sum() > 20
    darker = frames[1].rgb[v, u].astype(float).mean(axis=1) - frames[0].rgb[v, u].astype(float).mean(axis=1)
    assert darker[near].mean() > 4.0
    assert np.abs(darker[far]).max() <= 1.0
    # lighting.occlusion=0: no pass, the floor beside the crate is as bright as without it
    off = renderer.render(replace(with_crate, environment=replace(with_crate.environment, occlusion=0.0)))
    unoccluded = frames[1].rgb[v, u].astype(float).mean(axis=1) - off.rgb[v, u].astype(float).mean(axis=1)
    assert np.abs(unoccluded[near]).max() <= 1.0


def test_texture_set_maps_keep_the_materials_mean_roughness():
    from scenegen.render.surfaces import roughness_map, uv_scale
    from scenegen.world.texture_sets import builtin_set

    found = builtin_set("oak", 64)
    image, ratio = roughness_map(found)
    assert image[..., 0].max() == 255 and np.all(image[..., 1] == 255) and np.all(image[..., 2] == 0)
    mean = (image[..., 0] / 255.0).mean() * ratio  # the factor times the map, on average
    assert mean == pytest.approx(1.0, abs=0.01)
    assert uv_scale(0.5, 0.5) == 1.0 and uv_scale(1.0, 0.5) == 2.0
    assert uv_scale(0.6, 0.5) in (2 ** 0.25, 1.0)


def test_a_scene_naming_an_unknown_set_is_refused(dictionary, renderer):
    from scenegen.errors import RenderError

    camera = make_camera((0.0, -2.0, 1.0), (0.0, 0.0, 0.2), WIDTH, HEIGHT)
    scene = replace(lone_scene(make_object(dictionary, "crate", scale=0.4), camera), surfaces="builtin")
    scene = replace(scene, objects=tuple(replace(o, surface="teak") for o in scene.objects))
    with pytest.raises(RenderError, match="teak.*valid"):
        renderer.render(scene)
