"""Tests of part-composed entries and their part rules: every variant (style) of every
part-composed built-in entry is checked on its meshes (attached, connected, canonical,
legs on the floor, flat top for supports, symmetry), and style enumeration, weights,
sampling and memoisation are checked against the config."""

from __future__ import annotations

import functools
import math

import networkx as nx
import numpy as np
import pytest
import trimesh
from omegaconf import OmegaConf

from scenegen import load_config
from scenegen.config.load import config_from_dict, config_to_dict
from scenegen.errors import ConfigError
from scenegen.world.compile import World
from scenegen.world.dictionary import ObjectDictionary

ATTACH_TOL = 1e-3  # canonical units: largest gap between two parts that still touch
FLOOR_TOL = 1e-4  # canonical units: how far above z = 0 a leg may end
SURFACE_SAMPLES = 400  # sampled surface points per part, besides its vertices

# the part classes each built-in part-composed entry may use, and those every shape has
VOCABULARY = {
    "table": {"top", "leg", "column", "base", "stretcher"},
    "chair": {"seat", "back", "leg"},
    "lamp": {"base", "pole", "shade"},
}
REQUIRED = {"table": {"top"}, "chair": {"seat", "back", "leg"}, "lamp": {"base", "pole", "shade"}}
MIN_STYLES = {"table": 6, "chair": 12, "lamp": 4}


@functools.lru_cache(maxsize=None)
def _builtin() -> tuple:
    cfg = load_config()
    return cfg, ObjectDictionary(cfg)


def _part_entries() -> list[str]:
    _, objects = _builtin()
    return [name for name in objects if objects[name].source == "parts"]


def _variants() -> list[tuple[str, str]]:
    _, objects = _builtin()
    return [(name, style) for name in _part_entries() for style in objects[name].styles]


VARIANTS = _variants()
IDS = [f"{name}[{style}]" for name, style in VARIANTS]
SUPPORTS = [(name, style) for name, style in VARIANTS if _builtin()[1][name].support]


def _surface_points(mesh: trimesh.Trimesh) -> np.ndarray:
    """(V + SURFACE_SAMPLES, 3) the vertices plus points sampled on the faces (fixed seed)."""
    sampled, _ = trimesh.sample.sample_surface(mesh, SURFACE_SAMPLES, seed=0)
    return np.vstack([mesh.vertices, sampled])


def attached(a: trimesh.Trimesh, b: trimesh.Trimesh, tol: float = ATTACH_TOL) -> bool:
    """Whether the surfaces of the closed meshes ``a`` and ``b`` come within ``tol``.

    Some surface point (vertex or sampled point) of one mesh must lie inside the other
    or within ``tol`` of its surface: that holds when they touch or overlap (one part
    sunk into another, one part inside another)."""
    if np.any(a.bounds[0] > b.bounds[1] + tol) or np.any(b.bounds[0] > a.bounds[1] + tol):
        return False
    for one, other in ((a, b), (b, a)):
        # signed distance: > 0 inside ``other``, < 0 outside, |d| to its surface
        if trimesh.proximity.signed_distance(other, _surface_points(one)).max() >= -tol:
            return True
    return False


def contact_graph(meshes: list[trimesh.Trimesh]) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(len(meshes)))
    for i in range(len(meshes)):
        for j in range(i + 1, len(meshes)):
            if attached(meshes[i], meshes[j]):
                graph.add_edge(i, j)
    return graph


# --- the checker itself -------------------------------------------------------------


def _box(extents, centre):
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation(centre)
    return mesh


def test_attached_checker_sees_touching_overlapping_and_gaps():
    seat = _box((1, 1, 0.1), (0, 0, 1))
    assert attached(seat, _box((0.1, 0.1, 0.95), (0.4, 0.4, 0.475)))  # top face touches
    assert attached(seat, _box((0.1, 0.1, 1.0), (0.4, 0.4, 0.5)))  # sunk into the seat
    assert attached(seat, _box((0.1, 0.1, 0.1), (0, 0, 1)))  # wholly inside
    # two bars crossing, no vertex of either inside the other
    assert attached(_box((2, 0.1, 0.1), (0, 0, 0)), _box((0.1, 2, 0.1), (0, 0, 0)))
    assert not attached(seat, _box((0.1, 0.1, 0.9), (0.4, 0.4, 0.45)))  # 5 cm gap
    assert not attached(seat, _box((0.1, 0.1, 0.948), (0.4, 0.4, 0.474)))  # 2 mm gap
    graph = contact_graph([seat, _box((0.1, 0.1, 1.0), (0.4, 0.4, 0.5)), _box((1, 1, 1), (5, 5, 5))])
    assert nx.number_connected_components(graph) == 2


