"""The grammar: validation errors, the exact layout count against brute-force
enumeration, and sampled frequencies against the weights (chi-square)."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from deadline import deadline
from scipy.stats import chisquare

from scenegen.config.load import config_from_dict, config_to_dict
from scenegen.config.schema import MAX_OBJECTS
from scenegen.errors import EXIT_INPUT, ConfigError
from scenegen.scene.factors import pose_levels
from scenegen.world.compile import World
from scenegen.world.grammar import (
    MAX_DEPTH,
    Grammar,
    ObjectItem,
    RelationItem,
    RepeatItem,
    RuleRef,
    compile_grammar,
    object_nodes,
)
from scenegen.world.sampler import Sampler

P_MIN = 1e-3  # chi-square tests fail below this p-value (fixed seeds: deterministic)


def with_grammar(cfg, rules, objects=(1, 3), max_depth=4, **extra):
    data = config_to_dict(cfg)
    data["grammar"] = {**data["grammar"], "rules": rules, "max_depth": max_depth, "start": "scene", **extra}
    data["placement"]["objects"] = list(objects)
    return World.of(config_from_dict(data)).cfg  # the grammar is checked when its world compiles


SMALL_RULES = {
    "scene": [
        {"weight": 2, "object": ["ball", "crate"]},
        {"weight": 1, "relation": "on", "anchor": "crate", "other": "top"},
        {"weight": 1, "repeat": "ball", "count": [1, 2], "arrange": "row"},
    ],
    "top": [
        {"weight": 1, "object": "ball"},
        {"weight": {"default": 1, "outdoor": 0}, "relation": "on", "anchor": "crate", "other": "top"},
    ],
}


# -- brute force: independent of the dynamic programme -----------------------------------


def _variety(grammar, category, support):
    """Every (entry, style, pose level, material) of a category, spelled out."""
    return [
        (e.name, style, pose, material)
        for e in grammar.dictionary.entries_of(category)
        if e.support or not support
        for style in e.styles
        for pose in pose_levels(e.symmetry)
        for material in e.materials
    ]


def enumerate_layouts(grammar, item, depth, support, context):
    """Every layout of ``item`` as (tokens, probability, objects), by explicit expansion."""
    if isinstance(item, ObjectItem):
        inside, probabilities, outside = grammar.category_options(item.categories, context, support)
        for category in inside + outside:
            for variety in _variety(grammar, category, support):
                yield (category, *variety), 1.0, 1
        return
    if isinstance(item, RuleRef):
        if depth == 0:
            return
        alternatives = grammar.rules[item.name]
        total = sum(a.weight(context) for a in alternatives)
        for i, alt in enumerate(alternatives):
            if alt.weight(context) > 0:
                for tokens, p, n in enumerate_layouts(grammar, alt.item, depth - 1, support, context):
                    yield (item.name, i, tokens), p * alt.weight(context) / total, n
        return
    if isinstance(item, RelationItem):
        anchor_support = support or item.relations == ("on",)
        for relation in item.relations:
            for (ta, pa, na), (to, po, no) in itertools.product(
                list(enumerate_layouts(grammar, item.anchor, depth, anchor_support, context)),
                list(enumerate_layouts(grammar, item.other, depth, False, context)),
            ):
                yield (relation, ta, to), pa * po / len(item.relations), na + no
        return
    assert isinstance(item, RepeatItem)
    for k in range(item.low, item.high + 1):
        parts = [list(enumerate_layouts(grammar, item.item, depth, support and j == 0, context)) for j in range(k)]
        for combo in itertools.product(*parts):
            yield (
                ("repeat", k, tuple(t for t, _, _ in combo)),
                math.prod(p for _, p, _ in combo) / (item.high - item.low + 1),
                sum(n for _, _, n in combo),
            )


@pytest.mark.parametrize("max_depth", [1, 2, 3, 4])
@pytest.mark.parametrize("objects", [(1, 1), (1, 3), (2, 4)])
def test_exact_count_equals_brute_force(cfg, max_depth, objects):
    small = with_grammar(cfg, SMALL_RULES, objects=objects, max_depth=max_depth)
    grammar = compile_grammar(small)
    counts = grammar.count_layouts()
    for context, count in counts.items():
        layouts = [t for t, _, n in enumerate_layouts(grammar, RuleRef("scene"), max_depth, False, context) if objects[0] <= n <= objects[1]]
        assert len(set(layouts)) == len(layouts), "brute force produced a duplicate"
        assert count == len(layouts), (context, max_depth, objects)


def test_default_grammar_count_is_huge_and_exact_integers(cfg):
    counts = compile_grammar(cfg).count_layouts()
    assert all(isinstance(v, int) for v in counts.values())
    assert sum(counts.values()) > 10**12


def test_counting_distinguishes_relations_and_pose_levels(cfg):
    rules = {"scene": [{"relation": ["left-of", "right-of"], "anchor": "mug", "other": "ball"}]}
    grammar = compile_grammar(with_grammar(cfg, rules, objects=(2, 2)))
    mugs, ball = grammar.dictionary.entries_of("mug"), grammar.dictionary["ball"]
    # per mug entry (the part-composed mug and mug_mesh): its styles x pose levels x materials
    mug = sum(len(m.styles) * len(pose_levels(m.symmetry)) * len(m.materials) for m in mugs)
    expected = 2 * mug * len(ball.materials)
    assert grammar.count_layouts()["studio"] == expected


def _structure_probabilities(grammar, context, objects):
    """Exact probability of each derivation structure (categories not drawn), by brute
    force over derivations, conditioned on the object count range."""
    probabilities = Counter()

    def walk(item, depth, support):
        if isinstance(item, ObjectItem):
            inside, _, outside = grammar.category_options(item.categories, context, support)
            if inside or outside:
                # a slot the context never shows is filled only by an out-of-context draw
                yield f"<{item.selector}>", 1.0 if inside else grammar.out_of_context, 1
        elif isinstance(item, RuleRef):
            if depth == 0:
                return
            alternatives = grammar.rules[item.name]
            total = sum(a.weight(context) for a in alternatives)
            for i, alt in enumerate(alternatives):
                if alt.weight(context) > 0:
                    for sig, p, n in walk(alt.item, depth - 1, support):
                        yield f"{item.name}#{i}({sig})", p * alt.weight(context) / total, n
        elif isinstance(item, RelationItem):
            anchor_support = support or item.relations == ("on",)
            for relation in item.relations:
                for (sa, pa, na), (so, po, no) in itertools.product(
                    list(walk(item.anchor, depth, anchor_support)), list(walk(item.other, depth, False))
                ):
                    yield f"{relation}({sa},{so})", pa * po / len(item.relations), na + no
        else:
            for k in range(item.low, item.high + 1):
                # only the first child is the group's head (and carries the support flag)
                children = [list(walk(item.item, depth, support and j == 0)) for j in range(k)]
                for combo in itertools.product(*children):
                    yield (
                        f"{item.arrange}[{','.join(s for s, _, _ in combo)}]",
                        math.prod(p for _, p, _ in combo) / (item.high - item.low + 1),
                        sum(n for _, _, n in combo),
                    )

    for sig, p, n in walk(RuleRef(grammar.start), grammar.max_depth, False):
        if objects[0] <= n <= objects[1]:
            probabilities[sig] += p
    total = sum(probabilities.values())
    return {k: v / total for k, v in probabilities.items()}


@pytest.mark.parametrize("context", ["studio", "outdoor"])
def test_sampled_derivations_match_exact_probabilities(cfg, context):
    small = with_grammar(cfg, SMALL_RULES, objects=(1, 3), max_depth=4)
    grammar = compile_grammar(small)
    expected = _structure_probabilities(grammar, context, (1, 3))
    rng = np.random.default_rng(12345)
    draws = 6000
    observed = Counter(grammar.sample_derivation(rng, context).signature() for _ in range(draws))
    assert set(observed) <= set(expected)
    keys = sorted(expected)
    result = chisquare([observed[k] for k in keys], [expected[k] * draws for k in keys])
    assert result.pvalue > P_MIN, (result, observed, expected)


OUT_OF_CONTEXT_RULES = {"scene": [{"weight": 1, "object": "cone"}, {"weight": 1, "object": ["ball", "crate"]}]}


def test_slot_the_context_never_shows_is_drawn_at_the_switch_rate(cfg):
    """In a room (cone weight 0) the `cone` slot is filled only when a draw ignores the
    context: probability 0.05 / (1 + 0.05) per scene, not 1/2."""
    small = with_grammar(cfg, OUT_OF_CONTEXT_RULES, objects=(1, 1), max_depth=2, out_of_context=0.05)
    grammar = compile_grammar(small)
    expected = _structure_probabilities(grammar, "room", (1, 1))
    assert expected["scene#0(<cone>)"] == pytest.approx(0.05 / 1.05)
    rng = np.random.default_rng(7)
    draws = 4000
    observed = Counter(grammar.sample_derivation(rng, "room").signature() for _ in range(draws))
    keys = sorted(expected)
    assert chisquare([observed[k] for k in keys], [expected[k] * draws for k in keys]).pvalue > P_MIN
    sampler = Sampler(small)
    scenes = [s for s in (sampler.sample(i) for i in range(400)) if s.context.name == "room"]
    cones = [s for s in scenes if s.objects[0].category == "cone"]
    assert all(s.out_of_context and not s.objects[0].in_context for s in cones)
    assert len(cones) < 0.15 * len(scenes)


def test_category_and_context_frequencies_match_weights(cfg):
    sampler = Sampler(cfg)
    scenes = [sampler.sample(i) for i in range(1500)]
    contexts = Counter(s.context.name for s in scenes)
    names = list(cfg.contexts)
    weights = np.array([cfg.contexts[c].weight for c in names])
    assert chisquare([contexts[c] for c in names], weights / weights.sum() * len(scenes)).pvalue > P_MIN
    # single objects drawn from the `any` selector, not constrained to be supports
    for context in ("room", "outdoor"):
        drawn = Counter(
            o.category for s in scenes if s.context.name == context for o in s.objects if o.slot == "any" and s.objects.index(o) >= 0
            and not any(other.support == s.objects.index(o) for other in s.objects)
            and "on(" not in s.structure
        )
        ctx = cfg.contexts[context]
        cats = [c for c in cfg.categories if ctx.weights.get(c, ctx.default_weight) > 0]
        w = np.array([ctx.weights.get(c, ctx.default_weight) for c in cats])
        total = sum(drawn[c] for c in cats)
        assert set(drawn) <= set(cats)
        assert chisquare([drawn[c] for c in cats], w / w.sum() * total).pvalue > P_MIN, (context, drawn)


def test_out_of_context_switch_draws_and_labels_atypical_objects(cfg):
    on = Sampler(config_from_dict({**config_to_dict(cfg), "grammar": {**config_to_dict(cfg)["grammar"], "out_of_context": 1.0}}))
    scenes = [on.sample(i) for i in range(60)]
    outdoor = [o for s in scenes if s.context.name == "outdoor" for o in s.objects]
    weights = cfg.contexts.outdoor.weights  # lamp, book, laptop and sofa have weight 0 outdoors
    never_outdoors = tuple(c for c in cfg.categories if weights.get(c, cfg.contexts.outdoor.default_weight) == 0)
    assert {"lamp", "book"} <= set(never_outdoors)
    assert all(o.in_context == (o.category not in never_outdoors) for o in outdoor)
    assert sum(not o.in_context for o in outdoor) > len(outdoor) / 2
    assert all(s.out_of_context == any(not o.in_context for o in s.objects) for s in scenes)
    assert not any(s.out_of_context for s in scenes if s.context.name == "studio")  # no zero weights
    plain = Sampler(cfg)
    assert not any(s.out_of_context or not all(o.in_context for o in s.objects) for s in (plain.sample(i) for i in range(60)))


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rules, extra, message",
    [
        ({"scene": [{"object": "unicorn"}]}, {}, r"'unicorn' is not a category.*valid categories: .*ball"),
        ({"scene": [{"repeat": "nowhere", "count": [1, 2]}]}, {}, r"unknown rule or selector 'nowhere'; valid rules: .*scene"),
        ({"scene": [{"relation": "under", "anchor": "ball", "other": "ball"}]}, {}, r"relation 'under' is unknown; valid: .*on"),
        ({"scene": [{"weight": 0, "object": "ball"}]}, {}, r"weight must be > 0, got 0"),
        ({"scene": [{"weight": -1, "object": "ball"}]}, {}, r"weight must be > 0, got -1"),
        ({"scene": [{"weight": {"kitchen": 1}, "object": "ball"}]}, {}, r"unknown context 'kitchen'; valid: .*studio"),
        ({"scene": [{"relation": "on", "anchor": "ball", "other": "scene"}]}, {},
         r"\['scene'\] can never finish expanding"),
        ({"scene": [{"relation": "near", "anchor": "ball", "other": "loop"}], "loop": [{"relation": "near", "anchor": "ball", "other": "loop"}]}, {},
         r"\['loop', 'scene'\] can never finish expanding.*no way to terminate"),
        ({"scene": [{"relation": "on", "anchor": "ball", "other": "mug"}]}, {}, r"'on' needs an anchor that can be a support.*supports: .*crate"),
        ({"scene": [{"relation": "on", "anchor": "crate", "other": "table"}]}, {}, r"'table' .* is larger than the top of every support"),
        ({"scene": [{"object": "ball"}]}, {"objects": (2, 3)}, r"cannot yield between 2 and 3 objects .* it yields counts \[1\]"),
        ({"scene": [{"repeat": "ball", "count": [3, 1]}]}, {}, r"count must be \[min, max\]"),
        ({"scene": [{"repeat": "ball", "count": [0, 2]}]}, {}, r"count must be \[min, max\] with 1 <= min"),
        ({"scene": [{"repeat": "ball", "count": [1, 2], "arrange": "heap"}]}, {}, r"arrange is 'heap'; valid: .*row"),
        ({"scene": [{"object": "ball", "repeat": "ball"}]}, {}, r"exactly one of 'object', 'relation' or 'repeat'"),
        ({"ball": [{"object": "ball"}], "scene": [{"object": "ball"}]}, {}, r"rules.ball: the name is also a category"),
    ],
)
def test_bad_grammars_fail_at_load_with_a_clear_error(cfg, rules, extra, message):
    objects = extra.pop("objects", (1, 3))
    with pytest.raises(ConfigError, match=message):
        with_grammar(cfg, rules, objects=objects, **extra)


def test_start_deeper_than_max_depth_is_refused(cfg):
    rules = {"scene": [{"repeat": "a", "count": [1, 1]}], "a": [{"repeat": "b", "count": [1, 1]}], "b": [{"object": "ball"}]}
    assert compile_grammar(with_grammar(cfg, rules, max_depth=3)).count_layouts()
    with pytest.raises(ConfigError, match=r"needs at least 3 levels.*max_depth is 2"):
        with_grammar(cfg, rules, max_depth=2)


def test_recursion_is_bounded_by_max_depth(cfg):
    rules = {"scene": [{"object": "crate"}, {"relation": "on", "anchor": "crate", "other": "scene"}]}
    grammar = compile_grammar(with_grammar(cfg, rules, objects=(1, 10), max_depth=3))
    rng = np.random.default_rng(0)
    sizes = {len(object_nodes(grammar.sample_derivation(rng, "studio"))) for _ in range(300)}
    assert sizes == {1, 2, 3}


def test_grammar_is_a_grammar(cfg):
    assert isinstance(compile_grammar(cfg), Grammar)
    assert compile_grammar(cfg) is compile_grammar(cfg)


def test_list_selectors_are_items_everywhere(cfg):
    rules = {"scene": [{"relation": "on", "anchor": ["table", "crate"], "other": ["mug", "book"]},
                       {"repeat": ["ball", "can"], "count": [2, 2], "arrange": "row"}]}
    grammar = compile_grammar(with_grammar(cfg, rules, objects=(2, 2), max_depth=2))
    rng = np.random.default_rng(3)
    heads = Counter()
    for _ in range(200):
        nodes = object_nodes(grammar.sample_derivation(rng, "studio"))
        for node in nodes:
            grammar.draw_category(node, "studio", rng)
        heads[nodes[0].category] += 1
    assert set(heads) == {"table", "crate", "ball", "can"}


# -- bounded time: checked arithmetically before any expansion ---------------------------


@pytest.mark.parametrize("count", [[1_000_000, 1_000_000_000], [1, 1_000_000_000], [1, MAX_OBJECTS + 1]])
def test_repeat_count_beyond_any_scene_is_refused_at_once(cfg, count):
    with deadline(60), pytest.raises(ConfigError) as info:
        with_grammar(cfg, {"scene": [{"repeat": "ball", "count": count}]})
    message = str(info.value)
    assert f"grammar.rules.scene[0].count is {count}" in message
    assert f"valid: 1 <= min <= max <= {MAX_OBJECTS}" in message
    assert info.value.exit_status == EXIT_INPUT


def test_repeat_counts_beyond_the_scene_are_not_expanded_but_keep_their_share(cfg):
    # counts 4..64 cannot fit 3 objects: they are never expanded, yet each keeps its
    # 1/64 of the repeat's probability (exact conditioning on the object count)
    grammar = compile_grammar(with_grammar(cfg, {"scene": [{"repeat": "ball", "count": [1, MAX_OBJECTS]}]}))
    p = grammar.poly(grammar._start_ref, grammar.max_depth, False, "studio", "p")
    assert p == pytest.approx([0, 1 / MAX_OBJECTS, 1 / MAX_OBJECTS, 1 / MAX_OBJECTS])
    rng = np.random.default_rng(0)
    sizes = Counter(len(object_nodes(grammar.sample_derivation(rng, "studio"))) for _ in range(300))
    assert set(sizes) == {1, 2, 3}


@pytest.mark.parametrize("depth", [0, MAX_DEPTH + 1, 100_000])
def test_max_depth_outside_its_range_is_refused(cfg, depth):
    with deadline(60), pytest.raises(ConfigError, match=rf"grammar.max_depth must be between 1 and {MAX_DEPTH}, got {depth}"):
        with_grammar(cfg, {"scene": [{"object": "ball"}]}, max_depth=depth)


def test_the_most_expensive_grammar_within_the_limits_loads_counts_and_samples(cfg):
    # every rule recursive, repeats of the largest count, the most objects and the
    # deepest nesting: no RecursionError, and seconds, not minutes
    rules = {"scene": [{"repeat": "scene", "count": [1, MAX_OBJECTS]}, {"object": "any"},
                       {"relation": "near", "anchor": "scene", "other": "scene"}]}
    with deadline(120):
        grammar = compile_grammar(with_grammar(cfg, rules, objects=(1, MAX_OBJECTS), max_depth=MAX_DEPTH))
        assert all(count > 0 for count in grammar.count_layouts().values())
        rng = np.random.default_rng(0)
        assert len(object_nodes(grammar.sample_derivation(rng, "room", count=MAX_OBJECTS))) == MAX_OBJECTS


def test_a_start_that_yields_only_more_objects_than_any_scene_says_so(cfg):
    rules = {"scene": [{"repeat": "pair", "count": [MAX_OBJECTS, MAX_OBJECTS]}],
             "pair": [{"relation": "near", "anchor": "ball", "other": "ball"}]}
    with pytest.raises(ConfigError, match=rf"it yields no object count up to {MAX_OBJECTS}"):
        with_grammar(cfg, rules)
