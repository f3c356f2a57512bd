"""Directives: realized levels (from geometry and from rendered labels) and clear errors
for infeasible ones."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from physical import assert_physical

from scenegen import load_config
from scenegen.cli import main
from scenegen.config.load import config_from_dict, config_to_dict
from scenegen.design.hitrate import measure_hit_rates, random_directives
from scenegen.errors import ConfigError
from scenegen.scene.factors import occlusion_level, pose_bin, relative_azimuth
from scenegen.world import sampler as sampler_module
from scenegen.world.directives import Directive
from scenegen.world.sampler import Sampler, occlusion_targets
from scenegen.world.visibility import visible_fraction


@pytest.fixture(scope="module")
def sampler(small_cfg):
    return Sampler(small_cfg)


def test_pose_material_and_appearance_levels_are_exact(sampler):
    wanted = {"category": "chair", "pose": "back-left", "material": "metal", "color": "red", "texture": "checker", "context": "room"}
    for index in range(15):
        scene = sampler.sample(index, wanted)
        target = scene.objects[scene.target]
        entry = sampler.dictionary[target.entry]
        azimuth = relative_azimuth(target.position, target.yaw, scene.camera.position)
        assert pose_bin(azimuth, entry.symmetry) == "back-left"
        # aimed within 15 degrees of the bin centre (135 degrees)
        assert abs(math.degrees(azimuth) - 135.0) <= 15.0 + 1e-6
        assert (target.category, target.material, target.color, target.texture) == ("chair", "metal", "red", "checker")
        assert scene.context.name == "room"
        assert dict(scene.directive) == wanted


def test_directive_scenes_are_reproducible(sampler):
    wanted = {"category": "mug", "occlusion": "heavy"}
    assert sampler.sample(3, wanted) == sampler.sample(3, wanted)
    assert sampler.sample(3, wanted) != sampler.sample(4, wanted)


def test_batched_occluder_search_picks_what_the_one_by_one_search_picks(small_cfg, monkeypatch):
    """The occluder search measures its trials in batches (band_fractions, which
    proves most of them outside the band without casting their rays); measured one at a
    time by the definition (visible_fraction), it picks the same occluders: the same
    scenes, the widened search (a budget of 1 attempt) included."""
    tight = load_config(["width=96", "height=72", "placement.attempts_per_scene=1"])
    wanted = [{"occlusion": "heavy"}, {"category": "chair", "occlusion": "partial"}, {"occlusion": "none"}]

    def draw():
        scenes = []
        for cfg in (small_cfg, tight):
            sampler = Sampler(cfg)
            for index in range(6):
                try:
                    scenes.append(sampler.sample(index, wanted[index % 3]))
                except Exception as error:  # a bounded rejection, the same both ways
                    scenes.append(str(error))
        return scenes

    batched = draw()

    def one_by_one(cases, index, low, high, grid=40):
        return [visible_fraction(bodies, camera, index, grid) for bodies, camera in cases]

    monkeypatch.setattr(sampler_module, "band_fractions", one_by_one)
    monkeypatch.setattr(sampler_module, "TRIAL_BATCH", (1, 1))
    assert draw() == batched


def test_the_occluder_search_takes_the_first_trial_measured_in_the_band(monkeypatch):
    """_first_in_band screens each batch on the coarse grid, measures on the full grid
    only the trials the screen puts within COARSE_SLACK of the band, and returns the
    first of them (in trial order) whose full-grid fraction is in the band; it pulls
    trials batch by batch (4, 8, ...) and no more than ``limit``; it reports the trials
    measured above the band (beyond the slack on the coarse grid, or on the full grid)."""
    coarse = {0: 0.1, 1: 0.55, 2: 0.75, 3: 0.72, 4: 0.7, 5: 0.45, 6: 0.7}  # trial -> coarse-grid fraction
    fine = {0: 0.1, 1: 0.6, 2: 0.75, 3: 0.7, 4: 0.7, 5: 0.41, 6: 0.7}  # trial -> full-grid fraction
    calls = []

    def measured(cases, index, low, high, grid=40):
        trials = [camera for _, camera in cases]  # each trial's "camera" is its number here
        calls.append((grid, trials))
        table = coarse if grid == sampler_module.COARSE_GRID else fine
        return [table[t] for t in trials]

    monkeypatch.setattr(sampler_module, "band_fractions", measured)
    monkeypatch.setattr(sampler_module, "_bodies", lambda layout, made=None: [])
    pulled = []

    def trials(count):
        for t in range(count):
            pulled.append(t)
            yield f"key {t}", f"layout {t}", t

    # trial 1 passes the screen (0.55 is within 0.08 of 0.62) but measures 0.6: out;
    # trial 2 is the first in the band [0.62, 0.88] on the full grid
    work = Counter()
    assert sampler_module._first_in_band(trials(7), 0, 0.62, 0.88, work=work) == ("key 2", "layout 2", 2)
    assert calls == [(sampler_module.COARSE_GRID, [0, 1, 2, 3]), (40, [1, 2, 3])]
    assert work == {"trials": 4, "coarse-grid cases": 4, "full-grid cases": 3}
    assert pulled == [0, 1, 2, 3]  # the first batch only
    calls.clear()
    pulled.clear()
    above = set()
    assert sampler_module._first_in_band(trials(7), 0, 0.2, 0.4, above=above) is None  # none in the band
    assert calls == [(sampler_module.COARSE_GRID, [0, 1, 2, 3]), (sampler_module.COARSE_GRID, [4, 5, 6]), (40, [5])]
    assert pulled == list(range(7))
    # above 0.4 + 0.08 on the coarse grid: 1, 2, 3, 4, 6; 5 (0.45) is not, but measures 0.41
    assert above == {f"key {t}" for t in (1, 2, 3, 4, 5, 6)}
    pulled.clear()
    assert sampler_module._first_in_band(trials(7), 0, 0.2, 0.4, limit=5) is None
    assert pulled == list(range(5))


@pytest.mark.parametrize("level", ["heavy", "partial"])
def test_the_occluder_in_front_is_tried_first_and_only_where_it_hides_enough_sideways(sampler, monkeypatch, level):
    """The occluder search tries the spot straight in front of the target for every
    group of candidates (extra gap, view, size) first; then the sideways spots of the
    groups whose spot in front did not leave the target more visible than the level
    allows, in candidate order; none when a spot in front was in the band."""
    searches = []
    real = sampler_module._first_in_band

    def recording(trials, target, low, high, limit=None, made=None, above=None, *more):
        keys = []

        def listed():
            for trial in trials:
                keys.append(trial[0])
                yield trial
        found = real(listed(), target, low, high, limit, made, above, *more)
        searches.append((keys, None if above is None else set(above), found))
        return found

    monkeypatch.setattr(sampler_module, "_first_in_band", recording)
    for index in range(12):
        sampler.sample(index, {"occlusion": level})
    assert searches
    sideways_searched = 0
    for n, (keys, above, found) in enumerate(searches):
        if above is None:  # a sideways search: right after its spots in front, which found none
            probes, shown, before = searches[n - 1]
            assert shown is not None and before is None
            assert all(key[3] != 0.0 for key in keys)
            assert not {key[:3] for key in keys} & {key[:3] for key in shown}
            # group after group, each group's spots in OCCLUDER_OFFSETS's order
            runs = [group for group, _ in itertools.groupby(key[:3] for key in keys)]
            assert len(runs) == len(set(runs))
            offsets = sampler_module.OCCLUDER_OFFSETS
            for group in runs:
                tried = [offsets.index(key[3]) for key in keys if key[:3] == group]
                assert tried == sorted(tried)
            sideways_searched += bool(keys)
        else:
            assert all(key[3] == 0.0 for key in keys)
            assert above <= set(keys)
            if found is not None:
                assert n + 1 == len(searches) or searches[n + 1][1] is not None  # no sideways search after it
    assert sideways_searched > 0


def test_a_searched_level_holds_with_one_ray_more_or_fewer_visible():
    """A small target's level is taken only where one pixel more or fewer visible (the
    rendered mask and the rays may differ by one at the occluder's edge) keeps it."""
    steady = sampler_module._steady
    assert not steady(4, 5, "partial", 0.995, 0.6)  # 5 of 5: none
    assert not steady(3, 5, "partial", 0.995, 0.6)  # 2 of 5: heavy
    assert steady(80, 100, "partial", 0.995, 0.6) and steady(61, 100, "partial", 0.995, 0.6)
    assert not steady(60, 100, "partial", 0.995, 0.6)  # 59 of 100: heavy
    assert steady(0, 10, "heavy", 0.995, 0.6) and steady(4, 10, "heavy", 0.995, 0.6)
    assert not steady(5, 10, "heavy", 0.995, 0.6)  # 6 of 10: partial
    assert steady(1598, 1600, "partial", 0.9995, 0.6) and not steady(1598, 1600, "partial", 0.999, 0.6)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 1600), st.data())
