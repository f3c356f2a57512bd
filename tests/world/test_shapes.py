"""Tests of scenegen.world.shapes and of the shipped meshes made by assets/make_meshes.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf
from shipped_meshes import MESHES, make_meshes_module

from scenegen.config.schema import PRIMITIVE_SHAPES, PartConfig
from scenegen.errors import EXIT_INPUT, ConfigError, MeshError
from scenegen.world import shapes
from scenegen.world.dictionary import Part, Variant
from scenegen.world.shapes import (
    CREASE_ANGLE_DEG,
    SECTIONS,
    compose_parts,
    load_mesh_file,
    normalize_parts,
    primitive,
    split_creases,
    validate_mesh,
)

# shape -> (params, expected bbox extents)
PRIMITIVES = {
    "box": ({"x": 0.3, "y": 0.5, "z": 0.7}, (0.3, 0.5, 0.7)),
    "cylinder": ({"radius": 0.2, "height": 0.9}, (0.4, 0.4, 0.9)),
    "sphere": ({"radius": 0.25}, (0.5, 0.5, 0.5)),
    "cone": ({"radius": 0.3, "height": 0.8}, (0.6, 0.6, 0.8)),
    "capsule": ({"radius": 0.1, "height": 0.6}, (0.2, 0.2, 0.6)),
    "torus": ({"major_radius": 0.4, "minor_radius": 0.1}, (1.0, 1.0, 0.2)),
    "vessel": ({"radius": 0.3, "bottom_radius": 0.2, "height": 0.5, "thickness": 0.05}, (0.6, 0.6, 0.5)),
}


def test_every_config_shape_is_covered():
    assert set(PRIMITIVES) == set(PRIMITIVE_SHAPES)


@pytest.mark.parametrize("shape", sorted(PRIMITIVES))
def test_primitive_extents_match_params_and_centred(shape):
    params, extents = PRIMITIVES[shape]
    mesh = primitive(shape, params)
    np.testing.assert_allclose(mesh.extents, extents, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mesh.bounds.mean(axis=0), 0.0, atol=1e-12)
    # closed: its vertices are split at the creases, but coincide there
    merged = trimesh.Trimesh(mesh.vertices, mesh.faces)
    assert merged.is_watertight and merged.volume > 0 and mesh.volume == pytest.approx(merged.volume)
    validate_mesh(mesh, shape)


@pytest.mark.parametrize("shape", sorted(PRIMITIVES))
def test_primitive_vertex_normals_are_split_at_creases(shape):
    """Each face corner's normal leans from its face's normal by at most the angle
    between neighbouring faces of a smooth surface (so never across a crease), is unit,
    and equals it on planes; only a cone's apex has zero normals, one vertex a face."""
    mesh = primitive(shape, PRIMITIVES[shape][0])
    corners = mesh.vertex_normals[mesh.faces]  # (F, 3, 3)
    length = np.linalg.norm(corners, axis=2)
    apex = length == 0
    np.testing.assert_allclose(length[~apex], 1.0, atol=1e-12)
    cosine = np.einsum("fij,fj->fi", corners, mesh.face_normals)
    assert cosine[~apex].min() > math.cos(math.radians(360 / SECTIONS))
    flat = np.abs(mesh.face_normals[:, 2]) > 1 - 1e-9 if shape != "box" else np.ones(len(mesh.faces), bool)
    np.testing.assert_allclose(cosine[flat], 1.0, atol=1e-12)
    if shape == "cone":
        assert apex.sum() == SECTIONS and len(np.unique(mesh.faces[apex])) == SECTIONS
        np.testing.assert_allclose(mesh.vertices[mesh.faces[apex]], [[0.0, 0.0, 0.4]] * SECTIONS, atol=1e-12)
    else:
        assert not apex.any()


