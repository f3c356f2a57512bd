"""A Scene as a Mitsuba 3 scene dictionary: what the path-traced engine renders.

:func:`mitsuba_scene` converts what the raster's colour pass draws (see
:mod:`scenegen.render.graph`) from the same pools, so both engines draw the same thing:

- **geometry**: each object's variant, grouped by look as the colour pass groups it, its
  vertices and normals taken to the world by ``world_from_object() @ diag(scale)``
  (:class:`~scenegen.render.meshes.MeshPool` geometry, box-projected texture
  coordinates); the floor slab and the walls of :func:`~scenegen.render.graph.context_boxes`.
- **camera**: Mitsuba's ``perspective`` sensor, exactly the OpenCV intrinsics (square
  pixels: ``fx == fy``): ``fov`` along x from ``fx``, the principal point as
  ``principal_point_offset_x/_y`` (fractions of the film), the OpenCV pose turned half
  a turn about its z axis (Mitsuba's camera looks along +z with +x to the left and +y up)
  and the clip planes ``znear``/``zfar``; a box pixel filter, so each pixel integrates
  exactly its own square (its centre at the integer OpenCV coordinate).
- **materials**: ``principled`` (Disney; base colour, metallic, roughness with GGX
  alpha = roughness^2, dielectric f0 0.04 as ``specular`` 0.5), roughness clamped to
  [0.04, 1] as ``mesh.frag`` clamps it. Its diffuse lobe is Disney's (retro-reflection):
  a rough dielectric (roughness 0.9) under a uniform sky gives 6-15% more than the
  raster's Lambertian ``base colour x ambient`` (measured, the darker channels more). Procedural textures (checker, stripes, noise) are
  the raster's tile images times the base colour, on the same texture coordinates;
  texture sets (``surfaces``) give base colour x detail, the roughness map (scaled as
  :mod:`scenegen.render.surfaces` scales it) and the normal map (``normalmap``; faces
  whose texture coordinates are mirrored get the map with its green channel flipped,
  as ``mesh.frag`` turns the bitangent there); a mesh file's look gives its base colour
  factor and texture, metallic-roughness factors and texture (glTF channels), normal
  texture, vertex colours (when it has no base-colour texture), emission (an ``area``
  emitter) and ``twosided`` for double-sided materials. ``materials="diffuse"`` makes
  every surface Lambertian with its base colour (tests, albedo renders).
- **light**: each directional light as Mitsuba's ``directional`` emitter (irradiance =
  intensity x colour, W/m^2 on a surface facing it: the raster's units); without an
  environment map, the context's ambient light as a ``constant`` environment of that
  radiance (the raster adds ``base colour x ambient``: the same for an unoccluded
  Lambertian surface); with one, the map's sky (its key light split off, which
  ``Scene.lights`` holds) as an ``envmap`` scaled as the raster scales it.

**Kernels.** Mitsuba's JIT variants compile each scene's path tracer to one LLVM (or
CUDA) kernel, about 0.2 s of compilation on 2 cores against 0.1 s of tracing a 320x240
frame at 16 spp, cached in memory and on disk (``~/.drjit``) by the kernel's text. Values
Mitsuba compiles in as constants would make every scene a new kernel; the conversion keeps
them out, so scenes that differ in their values (poses, colours, lights, camera, textures)
share one kernel: every channel of ``principled`` is a bitmap texture (constants as one
texel: ``principled`` leaves out its metallic lobe's code for a constant 0), every mesh
has texture coordinates, spacer meshes of zero area wear each material form (plain and
inside a flat ``normalmap``: a kernel holds the code of the forms its scene has, so every
scene has both), the first spacer fixes the scene's box to ``+-SCENE_BOUNDS`` (the
directional and environment emitters compile the bounding sphere in), shapes are padded
with spacers to a multiple of ``SHAPE_SLOTS`` and directional
lights with dark ones of sampling weight 0 to a multiple of ``LIGHT_SLOTS`` (the call
tables' sizes are compiled in), with one environment always (a dark ``constant`` of weight
0 when there is no light from the sky). Measured over 40 default scenes: 3 kernels
compiled instead of 40. None of this changes what is rendered: nothing samples or hits
the padding.

Left out: a light's ``shadows`` flag (every light casts shadows in a path tracer, and
the floor and walls cast them too), the file looks' occlusion textures (the path tracer
computes occlusion) and alpha, vertex colours on a file look with a base-colour texture,
an emissive file look's emission where it is seen directly (the integrator hides
emitters seen directly so that alpha is the surfaces' coverage), mip-mapping (a pixel's
samples filter the textures), the raster's screen-space ambient occlusion (path tracing
occludes the sky itself), non-square pixels (refused). What is seen behind the surfaces
(background colour, environment map with its key light, photograph) is composited by
:mod:`scenegen.render.pathtraced`.

The variant (process-wide in Mitsuba) is chosen here too: :func:`choose_variant` (CUDA,
else LLVM, else scalar, each JIT one after a probe render in a subprocess; see
:mod:`scenegen.render.pathtraced`). Mitsuba is imported only inside functions
(:func:`import_mitsuba`): importing this module never needs it.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, RenderError, choices
from ..scene.geometry import rotation_about_z
from ..scene.scene import Camera, Scene
from ..world.colour import srgb_to_linear
from ..world.dictionary import ObjectDictionary
from .environment import EnvironmentDraw, EnvironmentPool
from .graph import CONTEXT_ROUGHNESS, context_boxes, look_groups
from .meshes import MeshPool
from .textures import srgb_encode, texture_image

INSTALL_HINT = "pip install 'scenegen[pathtraced]'"
MIN_ROUGHNESS = 0.04  # mesh.frag's min_roughness: the raster draws no smoother surface
MATERIAL_MODELS = ("principled", "diffuse")
SPP_RANGE = (1, 65536)  # render.spp
DEPTH_RANGE = (1, 64)  # render.max_depth: bounces (1: direct light only)
# Mitsuba's camera frame (x left, y up, z forward) from OpenCV's (x right, y down, z forward)
OPENCV_TO_MITSUBA = np.diag([-1.0, -1.0, 1.0, 1.0])
# kernels (module docstring): the scene's box is fixed by a spacer mesh with these corners,
# metres; shapes and directional lights are padded to multiples of these counts
SCENE_BOUNDS = 64.0
SHAPE_SLOTS = 8
LIGHT_SLOTS = 4
FLAT_NORMAL = (0.5, 0.5, 1.0)  # a tangent-space normal map's texel for the unperturbed normal


def import_mitsuba(variant: str | None = None):
    """The ``mitsuba`` module, with ``variant`` set when given (Mitsuba's variant is
    process-wide).

    Raises:
        ConfigError: Mitsuba is not installed (with the install command), or the variant
            is not one of this build's.
    """
    try:
        import mitsuba as mi
    except ImportError as exc:
        raise ConfigError(f"the path-traced engine needs Mitsuba 3, which is not installed: {INSTALL_HINT}") from exc
    if variant is not None and mi.variant() != variant:
        if variant not in mi.variants():
            raise ConfigError(f"Mitsuba variant {variant!r} is not in this build; valid: {choices(mi.variants())}")
        mi.set_variant(variant)
    return mi


def check_quality(spp, max_depth) -> tuple[int, int]:
    """(spp, max_depth) as ints after checking their ranges (those of ``render.spp`` and
    ``render.max_depth``).

    Raises:
        ConfigError: a value that is not an integer in its range (naming the range).
    """
    checked = []
    for key, value, (low, high) in (("spp", spp, SPP_RANGE), ("max_depth", max_depth, DEPTH_RANGE)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise ConfigError(f"render.{key}: must be an integer in [{low}, {high}], got {value!r}")
        checked.append(int(value))
    return checked[0], checked[1]


def sampler_seed(scene: Scene) -> int:
    """Mitsuba's sampler seed for ``scene``, in [0, 2**32): the first four bytes
    (little-endian) of BLAKE2b (4-byte digest, personalisation ``scenegen.pt``) of
    ``"<seed>:<index>"``. A fixed formula of the scene's root seed and index (no stream
    of :mod:`scenegen.streams`: it draws nothing), so a scene renders to the same bytes
    on the same machine and variant, and scenes of a run get unrelated seeds."""
    digest = hashlib.blake2b(f"{int(scene.seed)}:{int(scene.index)}".encode(), digest_size=4,
                             person=b"scenegen.pt").digest()
    return int.from_bytes(digest, "little")


# -- variants ---------------------------------------------------------------------------

VARIANTS = ("cuda_ad_rgb", "llvm_ad_rgb", "scalar_rgb")  # in the order of preference
LLVM_VARIABLE = "DRJIT_LIBLLVM_PATH"
PROBE_TIMEOUT = 300.0  # seconds a probe render may take (LLVM compiles its kernels)

# a small render touching what scenes use (principled with textures, a normal map, an
# environment map, a directional light, paths long enough for Russian roulette, whose
# minimum Debian 12's LLVM 15 cannot compile): exits 0 when the variant works; a broken
# LLVM aborts it, not the caller
_PROBE = """
import sys
import numpy as np
import mitsuba as mi
mi.set_variant(sys.argv[1])
texture = {"type": "bitmap", "bitmap": mi.Bitmap(np.full((4, 4, 3), 0.5, np.float32)), "raw": True}
scene = mi.load_dict({
    "type": "scene", "integrator": {"type": "path", "max_depth": 8, "rr_depth": 2, "hide_emitters": True},
    "sensor": {"type": "perspective", "fov": 40, "principal_point_offset_x": 0.01,
               "to_world": mi.ScalarTransform4f().look_at(origin=[0, -3, 1], target=[0, 0, 0], up=[0, 0, 1]),
               "film": {"type": "hdrfilm", "width": 8, "height": 6, "pixel_format": "rgba",
                        "rfilter": {"type": "box"}},
               "sampler": {"type": "independent", "sample_count": 4}},
    "ball": {"type": "sphere", "bsdf": {"type": "principled", "base_color": texture, "metallic": 0.5,
                                        "roughness": 0.3}},
    "floor": {"type": "rectangle", "bsdf": {"type": "normalmap", "normalmap": texture,
                                            "bsdf": {"type": "diffuse"}}},
    "sun": {"type": "directional", "direction": [0, 0, -1]},
    "sky": {"type": "envmap", "bitmap": mi.Bitmap(np.ones((4, 8, 3), np.float32))},
})
image = np.array(mi.render(scene, seed=1))
assert image.shape == (6, 8, 4) and np.isfinite(image).all()
print("ok")
"""

_PROBED: dict[tuple, tuple[bool, str]] = {}  # (variant, DRJIT_LIBLLVM_PATH) -> (works, why not)
_CHOSEN: dict[str | None, str] = {}  # DRJIT_LIBLLVM_PATH -> the variant chosen


def probe_variant(variant: str) -> tuple[bool, str]:
    """(whether Mitsuba ``variant`` renders, the reason when it does not), from a small
    render in a subprocess (a broken LLVM aborts that process, not this one); cached per
    process and ``DRJIT_LIBLLVM_PATH``."""
    key = (variant, os.environ.get(LLVM_VARIABLE))
    found = _PROBED.get(key)
    if found is None:
        try:
            done = subprocess.run([sys.executable, "-c", _PROBE, variant], capture_output=True, text=True,
                                  timeout=PROBE_TIMEOUT)
            ok = done.returncode == 0 and done.stdout.strip().endswith("ok")
            lines = (done.stderr or done.stdout).strip().splitlines()
            why = "" if ok else f"exit status {done.returncode}: {lines[0][:200] if lines else 'no message'}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            ok, why = False, str(exc)
        found = _PROBED[key] = (ok, why)
    return found


def _cuda_driver() -> bool:
    """Whether an NVIDIA CUDA driver library loads in this process (no GPU work)."""
    import ctypes

    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def choose_variant() -> str:
    """The Mitsuba variant this machine renders with: ``cuda_ad_rgb`` where a CUDA
    driver loads and a probe render succeeds, else ``llvm_ad_rgb`` where a probe render
    succeeds (Dr.Jit's libLLVM: ``DRJIT_LIBLLVM_PATH`` or the newest it finds), else
    ``scalar_rgb``. Probes run in subprocesses (a broken LLVM aborts the process that
    compiles with it), once per process and value of ``DRJIT_LIBLLVM_PATH``.

    Raises:
        ConfigError: Mitsuba is not installed (with the install command).
    """
    mi = import_mitsuba()
    llvm_path = os.environ.get(LLVM_VARIABLE)
    found = _CHOSEN.get(llvm_path)
    if found is None:
        built = set(mi.variants())
        found = "scalar_rgb"
        if "cuda_ad_rgb" in built and _cuda_driver() and probe_variant("cuda_ad_rgb")[0]:
            found = "cuda_ad_rgb"
        elif "llvm_ad_rgb" in built and probe_variant("llvm_ad_rgb")[0]:
            found = "llvm_ad_rgb"
        _CHOSEN[llvm_path] = found
    return found


def check_variant(variant: str | None) -> str:
    """``variant`` (None: :func:`choose_variant`) after checking that it is one of
    :data:`VARIANTS` in Mitsuba's build and, for the JIT ones, that its probe renders."""
    mi = import_mitsuba()
    if variant is None:
        return choose_variant()
    if variant not in VARIANTS or variant not in mi.variants():
        valid = [v for v in VARIANTS if v in mi.variants()]
        raise ConfigError(f"path tracer variant {variant!r} is unknown; valid: {choices(valid)}")
    if variant != "scalar_rgb":
        ok, why = probe_variant(variant)
        if not ok:
            hint = (f" (Debian 12's LLVM 15 aborts Dr.Jit: install libllvm19 and set "
                    f"{LLVM_VARIABLE}=/usr/lib/x86_64-linux-gnu/libLLVM.so.19.1)" if variant == "llvm_ad_rgb" else "")
            raise ConfigError(f"path tracer variant {variant!r} does not render on this machine: {why}{hint}")
    return variant


# -- camera ----------------------------------------------------------------------------


def sensor_dict(mi, camera: Camera, spp: int, seed: int, pixel_centres: bool = False) -> dict:
    """Mitsuba's ``perspective`` sensor of an OpenCV ``camera`` (see the module
    docstring): RGBA float film with a box filter; ``independent`` sampler of ``spp``
    samples and ``seed``, or (``pixel_centres``) one sample at each pixel's centre.

    Raises:
        RenderError: non-square pixels (``fx != fy``), which Mitsuba's sensor cannot hold.
    """
    if not math.isclose(camera.fx, camera.fy, rel_tol=1e-9):
        raise RenderError(f"the path tracer needs square pixels: camera fx {camera.fx} != fy {camera.fy}")
    width, height = int(camera.width), int(camera.height)
    sampler = ({"type": "stratified", "sample_count": 1, "jitter": False} if pixel_centres
               else {"type": "independent", "sample_count": int(spp)})
    sampler["seed"] = int(seed)
    return {
        "type": "perspective",
        "fov": math.degrees(2.0 * math.atan(width / (2.0 * camera.fx))),
        "fov_axis": "x",
        # the ray through film fraction s + offset is the one through pixel s * size - 0.5
        # (OpenCV); the optical axis (fraction 0.5) is the principal point
        "principal_point_offset_x": 0.5 - (camera.cx + 0.5) / width,
        "principal_point_offset_y": 0.5 - (camera.cy + 0.5) / height,
        "near_clip": float(camera.znear),
        "far_clip": float(camera.zfar),
        "to_world": mi.ScalarTransform4f(camera.pose @ OPENCV_TO_MITSUBA),
        "film": {"type": "hdrfilm", "width": width, "height": height, "pixel_format": "rgba",
                 "component_format": "float32", "rfilter": {"type": "box"}},
        "sampler": sampler,
    }


# -- looks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """What a surface wears: linear ``rgb``, ``metallic``, ``roughness`` and at most one
    of a procedural ``texture`` (dictionary name), a texture set ``surface`` ((source,
    name)) or a mesh file's look (``file_entry``, the dictionary entry)."""

    rgb: tuple
    metallic: float
    roughness: float
    texture: str | None = None
    surface: tuple[str, str] | None = None
    file_entry: str | None = None


@dataclass
class Surface:
    """One Mitsuba mesh: world ``positions`` (V, 3), unit ``normals`` (V, 3), texture
    coordinates ``uv`` (V, 2) or None, ``faces`` (F, 3), its ``look``, vertex ``colors``
    (V, 3) linear or None, and ``instance``: 0 for the floor and walls, ``i + 1`` for
    ``scene.objects[i]``."""

    name: str
    positions: np.ndarray
    normals: np.ndarray
    uv: np.ndarray | None
    faces: np.ndarray
    look: Look
    instance: int
    colors: np.ndarray | None = None


def _placed(pool: MeshPool, key: tuple, pose: np.ndarray, uv_scale: float | None):
    """(positions, normals, uv or None, faces) of geometry ``key`` posed by ``pose``."""
    positions, normals, uv, faces, _ = pool.geometry_of(key)
    linear = pose[:3, :3]
    world = positions.astype(np.float64) @ linear.T + pose[:3, 3]
    turned = normals.astype(np.float64) @ np.linalg.inv(linear)  # inverse transpose
    turned /= np.maximum(np.linalg.norm(turned, axis=1, keepdims=True), 1e-12)
    coordinates = None if uv_scale is None else uv.astype(np.float64) * uv_scale
    return world, turned, coordinates, faces


def scene_surfaces(scene: Scene, dictionary: ObjectDictionary, pool: MeshPool) -> list[Surface]:
    """Every mesh of ``scene`` as the colour pass draws it (:func:`scenegen.render.graph.build_graph`):
    the floor and walls, then each object's look groups.

    Raises:
        RenderError: an unknown texture.
    """
    context, surfaces = scene.context, []
    for k, (extents, pose, is_wall) in enumerate(context_boxes(scene)):
        colour, texture, surface = (
            (context.wall_color, context.wall_texture, context.wall_surface) if is_wall
            else (context.floor_color, context.floor_texture, context.floor_surface))
        if surface:
            look = Look(tuple(colour), 0.0, CONTEXT_ROUGHNESS, surface=(scene.surfaces, surface))
            scale = pool.surfaces.uv_scale(scene.surfaces, surface, 1.0)
        else:
            scale = pool.uv_scale(texture)
            look = Look(tuple(colour), 0.0, CONTEXT_ROUGHNESS, texture=None if scale is None else texture)
        positions, normals, uv, faces = _placed(pool, ("box", tuple(extents)), pose, scale)
        surfaces.append(Surface(f"wall{k}" if is_wall else "floor", positions, normals, uv, faces, look, 0))
    for i, obj in enumerate(scene.objects):
        entry = dictionary[obj.entry]
        variant = entry.variant(obj.style)
        pose = obj.world_from_object() @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])
        for indices, part_look in look_groups(variant):
            if entry.file_appearance is not None:
                look, scale = Look(tuple(obj.rgb), obj.metallic, obj.roughness, file_entry=obj.entry), \
                    pool.file_uv_scale(obj.entry)
            else:
                look, scale = _object_look(pool, obj, part_look, scene.surfaces)
            key = (obj.entry, variant.style,
                   indices[0] if len(indices) == 1 else None if len(indices) == len(variant.parts) else indices)
            positions, normals, uv, faces = _placed(pool, key, pose, scale)
            colors = pool.colors.get(key) if entry.file_appearance is not None else None
            surfaces.append(Surface(f"object{i}-{indices[0]}", positions, normals, uv, faces, look, i + 1,
                                    None if colors is None else np.asarray(colors, dtype=np.float64)[:, :3]))
    return surfaces


