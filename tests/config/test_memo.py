"""The config memo: the same inputs give the same config without composing again, any
change of an input or of conf/ gives a new one, and no caller can change another's."""

import json
import shutil

import pytest
from omegaconf import OmegaConf

from scenegen.config import load, memo
from scenegen.config.load import compose_config, config_from_dict, config_to_dict, config_with
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
        if overrides:  # not the defaults' config, which overrides are set on
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
    compose_config([])
    before = set(cache.glob("*.pickle"))
    made = compose_config(["seed=6"])
    files = list(set(cache.glob("*.pickle")) - before)
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
    assert len(calls) == 2 and len(list(cache.glob("*.pickle"))) == 1  # the defaults' config only


def _ordered(cfg) -> str:
    """The config as JSON in its own key order: equal strings mean equal values, types
    (1 vs 1.0) and order."""
    return json.dumps(config_to_dict(cfg))


@pytest.mark.parametrize("overrides", [
    ["seed=91", "width=100", "n=3"],
    ["directive={category:chair,pose:back}", "camera.elevation=[10,30]"],
    ["contexts.room.weight=3", "format=[coco,bop]", "split.held_out=[{category: chair}]"],
    ["colors.red=[1.0,0,0]", "camera.framing={target_fraction: 0.2}", "placement.objects=[2,3]"],
    ["objects.chair.size=[0.5,0.9]", "grammar.sets={}", "grammar.out_of_context=0.5"],
    # value overrides beside config-group choices: set on the groups' composition
    ["out=/tmp/a", "preset=realistic", "seed=3"],
    ["preset=realistic", "lighting.environments=builtin", "height=48"],
    ["grammar=piles", "n=5", "width=64", "directive={category: chair}"],
    ["dictionary=builtin", "contexts=builtin", "objects.chair.size=[0.5,0.9]", "preset=flat"],
])
def test_overrides_set_on_the_defaults_give_hydras_config(overrides):
    fast = load._defaults_with(overrides, "config")
    assert fast is not None and OmegaConf.is_readonly(fast)
    assert _ordered(fast) == _ordered(load._compose_with_hydra(overrides, "config"))


@pytest.mark.parametrize("overrides", [
    ["dictionary=builtin"], ["+extra=1"], ["~seed"], ["nn=3"], ["objects.chair={category: chair}"],
    ["grammar.rules.scene=[{object: chair}]"], ["objects.table.part_rules.top.rect.parts=[]"],
    ["grammar.sets={big: [table, chair]}"], ["out=${oc.env:HOME}"], ["hydra.searchpath=[file:///tmp]"],
    ["seed=1,2"], ["preset=realistic"], ["preset=realistic", "nn=3"], ["grammar=piles", "+extra=1"],
    ["preset=realistic,flat", "seed=2"],
])
def test_what_only_hydra_can_tell_goes_to_hydra(overrides):
    assert load._defaults_with(overrides, "config") is None


def test_config_with_changes_top_level_values_as_a_rebuild_would():
    cfg = compose_config(["seed=2"])
    changed = config_with(cfg, n=40, budget=7)
    assert _ordered(changed) == _ordered(config_from_dict({**config_to_dict(cfg), "n": 40, "budget": 7}))
    assert OmegaConf.is_readonly(changed) and cfg.n == 20  # the original stays as it was
    with pytest.raises(ConfigError, match="unknown config key 'nn'; did you mean 'n'"):
        config_with(cfg, nn=3)
    with pytest.raises(ConfigError, match="'n'"):
        config_with(cfg, n="many")
    with pytest.raises(ConfigError, match="n"):
        config_with(cfg, n=-1)


def test_the_cache_folder_keeps_the_configs_used_last(cache, monkeypatch):
    """Every new out= is a new config: the folder keeps the KEPT_FILES used last."""
    monkeypatch.setattr(memo, "KEPT_FILES", 3)
    for k in range(4):
        compose_config([f"seed={k}"])
    assert len(list(cache.glob("*.pickle"))) == 3
    memo.forget()
    compose_config(["seed=1"])  # read from the folder: now the one used last
    compose_config(["seed=9"])
    memo.forget()
    calls = _counting(monkeypatch)
    compose_config(["seed=1"])
    assert calls == []  # kept: it was used after seeds 2 and 3, which went first
    compose_config(["seed=2"])
    assert calls == [["seed=2"]]
    assert len(list(cache.glob("*.pickle"))) == 3


@pytest.mark.parametrize("overrides", [[], ["n=3", "seed=4"], ["preset=realistic", "width=64"]])
def test_the_plain_containers_kept_with_a_config_are_its_own(cache, overrides):
    for source in ("composed", "memo in this process", "cache folder", "from its dict"):
        if source == "cache folder":
            memo.forget()
        cfg = (config_from_dict(config_to_dict(compose_config(overrides))) if source == "from its dict"
               else compose_config(overrides))
        assert memo.plain_of(cfg) == OmegaConf.to_container(cfg, resolve=True), source
    changed = memo.changing(cfg)
    assert changed is cfg and memo.plain_of(cfg) is None  # a config being changed has none
    assert memo.plain_of(config_with(compose_config(overrides), n=9)) is None  # not the memo's
