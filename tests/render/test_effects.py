"""Camera effects on a rendered RGB image (numpy and Pillow only, no OpenGL)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen.render import effects as E
from scenegen.render.effects import (
    DOF_BANDS,
    READ_NOISE_FRACTION,
    apply_effects,
    circle_of_confusion,
    depth_of_field,
    encode_uint8,
    jpeg,
    motion_blur,
    sensor_noise,
    srgb_to_linear,
    vignette,
)
from scenegen.scene.scene import CameraEffects
from scenegen.world.colour import linear_to_srgb

OFF = CameraEffects("off")


def encode(linear: float) -> float:
    """The sRGB code (float, 0..255) of a linear value, in float64."""
    linear = min(max(linear, 0.0), 1.0)
    encoded = 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055
    return 255 * encoded


def decode(code: int) -> float:
    x = code / 255
    return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4


def random_image(height=48, width=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def flat(value, height=33, width=41):
    return np.full((height, width, 3), value, dtype=np.uint8)


# --- all off, inputs, determinism ---------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_all_off_returns_an_equal_copy_and_leaves_inputs_alone(height, width, image_seed, noise_seed):
    rgb = random_image(height, width, image_seed)
    depth = np.random.default_rng(image_seed).uniform(0, 5, (height, width)).astype(np.float32)
    rgb_before, depth_before = rgb.copy(), depth.copy()
    out = apply_effects(rgb, depth, 100.0, CameraEffects("off", seed=noise_seed))
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    assert np.array_equal(out, rgb)
    assert out is not rgb and not np.shares_memory(out, rgb)
    assert np.array_equal(rgb, rgb_before) and np.array_equal(depth, depth_before)


def test_every_effect_on_leaves_inputs_alone_and_global_random_state_untouched():
    rgb = random_image()
    depth = np.linspace(0.5, 10, rgb.shape[0] * rgb.shape[1], dtype=np.float32).reshape(rgb.shape[:2])
    rgb_before, depth_before = rgb.copy(), depth.copy()
    effects = CameraEffects("all", seed=7, noise=0.02, white_balance=(1.2, 1.0, 0.8), jpeg_quality=80,
                            aperture=0.02, focus_distance=2.0, motion_blur=5.0, motion_angle=0.3, vignetting=0.4)
    state = np.random.get_state()
    first = apply_effects(rgb, depth, 60.0, effects)
    second = apply_effects(rgb, depth, 60.0, effects)
    assert np.array_equal(rgb, rgb_before) and np.array_equal(depth, depth_before)
    assert first.tobytes() == second.tobytes()
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]
    assert first.shape == rgb.shape and first.dtype == np.uint8


def test_wrong_inputs_are_refused():
    rgb = random_image(8, 8)
    depth = np.ones((8, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="rgb"):
        apply_effects(rgb.astype(np.float32), depth, 10.0, OFF)
    with pytest.raises(ValueError, match="depth"):
        apply_effects(rgb, np.ones((8, 9), np.float32), 10.0, CameraEffects("dof", aperture=0.01, focus_distance=1))
    with pytest.raises(ValueError, match="focus_distance"):
        apply_effects(rgb, depth, 10.0, CameraEffects("dof", aperture=0.01))
    with pytest.raises(ValueError, match="vignetting"):
        apply_effects(rgb, depth, 10.0, CameraEffects("v", vignetting=1.0))
    with pytest.raises(ValueError, match="jpeg_quality"):
        apply_effects(rgb, depth, 10.0, CameraEffects("j", jpeg_quality=101))
    with pytest.raises(ValueError, match="white_balance"):
        apply_effects(rgb, depth, 10.0, CameraEffects("w", white_balance=(1.0, -1.0, 1.0)))


# --- sRGB ------------------------------------------------------------------------

def test_srgb_round_trip_is_exact_on_all_codes():
    codes = np.arange(256, dtype=np.uint8)
    linear = srgb_to_linear(codes)
    assert linear.dtype == np.float32
    assert np.array_equal(encode_uint8(linear), codes)
    # the table and the float path agree, and both are the exact EOTF
    assert np.allclose(srgb_to_linear(codes / 255.0), linear, rtol=1e-6, atol=1e-8)
    assert np.allclose(linear, [decode(c) for c in range(256)], rtol=1e-6, atol=1e-9)
    assert linear[0] == 0 and linear[255] == 1
    assert np.all(np.diff(linear) > 0)


# --- sensor noise ----------------------------------------------------------------

def test_same_seed_same_bytes_different_seed_different_noise():
    rgb = flat(120, 64, 64)
    depth = np.zeros((64, 64), np.float32)
    one = apply_effects(rgb, depth, 50.0, CameraEffects("n", seed=1, noise=0.03))
    again = apply_effects(rgb, depth, 50.0, CameraEffects("n", seed=1, noise=0.03))
    other = apply_effects(rgb, depth, 50.0, CameraEffects("n", seed=2, noise=0.03))
    assert one.tobytes() == again.tobytes()
    assert not np.array_equal(one, other)
    assert not np.array_equal(one, rgb)


@pytest.mark.parametrize("noise", [0.005, 0.02, 0.08])
def test_noise_std_at_mid_grey_is_noise(noise):
    image = np.full((256, 256, 3), 0.5, dtype=np.float32)  # no clipping: sensor_noise does not clip
    noisy = sensor_noise(image, noise, np.random.Generator(np.random.PCG64(3)))
    assert noisy.dtype == np.float32 and noisy.shape == image.shape
    assert abs(float(np.std(noisy - image)) / noise - 1) < 0.1
    assert abs(float(np.mean(noisy - image))) < noise * 0.05
    assert np.array_equal(image, np.full((256, 256, 3), 0.5, dtype=np.float32))


def test_noise_grows_with_the_signal_over_a_read_noise_floor():
    noise = 0.04
    rng = np.random.Generator(np.random.PCG64(5))
    for value in (0.0, 0.125, 0.9):
        image = np.full((200, 200, 3), value, dtype=np.float32)
        std = float(np.std(sensor_noise(image, noise, rng) - image))
        expected = noise * math.sqrt(READ_NOISE_FRACTION + (1 - READ_NOISE_FRACTION) * value / 0.5)
        assert abs(std / expected - 1) < 0.1, value


# --- white balance, vignetting ------------------------------------------------------

def test_white_balance_on_flat_grey_matches_the_analytic_value():
    grey = 90
    out = apply_effects(flat(grey), None, 1.0, CameraEffects("wb", white_balance=(2.0, 1.0, 0.5)))
    linear = decode(grey)
    expected = [encode(2 * linear), encode(linear), encode(0.5 * linear)]
    assert np.all(out == out[0, 0])  # still flat
    assert np.all(np.abs(out[0, 0].astype(float) - expected) <= 1)
    assert out[0, 0, 1] == grey  # gain 1: unchanged


def test_vignetting_keeps_the_centre_and_darkens_the_corners_analytically():
    height, width, amount, grey = 33, 47, 0.6, 200
    rgb = flat(grey, height, width)
    out = apply_effects(rgb, None, 1.0, CameraEffects("v", vignetting=amount))
    assert np.array_equal(out[height // 2, width // 2], rgb[height // 2, width // 2])
    corner = encode((1 - amount) * decode(grey))
    for y, x in [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)]:
        assert np.all(np.abs(out[y, x].astype(float) - corner) <= 1)
    # monotone: darker away from the centre along the middle row
    row = out[height // 2, width // 2:, 0].astype(int)
    assert np.all(np.diff(row) <= 0)


def test_vignette_factor_is_one_at_the_centre_and_one_minus_amount_at_the_corners():
    ones = np.ones((5, 7, 3), dtype=np.float32)
    factor = vignette(ones, 0.3)[..., 0]
    assert factor[2, 3] == 1
    assert np.allclose(factor[[0, 0, -1, -1], [0, -1, 0, -1]], 0.7, atol=1e-6)


# --- depth of field --------------------------------------------------------------

def edge_scene(height=40, width=96):
    """A black | white vertical edge at 10 m, and an in-focus random patch (1 m) on top."""
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[:, width // 2:] = 255
    depth = np.full((height, width), 10.0, dtype=np.float32)
    patch = (slice(0, 8), slice(0, width))
    rgb[patch] = random_image(8, width, 4)
    depth[patch] = 1.0
    return rgb, depth, patch


def edge_width(row: np.ndarray) -> int:
    """Pixels of a black-to-white row whose linear value is within 10-90 %."""
    linear = srgb_to_linear(row)
    return int(np.count_nonzero((linear > 0.1) & (linear < 0.9)))


def disk_edge_rise(diameter: float) -> float:
    """The 10-90 % rise distance of an edge blurred by a uniform disk of ``diameter``: its
    profile is the normalized integral of the disk's chord lengths (about 0.69 diameter)."""
    x = np.linspace(-diameter / 2, diameter / 2, 100001)
    profile = np.cumsum(np.sqrt(np.maximum((diameter / 2) ** 2 - x**2, 0)))
    profile /= profile[-1]
    return float(x[np.searchsorted(profile, 0.9)] - x[np.searchsorted(profile, 0.1)])