def _object_look(pool: MeshPool, obj, part_look, surfaces: str) -> tuple[Look, float | None]:
    """(Look, texture-coordinate scale or None) of ``obj``'s parts wearing ``part_look``
    (graph.py's ``_material``, as data)."""
    if part_look is None and obj.surface:
        return (Look(tuple(obj.rgb), obj.metallic, obj.roughness, surface=(surfaces, obj.surface)),
                pool.surfaces.uv_scale(surfaces, obj.surface, obj.scale))
    if part_look is None:
        scale = pool.uv_scale(obj.texture)
        return Look(tuple(obj.rgb), obj.metallic, obj.roughness, None if scale is None else obj.texture), scale
    rgb = obj.rgb if part_look.rgb is None else part_look.rgb
    metallic, roughness = (obj.metallic, obj.roughness) if part_look.finish is None else part_look.finish
    texture = obj.texture if part_look.rgb is None else None
    scale = None if texture is None else pool.uv_scale(texture)
    return Look(tuple(rgb), metallic, roughness, None if scale is None else texture), scale


# -- textures and BSDFs ------------------------------------------------------------------


def _bitmap(mi, image: np.ndarray) -> dict:
    """A repeating, bilinear, raw (linear) ``bitmap`` texture of float ``image`` (H, W, C),
    row 0 at the top as the raster's textures (pyrender uploads images bottom row first,
    Mitsuba reads row 0 at v = 0: the rows are reversed here)."""
    data = np.ascontiguousarray(np.asarray(image, dtype=np.float32)[::-1])
    return {"type": "bitmap", "bitmap": mi.Bitmap(data), "raw": True, "filter_type": "bilinear",
            "wrap_mode": "repeat"}


