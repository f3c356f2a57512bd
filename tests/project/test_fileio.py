import enum
import json
import os
from collections import OrderedDict, namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen import fileio
from scenegen.dataset import layout
from scenegen.fileio import (
    atomic_write_bytes,
    atomic_writer,
    dumps_json,
    nested_json,
    read_json,
    sha256_file,
    to_plain,
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
    for bad in ([1.0, float("inf")], {"a": {"b": -float("inf")}}, np.float64("nan"), (np.float32("inf"),)):
        with pytest.raises(ValueError, match="Out of range float"):
            dumps_json(bad)


class _Level(str, enum.Enum):
    LOW = "low"


class _Count(int, enum.Enum):
    TWO = 2


_Pair = namedtuple("_Pair", "a b")


def _json_text(value, level: int = 0) -> str:
    """What dumps_json and nested_json are defined to give: json's own text."""
    text = json.dumps(to_plain(value), sort_keys=True, indent=1, allow_nan=False)
    return text.replace("\n", "\n" + " " * level)


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6), st.sampled_from([np.float32(0.1), np.float64(-0.0), np.int64(-7), np.uint16(9),
                                          np.bool_(False), np.str_("é\n"), _Level.LOW, _Count.TWO, 1e16, 5e-324]))
_KEYS = st.one_of(st.text(max_size=4), st.integers(-3, 3), st.sampled_from([_Level.LOW, 1.5, True, None]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(_KEYS, inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=3).map(OrderedDict),
    st.tuples(inner, inner).map(lambda t: _Pair(*t)),
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6).map(np.array)), max_leaves=24)


@given(value=_VALUES, level=st.integers(0, 3))
@settings(max_examples=400, deadline=None)
def test_json_text_is_json_dumps_text(value, level):
    """dumps_json and nested_json write what json.dumps(to_plain(value), sort_keys=True,
    indent=1) writes (indented ``level`` deep), for plain values, numpy values, tuples,
    subclasses of str, int, dict and tuple, and keys that are not strings."""
    assert dumps_json(value) == _json_text(value) + "\n"
    assert nested_json(value, level) == _json_text(value, level)


def test_json_refuses_what_json_refuses():
    for bad in (object(), {"a": [1, {"b": {1, 2}}]}, np.datetime64("2020-01-01")):
        with pytest.raises(TypeError):
            json.dumps(to_plain(bad))
        with pytest.raises(TypeError, match="not JSON serializable"):
            dumps_json(bad)


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


def test_short_writes_are_continued_and_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")
    real_write, calls = os.write, []

    def short_write(fd, data):  # the kernel may write fewer bytes than asked
        calls.append(len(data))
        return real_write(fd, bytes(data[:3]))

    monkeypatch.setattr(os, "write", short_write)
    atomic_write_bytes(target, b"0123456789")
    assert target.read_bytes() == b"0123456789" and calls == [10, 7, 4, 1]

    def failing_write(fd, data):
        real_write(fd, bytes(data[:2]))
        raise OSError("disk full")

    monkeypatch.setattr(os, "write", failing_write)
    open_before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new bytes")
    assert target.read_bytes() == b"0123456789" and os.listdir(tmp_path) == ["f.bin"]
    assert set(os.listdir("/proc/self/fd")) <= open_before  # its file closed
    assert not fileio._IN_FLIGHT


@pytest.mark.parametrize("write", ["bytes", "writer"])
def test_temporary_names_never_take_an_existing_file(tmp_path, monkeypatch, write):
    """The temporary file gets a name of the layout's pattern; a name already taken (a
    user's file, another writer's) is skipped, not opened; after 100 taken names the write
    fails and nothing is written."""
    taken = tmp_path / ".f.bin.abababab.tmp"
    taken.write_bytes(b"someone else's")
    draws = iter([b"\xab" * 4, b"\xab" * 4, b"\x01\x02\x03\x04"])
    monkeypatch.setattr(os, "urandom", lambda size: next(draws))
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (seen.append(os.path.basename(src)), real_replace(src, dst)))

    def save(path, data):
        if write == "bytes":
            atomic_write_bytes(path, data)
        else:
            with atomic_writer(path) as handle:
                handle.write(data)

    save(tmp_path / "f.bin", b"mine")
    assert seen == [".f.bin.01020304.tmp"] and layout.TEMPORARY_NAME.fullmatch(seen[0])
    assert (tmp_path / "f.bin").read_bytes() == b"mine" and taken.read_bytes() == b"someone else's"

    monkeypatch.setattr(os, "urandom", lambda size: b"\xab" * 4)
    with pytest.raises(FileExistsError, match="100 tries"):
        save(tmp_path / "f.bin", b"again")
    assert (tmp_path / "f.bin").read_bytes() == b"mine"
    assert sorted(os.listdir(tmp_path)) == [".f.bin.abababab.tmp", "f.bin"]


def test_missing_folders_are_made_with_ordinary_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    atomic_write_bytes(tmp_path / "a" / "b" / "f.bin", b"x")
    with atomic_writer(tmp_path / "c" / "g.bin") as handle:
        handle.write(b"y")
    for folder in ("a", "a/b", "c"):
        assert (tmp_path / folder).stat().st_mode & 0o777 == 0o777 & ~umask
    for file in ("a/b/f.bin", "c/g.bin"):
        assert (tmp_path / file).stat().st_mode & 0o777 == 0o666 & ~umask


def test_sha256(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    assert sha256_file(tmp_path / "f") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
