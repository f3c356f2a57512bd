"""Object size in the image, with camera framing off and on (sampling only, no render).

For each scene the target object (the directive's, else the first object) and every
object are projected with the scene's camera: the box of their mesh's vertices (the
amodal box), clipped to the image. Prints the median share of the image area the
target's box covers, the share of target boxes (and of all objects' boxes) whose
shorter side is under 32 pixels, and the sampling time, for framing off and for each
framing asked.

    python benchmarks/bench_framing.py                        # 200 scenes at 384x384
    python benchmarks/bench_framing.py --n 50 --size 512
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from scenegen import load_config
from scenegen.errors import PlacementError
from scenegen.scene.geometry import rotation_about_z
from scenegen.world.sampler import Sampler


def object_box(scene, index: int, dictionary) -> np.ndarray:
    """(u0, v0, u1, v1) pixels: the projected box of object ``index``'s mesh vertices,
    clipped to the image ([-0.5, width - 0.5] by [-0.5, height - 0.5])."""
    obj = scene.objects[index]
    vertices = np.asarray(dictionary[obj.entry].variant(obj.style).mesh().vertices, dtype=float)
    world = vertices * obj.scale @ rotation_about_z(obj.yaw).T + np.asarray(obj.position)
    camera = scene.camera
    camera_from_world = np.linalg.inv(camera.pose)
    cam = world @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
    cam = cam[cam[:, 2] > camera.znear]
    if not len(cam):
        return np.zeros(4)
    uv = (cam @ camera.K.T)[:, :2] / cam[:, 2:3]
    box = np.array([*uv.min(axis=0), *uv.max(axis=0)])
    box[[0, 2]] = np.clip(box[[0, 2]], -0.5, camera.width - 0.5)
    box[[1, 3]] = np.clip(box[[1, 3]], -0.5, camera.height - 0.5)
    return box


def measure(overrides: list, n: int) -> dict:
    sampler = Sampler(load_config(overrides))
    fractions, small_targets, small_all, skipped = [], [], [], 0
    start = time.perf_counter()
    for index in range(n):
        try:
            scene = sampler.sample(index)
        except PlacementError:
            skipped += 1
            continue
        area = scene.camera.width * scene.camera.height
        target = max(scene.target, 0)
        for i in range(len(scene.objects)):
            box = object_box(scene, i, sampler.dictionary)
            side = min(box[2] - box[0], box[3] - box[1])
            small_all.append(side < 32)
            if i == target:
                fractions.append((box[2] - box[0]) * (box[3] - box[1]) / area)
                small_targets.append(side < 32)
    seconds = time.perf_counter() - start
    return {
        "median_target_fraction": float(np.median(fractions)),
        "min_target_fraction": float(np.min(fractions)),
        "targets_under_32px": float(np.mean(small_targets)),
        "objects_under_32px": float(np.mean(small_all)),
        "ms_per_scene": 1000 * seconds / n,
        "skipped": skipped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="scenes per setting")
    parser.add_argument("--size", type=int, default=384, help="image width = height, pixels")
    args = parser.parse_args()
    size = [f"width={args.size}", f"height={args.size}"]
    settings = [
        ("off", []),
        ("target_fraction=0.1", ["camera.framing.target_fraction=0.1"]),
        ("target_fraction=0.25", ["camera.framing.target_fraction=0.25"]),
        ("min_pixels=64", ["camera.framing.min_pixels=64"]),
        ("min_pixels=32 objects=all", ["camera.framing.min_pixels=32", "camera.framing.objects=all"]),
    ]
    print(f"{args.n} scenes at {args.size}x{args.size}, boxes of the mesh vertices projected (amodal)")
    print(f"{'framing':<28} {'median target':>14} {'min target':>11} {'targets <32px':>14} "
          f"{'objects <32px':>14} {'ms/scene':>9} {'skipped':>8}")
    for name, overrides in settings:
        r = measure(size + overrides, args.n)
        print(f"{name:<28} {r['median_target_fraction']:>14.2%} {r['min_target_fraction']:>11.2%} "
              f"{r['targets_under_32px']:>14.1%} {r['objects_under_32px']:>14.1%} {r['ms_per_scene']:>9.1f} "
              f"{r['skipped']:>8}")


if __name__ == "__main__":
    main()
