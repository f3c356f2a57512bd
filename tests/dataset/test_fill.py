"""strategy=fill: top up an existing dataset for its missing t-tuples, measured from
labels by a brute-force recount of the scene JSON files; existing scenes untouched."""

import hashlib
import itertools
import shutil

import pytest
from brute import feasible_full_rows
from crash import Killed, fail_replace_after

from scenegen import load_config
from scenegen.cli import main
from scenegen.dataset.generate import generate
from scenegen.fileio import read_json
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render
FACTORS = ["category", "pose", "context", "occlusion"]
SIZE = ["width=48", "height=40"]


def pairs_seen(out, n):
    return {
        tuple((f, obj["factors"][f]) for f in combo)
        for i in range(n)
        for obj in read_json(out / "scenes" / f"{i:06d}.json")["objects"]
        for combo in itertools.combinations(FACTORS, 2)
    }


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    out = tmp_path_factory.mktemp("fill") / "base"
    generate(load_config([f"out={out}", "n=10", "seed=3", *SIZE]), progress=False)
    return out


def test_fill_reaches_full_pairwise_coverage_from_labels(base, tmp_path):
    out = tmp_path / "d"
    shutil.copytree(base, out)
    before = {p.relative_to(out): digest(p) for p in (out / "scenes").iterdir()}
    cfg = load_config([f"out={out}", "strategy=fill", "seed=3", "budget=200", *SIZE])
    manifest = generate(cfg, progress=False)
    design = manifest["design"]
    n = manifest["n"]
    assert design["scenes_before"] == 10 and n == 10 + design["scenes_added"] > 10
    assert manifest["files"]  # a finished dataset again
    feasible = {
        tuple((f, row[f]) for f in combo)
        for row in feasible_full_rows(cfg, Sampler(cfg), FACTORS)
        for combo in itertools.combinations(FACTORS, 2)
    }
    seen = pairs_seen(out, n)
    assert feasible <= seen, f"missing: {sorted(feasible - seen)[:5]}"
    assert design["covered"] == design["tuples"] == len(feasible) and design["missing"] == []
    assert design["before"]["covered"] == len(feasible & pairs_seen(out, 10)) < len(feasible)
    # the scenes that were there are untouched
    assert {p: digest(out / p) for p in before} == before
    assert len(design["rows"]) == design["scenes_added"]

    # filling a complete dataset adds nothing
    again = generate(cfg, progress=False)
    assert again["n"] == n and again["design"]["scenes_added"] == 0


def test_fill_respects_the_budget_and_is_reproducible(base, tmp_path):
    manifests = []
    for name in ("a", "b"):
        out = tmp_path / name
        shutil.copytree(base, out)
        manifests.append(generate(load_config([f"out={out}", "strategy=fill", "seed=3", "budget=3", *SIZE]),
                                  progress=False))
    a, b = manifests
    assert a["design"]["scenes_added"] == 3 and a["n"] == 13
    assert a["design"]["covered"] < a["design"]["tuples"]
    assert a["files"] == b["files"] and a["design"] == b["design"]


def test_fill_errors(base, tmp_path, capsys):
    assert main(["generate", f"out={tmp_path / 'none'}", "strategy=fill"]) == 2
    assert "has no manifest.json; generate it first" in capsys.readouterr().err
    out = tmp_path / "d"
    shutil.copytree(base, out)
    assert main(["generate", f"out={out}", "strategy=fill", "seed=3", "width=64", "height=40"]) == 2
    err = capsys.readouterr().err
    assert "these keys differ: width (dataset: 48)" in err
    assert (out / "manifest.json").is_file()  # nothing was touched
    assert main(["generate", f"out={out}", "strategy=fill", "budget=-1"]) == 2
    assert "budget must be >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("writes_before_kill", [25])
def test_an_interrupted_fill_resumes_to_the_same_bytes(base, tmp_path, monkeypatch, writes_before_kill):
    overrides = ["strategy=fill", "seed=3", "budget=4", *SIZE]
    whole = tmp_path / "whole"
    shutil.copytree(base, whole)
    generate(load_config([f"out={whole}", *overrides]), progress=False)
    out = tmp_path / "d"
    shutil.copytree(base, out)
    fail_replace_after(monkeypatch, writes_before_kill)
    with pytest.raises(Killed):
        generate(load_config([f"out={out}", *overrides]), progress=False)
    monkeypatch.undo()
    assert not (out / "manifest.json").exists()
    generate(load_config([f"out={out}", *overrides]), progress=False)
    files = sorted(p.relative_to(whole) for p in whole.rglob("*") if p.is_file() and ".scenegen" not in p.parts)
    assert files == sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file() and ".scenegen" not in p.parts)
    assert all(digest(whole / f) == digest(out / f) for f in files)
    assert not (out / ".scenegen" / "fill-base.json").exists()