def test_a_level_steady_in_lowest_terms_is_steady_for_the_counts(hits, data):
    """The search's shortcut: the counts' ratio in lowest terms being steady proves the
    counts are (for counts of at most 40 x 40 rays)."""
    shown = data.draw(st.integers(0, hits))
    none_min, partial_min = data.draw(st.sampled_from([(0.995, 0.6), (0.9, 0.3), (1.0, 0.5)]))
    level = occlusion_level(shown / hits, none_min, partial_min)
    if sampler_module._steady_in_lowest_terms(shown / hits, level, none_min, partial_min):
        assert sampler_module._steady(shown, hits, level, none_min, partial_min)


def test_the_lowest_terms_shortcut_decides_most_large_counts():
    shortcut = sampler_module._steady_in_lowest_terms
    assert shortcut(1000 / 1599, "partial", 0.995, 0.6) and shortcut(700 / 1531, "heavy", 0.995, 0.6)
    assert not shortcut(1000 / 1600, "partial", 0.995, 0.6)  # 5/8: 4/8 is heavy
    assert sampler_module._steady(1000, 1600, "partial", 0.995, 0.6)  # which the counts then decide


@pytest.mark.parametrize("level", ["heavy", "partial"])
def test_occluders_are_tall_enough_for_their_level(sampler, level):
    """An occluder is searched only when, at its entry's largest size, it is at least
    OCCLUDER_MIN_HEIGHT[level] of the target's height (lower ones almost never hid
    enough)."""
    dictionary = sampler.dictionary
    for index in range(10):
        scene = sampler.sample(index, {"occlusion": level})
        target = scene.objects[scene.target]
        occluder = next(o for o in scene.objects if o.relation == "camera-front" and o.anchor == scene.target)
        assert target.rest == occluder.rest == ""  # rest states off: upright, the shapes' own heights
        target_height = dictionary[target.entry].shape_extents(target.style)[2] * target.scale
        entry = dictionary[occluder.entry]
        tallest = entry.shape_extents(occluder.style)[2] * max(float(entry.size[1]), occluder.scale)
        assert tallest >= sampler_module.OCCLUDER_MIN_HEIGHT[level] * target_height - 1e-9, (index, occluder.entry)


