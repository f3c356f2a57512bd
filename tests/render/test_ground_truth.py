"""Ground truth checked against independent geometry: 3D boxes, depth by ray casting,
pixel accounting, an analytic occlusion, normals, keypoint flags, occluders and the
scene graph. Expected values are computed here from the Scene (own rotations, own
projection, trimesh ray casts), never with the label code under test."""

import math

import numpy as np
import pytest
import trimesh

from scenegen import load_config
from scenegen.dataset.files import read_normals, write_scene
from scenegen.labels.objects import KEYPOINT_NAMES, KEYPOINT_SKELETON, object_labels
from scenegen.labels.scene_graph import scene_relations
from scenegen.render.raster import Renderer
from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv
from scenegen.scene.scene import Camera, Context, Light, ObjectInstance, Scene
from scenegen.world.compile import World
from scenegen.world.dictionary import ObjectDictionary
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render

N_SCENES = 20


def write_library(root):
    """A generic-layout asset library whose files test what built-in shapes do not: a
    hollow tube, a capsule, a Y-up GLB (turned on load), an OBJ in centimetres, each
    with its own proportions. Returns the config group folder naming it."""
    shapes = {  # category -> (file, mesh, meta.yaml): three of each, so library objects are common
        "mug": [(f"tube{i}.ply", trimesh.creation.annulus(r_min=0.03 + 0.005 * i, r_max=0.045 + 0.005 * i,
                                                           height=0.1, sections=32), "") for i in range(3)],
        "bottle": [(f"capsule{i}.obj", trimesh.creation.capsule(height=0.2 + 0.05 * i, radius=0.04, count=[16, 16]), "")
                   for i in range(3)],
        "ball": [(f"ico{i}.glb", trimesh.creation.icosphere(subdivisions=1 + i, radius=0.1), "") for i in range(3)],
        "book": [(f"slab{i}.obj", trimesh.creation.box(extents=(21.0, 2.0 + i, 28.0)), "units: cm\nup: y\n")
                 for i in range(3)],
    }
    for category, files in shapes.items():
        folder = root / category
        folder.mkdir(parents=True)
        for name, mesh, meta in files:
            mesh.export(folder / name)
            if meta:
                (folder / "meta.yaml").write_text(meta)
    conf = root.parent / "conf" / "library"
    conf.mkdir(parents=True)
    (conf / "truth.yaml").write_text(f"# @package _global_\nlibraries:\n  truth:\n    path: {root}\n")
    return conf.parent


SOURCES = {"built-in": [], "lying": ["rest.chance=1"], "piled": ["grammar=piles", "placement.objects=[5,14]", "grammar.start=heaps"]}


@pytest.fixture(scope="module", params=["built-in", "lying", "piled", "library"])
def source(request, small_cfg, dictionary, renderer, tmp_path_factory):
    """(config, dictionary, renderer) of the built-in objects, of them lying in their
    rest states (rest.chance=1), settled in piles (grammar=piles, with PyBullet), or of
    them with an asset library added (its files drawn among the built-in entries of their
    categories)."""
    if request.param == "built-in":
        yield small_cfg, dictionary, renderer
        return
    if request.param in SOURCES:
        if request.param == "piled":
            pytest.importorskip("pybullet", reason="piles need scenegen[physics]")
        yield load_config(["width=96", "height=72", *SOURCES[request.param]]), dictionary, renderer
        return
    tmp = tmp_path_factory.mktemp("truth")
    conf = write_library(tmp / "library")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCENEGEN_CACHE", str(tmp / "cache"))  # the library's index, not in ~/.cache
        cfg = load_config(["width=96", "height=72", f"hydra.searchpath=[file://{conf}]", "+library=truth"])
        library_dictionary = World.of(cfg).dictionary
        with Renderer(library_dictionary) as library_renderer:
            yield cfg, library_dictionary, library_renderer


@pytest.fixture(scope="module")
def rendered(source):
    cfg, dictionary, renderer = source
    sampler = Sampler(cfg, dictionary)
    out = []
    for i in range(N_SCENES):
        scene = sampler.sample(i)
        frame = renderer.render(scene)
        out.append((scene, frame, object_labels(scene, frame, dictionary, cfg.factors)))
    library_objects = sum(o.entry.startswith("truth:") for scene, _, _ in out for o in scene.objects)
    assert library_objects >= (5 if cfg.libraries else 0), "too few library objects for the checks to reach them"
    lying = sum(o.tipped for scene, _, _ in out for o in scene.objects)
    piles = any(alt.arrange == "pile" for alts in cfg.grammar.rules.values() for alt in alts)
    assert lying >= (20 if cfg.rest.chance or piles else 0), "too few lying objects for the checks to reach them"
    return out


