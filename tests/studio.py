"""Hand-built scenes for renderer tests: a plain studio context, one light, a camera
looking at a point, one object (OpenCV camera frame, metres)."""

import math

import numpy as np

from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv
from scenegen.scene.scene import Camera, Context, Light, ObjectInstance, Scene

LIGHT = Light(direction=(1 / math.sqrt(2), 0.0, 1 / math.sqrt(2)), color=(1.0, 1.0, 1.0), intensity=3.0)
STUDIO = Context(name="studio", background=(0.6, 0.6, 0.6), floor_color=(0.5, 0.5, 0.5), floor_size=12.0,
                 walls=False, wall_color=(0.7, 0.7, 0.7), wall_height=3.0, ambient=0.3)


def make_camera(eye, target, width, height, fov_deg=40.0):
    pose = look_at_opencv(eye, target)
    fx, fy, cx, cy = intrinsics_from_fov(math.radians(fov_deg), width, height)
    return Camera(width=width, height=height, fx=fx, fy=fy, cx=cx, cy=cy, world_from_camera=tuple(map(tuple, pose)),
                  target=tuple(map(float, target)), distance=float(np.linalg.norm(np.subtract(eye, target))),
                  azimuth=0.0, elevation=0.0, znear=0.05, zfar=100.0)


def make_object(dictionary, entry, texture="plain", style="", scale=1.0, yaw=0.0, position=(0.0, 0.0, 0.0)):
    return ObjectInstance(entry=entry, category=dictionary[entry].category, position=position, yaw=yaw,
                          scale=scale, color="red", rgb=(0.8, 0.1, 0.1), material="matte", metallic=0.0,
                          roughness=0.9, style=style, texture=texture)


def lone_scene(obj, camera, context=STUDIO, light=LIGHT):
    return Scene(index=0, seed=0, context=context, objects=(obj,), lights=(light,), camera=camera)


def backproject(frame, scene, mask):
    """World points (M, 3) of the masked pixels from the depth layer."""
    v, u = np.nonzero(mask)
    z = frame.depth[v, u].astype(float)
    cam = scene.camera
    points = np.column_stack([(u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z])
    pose = cam.pose
    return points @ pose[:3, :3].T + pose[:3, 3]
