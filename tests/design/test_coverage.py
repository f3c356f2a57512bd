"""CoverageTracker: counts (objects and scenes, any strength) against a brute-force
recount, merge in any order, round trip, errors."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen.design.coverage import CoverageError, CoverageTracker
from scenegen.fileio import dumps_json

FACTORS = ("category", "pose", "context", "color")

LEVELS = {
    "category": ["chair", "table", "sphere"],
    "pose": ["front", "back", "any"],
    "context": ["room", "kitchen"],
    "color": ["red", "blue"],
}
# a sphere has only pose "any"; the other categories never have it
FEASIBLE = [
    (c, p, x)
    for c in LEVELS["category"]
    for p in LEVELS["pose"]
    for x in LEVELS["context"]
    if (p == "any") == (c == "sphere")
]


def obj(category, pose, context, color="red"):
    return {"category": category, "pose": pose, "context": context, "color": color}


@st.composite
def universe_and_objects(draw, max_objects=60):
    """(levels, combination, feasible or None, objects) with objects inside the
    feasible set; the combination is a random ordered subset of the factors."""
    levels = {f: [f"{f[:3]}{i}" for i in range(draw(st.integers(1, 3)))] for f in FACTORS}
    combination = tuple(
        draw(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=3, unique=True))
    )
    product = list(itertools.product(*(levels[f] for f in combination)))
    if draw(st.booleans()):
        feasible, pool = None, product
    else:
        feasible = draw(st.lists(st.sampled_from(product), unique=True, min_size=1))
        pool = feasible
    objects = []
    if pool:
        for t, rest in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(pool),
                    st.fixed_dictionaries({f: st.sampled_from(levels[f]) for f in FACTORS}),
                ),
                max_size=max_objects,
            )
        ):
            objects.append({**rest, **dict(zip(combination, t))})
    return levels, combination, feasible, objects


def scenes_of(objects, start=0):
    """Objects grouped into scene records of 1..3 objects (a fixed pattern), indexed
    from ``start``."""
    records, i = [], 0
    while i < len(objects):
        size = 1 + (start + len(records)) % 3
        records.append({"index": start + len(records), "objects": [{"factors": o} for o in objects[i:i + size]]})
        i += size
    return records


def tracker_of(levels, combination, feasible, records):
    tracker = CoverageTracker(levels, feasible, combination)
    for record in records:
        tracker.add_record(record)
    return tracker


@settings(max_examples=150, deadline=None)
@given(universe_and_objects())
def test_counts_equal_brute_force_recount(case):
    levels, combination, feasible, objects = case
    tracker = tracker_of(levels, combination, feasible, scenes_of(objects))

    universe = (
        list(itertools.product(*(levels[f] for f in combination)))
        if feasible is None
        else list(feasible)
    )
    seen = Counter(tuple(o[f] for f in combination) for o in objects)
    assert set(tracker.tuple_counts) == set(universe)
    assert tracker.tuple_counts == {t: seen.get(t, 0) for t in universe}
    assert set(tracker.covered()) == {t for t in universe if seen[t]}
    assert set(tracker.missing()) == {t for t in universe if not seen[t]}
    assert tracker.coverage() == (
        len({t for t in universe if seen[t]}) / len(universe) if universe else 1.0
    )
    for f in FACTORS:
        counted = Counter(o[f] for o in objects)
        assert tracker.level_counts[f] == {lv: counted.get(lv, 0) for lv in levels[f]}
        assert list(tracker.level_counts[f]) == levels[f]  # universe order
    assert tracker.n_objects == len(objects)

    d = tracker.to_dict()
    assert d["feasible"] == len(universe)
    assert d["covered"] == len(tracker.covered())
    assert len(d["counts"]) == len(universe)  # every feasible tuple, zeros included
    assert sum(c["count"] for c in d["counts"]) == len(objects)
    assert d["missing"] == [list(t) for t in tracker.missing()]


@settings(max_examples=100, deadline=None)
@given(universe_and_objects(), st.data())
def test_merge_is_exact_and_order_independent(case, data):
    levels, combination, feasible, objects = case
    records = scenes_of(objects)
    whole = tracker_of(levels, combination, feasible, records)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(records)), max_size=4)))
    bounds = [0, *cuts, len(records)]
    parts = [
        tracker_of(levels, combination, feasible, records[a:b])
        for a, b in zip(bounds, bounds[1:])
    ]
    order = data.draw(st.permutations(range(len(parts))))

    left = parts[order[0]]
    for i in order[1:]:
        left = left.merge(parts[i])
    right = parts[order[-1]]
    for i in reversed(order[:-1]):
        right = parts[i].merge(right)

    expected = dumps_json(whole.to_dict())
    assert dumps_json(left.to_dict()) == expected
    assert dumps_json(right.to_dict()) == expected
    for t in range(1, len(levels) + 1):
        for unit in ("objects", "scenes"):
            assert left.tway(t, unit=unit, min_count=2) == whole.tway(t, unit=unit, min_count=2)
    # the parts are left untouched by merging
    assert sum(p.n_objects for p in parts) == len(objects)


@settings(max_examples=100, deadline=None)
@given(universe_and_objects(), st.integers(0, 60))
def test_to_dict_from_dict_round_trip(case, split):
    levels, combination, feasible, objects = case
    records = scenes_of(objects)
    tracker = tracker_of(levels, combination, feasible, records)
    d = tracker.to_dict()
    text = dumps_json(d)
    again = CoverageTracker.from_dict(json.loads(text))
    assert again.to_dict() == d
    assert dumps_json(again.to_dict()) == text
    assert again.tuple_counts == tracker.tuple_counts
    assert again.level_counts == tracker.level_counts

    # a loaded tracker merges exactly with a live one
    first, rest = records[:split], records[split:]
    loaded = CoverageTracker.from_dict(tracker_of(levels, combination, feasible, first).to_dict())
    merged = loaded.merge(tracker_of(levels, combination, feasible, rest))
    assert merged.to_dict() == d
    # and keeps counting
    if objects:
        loaded.add(objects[0])
        assert loaded.n_objects == sum(len(r["objects"]) for r in first) + 1


def test_to_dict_is_plain_and_has_the_documented_keys():
    tracker = CoverageTracker(LEVELS, FEASIBLE, ("category", "pose", "context"))
    tracker.add(obj("chair", "front", "room"))
    d = tracker.to_dict()
    assert sorted(d) == sorted(
        [
            "schema_version", "combination", "factors", "levels", "forbidden", "level_counts", "feasible", "covered",
            "coverage", "counts", "missing", "unexpected", "n_objects", "n_scenes", "signatures", "scene_sets",
        ]
    )
    assert json.loads(json.dumps(d)) == d  # plain types only
    assert d["counts"][0] == {"category": "chair", "pose": "front", "context": "room", "count": 1}
    assert d["feasible"] == len(FEASIBLE) == 10
    assert d["covered"] == 1
    assert d["coverage"] == pytest.approx(0.1)


def test_infeasible_tuples_are_never_missing_and_are_reported_when_seen():
    tracker = CoverageTracker(LEVELS, FEASIBLE)
    tracker.add(obj("sphere", "any", "room"))
    missing = tracker.missing()
    assert ("sphere", "any", "kitchen") in missing
    assert ("sphere", "front", "room") not in missing
    assert ("chair", "any", "room") not in missing
    assert len(missing) == len(FEASIBLE) - 1
    assert tracker.unexpected() == []
    tracker.add(obj("chair", "any", "room"))
    assert tracker.unexpected() == [("chair", "any", "room")]
    assert tracker.n_objects == 2 and len(tracker.missing()) == len(FEASIBLE) - 1
    report = tracker.tway(2, ["category", "pose"])
    assert report["unexpected"] == [{"category": "chair", "pose": "any", "count": 1}]
    assert "Seen although declared infeasible (1): chair / any / room" in tracker.format_table()


def test_unknown_level_or_factor_is_named():
    tracker = CoverageTracker(LEVELS, FEASIBLE)
    with pytest.raises(ValueError) as err:
        tracker.add(obj("chair", "front", "room", color="pink"))
    message = str(err.value)
    assert "'pink'" in message and "'color'" in message
    assert "'red'" in message and "'blue'" in message  # the valid levels
    assert isinstance(err.value, CoverageError)

    with pytest.raises(ValueError, match="unknown factor 'size'"):
        tracker.add({**obj("chair", "front", "room"), "size": "big"})
    with pytest.raises(ValueError, match="lacks factor.*'color'"):
        tracker.add({"category": "chair", "pose": "front", "context": "room"})
    # an object whose signature was already seen is still checked for extra factors
    tracker.add(obj("chair", "front", "room"))
    with pytest.raises(ValueError, match="unknown factor 'size'"):
        tracker.add({**obj("chair", "front", "room"), "size": "big"})
    assert tracker.n_objects == 1


def test_add_record_counts_hidden_objects_and_is_all_or_nothing():
    tracker = CoverageTracker(LEVELS, FEASIBLE)
    record = {
        "index": 7,
        "objects": [
            {"instance_id": 1, "visible_pixels": 10, "factors": obj("chair", "front", "room")},
            {"instance_id": 2, "visible_pixels": 0, "factors": obj("table", "back", "room")},
        ],
    }
    tracker.add_record(record)
    assert tracker.n_objects == 2 and tracker.n_scenes == 1
    assert tracker.tuple_counts[("table", "back", "room")] == 1

    bad = {
        "index": 8,
        "objects": [
            {"instance_id": 1, "factors": obj("chair", "front", "kitchen")},
            {"instance_id": 2, "factors": obj("chair", "front", "attic")},
        ],
    }
    with pytest.raises(ValueError, match=r"scene 8, object 2: unknown level 'attic'"):
        tracker.add_record(bad)
    assert tracker.n_objects == 2 and tracker.n_scenes == 1
    assert tracker.tuple_counts[("chair", "front", "kitchen")] == 0

    tracker.add_record({"index": 9, "objects": []})
    assert tracker.n_scenes == 2


def test_constraints_that_rule_out_everything_are_refused():
    with pytest.raises(CoverageError, match="rule out every row"):
        CoverageTracker(LEVELS, feasible=[])
    with pytest.raises(CoverageError, match="unknown level 'pink' of factor 'color'.*'red', 'blue'"):
        CoverageTracker(LEVELS, forbidden=[{"color": "pink"}])
    with pytest.raises(CoverageError, match="unknown factor 'size'"):
        CoverageTracker(LEVELS, forbidden=[{"size": "big"}])


def test_constructor_and_merge_reject_mismatches():
    with pytest.raises(ValueError, match="'shape'"):
        CoverageTracker(LEVELS, combination=("category", "shape"))
    with pytest.raises(ValueError, match="unknown level 'cube'"):
        CoverageTracker(LEVELS, feasible=[("cube", "front", "room")])
    with pytest.raises(ValueError, match="duplicate"):
        CoverageTracker({**LEVELS, "color": ["red", "red"]})
    a = CoverageTracker(LEVELS, FEASIBLE)
    with pytest.raises(ValueError, match="constraints"):
        a.merge(CoverageTracker(LEVELS))
    with pytest.raises(ValueError, match="levels"):
        a.merge(CoverageTracker({**LEVELS, "color": ["red", "blue", "green"]}, FEASIBLE))
    with pytest.raises(ValueError, match="levels"):  # same levels, other order
        a.merge(CoverageTracker({**LEVELS, "color": ["blue", "red"]}, FEASIBLE))


def test_from_dict_rejects_inconsistent_data():
    tracker = CoverageTracker(LEVELS, FEASIBLE)
    tracker.add(obj("chair", "front", "room"))
    d = tracker.to_dict()
    with pytest.raises(ValueError, match="inconsistent"):
        CoverageTracker.from_dict({**d, "n_objects": 5})
    with pytest.raises(ValueError, match="schema_version"):
        CoverageTracker.from_dict({**d, "schema_version": 99})
    with pytest.raises(ValueError, match="malformed"):
        CoverageTracker.from_dict({k: v for k, v in d.items() if k != "signatures"})
    with pytest.raises(ValueError, match="inconsistent"):
        CoverageTracker.from_dict({k: v for k, v in d.items() if k != "counts"})
    with pytest.raises(ValueError, match="inconsistent"):
        CoverageTracker.from_dict({**d, "signatures": {**d["signatures"], "objects": [2]}})
    with pytest.raises(ValueError, match="out of range"):
        CoverageTracker.from_dict({**d, "signatures": {**d["signatures"], "code": [10**6]}})


def test_format_table_reports_the_figures_and_fits_the_terminal():
    levels = {
        "category": [f"category{i}" for i in range(8)],
        "pose": ["front", "front-left", "left", "back-left", "back", "back-right", "right",
                 "front-right"],
        "context": ["room", "kitchen", "office", "street"],
        "color": ["red", "green", "blue"],
    }
    tracker = CoverageTracker(levels)
    for i, pose in enumerate(levels["pose"]):
        tracker.add_record(
            {"index": i, "objects": [{"factors": {"category": "category0", "pose": pose,
                                                 "context": "room", "color": "red"}}]}
        )
    text = tracker.format_table()
    assert "8 objects in 8 scenes" in text
    assert "8/256" in text and "(3.1%)" in text
    assert "green" in text and "!" in text  # unseen level marked
    assert "Objects by category x context" in text
    assert "... and 219 more" in text  # 248 missing, 29 shown + the "more" line
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= 100

    full = CoverageTracker({"category": ["a"], "pose": ["p"], "context": ["c"]})
    full.add({"category": "a", "pose": "p", "context": "c"})
    assert "All feasible tuples are covered." in full.format_table()
    assert "1/1 feasible tuples covered (100.0%)" in full.format_table()


def brute_tway(levels, forbidden, records, strength, factors, min_count, unit):
    """(feasible tuples, covered tuples, unexpected tuples) by enumeration of every full
    signature allowed by ``forbidden``."""
    names = list(levels)
    allowed = [
        dict(zip(names, row)) for row in itertools.product(*(levels[f] for f in names))
        if not any(all(dict(zip(names, row))[f] == lv for f, lv in item.items()) for item in forbidden)
    ]
    combos = list(itertools.combinations([f for f in names if f in factors], strength))
    feasible = {tuple((f, row[f]) for f in combo) for row in allowed for combo in combos}
    counts: Counter = Counter()
    for record in records:
        seen = [tuple((f, o["factors"][f]) for f in combo) for o in record["objects"] for combo in combos]
        counts.update(set(seen) if unit == "scenes" else seen)
    covered = {t for t in feasible if counts[t] >= min_count}
    unexpected = {t for t in counts if t not in feasible}
    return feasible, covered, unexpected


@st.composite
def constrained_case(draw):
    levels = {f: [f"{f[:3]}{i}" for i in range(draw(st.integers(1, 3)))] for f in FACTORS}
    pairs = [(f, lv) for f in FACTORS for lv in levels[f]]
    forbidden = []
    for _ in range(draw(st.integers(0, 4))):
        items = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=3, unique_by=lambda p: p[0]))
        forbidden.append(dict(items))
    rows = draw(st.lists(st.fixed_dictionaries({f: st.sampled_from(levels[f]) for f in FACTORS}), max_size=40))
    return levels, forbidden, rows


@settings(max_examples=150, deadline=None)
@given(constrained_case(), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["objects", "scenes"]), st.data())
def test_tway_equals_brute_force_for_any_strength_unit_and_constraints(case, strength, min_count, unit, data):
    levels, forbidden, rows = case
    names = list(levels)
    try:
        tracker = CoverageTracker(levels, forbidden=forbidden)
    except CoverageError as err:  # only when nothing at all is allowed
        assert "rule out every row" in str(err)
        assert not any(
            not any(all(dict(zip(names, r))[f] == lv for f, lv in item.items()) for item in forbidden)
            for r in itertools.product(*(levels[f] for f in names))
        )
        return
    factors = data.draw(st.lists(st.sampled_from(names), min_size=strength, unique=True)) if strength <= 4 else names
    records = scenes_of(rows)
    for record in records:
        tracker.add_record(record)
    report = tracker.tway(strength, factors, min_count, unit)
    feasible, covered, unexpected = brute_tway(levels, forbidden, records, strength, factors, min_count, unit)
    key = lambda t: tuple(t.items())  # noqa: E731
    assert report["tuples"] == len(feasible)
    assert report["covered"] == len(covered)
    assert {key(t) for t in report["missing"]} == feasible - covered
    assert {tuple((f, v) for f, v in t.items() if f != "count") for t in report["unexpected"]} == unexpected
    assert report["factors"] == [f for f in names if f in factors]
    assert report["objects"] == len(rows) and report["scenes"] == len(records)


def test_scene_counts_count_a_scene_once_per_tuple():
    tracker = CoverageTracker(LEVELS, FEASIBLE)
    tracker.add_record({"index": 3, "objects": [{"factors": obj("chair", "front", "room")}] * 2})
    tracker.add_record({"index": 1, "objects": [{"factors": obj("chair", "front", "room")},
                                                {"factors": obj("table", "back", "room")}]})
    assert tracker.signature_counts()[0] == {**obj("chair", "front", "room"), "objects": 3, "scenes": 2}
    assert tracker.tway(1, ["category"], min_count=3)["covered"] == 1  # 3 chair objects
    assert tracker.tway(1, ["category"], min_count=3, unit="scenes")["covered"] == 0  # in 2 scenes
    table = tracker.pair_table("category", "pose")
    assert table["counts"][0] == [3, 0, None]  # chair: front, back, any (infeasible)
    assert table["examples"][0] == [1, None, None]  # the smallest scene index showing it
    assert table["counts"][2] == [None, None, 0]  # sphere: only "any"


def test_add_record_counts_the_tracked_factors_of_a_label_that_holds_more():
    """A label carries every factor (texture, environment, ...); a tracker of fewer counts
    those it tracks (generate with factors.tracked=[category,pose,context] failed here)."""
    tracker = CoverageTracker(LEVELS, FEASIBLE)
    tracker.add_record({"index": 0, "objects": [
        {"instance_id": 1, "factors": {**obj("chair", "front", "room"), "texture": "plain", "effects": "phone"}}]})
    assert tracker.n_objects == 1 and tracker.tuple_counts[("chair", "front", "room")] == 1
    with pytest.raises(ValueError, match="lacks factor"):
        tracker.add_record({"index": 1, "objects": [{"instance_id": 1, "factors": {"category": "chair"}}]})