def test_depth_of_field_keeps_the_focus_plane_and_blurs_a_far_edge_more_with_the_aperture():
    rgb, depth, patch = edge_scene()
    fx = 100.0  # CoC at 10 m, focus 1 m: aperture * 100 * 0.9 pixels
    assert edge_width(rgb[30, :, 0]) == 0
    widths = []
    for aperture in (0.02, 0.05, 0.1, 0.2):
        out = apply_effects(rgb, depth, fx, CameraEffects("dof", aperture=aperture, focus_distance=1.0))
        assert np.array_equal(out[patch], rgb[patch])  # in focus: exactly unchanged
        assert np.array_equal(out[25:], out[25:26].repeat(15, axis=0))  # beyond the patch: along x only
        widths.append(edge_width(out[30, :, 0]))
        # the edge rises over about what a disk of the circle of confusion gives
        assert abs(widths[-1] - disk_edge_rise(aperture * fx * 0.9)) <= 2, (aperture, widths)
    assert widths[0] > 0
    assert widths == sorted(widths) and widths[0] < widths[2] < widths[3], widths


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 255), st.floats(0.0, 0.5), st.floats(0.3, 20.0), st.floats(0.0, 40.0),
       st.floats(-math.pi, math.pi), st.integers(0, 2**32 - 1))