def _texture(mi, value, channels: int) -> dict:
    """A bitmap texture of ``value``: a constant (a float, or ``channels`` floats) as one
    texel, an (H, W) image as one channel, an (H, W, C) image as is. Constants are
    textures too, so that every surface's BSDF compiles to the same code (the module
    docstring, "kernels")."""
    value = np.asarray(value, dtype=np.float64)
    if value.ndim <= 1:
        value = np.broadcast_to(value, (channels,)).reshape(1, 1, channels)
    elif value.ndim == 2:
        value = value[..., None]
    return _bitmap(mi, value)


@dataclass
class Material:
    """A look's BSDF (a Mitsuba dict) for the faces whose texture frame is right-handed,
    another for mirrored ones when a normal map tells them apart (else None), and the
    emitter of an emissive file look (a Mitsuba dict or None)."""

    bsdf: dict
    mirrored: dict | None = None
    emitter: dict | None = None


def material(mi, look: Look, pool: MeshPool, models: str = "principled", vertex_colours: bool = False,
             textured: bool = True) -> Material:
    """The :class:`Material` of ``look`` (see the module docstring); ``vertex_colours``:
    the base colour is the mesh's ``vertex_color`` attribute; ``textured``: the mesh has
    texture coordinates (else its normal map, which needs them, is left out). ``principled``
    looks are ``principled(bitmap, bitmap, bitmap)``, inside ``twosided`` for double-sided
    file looks, inside ``normalmap`` where the look has a normal map: the same code for
    every look of one form (module docstring, "kernels")."""
    base, roughness, metallic, normal, emitter, two_sided = _channels(look, pool)
    if vertex_colours:
        base_texture = {"type": "mesh_attribute", "name": "vertex_color"}
    else:
        base_texture = _texture(mi, base, 3)
    if models == "diffuse":
        bsdf = {"type": "diffuse", "reflectance": base_texture}
    else:
        bsdf = {"type": "principled", "base_color": base_texture, "specular": 0.5,
                "metallic": _texture(mi, np.clip(metallic, 0.0, 1.0), 1),
                "roughness": _texture(mi, np.clip(roughness, MIN_ROUGHNESS, 1.0), 1)}
    normal = normal if textured and models != "diffuse" else None
    if two_sided:
        bsdf = {"type": "twosided", "bsdf": bsdf}
    found = Material(bsdf, emitter=None if emitter is None else {"type": "area", "radiance": _texture(mi, emitter, 3)})
    if normal is not None:
        flipped = normal.copy()
        flipped[..., 1] = 1.0 - flipped[..., 1]
        found.bsdf = {"type": "normalmap", "normalmap": _texture(mi, normal, 3), "bsdf": bsdf}
        found.mirrored = {"type": "normalmap", "normalmap": _texture(mi, flipped, 3), "bsdf": bsdf}
    return found


