"""scenegen's forward and shadow passes (scenegen.render.forward) against pyrender's own:
the same image, byte for byte, with fewer GL calls; every light drawn, in the Graph's
order, whatever pyrender's set of light nodes iterates first."""

import math
from dataclasses import replace

import numpy as np
import pytest
from studio import STUDIO, lone_scene, make_camera, make_object

from scenegen import load_config
from scenegen.errors import RenderError
from scenegen.render import _pyrender, colour
from scenegen.render.programs import MAX_DIRECTIONAL_LIGHTS
from scenegen.scene.scene import Light
from scenegen.world.dictionary import ObjectDictionary
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render


def sampled(overrides, count):
    cfg = load_config(["width=96", "height=72", *overrides])
    sampler = Sampler(cfg)
    return cfg, [sampler.sample(i) for i in range(count)]


LOOKS = {
    "flat": [],
    "realistic": ["preset=realistic"],  # environment maps, texture sets, occlusion, the map behind
    "no shadows": ["lights.shadows=false"],
    "four lights": ["lights.count=[3,4]"],
}


@pytest.mark.parametrize("look", sorted(LOOKS))
def test_the_colour_image_is_pyrenders_byte_for_byte(look, monkeypatch):
    from scenegen.render.raster import Renderer

    cfg, scenes = sampled(LOOKS[look], 6)
    renderer = Renderer(ObjectDictionary.from_config(cfg))
    ours = [renderer.render(scene).rgb for scene in scenes]
    monkeypatch.setattr(colour, "forward_pass", _pyrender.pyrender_forward_pass)
    monkeypatch.setattr(colour, "shadow_pass", _pyrender.pyrender_shadow_pass)
    theirs = [renderer.render(scene).rgb for scene in scenes]
    renderer.close()
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_array_equal(mine, reference, err_msg=f"{look} scene {index}")
    assert any(image.std() > 5 for image in ours)  # real images, not blank ones


@pytest.mark.parametrize("look", sorted(LOOKS))
def test_drawing_the_shadow_maps_before_the_id_pass_changes_no_pixel(look, monkeypatch):
    """Renderer.begin draws the shadow maps first (the rasterizer draws them while the id
    pass is issued); drawn by the colour pass itself, after the id pass and its ambient
    occlusion, every layer is the same."""
    from scenegen.render import raster

    cfg, scenes = sampled(LOOKS[look], 6)
    renderer = raster.Renderer(ObjectDictionary.from_config(cfg))
    first = [renderer.render(scene) for scene in scenes]
    monkeypatch.setattr(raster, "draw_shadow_maps", lambda gl_renderer, graph: None)
    inside = [renderer.render(scene) for scene in scenes]
    renderer.close()
    for index, (mine, reference) in enumerate(zip(first, inside)):
        for layer in ("rgb", "depth", "instances", "normals"):
            np.testing.assert_array_equal(getattr(mine, layer), getattr(reference, layer),
                                          err_msg=f"{look} scene {index} {layer}")
    if look != "no shadows":
        assert any(scene.lights and any(light.shadows for light in scene.lights) for scene in scenes)
    assert any(frame.rgb.std() > 5 for frame in first)


def uniform_count_programs(shader_dir):
    """``ShaderPrograms.mesh`` as pyrender's shader has it: the lights' loop runs over the
    uniform ``n_directional_lights`` (set by pyrender's pass), one program for any count,
    its arrays of lights' shadow-map coordinates as long as the programs' most lights;
    the shaders copied into ``shader_dir``."""
    from pyrender.shader_program import ShaderProgramCache

    from scenegen.render import programs as programs_module

    for name in ("mesh.vert", "mesh.frag"):
        text = (programs_module.SHADER_DIR / name).read_text()
        if name == "mesh.frag":
            loop = f"for (int i = 0; i < {programs_module.LIGHT_COUNT_DEFINE}; i++)"
            assert loop in text
            text = text.replace(loop, "for (int i = 0; i < n_directional_lights; i++)").replace(
                "uniform vec3 cam_pos;", "uniform int n_directional_lights;\nuniform vec3 cam_pos;")
        text = text.replace(programs_module.LIGHT_COUNT_DEFINE, "MAX_DIRECTIONAL_LIGHTS")
        (shader_dir / name).write_text(text)
    made = {}

    def mesh(self, lights, environment):
        key = bool(environment)
        if key not in made:
            defines = {"MAX_DIRECTIONAL_LIGHTS": MAX_DIRECTIONAL_LIGHTS, **({"ENVIRONMENT_LIGHT": 1} if key else {})}
            made[key] = programs_module._defining_cache(ShaderProgramCache)(defines, shader_dir=str(shader_dir))
        return made[key]

    return mesh, made