def test_a_flat_image_stays_flat_under_any_blur(grey, aperture, focus, length, angle, seed):
    rgb = flat(grey, 30, 37)
    depth = np.random.default_rng(seed).uniform(0, 30, (30, 37)).astype(np.float32)
    depth[::5] = 0  # no surface: infinitely far
    effects = CameraEffects("blur", aperture=aperture, focus_distance=focus, motion_blur=length, motion_angle=angle)
    assert np.array_equal(apply_effects(rgb, depth, 300.0, effects), rgb)
    linear = srgb_to_linear(rgb)
    assert np.allclose(depth_of_field(linear, depth, 300.0, aperture + 1e-3, focus), linear, rtol=1e-5, atol=1e-6)


def test_circle_of_confusion_below_half_a_pixel_leaves_pixels_identical():
    rgb = random_image(40, 40, 9)
    depth = np.random.default_rng(9).uniform(0.5, 50, (40, 40)).astype(np.float32)
    depth[:5] = 0
    effects = CameraEffects("dof", aperture=0.001, focus_distance=1.0)
    fx = 200.0
    assert circle_of_confusion(depth, fx, 0.001, 1.0).max() < 0.5
    assert np.array_equal(apply_effects(rgb, depth, fx, effects), rgb)
    linear = srgb_to_linear(rgb)
    assert np.array_equal(depth_of_field(linear, depth, fx, 0.001, 1.0), linear)
    # mixed: only the pixels whose CoC reaches half a pixel change
    strong = depth_of_field(linear, depth, fx, 0.05, 1.0)
    coc = circle_of_confusion(depth, fx, 0.05, 1.0)
    sharp = coc < 0.5
    assert sharp.any() and (~sharp).any()
    assert np.array_equal(strong[sharp], linear[sharp])


def test_circle_of_confusion_is_the_thin_lens_formula():
    depth = np.array([[0.0, 1.0, 2.0, 4.0]], dtype=np.float32)
    coc = circle_of_confusion(depth, 500.0, 0.01, 2.0)
    assert np.allclose(coc, [[5 * 0.5, 5 * 0.5, 0, 5 * 0.25]], atol=1e-5)
    huge = circle_of_confusion(np.array([[0.01]], np.float32), 500.0, 0.05, 2.0)
    assert huge[0, 0] > DOF_BANDS[-1]  # clamped inside depth_of_field, not here


# --- motion blur -----------------------------------------------------------------

@pytest.mark.parametrize("length", [5.0, 9.0, 12.0])
@pytest.mark.parametrize("angle, axis", [(0.0, 1), (math.pi / 2, 0), (math.pi, 1), (-math.pi / 2, 0)])
def test_motion_blur_spreads_a_point_into_a_line_of_its_length(length, angle, axis):
    size = 41
    image = np.zeros((size, size, 3), dtype=np.float32)
    image[20, 20] = 1.0
    out = motion_blur(image, length, angle)
    assert out.dtype == np.float32 and out.shape == image.shape
    lit = np.argwhere(out[..., 0] > 1e-4)
    line = lit[:, axis]
    across = lit[:, 1 - axis]
    assert np.all(across == 20)  # along the line only
    assert line.max() - line.min() + 1 in (math.ceil(length), math.ceil(length) + 1)
    assert abs((line.min() + line.max()) / 2 - 20) <= 0.5  # centred
    assert np.isclose(out.sum() / 3, 1.0, atol=1e-4)  # energy kept (far from the edges)
    if length == int(length) and int(length) % 2:  # odd integer length: exactly L pixels of 1/L
        assert len(line) == length
        assert np.allclose(out[..., 0][out[..., 0] > 1e-4], 1 / length, atol=1e-5)


