"""The same labelled scenes through scenegen and through Blender (Workbench, Cycles), one run.

scenegen samples N scenes per image size and look (``preset=flat``, the default, and
``preset=realistic``: environment-map lighting, tone mapping, camera effects); the very
same Scene records (same config, same seed) are rendered

  * by scenegen: ``SceneWorker.write`` per scene, as ``scenegen generate`` does (sample,
    render every layer: RGB, depth, instances, semantic, parts, amodal masks, normals;
    labels; PNG and JSON files), and the whole ``scenegen generate`` process;
  * by Blender (pip ``bpy``, Blender as a Python module, a benchmark-only dependency),
    in a subprocess running this script with ``--blender-worker``: per scene it clears
    the previous scene's objects, builds the objects (cached mesh datablocks of each
    shape, cached materials), floor and walls (``context_boxes``), sun lights, camera and
    world, renders and writes what a labelled image needs:

      - Workbench (``BLENDER_WORKBENCH``, studio lighting, anti-aliasing ``--workbench-aa``,
        default 8 samples as Blender's render default; ``OFF`` or ``FXAA`` is about 8x
        cheaper):
        RGB and the Z (depth) pass in one multi-layer EXR; Workbench has no Object Index
        or Cryptomatte pass, so the instance ids come from a second Workbench pass
        (flat lighting, object colours encoding id = R + 256 G, no anti-aliasing, no
        dithering, ``Raw`` view transform) written as an 8-bit PNG;
      - Cycles (CPU, ``--spp`` samples, no denoising unless ``--denoise`` (on 2 cores
        OpenImageDenoise doubles the time of a 320x240 frame: without it Cycles is as
        fast as it gets, so the ratios are the least favourable to scenegen), Blender's
        defaults otherwise: adaptive sampling, 12 bounces): RGB, the Z pass and the
        Object Index pass (``pass_index`` = instance id) in one multi-layer EXR.

Figures: ms per labelled scene (after warm-up: scenegen writes ``--warmup`` other
scenes first, 90 by default: a process's first scenes draw the dictionary's shapes and
textures for the first time, and after about 90 a new scene costs what a repeated one
does, so each round, its first too, measures a long run's steady state; Blender's first
scene, which compiles shaders or loads kernels, is left out of its mean) and seconds of
the whole process for N scenes (start-up included on both sides: ``scenegen generate n=N`` against the Blender worker process given the N scenes),
each the best of ``--rounds``, and their ratios Blender / scenegen. The rounds alternate
(scenegen's round, then each engine's), so that a change of the machine's load falls on
both sides alike; the ratio of each round is printed too.

What Blender gets ready-made: the worker reads the scenes as JSON records with their
meshes (vertices, faces, vertex normals: ``meshes.npz``) and environment maps (``.npy``)
exported by this script outside every clock, so it never pays for scenegen's world
compilation, sampling or mesh building. Not drawn in Blender: camera effects (noise,
white balance, JPEG, depth of field, motion blur, vignetting), procedural textures
(plain base colours), and the realistic background shows the map without its key light
(the key light is a sun lamp, as in scenegen). Workbench ignores lamps and world
lighting: both looks use its studio lighting (the realistic one with Khronos PBR Neutral
tone mapping, as scenegen's). Blender's sun strength is the scene light's intensity.

Alignment check: the Blender instance masks of the last round against scenegen's
instance image (``Renderer.render(scene).instances``): mean IoU per object (objects in
either mask), over the scenes, and the median |depth difference| where both see a
surface.

    python benchmarks/bench_blender.py                       # 30 scenes, 320x240 and 640x480
    python benchmarks/bench_blender.py --engines cycles --spp 16 --scenegen render.engine=pathtraced render.spp=16
    python benchmarks/bench_blender.py --n 5 --sizes 320x240 --rounds 1
    python benchmarks/bench_blender.py --sizes 256x256 512x512 --engines workbench
    python benchmarks/bench_blender.py --blender-python /tmp/bpyvenv/bin/python

``pip install bpy`` (Blender 4.x/5.x wheels need Python 3.11; bpy 5.0 pins NumPy < 2,
which scenegen does not run on: ``--blender-python`` may name the interpreter of a
separate environment holding bpy, default this one).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ENGINES = {"workbench": "BLENDER_WORKBENCH", "cycles": "CYCLES"}
CONTEXT_LOOK = (0.0, 0.9)  # (metallic, roughness) of floor and walls, as scenegen's
ZERO_DEPTH_BEYOND = 1e9  # metres: Blender's Z pass holds 1e10 where no surface is
SENSOR_WIDTH = 36.0  # mm, Blender camera sensor width (horizontal fit)


# ----------------------------------------------------------------------------------------
# scenegen side: scenes, their export for Blender, scenegen's own timings


def parse_size(text: str) -> tuple[int, int]:
    """``"640x480"`` -> (width, height) pixels."""
    width, _, height = text.lower().partition("x")
    return int(width), int(height or width)


SCENEGEN_OVERRIDES: list[str] = []  # --scenegen: more overrides of every scenegen config and generate command


def scenegen_config(size: tuple[int, int], preset: str, extra=()):
    import scenegen

    return scenegen.load_config([f"width={size[0]}", f"height={size[1]}", f"preset={preset}", *extra,
                                 *SCENEGEN_OVERRIDES])


def sample_scenes(cfg, n: int) -> list:
    """Scenes 0..n-1 of ``cfg`` (those the grammar can place; the others are skipped, as
    ``scenegen generate`` skips them)."""
    import scenegen

    sampler, scenes = scenegen.Sampler(cfg), []
    for index in range(n):
        try:
            scenes.append(sampler.sample(index))
        except scenegen.PlacementError:
            continue
    return scenes


def look_groups(obj, variant) -> tuple[np.ndarray, list[tuple]]:
    """Per face of ``variant.mesh()``, the index (F,) int32 of its look group, and each
    group's (linear rgb (3,), metallic, roughness): the object's own look first, then
    each part look (a ``PartLook``) in part order, as scenegen's renderer groups them."""
    looks, groups = [], []
    for part in variant.parts:
        if part.look not in looks:
            looks.append(part.look)
        groups.append(np.full(len(part.mesh.faces), looks.index(part.look), dtype=np.int32))
    order = sorted(range(len(looks)), key=lambda k: looks[k] is not None)  # own look first
    remap = np.argsort(order).astype(np.int32)
    materials = []
    for k in order:
        look = looks[k]
        rgb = obj.rgb if look is None or look.rgb is None else look.rgb
        finish = (obj.metallic, obj.roughness) if look is None or look.finish is None else look.finish
        materials.append(([float(v) for v in rgb], float(finish[0]), float(finish[1])))
    return remap[np.concatenate(groups)], materials


