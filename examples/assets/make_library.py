"""Write a small asset library in the ``generic`` layout, and a config file that adds it.

    python examples/assets/make_library.py /tmp/mylib

makes::

    /tmp/mylib/
      mug/     mug.glb (glTF, Y-up, PBR base-colour texture)   meta.yaml  CC0-1.0
               mug.obj + mug.mtl + mug.png (Z-up, diffuse texture)
               mug.ply (Z-up, vertex colours)
      bottle/  the same three formats                          meta.yaml  CC-BY-4.0
      book/    the same three formats                          meta.yaml  CC-BY-NC-4.0 (non-commercial)
      conf/library/example.yaml   libraries: {example: {path: /tmp/mylib, layout: generic}}

Every file of a category wears the same two-colour look (two horizontal bands: the
lower half one colour, the upper half the other), whichever format carries it, so a
rendered object shows where its look came from. ``conf/`` is not a category folder: it
holds no mesh file. Then::

    scenegen generate out=/tmp/withlib n=8 'hydra.searchpath=[file:///tmp/mylib/conf]' +library=example

Needs numpy, Pillow and trimesh.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

# category -> (its two colours (RGB 0-255), meta.yaml text, geometry)
COLORS = {
    "mug": ((220, 30, 30), (30, 190, 50)),      # red below, green above
    "bottle": ((30, 60, 220), (230, 200, 30)),  # blue below, yellow above
    "book": ((120, 40, 160), (240, 130, 20)),   # purple below, orange above
}
META = {
    "mug": "size: [0.08, 0.12]      # metres: range of the largest extent\n"
           "symmetry: 1\n"
           "license: CC0-1.0\n"
           "attribution: \"scenegen examples (made by make_library.py)\"\n",
    "bottle": "size: [0.22, 0.32]\n"
              "symmetry: 0            # round: any yaw looks the same\n"
              "license: CC-BY-4.0\n"
              "attribution: \"Jane Example\"\n",
    "book": "size: [0.18, 0.26]\n"
            "license: CC-BY-NC-4.0  # NC: generate prints a non-commercial notice\n"
            "attribution: \"A. N. Author\"\n",
}
SECTIONS = 32


def lathe(profile: list[tuple[float, float]], sections: int = SECTIONS):
    """A closed surface of revolution about z with UVs: ``profile`` is (radius, z) from
    a point on the axis at the bottom, up the outside, to a point on the axis at the
    top. Returns vertices (V, 3), faces (F, 3) (outward), uv (V, 2): u around, v = z
    over the height (rings repeat their first vertex at u = 1, a seam)."""
    height = max(z for _, z in profile)
    vertices, uv = [(0.0, 0.0, profile[0][1])], [(0.5, profile[0][1] / height)]
    for r, z in profile[1:-1]:
        for j in range(sections + 1):
            angle = 2 * math.pi * j / sections
            vertices.append((r * math.cos(angle), r * math.sin(angle), z))
            uv.append((j / sections, z / height))
    vertices.append((0.0, 0.0, profile[-1][1]))
    uv.append((0.5, profile[-1][1] / height))
    rings, last, width = len(profile) - 2, len(vertices) - 1, sections + 1

    def at(i: int, j: int) -> int:
        return 1 + i * width + j

    faces = [(0, at(0, j + 1), at(0, j)) for j in range(sections)]
    for i in range(rings - 1):
        for j in range(sections):
            a, b, c, d = at(i, j), at(i, j + 1), at(i + 1, j + 1), at(i + 1, j)
            faces += [(a, b, c), (a, c, d)]
    faces += [(at(rings - 1, j), at(rings - 1, j + 1), last) for j in range(sections)]
    return np.array(vertices), np.array(faces), np.array(uv)


def slab(x: float, y: float, z: float):
    """A box x by y by z metres, base on z = 0, with its own UV square per face (v = the
    face's height share for the side faces, so the bands run horizontally)."""
    box = trimesh.creation.box(extents=(x, y, z))
    box.apply_translation((0, 0, z / 2))
    box.unmerge_vertices()
    vertices, faces = np.asarray(box.vertices), np.asarray(box.faces)
    normals = np.zeros_like(vertices)
    normals[faces.ravel()] = np.repeat(box.face_normals, 3, axis=0)
    uv = np.zeros((len(vertices), 2))
    for axis, (a, b) in enumerate(((1, 2), (0, 2), (0, 1))):
        on = np.abs(normals[:, axis]) > 0.5
        low, span = vertices[:, [a, b]].min(0), np.ptp(vertices[:, [a, b]], axis=0)
        uv[on] = (vertices[on][:, [a, b]] - low) / span
    uv[np.abs(normals[:, 2]) > 0.5, 1] = 1.0  # top and bottom: the upper colour
    return vertices, faces, uv


def geometry(category: str):
    """(vertices, faces, uv) of a category's object, Z-up, metres, base on z = 0."""
    if category == "mug":  # 10 cm tall, 8 cm across
        return lathe([(0.0, 0.0), (0.036, 0.0), (0.040, 0.004), (0.040, 0.05), (0.040, 0.052), (0.040, 0.096),
                      (0.036, 0.1), (0.0, 0.1)])
    if category == "bottle":  # 30 cm: body, shoulder, neck, cap
        return lathe([(0.0, 0.0), (0.036, 0.0), (0.038, 0.005), (0.038, 0.15), (0.038, 0.19),
                      (0.026, 0.22), (0.014, 0.245), (0.014, 0.28), (0.016, 0.285), (0.016, 0.3), (0.0, 0.3)])
    if category == "book":  # lying flat: 24 x 17 x 3 cm
        return slab(0.24, 0.17, 0.03)
    raise ValueError(f"no geometry for {category!r}")


def texture(colors, size: int = 64) -> Image.Image:
    """Two horizontal bands: image rows from the top are v = 1 down to v = 0, so the
    upper half of the image (v > 0.5) is the second colour."""
    image = np.zeros((size, size, 3), np.uint8)
    image[: size // 2], image[size // 2:] = colors[1], colors[0]
    return Image.fromarray(image)


def band(uv: np.ndarray, colors) -> np.ndarray:
    """Per-vertex RGBA colours: the lower colour below v = 0.5, the upper one above."""
    rgb = np.where(uv[:, 1:2] > 0.5, np.array(colors[1]), np.array(colors[0]))
    return np.column_stack([rgb, np.full(len(uv), 255)]).astype(np.uint8)


def write_glb(path: Path, vertices, faces, uv, image: Image.Image) -> None:
    """Binary glTF with a metallic-roughness material whose base colour is ``image``,
    turned Y-up as glTF specifies (the object's z becomes the file's y)."""
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=trimesh.visual.material.PBRMaterial(
        baseColorTexture=image, metallicFactor=0.0, roughnessFactor=0.8))
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, [1, 0, 0]))  # z -> y
    path.write_bytes(mesh.export(file_type="glb"))