@pytest.fixture(scope="module")
def source_dictionary(source):
    return source[1]


# -- independent geometry -------------------------------------------------------------


def rotation_z(yaw):
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def local_corners(dictionary, obj):
    """(8, 3) box corners in the object's (unscaled, metres) frame, every sign combination."""
    ex, ey, ez = np.asarray(dictionary[obj.entry].variant(obj.style).extents) * obj.scale
    return np.array([[sx * ex / 2, sy * ey / 2, z] for sx in (-1, 1) for sy in (-1, 1) for z in (0.0, ez)])


def world_points(obj, local):
    """Object-frame points (N, 3) metres to the world: the rest rotation and offset
    (scaled), then the yaw, then the position, from the record's fields."""
    local = np.asarray(local, dtype=float)
    if obj.rest_rotation:
        local = local @ np.reshape(obj.rest_rotation, (3, 3)).T + np.asarray(obj.rest_offset) * obj.scale
    return local @ rotation_z(obj.yaw).T + np.asarray(obj.position)


def to_camera(scene, world):
    pose = scene.camera.pose
    return (np.asarray(world) - pose[:3, 3]) @ pose[:3, :3]


def pixels_of(scene, camera_points):
    cam = scene.camera
    x, y, z = camera_points.T
    return np.column_stack([cam.fx * x / z + cam.cx, cam.fy * y / z + cam.cy])


def object_mesh(dictionary, obj):
    mesh = dictionary[obj.entry].variant(obj.style).mesh()
    return trimesh.Trimesh(vertices=world_points(obj, np.asarray(mesh.vertices) * obj.scale),
                           faces=np.asarray(mesh.faces), process=False)


def rays(scene, u, v):
    cam = scene.camera
    local = np.column_stack([(u - cam.cx) / cam.fx, (v - cam.cy) / cam.fy, np.ones(len(u))])
    local /= np.linalg.norm(local, axis=1, keepdims=True)
    pose = cam.pose
    return np.repeat(pose[:3, 3][None], len(u), axis=0), local @ pose[:3, :3].T, local


# -- sampled scenes -------------------------------------------------------------------


def test_projected_3d_boxes_enclose_each_visible_mask(rendered, source_dictionary):
    checked = 0
    for scene, frame, labels in rendered:
        for i, (obj, label) in enumerate(zip(scene.objects, labels)):
            corners = world_points(obj, local_corners(source_dictionary, obj))
            camera_points = to_camera(scene, corners)
            # the labels' boxes are the same 8 corners (their order is box_corners')
            gaps = np.linalg.norm(np.asarray(label["box3d_world"])[:, None] - corners[None], axis=-1)
            assert gaps.min(axis=0).max() < 1e-9 and gaps.min(axis=1).max() < 1e-9
            np.testing.assert_allclose(label["box3d_camera"], to_camera(scene, label["box3d_world"]), atol=1e-9)
            v, u = np.nonzero(frame.instances == i + 1)
            if not u.size or camera_points[:, 2].min() <= 0:
                continue
            uv = pixels_of(scene, camera_points)
            assert u.min() >= uv[:, 0].min() - 1 and u.max() <= uv[:, 0].max() + 1
            assert v.min() >= uv[:, 1].min() - 1 and v.max() <= uv[:, 1].max() + 1
            checked += 1
    assert checked > 2 * N_SCENES


def test_pose_m2c_maps_object_frame_corners_to_camera_corners(rendered, source_dictionary):
    for scene, _, labels in rendered:
        for obj, label in zip(scene.objects, labels):
            R = np.asarray(label["cam_R_m2c"]).reshape(3, 3)
            t = np.asarray(label["cam_t_m2c"])
            np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
            local_mm = local_corners(source_dictionary, obj) * 1000.0
            expected_mm = to_camera(scene, world_points(obj, local_corners(source_dictionary, obj))) * 1000.0
            np.testing.assert_allclose(local_mm @ R.T + t, expected_mm, atol=1e-6)


