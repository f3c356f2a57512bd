"""Environment lighting in the colour pass: a scene's map as GL data and its draws.

A Scene with an :class:`~scenegen.scene.scene.Environment` is lit by an equirectangular
radiance map (its set: :class:`scenegen.world.environments.EnvironmentSet`): the map's
key light (a sun, a softbox, a window, split off by the set) is the scene's
shadow-casting directional light, recorded in ``Scene.lights``; the rest, the *sky*,
lights every surface through ``mesh.frag`` (defined ``ENVIRONMENT_LIGHT``):

- diffuse: the irradiance of 9 spherical-harmonic coefficients of the sky
  (:mod:`scenegen.render.irradiance`), convolved with the clamped cosine;
- specular: the sky's mip chain (2x2 box averages, level 0 the map itself), read at the
  level whose texels span the material's GGX lobe, times Karis's split-sum terms;

then exposure, tone mapping and the sRGB curve. Where no surface is drawn, the sky pass
(``sky.vert``/``sky.frag``) shows the whole map (key light included) behind the scene
when ``Environment.background`` is set. The map is scaled so that an upward-facing surface
receives ``Environment.intensity`` under the whole map (sky and key light).

Texture unit :data:`ENVIRONMENT_UNIT` holds the map during the colour pass: pyrender
takes units from 0 upwards for a draw's material textures and shadow maps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..cache import array_digest, content_key, kept_arrays
from ..errors import RenderError
from ..scene.scene import Camera, Environment
from ..world.environments import EnvironmentSet
from . import _pyrender
from .backend import scene_asset
from .irradiance import convolve_with_cosine, sh_coefficients
from .opengl import gl
from .uniforms import location, set_uniform

SKY_CACHE = "environment-sky"  # the cache folder (scenegen.cache.kind_dir) of the skies' harmonics and mip chains
ENVIRONMENT_UNIT = 15  # texture unit of the map (GL 3.3 guarantees 16 per shader stage)
OCCLUSION_UNIT = 14  # texture unit of the ambient-occlusion pass's result


def tone_map(color: np.ndarray) -> np.ndarray:
    """Khronos PBR Neutral tone mapping of linear colours (..., 3), as ``mesh.frag`` and
    ``sky.frag`` apply it (after exposure, before the sRGB curve): the identity below
    0.76 after a small toe, highlights compressed towards 1 and desaturated."""
    color = np.asarray(color, dtype=np.float64)
    low = color.min(axis=-1, keepdims=True)
    color = color - np.where(low < 0.08, low - 6.25 * low * low, 0.04)
    peak = color.max(axis=-1, keepdims=True)
    start, desaturation = 0.8 - 0.04, 0.15
    d = 1.0 - start
    new_peak = 1.0 - d * d / (peak + d - start)
    compressed = color * new_peak / np.maximum(peak, 1e-12)
    g = 1.0 - 1.0 / (desaturation * (peak - new_peak) + 1.0)
    compressed = compressed * (1.0 - g) + new_peak * g
    return np.where(peak < start, color, compressed)


def mip_chain(radiance: np.ndarray) -> list[np.ndarray]:
    """The mip levels of an (H, 2H, 3) map: level 0 the map (float32), each next level
    the 2x2 box average of the one before, down to 1 x 2 texels (an odd side keeps its
    last row or column out of the average)."""
    levels = [np.ascontiguousarray(radiance, dtype=np.float32)]
    while levels[-1].shape[0] > 1:
        level = levels[-1]
        h, w = level.shape[0] // 2, max(level.shape[1] // 2, 1)
        level = level[: 2 * h, : 2 * w]
        levels.append(np.ascontiguousarray(level.reshape(h, 2, w, 2, 3).mean(axis=(1, 3)), dtype=np.float32))
    return levels


def cosine_convolved(radiance: np.ndarray) -> np.ndarray:
    """(9, 3) coefficients ``c`` with irradiance ``E(n) = sum_k c[k] Y_k(n)`` (map frame)
    under an (H, W, 3) radiance map: its projection on the 9 harmonics times the clamped
    cosine's lobe per degree (what ``mesh.frag`` sums)."""
    return convolve_with_cosine(sh_coefficients(radiance)).astype(np.float32)


def mip_shapes(height: int, width: int) -> list[tuple[int, int, int]]:
    """The shapes of the levels :func:`mip_chain` gives an (``height``, ``width``, 3) map."""
    shapes = [(height, width, 3)]
    while height > 1:
        height, width = height // 2, max(width // 2, 1)
        shapes.append((height, width, 3))
    return shapes