def write_obj(path: Path, vertices, faces, uv, image: Image.Image) -> None:
    """Wavefront OBJ (Z-up, metres) + MTL whose diffuse map is a PNG beside it."""
    stem = path.stem
    image.save(path.with_suffix(".png"))
    path.with_suffix(".mtl").write_text(f"newmtl {stem}\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nmap_Kd {stem}.png\n")
    lines = [f"mtllib {stem}.mtl", f"o {stem}"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in uv]
    lines.append(f"usemtl {stem}")
    lines += [f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n")


def write_ply(path: Path, vertices, faces, colors: np.ndarray) -> None:
    """Binary PLY (Z-up, metres) with per-vertex RGBA colours."""
    mesh = trimesh.Trimesh(vertices, faces, vertex_colors=colors, process=False)
    path.write_bytes(mesh.export(file_type="ply"))


def write_config(root: Path, name: str, body: str) -> Path:
    """``root/conf/library/<name>.yaml``: a config group file for ``+library=<name>``."""
    path = root / "conf" / "library" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# @package _global_\n" + body)
    return path


def main(root: Path) -> list[Path]:
    """Write the library into ``root`` (made if missing); return the files written."""
    root = Path(root).expanduser().resolve()
    written = []
    for category, colors in COLORS.items():
        folder = root / category
        folder.mkdir(parents=True, exist_ok=True)
        vertices, faces, uv = geometry(category)
        image = texture(colors)
        write_glb(folder / f"{category}.glb", vertices, faces, uv, image)
        write_obj(folder / f"{category}.obj", vertices, faces, uv, image)
        write_ply(folder / f"{category}.ply", vertices, faces, band(uv, colors))
        (folder / "meta.yaml").write_text(META[category])
        written += sorted(p for p in folder.iterdir() if p.is_file())
    written.append(write_config(root, "example", (
        "# the generic-layout library written by examples/assets/make_library.py\n"
        f"libraries:\n  example:\n    path: {root}\n    layout: generic\n")))
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="the library's folder (made if missing)")
    args = parser.parse_args()
    for path in main(args.dir):
        print(path)