def _channels(look: Look, pool: MeshPool):
    """(base colour, roughness, metallic, normal map or None, emission or None,
    double-sided) of ``look``: each a constant or a float image (H, W[, 3])."""
    rgb = np.asarray(look.rgb, dtype=np.float64)
    if look.file_entry is not None:
        return _file_channels(pool.dictionary[look.file_entry].file_appearance)
    if look.surface is not None:
        found = pool.surfaces.set(*look.surface)
        rough = found.roughness.astype(np.float64)
        peak, mean = max(float(rough.max()), 1.0), max(float(rough.mean()), 1.0)
        factor = min(1.0, look.roughness * peak / mean)  # surfaces.SurfacePool.material's factor
        normal = found.normal.astype(np.float64) / 255.0
        return (rgb * srgb_to_linear(found.detail()), factor * rough / peak, look.metallic, normal, None, False)
    if look.texture is not None:
        # the raster's texels: the tile encoded to sRGB codes, decoded by its shader
        modulation = srgb_to_linear(srgb_encode(texture_image(pool.texture(look.texture))))
        return rgb * modulation, look.roughness, look.metallic, None, None, False
    return rgb, look.roughness, look.metallic, None, None, False


def _file_channels(appearance):
    """:func:`_channels` of a mesh file's look (glTF metallic-roughness conventions)."""
    factor = np.asarray(appearance.base_color, dtype=np.float64)[:3]
    textured = appearance.uv is not None
    base = factor
    if textured and appearance.base_color_texture is not None:
        base = factor * srgb_to_linear(appearance.base_color_texture[..., :3])
    roughness, metallic = appearance.roughness, appearance.metallic
    if textured and appearance.metallic_roughness_texture is not None:
        mr = appearance.metallic_roughness_texture.astype(np.float64) / 255.0
        roughness, metallic = appearance.roughness * mr[..., 1], appearance.metallic * mr[..., 2]
    normal = None
    if textured and appearance.normal_texture is not None:
        normal = appearance.normal_texture[..., :3].astype(np.float64) / 255.0
    emission = np.asarray(appearance.emissive, dtype=np.float64)
    if textured and appearance.emissive_texture is not None and emission.any():
        emission = emission * srgb_to_linear(appearance.emissive_texture[..., :3])
    return base, roughness, metallic, normal, emission if emission.any() else None, bool(appearance.double_sided)


