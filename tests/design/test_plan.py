"""strategy=covering: a covering array over directive factors, realized scene by scene,
reaches full t-way coverage measured from the rendered labels."""

import itertools

import pytest
from brute import feasible_full_rows

from scenegen import load_config
from scenegen.cli import main
from scenegen.dataset.generate import generate
from scenegen.design.plan import covering_plan
from scenegen.fileio import read_json
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render
SMALL = ["width=64", "height=48", "progress=false"]


def _feasible_pairs(cfg, sampler) -> set:
    """Every pair of design-factor levels some full feasible directive contains, by brute
    force over the full product of levels (independent of the plan's pairwise checks)."""
    factors = list(cfg.design_factors)
    return {
        ((fa, row[fa]), (fb, row[fb]))
        for row in feasible_full_rows(cfg, sampler, factors)
        for fa, fb in itertools.combinations(factors, 2)
    }


@pytest.fixture(scope="module")
def covering(tmp_path_factory):
    out = tmp_path_factory.mktemp("covering")
    cfg = load_config([*SMALL, f"out={out}", "strategy=covering", "strength=2"])
    return out, cfg, generate(cfg, progress=False)


def test_labels_cover_every_feasible_pair(covering):
    out, cfg, manifest = covering
    sampler = Sampler(cfg)
    wanted = _feasible_pairs(cfg, sampler)
    records = [read_json(out / "scenes" / f"{i:06d}.json") for i in range(manifest["n"])]
    seen = set()
    for record in records:  # recount from the scene JSON files: the targets' measured levels
        levels = record["objects"][record["scene"]["target"]]["factors"]
        for fa, fb in itertools.combinations(cfg.design_factors, 2):
            seen.add(((fa, levels[fa]), (fb, levels[fb])))
    assert wanted <= seen, sorted(wanted - seen)[:10]
    design = manifest["design"]
    assert design["covered"] == design["tuples"] == len(wanted) and design["missing"] == []
    assert manifest["n"] == len(design["rows"]) == len(records)
    # few scenes: within 10% of a lower bound. Rows with different levels of a factor A
    # are different rows, and the rows with A = a must show every level b of each other
    # factor B that pairs with a: n >= sum over a of max over B of #{b}.
    lower = max(
        sum(
            max(sum(1 for p in wanted if (factor, a) in p and any(f == other for f, _ in p))
                for other in cfg.design_factors if other != factor)
            for a in {level for p in wanted for f, level in p if f == factor}
        )
        for factor in cfg.design_factors
    )
    assert lower <= manifest["n"] <= 1.1 * lower, (lower, manifest["n"])


def test_the_plan_is_the_scenes_directives(covering):
    out, cfg, manifest = covering
    plan = covering_plan(Sampler(cfg).world)
    assert manifest["design"]["rows"] == plan
    for index, row in enumerate(plan):
        record = read_json(out / "scenes" / f"{index:06d}.json")
        assert dict(record["scene"]["directive"]) == row


def test_two_workers_give_the_same_bytes(tmp_path):
    overrides = [*SMALL, "strategy=covering", "design_factors=[category,context]"]
    one = generate(load_config([*overrides, f"out={tmp_path / 'one'}"]), progress=False)
    two = generate(load_config([*overrides, f"out={tmp_path / 'two'}", "workers=2"]), progress=False)
    assert one == two and one["design"]["covered"] == one["design"]["tuples"]


def test_cli_prints_the_design(tmp_path, capsys):
    assert main(["generate", f"out={tmp_path}", *SMALL, "strategy=covering", "design_factors=[category,context]"]) == 0
    err = capsys.readouterr().err
    assert "covering design of strength 2 over category, context:" in err and "(100.0%)" in err
    assert main(["generate", f"out={tmp_path / 'x'}", "strategy=covering", "strength=3", "design_factors=[category,context]"]) == 2
    assert "strength must be between 1 and 2" in capsys.readouterr().err