def test_rendered_labels_show_the_requested_levels(sampler, renderer):
    directives = random_directives(sampler, 45, seed=1)
    report = measure_hit_rates(sampler, renderer, directives)
    assert report.pop("_failed")["scenes"] == 0
    assert set(report) == {"category", "context", "material", "occlusion", "pose"}
    for factor, figures in report.items():
        assert figures["scenes"] == 45
        assert figures["rate"] >= 0.99, (factor, figures)


@pytest.mark.parametrize(
    "directive, message",
    [
        ({"category": "unicorn"}, r"category 'unicorn' is unknown; valid: .*chair"),
        ({"category": "lamp", "context": "outdoor"}, r"'lamp' never appears in context 'outdoor'"),
        ({"category": "ball", "pose": "back"}, r"pose=back is impossible for ball.*valid pose: 'any'"),
        ({"category": "book", "material": "metal"}, r"material=metal is impossible for book.*valid material: 'matte'"),
        ({"occlusion": "total"}, r"occlusion 'total' is unknown; valid: .*heavy"),
        ({"context": "kitchen"}, r"context 'kitchen' is unknown; valid: .*room"),
        ({"size": "big"}, r"unknown factor 'size'; valid: .*category"),
    ],
)
def test_infeasible_directives_are_refused(sampler, directive, message):
    with pytest.raises(ConfigError, match=message):
        sampler.sample(0, directive)


def test_occlusion_needs_an_occlusion_pair_in_the_grammar(small_cfg):
    from scenegen.config.load import config_from_dict, config_to_dict

    data = config_to_dict(small_cfg)
    data["grammar"]["rules"] = {"scene": [{"repeat": "any", "count": [2, 3], "arrange": "free"}]}
    cfg = config_from_dict(data)
    with pytest.raises(ConfigError, match=r"occlusion 'heavy' needs an occlusion pair"):
        Sampler(cfg).sample(0, Directive(category="chair", occlusion="heavy"))
    assert Sampler(cfg).sample(0, Directive(category="chair", occlusion="none")).target >= 0


