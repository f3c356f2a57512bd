"""The placement grammar: rules as data, validated against the dictionary, then
counted exactly and sampled exactly.

A grammar (``cfg.grammar``) has named rules; a rule is a list of weighted alternatives
(productions). A production is one of

* ``object: SELECTOR``: one object whose category the selector allows (a category, a
  set of ``grammar.sets``, ``any``, or a list of them);
* ``relation: R, anchor: ITEM, other: ITEM``: ``other`` placed relative to ``anchor``
  by relation ``R`` (a list of relations picks one uniformly);
* ``repeat: ITEM, count: [min, max], arrange: free|row|cluster|pile`` (``pile``: objects
  of a selector dropped in a heap and settled by physics, :mod:`scenegen.world.piles`).

An ITEM is a rule name or a selector. Expanding a rule consumes one level of depth;
``grammar.max_depth`` bounds the nesting, so recursive rules terminate.

Every item has a *head* object: an object is its own head, a relation's head is its
anchor's head, a repeat's head is its first item's head. ``on`` places ``other`` on the
top of the anchor's head, which must therefore be an entry with ``support: true``.

Counting and sampling share one dynamic programme over (item, depth left, head must
support) giving a polynomial in the number of objects, truncated at the most objects a
scene may have (``placement.objects``):

* in *probability* mode, coefficient n is the probability that the item expands to n
  objects within the depth left; sampling a derivation top-down conditioned on the
  scene's object count is then exact (no rejection);
* in *count* mode, coefficient n is the number of distinct discrete layouts with n
  objects: structure (rule alternatives, repeat counts), relations, and per object its
  category, entry, part style, pose level and material.

Its cost is bounded before anything is expanded: a repeat count is at most
:data:`MAX_REPEAT` and only counts up to the scene's most objects are expanded (each
repetition is at least one object), and ``max_depth`` is at most :data:`MAX_DEPTH`, so
the table has at most (items x depth x 2 x contexts) polynomials of at most
``MAX_OBJECTS + 1`` terms, each built with at most ``MAX_OBJECTS`` convolutions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..config.schema import MAX_OBJECTS, ProductionConfig
from ..errors import ConfigError, choices
from ..scene.factors import pose_levels
from ..streams import cumulative, draw_index
from .settle import require_physics

RELATIONS = ("on", "left-of", "right-of", "in-front-of", "behind", "near", "camera-front", "camera-behind")
SCENE_RELATIONS = {"left-of": (0.0, 1.0), "right-of": (0.0, -1.0), "in-front-of": (1.0, 0.0), "behind": (-1.0, 0.0)}
ARRANGEMENTS = ("free", "row", "cluster", "pile")  # pile: dropped and settled by PyBullet (scenegen[physics])
ANY = "any"
MAX_REPEAT = MAX_OBJECTS  # a repeat count above it can never fit in a scene
# The dynamic programme and the sampler recurse about three Python frames per level of
# depth, so 64 levels stay far below Python's recursion limit (1000) wherever they are
# called from; a scene has at most MAX_OBJECTS objects, so deeper nesting could only add
# levels that produce no object.
MAX_DEPTH = 64


# -- compiled items -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ObjectItem:
    """One object; ``categories`` are those the selector allows, in category order."""

    selector: str
    categories: Tuple[str, ...]


@dataclass(frozen=True, eq=False)
class RuleRef:
    name: str


@dataclass(frozen=True, eq=False)
class RelationItem:
    relations: Tuple[str, ...]
    anchor: "Item"
    other: "Item"


@dataclass(frozen=True, eq=False)
class RepeatItem:
    item: "Item"
    low: int
    high: int
    arrange: str


Item = Union[ObjectItem, RuleRef, RelationItem, RepeatItem]


@dataclass(frozen=True, eq=False)
class Alternative:
    item: Item
    default_weight: float
    context_weights: Tuple[Tuple[str, float], ...]

    def weight(self, context: str) -> float:
        return dict(self.context_weights).get(context, self.default_weight)


# -- derivations --------------------------------------------------------------------


@dataclass(eq=False)
class ObjectNode:
    """A terminal of a derivation: which categories it may take, and (after the
    category stage) the category and whether it was drawn in context."""

    selector: str
    categories: Tuple[str, ...]
    support_head: bool
    category: Optional[str] = None
    in_context: bool = True

    def signature(self) -> str:
        return self.category or f"<{self.selector}>"


@dataclass(eq=False)
class RuleNode:
    rule: str
    alternative: int
    child: "Node"

    def signature(self) -> str:
        return f"{self.rule}#{self.alternative}({self.child.signature()})"


@dataclass(eq=False)
class RelationNode:
    relation: str
    anchor: "Node"
    other: "Node"

    def signature(self) -> str:
        return f"{self.relation}({self.anchor.signature()},{self.other.signature()})"


@dataclass(eq=False)
class RepeatNode:
    arrange: str
    children: List["Node"]

    def signature(self) -> str:
        return f"{self.arrange}[{','.join(c.signature() for c in self.children)}]"


Node = Union[ObjectNode, RuleNode, RelationNode, RepeatNode]


def walk(node: Node) -> Iterator[Node]:
    """Every node of a derivation, depth first in placement order (anchors first)."""
    yield node
    if isinstance(node, RuleNode):
        yield from walk(node.child)
    elif isinstance(node, RelationNode):
        yield from walk(node.anchor)
        yield from walk(node.other)
    elif isinstance(node, RepeatNode):
        for child in node.children:
            yield from walk(child)


def object_nodes(node: Node) -> List[ObjectNode]:
    """The derivation's object terminals in placement order (depth first, anchors first)."""
    return [n for n in walk(node) if isinstance(n, ObjectNode)]