# --- every variant ------------------------------------------------------------------


def test_builtin_part_entries_have_many_shapes():
    _, objects = _builtin()
    assert set(_part_entries()) >= set(VOCABULARY)
    for name, least in MIN_STYLES.items():
        assert len(objects[name].styles) >= least, name
    assert len(objects["chair"].slots) == 2
    chair_slots = dict(objects["chair"].slots)
    assert len(chair_slots["back"]) >= 3 and len(chair_slots["legs"]) >= 4


@pytest.mark.parametrize("name, style", VARIANTS, ids=IDS)
def test_every_part_is_attached_and_connected(name, style):
    _, objects = _builtin()
    parts = objects[name].variant(style).parts
    graph = contact_graph([p.mesh for p in parts])
    lonely = [parts[i].name for i in graph.nodes if graph.degree(i) == 0]
    assert not lonely or len(parts) == 1, f"{name} {style}: parts touching nothing: {lonely}"
    groups = [sorted(parts[i].name for i in group) for group in nx.connected_components(graph)]
    assert len(groups) == 1, f"{name} {style}: parts fall apart into {groups}"


@pytest.mark.parametrize("name, style", VARIANTS, ids=IDS)
def test_variant_canonical_frame_and_parts(name, style):
    cfg, objects = _builtin()
    entry = objects[name]
    variant = entry.variant(style)
    assert variant.style == style
    low = np.min([p.mesh.bounds[0] for p in variant.parts], axis=0)
    high = np.max([p.mesh.bounds[1] for p in variant.parts], axis=0)
    assert max(high - low) == pytest.approx(1.0, abs=1e-12)
    assert low[2] == 0.0
    np.testing.assert_allclose((low[:2] + high[:2]) / 2, 0.0, atol=1e-12)
    np.testing.assert_allclose(variant.extents, high - low, atol=1e-12)
    assert variant.top_height == pytest.approx(high[2], abs=1e-12)
    mesh = variant.mesh()
    assert mesh is variant.mesh() and len(mesh.faces) == sum(len(p.mesh.faces) for p in variant.parts)

    # parts: fixed ones then each slot's chosen style, indices 1..P, known labels
    node = cfg.objects[name]
    expected = [p.name for p in node.parts]
    for item in style.split(","):
        slot, chosen = item.split("=")
        expected += [p.name for p in node.part_rules[slot][chosen].parts]
    assert [p.name for p in variant.parts] == expected
    assert len(set(expected)) == len(expected)
    assert [p.index for p in variant.parts] == list(range(1, len(variant.parts) + 1))
    labels = {p.label for p in variant.parts}
    if name in VOCABULARY:
        assert labels <= VOCABULARY[name], f"{name} {style}: labels {labels - VOCABULARY[name]}"
        assert labels >= REQUIRED[name], f"{name} {style}: missing {REQUIRED[name] - labels}"


@pytest.mark.parametrize("name, style", VARIANTS, ids=IDS)
def test_legs_reach_the_floor(name, style):
    _, objects = _builtin()
    legs = [p for p in objects[name].variant(style).parts if p.label == "leg"]
    for leg in legs:
        assert 0.0 <= leg.mesh.bounds[0, 2] <= FLOOR_TOL, f"{name} {style}: {leg.name} floats"
    if name == "chair":
        assert len(legs) >= 3, style