def test_depth_equals_ray_cast_distance_along_the_optical_axis(rendered, source_dictionary):
    rng = np.random.default_rng(0)
    compared = 0
    for scene, frame, _ in rendered:
        for i, obj in enumerate(scene.objects):
            v, u = np.nonzero(frame.instances == i + 1)
            if not u.size:
                continue
            pick = rng.choice(u.size, size=min(20, u.size), replace=False)
            u, v = u[pick].astype(float), v[pick].astype(float)
            origins, directions, local = rays(scene, u, v)
            locations, index_ray, _ = object_mesh(source_dictionary, obj).ray.intersects_location(origins, directions)
            nearest = np.full(len(u), np.inf)
            np.minimum.at(nearest, index_ray, np.linalg.norm(locations - origins[index_ray], axis=1))
            hit = np.isfinite(nearest)
            # a ray through a silhouette pixel's centre may graze past the mesh: allow a few
            assert hit.mean() >= 0.9 or hit.sum() >= len(u) - 1
            expected = nearest[hit] * local[hit, 2]  # distance along the ray -> along z
            rendered_depth = frame.depth[v[hit].astype(int), u[hit].astype(int)]
            assert np.abs(rendered_depth - expected).max() < 1e-3
            compared += int(hit.sum())
    assert compared > 500


def test_pixels_are_accounted_for_and_amodal_covers_visible(rendered):
    for _scene, frame, labels in rendered:
        h, w = frame.depth.shape
        visible = sum(label["visible_pixels"] for label in labels)
        assert visible + int((frame.instances == 0).sum()) == w * h
        for i, label in enumerate(labels):
            assert label["amodal_pixels"] >= label["visible_pixels"]
            assert int(frame.amodal[i].sum()) == label["amodal_pixels"]
            x, y, bw, bh = label["amodal_bbox"]
            if label["visible_pixels"]:
                vx, vy, vw, vh = label["bbox"]
                assert x <= vx and y <= vy and vx + vw <= x + bw and vy + vh <= y + bh
            hidden = label["amodal_pixels"] - label["visible_pixels"]
            # pixels of the amodal mask not shown as this object show other objects or
            # the floor/walls/background; the occluders count the object ones
            assert sum(o["pixels"] for o in label["occluders"]) <= hidden
            ids = [o["instance_id"] for o in label["occluders"]]
            assert ids == sorted(ids) and i + 1 not in ids and all(o["pixels"] > 0 for o in label["occluders"])


def test_normals_are_unit_on_surfaces_and_zero_elsewhere(rendered):
    for _scene, frame, _ in rendered:
        assert frame.normals.shape == (*frame.depth.shape, 3) and frame.normals.dtype == np.float32
        length = np.linalg.norm(frame.normals, axis=-1)
        np.testing.assert_allclose(length[frame.depth > 0], 1.0, atol=1e-5)
        assert (length[frame.depth == 0] == 0).all()


