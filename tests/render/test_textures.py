"""Procedural texture images and box-projected UVs (numpy and trimesh only, no OpenGL)."""

import numpy as np
import pytest

from scenegen.errors import ConfigError
from scenegen.render.textures import (
    NOISE_CELLS,
    PATTERNS,
    UV_AXES,
    srgb_encode,
    texture_image,
    uv_coordinates,
    uv_scale,
)
from scenegen.world.dictionary import Texture
from scenegen.world.shapes import primitive


def transitions(values: np.ndarray) -> int:
    """Value changes along a cyclic 1D sequence (the tile repeats)."""
    return int(np.count_nonzero(values != np.roll(values, 1)))


@pytest.mark.parametrize("size", [2, 16, 64])
def test_checker_tile_is_one_period_of_two_by_two_squares(size):
    image = texture_image(Texture("checker", 4.0, 0.5), size)
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    assert np.all(image == image[..., :1])  # grey: equal channels
    value = image[..., 0]
    half = size // 2
    assert set(np.unique(value)) == {128, 255}  # 255 * (1 - 0.5), rounded
    assert np.all(value[:half, :half] == 255) and np.all(value[half:, half:] == 255)
    assert np.all(value[:half, half:] == 128) and np.all(value[half:, :half] == 128)
    # one period a side: every row and column changes value exactly twice around the tile
    assert all(transitions(row) == 2 for row in value)
    assert all(transitions(col) == 2 for col in value.T)
    # tiled n times, a row has 2 n transitions: n periods
    assert transitions(np.tile(value[0], 3)) == 6


def test_stripes_vary_along_u_only():
    value = texture_image(Texture("stripes", 6.0, 0.25), 32)[..., 0]
    assert np.all(value == value[:1])  # constant down every column (along v)
    np.testing.assert_array_equal(value[0], [255] * 16 + [191] * 16)  # 255 * 0.75 = 191.25
    assert transitions(value[0]) == 2


@pytest.mark.parametrize("pattern", PATTERNS)
def test_contrast_zero_is_flat_and_contrast_one_reaches_black(pattern):
    assert np.all(texture_image(Texture(pattern, 3.0, 0.0), 32) == 255)
    full = texture_image(Texture(pattern, 3.0, 1.0), 32)
    assert full.max() == 255
    assert full.min() == (255 if pattern == "plain" else 0)


def test_noise_is_smooth_tileable_and_deterministic():
    texture = Texture("noise", 6.0, 0.45)
    image = texture_image(texture, 128)
    np.testing.assert_array_equal(image, texture_image(Texture("noise", 6.0, 0.45), 128))
    value = image[..., 0].astype(int)
    assert value.min() == round(255 * 0.55) and value.max() == 255  # normalised, then contrast
    assert len(np.unique(value)) > 50  # a field, not a few levels
    steps = np.abs(np.diff(value, axis=1))
    # wrapping around the tile is no bigger a step than moving one texel inside it
    assert np.abs(value[:, 0] - value[:, -1]).max() <= steps.max()
    assert np.abs(value[0, :] - value[-1, :]).max() <= np.abs(np.diff(value, axis=0)).max()
    assert steps.max() <= 8  # smooth: neighbouring texels differ by a few levels
    # the same noise field whatever the resolution: a coarser tile samples it
    coarse = texture_image(texture, 64)[..., 0].astype(int)
    fine_at_coarse = (value[0::2, 0::2] + value[1::2, 1::2] + value[0::2, 1::2] + value[1::2, 0::2]) / 4
    assert np.abs(coarse - fine_at_coarse).max() <= 6
    # other parameters, other noise
    assert not np.array_equal(texture_image(Texture("noise", 3.0, 0.45), 128), image)


def test_noise_does_not_touch_global_random_state():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    texture_image(Texture("noise", 2.0, 0.5), 16)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_bad_pattern_or_size_is_refused():
    with pytest.raises(ConfigError, match="valid: 'checker', 'noise', 'plain', 'stripes'"):
        texture_image(Texture("zigzag", 1.0, 0.5))
    with pytest.raises(ConfigError, match="even"):
        texture_image(Texture("checker", 1.0, 0.5), 15)


def test_uv_scale_gives_repeats_periods_per_unit():
    assert uv_scale(Texture("checker", 4.0, 0.5)) == 4.0
    assert uv_scale(Texture("stripes", 6.0, 0.5)) == 6.0
    assert uv_scale(Texture("noise", 6.0, 0.5)) == 6.0 / NOISE_CELLS


def test_srgb_encode_inverts_the_shader_decoding():
    values = np.arange(256, dtype=np.uint8)
    encoded = srgb_encode(values).astype(float) / 255
    decoded = np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)
    # within half an sRGB step, which near white spans up to 2.27 linear levels
    assert np.abs(decoded * 255 - values).max() < 1.14
    assert srgb_encode(np.array([0, 128, 255], np.uint8)).tolist() == [0, 188, 255]


def test_box_uvs_are_the_face_coordinates_orthogonal_to_its_normal():
    box = primitive("box", {"x": 1.0, "y": 0.6, "z": 0.4})
    out = uv_coordinates(box)
    assert out.visual.uv.shape == (len(out.vertices), 2)
    assert len(out.vertices) == 24  # 6 faces x 4 corners: no corner is shared across faces
    normals = out.face_normals
    for face, normal in zip(out.faces, normals):
        axis = int(np.argmax(np.abs(normal)))
        corners = out.vertices[face]
        np.testing.assert_array_equal(out.visual.uv[face], corners[:, UV_AXES[axis]])
        # hard edges stay hard: each corner's normal is its face's normal
        np.testing.assert_allclose(out.vertex_normals[face], np.repeat(normal[None], 3, axis=0), atol=1e-9)
    # the same triangles as the input
    def triangles(mesh):
        return sorted(tuple(sorted(map(tuple, t))) for t in np.round(mesh.vertices[mesh.faces], 9).tolist())

    assert triangles(out) == triangles(box)
    # the input is untouched
    assert len(box.vertices) == 24 and not hasattr(box.visual, "uv")


def test_sphere_uvs_keep_its_smooth_normals():
    sphere = primitive("sphere", {"radius": 1.0})
    out = uv_coordinates(sphere)
    radial = out.vertices / np.linalg.norm(out.vertices, axis=1, keepdims=True)
    # the sphere's own normals: along the radius, not along the face normals
    np.testing.assert_allclose(out.vertex_normals, radial, atol=1e-12)
    # vertices are only split where faces of different projection axes meet
    assert len(sphere.vertices) < len(out.vertices) < 3 * len(sphere.faces) / 2
    axes = np.argmax(np.abs(out.face_normals), axis=1)
    for face, axis in zip(out.faces, axes):
        np.testing.assert_array_equal(out.visual.uv[face], out.vertices[face][:, UV_AXES[axis]])
