"""Held-out splits: the guarantees re-checked by brute force from the scene JSON files,
on several seeds, for declared tuples and for a random fraction."""

import itertools
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen import load_config
from scenegen.cli import main
from scenegen.dataset.generate import generate
from scenegen.design.splits import assign_splits, held_out_tuples
from scenegen.errors import ConfigError
from scenegen.fileio import read_json
from scenegen.world.compile import World
from scenegen.world.sampler import Sampler

SIZE = ["width=40", "height=32"]


def shows(obj, t):
    return all(obj["factors"][f] == lv for f, lv in t.items())


def check_guarantees(out):
    """Re-derive the split from the scene JSONs and check the three guarantees."""
    manifest = read_json(out / "manifest.json")
    split, splits = manifest["split"], read_json(out / "splits.json")
    held = split["held_out"]
    records = {i: read_json(out / "scenes" / f"{i:06d}.json") for i in range(manifest["n"])}
    assert sorted(splits["train"] + splits["test"]) == list(range(manifest["n"]))
    train = [obj for i in splits["train"] for obj in records[i]["objects"]]
    test = [obj for i in splits["test"] for obj in records[i]["objects"]]
    for i in splits["test"]:  # a test scene shows a held-out tuple
        assert any(shows(obj, h) for obj in records[i]["objects"] for h in held)
    assert not any(shows(obj, h) for obj in train for h in held)
    for h in held:
        assert any(shows(obj, h) for obj in test), h
        for sub in itertools.combinations(h.items(), len(h) - 1):
            assert any(shows(obj, dict(sub)) for obj in train), (h, sub)
    assert split["guarantees"] == {
        "train_has_no_held_out": True, "sub_tuples_in_train": True, "test_has_every_held_out": True}
    assert (split["train_scenes"], split["test_scenes"]) == (len(splits["train"]), len(splits["test"]))
    return manifest


@pytest.mark.render
def test_declared_held_out_pairs(tmp_path):
    out = tmp_path / "d"
    manifest = generate(load_config([f"out={out}", "n=16", *SIZE,
                                     "split.held_out=[{category: chair, context: room},{category: mug, pose: left}]"]),
                        progress=False)
    check_guarantees(out)
    assert manifest["split"]["held_out"] == [{"category": "chair", "context": "room"},
                                             {"category": "mug", "pose": "left"}]


@pytest.mark.render
def test_coverage_command_shows_the_split(tmp_path, capsys):
    out = tmp_path / "d"
    generate(load_config([f"out={out}", "n=6", *SIZE,
                          "split.held_out=[{category: chair, context: room}]"]), progress=False)
    split = read_json(out / "manifest.json")["split"]
    expected = (f"split: {split['train_scenes']} train and {split['test_scenes']} test scenes, "
                f"1 held-out 2-tuple")
    for args in ([], ["--strength", "2"], ["--format", "md"]):
        assert main(["coverage", str(out), *args]) == 0
        text = capsys.readouterr().out
        assert expected in text and "held out: category=chair, context=room" in text, args
        assert "yes  train has no held out" in text and "NO" not in text, args
    assert main(["coverage", str(out), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["split"] == split


@pytest.mark.render
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_fraction_of_pairs_on_every_seed(tmp_path, seed):
    out = tmp_path / "d"
    manifest = generate(load_config([f"out={out}", "n=12", f"seed={seed}", *SIZE, "split.fraction=0.1"]),
                        progress=False)
    check_guarantees(out)
    # 10% of the feasible pairs (232 with the built-in dictionary), drawn among those the
    # 12 scenes make safe to hold out
    from scenegen.design.covering import feasible_tuples
    from scenegen.design.plan import design_space

    levels, forbidden = design_space(World.of(load_config([])))
    pairs = len(feasible_tuples(levels, 2, forbidden))
    assert 1 <= len(manifest["split"]["held_out"]) <= math.ceil(0.1 * pairs)


@pytest.fixture(scope="module")
def default():
    cfg = load_config([])
    return cfg, Sampler(cfg)


@pytest.fixture(scope="module")
def sampled(default):
    """40 sampled (unrendered) scenes as records, with made-up pose and occlusion labels."""
    _, sampler = default
    records = []
    for i in range(40):
        scene = sampler.sample(i)
        records.append({"index": i, "objects": [
            {"factors": {"category": o.category, "pose": "any" if o.category in ("ball", "can", "cone", "bottle")
                         else ["front", "left", "back"][(i + j) % 3], "context": scene.context.name,
                         "occlusion": ["none", "partial"][(i * j) % 2]}}
            for j, o in enumerate(scene.objects)]})
    return records


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), fraction=st.sampled_from([0.05, 0.2, 0.5]), strength=st.integers(1, 3),
       scenes=st.integers(0, 40))
def test_random_held_out_tuples_keep_the_guarantees_on_the_scenes_so_far(default, sampled, seed, fraction,
                                                                        strength, scenes):
    _, sampler = default
    cfg = load_config([f"seed={seed}", f"split.fraction={fraction}", f"split.strength={strength}"])
    records = sampled[:scenes]
    world = World.of(cfg)
    held = held_out_tuples(world, records)
    assert held == held_out_tuples(world, records)  # a function of the seed and the scenes
    assert all(len(h) == strength for h in held) and len({tuple(h.items()) for h in held}) == len(held)
    splits = assign_splits(records, held)
    train = [o["factors"] for r in records if r["index"] in splits["train"] for o in r["objects"]]
    test = [o["factors"] for r in records if r["index"] in splits["test"] for o in r["objects"]]
    for h in held:
        assert any(all(o[f] == v for f, v in h.items()) for o in test)
        for sub in itertools.combinations(h.items(), strength - 1):
            assert any(all(o[f] == v for f, v in sub) for o in train)
    if not records:
        assert held == []


def test_declared_held_out_errors(default):
    _, sampler = default
    for held, message in [
        ("[{category: lamp, context: outdoor}]", "not a feasible combination"),
        ("[{category: ball, pose: any}]", "could then never appear in train"),
        ("[{category: chair}, {category: mug, context: room}]", "same size"),
        ("[{color: red, category: chair}]", "names factor 'color'"),
    ]:
        cfg = load_config([f"split.held_out={held}"])
        with pytest.raises(ConfigError, match=message):
            held_out_tuples(Sampler(cfg).world)
    with pytest.raises(ConfigError, match="not both"):
        load_config(["split.held_out=[{category: chair}]", "split.fraction=0.1"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.fixed_dictionaries({"a": st.sampled_from("xyz"), "b": st.sampled_from("uv")}),
                         max_size=4), max_size=12))
def test_assign_splits_puts_every_scene_showing_a_held_out_tuple_in_test(scenes):
    records = [{"index": i, "objects": [{"factors": f} for f in objs]} for i, objs in enumerate(scenes)]
    held = [{"a": "x", "b": "u"}, {"a": "z", "b": "v"}]
    splits = assign_splits(records, held)
    assert sorted(splits["train"] + splits["test"]) == list(range(len(scenes)))
    for i, objs in enumerate(scenes):
        assert (i in splits["test"]) == any(all(o[k] == v for k, v in h.items()) for o in objs for h in held)
