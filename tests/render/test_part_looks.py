"""Parts with a look of their own (a book's pages, a laptop's screen, a cone's bands):
they wear it whatever colour, material and texture the object draws, and every label
layer stays what it is without them."""

import copy

import numpy as np
import pytest
from omegaconf import OmegaConf
from scipy import ndimage
from studio import lone_scene, make_camera, make_object

from scenegen import load_config
from scenegen.config.schema import ObjectEntryConfig, PartConfig
from scenegen.dataset.shards import data_config
from scenegen.errors import ConfigError
from scenegen.render.raster import Renderer
from scenegen.world.dictionary import ObjectDictionary

pytestmark = pytest.mark.render

PARTS = [
    {"name": "body", "shape": "box", "params": {"x": 0.6, "y": 0.6, "z": 0.3}, "position": [0.0, 0.0, 0.15]},
    {"name": "stripe", "shape": "box", "params": {"x": 0.02, "y": 0.3, "z": 0.2}, "position": [0.31, 0.0, 0.15],
     "color": "white"},
    {"name": "knob", "shape": "box", "params": {"x": 0.02, "y": 0.1, "z": 0.1}, "position": [0.31, 0.22, 0.15],
     "material": "metal"},
]


def _dictionary(**looks) -> ObjectDictionary:
    cfg = copy.deepcopy(load_config())
    OmegaConf.set_readonly(cfg, False)
    parts = [PartConfig(**{**part, **looks.get(part["name"], {})}) for part in PARTS]
    cfg.objects["striped"] = ObjectEntryConfig(category="crate", parts=parts, colors=["red"], materials=["matte"])
    bare = [PartConfig(**{k: v for k, v in part.items() if k not in ("color", "material")}) for part in PARTS]
    cfg.objects["bare"] = ObjectEntryConfig(category="crate", parts=bare, colors=["red"], materials=["matte"])
    return ObjectDictionary(cfg)


@pytest.fixture(scope="module")
def rendered():
    dictionary = _dictionary()
    camera = make_camera((2.0, 0.0, 0.6), (0.0, 0.0, 0.15), 128, 96)
    with Renderer(dictionary) as renderer:
        frames = {label: renderer.render(lone_scene(make_object(dictionary, entry, texture=texture), camera))
                  for label, entry, texture in [("striped", "striped", "plain"), ("bare", "bare", "plain"),
                                                ("striped-checker", "striped", "checker")]}
    return dictionary, frames


def test_the_dictionary_resolves_part_looks_from_the_tables():
    dictionary = _dictionary()
    cfg = load_config()
    parts = {p.name: p for p in dictionary["striped"].variant().parts}
    assert parts["body"].look is None
    assert parts["stripe"].look.rgb == tuple(float(v) for v in cfg.colors.white) and parts["stripe"].look.finish is None
    assert parts["knob"].look.rgb is None
    assert parts["knob"].look.finish == (float(cfg.materials.metal.metallic), float(cfg.materials.metal.roughness))


def test_the_part_wears_its_colour_whatever_the_objects(rendered):
    _, frames = rendered
    for name in ("striped", "striped-checker"):  # a red object, plain or checkered
        frame = frames[name]
        body = frame.rgb[(frame.instances == 1) & (frame.parts == 1)].astype(float)
        stripe = frame.rgb[(frame.instances == 1) & (frame.parts == 2)].astype(float)
        assert len(stripe) > 50 and len(body) > 500
        r, g, b = stripe.mean(axis=0)
        assert min(r, g, b) > 120 and max(r, g, b) - min(r, g, b) < 25, (r, g, b)  # white, untextured: grey-level
        assert stripe.std(axis=0).max() < 12  # no checker on it
        r, g, b = body.mean(axis=0)
        assert r > 2 * g and r > 2 * b  # the object's red


def test_labels_are_those_of_the_same_parts_without_looks(rendered):
    _, frames = rendered
    for layer in ("depth", "instances", "semantic", "parts", "amodal"):
        np.testing.assert_array_equal(getattr(frames["striped"], layer), getattr(frames["bare"], layer))
    # only the stripe's and the knob's pixels change colour, and their edges (anti-aliased)
    changed = np.any(frames["striped"].rgb != frames["bare"].rgb, axis=2)
    edges = ndimage.binary_dilation(frames["bare"].parts >= 2, iterations=1)
    assert changed[frames["bare"].parts == 2].mean() > 0.9
    assert not (changed & (frames["bare"].parts == 1) & ~edges).any()


@pytest.mark.parametrize("key, value, message", [
    ("color", "teal", "stripe.color: unknown colour 'teal'; valid: .*'white'"),
    ("material", "chrome", "stripe.material: unknown material 'chrome'; valid: .*'metal'"),
])
def test_an_unknown_look_is_named_with_the_valid_ones(key, value, message):
    with pytest.raises(ConfigError, match=message):
        _dictionary(stripe={key: value})


def test_parts_without_a_look_record_no_look_keys():
    """The recorded config of a dataset (what its scenes depend on) names a part's
    ``color`` or ``material`` only where the part has one, so a dictionary without
    looks keeps the bytes it had before the keys existed."""
    data = data_config(load_config())
    book = data["objects"]["book"]["part_rules"]["binding"]["hardcover"]["parts"]
    assert {p["name"]: p.get("color", "-") for p in book} == {
        "cover_bottom": "-", "cover_top": "-", "spine": "-", "pages": "white"}
    assert all("material" not in p for p in book)
    assert all("color" not in p and "material" not in p for p in data["objects"]["chair"]["parts"])
