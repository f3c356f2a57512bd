"""Camera effects on a rendered RGB image (numpy and Pillow only, no OpenGL).

:func:`apply_effects` takes the colour layer as rendered (an sRGB-encoded ``uint8`` image),
its depth layer and the focal length, and a scene's :class:`~scenegen.scene.scene.CameraEffects`,
and returns a new image, formed in the order a camera forms one:

1. :func:`srgb_to_linear`: decode to linear light, float32 (the exact sRGB EOTF);
2. :func:`depth_of_field`: thin-lens defocus blur, from the depth layer;
3. :func:`motion_blur`: a linear motion blur;
4. :func:`vignette`: light falling off towards the corners;
5. white balance: the linear R, G, B channels times the gains;
6. :func:`sensor_noise`: signal-dependent noise drawn from a PCG64 generator seeded with
   ``effects.seed`` alone (never global random state, no stream of the root seed: the
   sampler drew ``effects.seed`` from the scene's effects stream);
7. clip to [0, 1] and encode to ``uint8`` sRGB codes (:func:`encode_uint8`: the exact
   OETF through a 16-bit table);
8. :func:`jpeg`: a JPEG round trip through Pillow at ``jpeg_quality`` (when > 0).

An effect at its "off" value is skipped; with all of them off the result equals the input
(a copy). Stages 1-7 are skipped together when none of 2-6 is on (decoding then encoding
gives every ``uint8`` value back exactly). The result is deterministic: the same inputs
give the same bytes (the JPEG stage: with the same libjpeg as well).

Only the colour image changes: the function sees ``rgb`` (and reads ``depth``), never the
labels, so ids, masks, boxes, depth and normals stay those of the ideal pinhole camera.

Blurs are convolutions done with real FFTs (numpy) on the image padded by the kernel's
half-size with its edge values (edges clamped), so no wrap-around reaches the image.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image

from ..scene.scene import CameraEffects
from ..world import colour

# depth of field: circle-of-confusion diameters (pixels) of the blurred band images; a
# pixel below SHARP_COC is left exactly as it is, and a pixel's CoC is clamped to the last
DOF_BANDS = (2.0, 4.0, 8.0, 16.0, 32.0)
SHARP_COC = 0.5
# sensor noise: the read-noise floor's variance, as a fraction of the variance at mid-grey
READ_NOISE_FRACTION = 0.01
MID_GREY = 0.5
# sub-samples a pixel side when kernels are rasterized (disk coverage), per pixel of
# length along a motion-blur segment
_SUPERSAMPLE = 16


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """The exact sRGB EOTF: ``srgb`` (any shape) ``uint8`` codes, or floats in [0, 1] ->
    linear light, float32 in [0, 1], same shape. ``uint8`` goes through a 256-entry table
    (computed in float64)."""
    srgb = np.asarray(srgb)
    if srgb.dtype == np.uint8:
        return np.take(_DECODE_TABLE, srgb)
    return colour.srgb_to_linear(srgb).astype(np.float32)


_DECODE_TABLE = colour.srgb_to_linear(np.arange(256, dtype=np.uint8)).astype(np.float32)


ENCODE_STEPS = 65535  # linear [0, 1] quantised to 16 bits before the encoding table


_ENCODE_TABLE = colour.linear_to_srgb(np.arange(ENCODE_STEPS + 1, dtype=np.float64) / ENCODE_STEPS)


def encode_uint8(linear: np.ndarray) -> np.ndarray:
    """Linear floats (any shape, clipped to [0, 1]) -> ``uint8`` sRGB codes through a
    table of the linear value quantised to 16 bits (a step is at most 0.05 of a code,
    where the curve is steepest): :func:`scenegen.world.colour.linear_to_srgb`, several
    times faster, within one code; the 256 decoded codes come back exactly."""
    scaled = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0) * np.float32(ENCODE_STEPS) + np.float32(0.5)
    return np.take(_ENCODE_TABLE, scaled.astype(np.uint16))


def circle_of_confusion(depth: np.ndarray, fx: float, aperture: float, focus: float) -> np.ndarray:
    """Thin-lens circle-of-confusion diameters, (H, W) float32 pixels, of ``depth`` (H, W)
    metres along the optical axis (0 or non-finite: no surface, infinitely far), for focal
    length ``fx`` pixels, aperture diameter ``aperture`` metres and focus distance
    ``focus`` metres: ``aperture * fx * |1/focus - 1/depth|``."""
    depth = np.asarray(depth, dtype=np.float32)
    surface = (depth > 0) & np.isfinite(depth)
    inverse = np.divide(np.float32(1), depth, out=np.zeros_like(depth), where=surface)
    return (np.float32(aperture * fx) * np.abs(np.float32(1 / focus) - inverse)).astype(np.float32)


def depth_of_field(linear: np.ndarray, depth: np.ndarray, fx: float, aperture: float, focus: float) -> np.ndarray:
    """Thin-lens depth of field: ``linear`` (H, W, C) float32 linear image, ``depth`` (H, W)
    metres (0: no surface, infinitely far), ``fx`` focal length in pixels, ``aperture`` lens
    diameter and ``focus`` focus distance in metres. Returns a new (H, W, C) float32 image.

    A layered gather blur: each pixel's circle of confusion ``c`` (diameter, pixels; see
    :func:`circle_of_confusion`) is clamped to ``DOF_BANDS[-1]``; the image is blurred with
    a uniform disk kernel of each diameter of :data:`DOF_BANDS` that some pixel needs (disk
    coverage of each pixel square, FFT convolution, edges clamped), and each pixel blends
    linearly the two band images nearest its ``c``, the sharp image standing at ``c =``
    :data:`SHARP_COC`. Pixels with ``c < SHARP_COC`` keep their values exactly.

    The approximation: a pixel gathers from its neighbours whatever their depth, with no
    occlusion-aware scattering, so a sharp foreground bleeds into a blurred background
    around it, and a blurred foreground does not spread over a sharp background behind it
    (its silhouette stays sharp).
    """
    linear = np.asarray(linear, dtype=np.float32)
    coc = np.minimum(circle_of_confusion(depth, fx, aperture, focus), np.float32(DOF_BANDS[-1]))
    blurred = coc >= SHARP_COC
    if not blurred.any():
        return linear.copy()
    positions = np.array((SHARP_COC, *DOF_BANDS), dtype=np.float32)
    # each pixel's bracket: bands ``lower`` and ``lower + 1``, the latter weighing ``t``
    lower = _band_below(coc, positions)
    t = np.clip((coc - positions[lower]) / (positions[lower + 1] - positions[lower]), 0, 1).astype(np.float32)
    brackets = np.flatnonzero(np.bincount(lower[blurred], minlength=len(positions) - 1))
    used = np.union1d(brackets, brackets + 1)
    bands = [int(band) for band in used if band > 0]
    images = _convolve(linear, [_disk_kernel(DOF_BANDS[band - 1]) for band in bands])
    # a sharp pixel (lower 0, t 0) gets 0 + 1 * its value, then + 0 * each band's (finite)
    # value: exactly its value again
    result = np.zeros(images[0].shape, dtype=np.float32)
    zero, one_minus_t = np.float32(0), np.float32(1) - t
    for band, image in zip([0, *bands], [linear.transpose(2, 0, 1), *images]):
        weight = np.where(lower == band, one_minus_t, np.where(lower == band - 1, t, zero))
        result += weight * image
    return np.ascontiguousarray(result.transpose(1, 2, 0))


def _band_below(coc: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(H, W) intp index k of the bracket [positions[k], positions[k + 1]) holding each
    circle of confusion (ascending ``positions``; below the first: 0, from the last on:
    the last bracket): ``clip(searchsorted(positions, coc, "right") - 1, 0, len - 2)``,
    counted with comparisons, several times faster for a handful of positions."""
    above = sum((coc >= position).view(np.int8) for position in positions[1:])
    return np.minimum(above, len(positions) - 2).astype(np.intp)