def mesh_arrays(variant, groups: np.ndarray) -> dict[str, np.ndarray]:
    """The triangle mesh scenegen draws for ``variant`` (canonical units, base at z = 0):
    vertices (V, 3) float32, faces (F, 3) int32, vertex normals (V, 3) float32 and the
    faces' look groups (F,) int32."""
    mesh = variant.mesh()
    return {"v": np.asarray(mesh.vertices, dtype=np.float32), "f": np.asarray(mesh.faces, dtype=np.int32),
            "n": np.asarray(mesh.vertex_normals, dtype=np.float32), "g": groups}


def camera_record(camera) -> dict:
    """The scene's OpenCV camera: intrinsics (pixels), size, clip planes (metres) and
    ``world_from_camera`` (4, 4)."""
    return {"fx": camera.fx, "fy": camera.fy, "cx": camera.cx, "cy": camera.cy, "width": camera.width,
            "height": camera.height, "znear": camera.znear, "zfar": camera.zfar,
            "world_from_camera": camera.pose.tolist()}


def blender_layout(radiance: np.ndarray) -> np.ndarray:
    """scenegen's equirectangular map (H, 2H, 3) (row 0 at the zenith, column c at
    azimuth 2 pi (c + 0.5) / W from +x towards +y) as Blender's Environment Texture reads
    it: rows bottom-up, column j at azimuth 2 pi (0.5 - (j + 0.5) / W)."""
    height, width = radiance.shape[:2]
    columns = (width // 2 - 1 - np.arange(width)) % width
    return np.ascontiguousarray(radiance[::-1][:, columns], dtype=np.float32)


def environment_record(scene, folder: Path, exported: dict) -> dict | None:
    """The scene's environment for Blender: the map without its key light (the key light
    is a Scene light) saved once per map as ``env_<name>.npy`` (Blender layout), its
    radiance scale, rotation about z (radians) and exposure (stops)."""
    from scenegen.world.environments import EnvironmentSet

    env = scene.environment
    if env is None:
        return None
    key = (env.source, env.name)
    if key not in exported:
        maps = EnvironmentSet.load(env.source)
        lighting = maps.lighting(env.name)
        path = folder / f"env_{len(exported)}.npy"
        np.save(path, blender_layout(np.asarray(lighting.sky)))
        exported[key] = (path.name, float(lighting.up_irradiance))
    name, up_irradiance = exported[key]
    return {"map": name, "scale": env.intensity / up_irradiance, "rotation": env.rotation,
            "exposure": env.exposure}


def scene_record(scene, world, meshes: dict, folder: Path, maps: dict) -> dict:
    """One scene as plain data for the Blender worker; new meshes go into ``meshes``
    (key -> arrays of :func:`mesh_arrays`), new maps into ``folder``."""
    from scenegen.render.graph import context_boxes

    objects = []
    for index, obj in enumerate(scene.objects):
        variant = world.dictionary[obj.entry].variant(obj.style)
        groups, materials = look_groups(obj, variant)
        key = f"{obj.entry}|{variant.style}"
        if key not in meshes:
            meshes[key] = mesh_arrays(variant, groups)
        pose = obj.world_from_object() @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])
        objects.append({"id": index + 1, "mesh": key, "matrix": pose.tolist(), "materials": materials})
    context = scene.context
    boxes = [{"extents": list(extents), "matrix": pose.tolist(),
              "rgb": list(context.wall_color if is_wall else context.floor_color)}
             for extents, pose, is_wall in context_boxes(scene)]
    lights = [{"direction": list(light.direction), "color": list(light.color), "intensity": light.intensity,
               "shadows": bool(light.shadows)} for light in scene.lights]
    return {"index": scene.index, "objects": objects, "boxes": boxes, "lights": lights,
            "camera": camera_record(scene.camera), "background": list(context.background),
            "ambient": context.ambient, "environment": environment_record(scene, folder, maps)}