def test_cli_sample_directive(capsys):
    assert main(["sample", "index=1", "directive={category:chair,pose:front,context:room}", "width=64", "height=48"]) == 0
    out = capsys.readouterr().out
    assert '"directive": [\n  [\n   "category",\n   "chair"' in out
    assert main(["sample", "directive={category:lamp,context:outdoor}"]) == 2
    assert "never appears in context 'outdoor'" in capsys.readouterr().err
    assert main(["sample", "directive=chair"]) == 2
    assert "directive must be a mapping" in capsys.readouterr().err


def test_cli_generate_refuses_an_infeasible_directive_before_writing(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["generate", f"out={out}", "n=2", "directive={category:mug,occlusion:total}"]) == 2
    assert "occlusion 'total' is unknown; valid: 'heavy', 'none', 'partial'" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(ConfigError, match="'book' never appears in context 'outdoor'"):
        load_config(["directive={category:book,context:outdoor}"])


def test_cli_space(capsys):
    assert main(["space"]) == 0
    out = capsys.readouterr().out
    total = int(out.splitlines()[1].split()[1].replace(",", ""))
    assert total > 10**12
    assert "pose       (9) front, front-left" in out
    assert main(["space", "placement.objects=[1,1]", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["objects"] == [1, 1] and data["total"] == sum(data["per_context"].values())
    assert main(["space", "placement.objects=[90,90]"]) == 2


def _custom(small_cfg, rules, objects, **objects_extra):
    data = config_to_dict(small_cfg)
    data["grammar"] = {**data["grammar"], "rules": rules, "start": "scene", "max_depth": 3}
    data["placement"]["objects"] = list(objects)
    for name, changes in objects_extra.items():
        data["objects"][name] = {**data["objects"].get(name, data["objects"]["table"]), **changes}
    return config_from_dict(data)


def test_directive_target_on_a_support_slot_takes_only_support_entries(small_cfg):
    """A directive without a category may land on the support slot of an `on`: only
    entries that are supports and allow the requested levels qualify there."""
    cfg = _custom(
        small_cfg, {"scene": [{"relation": "on", "anchor": "table", "other": "can"}]}, (2, 2),
        table={"materials": ["matte"]},
        table2={"category": "table", "support": False, "materials": ["metal"]},
    )
    sampler = Sampler(cfg)
    for index in range(20):
        scene = sampler.sample(index, {"material": "metal"})
        target = scene.objects[scene.target]
        assert target.material == "metal" and target.entry == "can"  # the table slot cannot be metal


def test_occluder_groups_move_without_interpenetrating(small_cfg, dictionary):
    """The occluder search moves the occluder's whole group (here a cluster of crates):
    every moved object must clear the target and the rest."""
    rules = {"scene": [{"relation": "camera-front", "anchor": "chair", "other": "pair"}],
             "pair": [{"repeat": "crate", "count": [2, 2], "arrange": "cluster"}]}
    cfg = _custom(small_cfg, rules, (3, 3))
    sampler = Sampler(cfg, dictionary)
    for index in range(30):
        for level in ("partial", "heavy"):
            try:
                scene = sampler.sample(index, {"category": "chair", "occlusion": level})
            except Exception as error:  # a bounded rejection is fine; overlap is not
                assert "could not place" in str(error)
                continue
            assert_physical(scene, dictionary, cfg)


def test_occlusion_targets_follow_the_configured_bands(small_cfg):
    expected = {"none": (0.995, 1.0), "partial": (0.6215, 0.878), "heavy": (0.08, 0.4)}
    targets = occlusion_targets(small_cfg.factors)
    assert set(targets) == set(expected)
    for level, band in expected.items():
        assert targets[level] == pytest.approx(band)
    moved = load_config(["factors.occlusion_partial_min=0.3", "factors.occlusion_none_min=0.9"])
    targets = occlusion_targets(moved.factors)
    assert 0.3 < targets["partial"][0] < targets["partial"][1] < 0.9 and targets["heavy"][1] < 0.3
    assert 0.9 < targets["none"][0] < 1.0
