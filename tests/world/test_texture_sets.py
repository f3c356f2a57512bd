"""PBR texture sets (scenegen.world.texture_sets): the built-in procedural sets (shapes,
seamless tiles, determinism, what each class's maps hold), normal maps from heights, and
reading a folder laid out as ambientCG and Poly Haven downloads are."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from scenegen.errors import ConfigError
from scenegen.world import texture_sets as ts
from scenegen.world.colour import linear_to_srgb, luminance, srgb_to_linear
from scenegen.world.texture_sets import (
    BUILTIN_NAMES,
    MATERIAL_CLASSES,
    TextureSet,
    as_detail,
    builtin_set,
    builtin_sets,
    decode_normals,
    encode_normals,
    load_texture_sets,
    map_kind,
    normal_from_height,
)

MAPS = ("albedo", "roughness", "metallic", "normal")
METALS = ("brushed-steel",)  # bare metal everywhere


@pytest.fixture(scope="module")
def sets():
    return builtin_sets()


def mean_linear_luminance(albedo: np.ndarray) -> float:
    return float(luminance(srgb_to_linear(albedo)).mean())


# ---------------------------------------------------------------------------------------
# seamless: the step from the last row (column) to the first is like the steps inside


def line_steps(image: np.ndarray, axis: int) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Mean |step| across the wrap-around seam of ``axis`` and of every interior line
    pair, and the per-texel |steps| of the seam and of the interior."""
    a = np.moveaxis(image.astype(float).reshape(image.shape[0], image.shape[1], -1), axis, 0)
    inside = np.abs(np.diff(a, axis=0))  # (S-1, S, C)
    seam = np.abs(a[0] - a[-1])  # (S, C)
    return float(seam.mean()), inside.mean(axis=(1, 2)), seam.ravel(), inside.ravel()


def assert_seamless(image: np.ndarray, what: str) -> None:
    for axis in (0, 1):
        seam, lines, seam_texels, inside_texels = line_steps(image, axis)
        # the seam's mean step is no larger than the largest of the interior lines' ...
        assert seam <= lines.max() + 0.5, (what, axis, seam, lines.max())
        # ... and its big steps are no bigger than the interior's big steps
        assert np.quantile(seam_texels, 0.95) <= np.quantile(inside_texels, 0.999) + 1, (what, axis)


def test_the_seam_check_sees_a_seam():
    """A window of a larger tile is not seamless: the checker must say so."""
    oak = builtin_set("oak", 512).albedo[:256, :256]
    concrete = builtin_set("concrete", 512).albedo[:256, :256]
    for image in (oak, concrete):
        with pytest.raises(AssertionError):
            assert_seamless(image, "window")
    ramp = np.tile(np.arange(64, dtype=np.uint8)[None, :] * 4, (64, 1))
    with pytest.raises(AssertionError):
        assert_seamless(ramp, "ramp")


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_every_map_of_every_builtin_set_is_seamless(sets, name):
    for field in MAPS:
        assert_seamless(getattr(sets[name], field), f"{name}.{field}")


# ---------------------------------------------------------------------------------------
# the built-in sets


def test_builtin_sets_cover_every_class_and_have_the_right_maps(sets):
    assert tuple(sets) == BUILTIN_NAMES
    assert {s.material_class for s in sets.values()} == set(MATERIAL_CLASSES)
    for name in ("oak", "walnut", "brushed-steel", "painted-metal", "plastic", "glazed-ceramic", "linen", "paper",
                 "cardboard", "rubber", "concrete", "granite", "frosted-glass", "floor-tiles", "parquet", "grass",
                 "plaster"):
        assert name in sets
    assert {sets[n].surface for n in ("floor-tiles", "parquet", "grass")} == {"floor"}
    assert sets["plaster"].surface == "wall"
    for name, s in sets.items():
        assert isinstance(s, TextureSet) and s.name == name and s.size == 256 and not s.absolute
        assert s.albedo.shape == (256, 256, 3) and s.normal.shape == (256, 256, 3)
        assert s.roughness.shape == (256, 256) and s.metallic.shape == (256, 256)
        assert all(getattr(s, f).dtype == np.uint8 for f in MAPS)
        assert 0.05 <= s.tile_size <= 2.0
        assert all(not getattr(s, f).flags.writeable for f in MAPS)
        assert s.detail() is s.albedo
    assert sets["linen"].tile_size < sets["oak"].tile_size