def head(node: Node) -> ObjectNode:
    """The head object of a derivation node (see the module docstring)."""
    while not isinstance(node, ObjectNode):
        node = node.child if isinstance(node, RuleNode) else node.anchor if isinstance(node, RelationNode) else node.children[0]
    return node


# -- polynomial helpers (coefficient n: n objects) -------------------------------------


def _convolve(a: list, b: list, size: int) -> list:
    out = [0] * size
    for i, x in enumerate(a):
        if x:
            for j in range(size - i):
                if b[j]:
                    out[i + j] += x * b[j]
    return out


def _scale(a: list, factor) -> list:
    return [x * factor for x in a]


def _add(a: list, b: list) -> list:
    return [x + y for x, y in zip(a, b)]


# -- the grammar ----------------------------------------------------------------------


class Grammar:
    """A compiled, validated grammar bound to a config's dictionary and contexts.

    Args:
        cfg: the validated config (``cfg.grammar``, ``cfg.placement.objects``, contexts).
        dictionary: the object dictionary (entries, supports, sizes, pose levels).

    Raises:
        ConfigError: an unknown rule, category, set or relation; a non-positive weight;
            a rule that can never finish expanding; a start rule that cannot yield an
            object count in ``placement.objects`` within ``max_depth``; an ``on`` whose
            anchor can never be a support; objects larger than every support they may
            stand on. The message names the key and the valid choices.
    """

    def __init__(self, cfg, dictionary) -> None:
        g = cfg.grammar
        self.dictionary = dictionary
        self.categories = tuple(dictionary.categories)
        self.contexts = tuple(str(c) for c in cfg.contexts.keys())
        self.context_weights = {
            str(name): {c: float(ctx.weights.get(c, ctx.default_weight)) for c in self.categories}
            for name, ctx in cfg.contexts.items()
        }
        self.context_probability = {str(name): float(ctx.weight) for name, ctx in cfg.contexts.items()}
        self.start = str(g.start)
        self.max_depth = int(g.max_depth)
        self.out_of_context = float(g.out_of_context)
        self.near = float(g.near)
        self.count_range = (int(cfg.placement.objects[0]), int(cfg.placement.objects[1]))
        self._size = self.count_range[1] + 1
        if not 1 <= self.max_depth <= MAX_DEPTH:
            raise ConfigError(
                f"grammar.max_depth must be between 1 and {MAX_DEPTH}, got {self.max_depth} (a scene "
                f"has at most {MAX_OBJECTS} objects, so deeper rules could only nest without adding any)"
            )
        if not 0.0 <= self.out_of_context <= 1.0:
            raise ConfigError(f"grammar.out_of_context must be in [0, 1], got {self.out_of_context}")
        if not self.near >= 0:
            raise ConfigError(f"grammar.near must be >= 0 metres, got {self.near}")
        self.sets = self._compile_sets(g.sets)
        self.rules: Dict[str, Tuple[Alternative, ...]] = {}
        if not g.rules:
            raise ConfigError("grammar.rules is empty")
        for name in g.rules:
            if str(name) in self.categories or str(name) in self.sets or str(name) == ANY:
                raise ConfigError(
                    f"grammar.rules.{name}: the name is also a category or set; rename the rule"
                )
        self._rule_names = tuple(str(n) for n in g.rules)
        self._start_ref = RuleRef(self.start)
        for name, alternatives in g.rules.items():
            self.rules[str(name)] = self._compile_rule(str(name), alternatives)
        if self.start not in self.rules:
            raise ConfigError(f"grammar.start is {self.start!r}, not a rule; valid: {choices(self.rules)}")
        self._check_termination()
        self._variety = self._object_variety()
        self._polys: Dict[tuple, list] = {}
        self._powers: Dict[tuple, List[list]] = {}  # see _repeat_terms
        self._draws: Dict[tuple, tuple] = {}  # see _cumulative
        self._options: Dict[tuple, tuple] = {}  # see _category_entry
        self._check_supports()
        self._check_counts()

    # -- compiling --------------------------------------------------------------------

    def _compile_sets(self, sets) -> Dict[str, Tuple[str, ...]]:
        compiled = {}
        for name, members in sets.items():
            key = f"grammar.sets.{name}"
            if str(name) in self.categories or str(name) == ANY:
                raise ConfigError(f"{key}: the set name is also a category; rename the set")
            members = [str(m) for m in members]
            for m in members:
                if m not in self.categories:
                    raise ConfigError(f"{key} names unknown category {m!r}; valid: {choices(self.categories)}")
            if not members:
                raise ConfigError(f"{key} is empty")
            compiled[str(name)] = tuple(c for c in self.categories if c in members)
        return compiled

    def _selector(self, value, key: str) -> ObjectItem:
        names = [str(value)] if isinstance(value, str) else [str(v) for v in value]
        allowed = set()
        for name in names:
            if name == ANY:
                allowed.update(self.categories)
            elif name in self.sets:
                allowed.update(self.sets[name])
            elif name in self.categories:
                allowed.add(name)
            else:
                raise ConfigError(
                    f"{key}: {name!r} is not a category, a set or 'any'; valid categories: "
                    f"{choices(self.categories)}; sets: {choices(self.sets) if self.sets else '(none)'}"
                )
        return ObjectItem("+".join(names), tuple(c for c in self.categories if c in allowed))

    def _item(self, value, key: str, rule_names) -> Item:
        if value is None:
            raise ConfigError(f"{key} is missing")
        if isinstance(value, str) and value in rule_names:
            return RuleRef(value)
        if isinstance(value, str) and value not in self.categories and value not in self.sets and value != ANY:
            raise ConfigError(
                f"{key}: unknown rule or selector {value!r}; valid rules: {choices(rule_names)}; "
                f"categories: {choices(self.categories)}; sets: {choices(self.sets) if self.sets else '(none)'}"
            )
        return self._selector(value, key)

    def _weight(self, weight, key: str) -> Tuple[float, Tuple[Tuple[str, float], ...]]:
        if isinstance(weight, (int, float)) and not isinstance(weight, bool):
            if not weight > 0:
                raise ConfigError(f"{key} must be > 0, got {weight} (a weight of 0 in some contexts: use a mapping)")
            return float(weight), ()
        if hasattr(weight, "items"):
            per_context, default = [], 1.0
            for name, value in weight.items():
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    raise ConfigError(f"{key}.{name} must be a number >= 0, got {value!r}")
                if name == "default":
                    default = float(value)
                elif str(name) in self.contexts:
                    per_context.append((str(name), float(value)))
                else:
                    raise ConfigError(
                        f"{key} names unknown context {name!r}; valid: {choices(self.contexts + ('default',))}"
                    )
            if not any(v > 0 for v in [default, *(v for _, v in per_context)]):
                raise ConfigError(f"{key} is 0 in every context; remove the alternative instead")
            return default, tuple(per_context)
        raise ConfigError(f"{key} must be a number or a mapping context -> number, got {weight!r}")

    def _compile_rule(self, name: str, alternatives) -> Tuple[Alternative, ...]:
        key = f"grammar.rules.{name}"
        if not alternatives:
            raise ConfigError(f"{key} has no alternatives")
        rule_names = set(self._rule_names)
        compiled = []
        for i, raw in enumerate(alternatives):
            akey = f"{key}[{i}]"
            alt = _production(raw)
            kinds = [k for k in ("object", "relation", "repeat") if getattr(alt, k) is not None]
            if len(kinds) != 1:
                raise ConfigError(f"{akey} must have exactly one of 'object', 'relation' or 'repeat'; it has {kinds or 'none'}")
            if kinds == ["object"]:
                item: Item = self._selector(alt.object, f"{akey}.object")
            elif kinds == ["relation"]:
                relations = alt.relation if not isinstance(alt.relation, (str, bool)) else [alt.relation]
                # YAML 1.1 reads an unquoted `on` as true
                relations = tuple("on" if r is True else str(r) for r in relations)
                if not relations:
                    raise ConfigError(f"{akey}.relation is empty; valid: {choices(RELATIONS)}")
                for r in relations:
                    if r not in RELATIONS:
                        raise ConfigError(f"{akey}.relation {r!r} is unknown; valid: {choices(RELATIONS)}")
                if len(set(relations)) != len(relations):
                    raise ConfigError(f"{akey}.relation lists a relation twice: {list(relations)}")
                if "on" in relations and len(relations) > 1:
                    raise ConfigError(f"{akey}.relation: 'on' cannot be mixed with other relations")
                item = RelationItem(
                    relations,
                    self._item(alt.anchor, f"{akey}.anchor", rule_names),
                    self._item(alt.other, f"{akey}.other", rule_names),
                )
            else:
                count = _repeat_count(alt.count, f"{akey}.count")
                if alt.arrange not in ARRANGEMENTS:
                    raise ConfigError(f"{akey}.arrange is {alt.arrange!r}; valid: {choices(ARRANGEMENTS)}")
                item = RepeatItem(self._item(alt.repeat, f"{akey}.repeat", rule_names), *count, str(alt.arrange))
                if alt.arrange == "pile":
                    if not isinstance(item.item, ObjectItem):
                        raise ConfigError(f"{akey}: arrange: pile piles objects: its repeat must be a selector "
                                          f"(a category, a set or any), not the rule {alt.repeat!r}")
                    require_physics(f"{akey}: arrange: pile")
            default, per_context = self._weight(alt.weight, f"{akey}.weight")
            compiled.append(Alternative(item, default, per_context))
        return tuple(compiled)

    def _check_termination(self) -> None:
        """Every rule must be able to finish expanding; start within ``max_depth``."""
        depth = {name: math.inf for name in self.rules}

        def item_depth(item) -> float:
            if isinstance(item, ObjectItem):
                return 0
            if isinstance(item, RuleRef):
                return depth[item.name]
            if isinstance(item, RelationItem):
                return max(item_depth(item.anchor), item_depth(item.other))
            return item_depth(item.item) if item.low > 0 else 0

        changed = True
        while changed:
            changed = False
            for name, alternatives in self.rules.items():
                best = 1 + min(item_depth(a.item) for a in alternatives)
                if best < depth[name]:
                    depth[name], changed = best, True
        stuck = sorted(n for n, d in depth.items() if d == math.inf)
        if stuck:
            raise ConfigError(
                f"grammar.rules {stuck} can never finish expanding: every alternative refers "
                f"back to a rule of this list (a recursion with no way to terminate); give "
                f"each of them an alternative that ends in objects"
            )
        if depth[self.start] > self.max_depth:
            raise ConfigError(
                f"grammar.start {self.start!r} needs at least {depth[self.start]} levels of "
                f"expansion but grammar.max_depth is {self.max_depth}; raise grammar.max_depth"
            )
        self.min_depth = depth

    # -- category choice within a context -------------------------------------------

    def category_options(self, categories: Sequence[str], context: str, support_head: bool = False):
        """(in-context categories with probabilities, out-of-context categories) a slot
        may draw in ``context``; ``support_head`` keeps only categories with a support
        entry. Worked out once per (categories, context, support_head); the lists are
        the caller's, the probabilities (read-only) are shared."""
        inside, probabilities, outside, _ = self._category_entry(categories, context, support_head)
        return list(inside), probabilities, list(outside)

    def _category_entry(self, categories: Sequence[str], context: str, support_head: bool) -> tuple:
        """(inside, probabilities, outside, the probabilities' cumulative sums or None when
        nothing is inside) of :meth:`category_options`, worked out once per its arguments."""
        key = (tuple(categories), context, support_head)
        found = self._options.get(key)
        if found is None:
            inside, probabilities, outside = self._category_options(categories, context, support_head)
            probabilities.flags.writeable = False
            sums = cumulative(probabilities) if len(probabilities) else None
            found = self._options[key] = (tuple(inside), probabilities, tuple(outside), sums)
        return found

    def _category_options(self, categories: Sequence[str], context: str, support_head: bool):
        if support_head:
            categories = [c for c in categories if any(e.support for e in self.dictionary.entries_of(c))]
        weights = self.context_weights[context]
        inside = [c for c in categories if weights[c] > 0]
        outside = [c for c in categories if weights[c] == 0]
        if inside:
            w = np.array([weights[c] for c in inside])
            probabilities = w / w.sum()
        else:
            probabilities = np.zeros(0)
        if self.out_of_context == 0:
            outside = []
        return inside, probabilities, outside

    def _object_variety(self) -> Dict[Tuple[str, bool], int]:
        """(category, support only) -> distinct (entry, style, pose level, material)."""
        variety = {}
        for category in self.categories:
            for support in (False, True):
                variety[(category, support)] = sum(
                    len(e.styles) * len(pose_levels(e.symmetry)) * len(e.materials)
                    for e in self.dictionary.entries_of(category)
                    if e.support or not support
                )
        return variety

    # -- the dynamic programme --------------------------------------------------------

    def poly(self, item: Item, depth: int, support: bool, context: str, mode: str) -> list:
        """Polynomial of ``item`` (coefficient n: objects n) with ``depth`` levels left.

        ``mode`` is ``"p"`` (probabilities) or ``"count"`` (numbers of distinct layouts).
        """
        # every reference to a rule shares its polynomials
        key = (item.name if isinstance(item, RuleRef) else id(item), depth, support, context, mode, self._size)
        found = self._polys.get(key)
        if found is not None:
            return found
        size, zero = self._size, [0] * self._size
        if isinstance(item, ObjectItem):
            inside, _, outside = self.category_options(item.categories, context, support)
            result = list(zero)
            if size > 1 and (inside or outside):
                if mode == "p":
                    # a slot none of whose categories the context shows is filled only
                    # when the draw ignores the context's weights
                    result[1] = 1.0 if inside else self.out_of_context
                else:
                    result[1] = sum(self._variety[(c, support)] for c in inside + outside)
        elif isinstance(item, RuleRef):
            result = [0.0] * size if mode == "p" else list(zero)
            if depth > 0:
                alternatives = self.rules[item.name]
                weights = [a.weight(context) for a in alternatives]
                total = sum(weights)
                for alt, w in zip(alternatives, weights):
                    if w > 0:
                        sub = self.poly(alt.item, depth - 1, support, context, mode)
                        result = _add(result, _scale(sub, w / total) if mode == "p" else sub)
        elif isinstance(item, RelationItem):
            anchor_support = support or item.relations == ("on",)
            result = _convolve(
                self.poly(item.anchor, depth, anchor_support, context, mode),
                self.poly(item.other, depth, False, context, mode),
                size,
            )
            if mode != "p":
                result = _scale(result, len(item.relations))
        else:
            result = [0.0] * size if mode == "p" else list(zero)
            share = 1.0 / (item.high - item.low + 1)  # each count of the whole range, not only those that fit
            for k, term in enumerate(self._repeat_powers(item, depth, support, context, mode)):
                if k >= item.low:
                    result = _add(result, _scale(term, share) if mode == "p" else term)
        self._polys[key] = result
        return result

    def _repeat_powers(self, item: RepeatItem, depth: int, support: bool, context: str, mode: str) -> Iterator[list]:
        """Polynomials of exactly k = 0, 1, 2, ... repetitions of ``item`` (the first with
        the head flag), each from the previous by one convolution, up to ``item.high`` or
        the scene's most objects if fewer (a repetition is at least one object, so more
        contribute nothing)."""
        term = [0] * self._size
        term[0] = 1.0 if mode == "p" else 1
        yield term
        for k in range(1, min(item.high, self._size - 1) + 1):
            unit = self.poly(item.item, depth, support and k == 1, context, mode)
            term = unit if k == 1 else _convolve(term, unit, self._size)
            yield term

    def _repeat_terms(self, item: RepeatItem, depth: int, support: bool, context: str) -> List[list]:
        """``_repeat_powers`` in probability mode as a list, memoised (for sampling)."""
        key = (id(item), depth, support, context, self._size)
        found = self._powers.get(key)
        if found is None:
            found = self._powers[key] = list(self._repeat_powers(item, depth, support, context, "p"))
        return found

    def count_polynomial(self, context: str) -> list:
        """Numbers of distinct layouts (ints) per object count in ``context``."""
        return self.poly(self._start_ref, self.max_depth, False, context, "count")

    def count_layouts(self) -> Dict[str, int]:
        """Exact number of distinct discrete layouts per context with weight > 0, with an
        object count in ``placement.objects``."""
        lo, hi = self.count_range
        return {
            context: sum(self.count_polynomial(context)[lo : hi + 1])
            for context in self.contexts
            if self.context_probability[context] > 0
        }

    def _check_counts(self) -> None:
        lo, hi = self.count_range
        for context in self.contexts:
            if self.context_probability[context] <= 0:
                continue
            p = self.poly(self._start_ref, self.max_depth, False, context, "p")
            if not any(v > 0 for v in p[lo : hi + 1]):
                possible = self._possible_counts(context)
                raise ConfigError(
                    f"grammar.start {self.start!r} cannot yield between {lo} and {hi} objects "
                    f"(placement.objects) in context {context!r} within grammar.max_depth="
                    f"{self.max_depth}; it yields {possible}; change placement.objects or the rules"
                )

    def _possible_counts(self, context: str) -> str:
        """A description of the object counts the grammar can yield (up to MAX_OBJECTS)."""
        saved, self._size = self._size, MAX_OBJECTS + 1  # polynomials are memoised per size
        try:
            p = self.poly(self._start_ref, self.max_depth, False, context, "p")
        finally:
            self._size = saved
        counts = [n for n, v in enumerate(p) if v > 0]
        if not counts:
            return f"no object count up to {MAX_OBJECTS}"
        return f"counts {counts[:8]}{' ...' if len(counts) > 8 else ''}"

    # -- supports -------------------------------------------------------------------

    def _heads(self, item: Item) -> set:
        """Categories the head of ``item`` may take."""
        return self._categories(item, on_surface=False, seen=set())

    def _bases(self, item: Item) -> set:
        """Categories that may stand directly on the surface ``item`` is placed on."""
        return self._categories(item, on_surface=True, seen=set())

    def _categories(self, item: Item, on_surface: bool, seen: set) -> set:
        """The head's categories; with ``on_surface`` also those of every object that
        shares the head's surface (a relation's ``other`` unless it stands ``on``)."""
        if isinstance(item, ObjectItem):
            return set(item.categories)
        if isinstance(item, RuleRef):
            if item.name in seen:
                return set()
            seen.add(item.name)
            return set().union(*(self._categories(a.item, on_surface, seen) for a in self.rules[item.name]))
        if isinstance(item, RelationItem):
            found = self._categories(item.anchor, on_surface, seen)
            if on_surface and item.relations != ("on",):
                found |= self._categories(item.other, on_surface, seen)
            return found
        return self._categories(item.item, on_surface, seen)

    def _relations(self):
        def walk(item, key):
            if isinstance(item, RelationItem):
                yield item, key
                yield from walk(item.anchor, key)
                yield from walk(item.other, key)
            elif isinstance(item, RepeatItem):
                yield from walk(item.item, key)

        for name, alternatives in self.rules.items():
            for i, alt in enumerate(alternatives):
                yield from walk(alt.item, f"grammar.rules.{name}[{i}]")

    def _check_supports(self) -> None:
        """An ``on`` needs a support head, and objects that can fit on one of them."""
        for relation, key in self._relations():
            if relation.relations != ("on",):
                continue
            supports = [
                e
                for c in sorted(self._heads(relation.anchor))
                for e in self.dictionary.entries_of(c)
                if e.support
            ]
            if not supports:
                valid = sorted({e.category for e in (self.dictionary[n] for n in self.dictionary.names) if e.support})
                raise ConfigError(
                    f"{key}: relation 'on' needs an anchor that can be a support, but "
                    f"{sorted(self._heads(relation.anchor))} has none; supports: {choices(valid)}"
                )
            top = max(
                (sorted(np.asarray(e.extents(s)[:2]) * e.size[1]) for e in supports for s in e.styles),
                key=lambda t: t[0] * t[1],
            )
            for category in sorted(self._bases(relation.other)):
                smallest = min(
                    (sorted(np.asarray(e.extents(s)[:2]) * e.size[0]) for e in self.dictionary.entries_of(category) for s in e.styles),
                    key=lambda t: t[0] * t[1],
                )
                fits = any(
                    smallest[0] <= sorted_top[0] and smallest[1] <= sorted_top[1]
                    for sorted_top in (
                        sorted(np.asarray(e.extents(s)[:2]) * e.size[1]) for e in supports for s in e.styles
                    )
                )
                if not fits:
                    raise ConfigError(
                        f"{key}: {category!r} (footprint at least {smallest[0]:.2f} x "
                        f"{smallest[1]:.2f} m) is larger than the top of every support it may "
                        f"stand on (at most {top[0]:.2f} x {top[1]:.2f} m); remove it from "
                        f"'other' or allow larger supports"
                    )

    # -- sampling ---------------------------------------------------------------------

    def sample_derivation(self, rng: np.random.Generator, context: str, count: Optional[int] = None) -> Node:
        """A derivation of the start rule in ``context``, exactly distributed as the
        grammar's weights conditioned on terminating within ``max_depth`` with an object
        count in ``placement.objects`` (or exactly ``count``). Categories are not yet
        drawn (see :meth:`draw_categories`)."""
        lo, hi = self.count_range
        p = self.poly(self._start_ref, self.max_depth, False, context, "p")
        if count is None:
            sums = self._cumulative(("count", context), lambda: np.array(p[lo : hi + 1], dtype=float))
            count = lo + draw_index(rng, sums)
        elif not p[count] > 0:
            raise ConfigError(f"the grammar cannot yield exactly {count} objects in context {context!r}")
        return self._sample(self._start_ref, self.max_depth, False, context, count, rng)

    def _sample(self, item: Item, depth: int, support: bool, context: str, n: int, rng) -> Node:
        if isinstance(item, ObjectItem):
            assert n == 1
            return ObjectNode(item.selector, item.categories, support)
        if isinstance(item, RuleRef):
            alternatives = self.rules[item.name]
            sums = self._cumulative(("rule", item.name, depth, support, context, n), lambda: np.array(
                [a.weight(context) * self.poly(a.item, depth - 1, support, context, "p")[n] for a in alternatives]
            ))
            i = draw_index(rng, sums)
            return RuleNode(item.name, i, self._sample(alternatives[i].item, depth - 1, support, context, n, rng))
        if isinstance(item, RelationItem):
            anchor_support = support or item.relations == ("on",)
            pa = self.poly(item.anchor, depth, anchor_support, context, "p")
            po = self.poly(item.other, depth, False, context, "p")
            sums = self._cumulative(("relation", id(item), depth, support, context, n), _split_weights, pa, po, n)
            k = draw_index(rng, sums)
            relation = item.relations[int(rng.integers(len(item.relations)))]
            return RelationNode(
                relation,
                self._sample(item.anchor, depth, anchor_support, context, k, rng),
                self._sample(item.other, depth, False, context, n - k, rng),
            )
        powers, rest_powers = (self._repeat_terms(item, depth, flag, context) for flag in (support, False))
        counts = range(item.low, len(powers))
        sums = self._cumulative(("repeat", id(item), depth, support, context, n),
                                lambda: np.array([powers[k][n] for k in counts]))
        k = counts[draw_index(rng, sums)]
        children, left = [], n
        for j in range(k):
            head_flag = support and j == 0
            first = self.poly(item.item, depth, head_flag, context, "p")
            rest = rest_powers[k - j - 1]
            sums = self._cumulative(("repeat item", id(item), depth, head_flag, context, k - j - 1, left),
                                    _split_weights, first, rest, left)
            m = draw_index(rng, sums)
            children.append(self._sample(item.item, depth, head_flag, context, m, rng))
            left -= m
        return RepeatNode(item.arrange, children)

    def _cumulative(self, key: tuple, weights_of, *args) -> tuple[float, ...]:
        """``cumulative(w / w.sum())`` of the array ``w = weights_of(*args)``, the weights
        of one sampling step (drawn by :func:`~scenegen.streams.draw_index`, as
        ``rng.choice(len(w), p=w / w.sum())`` draws), worked out once per ``key``: the
        step and the arguments its weights depend on (with the polynomials' size, as
        :meth:`poly` keys them)."""
        key = (*key, self._size)
        found = self._draws.get(key)
        if found is None:
            w = weights_of(*args)
            found = self._draws[key] = cumulative(w / w.sum())
        return found

    def draw_category(self, node: ObjectNode, context: str, rng: np.random.Generator) -> None:
        """Draw ``node``'s category by the context's weights (or, with probability
        ``grammar.out_of_context``, uniformly among the categories the context never
        shows), in place."""
        inside, _, outside, sums = self._category_entry(node.categories, context, node.support_head)
        if outside and (not inside or rng.random() < self.out_of_context):
            node.category, node.in_context = outside[int(rng.integers(len(outside)))], False
        else:
            if sums is None:
                raise ValueError(f"no category of {list(node.categories)} may be drawn in context {context!r}")
            node.category, node.in_context = inside[draw_index(rng, sums)], True

    def allows(self, node: ObjectNode, category: str, context: str) -> bool:
        """Whether ``node`` may take ``category`` in ``context``."""
        inside, _, outside = self.category_options(node.categories, context, node.support_head)
        return category in inside or category in outside


