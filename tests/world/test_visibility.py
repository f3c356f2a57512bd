"""Ray-cast visibility estimates on boxes whose visible fractions are known exactly, and
the batched query of the occluder search against the definition."""

from dataclasses import replace

import numpy as np
import pytest
import trimesh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv, project
from scenegen.scene.scene import Camera
from scenegen.world.visibility import (
    Body,
    band_fractions,
    box_body,
    box_rays,
    fraction_in_band,
    fractions_in_band,
    image_boxes,
    meets_box,
    mesh_rays,
    pixel_rays,
    visible_fraction,
)
from scenegen.world.visibility.batched import _Batch, _linspace


def _camera(size: int = 200) -> Camera:
    """Looking down the -x axis at the origin from x = 10 m, narrow field of view."""
    fx, fy, cx, cy = intrinsics_from_fov(np.radians(20.0), size, size)
    pose = look_at_opencv([10.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    return Camera(width=size, height=size, fx=fx, fy=fy, cx=cx, cy=cy,
                  world_from_camera=tuple(map(tuple, pose)), target=(0.0, 0.0, 0.0), distance=10.0,
                  azimuth=0.0, elevation=0.0, znear=0.05, zfar=100.0)


def _box(extents, centre) -> Body:
    return box_body(extents, centre)


def test_alone_fully_visible_and_fully_hidden():
    camera = _camera()
    target = _box([0.2, 1.0, 1.0], [0.0, 0.0, 0.0])
    assert visible_fraction([target], camera, 0) == 1.0
    wall = _box([0.2, 3.0, 3.0], [2.0, 0.0, 0.0])  # between the camera and the target
    assert visible_fraction([target, wall], camera, 0) == 0.0
    assert visible_fraction([target, wall], camera, 1) == 1.0
    behind = _box([0.2, 3.0, 3.0], [-2.0, 0.0, 0.0])
    assert visible_fraction([target, behind], camera, 0) == 1.0


@pytest.mark.parametrize("covered", [0.25, 0.5, 0.75])
def test_a_screen_covering_part_of_the_target(covered):
    """A screen just in front of the target hides its part with y > 0.5 - covered; the
    estimate is the uncovered share within 0.05."""
    camera = _camera(400)
    target = _box([0.1, 1.0, 1.0], [0.0, 0.0, 0.0])
    # the screen covers y in [0.5 - covered, 0.5 + 1] at x = 0.3: nearly the same depth
    # as the target, so perspective shifts its edge by under 3 % of the target's width
    screen = _box([0.02, 1.0 + covered, 2.0], [0.3, 0.5 - covered + (1.0 + covered) / 2, 0.0])
    fraction = visible_fraction([target, screen], camera, 0)
    assert fraction == pytest.approx(1.0 - covered, abs=0.05)


def test_pixel_rays_go_through_their_pixels():
    rng = np.random.default_rng(5)
    camera = _camera(120)
    u, v = rng.uniform(-10.0, 130.0, 50), rng.uniform(-10.0, 130.0, 50)
    origins, directions = pixel_rays(camera, u, v)
    assert np.allclose(np.linalg.norm(directions, axis=1), 1.0, rtol=0.0, atol=1e-15)
    assert np.allclose(project(origins + 3.0 * directions, camera.K, camera.pose), np.column_stack([u, v]),
                       rtol=0.0, atol=1e-9)


def test_object_outside_the_image_has_no_rays():
    camera = _camera()
    far_left = _box([0.2, 0.2, 0.2], [0.0, 30.0, 0.0])
    assert visible_fraction([far_left], camera, 0) == 0.0


def _world_scene_fraction(bodies, camera, index, grid=40) -> float:
    """The estimate computed the direct way: every body moved into the world as one mesh,
    first hits from one intersector over all of them."""
    meshes = [trimesh.Trimesh(b.world_vertices(), np.asarray(b.mesh.faces), process=False) for b in bodies]
    origins, directions = box_rays(meshes[index].vertices, camera, grid)
    on_target = meshes[index].ray.intersects_any(origins, directions)
    if not on_target.any():
        return 0.0
    scene = trimesh.util.concatenate(meshes)
    owner = np.repeat(np.arange(len(meshes)), [len(m.faces) for m in meshes])
    first = scene.ray.intersects_first(origins[on_target], directions[on_target])
    return float(((first >= 0) & (owner[np.maximum(first, 0)] == index)).sum() / on_target.sum())


@pytest.mark.parametrize("seed", range(12))
def test_bodies_in_their_own_frames_agree_with_one_world_mesh(seed):
    """Turned, scaled and moved bodies (a cylinder target behind boxes, cones and
    spheres): casting rays in each body's frame gives the fraction that one world-frame
    mesh of all of them gives, to within the rays that graze an edge (1 %)."""
    rng = np.random.default_rng(seed)
    shapes = [trimesh.creation.box(extents=[1.0, 0.6, 0.8]), trimesh.creation.cone(0.5, 1.0),
              trimesh.creation.icosphere(2, 0.5)]
    bodies = [Body(trimesh.creation.cylinder(0.4, 1.0), float(rng.uniform(0, 6.3)), float(rng.uniform(0.5, 2.0)),
                   (0.0, 0.0, 0.0))]
    for _ in range(4):
        bodies.append(Body(shapes[int(rng.integers(len(shapes)))], float(rng.uniform(0, 6.3)),
                           float(rng.uniform(0.3, 1.5)),
                           (float(rng.uniform(0.5, 4.0)), float(rng.uniform(-1.2, 1.2)), float(rng.uniform(-0.8, 0.8)))))
    camera = _camera(300)
    for index in range(len(bodies)):
        expected = _world_scene_fraction(bodies, camera, index)
        assert visible_fraction(bodies, camera, index) == pytest.approx(expected, abs=0.01)


# -- the occluder search's batched query --------------------------------------------------

def _flat_square() -> trimesh.Trimesh:
    """A mesh with no volume (its convex hull fails)."""
    return trimesh.Trimesh([[-0.5, -0.5, 0.0], [0.5, -0.5, 0.0], [-0.5, 0.5, 0.0], [0.5, 0.5, 0.0]],
                           [[0, 1, 2], [1, 3, 2]], process=False)


_SHAPES = [trimesh.creation.box(extents=[1.0, 0.6, 0.8]), trimesh.creation.cone(0.5, 1.0),
           trimesh.creation.icosphere(2, 0.5), trimesh.creation.cylinder(0.4, 1.0, sections=48), _flat_square(),
           trimesh.creation.annulus(0.2, 0.5, 0.7)]


def _random_camera(rng, size, aim) -> Camera:
    width, height = size
    fx, fy, cx, cy = intrinsics_from_fov(float(rng.uniform(0.3, 1.2)), width, height)
    eye = rng.normal(size=3) * rng.uniform(1.0, 6.0)
    eye[2] = abs(eye[2]) + 0.3
    aim = np.asarray(aim, dtype=float) + rng.normal(size=3) * 0.3
    pose = look_at_opencv(eye, aim)
    return Camera(width=width, height=height, fx=fx, fy=fy, cx=cx, cy=cy,
                  world_from_camera=tuple(map(tuple, pose)), target=tuple(aim), distance=float(np.linalg.norm(eye - aim)),
                  azimuth=0.0, elevation=0.3, znear=0.05, zfar=100.0)


def _random_bodies(rng, count) -> list[Body]:
    return [Body(_SHAPES[int(rng.integers(len(_SHAPES)))], float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.2, 1.5)),
                 tuple(float(x) for x in rng.normal(size=3) * rng.uniform(0.2, 2.5)))
            for _ in range(count)]


