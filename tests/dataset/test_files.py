import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scenegen import runs
from scenegen.dataset import files
from scenegen.dataset.files import (
    LAYER_FOLDERS,
    LAYER_PNG_FILTERS,
    depth_to_uint16,
    encode_png,
    normals_to_uint8,
    read_depth,
    read_normals,
    read_parts,
    read_png,
    read_record,
    write_scene,
)
from scenegen.errors import DepthOverflowError
from scenegen.scene.frame import Frame
from scenegen.world.sampler import Sampler


@given(arrays(np.float32, (7, 9), elements=st.floats(0, 30, width=32)), st.sampled_from([0.5, 1.0]))
@example(np.full((7, 9), 0.00025, np.float32), 0.5)  # half a step in float32, not in float64
def test_depth_round_trip_within_half_a_step(tmp_path_factory, depth, scale):
    path = tmp_path_factory.mktemp("d") / "d.png"
    path.write_bytes(encode_png(depth_to_uint16(depth, scale), 1))
    back = read_depth(path, scale)
    assert back.dtype == np.float32
    assert np.abs(back - depth).max() <= 0.5e-3 * scale + 1e-5
    # the encoding's definition: metres in float64 times 1000 / scale, rounded (a float32 product
    # lands exactly on half a step for 0.00025 m at scale 0.5 and rounds the other way)
    np.testing.assert_array_equal(back == 0, np.rint(depth.astype(np.float64) * (1000.0 / scale)) == 0)


def test_depth_overflow_is_refused_never_clipped():
    depth = np.array([[1.0, 70.0]], np.float32)
    with pytest.raises(DepthOverflowError, match="depth_scale"):
        depth_to_uint16(depth, 1.0)
    assert depth_to_uint16(depth, 2.0).max() == 35000


@given(arrays(np.uint16, (5, 6)))
def test_uint16_png_round_trip_is_exact(tmp_path_factory, ids):
    path = tmp_path_factory.mktemp("i") / "i.png"
    path.write_bytes(encode_png(ids, 1))
    back = read_png(path)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, ids)


def test_png_bytes_are_deterministic():
    rgb = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    assert encode_png(rgb, 1) == encode_png(rgb.copy(), 1)


@given(arrays(np.uint8, (5, 6)))
def test_part_png_round_trip_is_exact(tmp_path_factory, parts):
    path = tmp_path_factory.mktemp("p") / "p.png"
    path.write_bytes(encode_png(parts, 1))
    back = read_parts(path)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, parts)


def test_read_parts_refuses_other_images(tmp_path):
    path = tmp_path / "ids.png"
    path.write_bytes(encode_png(np.zeros((3, 4), np.uint16), 1))
    with pytest.raises(ValueError, match="8-bit single-channel"):
        read_parts(path)


def random_normals(rng, h, w):
    normals = rng.normal(size=(h, w, 3))
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    normals[0, :] = 0  # no surface
    return normals.astype(np.float32)


def test_normals_png_round_trip_within_half_a_degree(tmp_path):
    normals = random_normals(np.random.default_rng(1), 30, 40)
    normals[1, 0] = [0.0, 0.0, -1.0]
    normals[1, 1] = [-1.0, 0.0, 0.0]
    path = tmp_path / "n.png"
    path.write_bytes(encode_png(normals_to_uint8(normals), 1))
    back = read_normals(path)
    assert back.dtype == np.float32 and back.shape == normals.shape
    np.testing.assert_array_equal(np.any(back != 0, axis=-1), np.any(normals != 0, axis=-1))
    surface = np.any(normals != 0, axis=-1)
    np.testing.assert_allclose(np.linalg.norm(back[surface], axis=-1), 1.0, atol=1e-6)
    cosine = np.clip(np.sum(back[surface] * normals[surface], axis=-1), -1, 1)
    assert np.degrees(np.arccos(cosine)).max() < 0.5
    assert (read_png(path)[0] == 0).all()


