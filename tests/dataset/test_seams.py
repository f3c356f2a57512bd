"""The typed seams between the stages: one compiled World per config and process, passed
to the stages; and the public calls the CLI's commands are thin layers over."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

import scenegen
from scenegen import cli
from scenegen.dataset.worker import SceneWorker
from scenegen.world import compile as world_compile
from scenegen.world import grammar as world_grammar
from scenegen.world.compile import World, load_config
from scenegen.world.dictionary import ObjectDictionary
from scenegen.world.grammar import Grammar
from scenegen.world.sampler import Sampler


def test_world_is_memoised_on_the_config_content(small_cfg):
    world = World.of(small_cfg)
    assert World.of(small_cfg) is world
    assert World.of(load_config(["width=96", "height=72"])) is world  # same content, another object
    other = World.of(load_config(["width=64", "height=48"]))
    assert other is not world and other.dictionary is world.dictionary and other.grammar is world.grammar


def test_the_world_key_is_worked_out_once_per_config_object(monkeypatch):
    """A run hands one read-only config to many stages: its content is keyed once while
    the object lives; another object with the same content finds the same World."""
    calls = []
    real = world_compile._memo_key
    monkeypatch.setattr(world_compile, "_memo_key", lambda *args: calls.append(1) or real(*args))
    cfg = load_config(["seed=12"])  # checks its World
    world = World.of(cfg)
    assert World.of(cfg) is world and World.of(cfg) is world and len(calls) == 1
    other = load_config(["seed=12"])
    assert other is not cfg and World.of(other) is world and len(calls) == 2
    ident = id(other)
    assert ident in world_compile._KEYS
    del other
    gc.collect()
    assert ident not in world_compile._KEYS  # forgotten with the config


def test_stages_share_the_world(small_cfg):
    world = World.of(small_cfg)
    assert Sampler(small_cfg).world is world  # the README's shortcut
    sampler = Sampler(world)
    assert (sampler.cfg, sampler.dictionary, sampler.grammar) == (world.cfg, world.dictionary, world.grammar)
    assert sampler.sample(3) == Sampler(small_cfg).sample(3)
    worker = SceneWorker(world, background=False)
    assert worker.world is world and worker.sampler.world is world and worker.dictionary is world.dictionary
    assert world.categories == world.dictionary.categories
    with pytest.raises(TypeError):
        Sampler(world, ObjectDictionary(small_cfg))


def _count(monkeypatch, owner, name, counts, key):
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        counts[key] = counts.get(key, 0) + 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


def test_a_dataset_compiles_its_dictionary_and_grammar_once(tmp_path, monkeypatch):
    cfg = load_config([f"out={tmp_path / 'd'}", "n=3", "width=64", "height=48", "progress=false",
                       "seed=913"])
    saved = (dict(ObjectDictionary._memo), dict(world_grammar._MEMO), dict(world_compile._WORLDS))
    ObjectDictionary._memo.clear()
    world_grammar._MEMO.clear()
    world_compile._WORLDS.clear()
    counts: dict = {}
    try:
        _count(monkeypatch, ObjectDictionary, "__init__", counts, "dictionary")
        _count(monkeypatch, Grammar, "__init__", counts, "grammar")
        _count(monkeypatch, World, "build", counts, "world")
        manifest = scenegen.generate(cfg, progress=False)
    finally:
        for memo, old in zip((ObjectDictionary._memo, world_grammar._MEMO, world_compile._WORLDS), saved):
            memo.update(old)
    assert manifest.scenes_written == 3
    assert counts == {"dictionary": 1, "grammar": 1, "world": 1}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seams") / "d"
    scenegen.generate(load_config([f"out={out}", "n=4", "width=64", "height=48", "progress=false"]), progress=False)
    return out


def _cli(capsys, *argv) -> tuple[str, str]:
    assert cli.main(list(argv)) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_coverage_report_is_what_the_command_prints(dataset, capsys):
    assert _cli(capsys, "coverage", str(dataset))[0] == scenegen.coverage_report(dataset) + "\n"
    assert (_cli(capsys, "coverage", str(dataset), "--strength", "2")[0]
            == scenegen.coverage_report(dataset, strength=2) + "\n")
    assert (_cli(capsys, "coverage", str(dataset), "--format", "md", "--factors", "category,pose")[0]
            == scenegen.coverage_report(dataset, factors=["category", "pose"], format="markdown") + "\n")
    printed = _cli(capsys, "coverage", str(dataset), "--format", "json", "--unit", "scenes", "--min-count", "2")[0]
    assert printed == scenegen.coverage_report(dataset, min_count=2, unit="scenes", format="json") + "\n"
    report = scenegen.coverage_report(dataset, min_count=2, unit="scenes", format="dict")
    assert json.loads(printed) == report and report["unit"] == "scenes" and report["strength"] == 2


def test_coverage_report_writes_html(dataset, tmp_path, capsys):
    details: dict = {}
    path = scenegen.coverage_report(dataset, format="html", details=details)
    assert path == dataset / "coverage.html" and path.is_file()
    assert path.read_text().lstrip().lower().startswith("<!doctype html")
    assert details["strength"] == 2 and details["tuples"] >= details["covered"]
    mine = scenegen.coverage_report(dataset, strength=1, format="html", out=tmp_path / "mine.html")
    assert mine == tmp_path / "mine.html" and mine.is_file()
    err = _cli(capsys, "coverage", str(dataset), "--format", "html", "--out", str(tmp_path / "cli.html"))[1]
    assert err.startswith(f"wrote {tmp_path / 'cli.html'}: {details['covered']} of {details['tuples']} 2-tuples")
    assert (tmp_path / "cli.html").read_bytes() == path.read_bytes()


def test_coverage_report_refuses_unknown_format(dataset):
    with pytest.raises(scenegen.ConfigError, match="format 'pdf' is unknown"):
        scenegen.coverage_report(dataset, format="pdf")


def test_finish_dataset_is_public():
    from scenegen.dataset.generate import finish_dataset

    assert scenegen.finish_dataset is finish_dataset