def _random_case(rng, size, index: int, count: int) -> tuple[list[Body], Camera]:
    """Bodies around the target, most of the others between it and the camera."""
    bodies = _random_bodies(rng, count)
    target = np.asarray(bodies[index].position)
    camera = _random_camera(rng, size, target)
    for i in range(count):
        if i != index and rng.random() < 0.7:
            spot = camera.position + rng.uniform(0.2, 0.95) * (target - camera.position) + rng.normal(size=3) * 0.4
            bodies[i] = replace(bodies[i], position=tuple(float(x) for x in spot))
    return bodies, camera


BANDS = [(0.08, 0.4), (0.6215, 0.878), (0.995, 1.0), (0.0, 1.0), (0.0, 0.3), (0.5, 0.5), (1.0, 1.0)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_fractions_in_band_are_the_visible_fractions_in_the_band(seed):
    """Batches of random scenes (bodies in front of, around and behind the camera, partly
    out of the image, a flat mesh, shared meshes): each answer is visible_fraction's
    float when it lies in the band, else None."""
    rng = np.random.default_rng(seed)
    size = (int(rng.integers(24, 200)), int(rng.integers(24, 200)))
    index = int(rng.integers(3))
    cases = [_random_case(rng, size, index, int(rng.integers(index + 1, 6))) for _ in range(int(rng.integers(1, 7)))]
    fractions = [visible_fraction(bodies, camera, index) for bodies, camera in cases]
    for low, high in BANDS:
        found = fractions_in_band(cases, index, low, high)
        assert found == [f if low <= f <= high else None for f in fractions]
        assert all(type(f) is float for f in found if f is not None)
        # out of the band: on the definition's side of it, or on neither where 1 or 0
        for side, f in zip(band_fractions(cases, index, low, high), fractions):
            assert type(side) is float
            if low <= side <= high or (side > high and side != np.inf) or side < low:
                assert side == f
            elif side == np.inf:
                assert f > high
            else:
                assert np.isnan(side) and f in (0.0, 1.0) and not low <= f <= high
    assert fraction_in_band(*cases[0], index, 0.0, 1.0) == fractions[0]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_first_hits_are_trimeshs_and_the_same_in_any_batch(seed):
    """The first-hit query (the definition's, Body.hit_distances') hits the rays
    trimesh's own query hits, at its distances to within rounding, and gives each ray
    the same float in any batch."""
    rng = np.random.default_rng(seed)
    body = _random_bodies(rng, 1)[0]
    count = int(rng.integers(1, 300))
    origins = rng.normal(size=(count, 3)) * 4.0
    directions = rng.normal(size=(count, 3)) - origins * rng.uniform(0.0, 0.5)  # many towards the body
    directions[rng.random(count) < 0.1, int(rng.integers(3))] = 0.0
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    found = body.hit_distances(origins, directions)
    local = body.local_rays(origins, directions)
    assert np.array_equal(mesh_rays(body.mesh).first_hits(*local, body.scale), found)
    locations, rays, _ = body.mesh.ray.intersects_location(local[0].T, local[1].T, multiple_hits=False)
    expected = np.full(count, np.inf)
    expected[rays] = np.linalg.norm(locations - local[0].T[rays], axis=1) * body.scale
    assert np.allclose(found, expected, rtol=1e-9, atol=0.0)
    some = np.flatnonzero(rng.random(count) < 0.5)
    assert np.array_equal(body.hit_distances(origins[some], directions[some]), found[some])
    scales = np.full(len(some), body.scale)
    assert np.array_equal(mesh_rays(body.mesh).first_hits(local[0][:, some], local[1][:, some], scales), found[some])
    # rays sharing an origin, given once
    eye = rng.normal(size=(1, 3)) * 4.0
    shared = np.repeat(eye, count, axis=0)
    expected = body.hit_distances(shared, directions)
    origin, local_directions = body.local_rays(eye, directions[:1])[0], body.local_rays(shared, directions)[1]
    assert np.array_equal(mesh_rays(body.mesh).first_hits(origin, local_directions, body.scale,
                                                          np.zeros(count, dtype=np.int64)), expected)


def _without_embree(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A copy of ``mesh`` that ray casts with trimesh's own intersector (as where
    Embree's wheel does not exist)."""
    return trimesh.Trimesh(mesh.vertices.copy(), mesh.faces.copy(), process=False, use_embree=False)


_SHAPES_WITHOUT_EMBREE = {id(shape): _without_embree(shape) for shape in _SHAPES}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_without_embree_the_batch_is_the_definition_and_hits_what_embree_hits(seed):
    """Without Embree (trimesh's triangle intersector) the batched query still gives
    visible_fraction's floats; each ray hits what it hits with Embree, at the same
    distance to within rounding."""
    rng = np.random.default_rng(seed)
    size = (int(rng.integers(24, 120)), int(rng.integers(24, 120)))
    index = int(rng.integers(2))
    cases = [_random_case(rng, size, index, int(rng.integers(index + 1, 4))) for _ in range(int(rng.integers(1, 4)))]
    plain = [([replace(body, mesh=_SHAPES_WITHOUT_EMBREE[id(body.mesh)]) for body in bodies], camera)
             for bodies, camera in cases]
    assert not type(plain[0][0][0].mesh.ray).__module__.endswith("ray_pyembree")
    fractions = [visible_fraction(bodies, camera, index) for bodies, camera in plain]
    for low, high in BANDS:
        assert fractions_in_band(plain, index, low, high) == [f if low <= f <= high else None for f in fractions]
    (bodies, camera), (embree_bodies, _) = plain[0], cases[0]
    origins, directions = box_rays(embree_bodies[index].world_vertices(), camera)
    for body, twin in zip(bodies, embree_bodies):
        found, expected = body.hit_distances(origins, directions), twin.hit_distances(origins, directions)
        hit = np.isfinite(expected)
        assert (np.isfinite(found) == hit).mean() > 0.99  # rays grazing an edge may go either way
        both = hit & np.isfinite(found)
        assert np.allclose(found[both], expected[both], rtol=1e-6, atol=0.0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from([16, 40]))
def test_the_batch_casts_box_rays_rays(seed, grid):
    """The batched query's rays, world and in the target's frame, are box_rays' and
    Body.local_rays' floats, bit for bit (what makes its fractions visible_fraction's)."""
    rng = np.random.default_rng(seed)
    size = (int(rng.integers(24, 200)), int(rng.integers(24, 200)))
    index = int(rng.integers(3))
    cases = [_random_case(rng, size, index, int(rng.integers(index + 1, 6))) for _ in range(int(rng.integers(1, 7)))]
    batch = _Batch.of(cases, index)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pixels = batch.grid(grid)
        sizes = pixels.counts.prod(axis=1)
        directions, owner = pixels.directions(batch.views, sizes)
        local = batch.frame_directions(directions, batch.target, sizes)
    for case, (bodies, camera) in enumerate(cases):
        origins, expected = box_rays(bodies[index].world_vertices(), camera, grid)
        assert np.array_equal(directions[:, owner == case].T, expected)
        local_origins, local_directions = bodies[index].local_rays(origins, expected)
        assert np.array_equal(local[:, owner == case], local_directions)
        assert np.array_equal(np.broadcast_to(batch.eyes[:, batch.target[case], None], local_origins.shape),
                              local_origins)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_image_boxes_give_box_rays_its_floor_and_ceil(seed):
    """From the hull (or every vertex when that is not safe), the image box rounds to the
    box rays box_rays takes from every vertex."""
    rng = np.random.default_rng(seed)
    bodies = _random_bodies(rng, 4)
    cameras = [_random_camera(rng, (160, 120), rng.normal(size=3)) for _ in bodies]
    uv_min, uv_max = image_boxes(bodies, cameras)
    for body, camera, low, high in zip(bodies, cameras, uv_min, uv_max):
        uv = project(body.world_vertices(), camera.K, camera.pose)
        assert np.array_equal(np.floor(low), np.floor(uv.min(axis=0)), equal_nan=True)
        assert np.array_equal(np.ceil(high), np.ceil(uv.max(axis=0)), equal_nan=True)


@given(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4), st.integers(2, 60))
def test_linspace_rows_are_numpys(start, stop, num):
    rows = _linspace(np.array([start, stop, start]), np.array([stop, stop, start]), num)
    for row, (a, b) in zip(rows, [(start, stop), (stop, stop), (start, start)]):
        assert np.array_equal(row, np.linspace(a, b, num))


def test_meets_box_is_false_only_for_rays_that_miss():
    bounds = np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
    origins = np.array([[5.0, 0.0, 0.0], [5.0, 0.0, 0.0], [5.0, 2.0, 0.0], [0.0, 0.0, 0.0], [5.0, 0.5, 0.5]])
    directions = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert meets_box(bounds, origins, directions).tolist() == [True, False, False, True, False]


def test_a_box_seen_edge_on_through_its_corner_pixels():
    """Pixels whose rays graze a box's silhouette: still the same answers."""
    camera = _camera(101)
    target = _box([0.2, 1.0, 1.0], [0.0, 0.0, 0.0])
    for offset in (0.0, 0.25, 0.5, 0.500001, 0.75, 1.0):
        screen = _box([0.02, 1.0, 1.0], [1.0, offset, offset])
        expected = visible_fraction([target, screen], camera, 0)
        assert fractions_in_band([([target, screen], camera)], 0, 0.0, 1.0) == [expected]