def mirrored_faces(positions: np.ndarray, uv: np.ndarray, faces: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """(F,) bool: faces whose texture frame (dP/du, dP/dv) is left-handed about their
    normal (box projection mirrors the coordinates of some faces)."""
    p0, p1, p2 = (positions[faces[:, k]] for k in range(3))
    t0, t1, t2 = (uv[faces[:, k]] for k in range(3))
    e1, e2, d1, d2 = p1 - p0, p2 - p0, t1 - t0, t2 - t0
    # dP/du and dP/dv times the determinant of the (u, v) edges: their cross product
    # carries the determinant squared, so its side of the normal is the frame's handedness
    dp_du = e1 * d2[:, 1:2] - e2 * d1[:, 1:2]
    dp_dv = e2 * d1[:, 0:1] - e1 * d2[:, 0:1]
    normal = normals[faces].sum(axis=1)
    handed = np.einsum("ij,ij->i", np.cross(dp_du, dp_dv), normal)
    return handed < 0


# -- the scene -------------------------------------------------------------------------


def _mesh(mi, surface: Surface, faces: np.ndarray, suffix: str, bsdf: dict, emitter: dict | None = None):
    """A Mitsuba Mesh of ``surface`` holding ``faces`` (its vertices all kept), always with
    texture coordinates (zeros where the surface has none: one intersection routine for
    every mesh)."""
    uv = np.zeros((len(surface.positions), 2)) if surface.uv is None else surface.uv
    props = mi.Properties()
    props["bsdf"] = mi.load_dict(bsdf, parallel=False)
    if emitter is not None:
        props["emitter"] = mi.load_dict(emitter, parallel=False)
    mesh = mi.Mesh(surface.name + suffix, len(surface.positions), len(faces), props, has_vertex_normals=True,
                   has_vertex_texcoords=True)
    params = mi.traverse(mesh)

    def put(key: str, values: np.ndarray, dtype) -> None:  # the buffer's own array type (scalar or JIT)
        params[key] = type(params[key])(np.ravel(values).astype(dtype))

    put("vertex_positions", surface.positions, np.float32)
    put("vertex_normals", surface.normals, np.float32)
    put("vertex_texcoords", uv, np.float32)
    put("faces", faces, np.uint32)
    params.update()
    if surface.colors is not None:
        mesh.add_attribute("vertex_color", 3, type(params["vertex_positions"])(np.ravel(surface.colors).astype(np.float32)))
    return mesh


def _shapes(mi, surfaces: list[Surface], pool: MeshPool, models: str) -> dict:
    """Mitsuba meshes of ``surfaces`` by name, each with its material."""
    shapes, made = {}, {}
    for surface in surfaces:
        vertex_colours = False
        if surface.colors is not None:
            appearance = pool.dictionary[surface.look.file_entry].file_appearance
            # vertex colours times the base colour factor, unless a texture gives the base colour
            vertex_colours = appearance.uv is None or appearance.base_color_texture is None
            if vertex_colours:
                surface.colors = surface.colors * np.asarray(appearance.base_color, dtype=np.float64)[:3]
        key = (surface.look, vertex_colours, surface.uv is not None)
        found = made.get(key)
        if found is None:
            found = made[key] = material(mi, surface.look, pool, models, vertex_colours, surface.uv is not None)
        if found.mirrored is not None:
            mirrored = mirrored_faces(surface.positions, surface.uv, surface.faces, surface.normals)
            for suffix, selected, bsdf in (("", ~mirrored, found.bsdf), ("-mirrored", mirrored, found.mirrored)):
                if selected.any():
                    shapes[surface.name + suffix] = _mesh(mi, surface, surface.faces[selected], suffix, bsdf,
                                                          found.emitter)
        else:  # a flat normal map: no texture frame to tell apart
            shapes[surface.name] = _mesh(mi, surface, surface.faces, "", found.bsdf, found.emitter)
    return shapes


def spacers(mi, count: int, bsdfs: list[dict]) -> dict:
    """``count`` meshes that no ray can hit (each one triangle of zero area), the first
    with its corners at ``-SCENE_BOUNDS`` and ``+SCENE_BOUNDS`` (x, y, z), spacer ``k``
    wearing ``bsdfs[k % len(bsdfs)]``: they fix the scene's bounding box (which the
    directional and environment emitters compile in as constants), put every material
    form in every scene and pad the shape count to a multiple of ``SHAPE_SLOTS`` (module
    docstring, "kernels")."""
    found = {}
    for k in range(count):
        corners = np.array([[-SCENE_BOUNDS] * 3, [SCENE_BOUNDS] * 3]) if k == 0 else np.zeros((2, 3))
        surface = Surface(f"spacer{k}", corners[[0, 1, 0]], np.tile([0.0, 0.0, 1.0], (3, 1)), np.zeros((3, 2)),
                          np.array([[0, 1, 2]]), None, 0)
        found[surface.name] = _mesh(mi, surface, surface.faces, "", bsdfs[k % len(bsdfs)])
    return found


def material_forms(mi, pool: MeshPool, models: str) -> list[dict]:
    """One BSDF of each form :func:`material` makes for one-sided looks (``principled``:
    plain and inside a flat ``normalmap``; ``diffuse``: plain), for the spacers."""
    plain = material(mi, Look((0.0, 0.0, 0.0), 0.0, 1.0), pool, models).bsdf
    if models == "diffuse":
        return [plain]
    return [plain, {"type": "normalmap", "normalmap": _texture(mi, FLAT_NORMAL, 3), "bsdf": plain}]


def environment_to_world(rotation: float) -> np.ndarray:
    """(4, 4) ``to_world`` of Mitsuba's ``envmap`` (its local frame: y up, texture u from
    atan2(x, -z)) showing a scenegen map (z up, column azimuth from +x towards +y, turned
    by ``rotation`` about z, :mod:`scenegen.render.irradiance`)."""
    local_from_map = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    matrix = np.eye(4)
    matrix[:3, :3] = rotation_about_z(rotation) @ local_from_map.T
    return matrix


def emitters(mi, scene: Scene, environments: EnvironmentPool | None) -> dict:
    """The scene's light as Mitsuba emitters by name (see the module docstring): its
    directional lights padded with dark ones to a multiple of ``LIGHT_SLOTS`` and one
    environment (the map, the ambient ``constant``, or a dark ``constant``); the dark ones
    have sampling weight 0 (never sampled), the others weight 1 (chosen uniformly, as
    Mitsuba chooses among equal emitters).

    Raises:
        RenderError: an environment map that cannot be had (or no ``environments``).
    """
    lights = []
    for light in scene.lights:
        irradiance = float(light.intensity) * np.asarray(light.color, dtype=np.float64)
        if irradiance.any():
            lights.append({"type": "directional", "direction": [-float(v) for v in light.direction],
                           "irradiance": {"type": "rgb", "value": list(map(float, irradiance))}})
    dark = {"type": "directional", "direction": [0.0, 0.0, -1.0], "irradiance": {"type": "rgb", "value": [0.0] * 3},
            "sampling_weight": 0.0}
    lights += [dark] * (-len(lights) % LIGHT_SLOTS or (0 if lights else LIGHT_SLOTS))
    found = {f"light{k}": light for k, light in enumerate(lights)}
    if scene.environment is not None:
        if environments is None:
            raise RenderError("the scene has an environment map and no EnvironmentPool was given")
        draw = EnvironmentDraw.of(scene.environment, environments)
        found["environment"] = {"type": "envmap", "bitmap": mi.Bitmap(np.array(draw.map.levels[0], dtype=np.float32)),
                                "scale": float(draw.scale),
                                "to_world": mi.ScalarTransform4f(environment_to_world(draw.rotation))}
    elif scene.context.ambient > 0:
        found["environment"] = {"type": "constant",
                                "radiance": {"type": "rgb", "value": [float(scene.context.ambient)] * 3}}
    else:
        found["environment"] = {"type": "constant", "radiance": {"type": "rgb", "value": [0.0] * 3},
                                "sampling_weight": 0.0}
    return found


def mitsuba_scene(scene: Scene, dictionary: ObjectDictionary, *, spp: int = 16, max_depth: int = 8,
                  seed: int | None = None, materials: str = "principled", pool: MeshPool | None = None,
                  environments: EnvironmentPool | None = None, variant: str | None = None) -> dict:
    """The Mitsuba scene dictionary of ``scene`` (``mi.load_dict`` it; values include
    Mitsuba objects made in the current variant).

    Args:
        scene: the scene; its objects name ``dictionary``'s entries.
        dictionary: the object dictionary.
        spp: samples per pixel of its sampler (1..65536).
        max_depth: bounces of its ``path`` integrator (1..64; 1: direct light only, as the
            raster; Mitsuba's ``max_depth`` is this + 1), which hides the emitters seen
            directly (the film's alpha is each pixel's coverage by surfaces).
        seed: the sampler's seed; None: :func:`sampler_seed` of the scene.
        materials: ``principled`` (the scene's materials) or ``diffuse`` (Lambertian with
            the base colours).
        pool: the MeshPool whose geometry to use (None: a new one).
        environments: where the environment map comes from (None: a new pool).
        variant: the Mitsuba variant to set (None: the current one, or
            :func:`choose_variant` when none is set).

    Raises:
        ConfigError: Mitsuba is missing, or a value out of its range.
        RenderError: an unknown texture, an environment that cannot be read, non-square
            pixels.
    """
    spp, max_depth = check_quality(spp, max_depth)
    if materials not in MATERIAL_MODELS:
        raise ConfigError(f"materials: {materials!r} is unknown; valid: {choices(MATERIAL_MODELS)}")
    mi = _mitsuba_with_variant(variant)
    pool = MeshPool(None, dictionary) if pool is None else pool
    environments = EnvironmentPool() if environments is None else environments
    result = {"type": "scene", "integrator": {"type": "path", "max_depth": max_depth + 1, "hide_emitters": True},
              "sensor": sensor_dict(mi, scene.camera, spp, sampler_seed(scene) if seed is None else seed)}
    shapes = _shapes(mi, scene_surfaces(scene, dictionary, pool), pool, materials)
    result.update(shapes)
    forms = material_forms(mi, pool, materials)
    result.update(spacers(mi, -(len(shapes) + len(forms)) % SHAPE_SLOTS + len(forms), forms))
    result.update(emitters(mi, scene, environments))
    return result


def id_scene(scene: Scene, dictionary: ObjectDictionary, pool: MeshPool | None = None,
             variant: str | None = None) -> dict:
    """A Mitsuba scene dictionary whose render is the instance ids seen at each pixel
    centre (one sample there): object ``i`` an emitter of radiance ``i + 1`` on black, the
    floor and walls black, no other light; emitted light only (``max_depth`` 1). What
    :func:`scenegen.render.pathtraced.instance_ids` renders to check the path tracer's
    geometry and camera against the raster's instance image."""
    mi = _mitsuba_with_variant(variant)
    pool = MeshPool(None, dictionary) if pool is None else pool
    result = {"type": "scene", "integrator": {"type": "path", "max_depth": 1, "hide_emitters": False},
              "sensor": sensor_dict(mi, scene.camera, 1, 0, pixel_centres=True)}
    black = {"type": "diffuse", "reflectance": {"type": "rgb", "value": [0.0, 0.0, 0.0]}}
    for surface in scene_surfaces(scene, dictionary, pool):
        emitter = None if surface.instance == 0 else {
            "type": "area", "radiance": {"type": "rgb", "value": [float(surface.instance)] * 3}}
        surface.uv = None
        result[surface.name] = _mesh(mi, surface, surface.faces, "", black, emitter)
    return result


def _mitsuba_with_variant(variant: str | None):
    mi = import_mitsuba(variant)
    if mi.variant() is None:
        mi = import_mitsuba(choose_variant())
    return mi