@pytest.mark.parametrize("look", ["realistic", "four lights"])
def test_compiled_light_counts_draw_what_a_uniform_count_draws(look, monkeypatch, tmp_path):
    """The mesh programs have the number of lights compiled in (one program per count,
    twice as fast on llvmpipe); pyrender's shader loops over a uniform count: the same
    image, byte for byte, for 1 to 4 suns with shadows, and for environment maps with
    their key light or none."""
    from scenegen.render import programs as programs_module
    from scenegen.render.raster import Renderer

    cfg, scenes = sampled(LOOKS[look] + ["lights.count=[1,4]"], 12)
    assert len({len(scene.lights) for scene in scenes}) >= {"realistic": 2, "four lights": 4}[look]
    renderer = Renderer(ObjectDictionary.from_config(cfg))
    ours = [renderer.render(scene).rgb for scene in scenes]
    mesh, made = uniform_count_programs(tmp_path)
    monkeypatch.setattr(programs_module.ShaderPrograms, "mesh", mesh)
    monkeypatch.setattr(colour, "forward_pass", _pyrender.pyrender_forward_pass)
    theirs = [renderer.render(scene).rgb for scene in scenes]
    for programs in made.values():
        programs.clear()
    renderer.close()
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        np.testing.assert_array_equal(mine, reference, err_msg=f"{look} scene {index}")
    assert any(image.std() > 5 for image in ours)


def suns(count, shadows):
    """``count`` suns around the sky, each of its own colour and strength."""
    lights = []
    for k in range(count):
        a, e = 2 * math.pi * k / count, math.radians(25 + 7 * k)
        direction = (math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e))
        colour_k = (0.6 + 0.05 * k, 0.9 - 0.04 * k, 0.7 + 0.03 * k)
        lights.append(Light(direction=direction, color=colour_k, intensity=0.45 + 0.1 * k, shadows=shadows))
    return tuple(lights)


def crate_scene(dictionary, lights):
    crate = make_object(dictionary, "crate", scale=0.5)
    return replace(lone_scene(crate, make_camera((0.4, -2.5, 2.0), (0.0, 0.0, 0.2), 96, 72)),
                   context=replace(STUDIO, ambient=0.05), lights=lights)


@pytest.mark.parametrize("shadows", [False, True])
def test_every_light_is_drawn_up_to_the_programs_capacity(dictionary, renderer, shadows):
    lights = suns(MAX_DIRECTIONAL_LIGHTS, shadows)
    images = [renderer.render(crate_scene(dictionary, lights[:count])).rgb.astype(int)
              for count in range(4, MAX_DIRECTIONAL_LIGHTS + 1)]
    # each light past pyrender's 4 (without shadows) adds light somewhere, takes none
    for fewer, more in zip(images, images[1:]):
        assert (more >= fewer).all() and (more > fewer).sum() > 500


def test_the_order_of_pyrenders_light_nodes_changes_no_pixel(monkeypatch):
    """pyrender keeps light nodes in a set (iterated in memory-address order, which
    varies by run) and sums their light in that order: on this scene (four lights) two
    orders differ in a pixel. scenegen's pass sets them in the Graph's order."""
    import pyrender

    from scenegen.render.raster import Renderer

    cfg = load_config(["width=160", "height=120", "lights.count=[3,6]"])
    scene = Sampler(cfg).sample(5)
    renderer = Renderer(ObjectDictionary.from_config(cfg))

    def reversed_lights(renderer_, pr_scene, flags, programs, light_nodes, bind_extra=None, light_matrices=None):
        _pyrender.pyrender_forward_pass(renderer_, pr_scene, flags, programs, light_nodes[::-1], bind_extra)

    ours = renderer.render(scene).rgb
    monkeypatch.setattr(colour, "forward_pass", _pyrender.pyrender_forward_pass)
    theirs = renderer.render(scene).rgb
    monkeypatch.setattr(colour, "forward_pass", reversed_lights)
    assert (renderer.render(scene).rgb != theirs).any()
    monkeypatch.undo()
    np.testing.assert_array_equal(ours, theirs)  # the Graph's order is the order pyrender was given
    original = pyrender.Scene.light_nodes
    monkeypatch.setattr(pyrender.Scene, "light_nodes", property(lambda self: list(original.fget(self))[::-1]))
    np.testing.assert_array_equal(renderer.render(scene).rgb, ours)
    renderer.close()


def test_more_lights_than_the_programs_hold_is_a_render_error(dictionary, renderer):
    scene = crate_scene(dictionary, suns(MAX_DIRECTIONAL_LIGHTS + 1, False))
    with pytest.raises(RenderError, match=f"{MAX_DIRECTIONAL_LIGHTS + 1} lights exceed"):
        renderer.render(scene)
    # the renderer goes on drawing after the error
    assert renderer.render(crate_scene(dictionary, suns(2, True))).rgb.std() > 5


def test_the_config_allows_no_more_lights_than_the_programs_hold():
    from scenegen.config.schema import LightsConfig

    with pytest.raises(Exception, match="lights.count"):
        load_config([f"lights.count=[1,{MAX_DIRECTIONAL_LIGHTS + 1}]"])
    assert max(LightsConfig().count) <= MAX_DIRECTIONAL_LIGHTS
