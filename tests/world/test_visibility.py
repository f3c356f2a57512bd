"""Ray-cast visibility estimates on boxes whose visible fractions are known exactly."""

import numpy as np
import pytest
import trimesh

from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv
from scenegen.scene.scene import Camera
from scenegen.world.visibility import visible_fraction


def _camera(size: int = 200) -> Camera:
    """Looking down the -x axis at the origin from x = 10 m, narrow field of view."""
    fx, fy, cx, cy = intrinsics_from_fov(np.radians(20.0), size, size)
    pose = look_at_opencv([10.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    return Camera(width=size, height=size, fx=fx, fy=fy, cx=cx, cy=cy,
                  world_from_camera=tuple(map(tuple, pose)), target=(0.0, 0.0, 0.0), distance=10.0,
                  azimuth=0.0, elevation=0.0, znear=0.05, zfar=100.0)


def _box(extents, centre):
    mesh = trimesh.creation.box(extents=extents)
    return np.asarray(mesh.vertices) + centre, np.asarray(mesh.faces)


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
