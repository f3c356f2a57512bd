"""Build the shipped example meshes ``meshes/bottle.ply`` and ``meshes/mug.ply``.

* bottle: a closed surface of revolution about z (body, shoulder, neck, lip, with a
  short recessed mouth), base on z = 0, 0.30 m tall, 0.08 m wide.
* mug: a cup (wall 5 mm thick, 8 mm bottom) 0.10 m tall, 0.09 m wide, plus a
  half-ring handle sticking out along +y whose ends are buried in the wall; base on
  z = 0. The two closed parts are simply concatenated.

Both are watertight, outward-facing, with no degenerate faces, and are written as
binary little-endian PLY (float32 vertices, int32 faces) by a tiny writer here, so
the bytes are deterministic and do not depend on trimesh's exporter.

Regenerate (from the repository root)::

    python assets/make_meshes.py            # writes assets/meshes/
    python assets/make_meshes.py OUT_DIR    # writes OUT_DIR/ instead

Needs only numpy and trimesh (trimesh is used to check the result).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import trimesh

MESH_DIR = Path(__file__).resolve().parent / "meshes"

SHOULDER_STEPS = 16  # profile segments of the bottle's shoulder


def bottle_side(k: float) -> tuple[float, float]:
    """(radius, z) in metres of the bottle's side at shoulder step ``k``: the straight
    body up to k = 0 (radius 0.040, z 0.190); the shoulder, half a cosine, level at both
    ends, up to k = SHOULDER_STEPS (radius 0.0135, z 0.250); then the straight neck.
    Body, shoulder and neck are one smooth surface."""
    t = min(max(k / SHOULDER_STEPS, 0.0), 1.0)
    return (0.0135 + 0.0265 * (1 + math.cos(math.pi * t)) / 2, 0.190 + 0.060 * k / SHOULDER_STEPS)


# Profiles are (radius, z) in metres, from the bottom axis point to the top axis point.
BOTTLE_PROFILE = (
    [(0.0, 0.0), (0.036, 0.0), (0.040, 0.004)]
    # a vertex's normal is the mean of its faces': the rings one step below and above
    # the shoulder keep the tilt of its first and last faces off the long body and neck
    + [bottle_side(k) for k in range(-1, SHOULDER_STEPS + 2)]
    + [(0.0135, 0.283), (0.0165, 0.285), (0.0165, 0.298), (0.0150, 0.300)]
    + [(0.0105, 0.300), (0.0105, 0.285), (0.0, 0.285)]  # mouth, recessed 15 mm
)
CUP_RADIUS, CUP_HEIGHT, CUP_WALL, CUP_BOTTOM = 0.045, 0.100, 0.005, 0.008
CUP_PROFILE = [
    (0.0, 0.0),
    (CUP_RADIUS - 0.002, 0.0),
    (CUP_RADIUS, 0.002),
    (CUP_RADIUS, CUP_HEIGHT),
    (CUP_RADIUS - CUP_WALL, CUP_HEIGHT),
    (CUP_RADIUS - CUP_WALL, CUP_BOTTOM),
    (0.0, CUP_BOTTOM),
]
HANDLE_CENTRE_Z, HANDLE_RADIUS, HANDLE_TUBE = 0.055, 0.032, 0.006


def _circle(n: int) -> list[tuple[float, float]]:
    # math.cos/sin rather than numpy's SIMD versions: the same bits on every machine
    return [(math.cos(2 * math.pi * j / n), math.sin(2 * math.pi * j / n)) for j in range(n)]


def lathe(profile: list[tuple[float, float]], sections: int) -> tuple[np.ndarray, np.ndarray]:
    """Revolve a (radius, z) profile about z into a closed mesh.

    The first and last profile points must lie on the axis (radius 0); each becomes
    one vertex with a triangle fan, so no face is degenerate. A profile running
    outwards along the bottom and back inwards along the top gives outward normals.

    Returns:
        vertices (V, 3) float64 metres and faces (F, 3) int64.
    """
    assert profile[0][0] == 0 and profile[-1][0] == 0, "profile must start and end on the axis"
    assert all(r > 0 for r, _ in profile[1:-1])
    ring = _circle(sections)
    vertices = [(0.0, 0.0, profile[0][1])]
    for r, z in profile[1:-1]:
        vertices += [(r * c, r * s, z) for c, s in ring]
    vertices.append((0.0, 0.0, profile[-1][1]))
    n_rings, top = len(profile) - 2, len(vertices) - 1

    def at(i: int, j: int) -> int:  # vertex of ring i (0-based over inner points)
        return 1 + i * sections + j % sections

    faces = [(0, at(0, j + 1), at(0, j)) for j in range(sections)]
    for i in range(n_rings - 1):
        for j in range(sections):
            a, b, c, d = at(i, j), at(i, j + 1), at(i + 1, j + 1), at(i + 1, j)
            faces += [(a, b, c), (a, c, d)]
    faces += [(at(n_rings - 1, j), at(n_rings - 1, j + 1), top) for j in range(sections)]
    return np.array(vertices, dtype=np.float64), np.array(faces, dtype=np.int64)


def handle(segments: int = 24, sections: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A half ring in the yz plane bulging along +y, a closed tube with flat end caps.

    Its centre line is a half circle of radius HANDLE_RADIUS about (0, y0, z0) with y0
    in the middle of the cup wall, so both capped ends sit inside the wall.
    """
    y0 = CUP_RADIUS - CUP_WALL / 2
    ring = _circle(sections)
    centres, vertices = [], []
    for k in range(segments + 1):
        phi = -math.pi / 2 + math.pi * k / segments
        u = (0.0, math.cos(phi), math.sin(phi))  # radial direction of the centre line
        centre = (0.0, y0 + HANDLE_RADIUS * u[1], HANDLE_CENTRE_Z + HANDLE_RADIUS * u[2])
        centres.append(centre)
        # tube cross-section spanned by u and the x axis
        t = HANDLE_TUBE
        vertices += [(t * s, centre[1] + t * c * u[1], centre[2] + t * c * u[2]) for c, s in ring]
    first, last = len(vertices), len(vertices) + 1
    vertices += [centres[0], centres[-1]]

    def at(k: int, j: int) -> int:
        return k * sections + j % sections

    faces = []
    for k in range(segments):
        for j in range(sections):
            a, b, c, d = at(k, j), at(k, j + 1), at(k + 1, j + 1), at(k + 1, j)
            faces += [(a, c, b), (a, d, c)]
    faces += [(first, at(0, j), at(0, j + 1)) for j in range(sections)]
    faces += [(last, at(segments, j + 1), at(segments, j)) for j in range(sections)]
    return np.array(vertices, dtype=np.float64), np.array(faces, dtype=np.int64)