def motion_blur(linear: np.ndarray, length: float, angle: float) -> np.ndarray:
    """Linear motion blur: ``linear`` (H, W, C) float32 linear image, ``length`` pixels,
    ``angle`` radians from +x (right) towards +y (down). Returns a new (H, W, C) float32
    image.

    The kernel is a segment of ``length`` pixels centred on the pixel, each kernel pixel
    weighted by the length of the segment inside its square (sampled 16 times a pixel of
    length), normalized to sum 1; convolved by FFT with edges clamped. A segment shorter
    than a pixel stays inside it: the image comes back unchanged (a copy).
    """
    linear = np.asarray(linear, dtype=np.float32)
    kernel = _segment_kernel(float(length), float(angle))
    if kernel.shape == (1, 1):
        return linear.copy()
    return np.ascontiguousarray(_convolve(linear, [kernel])[0].transpose(1, 2, 0))


def vignette(linear: np.ndarray, amount: float) -> np.ndarray:
    """Vignetting: ``linear`` (H, W, C) float32 linear image times ``1 - amount * (r /
    r_corner)**2``, ``r`` the distance of a pixel's centre from the image centre
    (``((W - 1) / 2, (H - 1) / 2)``) and ``r_corner`` that of a corner pixel's centre: the
    factor is exactly 1 at the centre and ``1 - amount`` at the four corner pixels
    (``amount``: the fraction of light lost there, in [0, 1)). Returns a new (H, W, C)
    float32 image."""
    return _vignette_in_place(np.array(linear, dtype=np.float32), amount)