def _split_weights(first: list, second: list, total: int) -> np.ndarray:
    """(total + 1,) weights of splitting ``total`` objects as k and total - k between two
    parts whose probabilities by object count are ``first`` and ``second``."""
    return np.array([first[k] * second[total - k] for k in range(total + 1)])


def _repeat_count(value, key: str) -> Tuple[int, int]:
    """A repeat's ``count`` as (min, max): 1 <= min <= max <= :data:`MAX_REPEAT`.

    Raises:
        ConfigError: naming ``key`` and the valid range.
    """
    count = list(value)
    if len(count) != 2 or not 1 <= count[0] <= count[1]:
        # every item yields at least one object, so every group has a head object that
        # relations and rows can be placed against
        raise ConfigError(
            f"{key} must be [min, max] with 1 <= min <= max, got {count} "
            f"(for an optional group, give the rule one alternative with it and one without)"
        )
    if count[1] > MAX_REPEAT:
        raise ConfigError(
            f"{key} is {count}, but a scene has at most {MAX_OBJECTS} objects (placement.objects) and "
            f"each repetition is at least one, so at most {MAX_REPEAT} repetitions can appear; "
            f"valid: 1 <= min <= max <= {MAX_REPEAT}"
        )
    return int(count[0]), int(count[1])


def _production(raw) -> ProductionConfig:
    """A rule alternative with the schema's defaults filled in (OmegaConf leaves keys of
    structured configs nested in lists of dicts unset)."""
    values = {f.name: raw.get(f.name, None) for f in fields(ProductionConfig)}
    values = {k: v for k, v in values.items() if v is not None}
    if "count" in values:
        values["count"] = list(values["count"])
    return ProductionConfig(**values)


_MEMO: Dict[tuple, Grammar] = {}


def compile_grammar(cfg, dictionary=None) -> Grammar:
    """The :class:`Grammar` of ``cfg`` (memoised per process on the config's content)."""
    import json

    from omegaconf import OmegaConf

    from .dictionary import ObjectDictionary

    dictionary = dictionary if dictionary is not None else ObjectDictionary.from_config(cfg)
    key_data = {
        "grammar": OmegaConf.to_container(cfg.grammar, resolve=True),
        "contexts": OmegaConf.to_container(cfg.contexts, resolve=True),
        "objects": list(cfg.placement.objects),
    }
    key = (json.dumps(key_data, sort_keys=True), id(dictionary))
    grammar = _MEMO.get(key)
    if grammar is None:
        grammar = _MEMO[key] = Grammar(cfg, dictionary)
    return grammar