def normals_to_uint8_by_definition(normals: np.ndarray) -> np.ndarray:
    """clip(rint((n + 1) 127.5)) in float64 a channel at a time, (0, 0, 0) where every
    component is 0."""
    work = np.clip(np.rint((normals.astype(np.float64) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    work[~np.any(normals != 0, axis=-1)] = 0
    return work


@given(st.integers(0, 2**32 - 1), st.sampled_from([np.float32, np.float64]), st.integers(1, 60),
       st.sampled_from([1.0, runs.MOST_RUNS]))
def test_normals_encode_pixel_by_pixel_as_defined(seed, dtype, run, most_runs):
    """Normals in runs of equal pixels (each run is encoded once: always, with
    ``MOST_RUNS`` 1, else only where runs are few), with zeros of both signs, NaN and
    components beyond [-1, 1]."""
    runs.MOST_RUNS, kept = most_runs, runs.MOST_RUNS
    try:
        check_normals_encoding(seed, dtype, run)
    finally:
        runs.MOST_RUNS = kept


def check_normals_encoding(seed, dtype, run):
    rng = np.random.default_rng(seed)
    normals = random_normals(rng, 24, 36).astype(dtype)
    normals = np.repeat(normals.reshape(-1, 3), run, axis=0)[: 24 * 36].reshape(24, 36, 3)
    normals[2, :5] = [-0.0, 0.0, -0.0]
    normals[3, 3] = [np.nan, 0.5, 0.5]
    normals[4, :4] = rng.normal(size=(4, 3)) * 3
    got = normals_to_uint8(normals)
    assert got.dtype == np.uint8 and got.shape == normals.shape
    np.testing.assert_array_equal(got, normals_to_uint8_by_definition(normals))


def random_frame(rng, h: int, w: int, n: int) -> Frame:
    """A Frame of (h, w) random layers for a scene of n objects."""
    instances = rng.integers(0, n + 1, (h, w)).astype(np.uint16)
    parts = np.where(instances > 0, rng.integers(1, 12, (h, w)), 0).astype(np.uint8)
    return Frame(rgb=rng.integers(0, 256, (h, w, 3)).astype(np.uint8), depth=rng.random((h, w)).astype(np.float32),
                 instances=instances, semantic=(instances > 0).astype(np.uint8), parts=parts,
                 amodal=np.zeros((n, h, w), bool), normals=random_normals(rng, h, w))


def test_write_scene_writes_every_layer_atomically_and_deterministically(tmp_path, cfg, dictionary):
    scene = Sampler(cfg, dictionary).sample(5)
    h, w = 6, 8
    frame = random_frame(np.random.default_rng(0), h, w, len(scene.objects))
    instances, parts = frame.instances, frame.parts
    record = write_scene(tmp_path / "a", scene, frame, [], cfg.output)
    stem = f"{scene.index:06d}"
    assert record["files"] == {layer: f"{folder}/{stem}.png" for layer, folder in LAYER_FOLDERS.items()}
    assert record["files"]["parts"] == f"parts/{stem}.png"
    assert record["files"]["normals"] == f"normals/{stem}.png"
    assert read_normals(tmp_path / "a" / record["files"]["normals"]).shape == (h, w, 3)
    assert {tuple(sorted(r)) for r in record["relations"]} <= {("object", "relation", "subject")}
    assert read_record(tmp_path / "a", scene.index) == record
    np.testing.assert_array_equal(read_parts(tmp_path / "a" / record["files"]["parts"]), parts)
    np.testing.assert_array_equal(read_png(tmp_path / "a" / record["files"]["instances"]), instances)
    assert not list((tmp_path / "a").rglob("*.tmp"))
    write_scene(tmp_path / "b", scene, frame, [], cfg.output)
    for relative in [*record["files"].values(), f"scenes/{stem}.json"]:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes(), relative


def test_writer_encodes_colour_layers_with_fpng_else_zlib_all_exact(tmp_path, cfg, dictionary, monkeypatch):
    """RGB and normals are fpng's bytes where fpng is installed, scenegen's own without
    it; every layer decodes exactly to what was written (depth and ids in 16 bits)."""
    fpng = pytest.importorskip("fpng")
    scene = Sampler(cfg, dictionary).sample(2)
    frame = random_frame(np.random.default_rng(4), 40, 56, len(scene.objects))
    level = int(cfg.output.png_compress_level)
    assert level == files.FPNG_COMPRESS_LEVEL  # the default goes to fpng
    expected = {"rgb": frame.rgb, "normals": normals_to_uint8(frame.normals), "instances": frame.instances,
                "parts": frame.parts, "semantic": frame.semantic,
                "depth": depth_to_uint16(frame.depth, float(cfg.output.depth_scale))}
    written = {}
    for encoder in ("fpng", "zlib"):
        if encoder == "zlib":
            monkeypatch.setattr(files, "fpng", None)
        root = tmp_path / encoder
        record = write_scene(root, scene, frame, [], cfg.output)
        written[encoder] = {name: (root / path).read_bytes() for name, path in record["files"].items()}
        for name, array in expected.items():
            back = read_png(root / record["files"][name])
            assert back.dtype == array.dtype, name
            np.testing.assert_array_equal(back, array, err_msg=name)
    for name in ("rgb", "normals"):
        assert written["fpng"][name] == fpng.from_ndarray(expected[name]), name
        assert written["zlib"][name] == encode_png(expected[name], level, LAYER_PNG_FILTERS[name]), name
    for name in ("depth", "instances", "parts", "semantic"):
        assert written["fpng"][name] == written["zlib"][name] == encode_png(expected[name], level,
                                                                            LAYER_PNG_FILTERS[name]), name