def _vignette_in_place(image: np.ndarray, amount: float) -> np.ndarray:
    """:func:`vignette` of ``image`` (H, W, C) float32, in place; returns it."""
    return _scale_channels(image, [_vignette_factor(*image.shape[:2], amount)] * image.shape[2])


def _vignette_factor(height: int, width: int, amount: float) -> np.ndarray:
    """(H, W) float32 factors of :func:`vignette`."""
    cy, cx = (height - 1) / 2, (width - 1) / 2
    corner = cx * cx + cy * cy
    if corner == 0:  # a single pixel: it is the centre
        return np.ones((height, width), dtype=np.float32)
    dy = (np.arange(height, dtype=np.float32) - np.float32(cy)) ** 2
    dx = (np.arange(width, dtype=np.float32) - np.float32(cx)) ** 2
    return np.float32(1) - np.float32(amount / corner) * (dy[:, None] + dx[None, :])


def white_balance(linear: np.ndarray, gains) -> np.ndarray:
    """White balance: ``linear`` (H, W, 3) float32 linear image, its R, G, B channels times
    ``gains`` (3,). Returns a new (H, W, 3) float32 image."""
    return _scale_channels(np.array(linear, dtype=np.float32), np.asarray(gains, dtype=np.float32))


def _scale_channels(image: np.ndarray, factors) -> np.ndarray:
    """``image`` (H, W, C) float32 with channel c multiplied in place by ``factors[c]`` (a
    float32 number or an (H, W) float32 array); returns it. A channel at a time: numpy
    runs a broadcast over C channels C values at a time, several times slower."""
    for channel, factor in enumerate(factors):
        image[..., channel] *= factor
    return image