def export_scenes(cfg, scenes: list, folder: Path) -> list[Path]:
    """Write ``scene_<i>.json`` per scene and ``meshes.npz`` into ``folder``; the JSON paths."""
    import scenegen

    world = scenegen.World.of(cfg)
    meshes, maps, paths = {}, {}, []
    for scene in scenes:
        path = folder / f"scene_{scene.index:06d}.json"
        path.write_text(json.dumps(scene_record(scene, world, meshes, folder, maps)))
        paths.append(path)
    keys = sorted(meshes)
    arrays = {f"{k}_{name}": array for k, key in enumerate(keys) for name, array in meshes[key].items()}
    np.savez(folder / "meshes.npz", keys=np.array(keys), **arrays)
    return paths


class ScenegenRounds:
    """``SceneWorker.write`` over scenes 0..n-1 of one size and look, a round at a time
    (after ``warmup`` other scenes), so that its rounds can alternate with Blender's: a
    change of the machine's load then falls on both sides alike.

    Each round writes new files, as each of Blender's rounds does into its own folder:
    the warm-up's and each round's folder are moved aside when they are done (renamed
    ``<out>_warmup``, ``<out>_round<r>``, not deleted). Writing over the files of the
    round before would measure the file system instead: on an ext4 without a journal
    (this project's machines) a new inode is looked for past every inode freed recently
    (5 s, or 5 minutes while the block of the inode table holding it is not yet written
    back: the kernel's ``recently_deleted``), and a file that replaces another frees
    one. Measured (``atomic_write_bytes`` of 20 kB into 7 folders, 30 files each, four
    rounds 0.5 s apart): 80 us a new file in new folders each round; 80, 160, 240,
    240 us over the same files; 300-500 us in new folders within minutes of deleting a
    few thousand files. scenegen writes 7 files a scene, Blender 2: the end of the run
    deletes the work folder, so runs of this benchmark should be 5 minutes apart (it
    prints the cost of a new file at its start and end)."""

    def __init__(self, size, preset: str, n: int, warmup: int, out: Path):
        from scenegen import SceneWorker

        self.n = n
        self.out = out
        self.done = 0
        self.worker = SceneWorker(scenegen_config(size, preset, [f"out={out}", f"n={n}"]))
        for index in range(warmup):
            self.worker.write(n + index)
        self.worker.flush()
        self._set_aside("warmup")

    def round(self) -> float:
        """Seconds per scene of one round (files flushed at its end), into a folder
        with no files of an earlier round."""
        start = time.perf_counter()
        for index in range(self.n):
            self.worker.write(index)
        self.worker.flush()
        seconds = (time.perf_counter() - start) / self.n
        self._set_aside(f"round{self.done}")
        self.done += 1
        return seconds

    def _set_aside(self, name: str) -> None:
        """Rename the output folder (where it was made) to ``<out>_<name>``."""
        if self.out.exists():
            self.out.rename(self.out.with_name(f"{self.out.name}_{name}"))

    def close(self) -> None:
        self.worker.close()


def new_file_us(folder: Path, folders: int = 7, files: int = 10) -> float:
    """Microseconds per new 20 kB file written with scenegen's atomic writes into
    ``folders`` new folders under ``folder`` (kept, not deleted): the file system's share
    of a scene's cost, which the state of an ext4 without a journal changes (see
    :class:`ScenegenRounds`)."""
    from scenegen.fileio import atomic_write_bytes

    data = bytes(range(256)) * 80
    start = time.perf_counter()
    for index in range(files):
        for k in range(folders):
            atomic_write_bytes(folder / str(k) / f"{index:06d}.png", data)
    return 1e6 * (time.perf_counter() - start) / (folders * files)


def scenegen_whole(size, preset: str, n: int, out: Path) -> tuple[float, str | None]:
    """(wall seconds, None) of a ``scenegen generate n=N`` process (fresh output
    folder), or (NaN, the last line of its error output) when it fails."""
    command = [sys.executable, "-m", "scenegen", "generate", f"n={n}", f"out={out}", f"width={size[0]}",
               f"height={size[1]}", f"preset={preset}", "progress=false", *SCENEGEN_OVERRIDES]
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        return float("nan"), lines[-1]
    return time.perf_counter() - start, None


