"""The path-traced engine (scenegen[pathtraced], Mitsuba 3): the same scene and the same
labels as the raster. Its geometry and camera against the raster's instance image
(pixel-exact, principal point off centre included), radiometry against closed forms
(a Lambertian plane under a constant sky and under a directional light), its environment
map's orientation against the raster's sky lookup, determinism, its errors. Small images
and few samples: the scalar variant runs these in seconds.

Tests that need Mitsuba skip without it (``pytest.importorskip``); those of its errors
without Mitsuba run everywhere."""

from __future__ import annotations

import math
import sys
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from scenegen import load_config
from scenegen.errors import ConfigError
from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv
from scenegen.scene.scene import Camera, Context, Light, Scene
from scenegen.world.dictionary import ObjectDictionary
from scenegen.world.sampler import Sampler

SIZE = ["width=64", "height=48"]
LABELS = ("depth", "instances", "semantic", "parts", "amodal", "normals")
VARIANT = "scalar_rgb"  # works out of the box everywhere Mitsuba installs


@pytest.fixture(scope="module")
def mitsuba():
    return pytest.importorskip("mitsuba")


@pytest.fixture(scope="module")
def small(mitsuba):
    """(config, dictionary, PathTracer of 8 spp, scalar variant)."""
    from scenegen.render.pathtraced import PathTracer

    cfg = load_config(SIZE)
    dictionary = ObjectDictionary.from_config(cfg)
    with PathTracer(dictionary, spp=8, variant=VARIANT) as tracer:
        yield cfg, dictionary, tracer


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def studio_scene(width, height, rho, ambient, lights=(), eye=(0.3, -0.5, 3.0)) -> Scene:
    """A floor of colour ``rho`` (20 m, filling the view from ``eye``), nothing else, under
    ``ambient`` (a constant sky of that radiance) and ``lights``."""
    context = Context(name="studio", background=(0.0, 0.0, 0.0), floor_color=tuple(rho), floor_size=20.0,
                      walls=False, wall_color=(1.0, 1.0, 1.0), wall_height=3.0, ambient=float(ambient))
    pose = look_at_opencv(list(eye), [0.0, 0.0, 0.0])
    fx, fy, cx, cy = intrinsics_from_fov(math.radians(40), width, height)
    camera = Camera(width=width, height=height, fx=fx, fy=fy, cx=cx, cy=cy, world_from_camera=tuple(map(tuple, pose)),
                    target=(0.0, 0.0, 0.0), distance=3.0, azimuth=0.0, elevation=1.4, znear=0.05, zfar=100.0)
    return Scene(index=0, seed=0, context=context, objects=(), lights=tuple(lights), camera=camera)


# -- without Mitsuba ---------------------------------------------------------------------


def test_without_mitsuba_the_engine_names_the_install_command(monkeypatch, dictionary):
    from scenegen.render import make_renderer
    from scenegen.render.pathtraced import PathTracer

    monkeypatch.setitem(sys.modules, "mitsuba", None)  # import mitsuba raises ImportError
    with pytest.raises(ConfigError, match=r"Mitsuba 3.*pip install 'scenegen\[pathtraced\]'") as error:
        PathTracer(dictionary)
    assert error.value.exit_status == 2
    with pytest.raises(ConfigError, match=r"pip install 'scenegen\[pathtraced\]'"):
        make_renderer(dictionary, "pathtraced")


@pytest.mark.parametrize("key, value", [("spp", 0), ("spp", 65537), ("spp", 2.5), ("spp", True),
                                        ("max_depth", 0), ("max_depth", 65), ("max_depth", "8")])
def test_spp_and_depth_out_of_range_name_the_range(dictionary, key, value):
    from scenegen.render.pathtraced import PathTracer

    valid = {"spp": r"\[1, 65536\]", "max_depth": r"\[1, 64\]"}[key]
    with pytest.raises(ConfigError, match=rf"render.{key}: must be an integer in {valid}, got"):
        PathTracer(dictionary, **{key: value})


