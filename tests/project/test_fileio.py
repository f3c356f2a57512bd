import json
import os

import numpy as np
import pytest

from scenegen.fileio import (
    atomic_write_bytes,
    dumps_json,
    read_json,
    sha256_file,
    write_json,
)


def test_json_is_canonical_and_plain(tmp_path):
    data = {"b": np.float32(0.5), "a": (np.int64(3), np.arange(2)), "c": {"z": 1, "y": [np.bool_(True)]}}
    text = dumps_json(data)
    assert text == dumps_json(json.loads(text))
    assert list(json.loads(text)) == ["a", "b", "c"]
    write_json(tmp_path / "x.json", data)
    assert read_json(tmp_path / "x.json") == {"a": [3, [0, 1]], "b": 0.5, "c": {"y": [True], "z": 1}}


def test_json_refuses_nan():
    with pytest.raises(ValueError):
        dumps_json({"x": float("nan")})


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "f.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["f.bin"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_sha256(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    assert sha256_file(tmp_path / "f") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