def test_part_and_variant_meshes_keep_the_primitives_normals():
    """Placing (compose_parts), normalising and joining parts (Variant.mesh) rotate the
    primitives' normals with them and keep the cone's zero apex normals."""
    cone = {"name": "cone", "shape": "cone", "params": {"radius": 0.3, "height": 0.8}, "rotation": [90, 0, 0]}
    ball = {"name": "ball", "shape": "sphere", "params": {"radius": 0.2}, "position": [1.0, 0.0, 0.0]}
    parts = normalize_parts(compose_parts([cone, ball]))
    tip = parts[0][1].vertex_normals[parts[0][1].vertices[:, 1] < parts[0][1].vertices[:, 1].min() + 1e-9]
    assert len(tip) == SECTIONS and not tip.any()  # the apex now points along -y
    radial = parts[1][1].vertices - parts[1][1].vertices.mean(axis=0)
    np.testing.assert_allclose(parts[1][1].vertex_normals, radial / np.linalg.norm(radial, axis=1, keepdims=True),
                               atol=1e-9)
    variant = Variant("", tuple(Part(name, name, i + 1, mesh) for i, (name, mesh) in enumerate(parts)), (1.0, 1.0, 1.0))
    np.testing.assert_array_equal(variant.mesh().vertex_normals,
                                  np.vstack([mesh.vertex_normals for _, mesh in parts]))
    single = Variant("", variant.parts[:1], (1.0, 1.0, 1.0))
    np.testing.assert_array_equal(single.mesh().vertex_normals, parts[0][1].vertex_normals)


def test_primitive_volumes_close_to_ideal():
    # tessellated shapes are inscribed, so a little smaller than the ideal solid
    r, h = 0.2, 0.9
    assert primitive("cylinder", {"radius": r, "height": h}).volume == pytest.approx(
        math.pi * r * r * h, rel=0.01
    )
    assert primitive("sphere", {"radius": r}).volume == pytest.approx(4 / 3 * math.pi * r**3, rel=0.02)
    assert primitive("box", {"x": 1, "y": 2, "z": 3}).volume == pytest.approx(6.0)


def test_cone_apex_points_up():
    mesh = primitive("cone", {"radius": 0.3, "height": 0.8})
    top = mesh.vertices[mesh.vertices[:, 2].argmax()]
    np.testing.assert_allclose(top, [0, 0, 0.4], atol=1e-12)


@pytest.mark.parametrize(
    "shape, params, words",
    [
        ("pyramid", {"x": 1}, ["pyramid", "'box'", "'torus'"]),
        ("box", {"x": 1, "y": 1}, ["'box'", "'z'"]),
        ("box", {"x": 1, "y": 1, "z": 1, "w": 1}, ["'box'", "'w'", "'x'"]),
        ("sphere", {"radius": 0.0}, ["'sphere'", "'radius'"]),
        ("cylinder", {"radius": -0.1, "height": 1}, ["'cylinder'", "'radius'"]),
        ("cone", {"radius": 0.1, "height": float("nan")}, ["'cone'", "'height'"]),
        ("cone", {"radius": "wide", "height": 1}, ["'cone'", "'radius'"]),
        ("capsule", {"radius": 0.5, "height": 1.0}, ["'capsule'", "'height'"]),
        ("torus", {"major_radius": 0.1, "minor_radius": 0.2}, ["'torus'", "'minor_radius'"]),
        ("vessel", {"radius": 0.3, "bottom_radius": 0.2, "height": 0.1, "thickness": 0.1}, ["'vessel'", "'thickness'"]),
        ("vessel", {"radius": 0.3, "bottom_radius": 0.05, "height": 0.5, "thickness": 0.1}, ["'vessel'", "inner floor"]),
    ],
)
def test_bad_primitive_raises_config_error_naming_param(shape, params, words):
    with pytest.raises(ConfigError) as info:
        primitive(shape, params)
    for word in words:
        assert word in str(info.value)


def test_thin_torus_gets_more_ring_sections():
    """A torus's ring segments grow with major / minor, so its chords stay within
    TORUS_SAG_DEG of the tube (the normals test measures the rendered result)."""
    from scenegen.world.shapes import TORUS_SAG_DEG, torus_sections

    assert torus_sections(0.4, 0.3) == SECTIONS
    for major, minor in ((0.4, 0.1), (0.1, 0.008), (0.146, 0.008)):
        n = torus_sections(major, minor)
        assert n % 8 == 0 and n >= SECTIONS
        assert major * (1 - math.cos(math.pi / n)) <= minor * math.radians(TORUS_SAG_DEG)
        assert n == SECTIONS or major * (1 - math.cos(math.pi / (n - 8))) > minor * math.radians(TORUS_SAG_DEG)
        mesh = primitive("torus", {"major_radius": major, "minor_radius": minor})
        assert len(mesh.faces) == 2 * n * SECTIONS