def test_motion_blur_along_a_diagonal_and_through_apply_effects():
    image = np.zeros((41, 41, 3), dtype=np.float32)
    image[20, 20] = 1.0
    out = motion_blur(image, 10.0, math.pi / 4)[..., 0]
    lit = np.argwhere(out > 1e-4)
    assert np.all(lit[:, 0] - 20 == lit[:, 1] - 20)  # on the down-right diagonal
    rgb = np.zeros((21, 31, 3), dtype=np.uint8)
    rgb[10, 15] = 255
    blurred = apply_effects(rgb, None, 1.0, CameraEffects("m", motion_blur=7.0))
    assert np.array_equal(np.flatnonzero(blurred[10, :, 0]), np.arange(12, 19))
    assert np.count_nonzero(blurred) == 7 * 3


def test_motion_blur_shorter_than_a_pixel_changes_nothing():
    linear = srgb_to_linear(random_image(10, 10))
    assert np.array_equal(motion_blur(linear, 0.4, 1.0), linear)


# --- JPEG ------------------------------------------------------------------------

def smooth_image(size=96):
    y, x = np.mgrid[0:size, 0:size] / size
    image = np.stack([x, y, 0.5 + 0.5 * np.sin(6 * x + 4 * y)], axis=-1)
    image = image * 255
    image[size // 3: size // 2, size // 4: size // 2] = (250, 20, 40)
    return np.rint(image).astype(np.uint8)


def test_jpeg_quality_controls_the_loss_and_is_deterministic():
    rgb = smooth_image()
    high = apply_effects(rgb, None, 1.0, CameraEffects("j", jpeg_quality=100))
    low = apply_effects(rgb, None, 1.0, CameraEffects("j", jpeg_quality=10))
    high_error = np.mean(np.abs(high.astype(int) - rgb))
    low_error = np.mean(np.abs(low.astype(int) - rgb))
    assert high_error < 2
    assert low_error > high_error + 1
    assert high.dtype == np.uint8 and high.shape == rgb.shape
    assert apply_effects(rgb, None, 1.0, CameraEffects("j", jpeg_quality=10)).tobytes() == low.tobytes()
    assert jpeg(rgb, 50).tobytes() == jpeg(rgb, 50).tobytes()
    with pytest.raises(ValueError):
        jpeg(rgb, 0)


def test_the_encoding_table_matches_the_exact_curve():
    codes = np.arange(256, dtype=np.uint8)
    assert np.array_equal(encode_uint8(srgb_to_linear(codes)), codes)
    values = np.random.default_rng(3).random(200_000, dtype=np.float32) ** 3  # dense in the steep dark end
    exact = linear_to_srgb(values).astype(int)
    assert np.abs(encode_uint8(values).astype(int) - exact).max() <= 1
    assert np.mean(encode_uint8(values) != exact) < 0.01


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_depth_of_field_bracket_is_searchsorteds(seed):
    """Each circle of confusion's band, counted with comparisons, equals searchsorted's,
    at the band positions themselves too."""
    rng = np.random.default_rng(seed)
    positions = np.array((E.SHARP_COC, *E.DOF_BANDS), dtype=np.float32)
    coc = np.concatenate([rng.uniform(0, 40, 500), positions, np.nextafter(positions, 0)]).astype(np.float32)
    expected = np.clip(np.searchsorted(positions, coc, side="right") - 1, 0, len(positions) - 2)
    np.testing.assert_array_equal(E._band_below(coc, positions), expected)


@pytest.mark.parametrize("seed", range(6))
def test_vignetting_and_white_balance_in_place_equal_their_functions(seed):
    """apply_effects works on its own image in place: the bytes of the documented
    functions composed."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (int(rng.integers(1, 60)), int(rng.integers(1, 60)), 3), dtype=np.uint8)
    gains = tuple(float(g) for g in rng.uniform(0.5, 1.6, 3))
    amount = float(rng.uniform(0.01, 0.6))
    effects = CameraEffects(name="x", seed=1, noise=0.0, white_balance=gains, jpeg_quality=0, aperture=0.0,
                            focus_distance=0.0, motion_blur=0.0, motion_angle=0.0, vignetting=amount)
    expected = E.encode_uint8(E.white_balance(E.vignette(E.srgb_to_linear(rgb), amount), gains))
    np.testing.assert_array_equal(E.apply_effects(rgb, None, 300.0, effects), expected)
