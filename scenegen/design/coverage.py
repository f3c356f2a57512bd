"""Coverage of factor levels and factor combinations over a dataset's objects.

Every object record carries one level for each factor (``category``, ``pose``,
``elevation``, ``context``, ``occlusion``, ``light``, ...), taken from its measured
labels. A :class:`CoverageTracker` keeps the exact count of every *signature* (one level
per factor) per object and per scene, so every question below is answered exactly from
those counts, for any strength and any subset of factors:

- t-way coverage: the fraction of feasible t-tuples seen at least ``k`` times, counting
  objects or scenes (:meth:`CoverageTracker.tway`), and the missing tuples;
- level counts (histograms) and full-tuple counts;
- pairwise tables for heatmaps, with an example scene per cell
  (:meth:`CoverageTracker.pair_table`).

The universe is exact: the levels of each factor and ``forbidden`` partial assignments
(``{"category": "lamp", "context": "outdoor"}``); a tuple is feasible when some allowed
full signature contains it (:class:`scenegen.design.covering.TupleSpace`). Objects showing an
infeasible tuple are still counted, and reported as *unexpected*.

Trackers merge exactly, in any order (:meth:`CoverageTracker.merge`: sums of counts, the
smallest example scene index), and round-trip through ``coverage.json``
(:meth:`CoverageTracker.to_dict` / :meth:`CoverageTracker.from_dict`), whose content is
in a canonical order, so equal counts give equal bytes.

Ordering: factors keep the order of ``levels``; levels and tuples are listed in
"universe order", i.e. ordered by the position of each level in its factor's list.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, CoverageError
from .covering import TupleSpace

COVERAGE_SCHEMA_VERSION = 2
DEFAULT_COMBINATION = ("category", "pose", "context")
UNITS = ("objects", "scenes")
_SPACES: dict = {}  # (levels, constraints, strength) -> TupleSpace, shared by trackers (read only)
_SPACE_CACHE_SIZE = 16


def _names(values) -> str:
    return ", ".join(repr(v) for v in values)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_list(value, item) -> bool:
    """Whether ``value`` is a list (or tuple) whose items all pass ``item``."""
    return isinstance(value, (list, tuple)) and all(map(item, value))


def _is_level(value) -> bool:
    return isinstance(value, (str, int, float))


def _is_names(value) -> bool:
    return _is_list(value, lambda name: isinstance(name, str))


def _int_lists(*keys: str):
    """A check: an object holding an integer list under each of ``keys``."""
    return lambda value: isinstance(value, Mapping) and all(_is_list(value.get(k), _is_int) for k in keys)


# the keys of coverage.json that from_dict reads: (check, what a valid value is)
_SHAPE = {
    "factors": (_is_names, "a list of factor names"),
    "levels": (lambda v: isinstance(v, Mapping) and all(_is_list(lv, _is_level) for lv in v.values()),
               "an object of factor -> list of levels"),
    "combination": (_is_names, "a list of factor names"),
    "forbidden": (lambda v: _is_list(v, lambda c: isinstance(c, Mapping) and all(map(_is_level, c.values()))),
                  "a list of objects of factor -> level"),
    "signatures": (_int_lists("code", "objects", "first_scene"),
                   "an object of integer lists 'code', 'objects', 'first_scene'"),
    "scene_sets": (_int_lists("sizes", "members", "scenes"), "an object of integer lists 'sizes', 'members', 'scenes'"),
    "n_objects": (_is_int, "an integer"),
    "n_scenes": (_is_int, "an integer"),
}


def _shape_problem(data: Mapping[str, Any]) -> str | None:
    """The first key of ``data`` (coverage.json content) that is missing or of the wrong
    type, as "no 'key'" or "'key' is not ...", else None. The counts' consistency is
    checked after loading them."""
    for key, (valid, meaning) in _SHAPE.items():
        if key not in data:
            return f"no {key!r}"
        if not valid(data[key]):
            return f"{key!r} is not {meaning}"
    unknown = [f for f in data["factors"] if f not in data["levels"]]
    return f"'levels' has no levels for factor {unknown[0]!r}" if unknown else None


class CoverageTracker:
    """Exact counts of factor signatures of objects and scenes.

    Args:
        levels: factor -> every level it can take, in display order. Every object
            added must carry exactly these factors.
        feasible: the tuples of ``combination`` factors (levels in ``combination``
            order) that can exist; the others are forbidden. ``None``: all of them.
        combination: the factors of the default full-tuple table
            (:attr:`tuple_counts`, :meth:`missing`, :meth:`format_table`).
        forbidden: partial assignments ``{factor: level, ...}`` that cannot occur
            together (constraints between any factors).

    Raises:
        CoverageError: empty or duplicate levels, a combination factor not in
            ``levels``, a feasible tuple of the wrong length or with unknown levels,
            a malformed constraint, or constraints that leave nothing feasible.
    """

    def __init__(
        self,
        levels: Mapping[str, Sequence[str]],
        feasible: Iterable[Sequence[str]] | None = None,
        combination: Sequence[str] = DEFAULT_COMBINATION,
        forbidden: Iterable[Mapping[str, str]] = (),
    ) -> None:
        self._levels = {str(f): tuple(lv) for f, lv in levels.items()}
        for factor, lv in self._levels.items():
            if not lv:
                raise CoverageError(f"factor {factor!r} has no levels")
            if len(set(lv)) != len(lv):
                raise CoverageError(f"factor {factor!r} has duplicate levels: {list(lv)}")
        self._combination = tuple(combination)
        if not self._combination or len(set(self._combination)) != len(self._combination):
            raise CoverageError(f"combination must name distinct factors, got {list(combination)}")
        for factor in self._combination:
            if factor not in self._levels:
                raise CoverageError(f"combination factor {factor!r} is not a factor; valid: {_names(self._levels)}")
        self._factors = tuple(self._levels)
        self._rank = {f: {lv: i for i, lv in enumerate(lvs)} for f, lvs in self._levels.items()}
        self._forbidden = [dict(item) for item in forbidden]
        if feasible is not None:
            allowed = {tuple(t) for t in feasible}
            for t in allowed:
                self._tuple_rank(t)
            self._forbidden += [
                dict(zip(self._combination, t))
                for t in itertools.product(*(self._levels[f] for f in self._combination))
                if t not in allowed
            ]
        self._forbidden = self._canonical(self._forbidden)
        self._spaces: dict[int, TupleSpace] = {}
        self._space(len(self._combination))  # validates the constraints up front

        # A signature is stored as one integer: the mixed-radix number of its level
        # indices, first factor most significant, so integer order is universe order.
        self._radix = np.array([len(self._levels[f]) for f in self._factors], dtype=np.int64)
        weights = np.concatenate([np.cumprod(self._radix[::-1])[::-1][1:], [1]]).astype(np.int64)
        if float(np.prod(self._radix.astype(float))) >= 2.0**62:
            raise CoverageError("too many combinations of levels to track (the product of the level counts is >= 2^62)")
        self._weight = weights
        self._coders = [(f, self._rank[f], int(w)) for f, w in zip(self._factors, weights)]
        self._n_signatures = int(np.prod(self._radix))
        self._joint: dict[int, int] = {}  # signature -> objects
        self._scenes: dict[frozenset, int] = {}  # set of a scene's signatures -> scenes
        self._first: dict[int, int] = {}  # signature -> smallest scene index showing it
        self._n_objects = 0
        self._n_scenes = 0
        self._cache: dict[Any, Any] = {}

    def _tuple_rank(self, t: Sequence[str]) -> tuple[int, ...]:
        if len(t) != len(self._combination):
            raise CoverageError(
                f"feasible tuple {tuple(t)} does not have one level per factor of {self._combination}"
            )
        ranks = []
        for factor, level in zip(self._combination, t):
            if level not in self._rank[factor]:
                raise CoverageError(
                    f"feasible tuple {tuple(t)}: unknown level {level!r} of factor "
                    f"{factor!r}; valid levels: {_names(self._levels[factor])}"
                )
            ranks.append(self._rank[factor][level])
        return tuple(ranks)

    def _canonical(self, forbidden: list[dict]) -> list[dict[str, str]]:
        """Constraints checked, deduplicated and sorted (factor order, then level order)."""
        keys = set()
        for item in forbidden:
            if not item:
                raise CoverageError("an empty constraint would forbid everything")
            for factor, level in item.items():
                if factor not in self._rank:
                    raise CoverageError(f"constraint {item}: unknown factor {factor!r}; valid: {_names(self._factors)}")
                if level not in self._rank[factor]:
                    raise CoverageError(f"constraint {item}: unknown level {level!r} of factor {factor!r}; "
                                        f"valid: {_names(self._levels[factor])}")
            keys.add(tuple(sorted((self._factors.index(f), self._rank[f][lv]) for f, lv in item.items())))
        return [{self._factors[i]: self._levels[self._factors[i]][lv] for i, lv in key} for key in sorted(keys)]

    def _space(self, strength: int) -> TupleSpace:
        """The t-tuples of all factors under the constraints (cached per strength)."""
        space = self._spaces.get(strength)
        if space is None:
            # every tracker of a dataset (one per shard, per split, per reload) has the
            # same universe, whose feasible tuples take a search to find: find them once
            key = (tuple(self._levels.items()), tuple(tuple(f.items()) for f in self._forbidden), strength)
            space = _SPACES.get(key)
            if space is None:
                try:
                    space = TupleSpace(self._levels, strength, self._forbidden, kept=True)
                except ConfigError as exc:
                    raise CoverageError(str(exc).replace("covering array: ", "coverage universe: ")) from None
                if len(_SPACES) >= _SPACE_CACHE_SIZE:
                    _SPACES.pop(next(iter(_SPACES)))
                _SPACES[key] = space
            self._spaces[strength] = space
        return space

    # ----------------------------------------------------------------- adding
    def _key(self, factors: Mapping[str, str]) -> int:
        """The signature of one object's factors (an integer, see ``__init__``)."""
        code = 0
        try:
            for factor, rank, weight in self._coders:
                code += rank[factors[factor]] * weight
        except (KeyError, TypeError):
            self._check(factors)
        if len(factors) != len(self._coders):
            self._check(factors)
        return code

    def _check(self, factors: Mapping[str, str]) -> None:
        """Raise the CoverageError that names what is wrong with ``factors``."""
        absent = [f for f in self._factors if f not in factors]
        if absent:
            raise CoverageError(f"object lacks factor(s) {_names(absent)}; every object needs {_names(self._factors)}")
        for factor in factors:
            if factor not in self._levels:
                raise CoverageError(
                    f"unknown factor {factor!r} (level {factors[factor]!r}); valid factors: {_names(self._factors)}"
                )
        for factor in self._factors:
            level = factors[factor]
            if not isinstance(level, str) or level not in self._rank[factor]:
                raise CoverageError(
                    f"unknown level {level!r} of factor {factor!r}; valid levels: {_names(self._levels[factor])}"
                )

    def add(self, factors: Mapping[str, str]) -> None:
        """Count one object (outside any scene), given its factor levels.

        Raises:
            CoverageError (a ValueError): a missing or unknown factor, or an unknown
                level (the message names both and lists the valid levels). Nothing is
                counted then.
        """
        key = self._key(factors)
        self._joint[key] = self._joint.get(key, 0) + 1
        self._n_objects += 1
        self._cache = {}

    def add_record(self, record: Mapping[str, Any]) -> None:
        """Count every object of one scene record (``record["objects"][i]["factors"]``,
        its levels of the tracked factors; a label holds every factor), hidden objects
        included, and the scene (``record["index"]`` is its example index). All or
        nothing: if one object is invalid, nothing is counted."""
        keys = []
        for obj in record.get("objects", ()):
            factors = obj["factors"]
            if len(factors) != len(self._coders):  # a label holds every factor; count the tracked ones
                factors = {f: factors[f] for f in self._factors if f in factors}
            try:
                keys.append(self._key(factors))
            except CoverageError as exc:
                raise CoverageError(f"scene {record.get('index')}, object {obj.get('instance_id')}: {exc}") from None
        joint, first = self._joint, self._first
        index = int(record.get("index", 0))
        for key in keys:
            joint[key] = joint.get(key, 0) + 1
        for key in set(keys):
            if first.get(key, index) >= index:
                first[key] = index
        scene = frozenset(keys)
        self._scenes[scene] = self._scenes.get(scene, 0) + 1
        self._n_objects += len(keys)
        self._n_scenes += 1
        self._cache = {}

    def merge(self, other: "CoverageTracker") -> "CoverageTracker":
        """A new tracker holding the counts of both. Exact and order-independent.

        Raises:
            CoverageError: the trackers' levels, combination or constraints differ.
        """
        if not isinstance(other, CoverageTracker):
            raise TypeError(f"cannot merge a CoverageTracker with {type(other).__name__}")
        for what, mine, theirs in (
            ("levels", tuple(self._levels.items()), tuple(other._levels.items())),
            ("combination", self._combination, other._combination),
            ("constraints", self._forbidden, other._forbidden),
        ):
            if mine != theirs:
                raise CoverageError(f"cannot merge trackers with different {what}")
        merged = copy.copy(self)  # shares the immutable universe and its tuple spaces
        merged._joint = _summed(self._joint, other._joint)
        merged._scenes = _summed(self._scenes, other._scenes)
        merged._first = dict(self._first)
        for key, index in other._first.items():
            merged._first[key] = min(index, merged._first.get(key, index))
        merged._n_objects = self._n_objects + other._n_objects
        merged._n_scenes = self._n_scenes + other._n_scenes
        merged._cache = {}
        return merged

    # ---------------------------------------------------------------- queries
    def _encoded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(signatures (m, k) level indices in universe order, objects per signature (m,),
        example scene per signature (m,), -1 if none; scene membership (E, 2) as rows
        (set number, signature number); scenes per set (S,); signature codes (m,))."""
        got = self._cache.get("encoded")
        if got is None:
            codes = np.fromiter(sorted(self._joint), dtype=np.int64, count=len(self._joint))
            sigs = (codes[:, None] // self._weight[None, :]) % self._radix[None, :]
            objects = np.fromiter((self._joint[c] for c in codes.tolist()), dtype=np.int64, count=len(codes))
            first = np.fromiter((self._first.get(c, -1) for c in codes.tolist()), dtype=np.int64, count=len(codes))
            sets = list(self._scenes)
            sizes = np.fromiter((len(x) for x in sets), dtype=np.int64, count=len(sets))
            flat = np.fromiter(itertools.chain.from_iterable(sets), dtype=np.int64, count=int(sizes.sum()))
            members = np.stack([np.repeat(np.arange(len(sets)), sizes), np.searchsorted(codes, flat)], axis=1)
            weights = np.fromiter((self._scenes[x] for x in sets), dtype=np.int64, count=len(sets))
            got = self._cache["encoded"] = (sigs, objects, first, members, weights, codes)
        return got

    def _counts(self, strength: int, unit: str) -> np.ndarray:
        """Objects (or scenes) showing each t-tuple of all factors, by tuple number of
        :meth:`_space` (``strength``)."""
        if unit not in UNITS:
            raise CoverageError(f"unit {unit!r} is unknown; valid: {_names(UNITS)}")
        got = self._cache.get((strength, unit))
        if got is None:
            space = self._space(strength)
            sigs, objects, _, members, weights, _ = self._encoded()
            gids = space.gids(sigs) if len(sigs) else np.zeros((0, len(space.combos)), dtype=np.int64)
            if unit == "objects":
                got = np.bincount(gids.ravel(), np.repeat(objects, gids.shape[1]), space.total)
            else:
                got = _scene_counts(gids, members, weights, space.total)
            got = self._cache[(strength, unit)] = np.rint(got).astype(np.int64)
        return got

    def _combos(self, strength: int, factors: Sequence[str] | None) -> tuple[TupleSpace, list[int], list[str]]:
        factors = list(self._factors if factors is None else factors)
        unknown = [f for f in factors if f not in self._rank]
        if unknown or len(set(factors)) != len(factors):
            raise CoverageError(f"factors must be distinct factors of the tracker, got {factors}; "
                                f"valid: {_names(self._factors)}")
        if isinstance(strength, bool) or not isinstance(strength, (int, np.integer)) or not 1 <= strength <= len(factors):
            raise CoverageError(f"strength must be between 1 and {len(factors)} (the number of factors), got {strength!r}")
        space = self._space(int(strength))
        wanted = {self._factors.index(f) for f in factors}
        order = sorted(factors, key=self._factors.index)
        return space, [j for j, cols in enumerate(space.combos) if set(cols) <= wanted], order

    def tway(self, strength: int, factors: Sequence[str] | None = None, min_count: int = 1,
             unit: str = "objects") -> dict:
        """t-way coverage of ``factors`` (default: all, in tracker order).

        Returns:
            ``{"strength", "factors", "min_count", "unit", "objects", "scenes",
            "tuples", "covered", "coverage", "per_combination": {"a x b": [covered,
            feasible]}, "missing": [{factor: level}], "unexpected": [{factor: level,
            "count": n}]}``: ``tuples`` feasible t-tuples, ``covered`` those seen at
            least ``min_count`` times (counting ``unit``), ``missing`` the others and
            ``unexpected`` the infeasible tuples that were seen, all in universe order.

        Raises:
            CoverageError: unknown factors, a strength outside 1..len(factors),
                min_count < 1, an unknown unit.
        """
        if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
            raise CoverageError(f"min_count must be an integer >= 1, got {min_count!r}")
        space, combos, factors = self._combos(strength, factors)
        counts = self._counts(int(strength), unit)
        per_combination, missing, unexpected = {}, [], []
        for j in combos:
            lo, hi = int(space.offset[j]), int(space.offset[j] + space.sizes[j])
            feasible, seen = space.feasible[lo:hi], counts[lo:hi]
            good = feasible & (seen >= min_count)
            per_combination[" x ".join(space.factors[c] for c in space.combos[j])] = [int(good.sum()), int(feasible.sum())]
            missing += [space.tuple_dict(lo + int(g)) for g in np.flatnonzero(feasible & ~good)]
            unexpected += [{**space.tuple_dict(lo + int(g)), "count": int(seen[g])}
                           for g in np.flatnonzero(~feasible & (seen > 0))]
        tuples = sum(n for _, n in per_combination.values())
        covered = sum(c for c, _ in per_combination.values())
        return {
            "strength": int(strength),
            "factors": factors,
            "min_count": int(min_count),
            "unit": unit,
            "objects": self._n_objects,
            "scenes": self._n_scenes,
            "tuples": tuples,
            "covered": covered,
            "coverage": covered / tuples if tuples else 1.0,
            "per_combination": per_combination,
            "missing": missing,
            "unexpected": unexpected,
        }

    def count(self, assignment: Mapping[str, str], unit: str = "objects") -> int:
        """Objects (or scenes) showing the tuple ``assignment`` ``{factor: level}`` (any
        factors of the tracker, in any order; feasible or not).

        Raises:
            CoverageError: an unknown factor or level, or an empty assignment.
        """
        if not assignment:
            raise CoverageError("count needs at least one {factor: level}")
        self._canonical([dict(assignment)])  # names unknown factors and levels
        space = self._space(len(assignment))
        cols = tuple(sorted(self._factors.index(f) for f in assignment))
        code = 0
        for c in cols:
            code = code * int(space.v[c]) + self._rank[self._factors[c]][assignment[self._factors[c]]]
        return int(self._counts(len(assignment), unit)[int(space.offset[space.combos.index(cols)]) + code])

    def pair_table(self, a: str, b: str, unit: str = "objects") -> dict:
        """Counts of factor ``a`` x factor ``b`` for a heatmap.

        Returns:
            ``{"factors": [a, b], "counts": [[int | None]], "examples": [[int | None]]}``:
            rows are the levels of ``a``, columns those of ``b``; ``None`` counts mark
            infeasible cells; ``examples`` holds the smallest scene index showing the
            pair (``None`` when none does).
        """
        _, _, _ = self._combos(2, [a, b])
        space = self._space(2)
        ia, ib = self._factors.index(a), self._factors.index(b)
        lo_first = (ia, ib) if ia < ib else (ib, ia)
        j = space.combos.index(lo_first)
        counts = self._counts(2, unit)
        na, nb = len(self._levels[a]), len(self._levels[b])
        sigs, _, first, _, _, _ = self._encoded()
        examples = np.full((na, nb), np.iinfo(np.int64).max, dtype=np.int64)
        shown = first >= 0
        np.minimum.at(examples, (sigs[shown, ia], sigs[shown, ib]), first[shown])
        table, example_table = [], []
        for la in range(na):
            row, example_row = [], []
            for lb in range(nb):
                code = la * nb + lb if ia < ib else lb * na + la
                gid = int(space.offset[j]) + code
                feasible = bool(space.feasible[gid])
                row.append(int(counts[gid]) if feasible else None)
                ex = int(examples[la, lb])
                example_row.append(ex if feasible and ex != np.iinfo(np.int64).max else None)
            table.append(row)
            example_table.append(example_row)
        return {"factors": [a, b], "counts": table, "examples": example_table}

    def signature_counts(self) -> list[dict]:
        """Every signature seen: ``{factor: level, ..., "objects": n, "scenes": m}`` in
        universe order (``scenes``: scenes holding at least one such object)."""
        sigs, objects, _, members, weights, _ = self._encoded()
        scenes = np.bincount(members[:, 1], weights[members[:, 0]], len(sigs)) if len(members) else np.zeros(len(sigs))
        return [
            {**{f: self._levels[f][int(i)] for f, i in zip(self._factors, sig)}, "objects": int(n), "scenes": int(round(s))}
            for sig, n, s in zip(sigs, objects, scenes)
        ]

    @property
    def levels(self) -> dict[str, tuple[str, ...]]:
        """factor -> its levels (the universe), in order."""
        return dict(self._levels)

    @property
    def forbidden(self) -> list[dict[str, str]]:
        """The constraints: partial assignments that cannot occur, in canonical order."""
        return [dict(item) for item in self._forbidden]

    @property
    def combination(self) -> tuple[str, ...]:
        return self._combination

    def _combination_table(self) -> dict[tuple, int | None]:
        """combination tuple -> objects (None if infeasible), every tuple, universe order."""
        got = self._cache.get("combination")
        if got is None:
            t = len(self._combination)
            space = self._space(t)
            j = space.combos.index(tuple(sorted(self._factors.index(f) for f in self._combination)))
            counts = self._counts(t, "objects")
            got = {}
            for values in itertools.product(*(self._levels[f] for f in self._combination)):
                assign = dict(zip(self._combination, values))
                code = 0
                for c in space.combos[j]:
                    code = code * int(space.v[c]) + self._rank[space.factors[c]][assign[space.factors[c]]]
                gid = int(space.offset[j]) + code
                got[values] = int(counts[gid]) if space.feasible[gid] else None
            self._cache["combination"] = got
        return got

    @property
    def feasible(self) -> tuple[tuple, ...]:
        """Every feasible tuple of the combination factors, in universe order."""
        return tuple(t for t, n in self._combination_table().items() if n is not None)

    @property
    def n_objects(self) -> int:
        return self._n_objects

    @property
    def n_scenes(self) -> int:
        return self._n_scenes

    @property
    def level_counts(self) -> dict[str, dict[str, int]]:
        """factor -> {level: objects}, every level of the universe (0 if unseen)."""
        sigs, objects, _, _, _, _ = self._encoded()
        return {
            f: dict(zip(lvs, np.bincount(sigs[:, i], objects, len(lvs)).astype(int).tolist()))
            if len(sigs) else dict.fromkeys(lvs, 0)
            for i, (f, lvs) in enumerate(self._levels.items())
        }

    @property
    def tuple_counts(self) -> dict[tuple, int]:
        """feasible combination tuple -> objects, every feasible tuple (0 if unseen), in
        universe order; infeasible tuples seen are in :meth:`unexpected`."""
        return {t: n for t, n in self._combination_table().items() if n is not None}

    def covered(self) -> list[tuple]:
        """Feasible combination tuples seen at least once, in universe order."""
        return [t for t, n in self.tuple_counts.items() if n]

    def missing(self) -> list[tuple]:
        """Feasible combination tuples never seen, in universe order."""
        return [t for t, n in self.tuple_counts.items() if not n]

    def unexpected(self) -> list[tuple]:
        """Infeasible combination tuples that objects showed, in universe order."""
        sigs, _, _, _, _, _ = self._encoded()
        seen = {tuple(self._levels[f][int(s[self._factors.index(f)])] for f in self._combination) for s in sigs}
        return [t for t, n in self._combination_table().items() if n is None and t in seen]

    def coverage(self) -> float:
        """Covered / feasible combination tuples, in [0, 1]; 1.0 when none is feasible."""
        feasible = self.feasible
        return len(self.covered()) / len(feasible) if feasible else 1.0

    # ---------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
        """The ``coverage.json`` content: plain Python types, canonical order.

        ``signatures`` and ``scene_sets`` hold the exact counts (everything else is
        derived from them and kept for readers). ``signatures.code[i]`` is signature
        ``i``: the mixed-radix number of its level indices in ``factors`` order (first
        factor most significant), ascending; ``objects[i]`` objects show it and
        ``first_scene[i]`` is the smallest scene index showing it (-1: none). Scene set
        ``j`` is the ``sizes[j]`` signature numbers that follow in ``members``; ``scenes[j]``
        scenes hold exactly that set of signatures.
        """
        sigs, objects, first, members, weights, codes = self._encoded()
        sizes, flat, counts = _canonical_sets(members, weights)
        return {
            "schema_version": COVERAGE_SCHEMA_VERSION,
            "combination": list(self._combination),
            "factors": list(self._factors),  # the order of the levels of a signature
            "levels": {f: list(lv) for f, lv in self._levels.items()},
            "forbidden": self.forbidden,
            "n_objects": self._n_objects,
            "n_scenes": self._n_scenes,
            "level_counts": self.level_counts,
            "feasible": len(self.feasible),
            "covered": len(self.covered()),
            "coverage": self.coverage(),
            "counts": [{**dict(zip(self._combination, t)), "count": n} for t, n in self.tuple_counts.items()],
            "missing": [list(t) for t in self.missing()],
            "unexpected": [list(t) for t in self.unexpected()],
            "signatures": {"code": codes.tolist(), "objects": objects.tolist(), "first_scene": first.tolist()},
            "scene_sets": {"sizes": sizes, "members": flat, "scenes": counts},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CoverageTracker":
        """Rebuild a tracker from :meth:`to_dict` output (e.g. a loaded coverage.json).

        Raises:
            CoverageError: not an object, an unknown schema version, a missing key or
                one of the wrong type, or content that is not consistent.
        """
        if not isinstance(data, Mapping):
            raise CoverageError(f"malformed coverage data: {type(data).__name__}, not an object")
        if data.get("schema_version") != COVERAGE_SCHEMA_VERSION:
            raise CoverageError(
                f"coverage schema_version {data.get('schema_version')!r} is not supported "
                f"(expected {COVERAGE_SCHEMA_VERSION})"
            )
        problem = _shape_problem(data)
        if problem:
            raise CoverageError(f"malformed coverage data: {problem}")
        try:
            levels = {f: data["levels"][f] for f in data["factors"]}
            tracker = cls(levels, None, data["combination"], data["forbidden"])
            signatures, sets = data["signatures"], data["scene_sets"]
            codes = [int(c) for c in signatures["code"]]
            if any(not 0 <= c < tracker._n_signatures for c in codes) or codes != sorted(set(codes)):
                raise CoverageError("coverage data is inconsistent (signature codes out of range or unsorted)")
            tracker._joint = dict(zip(codes, (int(n) for n in signatures["objects"])))
            tracker._first = {c: int(e) for c, e in zip(codes, signatures["first_scene"]) if int(e) >= 0}
            flat, start = list(sets["members"]), 0
            for size, n in zip(sets["sizes"], sets["scenes"]):
                tracker._scenes[frozenset(codes[int(i)] for i in flat[start:start + int(size)])] = int(n)
                start += int(size)
            tracker._n_objects = int(data["n_objects"])
            tracker._n_scenes = int(data["n_scenes"])
        except (KeyError, TypeError, IndexError, ValueError, AttributeError) as exc:
            if isinstance(exc, CoverageError):
                raise
            raise CoverageError(f"malformed coverage data: missing or bad {exc}") from None
        in_scenes: dict[int, int] = {}
        for scene, n in tracker._scenes.items():
            for key in scene:
                in_scenes[key] = in_scenes.get(key, 0) + n
        if (
            sum(tracker._joint.values()) != tracker._n_objects
            or sum(tracker._scenes.values()) != tracker._n_scenes
            or any(n > tracker._joint[key] for key, n in in_scenes.items())
            or tracker.to_dict() != dict(data)
        ):
            raise CoverageError("coverage data is inconsistent (counts, totals or keys disagree)")
        return tracker

    # ---------------------------------------------------------------- display
    def format_table(self, width: int = 96, max_missing: int = 30) -> str:
        """A plain-text report for a terminal about ``width`` columns wide: totals,
        tuple coverage, per-factor level counts ("!" marks never-seen levels), a
        table of the first x last combination factor, and the missing tuples (at most
        ``max_missing`` lines)."""
        level_counts, tuple_counts = self.level_counts, self.tuple_counts
        comb = self._combination
        n_cov = len(self.covered())
        n_feas = len(tuple_counts)
        lines = [
            f"scenegen coverage: {self._n_objects:,} objects in {self._n_scenes:,} scenes",
            f"{' x '.join(comb)}: {n_cov:,}/{n_feas:,} feasible tuples covered "
            f"({100.0 * self.coverage():.1f}%), {n_feas - n_cov:,} missing",
            "",
            'Levels (objects, share of objects; "!" = never seen)',
        ]

        # --- per-factor level grid
        fw = max(len(f) for f in self._factors)
        nw = max(len(str(lv)) for lvs in self._levels.values() for lv in lvs)
        cw = max(len(f"{n:,}") for counts in level_counts.values() for n in counts.values())
        cell_w = nw + 1 + cw + 1 + 6 + 2
        per_row = max(1, (width - 2 - fw - 2) // (cell_w + 1))
        for factor, counts in level_counts.items():
            total = sum(counts.values())
            cells = [
                f"{str(lv):<{nw}} {n:>{cw},} {100.0 * n / total if total else 0.0:5.1f}%"
                + (" !" if n == 0 else "  ")
                for lv, n in counts.items()
            ]
            for row in range(0, len(cells), per_row):
                label = factor if row == 0 else ""
                lines.append(f"  {label:<{fw}}  " + " ".join(cells[row : row + per_row]).rstrip())

        # --- first x last combination factor table
        if len(comb) >= 2:
            lines += self._first_last_table(level_counts, tuple_counts)

        # --- missing tuples
        missing = self.missing()
        lines.append("")
        if not missing:
            lines.append("All feasible tuples are covered.")
        else:
            lines.append(f"Missing tuples ({len(missing):,}): {' / '.join(comb)}")
            widths = [max(len(str(t[i])) for t in missing) for i in range(len(comb))]
            shown = missing if len(missing) <= max_missing else missing[: max_missing - 1]
            for t in shown:
                lines.append("  " + "  ".join(f"{str(v):<{w}}" for v, w in zip(t, widths)).rstrip())
            if len(shown) < len(missing):
                lines.append(f"  ... and {len(missing) - len(shown):,} more")
        unexpected = self.unexpected()
        if unexpected:
            lines.append(f"Seen although declared infeasible ({len(unexpected):,}): "
                         + "; ".join(" / ".join(t) for t in unexpected[:10]))
        return "\n".join(lines) + "\n"

    def _first_last_table(self, level_counts, tuple_counts) -> list[str]:
        comb = self._combination
        rows_f, cols_f, middle = comb[0], comb[-1], comb[1:-1]
        objects: dict[tuple, int] = {}
        seen: dict[tuple, int] = {}
        feas: dict[tuple, int] = {}
        for t, n in tuple_counts.items():
            cell = (t[0], t[-1])
            objects[cell] = objects.get(cell, 0) + n
            seen[cell] = seen.get(cell, 0) + (n > 0)
            feas[cell] = feas.get(cell, 0) + 1

        def text(cell):
            if cell not in feas:
                return "-"
            if not middle:
                return f"{objects[cell]:,}"
            return f"{objects[cell]:,} {seen[cell]}/{feas[cell]}"

        row_levels, col_levels = self._levels[rows_f], self._levels[cols_f]
        table = [[text((r, c)) for c in col_levels] for r in row_levels]
        totals = [f"{level_counts[rows_f][r]:,}" for r in row_levels]
        rw = max(len(rows_f), *(len(str(r)) for r in row_levels))
        col_ws = [max(len(str(c)), *(len(row[j]) for row in table)) for j, c in enumerate(col_levels)]
        tw = max(len("total"), *(len(t) for t in totals))
        note = f"; covered/feasible {' x '.join(middle)}" if middle else ""
        lines = ["", f"Objects by {rows_f} x {cols_f} (objects{note}; - = infeasible)"]
        header = "  ".join(f"{str(c):>{w}}" for c, w in zip(col_levels, col_ws))
        lines.append(f"  {rows_f:<{rw}}  {header}  {'total':>{tw}}")
        for r, row, total in zip(row_levels, table, totals):
            body = "  ".join(f"{v:>{w}}" for v, w in zip(row, col_ws))
            lines.append(f"  {str(r):<{rw}}  {body}  {total:>{tw}}")
        return lines

    def __repr__(self) -> str:
        return (
            f"CoverageTracker({' x '.join(self._combination)}: "
            f"{len(self.covered())}/{len(self.feasible)} covered, "
            f"{self._n_objects} objects, {self._n_scenes} scenes)"
        )


def _summed(a: Mapping, b: Mapping) -> dict:
    out = dict(a)
    for key, n in b.items():
        out[key] = out.get(key, 0) + n
    return out


def _scene_counts(gids: np.ndarray, members: np.ndarray, weights: np.ndarray, total: int) -> np.ndarray:
    """Scenes showing each tuple: every scene set adds its scene count once to each
    distinct tuple its signatures show.

    Args:
        gids: (m, C) tuple number of each signature in each factor combination.
        members: (E, 2) rows (set number, signature number), grouped by set number
            ascending, as :meth:`CoverageTracker._encoded` builds them.
        weights: (S,) scenes per set.
        total: the number of tuple numbers.

    Returns:
        (total,) float counts.
    """
    sizes = np.bincount(members[:, 0], minlength=len(weights))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    got = np.zeros(total)
    # Sets of equal size form a (sets, size, C) block: sorting along the size axis puts
    # a set's repeats of a tuple side by side, so each tuple is counted once per set
    # without a global sort over every (set, tuple) pair.
    for size in np.unique(sizes[sizes > 0]).tolist():
        sets = np.flatnonzero(sizes == size)
        block = np.sort(gids[members[starts[sets][:, None] + np.arange(size), 1]], axis=1)
        first = np.ones(block.shape, dtype=bool)
        first[:, 1:] = block[:, 1:] != block[:, :-1]
        scene_weights = np.broadcast_to(weights[sets][:, None, None], block.shape)
        got += np.bincount(block[first], scene_weights[first], total)
    return got


def _canonical_sets(members: np.ndarray, weights: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Scene sets in a canonical order, whatever order they were added or merged in:
    each set's signature numbers ascending, sets ordered by size then members.
    Returns (sizes, members concatenated, scenes per set) as plain lists."""
    n_sets = len(weights)
    if n_sets == 0:
        return [], [], []
    order = np.lexsort((members[:, 1], members[:, 0]))
    rows = members[order]
    sizes = np.bincount(rows[:, 0], minlength=n_sets)
    width = int(sizes.max()) if len(sizes) else 0
    padded = np.full((n_sets, max(width, 1)), -1, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    padded[rows[:, 0], np.arange(len(rows)) - starts[rows[:, 0]]] = rows[:, 1]
    keys = [padded[:, c] for c in range(padded.shape[1] - 1, -1, -1)] + [sizes]
    set_order = np.lexsort(keys)
    ordered = padded[set_order]
    flat = ordered[ordered >= 0]
    return sizes[set_order].tolist(), flat.tolist(), weights[set_order].tolist()