def test_compose_places_parts_and_honours_degrees():
    parts = [
        {"name": "slab", "shape": "box", "params": {"x": 1, "y": 0.2, "z": 0.1},
         "position": [1.0, 2.0, 3.0], "rotation": [0, 0, 90]},
        {"name": "diamond", "shape": "box", "params": {"x": 1, "y": 1, "z": 1},
         "position": [0, 0, 0], "rotation": [0, 0, 45]},
        {"name": "tip", "shape": "cone", "params": {"radius": 0.1, "height": 0.4},
         "rotation": [90, 0, 0]},
    ]
    placed = dict(compose_parts(parts))
    assert list(placed) == ["slab", "diamond", "tip"]
    slab = placed["slab"]
    np.testing.assert_allclose(slab.extents, [0.2, 1.0, 0.1], atol=1e-12)
    np.testing.assert_allclose(slab.bounds.mean(axis=0), [1, 2, 3], atol=1e-12)
    np.testing.assert_allclose(placed["diamond"].extents, [math.sqrt(2), math.sqrt(2), 1], atol=1e-12)
    # +90 degrees about x takes +z to -y: the apex ends at y = -height / 2
    tip = placed["tip"]
    np.testing.assert_allclose(tip.vertices[tip.vertices[:, 1].argmin()], [0, -0.2, 0], atol=1e-12)
    np.testing.assert_allclose(tip.extents, [0.2, 0.4, 0.2], atol=1e-12)


@pytest.mark.parametrize("kind", ["dataclass", "dictconfig"])
def test_compose_accepts_config_nodes(kind):
    part = PartConfig(name="leg", shape="cylinder", params={"radius": 0.05, "height": 0.5},
                      position=[0.1, 0.0, 0.25])
    parts = [part] if kind == "dataclass" else OmegaConf.create([OmegaConf.structured(part)])
    ((name, mesh),) = compose_parts(parts)
    assert name == "leg"
    np.testing.assert_allclose(mesh.bounds, [[0.05, -0.05, 0.0], [0.15, 0.05, 0.5]], atol=1e-12)


def test_compose_fills_defaults_of_partial_nodes():
    # a part-rules part may arrive as a plain (untyped) config node: position, rotation
    # and params default, and keys compose does not use (label) are ignored
    parts = OmegaConf.create([
        {"name": "top", "label": "top", "shape": "box", "params": {"x": 1, "y": 2, "z": 3}},
        {"name": "ball", "shape": "sphere", "params": {"radius": 0.5}, "position": [0, 0, 2]},
    ])
    placed = dict(compose_parts(parts))
    np.testing.assert_allclose(placed["top"].bounds, [[-0.5, -1, -1.5], [0.5, 1, 1.5]], atol=1e-12)
    np.testing.assert_allclose(placed["ball"].bounds.mean(axis=0), [0, 0, 2], atol=1e-12)


def test_compose_error_names_part():
    with pytest.raises(ConfigError, match=r"part 'leg'.*'radius'"):
        compose_parts([{"name": "leg", "shape": "cylinder", "params": {"height": 1}}])