def sensor_noise(linear: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise: ``linear`` (any shape) float32 linear image plus Gaussian noise of
    variance ``noise**2 * (f + (1 - f) * max(v, 0) / 0.5)``, ``v`` the pixel's value and
    ``f`` = :data:`READ_NOISE_FRACTION` (0.01): shot noise, whose variance grows with the
    signal, over a read-noise floor of standard deviation ``0.1 * noise`` at black. Its
    standard deviation at linear mid-grey 0.5 is exactly ``noise`` (linear [0, 1] units).
    Each value draws one float32 standard normal from ``rng``, in C order. Not clipped.
    Returns a new float32 array."""
    linear = np.asarray(linear, dtype=np.float32)
    deviation = np.maximum(linear, np.float32(0))  # then the variance, then its root, in place
    deviation *= np.float32(noise * noise * (1 - READ_NOISE_FRACTION) / MID_GREY)
    deviation += np.float32(noise * noise * READ_NOISE_FRACTION)
    np.sqrt(deviation, out=deviation)
    noisy = rng.standard_normal(linear.shape, dtype=np.float32)
    noisy *= deviation
    noisy += linear
    return noisy


def jpeg(rgb_uint8: np.ndarray, quality: int) -> np.ndarray:
    """A JPEG round trip through Pillow: ``rgb_uint8`` (H, W, 3) ``uint8`` image encoded at
    ``quality`` (1..100) with fixed settings (4:4:4, no chroma subsampling; baseline, not
    optimized, not progressive), then decoded. Returns a new (H, W, 3) ``uint8`` image."""
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb_uint8, dtype=np.uint8), "RGB").save(
        buffer, format="JPEG", quality=int(quality), subsampling=0, optimize=False, progressive=False)
    buffer.seek(0)
    with Image.open(buffer) as image:
        return np.array(image.convert("RGB"), dtype=np.uint8)


def apply_effects(rgb: np.ndarray, depth: np.ndarray, fx: float, effects: CameraEffects) -> np.ndarray:
    """``effects`` applied to ``rgb``, (H, W, 3) ``uint8`` sRGB-encoded as rendered, with
    ``depth`` (H, W) float32 metres along the optical axis (0: no surface, infinitely
    far; read only for depth of field, may be None without it) and ``fx`` the focal length
    in pixels. Returns a
    new (H, W, 3) ``uint8`` image; the inputs are never modified. The order is the
    module's (see its docstring). Raises ValueError on a wrong shape or a parameter out of
    its range."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be an (H, W, 3) uint8 image, got {rgb.dtype} {rgb.shape}")
    _check(effects, fx)
    gains = tuple(float(g) for g in effects.white_balance)
    dof = effects.aperture > 0
    if dof:
        depth = np.asarray(depth)
        if depth.shape != rgb.shape[:2]:
            raise ValueError(f"depth must be (H, W) = {rgb.shape[:2]}, got {depth.shape}")
    linear_stage = dof or effects.motion_blur > 0 or effects.vignetting > 0 or gains != (1.0, 1.0, 1.0) \
        or effects.noise > 0
    if linear_stage:
        image = srgb_to_linear(rgb)
        if dof:
            image = depth_of_field(image, depth, fx, effects.aperture, effects.focus_distance)
        if effects.motion_blur > 0:
            image = motion_blur(image, effects.motion_blur, effects.motion_angle)
        # image is this function's own array from here: vignetting and white balance in place
        if effects.vignetting > 0:
            _vignette_in_place(image, effects.vignetting)
        if gains != (1.0, 1.0, 1.0):
            _scale_channels(image, np.asarray(gains, dtype=np.float32))
        if effects.noise > 0:
            seed = effects.seed
            image = sensor_noise(image, effects.noise, np.random.Generator(np.random.PCG64(seed)))
        out = encode_uint8(image)
    else:
        out = rgb.copy()
    if effects.jpeg_quality > 0:
        out = jpeg(out, effects.jpeg_quality)
    return out


def _check(effects: CameraEffects, fx: float) -> None:
    """ValueError naming the first parameter of ``effects`` out of its range."""
    problems = []
    if not effects.noise >= 0:
        problems.append(f"noise must be >= 0, got {effects.noise}")
    gains = np.asarray(effects.white_balance, dtype=np.float64)
    if gains.shape != (3,) or not np.all(np.isfinite(gains)) or np.any(gains < 0):
        problems.append(f"white_balance must be 3 finite gains >= 0, got {effects.white_balance}")
    if not 0 <= effects.jpeg_quality <= 100:
        problems.append(f"jpeg_quality must be 0 (off) or 1..100, got {effects.jpeg_quality}")
    if not effects.aperture >= 0:
        problems.append(f"aperture must be >= 0, got {effects.aperture}")
    elif effects.aperture > 0:
        if not effects.focus_distance > 0:
            problems.append(f"focus_distance must be > 0 with an aperture, got {effects.focus_distance}")
        if not fx > 0:
            problems.append(f"fx must be > 0 with an aperture, got {fx}")
    if not (effects.motion_blur >= 0 and math.isfinite(effects.motion_blur)):
        problems.append(f"motion_blur must be a finite length >= 0, got {effects.motion_blur}")
    if not math.isfinite(effects.motion_angle):
        problems.append(f"motion_angle must be finite, got {effects.motion_angle}")
    if not 0 <= effects.vignetting < 1:
        problems.append(f"vignetting must be in [0, 1), got {effects.vignetting}")
    if problems:
        raise ValueError(f"camera effects {effects.name!r}: " + "; ".join(problems))