def sky_lighting(sky: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """(:func:`cosine_convolved` (9, 3) float32, :func:`mip_chain`) of the (H, 2H, 3)
    ``sky``, bit for bit; kept in the cache folder under the sha256 of the sky's dtype,
    shape and bytes, so each map's projection (tens of ms) is worked out once, not once
    per process."""
    sky = np.asarray(sky)
    shapes = mip_shapes(*sky.shape[:2])
    names = ("coefficients", *(f"level{index}" for index in range(1, len(shapes))))

    def make() -> dict[str, np.ndarray]:
        levels = mip_chain(sky)
        return {"coefficients": cosine_convolved(sky), **{f"level{i}": level for i, level in enumerate(levels) if i}}

    def fits(kept) -> bool:
        return kept[0].shape == (9, 3) and all(array.dtype == np.float32 for array in kept) and all(
            level.shape == shape for level, shape in zip(kept[1:], shapes[1:]))

    coefficients, *smaller = kept_arrays(SKY_CACHE, content_key("environment-sky", array_digest(sky)), names, make, fits)
    return coefficients, [np.ascontiguousarray(sky, dtype=np.float32), *smaller]


@dataclass
class EnvironmentMap:
    """One map's lighting data, on the CPU and (after :meth:`upload`) in the GL context.

    Attributes:
        coefficients: (9, 3) float32 cosine-convolved harmonics of the sky (map units).
        levels: the sky's mip chain, each (h, 2h, 3) float32 radiance (map units).
        whole: (H, 2H, 3) float32 the whole map, key light included (map units): what
            is seen behind the scene.
        up_irradiance: irradiance of an upward-facing surface under the whole map (sky
            and key light), luminance, map units.
        texture: GL name of the sky's mip-mapped texture, 0 before :meth:`upload`.
        whole_texture: GL name of the whole map's texture, 0 before :meth:`upload`.
    """

    coefficients: np.ndarray
    levels: list
    whole: np.ndarray
    up_irradiance: float
    texture: int = 0
    whole_texture: int = 0

    @property
    def texel_angle(self) -> float:
        """Angle a level-0 texel spans in polar angle, radians."""
        return math.pi / self.levels[0].shape[0]

    def upload(self) -> None:
        """Put the sky's mip chain and the whole map in the current GL context as RGB16F
        textures (once)."""
        if not self.texture:
            self.texture = _float_texture(self.levels)
            self.whole_texture = _float_texture([self.whole])

    def delete(self) -> None:
        """Delete the textures from the current GL context."""
        if self.texture:
            gl().glDeleteTextures([self.texture, self.whole_texture])
            self.texture = self.whole_texture = 0


def _float_texture(levels: list) -> int:
    """GL name of a new RGB16F texture holding the mip ``levels`` (float32 (h, w, 3)
    each), trilinear filtering, wrapping in azimuth (s), clamped at the poles (t)."""
    GL = gl()
    texture = int(GL.glGenTextures(1))
    GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
    for index, level in enumerate(levels):
        h, w = level.shape[:2]
        GL.glTexImage2D(GL.GL_TEXTURE_2D, index, GL.GL_RGB16F, w, h, 0, GL.GL_RGB, GL.GL_FLOAT, level)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAX_LEVEL, len(levels) - 1)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER,
                       GL.GL_LINEAR_MIPMAP_LINEAR if len(levels) > 1 else GL.GL_LINEAR)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_REPEAT)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
    return texture


class EnvironmentPool:
    """The maps of the Scenes a renderer draws, made on first use and kept: one
    :class:`~scenegen.world.environments.EnvironmentSet` per source, one
    :class:`EnvironmentMap` per (source, name)."""

    def __init__(self):
        self.sets: dict[str, EnvironmentSet] = {}
        self.maps: dict[tuple[str, str], EnvironmentMap] = {}

    def map(self, environment: Environment) -> EnvironmentMap:
        """The lighting data of ``environment``'s map.

        Raises:
            RenderError: the source or the map cannot be read (the reason).
        """
        key = (environment.source, environment.name)
        found = self.maps.get(key)
        if found is None:
            with scene_asset("environment", environment.name, environment.source):
                if environment.source not in self.sets:
                    self.sets[environment.source] = EnvironmentSet.load(environment.source)
                lighting = self.sets[environment.source].lighting(environment.name)
            coefficients, levels = sky_lighting(lighting.sky)
            found = self.maps[key] = EnvironmentMap(
                coefficients=coefficients,
                levels=levels,
                whole=np.ascontiguousarray(self.sets[environment.source].radiance(environment.name),
                                           dtype=np.float32),
                up_irradiance=float(lighting.up_irradiance),
            )
        return found

    def close(self, in_context: bool = True) -> None:
        """Forget every map, deleting its texture when ``in_context`` (the GL context
        current; False: the context is gone, and its textures with it)."""
        if in_context:
            for found in self.maps.values():
                found.delete()
        self.maps.clear()