def test_mirrored_texture_frames_are_found_on_box_faces(dictionary):
    """Box projection mirrors the texture frame on the -x, +y and -z faces (the path
    tracer flips their normal map's green channel, as mesh.frag turns the bitangent)."""
    from scenegen.render.meshes import MeshPool
    from scenegen.render.mitsuba_scene import mirrored_faces

    positions, normals, uv, faces, _ = MeshPool(None, dictionary).geometry_of(("box", (1.0, 2.0, 3.0)))
    mirrored = mirrored_faces(positions, uv, faces, normals)
    face_normal = normals[faces].sum(axis=1)
    axis, side = np.abs(face_normal).argmax(axis=1), np.sign(face_normal[np.arange(len(faces)), np.abs(face_normal).argmax(axis=1)])
    expected = ((axis == 0) & (side < 0)) | ((axis == 1) & (side > 0)) | ((axis == 2) & (side < 0))
    np.testing.assert_array_equal(mirrored, expected)


# -- geometry and camera ---------------------------------------------------------------


def nothing_near(depth: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels with no surface in their 3 x 3 neighbourhood (the raster's
    multisampled edges blend a surface into pixels whose centre sees none)."""
    from scipy.ndimage import binary_erosion

    return binary_erosion(depth == 0, np.ones((3, 3), bool), border_value=1)


def off_centre(scene: Scene) -> Scene:
    """The scene through a camera whose principal point is moved off the image centre."""
    cam = scene.camera
    return replace(scene, camera=replace(cam, cx=cam.cx + 0.13 * cam.width, cy=cam.cy - 0.11 * cam.height))


@pytest.mark.render
@pytest.mark.parametrize("overrides", [[], ["seed=5", "rest.chance=1"]], ids=["upright", "lying"])
def test_every_object_aligns_with_the_raster_instance_mask(small, overrides):
    """Mitsuba's camera through each pixel centre sees each object where the raster's
    instance image has it: IoU >= 0.99 per object, centred and off-centre principal
    points, upright and lying objects (in practice every pixel agrees)."""
    from scenegen.render.pathtraced import instance_ids

    _, dictionary, tracer = small
    cfg = load_config([*SIZE, *overrides])
    sampler = Sampler(cfg, dictionary)
    checked = 0
    for index in range(4):
        scene = sampler.sample(index)
        for camera_scene in (scene, off_centre(scene)):
            raster = tracer.raster.render(camera_scene).instances
            traced = instance_ids(camera_scene, dictionary, tracer.raster.meshes, VARIANT)
            for i in range(len(scene.objects)):
                if (raster == i + 1).any() or (traced == i + 1).any():
                    assert iou(raster == i + 1, traced == i + 1) >= 0.99, (overrides, index, i)
                    checked += 1
        moved = tracer.raster.render(off_centre(scene)).instances
        assert not np.array_equal(moved, tracer.raster.render(scene).instances)  # the shift shows
    assert checked >= 8


# -- radiometry --------------------------------------------------------------------------


@pytest.mark.render
def test_a_diffuse_plane_under_a_constant_sky_has_radiance_albedo_times_sky(small):
    """rho * L everywhere (Lambertian plane, open to a constant sky of radiance L): the
    image mean within 1%, every 6 x 6 block within 2%, at 256 spp; the scenes' own
    (principled, roughness 0.9) material is brighter than Lambert (retro-reflection, a
    specular lobe): documented, bounded here."""
    from scenegen.render.mitsuba_scene import mitsuba_scene
    from scenegen.render.pathtraced import render_mitsuba

    _, dictionary, _ = small
    rho, sky = np.array([0.6, 0.35, 0.15]), 0.8
    scene = studio_scene(24, 18, rho, sky)
    image = render_mitsuba(mitsuba_scene(scene, dictionary, spp=256, materials="diffuse", variant=VARIANT))
    assert (image[..., 3] == 1.0).all()  # the plane covers every pixel
    ratio = image[..., :3] / (rho * sky)
    np.testing.assert_allclose(ratio.mean(axis=(0, 1)), 1.0, atol=0.01)
    blocks = ratio.reshape(3, 6, 4, 6, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(blocks, 1.0, atol=0.02)
    principled = render_mitsuba(mitsuba_scene(scene, dictionary, spp=64, variant=VARIANT))[..., :3] / (rho * sky)
    assert 1.0 < principled.mean() < 1.25


@pytest.mark.render
def test_a_diffuse_plane_under_a_directional_light_has_lambert_radiance(small):
    """rho * E * cos(theta) / pi: the directional light's intensity is irradiance on a
    surface facing it (W/m^2), as the raster's."""
    from scenegen.render.mitsuba_scene import mitsuba_scene
    from scenegen.render.pathtraced import render_mitsuba

    _, dictionary, _ = small
    rho, irradiance, elevation = np.array([0.5, 0.4, 0.3]), 3.0, math.radians(50)
    toward = (math.cos(elevation), 0.0, math.sin(elevation))
    light = Light(direction=toward, color=(1.0, 0.8, 0.6), intensity=irradiance, shadows=True)
    scene = studio_scene(16, 12, rho, 0.0, lights=(light,))
    image = render_mitsuba(mitsuba_scene(scene, dictionary, spp=16, max_depth=1, materials="diffuse",
                                         variant=VARIANT))[..., :3]
    expected = rho * irradiance * np.array(light.color) * math.sin(elevation) / math.pi
    np.testing.assert_allclose(image, np.broadcast_to(expected, image.shape), rtol=1e-3)


@pytest.mark.render
def test_the_environment_map_is_oriented_as_the_raster_sky(small, mitsuba):
    """Mitsuba's envmap (the lighting and what mirrors show) and the raster's sky lookup
    give the same radiance through each pixel centre, for a turned map."""
    from scenegen.render.environment import EnvironmentDraw
    from scenegen.render.mitsuba_scene import environment_to_world, import_mitsuba, sensor_dict
    from scenegen.render.pathtraced import render_mitsuba, sky_radiance

    _, dictionary, tracer = small
    cfg = load_config(["width=32", "height=24", "preset=realistic"])
    scene = Sampler(cfg, dictionary).sample(1)
    assert scene.environment is not None and scene.environment.rotation != 0
    draw = EnvironmentDraw.of(scene.environment, tracer.raster.environments)
    mi = import_mitsuba(VARIANT)
    seen = render_mitsuba({
        "type": "scene", "integrator": {"type": "path", "max_depth": 1},
        "sensor": sensor_dict(mi, scene.camera, 1, 0, pixel_centres=True),
        "sky": {"type": "envmap", "bitmap": mi.Bitmap(np.array(draw.map.whole, dtype=np.float32)),
                "scale": float(draw.scale), "to_world": mi.ScalarTransform4f(environment_to_world(draw.rotation))},
    })[..., :3]
    np.testing.assert_allclose(seen, sky_radiance(scene, draw), rtol=3e-3)


# -- the engine ------------------------------------------------------------------------


@pytest.mark.render
def test_labels_are_the_raster_labels_and_the_image_is_path_traced(small, renderer):
    from scenegen.render import RenderBackend

    cfg, _, tracer = small
    assert isinstance(tracer, RenderBackend) and tracer.layers == tracer.raster.layers
    for index in range(3):
        scene = Sampler(cfg).sample(index)
        frame, raster = tracer.render(scene), renderer.render(scene)
        for name in LABELS:
            np.testing.assert_array_equal(getattr(frame, name), getattr(raster, name), err_msg=name)
        assert frame.rgb.shape == raster.rgb.shape and frame.rgb.dtype == np.uint8
        assert not np.array_equal(frame.rgb, raster.rgb)
        # the same look: the images' mean colours within 30 of 255 (walls shade, sky occludes)
        assert np.abs(frame.rgb.mean(axis=(0, 1)) - raster.rgb.mean(axis=(0, 1))).max() < 30


@pytest.mark.render
def test_the_same_scene_gives_the_same_bytes(small):
    from scenegen.render.mitsuba_scene import sampler_seed
    from scenegen.render.pathtraced import PathTracer

    cfg, dictionary, tracer = small
    sampler = Sampler(cfg, dictionary)
    scene = sampler.sample(2)
    first = tracer.render(scene).rgb
    np.testing.assert_array_equal(tracer.render(scene).rgb, first)
    with PathTracer(dictionary, spp=8, variant=VARIANT) as again:  # a new tracer, same bytes
        np.testing.assert_array_equal(again.render(scene).rgb, first)
    seeds = {sampler_seed(replace(scene, index=i)) for i in range(50)} | {sampler_seed(replace(scene, seed=7))}
    assert len(seeds) == 51 and all(0 <= s < 2**32 for s in seeds)


@pytest.mark.render
def test_variant_version_and_denoiser_are_recorded(small, mitsuba):
    from scenegen.render.pathtraced import VARIANTS, PathTracer, choose_variant

    cfg, dictionary, tracer = small
    chosen = choose_variant()
    assert chosen in VARIANTS and choose_variant() == chosen  # cached
    assert tracer.variant == VARIANT and tracer.name == "pathtraced"
    tracer.render(Sampler(cfg, dictionary).sample(0))
    assert tracer.denoised is False  # OptiX runs on CUDA only
    assert tracer.version.startswith(f"pathtraced (mitsuba {mitsuba.__version__}, scalar_rgb, 8 spp, depth 8, "
                                     f"denoiser: off; labels: raster (")
    with pytest.raises(ConfigError, match=r"variant 'scalar_spectral' is unknown; valid: .*'scalar_rgb'"):
        PathTracer(dictionary, variant="scalar_spectral")


@pytest.mark.render
def test_realistic_scenes_render_with_maps_sets_and_effects(mitsuba):
    """Environment maps (lighting and background), texture sets with normal maps and
    camera effects go through; without a surface, the pixel is the raster's sky."""
    from scenegen.render.pathtraced import PathTracer

    cfg = load_config([*SIZE, "preset=realistic"])
    dictionary = ObjectDictionary.from_config(cfg)
    sampler = Sampler(cfg, dictionary)
    scenes = [sampler.sample(i) for i in range(3)]
    assert any(o.surface for s in scenes for o in s.objects) and all(s.environment for s in scenes)
    shown = 0
    with PathTracer(dictionary, spp=4, max_depth=3, variant=VARIANT) as tracer:
        for scene in scenes:
            assert tracer.render(scene).rgb.shape == (48, 64, 3)  # with its camera effects
            # a small floor, no walls: the sky shows around it
            scene = replace(scene, effects=None, context=replace(scene.context, floor_size=1.5, walls=False))
            frame, raster = tracer.render(scene), tracer.raster.render(scene)
            linear = tracer.render_linear(scene)
            assert np.isfinite(linear).all() and (linear[..., 3] <= 1).all()
            sky = nothing_near(raster.depth) & (linear[..., 3] == 0)
            assert np.abs(frame.rgb[sky].astype(int) - raster.rgb[sky]).max(initial=0) <= 2
            shown += int(sky.sum())
    assert shown > 500


@pytest.mark.render
def test_background_photographs_show_where_no_surface_is(small, tmp_path):
    _, dictionary, tracer = small
    x, y = np.meshgrid(np.linspace(0, 1, 320), np.linspace(0, 1, 120))
    Image.fromarray(np.stack([x * 255, y * 255, np.full_like(x, 90)], axis=-1).astype(np.uint8)).save(
        tmp_path / "wide.png")
    cfg = load_config([*SIZE, f"background.images={tmp_path}"])
    shown = 0
    for index in range(4):
        scene = Sampler(cfg, dictionary).sample(index)
        scene = replace(scene, context=replace(scene.context, floor_size=1.5, walls=False))  # the photo shows
        frame, raster = tracer.render(scene), tracer.raster.render(scene)
        behind = nothing_near(raster.depth) & (tracer.render_linear(scene)[..., 3] == 0)
        if scene.background is not None and scene.background.name:
            assert np.abs(frame.rgb[behind].astype(int) - raster.rgb[behind]).max(initial=0) <= 3
            shown += int(behind.sum())
    assert shown > 500


def test_a_variant_that_cannot_load_is_refused_not_fatal(mitsuba, monkeypatch, dictionary):
    """The LLVM variant is probed in a subprocess (a broken libLLVM aborts that one, not
    this process): one that cannot load is never chosen, and asking for it names why."""
    from scenegen.render.pathtraced import PathTracer, choose_variant, probe_variant

    monkeypatch.setenv("DRJIT_LIBLLVM_PATH", "/nonexistent/libLLVM.so")
    works, why = probe_variant("llvm_ad_rgb")
    assert not works and why
    assert choose_variant() != "llvm_ad_rgb"
    with pytest.raises(ConfigError, match=r"variant 'llvm_ad_rgb' does not render on this machine.*DRJIT_LIBLLVM_PATH"):
        PathTracer(dictionary, variant="llvm_ad_rgb")


@pytest.mark.render
def test_mesh_file_looks_vertex_colours_textures_and_metallic_roughness(mitsuba, tmp_path):
    """A mesh file's own look goes through: vertex colours (red), a two-colour base-colour
    texture (both colours show, as in the raster) and a glTF metallic-roughness texture."""
    from look_files import look_dictionary, write_look_files
    from studio import lone_scene, make_camera, make_object

    from scenegen.render.pathtraced import PathTracer

    dictionary = look_dictionary(write_look_files(tmp_path), two=("two.glb", {}), red=("red.glb", {}),
                                 rough=("rough.glb", {}))
    camera = make_camera((2.2, 0.0, 1.2), (0.0, 0.0, 0.5), 64, 48)
    with PathTracer(dictionary, spp=16, max_depth=2, variant=VARIANT) as tracer:
        colours = {}
        for name in ("two", "red", "rough"):
            scene = lone_scene(make_object(dictionary, name), camera)
            frame = tracer.render(scene)
            mask = frame.instances == 1
            assert mask.sum() > 200
            colours[name] = (frame.rgb[mask].astype(float), tracer.raster.render(scene).rgb[mask].astype(float))
    r, g, b = colours["red"][0].mean(axis=0)
    assert r > 60 and r > 3 * g and r > 3 * b
    pixels = colours["two"][0]
    reds = (pixels[:, 0] > 2 * pixels[:, 1] + 20) & (pixels[:, 0] > 2 * pixels[:, 2] + 20)
    greens = (pixels[:, 1] > 2 * pixels[:, 0] + 20) & (pixels[:, 1] > 2 * pixels[:, 2] + 20)
    assert reds.mean() > 0.15 and greens.mean() > 0.15
    traced, raster = colours["rough"]
    assert abs(traced.mean() - raster.mean()) < 40  # a grey, half-metallic, rough box in both


# -- one code path for every scene (module docstring of mitsuba_scene, "kernels") ---------


@pytest.mark.render
@pytest.mark.parametrize("overrides", [[], ["preset=realistic"], ["seed=3", "lights.count=[0,0]", "rest.chance=1"]],
                         ids=["flat", "realistic", "dark"])
def test_every_scene_converts_to_the_one_form_the_kernels_share(small, overrides):
    """Every shape has texture coordinates and wears principled(bitmap textures) (inside
    twosided and normalmap where the look has them), the spacers both forms; shapes are padded to a multiple of
    SHAPE_SLOTS, directional lights to one of LIGHT_SLOTS; exactly one environment; the
    scene's box is the spacers' +-SCENE_BOUNDS whatever the objects."""
    from scenegen.render.mitsuba_scene import LIGHT_SLOTS, SCENE_BOUNDS, SHAPE_SLOTS, import_mitsuba, mitsuba_scene

    mi = import_mitsuba(VARIANT)
    cfg = load_config([*SIZE, *overrides])
    dictionary = ObjectDictionary.from_config(cfg)
    sampler = Sampler(cfg, dictionary)
    for index in range(4):
        scene = sampler.sample(index)
        converted = mitsuba_scene(scene, dictionary, spp=1, variant=VARIANT)
        shapes = [name for name, value in converted.items() if isinstance(value, mi.Shape)]
        kinds = [value["type"] for value in converted.values() if isinstance(value, dict) and value.get("type") in
                 ("directional", "constant", "envmap")]
        assert len(shapes) % SHAPE_SLOTS == 0 and len(shapes) > sum(1 for n in shapes if n.startswith("spacer"))
        assert kinds.count("directional") % LIGHT_SLOTS == 0 and kinds.count("directional") >= LIGHT_SLOTS
        assert kinds.count("directional") - LIGHT_SLOTS < max(len(scene.lights), 1)
        assert kinds.count("constant") + kinds.count("envmap") == 1
        assert kinds.count("envmap") == (scene.environment is not None)
        loaded = mi.load_dict(converted)
        assert list(loaded.bbox().min) == [-SCENE_BOUNDS] * 3 and list(loaded.bbox().max) == [SCENE_BOUNDS] * 3
        params = mi.traverse(loaded)
        for name in shapes:
            assert f"{name}.vertex_texcoords" in params
            assert any(f"{name}.bsdf.{outer}{inner}metallic.data" in params
                       for outer in ("", "nested_bsdf.") for inner in ("", "brdf_0."))
        assert "spacer0.bsdf.metallic.data" in params and "spacer1.bsdf.normalmap.data" in params


@pytest.mark.render
def test_the_spacers_and_dark_lights_change_no_pixel_of_the_direct_light(small):
    """A lit plane with the padding (three dark directional lights of sampling weight 0, a
    dark constant sky, spacer meshes) has exactly the closed-form radiance of its one
    light: nothing of the padding is sampled or hit."""
    from scenegen.render.mitsuba_scene import mitsuba_scene
    from scenegen.render.pathtraced import render_mitsuba

    _, dictionary, _ = small
    rho, irradiance = np.array([0.3, 0.5, 0.7]), 2.0
    light = Light(direction=(0.0, 0.0, 1.0), color=(1.0, 1.0, 1.0), intensity=irradiance, shadows=True)
    scene = studio_scene(12, 9, rho, 0.0, lights=(light,))
    image = render_mitsuba(mitsuba_scene(scene, dictionary, spp=4, max_depth=1, variant=VARIANT))
    assert (image[..., 3] == 1.0).all()
    brightest = image[..., :3].reshape(-1, 3)
    assert np.all(brightest > 0) and np.all(np.isfinite(brightest))
    diffuse = render_mitsuba(mitsuba_scene(scene, dictionary, spp=4, max_depth=1, materials="diffuse",
                                           variant=VARIANT))[..., :3]
    np.testing.assert_allclose(diffuse, np.broadcast_to(rho * irradiance / math.pi, diffuse.shape), rtol=1e-3)


KERNEL_SCRIPT = r"""
import dataclasses, json, sys
import drjit as dr
from scenegen import load_config
from scenegen.render.pathtraced import PathTracer
from scenegen.world.dictionary import ObjectDictionary
from scenegen.world.sampler import Sampler

cfg = load_config(["width=24", "height=16"])
dictionary = ObjectDictionary.from_config(cfg)
scene = Sampler(cfg, dictionary).sample(1)
first = scene.objects[0]
changed = [
    scene,
    dataclasses.replace(scene, objects=[dataclasses.replace(first, metallic=1.0 - first.metallic, roughness=0.3,
                                                            rgb=(0.9, 0.1, 0.2), texture="plain")] + list(scene.objects[1:])),
    dataclasses.replace(scene, objects=[dataclasses.replace(first, position=(first.position[0] + 0.7,
                                                                             first.position[1] - 0.4, 1.5))]
                        + list(scene.objects[1:])),
    dataclasses.replace(scene, lights=[dataclasses.replace(light, intensity=0.5 * light.intensity,
                                                           direction=(0.3, 0.2, 0.93)) for light in scene.lights]),
    dataclasses.replace(scene, camera=dataclasses.replace(scene.camera, fx=0.8 * scene.camera.fx,
                                                          fy=0.8 * scene.camera.fy, cx=11.0)),
    dataclasses.replace(scene, objects=[dataclasses.replace(obj, roughness=0.1 + 0.1 * k, metallic=0.5)
                                        for k, obj in enumerate(scene.objects)]),
]
tracer = PathTracer(dictionary, spp=2, variant="llvm_ad_rgb")
dr.set_flag(dr.JitFlag.KernelHistory, True)
hashes = []
for each in changed:
    tracer.render_linear(each)
    big = [k for k in dr.kernel_history() if k["type"] == dr.KernelType.JIT and k["operation_count"] > 500]
    hashes.append([str(k["hash"]) for k in big])
print(json.dumps(hashes))
"""


@pytest.mark.render
def test_scenes_that_differ_in_values_share_one_compiled_kernel(mitsuba, tmp_path):
    """LLVM variant (skipped where it does not render): a scene, the same with other
    material values and no texture, with an object moved up out of the old box, with
    other lights, another camera, other finishes, compile to one path-tracing kernel (values are data, not
    code), so a dataset compiles Mitsuba's kernel once per shape of scene, not per scene."""
    import json
    import os
    import subprocess

    from scenegen.render.pathtraced import probe_variant

    works, why = probe_variant("llvm_ad_rgb")
    if not works:
        pytest.skip(f"llvm_ad_rgb does not render here: {why}")
    env = dict(os.environ, HOME=str(tmp_path))  # a fresh kernel cache: nothing comes from disk
    done = subprocess.run([sys.executable, "-c", KERNEL_SCRIPT], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    hashes = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(len(each) == 1 for each in hashes), hashes
    # one kernel; rarely a second (about one run in ten here a second copy of the mesh
    # intersection routine is traced, cause not found); before: one kernel per scene
    assert len({each[0] for each in hashes}) <= 2 < len(hashes), hashes