def test_floor_normals_point_up(rendered):
    """Floor pixels (no object, back-projected onto z = 0, not at a wall's foot) have
    the world up normal."""
    checked = 0
    for scene, frame, _ in rendered:
        cam = scene.camera
        v, u = np.nonzero((frame.instances == 0) & (frame.depth > 0))
        z = frame.depth[v, u].astype(float)
        points = np.column_stack([(u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z])
        world = points @ cam.pose[:3, :3].T + cam.pose[:3, 3]
        inner = scene.context.floor_size / 2 - 0.05  # away from the walls' feet
        floor = (np.abs(world[:, 2]) < 1e-3) & (np.abs(world[:, :2]).max(axis=1) < inner)
        up_in_camera = cam.pose[:3, :3].T @ [0.0, 0.0, 1.0]
        cosine = frame.normals[v[floor], u[floor]] @ up_in_camera
        assert np.degrees(np.arccos(np.clip(cosine, -1, 1))).max() < 1.0
        checked += int(floor.sum())
    assert checked > 1000


def test_normals_face_the_camera(rendered):
    """Normals face the camera: a smooth-shaded normal, interpolated across a triangle
    that the ray grazes at a silhouette, may lean past 90 degrees a little (seen: a
    lying sofa's rolled arm by 0.2 degrees, the rim of a bucket lying on its front by 5
    degrees, one pixel each), so at most one pixel in a thousand leans over 1 degree and
    none over 10."""
    leaning = pixels = 0
    for scene, frame, _ in rendered:
        cam = scene.camera
        v, u = np.nonzero(frame.depth > 0)
        ray = np.column_stack([(u - cam.cx) / cam.fx, (v - cam.cy) / cam.fy, np.ones(len(u))])
        ray /= np.linalg.norm(ray, axis=1, keepdims=True)
        cosine = np.einsum("ij,ij->i", frame.normals[v, u], ray)
        assert (cosine <= math.sin(math.radians(10.0))).all()
        leaning += int((cosine > math.sin(math.radians(1.0))).sum())
        pixels += len(cosine)
    assert leaning <= pixels / 1000


def test_relations_follow_supports_and_are_antisymmetric(rendered, source_dictionary):
    converse = {"left-of": "right-of", "right-of": "left-of", "in-front-of": "behind", "behind": "in-front-of",
                "on": "supports", "supports": "on"}
    stacked = 0
    for scene, _, _labels in rendered:
        relations = scene_relations(scene)
        triples = {(r["subject"], r["relation"], r["object"]) for r in relations}
        assert len(triples) == len(relations)
        on = {(s, o) for s, r, o in triples if r == "on"}
        assert on == {(i, obj.support) for i, obj in enumerate(scene.objects) if obj.support >= 0}
        stacked += len(on)
        for s, r, o in triples:
            assert (o, converse[r], s) in triples
            assert s != o
        for i in range(len(scene.objects)):
            for j in range(len(scene.objects)):
                assert not {(i, "left-of", j), (i, "right-of", j)} <= triples
                assert not {(i, "in-front-of", j), (i, "behind", j)} <= triples
        # left/right by the camera-frame x of the centres (here: the bases)
        xs = to_camera(scene, [obj.position for obj in scene.objects])[:, 0] if scene.objects else []
        for s, r, o in triples:
            if r == "left-of":
                assert xs[s] < xs[o]
    assert stacked > 0


# -- a constructed scene: two crates, the camera looking straight at them ---------------

STUDIO = Context(name="studio", background=(0.6, 0.6, 0.6), floor_color=(0.5, 0.5, 0.5), floor_size=12.0,
                 walls=False, wall_color=(0.7, 0.7, 0.7), wall_height=3.0, ambient=0.3)
LIGHT = Light(direction=(1 / math.sqrt(2), 0.0, 1 / math.sqrt(2)), color=(1.0, 1.0, 1.0), intensity=3.0)
W, H, FOV = 480, 360, 30.0
EYE_HEIGHT = 0.175
SIDE = 0.5  # crate scale: a 0.5 x 0.5 x 0.35 m box


def make_camera(eye, target, width=W, height=H):
    pose = look_at_opencv(eye, target)
    fx, fy, cx, cy = intrinsics_from_fov(math.radians(FOV), width, height)
    return Camera(width=width, height=height, fx=fx, fy=fy, cx=cx, cy=cy, world_from_camera=tuple(map(tuple, pose)),
                  target=tuple(map(float, target)), distance=float(np.linalg.norm(np.subtract(eye, target))),
                  azimuth=0.0, elevation=0.0, znear=0.05, zfar=100.0)


@pytest.fixture(scope="module")
def box_world(cfg):
    """(dictionary, renderer) of the built-in dictionary plus ``solid_box``, a solid
    1 x 1 x 0.7 box of category crate (the built-in crate has boards with gaps)."""
    from scenegen.config.load import config_from_dict, config_to_dict

    data = config_to_dict(cfg)
    data["objects"]["solid_box"] = {**data["objects"]["ball"], "category": "crate", "shape": "box",
                                    "params": {"x": 1.0, "y": 1.0, "z": 0.7}, "symmetry": 4}
    dictionary = ObjectDictionary(config_from_dict(data))
    with Renderer(dictionary) as renderer:
        yield dictionary, renderer


def crate(position, yaw=0.0, support=-1):
    """A solid box, 0.5 x 0.5 x 0.35 m (``solid_box`` of :func:`box_world`)."""
    return ObjectInstance(entry="solid_box", category="crate", position=tuple(map(float, position)), yaw=yaw,
                          scale=SIDE, color="gray", rgb=(0.5, 0.5, 0.5), material="matte", metallic=0.0,
                          roughness=0.9, support=support)


def constructed(objects, camera):
    return Scene(index=0, seed=0, context=STUDIO, objects=tuple(objects), lights=(LIGHT,), camera=camera)


@pytest.fixture(scope="module")
def occluded(cfg, box_world):
    """Crate A at the origin; crate B nearer the camera (on +x) and shifted to the
    camera's right (world +y), hiding A's right part. The camera at A's mid height looks
    along -x, so A shows only its front face (x = +0.25) and B's left edge in the image
    is its back-left vertical edge."""
    camera = make_camera([5.0, 0.0, EYE_HEIGHT], [0.0, 0.0, EYE_HEIGHT])
    scene = constructed([crate((0.0, 0.0, 0.0)), crate((2.0, 0.35, 0.0))], camera)
    dictionary, renderer = box_world
    frame = renderer.render(scene)
    return scene, frame, object_labels(scene, frame, dictionary, cfg.factors)


def test_analytic_visible_fraction_of_an_occluded_crate(occluded):
    scene, frame, labels = occluded
    fx = scene.camera.fx
    # image x (pixels from the principal point) = fx * world y / distance
    a_left, a_right = fx * -0.25 / 4.75, fx * 0.25 / 4.75  # A's front face at distance 4.75
    b_left = fx * (0.35 - 0.25) / 3.25  # B's back-left edge, at distance 3.25
    expected = (b_left - a_left) / (a_right - a_left)
    assert 0.7 < expected < 0.95
    assert labels[0]["visible_fraction"] == pytest.approx(expected, abs=0.02)
    assert labels[1]["visible_fraction"] == 1.0
    # A's amodal area is its front face: width x height in pixels
    area = (a_right - a_left) * scene.camera.fy * 0.35 / 4.75
    assert labels[0]["amodal_pixels"] == pytest.approx(area, rel=0.03)


def test_occluders_of_the_occluded_crate(occluded):
    _, _, (a, b) = occluded
    assert a["occluders"] == [{"instance_id": 2, "pixels": a["amodal_pixels"] - a["visible_pixels"]}]
    assert a["amodal_pixels"] - a["visible_pixels"] > 100
    assert b["occluders"] == []


def test_front_face_and_floor_normals_are_analytic(cfg, box_world):
    """A crate turned by 0.3 rad seen from above and aside: pixels on its front face
    (back-projected within 1 mm of the x = +0.25 plane, away from the edges) have the
    face's normal; floor pixels have the up normal; both within 1 degree, also after
    the PNG round trip within 1.5 degrees."""
    yaw = 0.3
    camera = make_camera([2.5, 1.2, 1.4], [0.0, 0.0, 0.15])
    scene = constructed([crate((0.0, 0.0, 0.0), yaw=yaw)], camera)
    dictionary, renderer = box_world
    frame = renderer.render(scene)
    cam = scene.camera
    v, u = np.nonzero(frame.instances == 1)
    z = frame.depth[v, u].astype(float)
    points = np.column_stack([(u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z])
    world = points @ cam.pose[:3, :3].T + cam.pose[:3, 3]
    local = world @ rotation_z(yaw)  # inverse rotation (position is the origin)
    front = (np.abs(local[:, 0] - 0.25) < 1e-3) & (np.abs(local[:, 1]) < 0.23) & (local[:, 2] > 0.02) & (local[:, 2] < 0.33)
    assert front.sum() > 200
    expected = cam.pose[:3, :3].T @ (rotation_z(yaw) @ [1.0, 0.0, 0.0])
    angle = np.degrees(np.arccos(np.clip(frame.normals[v[front], u[front]] @ expected, -1, 1)))
    assert angle.max() < 1.0
    # the top face (z = 0.35) is seen too: its normal is world up
    top = (np.abs(local[:, 2] - 0.35) < 1e-3) & (np.abs(local[:, 0]) < 0.23) & (np.abs(local[:, 1]) < 0.23)
    assert top.sum() > 200
    up = cam.pose[:3, :3].T @ [0.0, 0.0, 1.0]
    assert np.degrees(np.arccos(np.clip(frame.normals[v[top], u[top]] @ up, -1, 1))).max() < 1.0
    assert (frame.normals[frame.depth == 0] == 0).all()


def test_normals_png_round_trip_of_a_rendered_frame(tmp_path, cfg, dictionary, occluded):
    scene, frame, labels = occluded
    record = write_scene(tmp_path, scene, frame, labels, cfg.output)
    back = read_normals(tmp_path / record["files"]["normals"])
    surface = frame.depth > 0
    np.testing.assert_array_equal(np.any(back != 0, axis=-1), surface)
    cosine = np.clip(np.sum(back[surface] * frame.normals[surface], axis=-1), -1, 1)
    assert np.degrees(np.arccos(cosine)).max() < 0.5
    assert {"subject": 1, "relation": "in-front-of", "object": 0} in record["relations"]


def keypoint_flags(label):
    return {name: kp[2] for name, kp in zip(KEYPOINT_NAMES, label["keypoints"])}


def test_keypoint_hidden_behind_another_object_is_flagged_1(occluded):
    scene, _, (a, b) = occluded
    flags = keypoint_flags(a)
    # A's front corners on its right (world +y, camera right) lie behind B
    assert flags["corner_110"] == 1 and flags["corner_111"] == 1
    # its front-left corners are in plain view
    assert flags["corner_100"] == 2 and flags["corner_101"] == 2
    # B's front corners face the camera unobstructed
    assert keypoint_flags(b)["corner_110"] == 2 and keypoint_flags(b)["corner_100"] == 2
    # the keypoints' pixels are the corners' own projection
    expected = pixels_of(scene, to_camera(scene, a["box3d_world"]))
    np.testing.assert_allclose([kp[:2] for kp in a["keypoints"][:8]], expected, atol=1e-9)
    centre = pixels_of(scene, to_camera(scene, [np.mean(a["box3d_world"], axis=0)]))[0]
    np.testing.assert_allclose(a["keypoints"][8][:2], centre, atol=1e-9)


def test_keypoints_outside_the_image_are_flagged_0(cfg, box_world):
    """A crate at the left image border: its corners at world y = -2 (image x < 0) are
    outside; those at y = -1.5 inside and, on the front face, visible."""
    camera = make_camera([5.0, 0.0, EYE_HEIGHT], [0.0, 0.0, EYE_HEIGHT])
    assert camera.cx / camera.fx * 4.75 < 2.0 and camera.cx / camera.fx * 4.75 > 1.5
    scene = constructed([crate((0.0, -1.75, 0.0))], camera)
    dictionary, renderer = box_world
    frame = renderer.render(scene)
    (label,) = object_labels(scene, frame, dictionary, cfg.factors)
    flags = keypoint_flags(label)
    for name, flag in flags.items():
        if name != "centre" and name[-2] == "0":  # local y minimum: world y = -2
            assert flag == 0, name
    assert flags["corner_110"] == 2 and flags["corner_111"] == 2


def test_keypoint_names_and_skeleton():
    assert len(KEYPOINT_NAMES) == 9 and KEYPOINT_NAMES[-1] == "centre" and len(set(KEYPOINT_NAMES)) == 9
    assert len(KEYPOINT_SKELETON) == 12
    degree = np.bincount(np.ravel(KEYPOINT_SKELETON), minlength=10)
    assert degree[0] == 0 and (degree[1:9] == 3).all() and degree[9] == 0
    for a, b in KEYPOINT_SKELETON:  # an edge joins corners differing along one axis
        assert sum(x != y for x, y in zip(KEYPOINT_NAMES[a - 1][-3:], KEYPOINT_NAMES[b - 1][-3:])) == 1


def test_relations_of_the_constructed_scene(occluded):
    scene, _, _ = occluded
    triples = {(r["subject"], r["relation"], r["object"]) for r in scene_relations(scene)}
    # B (1) is nearer the camera and to its right; no support between them
    assert triples == {(1, "in-front-of", 0), (0, "behind", 1), (1, "right-of", 0), (0, "left-of", 1)}
    stack = constructed([crate((0.0, 0.0, 0.0)), crate((0.0, 0.0, 0.35), support=0)], scene.camera)
    triples = {(r["subject"], r["relation"], r["object"]) for r in scene_relations(stack)}
    assert triples == {(1, "on", 0), (0, "supports", 1)}  # same x and depth: nothing else