def concatenate(*meshes: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    vertices, faces, offset = [], [], 0
    for v, f in meshes:
        vertices.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.concatenate(vertices), np.concatenate(faces)


def check(vertices: np.ndarray, faces: np.ndarray, name: str, on_ground: bool = True) -> None:
    """Fail loudly unless the mesh is closed, outward-facing and non-degenerate."""
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.is_watertight and mesh.is_winding_consistent, f"{name}: not closed"
    assert mesh.volume > 0, f"{name}: normals point inwards"
    assert mesh.area_faces.min() > 1e-9, f"{name}: degenerate faces"
    assert not on_ground or mesh.bounds[0, 2] == 0, f"{name}: base not on z = 0"


def write_ply(path: Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    """Binary little-endian PLY: float32 x, y, z and uchar-counted int32 triangles."""
    header = (
        "ply\n"
        "format binary_little_endian 1.0\n"
        "comment made by scenegen assets/make_meshes.py\n"
        f"element vertex {len(vertices)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        f"element face {len(faces)}\n"
        "property list uchar int vertex_indices\n"
        "end_header\n"
    )
    face_rows = np.zeros(len(faces), dtype=[("n", "u1"), ("idx", "<i4", (3,))])
    face_rows["n"] = 3
    face_rows["idx"] = faces
    data = header.encode("ascii") + vertices.astype("<f4").tobytes() + face_rows.tobytes()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def build() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The meshes by file name: (vertices (V, 3) metres, faces (F, 3))."""
    cup = lathe(CUP_PROFILE, sections=64)
    check(*cup, "mug cup")
    handle_mesh = handle()
    check(*handle_mesh, "mug handle", on_ground=False)
    meshes = {
        "bottle.ply": lathe(BOTTLE_PROFILE, sections=64),
        "mug.ply": concatenate(cup, handle_mesh),
    }
    for name, mesh in meshes.items():
        check(*mesh, name)
    return meshes


def main(out_dir=None) -> list[Path]:
    """Write the meshes into ``out_dir`` (default: ``meshes/`` beside this script)."""
    out = Path(out_dir) if out_dir is not None else MESH_DIR
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (vertices, faces) in build().items():
        write_ply(out / name, vertices, faces)
        written.append(out / name)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", nargs="?", default=None, help=f"default: {MESH_DIR}")
    for written_path in main(parser.parse_args().out_dir):
        print(written_path)