box_parts = st.lists(
    st.tuples(
        st.tuples(*[st.floats(0.01, 3.0)] * 3),  # box extents
        st.tuples(*[st.floats(-5.0, 5.0)] * 3),  # position
        st.tuples(*[st.floats(-180.0, 180.0)] * 3),  # rotation, degrees
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(box_parts)
def test_normalize_parts_canonical_frame(spec):
    parts = compose_parts(
        [
            {"name": f"p{i}", "shape": "box", "params": dict(zip("xyz", ext)),
             "position": list(pos), "rotation": list(rot)}
            for i, (ext, pos, rot) in enumerate(spec)
        ]
    )
    before = [mesh.vertices.copy() for _, mesh in parts]
    normal = normalize_parts(parts)

    for (_, mesh), vertices in zip(parts, before):  # inputs untouched
        np.testing.assert_array_equal(mesh.vertices, vertices)
    assert [name for name, _ in normal] == [name for name, _ in parts]
    allv = np.concatenate([mesh.vertices for _, mesh in normal])
    low, high = allv.min(axis=0), allv.max(axis=0)
    assert (high - low).max() == pytest.approx(1.0, abs=1e-12)
    assert low[2] == 0.0
    np.testing.assert_allclose((low[:2] + high[:2]) / 2, 0.0, atol=1e-12)
    # one similarity transform for all parts: shapes and relative offsets keep ratios
    scale = (high - low).max() / np.ptp(np.concatenate(before), axis=0).max()
    for (_, mesh), vertices in zip(normal, before):
        np.testing.assert_allclose(
            mesh.vertices - allv[0], (vertices - before[0][0]) * scale, atol=1e-9
        )


def test_normalize_rejects_nothing():
    with pytest.raises(ValueError):
        normalize_parts([])


# --- mesh files -------------------------------------------------------------------

TRIANGLE_OBJ = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n"


def _ascii_ply(vertices, faces) -> str:
    lines = [
        "ply", "format ascii 1.0", f"element vertex {len(vertices)}",
        "property float x", "property float y", "property float z",
        f"element face {len(faces)}", "property list uchar int vertex_indices", "end_header",
    ]
    lines += [" ".join(str(c) for c in v) for v in vertices]
    lines += ["3 " + " ".join(str(i) for i in f) for f in faces]
    return "\n".join(lines) + "\n"


TETRA_V = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
TETRA_F = [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]


def test_load_good_obj(tmp_path):
    path = tmp_path / "tetra.obj"
    path.write_text(TRIANGLE_OBJ)
    mesh = load_mesh_file(path)
    assert mesh.vertices.shape == (4, 3) and mesh.faces.shape == (4, 3)


def test_load_scene_of_several_geometries_is_concatenated(tmp_path):
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box((1, 1, 1)), node_name="a", geom_name="a")
    scene.add_geometry(
        trimesh.creation.box((1, 1, 1)), node_name="b", geom_name="b",
        transform=trimesh.transformations.translation_matrix([3, 0, 0]),
    )
    path = tmp_path / "two.glb"
    scene.export(path)
    mesh = load_mesh_file(path)
    assert len(mesh.faces) == 24
    np.testing.assert_allclose(mesh.bounds, [[-0.5, -0.5, -0.5], [3.5, 0.5, 0.5]], atol=1e-6)


@pytest.mark.parametrize(
    "filename, content, reason",
    [
        ("empty.ply", b"", "empty (0 bytes)"),
        ("empty.obj", b"", "empty (0 bytes)"),
        ("blank.obj", b"# nothing here\n", "empty mesh (0 vertices"),
        ("garbage.ply", bytes(range(256)) * 8, "could not be read"),
        ("garbage.obj", b"\x00\xff not a mesh \x13\x37" * 50, ""),
        ("garbage.stl", b"solid nonsense\n\x00\x01\x02", "empty mesh"),
        ("nan.obj", TRIANGLE_OBJ.replace("v 1 0 0", "v nan 0 0").encode(), "not finite"),
        ("nan.ply", _ascii_ply([(0, 0, 0), ("nan", 0, 0), (0, 1, 0), (0, 0, 1)], TETRA_F).encode(),
         "not finite"),
        ("inf.ply", _ascii_ply([(0, 0, 0), (1, 0, 0), (0, "inf", 0), (0, 0, 1)], TETRA_F).encode(),
         "not finite"),
        ("collinear.obj", (TRIANGLE_OBJ + "v 2 0 0\nf 1 2 5\n").encode(), "degenerate"),
        ("repeated.ply", _ascii_ply(TETRA_V, TETRA_F + [(1, 1, 2)]).encode(), "degenerate"),
        ("range.ply", _ascii_ply(TETRA_V, TETRA_F + [(1, 2, 9)]).encode(), "out of range"),
        ("unknown.xyz123", b"v 0 0 0\n", "could not be read"),
    ],
)
def test_bad_mesh_file_raises_mesh_error_naming_file(tmp_path, filename, content, reason):
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(MeshError) as info:
        load_mesh_file(path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)


def test_missing_mesh_file(tmp_path):
    path = tmp_path / "nowhere" / "missing.ply"
    with pytest.raises(MeshError, match="does not exist") as info:
        load_mesh_file(path)
    assert str(path) in str(info.value)


def test_validate_mesh_checks_index_range_and_tolerance():
    with pytest.raises(MeshError, match="out of range"):
        validate_mesh(trimesh.Trimesh(TETRA_V, [(0, 1, 7)], process=False), "src")
    # a tiny but real triangle in a tiny mesh is fine: the tolerance is relative
    small = trimesh.Trimesh(np.array(TETRA_V) * 1e-4, TETRA_F, process=False)
    validate_mesh(small, "small")
    sliver = trimesh.Trimesh(TETRA_V + [(0.5, 1e-13, 0)], TETRA_F + [(0, 1, 4)], process=False)
    with pytest.raises(MeshError, match="src2.*degenerate"):
        validate_mesh(sliver, "src2")


# --- shipped meshes -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["bottle.ply", "mug.ply"])
def test_shipped_meshes_load_and_are_closed(name):
    path = MESHES / name
    assert path.stat().st_size < 200_000
    mesh = load_mesh_file(path)
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    assert mesh.bounds[0, 2] == 0.0


@pytest.mark.parametrize("name", ["bottle.ply", "mug.ply"])
def test_split_creases_keeps_the_triangles_and_smooths_only_across_gentle_edges(name):
    mesh = load_mesh_file(MESHES / name)
    split = split_creases(mesh)

    def triangles(m):
        return sorted(tuple(sorted(map(tuple, t))) for t in np.round(m.vertices[m.faces], 9).tolist())

    assert triangles(split) == triangles(mesh)
    cosine = np.einsum("fij,fj->fi", split.vertex_normals[split.faces], split.face_normals)
    assert cosine.min() > math.cos(math.radians(CREASE_ANGLE_DEG))
    assert len(split.vertices) < 1.5 * len(mesh.vertices)  # split at the creases only


def test_split_creases_joins_the_corners_of_a_triangle_soup():
    sphere = primitive("sphere", {"radius": 1.0})
    corners = sphere.vertices[sphere.faces].reshape(-1, 3)
    soup = trimesh.Trimesh(corners, np.arange(len(corners)).reshape(-1, 3), process=False)
    split = split_creases(soup)
    radial = split.vertices / np.linalg.norm(split.vertices, axis=1, keepdims=True)
    assert np.einsum("ij,ij->i", split.vertex_normals, radial).min() > 0.9999


def test_shipped_mesh_shapes():
    bottle = load_mesh_file(MESHES / "bottle.ply")
    assert bottle.extents[2] == pytest.approx(0.3, abs=1e-6)
    np.testing.assert_allclose(bottle.bounds[:, :2].mean(axis=0), 0.0, atol=1e-6)
    mug = load_mesh_file(MESHES / "mug.ply")
    # the handle sticks out along +y only
    assert mug.bounds[1, 1] > mug.bounds[1, 0] + 0.02
    assert mug.bounds[0, 1] == pytest.approx(mug.bounds[0, 0], abs=1e-6)
    assert mug.bounds[0, 0] == pytest.approx(-mug.bounds[1, 0], abs=1e-6)


def test_make_meshes_is_deterministic(tmp_path):
    written = make_meshes_module().main(tmp_path)
    assert sorted(p.name for p in written) == ["bottle.ply", "mug.ply"]
    for path in written:
        assert path.read_bytes() == (MESHES / path.name).read_bytes(), path.name


# --- mesh files the loader must refuse clearly, in bounded memory ---------------------

SPHERE = trimesh.creation.icosphere(subdivisions=3)  # 642 vertices, 1,280 triangles


def _export(mesh, path):
    """Write ``mesh`` to ``path`` in the format its name says (``.ascii.stl``/``.ascii.ply``:
    the text variant; ``.gltf``: JSON with embedded buffers)."""
    if path.suffix == ".gltf":
        data = trimesh.exchange.gltf.export_gltf(trimesh.Scene(mesh), embed_buffers=True)["model.gltf"]
    elif path.name.endswith(".ascii.stl"):
        data = mesh.export(file_type="stl_ascii")
    else:
        data = mesh.export(file_type=path.suffix[1:], **({"encoding": "ascii"} if path.name.endswith(".ascii.ply") else {}))
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(
    "name, vertices",
    [("m.ply", 642), ("m.ascii.ply", 642), ("m.off", 642), ("m.obj", 642), ("m.stl", 3 * 1280),
     ("m.ascii.stl", 3 * 1280), ("m.glb", 642), ("m.gltf", 642)],
)
def test_a_mesh_over_the_face_budget_is_refused_from_its_header(tmp_path, monkeypatch, name, vertices):
    path = _export(SPHERE, tmp_path / name)
    assert shapes.declared_size(path) == (vertices, 1280)

    def no_loading(*args, **kwargs):
        raise AssertionError("the file was loaded before its size was checked")

    monkeypatch.setattr(trimesh, "load", no_loading)
    with pytest.raises(MeshError) as info:
        load_mesh_file(path, max_faces=1000)
    message = str(info.value)
    assert repr(str(path)) in message and "1,280 triangles" in message and "meshes.max_faces=1,000" in message
    assert info.value.exit_status == EXIT_INPUT


def test_declared_sizes_are_counted_across_read_chunks(tmp_path, monkeypatch):
    path = _export(SPHERE, tmp_path / "m.obj")
    monkeypatch.setattr(shapes, "_CHUNK", 5)  # every token straddles some boundary
    assert shapes.declared_size(path) == (642, 1280)


def test_a_mesh_is_counted_exactly_once_loaded(tmp_path):
    # 800 quads: the file declares 800 faces, which load as 1,600 triangles
    lines = [f"v {x} {y} 0" for y in range(21) for x in range(41)]
    lines += [f"f {1 + x + 41 * y} {2 + x + 41 * y} {43 + x + 41 * y} {42 + x + 41 * y}" for y in range(20) for x in range(40)]
    path = tmp_path / "quads.obj"
    path.write_text("\n".join(lines) + "\n")
    assert shapes.declared_size(path) == (861, 800)
    with pytest.raises(MeshError, match="has at least 1,600 triangles"):
        load_mesh_file(path, max_faces=1000)
    assert len(load_mesh_file(path, max_faces=1600).faces) == 1600


def test_vertices_beyond_what_the_face_budget_can_use_are_refused(tmp_path):
    vertices = TETRA_V + [(2 + i, 0, 0) for i in range(40)]  # unreferenced
    path = tmp_path / "padded.ply"
    path.write_text(_ascii_ply(vertices, TETRA_F))
    with pytest.raises(MeshError, match=r"has at least 44 vertices, more than the 30 that meshes.max_faces=10 allows"):
        load_mesh_file(path, max_faces=10)
    assert len(load_mesh_file(path, max_faces=15).vertices) == 44


def test_a_garbage_obj_is_not_a_mesh_naming_the_file_and_the_formats(tmp_path):
    path = tmp_path / "garbage.obj"
    path.write_bytes(b"\x00\xff not a mesh \x13\x37" * 50 + bytes(range(256)) * 4)
    with pytest.raises(MeshError) as info:
        load_mesh_file(path)
    message = str(info.value)
    assert f"mesh file {str(path)!r} could not be read as a mesh (it is not UTF-8 text" in message
    assert "scenegen reads .glb, .gltf, .obj, .off, .ply, .stl" in message
    assert "charset_normalizer" not in message


@pytest.mark.parametrize("far", [1e30, -2e6])
def test_a_vertex_far_away_is_reported_as_such_not_as_degenerate_faces(tmp_path, far):
    path = tmp_path / "far.ply"
    path.write_text(_ascii_ply(TETRA_V + [(0, far, 0)], TETRA_F + [(0, 1, 4)]))
    with pytest.raises(MeshError) as info:
        load_mesh_file(path)
    message = str(info.value)
    assert repr(str(path)) in message and "1 vertices lie more than 1e+06 from the origin" in message
    assert f"largest coordinate {abs(far):.3g}" in message and "degenerate" not in message
