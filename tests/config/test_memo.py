"""The config memo: the same inputs give the same config without composing again, any
change of an input or of conf/ gives a new one, and no caller can change another's."""

import shutil

import pytest
from omegaconf import OmegaConf

from scenegen.config import load, memo
from scenegen.config.load import compose_config, config_from_dict, config_to_dict
from scenegen.errors import ConfigError


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder and an empty in-process memo."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path / "cache"))
    memo.forget()
    yield tmp_path / "cache" / "configs"
    memo.forget()


def _counting(monkeypatch) -> list:
    """Counts the compositions that really run (not served by the memo)."""
    calls = []
    real = load._compose

    def counted(overrides, config_name):
        calls.append(list(overrides))
        return real(overrides, config_name)

    monkeypatch.setattr(load, "_compose", counted)
    return calls


def test_same_inputs_compose_once_and_each_caller_gets_its_own_copy(cache, monkeypatch):
    calls = _counting(monkeypatch)
    first = compose_config(["seed=4", "width=64"])
    second = compose_config(["seed=4", "width=64"])
    assert calls == [["seed=4", "width=64"]]
    assert first == second and first is not second
    assert OmegaConf.is_readonly(second)
    OmegaConf.set_readonly(first, False)
    first.width = 99  # a caller that unlocks its copy changes only its own
    assert compose_config(["seed=4", "width=64"]).width == 64
    assert compose_config(["seed=5", "width=64"]).seed == 5
    assert len(calls) == 2


def test_another_process_reads_the_cache_folder_and_a_damaged_file_is_rebuilt(cache, monkeypatch):
    made = compose_config(["seed=6"])
    files = list(cache.glob("*.pickle"))
    assert len(files) == 1
    memo.forget()  # as a new process would start
    calls = _counting(monkeypatch)
    assert compose_config(["seed=6"]) == made and calls == []
    memo.forget()
    files[0].write_bytes(b"torn")
    assert compose_config(["seed=6"]) == made and len(calls) == 1
    assert files[0].read_bytes() != b"torn"


def test_a_changed_conf_file_gives_a_new_config(cache, monkeypatch, tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(load.conf_dir(), conf)
    monkeypatch.setattr(load, "conf_dir", lambda: conf)
    monkeypatch.setattr(memo, "conf_dir", lambda: conf)
    assert compose_config([]).width == 256
    text = (conf / "config.yaml").read_text()
    (conf / "config.yaml").write_text(text.replace("\nwidth: 256", "\nwidth: 128", 1))
    assert compose_config([]).width == 128


def test_config_from_dict_is_remembered_by_content(cache, monkeypatch):
    data = config_to_dict(compose_config([]))
    built = []
    real = load._from_dict
    monkeypatch.setattr(load, "_from_dict", lambda d: built.append(1) or real(d))
    assert config_from_dict(data) == config_from_dict(dict(data))
    assert len(built) == 1
    assert config_from_dict({**data, "n": 3}).n == 3 and len(built) == 2


@pytest.mark.parametrize("overrides", [["hydra.searchpath=[file:///tmp]"], ["out=${oc.env:HOME}/x"]])
def test_inputs_that_read_more_than_conf_are_never_kept(overrides):
    assert memo.compose_key(overrides, "config") is None


def test_errors_are_not_kept(cache, monkeypatch):
    calls = _counting(monkeypatch)
    for _ in range(2):
        with pytest.raises(ConfigError, match="width"):
            compose_config(["width=-3"])
    assert len(calls) == 2 and not list(cache.glob("*.pickle"))