@dataclass
class EnvironmentDraw:
    """What a Graph's colour pass needs of its environment.

    Attributes:
        map: the map's lighting data.
        rotation: radians the map is turned by about world z.
        scale: map radiance times this = scene radiance.
        exposure: linear multiplier of the radiance before tone mapping.
        background: the map is drawn behind the scene.
    """

    map: EnvironmentMap
    rotation: float
    scale: float
    exposure: float
    background: bool
    occluded: bool = False  # an ambient-occlusion texture is bound this frame
    _bound: set = field(default_factory=set)  # programs whose uniforms are set this frame

    @classmethod
    def of(cls, environment: Environment, pool: EnvironmentPool) -> EnvironmentDraw:
        found = pool.map(environment)
        if found.up_irradiance <= 0:
            raise RenderError(f"environment {environment.name!r} of {environment.source!r} is black")
        return cls(map=found, rotation=environment.rotation, scale=environment.intensity / found.up_irradiance,
                   exposure=2.0 ** environment.exposure, background=environment.background)

    def bind_texture(self, whole: bool = False) -> None:
        """Upload the map if needed and bind the sky's mip chain (``whole``: the whole
        map) to :data:`ENVIRONMENT_UNIT`."""
        GL = gl()
        self.map.upload()
        GL.glActiveTexture(GL.GL_TEXTURE0 + ENVIRONMENT_UNIT)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.map.whole_texture if whole else self.map.texture)
        GL.glActiveTexture(GL.GL_TEXTURE0)

    def bind_occlusion(self, texture: int) -> None:
        """Bind the ambient-occlusion pass's texture ``texture`` (GL name) to
        :data:`OCCLUSION_UNIT`."""
        GL = gl()
        self.occluded = bool(texture)
        GL.glActiveTexture(GL.GL_TEXTURE0 + OCCLUSION_UNIT)
        GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
        GL.glActiveTexture(GL.GL_TEXTURE0)

    def set_common(self, program) -> None:
        """The uniforms ``mesh.frag`` and ``sky.frag`` share, on the bound ``program``."""
        set_uniform(program, "env_map", ENVIRONMENT_UNIT)
        set_uniform(program, "env_rotation", float(self.rotation))
        set_uniform(program, "env_scale", float(self.scale))
        set_uniform(program, "exposure", float(self.exposure))

    def bind_lighting(self, program) -> None:
        """Set ``mesh.frag``'s environment uniforms on the bound ``program`` (once a frame
        per program: GL keeps a program's uniforms)."""
        name = _pyrender.program_id(program)
        if name in self._bound:
            return
        self._bound.add(name)
        self.set_common(program)
        set_uniform(program, "env_max_lod", float(len(self.map.levels) - 1))
        set_uniform(program, "env_texel", float(self.map.texel_angle))
        set_uniform(program, "occlusion", OCCLUSION_UNIT)
        set_uniform(program, "occlusion_on", 1.0 if self.occluded else 0.0)
        GL = gl()
        coefficients = np.ascontiguousarray(self.map.coefficients * self.scale, dtype=np.float32)
        GL.glUniform3fv(location(program, "env_sh"), 9, coefficients)

    def draw_background(self, programs, camera: Camera, floor_rows: int = 0) -> None:
        """Draw the whole map where the bound framebuffer's depth is still the far plane
        (the colour pass's multisampled one: each sample is tested), seen through
        ``camera``, but for the image's bottom ``floor_rows`` rows (covered by the floor:
        see :meth:`~scenegen.render.programs.ShaderPrograms.draw_behind`); the sky's mip
        chain is bound again after."""
        self.bind_texture(whole=True)
        program = programs.screen("sky.frag")
        _pyrender.bind(program)
        self.set_common(program)
        set_uniform(program, "world_from_camera", np.asarray(camera.pose[:3, :3], dtype=np.float32))
        set_uniform(program, "intrinsics", np.array([camera.fx, camera.fy, camera.cx, camera.cy], dtype=np.float32))
        set_uniform(program, "image_height", float(camera.height))
        programs.draw_behind(camera.width, camera.height, floor_rows)
        _pyrender.unbind_program(program)
        self.bind_texture()
