"""t-way coverage from labels, checked against a brute-force recount of the scene JSON
files and a brute-force feasibility enumeration over the full product of levels."""

import itertools
import json
from collections import Counter

import pytest
from brute import feasible_full_rows

from scenegen import load_config
from scenegen.cli import main
from scenegen.dataset.generate import generate
from scenegen.fileio import read_json
from scenegen.reports.tway import format_report, tway_report
from scenegen.scene.factors import universe
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render
FACTORS = ["category", "pose", "context", "occlusion"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("tway")
    cfg = load_config([f"out={out}", "n=24", "width=64", "height=48", "seed=5"])
    manifest = generate(cfg, progress=False)
    records = [read_json(out / "scenes" / f"{i:06d}.json") for i in range(manifest["n"])]
    return out, cfg, records


@pytest.mark.parametrize("strength, min_count", [(1, 1), (2, 1), (2, 3), (3, 1)])
def test_report_equals_brute_force_recount(dataset, strength, min_count):
    _, cfg, records = dataset
    sampler = Sampler(cfg)
    rows = list(feasible_full_rows(cfg, sampler, FACTORS))
    feasible = {tuple((f, row[f]) for f in combo) for row in rows for combo in itertools.combinations(FACTORS, strength)}
    seen = Counter(
        tuple((f, obj["factors"][f]) for f in combo)
        for record in records
        for obj in record["objects"]
        for combo in itertools.combinations(FACTORS, strength)
    )
    covered = {t for t in feasible if seen[t] >= min_count}
    report = tway_report(records, sampler.world, strength, FACTORS, min_count)
    assert report["tuples"] == len(feasible)
    assert report["covered"] == len(covered)
    assert {tuple(m.items()) for m in report["missing"]} == feasible - covered
    assert report["objects"] == sum(len(r["objects"]) for r in records)
    assert sum(n for _, n in report["per_combination"].values()) == len(feasible)
    assert sum(c for c, _ in report["per_combination"].values()) == len(covered)
    assert 0.0 < report["coverage"] <= 1.0


def test_three_way_category_pose_context_matches_the_tracker_universe(dataset):
    _, cfg, records = dataset
    report = tway_report(records, Sampler(cfg).world, 3, ["category", "pose", "context"])
    assert report["tuples"] == len(universe(cfg)[1])


def test_formats_and_cli(dataset, capsys):
    out, cfg, records = dataset
    report = tway_report(records, Sampler(cfg).world, 2)
    assert json.loads(format_report(report, "json"))["covered"] == report["covered"]
    assert format_report(report, "md").splitlines()[2] == "| factors | covered | feasible |"
    assert main(["coverage", str(out), "--strength", "2", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(format_report(report, "json"))
    assert main(["coverage", str(out), "--strength", "2", "--factors", "category,context"]) == 0
    assert capsys.readouterr().out.startswith("2-way coverage over category, context")
    assert main(["coverage", str(out), "--strength", "5"]) == 2
    assert "strength must be between 1 and 4" in capsys.readouterr().err
    assert main(["coverage", str(out), "--strength", "2", "--factors", "category,size"]) == 2
    assert "factors must be distinct factors of the tracker" in capsys.readouterr().err