def run_worker(python: str, engine: str, scenes: list[Path], out: Path, args, labels: bool) -> tuple[float, dict]:
    """Run the Blender worker on ``scenes``; (wall seconds of the process, its report).
    With ``labels`` it also saves its ids and depth as ``labels_<i>.npz`` after its
    clock stops, and that time (``dump_s``) is taken off the wall time."""
    out.mkdir(parents=True, exist_ok=True)
    report = out / "report.json"
    command = [python, str(Path(__file__).resolve()), "--blender-worker", "--engine", engine, "--out", str(out),
               "--spp", str(args.spp), "--threads", str(args.threads), "--report", str(report),
               "--workbench-aa", args.workbench_aa, *(["--labels"] if labels else []),
               *(["--denoise"] if args.denoise else []), *map(str, scenes)]
    start = time.perf_counter()
    with open(out / "worker.log", "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = (out / "worker.log").read_text()[-3000:]
        raise RuntimeError(f"Blender worker failed ({done.returncode}):\n{tail}")
    result = json.loads(report.read_text())
    return wall - result.get("dump_s", 0.0), result


def alignment(cfg, scenes: list, labels: Path) -> tuple[float, int, float]:
    """(mean IoU per object, objects counted, median |depth difference| in metres) of
    the Blender labels in ``labels`` against scenegen's instance and depth images."""
    import scenegen

    world = scenegen.World.of(cfg)
    ious, errors = [], []
    with scenegen.Renderer(world.dictionary) as renderer:
        for scene in scenes:
            frame = renderer.render(scene)
            found = np.load(labels / f"labels_{scene.index:06d}.npz")
            ids, depth = found["ids"], found["depth"]
            for k in range(1, len(scene.objects) + 1):
                ours, theirs = frame.instances == k, ids == k
                union = np.count_nonzero(ours | theirs)
                if union:
                    ious.append(np.count_nonzero(ours & theirs) / union)
            both = (frame.depth > 0) & (depth > 0)
            errors.append(np.abs(frame.depth[both] - depth[both]))
    return float(np.mean(ious)), len(ious), float(np.median(np.concatenate(errors)))


# ----------------------------------------------------------------------------------------
# Blender side (the --blender-worker process): only numpy, bpy and the exported records


def setup_render(bpy, engine: str, camera: dict, spp: int, threads: int, denoise: bool = False, aa: str = "8"):
    """An empty Blender scene set up for ``engine`` at the camera's image size: passes
    (Z; Object Index for Cycles), multi-layer 32-bit EXR output, CPU threads; Cycles'
    samples per pixel and denoising, Workbench's anti-aliasing ``aa``."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    render = scene.render
    render.engine = ENGINES[engine]
    render.resolution_x, render.resolution_y, render.resolution_percentage = camera["width"], camera["height"], 100
    if threads > 0:
        render.threads_mode, render.threads = "FIXED", threads
    layer = scene.view_layers[0]
    layer.use_pass_z = True
    if engine == "cycles":
        scene.cycles.device, scene.cycles.samples, scene.cycles.use_denoising = "CPU", spp, denoise
        layer.use_pass_object_index = True
    else:
        shading = scene.display.shading
        shading.light, shading.color_type, scene.display.render_aa = "STUDIO", "MATERIAL", aa
    set_exr_output(scene)
    scene.world = bpy.data.worlds.new("world")
    return scene


def set_exr_output(scene) -> None:
    settings = scene.render.image_settings
    settings.media_type, settings.file_format, settings.color_depth = "MULTI_LAYER_IMAGE", "OPEN_EXR_MULTILAYER", "32"


def set_png_output(scene) -> None:
    settings = scene.render.image_settings
    settings.media_type, settings.file_format = "IMAGE", "PNG"
    settings.color_mode, settings.color_depth = "RGB", "8"


def make_mesh(bpy, name: str, arrays: dict):
    """A Blender mesh of ``arrays`` (:func:`mesh_arrays`), smooth-shaded with scenegen's
    vertex normals, one material slot per look group."""
    vertices, faces, normals = arrays["v"], arrays["f"], arrays["n"]
    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(len(vertices))
    mesh.vertices.foreach_set("co", vertices.ravel())
    mesh.loops.add(faces.size)
    mesh.loops.foreach_set("vertex_index", faces.ravel())
    mesh.polygons.add(len(faces))
    mesh.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    mesh.polygons.foreach_set("material_index", arrays["g"])
    mesh.update()
    mesh.shade_smooth()
    mesh.normals_split_custom_set_from_vertices(normals.tolist())
    for _ in range(int(arrays["g"].max()) + 1):
        mesh.materials.append(None)
    return mesh


def make_box(bpy):
    """A unit cube mesh (side 1, centred), flat-shaded, one material slot."""
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)], np.float32)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    mesh = bpy.data.meshes.new("box")
    mesh.from_pydata(corners.tolist(), [], quads)
    mesh.materials.append(None)
    return mesh


def material(bpy, cache: dict, rgb, metallic: float, roughness: float):
    """The (cached) material of linear ``rgb`` (3,), metallic and roughness in [0, 1]:
    its viewport values (Workbench) and its Principled BSDF (Cycles)."""
    key = (tuple(round(c, 6) for c in rgb), round(metallic, 6), round(roughness, 6))
    found = cache.get(key)
    if found is None:
        found = cache[key] = bpy.data.materials.new(f"m{len(cache)}")
        found.diffuse_color, found.metallic, found.roughness = (*rgb, 1.0), metallic, roughness
        bsdf = found.node_tree.nodes.get("Principled BSDF")
        bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
        bsdf.inputs["Metallic"].default_value = metallic
        bsdf.inputs["Roughness"].default_value = roughness
    return found


def id_colour(index: int) -> tuple[float, float, float, float]:
    """Object colour encoding instance id ``index`` (< 65536) as 8-bit R + 256 G."""
    return (index % 256 / 255.0, index // 256 / 255.0, 0.0, 1.0)


def add_object(bpy, scene, name: str, mesh, matrix, materials: list, index: int):
    """Link an object of ``mesh`` at (4, 4) ``matrix`` with object-level ``materials``
    (one per slot) and instance id ``index`` (0: floor and walls)."""
    from mathutils import Matrix

    obj = bpy.data.objects.new(name, mesh)
    scene.collection.objects.link(obj)
    obj.matrix_world = Matrix(matrix)
    for slot, mat in zip(obj.material_slots, materials):
        slot.link, slot.material = "OBJECT", mat
    obj.pass_index, obj.color = index, id_colour(index)
    return obj


def add_sun(bpy, scene, light: dict, name: str):
    """A sun lamp shining from ``light["direction"]`` (from the scene towards the light)."""
    from mathutils import Vector

    data = bpy.data.lights.new(name, "SUN")
    data.energy, data.color, data.use_shadow = light["intensity"], light["color"], light["shadows"]
    obj = bpy.data.objects.new(name, data)
    scene.collection.objects.link(obj)
    obj.rotation_euler = Vector(light["direction"]).to_track_quat("Z", "Y").to_euler()  # lamp's +z towards it
    return obj


def add_camera(bpy, scene, camera: dict):
    """A Blender camera matching the OpenCV one: pose with y and z flipped, focal length
    from fx (horizontal sensor fit), principal point as lens shift (units of the image
    width; OpenCV pixel centres at integers, Blender's at + 0.5)."""
    from mathutils import Matrix

    width, height = camera["width"], camera["height"]
    data = bpy.data.cameras.new("camera")
    data.sensor_fit, data.sensor_width = "HORIZONTAL", SENSOR_WIDTH
    data.lens = camera["fx"] * SENSOR_WIDTH / width
    data.shift_x = (width / 2 - (camera["cx"] + 0.5)) / width
    data.shift_y = ((camera["cy"] + 0.5) - height / 2) / width
    data.clip_start, data.clip_end = camera["znear"], camera["zfar"]
    scene.render.pixel_aspect_x, scene.render.pixel_aspect_y = 1.0, camera["fx"] / camera["fy"]
    obj = bpy.data.objects.new("camera", data)
    scene.collection.objects.link(obj)
    obj.matrix_world = Matrix((np.array(camera["world_from_camera"]) @ np.diag([1.0, -1.0, -1.0, 1.0])).tolist())
    scene.camera = obj
    return obj


def environment_image(bpy, cache: dict, folder: Path, name: str):
    """The (cached) float image of exported map ``name`` (Blender layout)."""
    found = cache.get(name)
    if found is None:
        pixels = np.load(folder / name)
        height, width = pixels.shape[:2]
        rgba = np.concatenate([pixels, np.ones((height, width, 1), np.float32)], axis=2)
        found = cache[name] = bpy.data.images.new(name, width, height, alpha=True, float_buffer=True)
        found.pixels.foreach_set(rgba.ravel())
        found.pack()  # keep the pixels: the image has no file
    return found


def set_world(bpy, scene, record: dict, images: dict, folder: Path) -> None:
    """World lighting and colour management: the environment map turned by its
    rotation, scaled, with Khronos PBR Neutral tone mapping and the exposure; or
    (flat look) the ambient grey lighting the scene and the background colour seen
    behind it, Standard view transform. Workbench reads only ``world.color``."""
    world, env = scene.world, record["environment"]
    view = scene.view_settings
    world.color = record["background"]
    if scene.render.engine != "CYCLES":
        view.view_transform, view.exposure = ("Khronos PBR Neutral", env["exposure"]) if env else ("Standard", 0.0)
        return
    nodes, links = world.node_tree.nodes, world.node_tree.links
    nodes.clear()
    output = nodes.new("ShaderNodeOutputWorld")
    if env:
        view.view_transform, view.exposure = "Khronos PBR Neutral", env["exposure"]
        coords, mapping = nodes.new("ShaderNodeTexCoord"), nodes.new("ShaderNodeMapping")
        texture, background = nodes.new("ShaderNodeTexEnvironment"), nodes.new("ShaderNodeBackground")
        texture.image = environment_image(bpy, images, folder, env["map"])
        mapping.inputs["Rotation"].default_value = (0.0, 0.0, -env["rotation"])  # turns the map by +rotation
        background.inputs["Strength"].default_value = env["scale"]
        links.new(coords.outputs["Generated"], mapping.inputs["Vector"])
        links.new(mapping.outputs["Vector"], texture.inputs["Vector"])
        links.new(texture.outputs["Color"], background.inputs["Color"])
        links.new(background.outputs["Background"], output.inputs["Surface"])
        return
    view.view_transform, view.exposure = "Standard", 0.0
    light, seen = nodes.new("ShaderNodeBackground"), nodes.new("ShaderNodeBackground")
    path, mix = nodes.new("ShaderNodeLightPath"), nodes.new("ShaderNodeMixShader")
    light.inputs["Color"].default_value = (record["ambient"],) * 3 + (1.0,)
    seen.inputs["Color"].default_value = (*record["background"], 1.0)
    links.new(path.outputs["Is Camera Ray"], mix.inputs["Fac"])
    links.new(light.outputs["Background"], mix.inputs[1])
    links.new(seen.outputs["Background"], mix.inputs[2])
    links.new(mix.outputs["Shader"], output.inputs["Surface"])


def build_scene(bpy, scene, record: dict, state: dict) -> None:
    """Replace the objects of the previous scene with ``record``'s: objects, floor and
    walls, suns, camera; world and colour management. ``state`` holds the caches
    (meshes, materials, maps) and the objects to clear next time."""
    if state["objects"]:
        bpy.data.batch_remove(state["objects"])
    created, meshes, materials = [], state["meshes"], state["materials"]
    for obj in record["objects"]:
        key = obj["mesh"]
        if key not in meshes:
            meshes[key] = make_mesh(bpy, key, state["arrays"][key])
        looks = [material(bpy, materials, *look) for look in obj["materials"]]
        created.append(add_object(bpy, scene, f"object{obj['id']}", meshes[key], obj["matrix"], looks, obj["id"]))
    for k, box in enumerate(record["boxes"]):
        look = material(bpy, materials, box["rgb"], *CONTEXT_LOOK)
        matrix = np.array(box["matrix"]) @ np.diag([*box["extents"], 1.0])
        created.append(add_object(bpy, scene, f"box{k}", state["box"], matrix.tolist(), [look], 0))
    created += [add_sun(bpy, scene, light, f"sun{k}") for k, light in enumerate(record["lights"])]
    camera = add_camera(bpy, scene, record["camera"])
    state["objects"] = [*created, camera, camera.data, *(obj.data for obj in created if obj.type == "LIGHT")]
    set_world(bpy, scene, record, state["images"], state["folder"])


def render_ids(bpy, scene, path: Path) -> None:
    """Workbench's id pass: flat object colours (:func:`id_colour`), no anti-aliasing,
    no dithering, Raw view, black background, written as an 8-bit RGB PNG; the colour
    pass's settings are restored after."""
    shading, view, layer = scene.display.shading, scene.view_settings, scene.view_layers[0]
    kept = (shading.light, shading.color_type, scene.display.render_aa, scene.render.dither_intensity,
            view.view_transform, view.exposure, tuple(scene.world.color))
    shading.light, shading.color_type, scene.display.render_aa = "FLAT", "OBJECT", "OFF"
    scene.render.dither_intensity, view.view_transform, view.exposure = 0.0, "Raw", 0.0
    scene.world.color, layer.use_pass_z = (0.0, 0.0, 0.0), False
    set_png_output(scene)
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    (shading.light, shading.color_type, scene.display.render_aa, scene.render.dither_intensity,
     view.view_transform, view.exposure, scene.world.color) = kept
    layer.use_pass_z = True
    set_exr_output(scene)


def render_scene(bpy, scene, out: Path, index: int) -> None:
    """Render and write scene ``index``: ``<index>.exr`` (RGB, Z, and for Cycles Object
    Index) and, for Workbench, ``<index>_ids.png``."""
    scene.render.filepath = str(out / f"{index:06d}.exr")
    bpy.ops.render.render(write_still=True)
    if scene.render.engine == "BLENDER_WORKBENCH":
        render_ids(bpy, scene, out / f"{index:06d}_ids.png")


def read_channels(oiio, path: Path) -> dict[str, np.ndarray]:
    """Every channel of an image file (each part of a multi-part EXR) as (H, W) float32."""
    found, image = {}, oiio.ImageInput.open(str(path))
    part = 0
    while image.seek_subimage(part, 0):
        spec = image.spec()
        pixels = image.read_image(part, 0, 0, spec.nchannels, "float")
        found.update({name: pixels[..., k] for k, name in enumerate(spec.channelnames)})
        part += 1
    image.close()
    return found


def dump_labels(bpy, out: Path, indices: list[int]) -> None:
    """Save each scene's Blender ids (H, W) int32 and depth (H, W) float32 metres (0: no
    surface) as ``labels_<index>.npz`` (read with Blender's bundled OpenImageIO)."""
    sys.path.append(os.path.join(bpy.utils.resource_path("LOCAL"), "python", "lib",
                                 f"python{sys.version_info.major}.{sys.version_info.minor}", "site-packages"))
    import OpenImageIO as oiio

    for index in indices:
        channels = read_channels(oiio, out / f"{index:06d}.exr")
        depth = next(v for k, v in channels.items() if k.endswith("Depth.Z"))
        depth = np.where(depth < ZERO_DEPTH_BEYOND, depth, 0.0).astype(np.float32)
        ids_png = out / f"{index:06d}_ids.png"
        if ids_png.exists():
            rgb = read_channels(oiio, ids_png)
            ids = np.rint(rgb["R"] * 255) + 256 * np.rint(rgb["G"] * 255)
        else:
            ids = next(v for k, v in channels.items() if "Object Index" in k)
        np.savez(out / f"labels_{index:06d}.npz", ids=np.rint(ids).astype(np.int32), depth=depth)


def load_arrays(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """The exported meshes: key -> arrays of :func:`mesh_arrays`."""
    found = np.load(folder / "meshes.npz")
    return {str(key): {name: found[f"{k}_{name}"] for name in "vfng"} for k, key in enumerate(found["keys"])}


def blender_worker(args) -> None:
    """Render the scene records ``args.scenes`` with ``args.engine``; write a JSON report
    of the seconds: import of bpy, set-up, build and render (with writing) per scene."""
    start = time.perf_counter()
    import bpy

    imported = time.perf_counter()
    paths = [Path(p) for p in args.scenes]
    records = [json.loads(p.read_text()) for p in paths]
    out = Path(args.out)
    scene = setup_render(bpy, args.engine, records[0]["camera"], args.spp, args.threads, args.denoise,
                         args.workbench_aa)
    state = {"objects": [], "meshes": {}, "materials": {}, "images": {}, "folder": paths[0].parent,
             "arrays": load_arrays(paths[0].parent), "box": make_box(bpy)}
    set_up = time.perf_counter()
    builds, renders = [], []
    for record in records:
        begin = time.perf_counter()
        build_scene(bpy, scene, record, state)
        built = time.perf_counter()
        render_scene(bpy, scene, out, record["index"])
        builds.append(built - begin)
        renders.append(time.perf_counter() - built)
    report = {"import_s": imported - start, "setup_s": set_up - imported, "build_s": builds, "render_s": renders,
              "version": bpy.app.version_string}
    if args.labels:
        dumped = time.perf_counter()
        dump_labels(bpy, out, [record["index"] for record in records])
        report["dump_s"] = time.perf_counter() - dumped
    Path(args.report).write_text(json.dumps(report))


# ----------------------------------------------------------------------------------------
# the benchmark


def engine_label(engine: str, args) -> str:
    """The table's name of ``engine`` with its settings: ``cycles 16spp`` (``dn``:
    denoised), ``workbench aa8``."""
    if engine == "cycles":
        return f"cycles {args.spp}spp{' dn' if args.denoise else ''}"
    return f"workbench aa{args.workbench_aa.lower()}"


def bench_look(size, preset: str, args, work: Path) -> tuple[list[dict], list[str]]:
    """Table rows (scenegen, then each engine) and alignment lines of one size and look.
    The rounds alternate: scenegen's round r (per scene, then the whole process), then
    each engine's round r; each figure is the best of its rounds, and a line gives each
    round's ratios, Blender / scenegen per scene."""
    cfg = scenegen_config(size, preset)
    scenes = sample_scenes(cfg, args.n)
    folder = work / f"{size[0]}x{size[1]}_{preset}"
    (folder / "scenes").mkdir(parents=True)
    paths = export_scenes(cfg, scenes, folder / "scenes")
    label = f"{size[0]}x{size[1]}"
    ours, wholes, lines = [], [], []
    theirs = {engine: {"ms": [], "whole": [], "first": []} for engine in args.engines}
    rounds = ScenegenRounds(size, preset, args.n, args.warmup, folder / "scenegen")
    try:
        for r in range(args.rounds):
            last = r == args.rounds - 1
            ours.append(1000 * rounds.round())
            wholes.append(scenegen_whole(size, preset, args.n, folder / f"generate{r}"))
            for engine in args.engines:
                out = folder / f"{engine}{r}"
                wall, report = run_worker(args.blender_python, engine, paths, out, args, labels=last)
                steps = np.add(report["build_s"], report["render_s"])
                figures = theirs[engine]
                figures["ms"].append(1000 * float(np.mean(steps[1:] if len(steps) > 1 else steps)))
                figures["whole"].append(wall)
                figures["first"].append(report["import_s"] + report["setup_s"] + steps[0])
                if last:
                    iou, count, depth_error = alignment(cfg, scenes, out)
                    lines.append(f"{label} {preset} {engine}: mean mask IoU {iou:.4f} over {count} objects in "
                                 f"{len(scenes)} scenes; median |depth - scenegen's| {1000 * depth_error:.1f} mm; "
                                 f"start-up (import bpy {report['import_s']:.2f} s + set-up + first scene) "
                                 f"{min(figures['first']):.2f} s; Blender {report['version']}")
    finally:
        rounds.close()
    rows = [{"size": label, "preset": preset, "engine": "scenegen", "ms": min(ours),
             "whole": min(seconds for seconds, _ in wholes)}]
    lines += [f"{label} {preset}: scenegen generate failed: {error}" for _, error in wholes[:1] if error]
    for engine, figures in theirs.items():
        rows.append({"size": label, "preset": preset, "engine": engine_label(engine, args), "ms": min(figures["ms"]),
                     "whole": min(figures["whole"])})
        ratios = ", ".join(f"{theirs_ms / our_ms:.2f}" for theirs_ms, our_ms in zip(figures["ms"], ours))
        lines.append(f"{label} {preset} {engine}: per-scene ratio of each round (Blender / scenegen): {ratios}")
    return rows, lines


def print_table(rows: list[dict], n: int) -> None:
    """One line per row: its figures and its ratios to the scenegen row above it (n/a:
    a figure missing)."""
    print(f"{'size':>8} {'preset':>10} {'engine':>15} {'ms/scene':>10} {f'whole s ({n})':>14} "
          f"{'x scenegen/scene':>17} {'x scenegen/whole':>17}")
    base = None
    for row in rows:
        if row["engine"] == "scenegen":
            base = row
        figures = [f"{row['ms']:.1f}", f"{row['whole']:.2f}", f"{row['ms'] / base['ms']:.1f}",
                   f"{row['whole'] / base['whole']:.2f}"]
        figures = ["n/a" if "nan" in text else text for text in figures]
        print(f"{row['size']:>8} {row['preset']:>10} {row['engine']:>15} {figures[0]:>10} {figures[1]:>14} "
              f"{figures[2]:>17} {figures[3]:>17}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30, help="scenes per size and look")
    parser.add_argument("--sizes", nargs="+", default=["320x240", "640x480"], help="WIDTHxHEIGHT, pixels")
    parser.add_argument("--presets", nargs="+", default=["flat", "realistic"], help="scenegen looks")
    parser.add_argument("--engines", nargs="+", default=["workbench", "cycles"], choices=sorted(ENGINES))
    parser.add_argument("--spp", type=int, default=16, help="Cycles samples per pixel")
    parser.add_argument("--denoise", action="store_true", help="Cycles denoises (OpenImageDenoise)")
    parser.add_argument("--workbench-aa", default="8", choices=["OFF", "FXAA", "5", "8", "11", "16", "32"],
                        help="Workbench render anti-aliasing samples (Blender's default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per figure; the best is kept")
    parser.add_argument("--warmup", type=int, default=90,
                        help="other scenes scenegen writes first, outside the clock (its steady state after about 90)")
    parser.add_argument("--threads", type=int, default=0, help="Blender CPU threads (0: automatic)")
    parser.add_argument("--blender-python", default=sys.executable, help="interpreter that can import bpy")
    parser.add_argument("--work", default=None,
                        help="folder where both sides write, made where missing (default: the system's temporary folder)")
    parser.add_argument("--scenegen", nargs="*", default=[],
                        help="more overrides of scenegen's side, e.g. render.engine=pathtraced render.spp=16 (the "
                             "path tracer against Cycles at the same spp)")
    parser.add_argument("--blender-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=sorted(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    parser.add_argument("--labels", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("scenes", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.blender_worker:
        blender_worker(args)
        return
    SCENEGEN_OVERRIDES.extend(args.scenegen)
    if args.n < 2:
        parser.error("--n must be at least 2 (Blender's first scene is left out of its mean)")
    if args.work is not None:
        Path(args.work).mkdir(parents=True, exist_ok=True)
    rows, lines, load = [], [], os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench_blender_", dir=args.work) as work:
        files_before = new_file_us(Path(work) / "files_before")
        for size in map(parse_size, args.sizes):
            for preset in args.presets:
                found, checks = bench_look(size, preset, args, Path(work))
                rows += found
                lines += checks
        files_after = new_file_us(Path(work) / "files_after")
    print(f"{args.n} scenes per size and look, best of {args.rounds} rounds; ms/scene: one labelled scene after "
          f"warm-up; whole: the process for all N scenes, start-up included"
          + (f"; scenegen with {' '.join(args.scenegen)}" if args.scenegen else ""))
    print_table(rows, args.n)
    print("alignment (Blender's id masks and depth against scenegen's instances and depth) and each round's ratio:")
    for line in lines:
        print("  " + line)
    print("not drawn in Blender: camera effects, procedural textures; Workbench uses studio lighting for both looks")
    print(f"a new file in {args.work or tempfile.gettempdir()} (20 kB, written as scenegen writes, 70 into 7 "
          f"folders): {files_before:.0f} us at the start, {files_after:.0f} at the end (calm ext4 here: about 80; "
          f"after a mass delete, up to 500: see ScenegenRounds)")
    print(f"load average (1 min) at the start {load:.2f}, at the end {os.getloadavg()[0]:.2f}, "
          f"on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
