"""The manifest's config text (scenegen.dataset.pipeline.config_yaml) is OmegaConf's YAML of
the config, whether it is dumped or read back from the cache folder: keyed by the data in
its key order, checked when read, so a spoilt kept file is dumped again."""

from __future__ import annotations

import tempfile

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from kept_files import spoil as spoil_file
from omegaconf import OmegaConf
from omegaconf._utils import get_omega_conf_dumper

from scenegen import load_config
from scenegen.cache import kind_dir
from scenegen.dataset.pipeline import CONFIG_YAML_CACHE, config_yaml
from scenegen.dataset.shards import data_config
from scenegen.resources import cache_dir


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """An empty cache folder."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _dumped(data: dict) -> str:
    return yaml.dump(data, default_flow_style=False, allow_unicode=True, sort_keys=False,
                     Dumper=get_omega_conf_dumper())


def _kept_files(folder):
    """The kept texts of the cache folder ``folder`` (the one in use)."""
    assert cache_dir() == folder
    return sorted(kind_dir(CONFIG_YAML_CACHE).glob("*"))


def test_the_whole_config_is_omegaconfs_yaml_dumped_then_kept(folder):
    data = data_config(load_config(["n=3", "seed=5"]))
    expected = OmegaConf.to_yaml(OmegaConf.create(data))
    assert config_yaml(data) == expected and len(_kept_files(folder)) == 1
    kept = _kept_files(folder)[0].read_bytes()
    assert kept.endswith(expected.encode())
    assert config_yaml(data) == expected and _kept_files(folder)[0].read_bytes() == kept  # read, not dumped again


def test_key_order_is_part_of_the_key(folder):
    data = {"b": 1, "a": {"y": [1, 2], "x": "text"}}
    reordered = {"a": {"x": "text", "y": [1, 2]}, "b": 1}
    assert config_yaml(data) == _dumped(data) != config_yaml(reordered) == _dumped(reordered)
    assert len(_kept_files(folder)) == 2


@pytest.mark.parametrize("how", ["torn", "garbage", "foreign", "same-length-other-text"])
def test_a_spoilt_kept_text_is_dumped_again(folder, how):
    data = {"lighting": {"environment": "random"}, "n": 7, "names": ["a", "b"]}
    expected = config_yaml(data)
    (kept,) = _kept_files(folder)
    if how == "same-length-other-text":  # the digest line fails where the length does not
        kept.write_bytes(kept.read_bytes().replace(b"random", b"RANDOM"))
    else:
        spoil_file(kept, how, other_arrays=dict)
    assert config_yaml(data) == expected
    assert config_yaml(data) == expected and kept.read_bytes().endswith(expected.encode())  # kept whole again


def test_a_value_json_cannot_name_is_dumped_and_not_kept(folder):
    data = {"blob": b"\x00\x01", "n": 1}
    assert config_yaml(data) == _dumped(data) and not _kept_files(folder)


_SCALARS = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12)
_KEYS = st.text(min_size=1, max_size=8)
_CONFIGS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
                        max_leaves=20)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_KEYS, _CONFIGS, min_size=1, max_size=5))
def test_kept_and_read_back_texts_are_the_dumped_text(data):
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCENEGEN_CACHE", folder)
        expected = _dumped(data)
        assert config_yaml(data) == expected  # dumped and kept
        assert config_yaml(data) == expected  # read back