def test_other_sizes():
    small = builtin_sets(64)
    assert all(s.size == 64 and s.roughness.shape == (64, 64) and s.normal.shape == (64, 64, 3)
               for s in small.values())
    for name, s in small.items():
        if s.surface == "object":
            assert 0.7 <= mean_linear_luminance(s.albedo) <= 0.95, name
        for field in MAPS:
            assert_seamless(getattr(s, field), f"{name}.{field} at 64")
    for bad in (100, 8, 8192, 256.0, True, "256"):
        with pytest.raises(ConfigError, match="power of two"):
            builtin_sets(bad)


def test_unknown_builtin_name():
    with pytest.raises(ConfigError, match=r"'oak'.*valid: .*'walnut'"):
        builtin_set("oka")


def test_builtin_sets_are_the_same_bytes_every_time():
    first = {n: [getattr(s, f).tobytes() for f in MAPS] for n, s in builtin_sets(64).items()}
    assert builtin_sets(64)["oak"] is builtin_sets(64)["oak"]  # kept
    ts.clear_cache()
    again = builtin_sets(64)
    assert {n: [getattr(s, f).tobytes() for f in MAPS] for n, s in again.items()} == first


def _digest(sets) -> str:
    h = hashlib.sha256()
    for name, s in sets.items():
        h.update(name.encode())
        for field in MAPS:
            h.update(getattr(s, field).tobytes())
    return h.hexdigest()


