"""Ray-cast visibility estimates on boxes whose visible fractions are known exactly."""

import numpy as np
import pytest
import trimesh

from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv
from scenegen.scene.scene import Camera
from scenegen.world.visibility import Body, box_body, box_rays, visible_fraction


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
