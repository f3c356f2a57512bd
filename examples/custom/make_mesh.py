"""Build ``meshes/vase.ply``: the mesh of this example's own dictionary entry.

A vase 0.30 m tall: a closed surface of revolution about z (foot, round belly, narrow
neck, flared lip, and a hollow 8 mm-walled opening 0.12 m deep), base on z = 0, centred
on the z axis. Written as binary little-endian PLY (float32 vertices, int32 faces) by a
tiny writer, so the bytes are the same on every run and machine.

Run from anywhere::

    python examples/custom/make_mesh.py            # writes examples/custom/meshes/vase.ply
    python examples/custom/make_mesh.py OUT_DIR    # writes OUT_DIR/vase.ply instead

Needs numpy and trimesh (trimesh only checks the result: closed, outward, no slivers).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import trimesh

MESH_DIR = Path(__file__).resolve().parent / "meshes"
SECTIONS = 48  # segments around the axis
HEIGHT, WALL, DEPTH = 0.30, 0.008, 0.12  # metres


def outer_radius(z: float) -> float:
    """Outer radius (metres) at height z: a belly peaking at z = 0.10, a neck at 0.24."""
    belly = 0.085 * math.sin(math.pi * min(z / 0.24, 1.0)) ** 0.8
    neck = 0.030 + 0.012 * max(0.0, (z - 0.24) / 0.06) ** 2  # flares out to the lip
    return max(belly, neck) if z < 0.24 else neck


def profile() -> list[tuple[float, float]]:
    """(radius, z) from the bottom axis point, up the outside, over the lip, down the
    inside to the inner floor's axis point; outwards-then-inwards, so normals face out."""
    outside = [(0.0, 0.0), (0.045, 0.0), (0.045, 0.006)]  # a foot 9 cm wide, 6 mm tall
    outside += [(outer_radius(z), z) for z in np.linspace(0.02, HEIGHT, 29).tolist()]
    top_r = outer_radius(HEIGHT)
    inside = [(top_r - WALL, HEIGHT)]
    for z in np.linspace(HEIGHT - 0.01, HEIGHT - DEPTH, 8).tolist():
        inside.append((outer_radius(z) - WALL, z))
    inside.append((0.0, HEIGHT - DEPTH))
    return outside + inside


def lathe(points: list[tuple[float, float]], sections: int) -> tuple[np.ndarray, np.ndarray]:
    """Revolve a (radius, z) profile whose first and last points lie on the axis into a
    closed mesh: vertices (V, 3) float64 metres, faces (F, 3) int64."""
    ring = [(math.cos(2 * math.pi * j / sections), math.sin(2 * math.pi * j / sections))
            for j in range(sections)]
    vertices = [(0.0, 0.0, points[0][1])]
    for r, z in points[1:-1]:
        vertices += [(r * c, r * s, z) for c, s in ring]
    vertices.append((0.0, 0.0, points[-1][1]))
    rings, last = len(points) - 2, len(vertices) - 1

    def at(i: int, j: int) -> int:
        return 1 + i * sections + j % sections

    faces = [(0, at(0, j + 1), at(0, j)) for j in range(sections)]
    for i in range(rings - 1):
        for j in range(sections):
            a, b, c, d = at(i, j), at(i, j + 1), at(i + 1, j + 1), at(i + 1, j)
            faces += [(a, b, c), (a, c, d)]
    faces += [(at(rings - 1, j), at(rings - 1, j + 1), last) for j in range(sections)]
    return np.array(vertices, dtype=np.float64), np.array(faces, dtype=np.int64)


def write_ply(path: Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    """Binary little-endian PLY, written to a temporary name and then moved in place."""
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        "comment made by scenegen examples/custom/make_mesh.py\n"
        f"element vertex {len(vertices)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    rows = np.zeros(len(faces), dtype=[("n", "u1"), ("idx", "<i4", (3,))])
    rows["n"], rows["idx"] = 3, faces
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(header.encode("ascii") + vertices.astype("<f4").tobytes() + rows.tobytes())
    tmp.replace(path)


def build() -> tuple[np.ndarray, np.ndarray]:
    vertices, faces = lathe(profile(), SECTIONS)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.is_watertight and mesh.is_winding_consistent, "vase: not closed"
    assert mesh.volume > 0, "vase: normals point inwards"
    assert mesh.area_faces.min() > 1e-9, "vase: degenerate faces"
    assert mesh.bounds[0, 2] == 0.0 and abs(mesh.bounds[1, 2] - HEIGHT) < 1e-12
    return vertices, faces


def main(out_dir=None) -> Path:
    """Write ``vase.ply`` into ``out_dir`` (default: ``meshes/`` beside this script)."""
    out = Path(out_dir) if out_dir is not None else MESH_DIR
    out.mkdir(parents=True, exist_ok=True)
    write_ply(out / "vase.ply", *build())
    return out / "vase.ply"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", nargs="?", default=None, help=f"default: {MESH_DIR}")
    print(main(parser.parse_args().out_dir))