def test_builtin_sets_are_the_same_in_another_process():
    code = ("from scenegen.world.texture_sets import builtin_sets\nimport hashlib\nh = hashlib.sha256()\n"
            "for n, s in builtin_sets(32).items():\n    h.update(n.encode())\n"
            "    for f in ('albedo', 'roughness', 'metallic', 'normal'):\n        h.update(getattr(s, f).tobytes())\n"
            "print(h.hexdigest())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert other.stdout.strip() == _digest(builtin_sets(32))


def test_albedo_is_detail_near_white(sets):
    for name, s in sets.items():
        linear = srgb_to_linear(s.albedo)
        lum = float(luminance(linear).mean())
        if s.surface == "object":
            assert 0.7 <= lum <= 0.95, (name, lum)
            assert lum == pytest.approx(ts.DETAIL_LUMINANCE, abs=0.03) or name == "granite"
            # grey-ish: the channels' means are close (no colour of its own)
            means = linear.reshape(-1, 3).mean(axis=0)
            assert means.max() - means.min() < 0.12, (name, means)
        # it varies (a texture, not a flat colour), without clipping most of it
        assert luminance(linear).std() > 0.003, name
        assert (s.albedo == 255).mean() < 0.2, name
    grass = srgb_to_linear(sets["grass"].albedo).reshape(-1, 3).mean(axis=0)
    # a detail for a green floor colour: near neutral, yellower (less blue) where dry
    assert grass[0] > grass[2] and grass.max() - grass.min() < 0.15


def test_metallic_by_class(sets):
    for name, s in sets.items():
        if name in METALS:
            assert (s.metallic == 255).all(), name
        elif name == "painted-metal":
            bare = (s.metallic > 127).mean()
            assert 0.01 < bare < 0.1  # chipped spots of bare metal, paint elsewhere
            assert (s.metallic[s.metallic <= 127] < 30).mean() > 0.98
        else:
            assert (s.metallic == 0).all(), name


def test_roughness_by_material(sets):
    mean = {name: s.roughness.mean() / 255 for name, s in sets.items()}
    assert mean["glazed-ceramic"] < mean["plastic"] < mean["linen"]
    assert mean["glazed-ceramic"] < 0.15 and mean["frosted-glass"] < 0.2 and mean["linen"] > 0.8
    assert mean["brushed-steel"] < 0.45 and mean["concrete"] > 0.8 and mean["rubber"] > 0.7
    tiles = sets["floor-tiles"]
    grout = tiles.albedo.mean(axis=2) < np.quantile(tiles.albedo.mean(axis=2), 0.05)
    assert tiles.roughness[grout].mean() > tiles.roughness[~grout].mean() + 100  # rough grout, glazed tiles
    # wood: roughness follows the grain (the albedo's dark lines)
    for name in ("oak", "walnut"):
        s = sets[name]
        corr = np.corrcoef(s.roughness.ravel(), s.albedo.mean(axis=2).ravel())[0, 1]
        assert corr < -0.5, (name, corr)


def test_patterns_run_the_way_the_material_does(sets):
    """Brushed steel and wood are streaked along u (columns): their texels change far
    less along a row than down a column; linen's weave is the same both ways."""
    def steps(image, axis):
        return np.abs(np.diff(image.astype(float), axis=axis)).mean()

    for name in ("brushed-steel", "walnut", "oak"):
        albedo = sets[name].albedo.mean(axis=2)
        assert steps(albedo, 1) < 0.8 * steps(albedo, 0), name
    linen = sets["linen"].normal.astype(float)
    assert 0.6 < steps(linen, 1) / steps(linen, 0) < 1.6


def test_normal_maps_decode_to_unit_normals(sets):
    for name, s in sets.items():
        raw = s.normal.astype(float) / 127.5 - 1.0  # no renormalisation
        length = np.linalg.norm(raw, axis=-1)
        assert np.abs(length - 1).max() < 0.012, name
        assert (raw[..., 2] > 0).all(), name  # facing out of the surface
        tilt = np.degrees(np.arccos(decode_normals(s.normal)[..., 2]))
        assert tilt.max() < 60, name
    # the weave, the grout and the rubber's bumps show in the normal maps
    for name in ("linen", "floor-tiles", "rubber", "grass", "concrete"):
        tilt = np.degrees(np.arccos(decode_normals(sets[name].normal)[..., 2]))
        assert np.quantile(tilt, 0.95) > 5, name


# ---------------------------------------------------------------------------------------
# normal maps from heights


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-3, 3), b=st.floats(-3, 3), strength=st.floats(0.1, 2), texel=st.floats(1e-4, 1))
def test_normal_of_a_tilted_plane_is_the_analytic_one(a, b, strength, texel):
    """h = a x + b y (x along columns, y towards row 0) has the normal (-a, -b, 1) scaled
    by strength, away from the wrap-around seam (a plane does not tile)."""
    size = 16
    rows, cols = np.mgrid[0:size, 0:size]
    height = a * cols * texel + b * (size - 1 - rows) * texel
    got = decode_normals(normal_from_height(height, strength, texel))[1:-1, 1:-1]
    expected = np.array([-strength * a, -strength * b, 1.0])
    expected /= np.linalg.norm(expected)
    assert np.abs(got - expected).max() < 0.012


def test_tilt_along_x_and_the_opengl_convention():
    """A plane rising along +x leans its normal to -x (red below 128); a bump's upper
    side (towards row 0) faces up: green above 128 (OpenGL, +Y up)."""
    x = np.tile(np.arange(32, dtype=float), (32, 1))
    n = normal_from_height(0.5 * x, 1.0, 1.0)[4:-4, 4:-4].astype(int)
    expected = encode_normals(np.array([-0.5, 0.0, 1.0]) / np.hypot(0.5, 1.0))
    assert (np.abs(n - expected) <= 1).all()
    rows, cols = np.mgrid[0:32, 0:32]
    bump = np.exp(-((rows - 16.0) ** 2 + (cols - 16.0) ** 2) / 20.0)
    normal = normal_from_height(bump, 1.0, 0.2).astype(int)
    assert normal[12, 16, 1] > 140 and normal[20, 16, 1] < 116  # above: up; below: down
    assert normal[16, 12, 0] < 116 and normal[16, 20, 0] > 140  # left: -x; right: +x


