"""Write tiny folders in the layouts of three public asset sets, and a config file for each.

    python examples/assets/make_layouts.py /tmp/layouts

makes (every mesh a small made-up object; only the folder layout and the metadata are
those of the real sets)::

    /tmp/layouts/
      gso/        Google Scanned Objects: one folder per object
        Example_Coffee_Mug/meshes/model.obj + model.mtl   (Z-up, metres; map_Kd texture.png)
        Example_Coffee_Mug/materials/textures/texture.png
        Example_Coffee_Mug/metadata.pbtxt                 (name, categories { first: ... })
        ... 3 mugs ("Bottles and Cans and Cups"), 1 book box ("Media Cases"), 1 shoe (unmapped)
      shapenet/   ShapeNetCore v2
        taxonomy.json                                      [{synsetId, name, children, numInstances}]
        03797390/<id>/models/model_normalized.obj + .mtl   (Y-up, front -Z, unit diagonal)
        ... 3 mugs (03797390), 1 bottle (02876657), 1 can (02946921), 1 chair (03001627, unmapped)
      objaverse/  Objaverse: glbs/000-000/<uid>.glb and annotations.json
        ... 3 mugs (one by-nc), 1 bottle, 1 uid without an annotation (skipped)
      conf/library/gso.yaml, shapenet.yaml, objaverse.yaml   (+library=gso, ...)

Then, e.g.::

    scenegen generate out=/tmp/gso n=8 'hydra.searchpath=[file:///tmp/layouts/conf]' +library=gso

Needs numpy, Pillow and trimesh.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import trimesh

_spec = importlib.util.spec_from_file_location("make_library", Path(__file__).resolve().parent / "make_library.py")
library = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(library)  # the mesh builders and writers of make_library.py

# GSO: folder name -> (the object's name, its Fuel category, geometry category, colours)
GSO = {
    "Example_Coffee_Mug": ("Example Coffee Mug", "Bottles and Cans and Cups", "mug", ((200, 30, 30), (240, 240, 240))),
    "Example_Tea_Mug": ("Example Tea Mug", "Bottles and Cans and Cups", "mug", ((30, 60, 200), (230, 200, 30))),
    "Example_Travel_Mug": ("Example Travel Mug", "Bottles and Cans and Cups", "mug", ((40, 40, 40), (30, 170, 60))),
    "Example_DVD_Case": ("Example DVD Case", "Media Cases", "book", ((20, 20, 20), (200, 40, 160))),
    "Example_Running_Shoe": ("Example Running Shoe", "Shoe", "shoe", ((240, 240, 240), (30, 30, 200))),
}
# ShapeNetCore v2: synset -> (taxonomy name, geometry category, number of models)
SHAPENET = {
    "03797390": ("mug", "mug", 3),
    "02876657": ("bottle", "bottle", 1),
    "02946921": ("can,tin,tin can", "can", 1),
    "03001627": ("chair", "chair", 1),
}
# Objaverse: uid -> annotation (None: no annotation, so the file is skipped)
OBJAVERSE = {
    "mug-cc0": {"category": "mug", "name": "White mug", "license": "cc0", "author": {"username": "alice"}},
    "mug-by": {"category": "mug", "name": "Red mug", "license": "by", "attribution": "Bob Example"},
    "mug-by-nc": {"category": "mug", "name": "Blue mug", "license": "by-nc", "author": {"username": "carol"}},
    "bottle-by": {"category": "bottle", "name": "Green bottle", "license": "by", "author": {"username": "dave"}},
    "unlabelled": None,
}


def uid(text: str) -> str:
    """A 32-hex-digit id (as ShapeNet's model ids and Objaverse's uids are), from ``text``."""
    return hashlib.md5(text.encode()).hexdigest()


def shape(category: str):
    """(vertices, faces, uv) of a small object, Z-up, metres, base on z = 0."""
    if category in ("mug", "bottle", "book"):
        return library.geometry(category)
    if category == "can":  # 12 cm tall, 6.6 cm across
        return library.lathe([(0.0, 0.0), (0.03, 0.0), (0.033, 0.006), (0.033, 0.114), (0.03, 0.12), (0.0, 0.12)])
    if category == "shoe":
        return library.slab(0.28, 0.1, 0.11)
    if category == "chair":
        return library.slab(0.45, 0.45, 0.9)
    raise ValueError(category)


def write_gso(root: Path) -> None:
    for folder, (name, fuel_category, category, colors) in GSO.items():
        meshes, textures = root / folder / "meshes", root / folder / "materials" / "textures"
        meshes.mkdir(parents=True, exist_ok=True)
        textures.mkdir(parents=True, exist_ok=True)
        vertices, faces, uv = shape(category)
        library.write_obj(meshes / "model.obj", vertices, faces, uv, library.texture(colors))
        # the set keeps its texture in materials/textures/, and model.mtl names it `texture.png`
        (meshes / "model.png").replace(textures / "texture.png")
        (meshes / "model.mtl").write_text("newmtl material_0\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nmap_Kd texture.png\n")
        obj = (meshes / "model.obj").read_text().replace("usemtl model", "usemtl material_0")
        (meshes / "model.obj").write_text(obj)
        (root / folder / "metadata.pbtxt").write_text(
            f'name: "{folder}"\nversion: 1\ndescription: "{name}"\n'
            f'categories {{\n  first: "{fuel_category}"\n}}\n'
            'annotations {\n  key: "color"\n  value: "mixed"\n}\n')


def write_shapenet(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    taxonomy = [{"synsetId": synset, "name": name, "children": [], "numInstances": count}
                for synset, (name, _, count) in SHAPENET.items()]
    (root / "taxonomy.json").write_text(json.dumps(taxonomy, indent=1))
    # the object's z (up) -> the file's +y, its front +x -> the file's -z
    rotate = trimesh.transformations.rotation_matrix(math.pi / 2, [0, 1, 0]) @ \
        trimesh.transformations.rotation_matrix(-math.pi / 2, [1, 0, 0])
    for synset, (_, category, count) in SHAPENET.items():
        for i in range(count):
            folder = root / synset / uid(f"{synset}/{i}") / "models"
            folder.mkdir(parents=True, exist_ok=True)
            vertices, faces, _ = shape(category)
            mesh = trimesh.Trimesh(vertices, faces, process=False)
            mesh.apply_translation(-mesh.bounds.mean(axis=0))  # centred
            mesh.apply_scale(1.0 / np.linalg.norm(mesh.extents))  # unit bounding-box diagonal
            mesh.apply_transform(rotate)  # Y-up, front -Z
            kd = 0.2 + 0.6 * (np.arange(3) == i % 3)
            lines = ["mtllib model_normalized.mtl", "usemtl material_0_24"]
            lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices]
            lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces]
            (folder / "model_normalized.obj").write_text("\n".join(lines) + "\n")
            (folder / "model_normalized.mtl").write_text(
                "newmtl material_0_24\nKa 0 0 0\nKd {:.2f} {:.2f} {:.2f}\nKs 0.2 0.2 0.2\nd 1\nillum 2\n".format(*kd))


def write_objaverse(root: Path) -> None:
    folder = root / "glbs" / "000-000"
    folder.mkdir(parents=True, exist_ok=True)
    notes = {}
    colors = [((220, 220, 220), (60, 60, 60)), ((200, 30, 30), (240, 240, 240)), ((30, 60, 200), (240, 240, 240)),
              ((30, 170, 60), (240, 240, 240)), ((128, 128, 128), (0, 0, 0))]
    for (key, note), pair in zip(OBJAVERSE.items(), colors):
        vertices, faces, uv = shape(note["category"] if note else "mug")
        library.write_glb(folder / f"{uid(key)}.glb", vertices, faces, uv, library.texture(pair))
        if note:
            notes[uid(key)] = note
    (root / "annotations.json").write_text(json.dumps(notes, indent=1))


CONFIGS = {
    "gso": ("gso", "    categories:                      # the Fuel categories in metadata.pbtxt\n"
                   "      \"Bottles and Cans and Cups\": mug\n"
                   "      \"Media Cases\": book\n"),
    "shapenet": ("shapenet", "    categories: {mug: mug, bottle: bottle, \"02946921\": can}   # first word, or synset id\n"
                             "    sizes:                           # normalised models: metres, per category\n"
                             "      mug: [0.08, 0.12]\n      bottle: [0.22, 0.32]\n      can: [0.1, 0.14]\n"),
    "objaverse": ("objaverse", "    annotations: annotations.json    # uid -> {category, license, author, name}\n"
                               "    categories: {mug: mug, bottle: bottle}\n"
                               "    sizes: {mug: [0.08, 0.12], bottle: [0.22, 0.32]}   # glTF units are arbitrary\n"),
}


def main(root: Path) -> list[Path]:
    """Write the three libraries and their config files into ``root``; return the config files."""
    root = Path(root).expanduser().resolve()
    write_gso(root / "gso")
    write_shapenet(root / "shapenet")
    write_objaverse(root / "objaverse")
    return [library.write_config(root, name, f"libraries:\n  {name}:\n    path: {root / folder}\n"
                                             f"    layout: {name}\n{extra}")
            for name, (folder, extra) in CONFIGS.items()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="the folder to write into (made if missing)")
    args = parser.parse_args()
    for path in main(args.dir):
        print(path)