@pytest.mark.parametrize("name, style", SUPPORTS, ids=[f"{n}[{s}]" for n, s in SUPPORTS])
def test_support_top_is_highest_flat_and_covers_footprint(name, style):
    _, objects = _builtin()
    variant = objects[name].variant(style)
    tops = [p for p in variant.parts if p.label == "top"]
    assert len(tops) == 1, style
    top = tops[0].mesh
    height = variant.top_height
    assert top.bounds[1, 2] == pytest.approx(height, abs=1e-12)
    for part in variant.parts:  # nothing pokes through the top surface
        if part.label != "top":
            assert part.mesh.bounds[1, 2] < height - ATTACH_TOL, f"{style}: {part.name}"
    # the top's upper faces are flat at the top height and cover most of the footprint
    on_top = np.all(np.abs(top.vertices[top.faces][:, :, 2] - height) < 1e-12, axis=1)
    flat_area = top.area_faces[on_top].sum()
    footprint = variant.extents[0] * variant.extents[1]
    assert flat_area >= 0.7 * footprint, f"{style}: flat top {flat_area:.3f} of {footprint:.3f}"
    np.testing.assert_allclose(top.bounds[:, :2], variant.mesh().bounds[:, :2], atol=1e-12)


def _rotation_z(angle: float) -> np.ndarray:
    return trimesh.transformations.rotation_matrix(angle, [0, 0, 1])


@pytest.mark.parametrize(
    "name, style", VARIANTS + [(n, "") for n in _builtin()[1] if n not in _part_entries()],
    ids=IDS + [n for n in _builtin()[1] if n not in _part_entries()],
)
def test_shape_has_the_entry_symmetry(name, style):
    _, objects = _builtin()
    entry = objects[name]
    mesh = entry.variant(style).mesh()
    if entry.symmetry == 1:
        return
    if entry.symmetry > 1:  # exact: the vertex set maps onto itself
        from scipy.spatial import cKDTree

        turned = trimesh.transform_points(mesh.vertices, _rotation_z(2 * math.pi / entry.symmetry))
        distance, _ = cKDTree(mesh.vertices).query(turned)
        assert distance.max() < 1e-9, f"{name} {style}: not {entry.symmetry}-fold symmetric"
    else:  # continuous, up to tessellation: any turn keeps the surface in place
        for angle in (0.3, 1.9):
            turned = trimesh.transform_points(_surface_points(mesh), _rotation_z(angle))
            distance = np.abs(trimesh.proximity.signed_distance(mesh, turned))
            assert distance.max() < 0.01, f"{name} {style}: not a solid of revolution"


# --- styles, weights, sampling --------------------------------------------------------


@pytest.mark.parametrize("name", _part_entries())
def test_styles_enumerate_the_product_of_slots(name):
    cfg, objects = _builtin()
    entry = objects[name]
    node = cfg.objects[name]
    assert [slot for slot, _ in entry.slots] == list(node.part_rules.keys())
    assert len(entry.styles) == math.prod(len(styles) for styles in node.part_rules.values())
    assert len(set(entry.styles)) == len(entry.styles)
    for style in entry.styles:
        items = [item.split("=") for item in style.split(",")]
        assert [slot for slot, _ in items] == list(node.part_rules.keys())
        assert all(chosen in node.part_rules[slot] for slot, chosen in items)


@pytest.mark.parametrize("name", _part_entries())
def test_style_probabilities_follow_weights(name):
    cfg, objects = _builtin()
    entry = objects[name]
    node = cfg.objects[name]
    probabilities = entry.style_probabilities()
    assert probabilities.shape == (len(entry.styles),)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    for style, p in zip(entry.styles, probabilities):
        expected = 1.0
        for item in style.split(","):
            slot, chosen = item.split("=")
            weights = {s: float(c.weight) for s, c in node.part_rules[slot].items()}
            expected *= weights[chosen] / sum(weights.values())
        assert p == pytest.approx(expected, abs=1e-12), style


@pytest.mark.parametrize("name", _part_entries())
def test_sample_style_frequencies_match_probabilities(name):
    stats = pytest.importorskip("scipy.stats")
    _, objects = _builtin()
    entry = objects[name]
    rng = np.random.default_rng(20240611)
    draws = 20_000
    index = {style: i for i, style in enumerate(entry.styles)}
    counts = np.zeros(len(entry.styles))
    for _ in range(draws):
        counts[index[entry.sample_style(rng)]] += 1
    expected = entry.style_probabilities() * draws
    assert stats.chisquare(counts, expected).pvalue > 0.001
    # reproducible from the generator alone
    again = [entry.sample_style(np.random.default_rng(7)) for _ in range(3)]
    assert len(set(again)) == 1


