"""CoverageTracker: counts against a brute-force recount, merge, round trip, errors."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen.coverage import CoverageError, CoverageTracker
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
        feasible = draw(st.lists(st.sampled_from(product), unique=True))
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


def tracker_of(levels, combination, feasible, objects):
    tracker = CoverageTracker(levels, feasible, combination)
    for o in objects:
        tracker.add(o)
    return tracker


@settings(max_examples=150, deadline=None)
@given(universe_and_objects())
def test_counts_equal_brute_force_recount(case):
    levels, combination, feasible, objects = case
    tracker = tracker_of(levels, combination, feasible, objects)

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
    whole = tracker_of(levels, combination, feasible, objects)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(objects)), max_size=4)))
    bounds = [0, *cuts, len(objects)]
    parts = [
        tracker_of(levels, combination, feasible, objects[a:b])
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
    # the parts are left untouched by merging
    assert sum(p.n_objects for p in parts) == len(objects)


@settings(max_examples=100, deadline=None)
@given(universe_and_objects(), st.integers(0, 60))
def test_to_dict_from_dict_round_trip(case, split):
    levels, combination, feasible, objects = case
    tracker = tracker_of(levels, combination, feasible, objects)
    d = tracker.to_dict()
    text = dumps_json(d)
    again = CoverageTracker.from_dict(json.loads(text))
    assert again.to_dict() == d
    assert dumps_json(again.to_dict()) == text
    assert again.tuple_counts == tracker.tuple_counts
    assert again.level_counts == tracker.level_counts

    # a loaded tracker merges exactly with a live one
    first, rest = objects[:split], objects[split:]
    loaded = CoverageTracker.from_dict(tracker_of(levels, combination, feasible, first).to_dict())
    merged = loaded.merge(tracker_of(levels, combination, feasible, rest))
    assert merged.to_dict() == d
    # and keeps counting
    if objects:
        loaded.add(objects[0])
        assert loaded.n_objects == len(first) + 1


def test_to_dict_is_plain_and_has_the_documented_keys():
    tracker = CoverageTracker(LEVELS, FEASIBLE, ("category", "pose", "context"))
    tracker.add(obj("chair", "front", "room"))
    d = tracker.to_dict()
    assert sorted(d) == sorted(
        [
            "schema_version", "combination", "levels", "level_counts", "feasible", "covered",
            "coverage", "counts", "missing", "n_objects", "n_scenes",
        ]
    )
    assert json.loads(json.dumps(d)) == d  # plain types only
    assert d["counts"][0] == {"category": "chair", "pose": "front", "context": "room", "count": 1}
    assert d["feasible"] == len(FEASIBLE) == 10
    assert d["covered"] == 1
    assert d["coverage"] == pytest.approx(0.1)


def test_infeasible_tuples_are_never_missing_and_cannot_be_added():
    tracker = CoverageTracker(LEVELS, FEASIBLE)
    tracker.add(obj("sphere", "any", "room"))
    missing = tracker.missing()
    assert ("sphere", "any", "kitchen") in missing
    assert ("sphere", "front", "room") not in missing
    assert ("chair", "any", "room") not in missing
    assert len(missing) == len(FEASIBLE) - 1
    with pytest.raises(ValueError, match="infeasible") as err:
        tracker.add(obj("chair", "any", "room"))
    assert "'chair', 'any', 'room'" in str(err.value)
    assert tracker.n_objects == 1


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


def test_no_feasible_tuples_means_full_coverage():
    tracker = CoverageTracker(LEVELS, feasible=[])
    assert tracker.coverage() == 1.0
    assert tracker.missing() == [] and tracker.to_dict()["feasible"] == 0
    with pytest.raises(ValueError, match="infeasible"):
        tracker.add(obj("chair", "front", "room"))


def test_constructor_and_merge_reject_mismatches():
    with pytest.raises(ValueError, match="'shape'"):
        CoverageTracker(LEVELS, combination=("category", "shape"))
    with pytest.raises(ValueError, match="unknown level 'cube'"):
        CoverageTracker(LEVELS, feasible=[("cube", "front", "room")])
    with pytest.raises(ValueError, match="duplicate"):
        CoverageTracker({**LEVELS, "color": ["red", "red"]})
    a = CoverageTracker(LEVELS, FEASIBLE)
    with pytest.raises(ValueError, match="feasible"):
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
        CoverageTracker.from_dict({k: v for k, v in d.items() if k != "counts"})


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