@lru_cache(maxsize=16)
def _disk_kernel(diameter: float) -> np.ndarray:
    """(2h + 1, 2h + 1) float32 kernel, ``h = ceil(diameter / 2)``: each pixel's square's
    coverage by a disk of ``diameter`` pixels centred on the middle pixel, normalized to
    sum 1 (read only: cached)."""
    half = math.ceil(diameter / 2)
    sub = (np.arange(_SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - 0.5
    axis = (np.arange(-half, half + 1)[:, None] + sub[None, :]).ravel()
    inside = (axis[:, None] ** 2 + axis[None, :] ** 2) <= (diameter / 2) ** 2
    size = 2 * half + 1
    kernel = inside.reshape(size, _SUPERSAMPLE, size, _SUPERSAMPLE).sum(axis=(1, 3)).astype(np.float64)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    kernel.flags.writeable = False
    return kernel


@lru_cache(maxsize=16)
def _segment_kernel(length: float, angle: float) -> np.ndarray:
    """Square float32 kernel: the share of a segment of ``length`` pixels at ``angle``
    (radians from +x towards +y, rows are y), centred on the middle pixel, inside each
    pixel's square (16 samples a pixel of length), summing to 1 (read only: cached)."""
    count = max(1, math.ceil(length * _SUPERSAMPLE))
    t = (np.arange(count) + 0.5) / count * length - length / 2
    x = np.floor(t * math.cos(angle) + 0.5).astype(np.int64)
    y = np.floor(t * math.sin(angle) + 0.5).astype(np.int64)
    half = int(max(np.abs(x).max(), np.abs(y).max()))
    size = 2 * half + 1
    kernel = np.bincount((y + half) * size + (x + half), minlength=size * size).reshape(size, size)
    kernel = (kernel / count).astype(np.float32)
    kernel.flags.writeable = False
    return kernel


def _fast_size(n: int) -> int:
    """The smallest integer >= n whose prime factors are 2, 3 and 5 (fast FFT lengths)."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


@lru_cache(maxsize=32)
def _kernel_spectrum(kernel_bytes: bytes, size: int, shape: tuple) -> np.ndarray:
    """The (unnormalized) real FFT of a ``size`` x ``size`` float32 kernel (given by its
    bytes), centred on (0, 0) of an array of ``shape``."""
    kernel = np.frombuffer(kernel_bytes, dtype=np.float32).reshape(size, size)
    half = size // 2
    placed = np.zeros(shape, dtype=np.float32)
    placed[:size, :size] = kernel
    placed = np.roll(placed, (-half, -half), axis=(0, 1))
    spectrum = np.fft.rfft2(placed, norm="ortho") * np.float32(math.sqrt(shape[0] * shape[1]))
    spectrum = spectrum.astype(np.complex64)
    spectrum.flags.writeable = False
    return spectrum


def _convolve(linear: np.ndarray, kernels: list) -> list:
    """``linear`` (H, W, C) float32 convolved with each odd square float32 kernel of
    ``kernels`` (their centre on the pixel), edges clamped: the image is padded with its
    edge values by the largest half-size, transformed once (real FFT over a fast size),
    and each result is one product and one inverse transform. Returns (C, H, W) float32
    images (planes: views into the padded results), one a kernel."""
    if not kernels:
        return []
    height, width, _ = linear.shape
    pad = max(k.shape[0] for k in kernels) // 2
    shape = (_fast_size(height + 2 * pad), _fast_size(width + 2 * pad))
    planes = np.zeros((linear.shape[2], *shape), dtype=np.float32)
    planes[:, pad: pad + height, pad: pad + width] = linear.transpose(2, 0, 1)
    if pad:  # clamp: repeat the edge rows, then the edge columns (corners included)
        planes[:, :pad, pad: pad + width] = planes[:, pad: pad + 1, pad: pad + width]
        planes[:, pad + height: 2 * pad + height, pad: pad + width] = planes[:, pad + height - 1: pad + height,
                                                                             pad: pad + width]
        planes[:, : 2 * pad + height, :pad] = planes[:, : 2 * pad + height, pad: pad + 1]
        planes[:, : 2 * pad + height, pad + width: 2 * pad + width] = planes[:, : 2 * pad + height,
                                                                             pad + width - 1: pad + width]
    # "ortho" both ways: numpy 2's float32 transforms are several times slower with a
    # scale factor of exactly 1 ("backward" forward, "forward" inverse); the kernel
    # spectrum carries the sqrt(N) factor back
    spectrum = np.fft.rfft2(planes, norm="ortho")
    results = []
    for kernel in kernels:
        kernel = np.ascontiguousarray(kernel, dtype=np.float32)
        product = spectrum * _kernel_spectrum(kernel.tobytes(), kernel.shape[0], shape)
        image = np.fft.irfft2(product, s=shape, norm="ortho")
        results.append(image[:, pad: pad + height, pad: pad + width])
    return results