def test_entries_without_part_rules_have_one_style():
    _, objects = _builtin()
    for name in objects:
        entry = objects[name]
        if entry.source != "parts" or not entry.slots:
            assert entry.styles == ("",)
            assert entry.sample_style(np.random.default_rng(0)) == ""
            np.testing.assert_array_equal(entry.style_probabilities(), [1.0])


@pytest.mark.parametrize("name", _part_entries())
def test_variant_is_memoised_and_default_is_first_style(name):
    _, objects = _builtin()
    entry = objects[name]
    for style in entry.styles:
        assert entry.variant(style) is entry.variant(style)
    assert entry.variant() is entry.variant("") is entry.variant(entry.styles[0])
    fresh = ObjectDictionary(_builtin()[0])[name]  # built lazily: nothing built yet
    assert not fresh._variants
    fresh.variant(entry.styles[-1])
    assert list(fresh._variants) == [entry.styles[-1]]
    np.testing.assert_array_equal(
        fresh.variant(entry.styles[-1]).mesh().vertices, entry.variant(entry.styles[-1]).mesh().vertices
    )
    assert np.all(entry.max_extents >= np.array(entry.variant(entry.styles[-1]).extents))


@pytest.mark.parametrize("name", _part_entries())
def test_unknown_style_names_the_valid_ones(name):
    _, objects = _builtin()
    entry = objects[name]
    wrong = entry.styles[0].replace("=", "=nonexistent_", 1)
    for bad in (wrong, "nonsense", ",".join(reversed(entry.styles[0].split(",")))):
        if bad in entry.styles:
            continue
        with pytest.raises(ConfigError) as info:
            entry.variant(bad)
        message = str(info.value)
        assert repr(bad) in message and f"objects.{name}" in message
        assert all(repr(style) in message for style in entry.styles)


# --- part rules in user configs -------------------------------------------------------


def _with_style(slot_parts: dict, weight: float = 1.0) -> dict:
    data = config_to_dict(_builtin()[0])
    data["objects"]["chair"]["part_rules"]["back"]["extra"] = {"weight": weight, "parts": slot_parts}
    return data


def _part(name, **extra):
    part = {"name": name, "shape": "box", "params": {"x": 0.04, "y": 0.45, "z": 0.3},
            "position": [-0.205, 0.0, 0.6], "rotation": [0.0, 0.0, 0.0]}
    part.update(extra)
    return part


def test_label_defaults_to_the_part_name():
    cfg = config_from_dict(_with_style([_part("backrest")]))
    entry = ObjectDictionary(cfg)["chair"]
    style = next(s for s in entry.styles if "back=extra" in s)
    labels = {p.name: p.label for p in entry.variant(style).parts}
    assert labels["backrest"] == "backrest" and labels["seat"] == "seat"


def test_bad_part_params_in_any_style_fail_at_load():
    data = _with_style([_part("backrest", params={"x": -1, "y": 0.4, "z": 0.3})])
    with pytest.raises(ConfigError, match=r"objects\.chair.*back=extra.*'backrest'.*'x'"):
        World.of(config_from_dict(data))


def test_same_part_name_in_two_slots_is_refused():
    cfg = config_from_dict(_with_style([_part("leg_front_left")]))
    entry = ObjectDictionary(cfg)["chair"]
    with pytest.raises(ConfigError, match="leg_front_left"):
        entry.variant("back=extra,legs=four_round")


@pytest.mark.parametrize("style", ["a,b", "a=b"])
def test_style_names_with_separators_are_refused(style):
    data = _with_style([_part("backrest")])
    styles = data["objects"]["chair"]["part_rules"]["back"]
    styles[style] = styles.pop("extra")
    with pytest.raises(ConfigError, match=r"objects\.chair\.part_rules\.back"):
        ObjectDictionary(OmegaConf.create(config_to_dict(config_from_dict(data))))