def test_constant_height_is_flat():
    assert (normal_from_height(np.full((8, 8), 3.0)) == np.array(ts.FLAT_NORMAL)).all()
    height = np.zeros((32, 32))
    height[:, 16:] = np.sin(np.arange(32) / 3.0)[:, None] * np.arange(16)[None, :]
    normal = normal_from_height(height, 1.0, 0.1)
    assert (normal[:, 1:15] == np.array([128, 128, 255])).all()  # constant where its neighbours are
    assert not (normal[:, 17:31] == np.array([128, 128, 255])).all(axis=-1).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shift=st.tuples(st.integers(0, 31), st.integers(0, 31)))
def test_normal_from_height_wraps_around(seed, shift):
    """Shifting a height field (cyclically) shifts its normal map: no seam is treated
    differently from the inside."""
    height = np.random.default_rng(seed).normal(size=(32, 32))
    rolled = normal_from_height(np.roll(height, shift, axis=(0, 1)), 0.3, 1.0)
    np.testing.assert_array_equal(rolled, np.roll(normal_from_height(height, 0.3, 1.0), shift, axis=(0, 1)))


def test_normal_from_height_rejects_bad_arguments():
    with pytest.raises(ValueError, match="2-D"):
        normal_from_height(np.zeros(5))
    with pytest.raises(ValueError, match="texel_size"):
        normal_from_height(np.zeros((4, 4)), 1.0, 0.0)


# ---------------------------------------------------------------------------------------
# detail maps from photos


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), colour=st.tuples(*[st.floats(0.05, 1.0)] * 3), spread=st.floats(0, 0.5))
def test_as_detail_removes_the_colour_and_keeps_the_variation(seed, colour, spread):
    rng = np.random.default_rng(seed)
    variation = np.clip(1.0 + spread * rng.standard_normal((24, 24, 1)), 0.05, None)
    photo = linear_to_srgb(np.clip(np.array(colour) * variation, 0, 1))
    detail = as_detail(photo)
    assert detail.shape == photo.shape and detail.dtype == np.uint8
    linear = srgb_to_linear(detail)
    assert mean_linear_luminance(detail) == pytest.approx(0.85, abs=0.03)
    means = linear.reshape(-1, 3).mean(axis=0)
    assert means.max() - means.min() < 0.05  # its own colour is gone
    if spread > 0.05 and luminance(srgb_to_linear(photo)).std() > 0.02:
        photo_lum, detail_lum = luminance(srgb_to_linear(photo)).ravel(), luminance(linear).ravel()
        assert np.corrcoef(photo_lum, detail_lum)[0, 1] > 0.9  # the pattern stays


def test_as_detail_keeps_hue_variation_small():
    photo = np.zeros((8, 8, 3), dtype=np.uint8)
    photo[:, :4] = (200, 60, 60)
    photo[:, 4:] = (60, 60, 200)
    linear = srgb_to_linear(as_detail(photo))
    chroma = linear.max(axis=-1) - linear.min(axis=-1)
    photo_chroma = srgb_to_linear(photo).max(axis=-1) - srgb_to_linear(photo).min(axis=-1)
    assert chroma.max() < 0.5 * photo_chroma.max()


# ---------------------------------------------------------------------------------------
# folders of texture sets


def write_image(path, pixels, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels), mode).save(path)


