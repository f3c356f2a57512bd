"""PathTracer: the path-traced engine (``render.engine=pathtraced``), Mitsuba 3 behind
the extra ``scenegen[pathtraced]``.

The same scene, the same labels: :class:`PathTracer` wraps a raster
:class:`~scenegen.render.raster.Renderer` of the same dictionary, takes its Frame (every
label layer: depth, instances, semantic, parts, amodal, normals) and replaces its
``rgb`` with Mitsuba's image of the scene (:func:`scenegen.render.mitsuba_scene.mitsuba_scene`
converts it).

The image, from Mitsuba's linear RGBA (premultiplied radiance of the surfaces, alpha the
share of a pixel's samples that hit one):

- surfaces are encoded as the raster's look encodes them: the flat look (no environment
  map) ``clip(L, 0, 1) ** (1 / 2.2)`` as pyrender's shader; under an environment map,
  exposure ``2 ** Environment.exposure``, the Khronos PBR Neutral tone mapping and the
  sRGB curve, as ``mesh.frag``;
- what is behind them, as the raster shows it: the context's background colour, the
  environment map (through each pixel centre, tone mapped as ``sky.frag``) or the
  photograph (covering the image, ``photo.frag``'s mapping, resampled with Pillow's
  bilinear filter in place of mip-mapping);
- mixed by coverage in display values, as the raster's multisample resolve mixes them:
  ``alpha * encode(L / alpha) + (1 - alpha) * background``; then the scene's camera
  effects (:func:`scenegen.render.effects.apply_effects`, depth from the raster passes).

Variants (:func:`choose_variant`): ``cuda_ad_rgb`` where a CUDA driver loads and a probe
render in a subprocess succeeds, else ``llvm_ad_rgb`` where its probe render succeeds,
else ``scalar_rgb``; the answer is cached for the process (and value of
``DRJIT_LIBLLVM_PATH``). The probe runs in a subprocess because a broken LLVM aborts
the process: Dr.Jit loads the newest ``libLLVM`` it finds (or ``DRJIT_LIBLLVM_PATH``),
and Debian 12's LLVM 15 aborts in Russian roulette's ``minimum`` ("Cannot select ...
fminimum"), which the probe's paths reach; Debian's ``libllvm19`` works
(``DRJIT_LIBLLVM_PATH=/usr/lib/x86_64-linux-gnu/libLLVM.so.19.1``, or found by itself
once installed). The denoiser (OptiX) runs only on CUDA; each render records whether it
ran (:attr:`PathTracer.denoised`; :attr:`PathTracer.version` names the variant, samples,
depth and denoiser).

Determinism: nothing is random but Mitsuba's sampler, seeded per scene
(:func:`~scenegen.render.mitsuba_scene.sampler_seed`), so a scene renders to the same
bytes on the same machine and variant (checked on ``scalar_rgb`` and ``llvm_ad_rgb``: the
box pixel filter puts each sample in its own pixel only).

Differences from the raster that path tracing brings (by design): every light casts
shadows and the floor and walls cast them too (a wall can shade the floor from the key
light, and walls hide the sky behind them: rooms come out darker); light bounces
(``max_depth``); mirrors and metals reflect the scene, not only the map; the ambient
light is occluded. Emitters seen directly are hidden (``hide_emitters``, so that alpha is
the surfaces' coverage): an emissive mesh file shows its reflection, not its emission.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from PIL import Image

from ..scene.frame import Frame
from ..scene.scene import Scene
from ..timing import StepClock
from ..world.dictionary import ObjectDictionary
from .backend import RenderBackend
from .backgrounds import cover
from .effects import apply_effects
from .environment import EnvironmentDraw, tone_map
from .mitsuba_scene import (
    INSTALL_HINT,
    VARIANTS,
    check_quality,
    check_variant,
    choose_variant,
    id_scene,
    import_mitsuba,
    mitsuba_scene,
    probe_variant,
    sampler_seed,
)
from .raster import Renderer

FLAT_GAMMA = 2.2  # pyrender's shader: pow(colour, 1 / 2.2) without an environment map


# -- rendering ------------------------------------------------------------------------


def render_mitsuba(scene_dict: dict, seed: int | None = None, variant: str | None = None) -> np.ndarray:
    """(H, W, C) float32 image of a Mitsuba scene dictionary (e.g. of
    :func:`~scenegen.render.mitsuba_scene.mitsuba_scene`: linear RGB radiance of the
    surfaces, premultiplied by alpha, and alpha, the share of each pixel's samples that
    hit a surface). ``seed``: the sampler's (None: the dictionary's)."""
    mi = import_mitsuba(variant)
    loaded = mi.load_dict(scene_dict)
    kwargs = {} if seed is None else {"seed": int(seed)}
    return np.array(mi.render(loaded, **kwargs), dtype=np.float32)


def instance_ids(scene: Scene, dictionary: ObjectDictionary, pool=None, variant: str | None = None) -> np.ndarray:
    """(H, W) uint16 instance ids of ``scene`` seen by Mitsuba's camera through each pixel
    centre (0: background, floor and walls; ``i + 1``: ``scene.objects[i]``), as the
    raster's ``Frame.instances``: a check of the conversion's geometry and camera
    (:func:`~scenegen.render.mitsuba_scene.id_scene`)."""
    image = render_mitsuba(id_scene(scene, dictionary, pool, variant), variant=variant)
    return np.rint(image[..., 0]).astype(np.uint16)


def _srgb(linear: np.ndarray) -> np.ndarray:
    """float sRGB-encoded values of linear ones, clipped to [0, 1] (``mesh.frag``'s curve)."""
    x = np.clip(linear, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)


def encode(linear: np.ndarray, scene: Scene) -> np.ndarray:
    """(..., 3) float display values in [0, 1] of linear radiance as the raster's colour
    pass encodes its surfaces: under an environment map exposure, tone mapping
    (:func:`scenegen.render.environment.tone_map`) and the sRGB curve; else
    ``clip(linear, 0, 1) ** (1 / 2.2)``."""
    linear = np.asarray(linear, dtype=np.float64)
    if scene.environment is not None:
        return _srgb(tone_map(linear * 2.0 ** scene.environment.exposure))
    return np.power(np.clip(linear, 0.0, 1.0), 1.0 / FLAT_GAMMA)


def _bilinear_wrap(image: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear lookup of (H, W, C) ``image`` at texture coordinates ``u`` (repeating),
    ``v`` (clamped), texel centres at (i + 0.5) / size, as GL samples the map."""
    height, width = image.shape[:2]
    x, y = u * width - 0.5, np.clip(v * height - 0.5, 0.0, height - 1.0)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    x0 = x0.astype(np.int64) % width
    x1 = (x0 + 1) % width
    y0 = y0.astype(np.int64)
    y1 = np.minimum(y0 + 1, height - 1)
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def sky_radiance(scene: Scene, draw: EnvironmentDraw) -> np.ndarray:
    """(H, W, 3) float64 radiance of the whole environment map (key light included, scaled,
    before exposure) through each pixel centre of ``scene``'s camera, bilinear as
    ``sky.frag`` reads it."""
    cam = scene.camera
    j, i = np.meshgrid(np.arange(cam.width, dtype=np.float64), np.arange(cam.height, dtype=np.float64))
    rays = np.stack([(j - cam.cx) / cam.fx, (i - cam.cy) / cam.fy, np.ones_like(j)], axis=-1)
    d = rays @ cam.pose[:3, :3].T
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    c, s = math.cos(draw.rotation), math.sin(draw.rotation)
    mx, my = c * d[..., 0] + s * d[..., 1], -s * d[..., 0] + c * d[..., 1]  # the map's frame
    u = np.arctan2(my, mx) / (2.0 * math.pi)
    v = np.arccos(np.clip(d[..., 2], -1.0, 1.0)) / math.pi
    return _bilinear_wrap(np.asarray(draw.map.whole, dtype=np.float64), u, v) * draw.scale


class PathTracer(RenderBackend):
    """Renders Scenes of one object dictionary with Mitsuba 3 (the ``pathtraced``
    engine); labels from the raster passes of the same scenes (see the module docstring).

    Args:
        dictionary: the object dictionary the scenes refer to.
        normals: whether :meth:`render` returns ``Frame.normals`` (raster layer).
        spp: samples per pixel, 1..65536.
        max_depth: the longest light path in bounces, 1..64 (1: direct light only, as the
            raster draws it).
        variant: the Mitsuba variant (``cuda_ad_rgb``, ``llvm_ad_rgb`` or ``scalar_rgb``);
            None: :func:`choose_variant`.
        denoise: run Mitsuba's OptiX denoiser where the variant has it (CUDA).

    Raises:
        ConfigError: Mitsuba is not installed (``pip install 'scenegen[pathtraced]'``), a
            variant that is unknown or does not render here, or spp / max_depth out of range.
        RenderError: OpenGL cannot be loaded (the raster passes).
    """

    name = "pathtraced"

    def __init__(self, dictionary: ObjectDictionary, normals: bool = True, spp: int = 16, max_depth: int = 8,
                 variant: str | None = None, denoise: bool = True):
        self.spp, self.max_depth = check_quality(spp, max_depth)
        self._mi = import_mitsuba()
        self._variant = check_variant(variant)
        self.denoise = bool(denoise)
        self.denoised = False
        self.dictionary = dictionary
        self.raster = Renderer(dictionary, normals=normals)
        self._denoiser = None

    @property
    def variant(self) -> str:
        """The Mitsuba variant it renders with."""
        return self._variant

    @property
    def layers(self) -> tuple[str, ...]:
        return self.raster.layers

    @property
    def version(self) -> str:
        denoiser = "optix" if self._denoises else "off"
        return (f"{self.name} (mitsuba {self._mi.__version__}, {self.variant}, {self.spp} spp, "
                f"depth {self.max_depth}, denoiser: {denoiser}; labels: {self.raster.version})")

    @property
    def _denoises(self) -> bool:
        return self.denoise and self.variant.startswith("cuda")

    def close(self) -> None:
        self.raster.close()
        self._denoiser = None

    def scene_dict(self, scene: Scene, materials: str = "principled") -> dict:
        """The Mitsuba scene dictionary this tracer renders ``scene`` with (its variant set)."""
        return mitsuba_scene(scene, self.dictionary, spp=self.spp, max_depth=self.max_depth, materials=materials,
                             pool=self.raster.meshes, environments=self.raster.environments, variant=self.variant)

    def render_linear(self, scene: Scene, timings: dict[str, float] | None = None) -> np.ndarray:
        """(H, W, 4) float32: linear RGB radiance of the surfaces (units of the lights:
        irradiance W/m^2 over steradians), premultiplied by alpha, the share of the
        pixel's samples that hit a surface; before any background, exposure or tone
        mapping (denoised where :attr:`denoised`). ``timings``: adds ``"mitsuba scene"``
        (conversion and loading), ``"path tracing"`` and ``"denoise"`` seconds."""
        clock = StepClock(timings)
        mi = import_mitsuba(self.variant)
        loaded = mi.load_dict(self.scene_dict(scene), parallel=False)
        clock.lap("mitsuba scene")
        image = mi.render(loaded, seed=sampler_seed(scene))
        if self.variant != "scalar_rgb":  # JIT variants trace when the image is evaluated
            import drjit as dr

            dr.eval(image)
            dr.sync_thread()
        clock.lap("path tracing")
        self.denoised = False
        if self._denoises:
            try:
                if self._denoiser is None or self._denoiser[0] != image.shape[:2]:
                    size = mi.ScalarVector2u(image.shape[1], image.shape[0])
                    self._denoiser = (image.shape[:2], mi.OptixDenoiser(input_size=size, albedo=False,
                                                                        normals=False, temporal=False))
                image = self._denoiser[1](image)
                self.denoised = True
            except Exception:  # no OptiX on this driver: the noisy image, recorded as such
                self.denoised = False
            clock.lap("denoise")
        return np.array(image, dtype=np.float32)

    def background(self, scene: Scene) -> np.ndarray:
        """(H, W, 3) float display values of what the raster shows where no surface is:
        the photograph, the environment map seen through each pixel centre (exposure, tone
        mapping, sRGB) or the context's background colour (as stored, pyrender's clear
        colour)."""
        cam = scene.camera
        if scene.background is not None and scene.background.name:
            return self._photo(scene)
        if scene.environment is not None and scene.environment.background:
            draw = EnvironmentDraw.of(scene.environment, self.raster.environments)
            return _srgb(tone_map(sky_radiance(scene, draw) * draw.exposure))
        return np.broadcast_to(np.asarray(scene.context.background, dtype=np.float64), (cam.height, cam.width, 3))

    def _photo(self, scene: Scene) -> np.ndarray:
        cam = scene.camera
        pixels = self.raster.backgrounds.pixels(scene.background)  # the folders the raster has listed
        height, width = pixels.shape[:2]
        share_u, share_v = cover((width, height), (cam.width, cam.height))
        box = (width * (0.5 - share_u / 2), height * (0.5 - share_v / 2),
               width * (0.5 + share_u / 2), height * (0.5 + share_v / 2))
        image = Image.fromarray(np.ascontiguousarray(pixels[..., :3])).resize(
            (cam.width, cam.height), Image.Resampling.BILINEAR, box=box)
        return np.asarray(image, dtype=np.float64) / 255.0

    def compose(self, scene: Scene, linear: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 image of :meth:`render_linear`'s ``linear`` (H, W, 4): the
        surfaces encoded (:func:`encode`) over :meth:`background`, mixed by coverage in
        display values (the module docstring)."""
        alpha = np.clip(linear[..., 3:4].astype(np.float64), 0.0, 1.0)
        radiance = np.divide(linear[..., :3], alpha, out=np.zeros(linear[..., :3].shape), where=alpha > 0)
        display = alpha * encode(radiance, scene) + (1.0 - alpha) * self.background(scene)
        return np.rint(np.clip(display, 0.0, 1.0) * 255.0).astype(np.uint8)

    def render(self, scene: Scene, timings: dict[str, float] | None = None) -> Frame:
        """Every layer of :attr:`layers` of ``scene``: the raster's Frame (its label passes,
        no colour pass) with ``rgb`` path traced. ``timings``: the raster's steps, :meth:`render_linear`'s, and
        ``"compose"`` (background, encoding and camera effects).

        Raises:
            RenderError: as the raster's ``render``, or non-square pixels.
        """
        frame = self.raster.render(scene, timings, colour=False)
        return dataclasses.replace(frame, rgb=self.colour(scene, frame.depth, timings))

    def colour(self, scene: Scene, depth: np.ndarray, timings: dict[str, float] | None = None) -> np.ndarray:
        """(H, W, 3) uint8: ``scene``'s colour image path traced, over its background,
        encoded, with its camera effects (which read ``depth``, (H, W) float32 metres, the
        raster's depth layer of the same scene). ``timings``: :meth:`render_linear`'s
        steps and ``"compose"``."""
        linear = self.render_linear(scene, timings)
        clock = StepClock(timings)
        rgb = self.compose(scene, linear)
        if scene.effects is not None:  # the image only, as the raster applies them
            rgb = apply_effects(rgb, depth, scene.camera.fx, scene.effects)
        clock.lap("compose")
        return rgb


__all__ = ["INSTALL_HINT", "PathTracer", "VARIANTS", "choose_variant", "encode", "instance_ids",
           "mitsuba_scene", "probe_variant", "render_mitsuba", "sampler_seed"]
