"""Mesh files keep their look: glTF PBR textures, vertex colours, OBJ+MTL, PLY colours."""

import json

import numpy as np
import pytest
from look_files import look_dictionary, write_look_files
from studio import lone_scene, make_camera, make_object

from scenegen import load_config
from scenegen.errors import ConfigError
from scenegen.render.file_materials import pyrender_metallic_roughness
from scenegen.render.raster import Renderer


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_look_files(tmp_path_factory.mktemp("looks"))


@pytest.fixture(scope="module")
def world(files):
    dictionary = look_dictionary(files, two=("two.glb", {}), obj=("two.obj", {}), red=("red.glb", {}),
                             ply=("red.ply", {}), rough=("rough.glb", {}), plain=("plain.ply", {}),
                             palette=("red.glb", {"appearance": "dictionary"}))
    with Renderer(dictionary) as renderer:
        yield dictionary, renderer


def _pixels(world, entry, rgb=(0.1, 0.1, 0.8)):
    """The rendered colours (N, 3) float inside the object's instance mask."""
    dictionary, renderer = world
    obj = make_object(dictionary, entry, scale=1.0, yaw=0.0)
    obj = type(obj)(**{**obj.__dict__, "rgb": rgb})
    camera = make_camera((2.2, 0.0, 1.2), (0.0, 0.0, 0.5), 96, 72)
    frame = renderer.render(lone_scene(obj, camera))
    mask = frame.instances == 1
    assert mask.sum() > 200
    return frame.rgb[mask].astype(float)


def test_levels_and_defaults(world):
    dictionary, _ = world
    for name in ("two", "obj", "red", "ply", "rough"):
        entry = dictionary[name]
        assert entry.file_appearance is not None and entry.colors == entry.materials == entry.textures == ("file",)
    for name in ("plain", "palette"):
        assert dictionary[name].file_appearance is None and dictionary[name].colors == ("blue",)


@pytest.mark.parametrize("entry", ["red", "ply"])
def test_vertex_coloured_red_file_renders_red(world, entry):
    pixels = _pixels(world, entry)
    r, g, b = pixels.mean(axis=0)
    assert r > 60 and r > 3 * g and r > 3 * b


@pytest.mark.parametrize("entry", ["two", "obj"])
def test_two_colour_texture_shows_both_colours(world, entry):
    pixels = _pixels(world, entry)
    red = (pixels[:, 0] > 2 * pixels[:, 1] + 20) & (pixels[:, 0] > 2 * pixels[:, 2] + 20)
    green = (pixels[:, 1] > 2 * pixels[:, 0] + 20) & (pixels[:, 1] > 2 * pixels[:, 2] + 20)
    assert red.mean() > 0.15 and green.mean() > 0.15


def test_appearance_dictionary_brings_back_the_palette(world):
    r, g, b = _pixels(world, "palette", rgb=(0.1, 0.1, 0.8)).mean(axis=0)
    assert b > 2 * r and b > 2 * g


def test_metallic_roughness_is_swizzled_for_the_shader(world):
    dictionary, renderer = world
    look = dictionary["rough"].file_appearance
    assert (look.metallic_roughness_texture[0, 0] == [17, 200, 50]).all()  # as in the file
    _pixels(world, "rough")  # the pool makes the material
    material = renderer.meshes.file_material("rough")
    source = np.asarray(material.metallicRoughnessTexture.source)
    assert (source[..., 0] == 200).all() and (source[..., 1] == 50).all()  # R roughness, G metallic
    np.testing.assert_array_equal(pyrender_metallic_roughness(np.array([[[1, 2, 3]]], np.uint8)), [[[2, 3, 0]]])


def test_labels_do_not_depend_on_appearance(world):
    dictionary, renderer = world
    camera = make_camera((2.2, 0.0, 1.2), (0.0, 0.0, 0.5), 96, 72)
    frames = [renderer.render(lone_scene(make_object(dictionary, e), camera)) for e in ("red", "palette")]
    for layer in ("instances", "depth"):
        np.testing.assert_array_equal(getattr(frames[0], layer), getattr(frames[1], layer))


def test_file_appearance_without_one_is_refused(files):
    with pytest.raises(ConfigError, match="appearance"):
        look_dictionary(files, plain=("plain.ply", {"appearance": "file"}))


def test_a_dataset_with_file_looks_counts_the_file_level_in_its_coverage(files, tmp_path):
    """Objects wearing their file's look record colour, material and texture 'file'; the
    coverage universe has that level (a directive cannot ask for it), so generate counts
    them instead of refusing their records."""
    from scenegen.dataset.generate import generate
    from scenegen.dataset.read import read_coverage

    out = tmp_path / "looks"
    group = tmp_path / "conf" / "extra"
    group.mkdir(parents=True)
    (group / "looks.yaml").write_text(f"# @package _global_\nobjects:\n  redball: {{category: ball, mesh: "
                                      f"{files / 'red.glb'}}}\n")
    cfg = load_config([f"out={out}", "n=8", "width=64", "height=48", "progress=false", "directive={category: ball}",
                       f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "+extra=looks"])
    generate(cfg, progress=False)
    records = [json.loads(p.read_text()) for p in sorted((out / "scenes").glob("*.json"))]
    looks = [o for r in records for o in r["objects"] if o["entry"] == "redball"]
    assert looks and all(o["factors"]["color"] == o["factors"]["material"] == o["factors"]["texture"] == "file"
                         for o in looks)
    tracker = read_coverage(out)
    assert "file" in tracker.levels["color"] and "file" in tracker.levels["texture"]