def dx_normal_image(size: int, n) -> np.ndarray:
    """A uniform normal map of normal ``n`` (OpenGL frame) written in the DirectX
    convention (green flipped)."""
    n = np.asarray(n, dtype=float) / np.linalg.norm(n)
    encoded = encode_normals(n * np.array([1, -1, 1]))
    return np.broadcast_to(encoded, (size, size, 3)).copy()


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "textures"
    rng = np.random.default_rng(5)
    # ambientCG: Wood049_2K-JPG_<map>.jpg, both normal conventions, a displacement map
    wood = root / "wood" / "Wood049"
    colour = np.zeros((200, 300, 3), dtype=np.uint8)
    colour[:, :50] = (255, 0, 0)  # cropped away: only the centre square stays
    colour[:, 250:] = (255, 0, 0)
    colour[:, 50:250] = (120, 80, 40)
    write_image(wood / "Wood049_2K-JPG_Color.png", colour)
    write_image(wood / "Wood049_2K-JPG_Roughness.png", np.full((256, 256), 200, dtype=np.uint8))
    write_image(wood / "Wood049_2K-JPG_NormalGL.png", np.broadcast_to(np.uint8([128, 200, 230]), (64, 64, 3)).copy())
    write_image(wood / "Wood049_2K-JPG_NormalDX.png", np.broadcast_to(np.uint8([128, 56, 230]), (64, 64, 3)).copy())
    write_image(wood / "Wood049_2K-JPG_Displacement.png", rng.integers(0, 255, (64, 64), dtype=np.uint8))
    # Poly Haven: <name>_<map>_<res>, a DirectX normal only, a 16-bit roughness, meta.yaml
    plate = root / "metal" / "rusty_plate"
    write_image(plate / "rusty_plate_diff_1k.jpg", rng.integers(60, 200, (128, 128, 3), dtype=np.uint8))
    write_image(plate / "rusty_plate_nor_dx_1k.png", dx_normal_image(128, (0.3, 0.4, 1.0)))
    write_image(plate / "rusty_plate_rough_1k.png", np.full((128, 128), 65535 // 4, dtype=np.uint16))
    (plate / "meta.yaml").write_text("tile_size: 0.5\n")
    # only a base colour, upper-case suffix, and a README beside it
    write_image(root / "metal" / "plain" / "plain_BASECOLOR.png", np.full((32, 32, 3), 90, dtype=np.uint8))
    (root / "metal" / "plain" / "README.txt").write_text("not an image")
    write_image(root / "plastic" / "toy" / "toy_Albedo.png", rng.integers(0, 255, (16, 16, 3), dtype=np.uint8))
    (root / "LICENSE.txt").write_text("CC0")
    return root


def test_load_ambientcg_and_poly_haven_layouts(library):
    sets = load_texture_sets(library)
    assert list(sets) == ["Wood049", "plain", "rusty_plate", "toy"]
    wood = sets["Wood049"]
    assert wood.material_class == "wood" and wood.absolute and wood.surface == "object"
    assert wood.size == 128  # 300 x 200: the centre 200 x 200, then the largest power of two below
    assert (np.abs(wood.albedo.astype(int) - (120, 80, 40)) <= 3).all()  # the red sides were cropped away
    assert (np.abs(wood.roughness.astype(int) - 200) <= 1).all()
    assert (wood.metallic == 0).all()
    assert wood.normal[..., 1].mean() > 190  # the OpenGL map, not the DirectX one
    assert wood.tile_size == 1.0
    plate = sets["rusty_plate"]
    assert plate.material_class == "metal" and plate.tile_size == 0.5 and plate.size == 128
    assert (plate.metallic == 255).all()  # the class metal without a metalness map
    assert (np.abs(plate.roughness.astype(int) - 64) <= 1).all()  # 16-bit values read as such
    n = decode_normals(plate.normal)[64, 64]
    expected = np.array([0.3, 0.4, 1.0]) / np.linalg.norm([0.3, 0.4, 1.0])
    assert np.abs(n - expected).max() < 0.02  # green flipped back to OpenGL: +Y
    plain = sets["plain"]
    assert plain.size == 32 and (plain.roughness == 128).all() and (plain.metallic == 255).all()
    assert (plain.normal == np.array([128, 128, 255])).all()
    toy = sets["toy"]
    assert toy.material_class == "plastic" and (toy.metallic == 0).all()
    # the renderer's choice: the photo's colour, or its detail
    assert mean_linear_luminance(plain.detail()) == pytest.approx(0.85, abs=0.01)
    assert mean_linear_luminance(wood.detail()) == pytest.approx(0.85, abs=0.01)
    assert np.array_equal(wood.albedo, wood.albedo) and wood.detail() is not wood.albedo


def test_loaded_images_are_resized_to_a_power_of_two_at_most_max_size(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "lib" / "stone" / "slab"
    write_image(folder / "slab_Color.png", rng.integers(0, 255, (300, 300, 3), dtype=np.uint8))
    write_image(folder / "slab_Roughness.png", rng.integers(0, 255, (40, 40), dtype=np.uint8))
    write_image(folder / "slab_arm_2k.png", rng.integers(0, 255, (40, 40, 3), dtype=np.uint8))
    slab = load_texture_sets(tmp_path / "lib", max_size=64)["slab"]
    assert slab.size == 64 and slab.roughness.shape == (64, 64) and slab.metallic.shape == (64, 64)
    assert slab.metallic.std() > 0  # from the arm image's blue channel
    assert load_texture_sets(tmp_path / "lib")["slab"].size == 256


@pytest.mark.parametrize(("filename", "kind"), [
    ("Wood049_2K-JPG_Color.jpg", "albedo"), ("Metal_BaseColor.png", "albedo"), ("x_Albedo.tif", "albedo"),
    ("x_Diffuse.png", "albedo"), ("wood_table_001_diff_2k.jpg", "albedo"), ("x_basecolor.png", "albedo"),
    ("Wood049_2K-JPG_Roughness.jpg", "roughness"), ("wood_table_001_rough_4k.png", "roughness"),
    ("x_Metalness.png", "metallic"), ("x_Metallic.png", "metallic"), ("y_metal_1k.png", "metallic"),
    ("Wood049_2K-JPG_NormalGL.jpg", "normal_gl"), ("x_Normal.png", "normal_gl"),
    ("wood_table_001_nor_gl_2k.jpg", "normal_gl"), ("Wood049_2K-JPG_NormalDX.jpg", "normal_dx"),
    ("wood_table_001_nor_dx_2k.exr", "normal_dx"), ("wood_table_001_arm_2k.jpg", "arm"), ("albedo.png", "albedo"),
    ("Wood049_2K-JPG_Displacement.jpg", None), ("wood_table_001_disp_2k.png", None),
    ("Wood049_2K-JPG_AmbientOcclusion.jpg", None), ("preview.png", None), ("x_colorful.png", None),
])
def test_map_names(filename, kind):
    assert map_kind(filename) == kind


@settings(max_examples=50, deadline=None)
@given(prefix=st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}", fullmatch=True),
       kind=st.sampled_from(sorted(ts.MAP_SUFFIXES)), data=st.data())
def test_map_names_any_case_and_resolution(prefix, kind, data):
    end = data.draw(st.sampled_from(ts.MAP_SUFFIXES[kind]))
    end = "".join(c.upper() if data.draw(st.booleans()) else c for c in end)
    resolution = data.draw(st.sampled_from(["", "_1k", "_2K", "_16k"]))
    assert map_kind(f"{prefix}{end}{resolution}.png") == kind


def test_error_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match=r"nowhere.*does not exist.*'ceramic'.*'wood'"):
        load_texture_sets(tmp_path / "nowhere")


def test_error_unknown_class_with_did_you_mean(library):
    write_image(library / "woood" / "x" / "x_Color.png", np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ConfigError) as info:
        load_texture_sets(library)
    message = str(info.value)
    assert "woood" in message and "did you mean 'wood'" in message
    assert all(repr(c) in message for c in MATERIAL_CLASSES)


def test_error_set_without_a_base_colour(library):
    folder = library / "stone" / "no_colour"
    write_image(folder / "no_colour_Roughness.png", np.zeros((4, 4), dtype=np.uint8))
    write_image(folder / "no_colour_NormalGL.png", np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ConfigError) as info:
        load_texture_sets(library)
    message = str(info.value)
    assert str(folder) in message and "no base colour" in message
    assert "no_colour_Roughness.png" in message and "no_colour_NormalGL.png" in message
    assert all(end in message for end in ("_color", "_basecolor", "_albedo", "_diffuse", "_diff"))


def test_error_unreadable_image(library):
    broken = library / "paper" / "sheet" / "sheet_Color.png"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a png at all")
    with pytest.raises(ConfigError, match=r"sheet_Color\.png.*not a readable image"):
        load_texture_sets(library)


def test_error_two_images_of_one_map(library):
    write_image(library / "wood" / "Wood049" / "Wood049_Albedo.png", np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ConfigError, match=r"Wood049.*two base colour images.*Wood049_2K-JPG_Color\.png"):
        load_texture_sets(library)


def test_error_two_sets_of_one_name(library):
    write_image(library / "plastic" / "plain" / "plain_Color.png", np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ConfigError, match="two texture sets named 'plain'"):
        load_texture_sets(library)


@pytest.mark.parametrize(("text", "match"), [
    ("tile_size: -1\n", "tile_size -1 is not valid"),
    ("tile_size: big\n", "tile_size 'big' is not valid"),
    ("size: 2\n", r"mapping of 'surface', 'tile_size'"),
    ("surface: ceiling\n", r"'ceiling' is unknown; valid: 'floor', 'object', 'wall'"),
    ("tile_size: [\n", "not valid YAML"),
])
def test_error_broken_meta(library, text, match):
    meta = library / "metal" / "rusty_plate" / "meta.yaml"
    meta.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        load_texture_sets(library)
    assert str(meta) in str(info.value)


def test_meta_surface(library):
    (library / "metal" / "rusty_plate" / "meta.yaml").write_text("tile_size: 2\nsurface: floor\n")
    plate = load_texture_sets(library)["rusty_plate"]
    assert plate.surface == "floor" and plate.tile_size == 2.0


def test_error_empty_folder_image_in_class_folder_and_bad_max_size(tmp_path, library):
    (tmp_path / "empty" / "wood").mkdir(parents=True)
    with pytest.raises(ConfigError, match="holds no texture set"):
        load_texture_sets(tmp_path / "empty")
    write_image(library / "wood" / "stray_Color.png", np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ConfigError, match=r"stray_Color\.png: an image directly in a class folder"):
        load_texture_sets(library)
    for bad in (0, 1.5, True):
        with pytest.raises(ConfigError, match="max_size"):
            load_texture_sets(library, max_size=bad)


def test_texture_set_checks_its_maps():
    good = builtin_set("plastic", 16)
    maps = {f: getattr(good, f) for f in MAPS}
    TextureSet("mine", "plastic", tile_size=0.2, **maps)
    with pytest.raises(ConfigError, match="roughness must be uint8 of shape"):
        TextureSet("mine", "plastic", tile_size=0.2, **{**maps, "roughness": maps["roughness"][:8]})
    with pytest.raises(ConfigError, match="normal must be uint8"):
        TextureSet("mine", "plastic", tile_size=0.2, **{**maps, "normal": maps["normal"].astype(float)})
    with pytest.raises(ConfigError, match=r"material class 'wool' is unknown; valid: .*'fabric'"):
        TextureSet("mine", "wool", tile_size=0.2, **maps)
    with pytest.raises(ConfigError, match="tile_size 0 is not valid"):
        TextureSet("mine", "plastic", tile_size=0, **maps)
