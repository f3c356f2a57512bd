"""Constraint-aware covering arrays: few scenes that still show every t-way combination.

A *covering array* of strength ``t`` over factors (``category``, ``pose``, ``context``,
...) is a list of rows, one level per factor, in which every combination of levels of
any ``t`` factors (a *t-tuple*) occurs in at least one row. With 4 factors of 3 levels,
9 rows cover every pair of levels where the full product has 81.

Constraints
-----------
Constraints are given in one declarative form: ``forbidden``, an iterable of partial
assignments ``{factor: level, ...}`` whose levels may never occur together in a row.
``{"category": "lamp", "context": "outdoor"}`` forbids outdoor lamps; ``{"pose": "top"}``
forbids one level outright. A row is *allowed* when it contains none of them. A t-tuple
is *feasible* when at least one allowed full row contains it (decided by a bounded
backtracking search for an allowed completion, so implied constraints are handled:
forbidding ``{a: 1, b: 1}`` and ``{a: 1, b: 2}`` with ``b`` in ``{1, 2}`` makes every
tuple with ``a = 1`` infeasible). Only feasible tuples must be covered, and no row of
the result is disallowed. The form is checked up front: unknown factors or levels are
a :class:`~scenegen.errors.ConfigError` naming the valid choices.

Algorithm
---------
1. *Greedy construction* (AETG-style density greedy): one row at a time; each of a few
   candidate rows starts from an uncovered feasible tuple of the factor combination
   with most uncovered tuples, then fixes the other factors in random order, each to the
   level (keeping the partial row completable) that covers most still-uncovered tuples;
   the best candidate is kept. This always terminates with a valid covering array.
2. *Redundant rows* whose tuples are all covered elsewhere are dropped.
3. *Row deletion + repair*: the row covering fewest tuples alone is deleted and a tabu
   search (Nurmela 2004) repairs the array: it picks an uncovered tuple, evaluates
   writing it into every row at once (vectorised), and applies the best non-tabu move
   that keeps the row allowed. On success the smaller array is kept and the next row is
   deleted; it stops at :func:`lower_bound`, after ``iterations`` moves, or at the
   ``max_seconds`` deadline.

The deadline covers the whole call: past it the greedy step builds one candidate per row
instead of ``candidates`` (still a valid array, only larger) and no repair is tried.
Feasibility search is capped at ``MAX_SEARCH_NODES`` backtracking steps
(:class:`~scenegen.errors.ConfigError` beyond). Typical sizes: every case of
``benchmarks/bench_covering.py`` (3^4, 2^10, 5^6, 3^13, 4^5 at t=2; 2^4, 3^4 at t=3;
the scenegen factors with constraints) reaches the best known size in under 2.5 s.
Large strength-3 problems (e.g. 2^50) stay well above the best known (greedy only).

Randomness comes only from the ``rng`` argument; the result is a function of the rng
state and the arguments, unless the ``max_seconds`` wall-clock bound cuts the search
short (set it generously, or rely on ``iterations``, for exact reproducibility).
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque
from typing import Iterable, Mapping, Sequence

import numpy as np

from .. import cache
from ..errors import ConfigError, choices

# A partial row whose completability needs more backtracking nodes than this is reported
# as a ConfigError rather than searched without bound.
MAX_SEARCH_NODES = 2_000_000
FEASIBLE_CACHE = "feasible-tuples"  # the cache folder (scenegen.cache.kind_dir) keeping feasible masks (TupleSpace kept=True)
KEEP_FEASIBLE_SECONDS = 0.02  # a mask found faster than this is not worth a file

__all__ = ["covering_array", "feasible_tuples", "verify_covering", "lower_bound", "top_up_rows", "TupleSpace"]


class TupleSpace:
    """The t-tuples of some factors under constraints, numbered and encoded as integers.

    Levels are encoded as indices (factor index -> level index); every t-tuple has a
    flat number (*gid*) in ``0 .. total - 1``, grouped by factor combination
    (``combos``, in ``itertools.combinations`` order; combination ``j`` owns
    ``offset[j] .. offset[j] + sizes[j] - 1``). ``feasible`` (bool, ``(total,)``) marks
    the tuples some allowed full row contains; ``gids(rows)`` maps an ``(n, k)`` array of
    level indices to its ``(n, len(combos))`` tuple numbers. With ``kept``, ``feasible``
    is kept across processes (for readers of ``feasible`` alone, see
    :meth:`_kept_feasible_mask`).

    Raises:
        ConfigError: malformed levels or constraints, constraints that rule out every
            row, or more than 20,000,000 tuples.
    """

    def __init__(self, levels: Mapping[str, Sequence[str]], strength: int,
                 forbidden: Iterable[Mapping[str, str]] = (), *, kept: bool = False):
        if not isinstance(levels, Mapping) or not levels:
            raise ConfigError("covering array: levels must be a non-empty mapping factor -> list of levels")
        self.factors = [str(f) for f in levels]
        self.levels: list[list[str]] = []
        for factor, values in levels.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise ConfigError(f"covering array: levels of factor {factor!r} must be a list of levels, got {values!r}")
            values = list(values)
            if not values:
                raise ConfigError(f"covering array: factor {factor!r} has no levels")
            if len(set(values)) != len(values):
                dup = sorted({v for v in values if values.count(v) > 1}, key=str)
                raise ConfigError(f"covering array: factor {factor!r} lists level(s) {dup} more than once")
            self.levels.append(values)
        self.k = len(self.factors)
        if isinstance(strength, bool) or not isinstance(strength, (int, np.integer)):
            raise ConfigError(f"covering array: strength must be an integer in 1..{self.k}, got {strength!r}")
        if not 1 <= strength <= self.k:
            raise ConfigError(f"covering array: strength must be in 1..{self.k} (the number of factors), got {strength}")
        self.t = int(strength)
        self.v = np.array([len(x) for x in self.levels], dtype=np.int64)
        self.index = {f: i for i, f in enumerate(self.factors)}
        self.level_index = [{lv: j for j, lv in enumerate(x)} for x in self.levels]

        # forbidden partial assignments as tuples of (factor index, level index)
        if isinstance(forbidden, Mapping):
            raise ConfigError("covering array: forbidden must be a list of mappings {factor: level}, got one mapping")
        self.forbidden: list[tuple[tuple[int, int], ...]] = []
        for n, item in enumerate(forbidden):
            if not isinstance(item, Mapping):
                raise ConfigError(f"covering array: forbidden[{n}] must be a mapping {{factor: level}}, got {item!r}")
            if not item:
                raise ConfigError(f"covering array: forbidden[{n}] is empty, which would forbid every row")
            pairs = []
            for factor, level in item.items():
                if factor not in self.index:
                    raise ConfigError(f"covering array: forbidden[{n}] names unknown factor {factor!r}; "
                                      f"valid: {choices(self.factors)}")
                i = self.index[factor]
                if level not in self.level_index[i]:
                    raise ConfigError(f"covering array: forbidden[{n}] gives unknown level {level!r} of factor "
                                      f"{factor!r}; valid: {choices(self.levels[i])}")
                pairs.append((i, self.level_index[i][level]))
            self.forbidden.append(tuple(sorted(pairs)))
        self.forbidden = sorted(set(self.forbidden))
        self.constrained = bool(self.forbidden)
        # each constraint under its first (factor, level): a row breaks it only if it holds that pair
        self._forbidden_by_first: dict[tuple[int, int], list[tuple]] = {}
        for constraint in self.forbidden:
            self._forbidden_by_first.setdefault(constraint[0], []).append(constraint)
        # factors that occur in some constraint: only these need backtracking
        self.constrained_factors = sorted({i for f in self.forbidden for i, _ in f})
        self._memo: dict[tuple, bool] = {}
        self._fmat: dict[int, tuple] = {}  # combo (-1: all) -> (pair tables, longer combinations)
        self._nodes = 0

        # t-way factor combinations and a flat numbering of all t-tuples ("gid")
        self.combos = list(itertools.combinations(range(self.k), self.t))
        nc = len(self.combos)
        self.mult = np.zeros((self.k, nc), dtype=np.int64)  # code = row @ mult[:, j]
        sizes = np.zeros(nc, dtype=np.int64)
        for j, cols in enumerate(self.combos):
            m = 1
            for c in reversed(cols):
                self.mult[c, j] = m
                m *= int(self.v[c])
            sizes[j] = m
        self.sizes = sizes
        self.offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.total = int(sizes.sum())
        if self.total > 20_000_000:
            raise ConfigError(f"covering array: {self.total} {self.t}-tuples is too many to track; "
                              "lower the strength or the number of levels")
        self.combo_of = np.repeat(np.arange(nc), sizes)
        self.by_col: list[list[int]] = [[j for j, cols in enumerate(self.combos) if c in cols] for c in range(self.k)]
        self.by_col_arr = [np.array(b, dtype=np.int64) for b in self.by_col]
        self.member = (self.mult > 0).astype(np.int64)  # factor x combo incidence
        self._touching: dict[int, np.ndarray] = {}

        if not self.completable(()):
            raise ConfigError(f"covering array: the {len(self.forbidden)} forbidden combination(s) rule out every row")
        self.feasible = self._kept_feasible_mask() if kept and self.constrained else self._feasible_mask()

    def _kept_feasible_mask(self) -> np.ndarray:
        """:meth:`_feasible_mask`, kept across processes (:mod:`scenegen.cache`) under the
        factors, levels, strength and constraints, when finding it took a while. For a
        space whose readers only read ``feasible`` (``kept=True``: coverage trackers):
        with the mask read, the completability memo stays cold, which a covering
        array's search would feel (its search-step cap counts the steps of the memo)."""
        key = cache.content_key(FEASIBLE_CACHE, self.factors, self.levels, self.t, self.forbidden)
        data = cache.load_bytes(FEASIBLE_CACHE, key)
        if data is not None and len(data) == (self.total + 7) // 8:
            return np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=self.total).astype(bool)
        start = time.perf_counter()
        feasible = self._feasible_mask()
        if time.perf_counter() - start >= KEEP_FEASIBLE_SECONDS:
            cache.store_bytes(FEASIBLE_CACHE, key, np.packbits(feasible).tobytes())
        return feasible

    # -- constraints -------------------------------------------------------------------
    def violates(self, assign: Mapping[int, int]) -> bool:
        """Whether the partial row ``assign`` (factor -> level index) holds every pair of
        some forbidden combination."""
        by_first = self._forbidden_by_first
        for pair in assign.items():
            for constraint in by_first.get(pair, ()):
                if all(assign.get(i, -1) == lv for i, lv in constraint[1:]):
                    return True
        return False

    def completable(self, pairs: tuple[tuple[int, int], ...]) -> bool:
        """Whether the partial row ``pairs`` ((factor, level), sorted) has an allowed completion."""
        if not self.constrained:
            return True
        key = tuple(p for p in pairs if p[0] in self.constrained_factors)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        assign = dict(key)
        if self.violates(assign):
            result = False
        else:
            free = [i for i in self.constrained_factors if i not in assign]
            result = self._search(assign, free, 0)
        self._memo[key] = result
        return result

    def _search(self, assign: dict[int, int], free: list[int], depth: int) -> bool:
        if depth == len(free):
            return True
        i = free[depth]
        for lv in range(int(self.v[i])):
            self._nodes += 1
            if self._nodes > MAX_SEARCH_NODES:
                raise ConfigError(f"covering array: the {len(self.forbidden)} forbidden combinations are too "
                                  f"intricate to decide feasibility within {MAX_SEARCH_NODES} search steps")
            assign[i] = lv
            if not self.violates(assign) and self._search(assign, free, depth + 1):
                del assign[i]
                return True
            del assign[i]
        return False

    def row_allowed(self, rows: np.ndarray, combo: int | None = None) -> np.ndarray:
        """Boolean mask of allowed rows of an (n, k) level-index array; with ``combo``,
        only the constraints involving that combination's factors are checked."""
        key = -1 if combo is None else combo
        got = self._fmat.get(key)
        if got is None:
            items = [f for f in self.forbidden if combo is None or any(i in self.combos[combo] for i, _ in f)]
            # forbidden pairs as one (levels x levels) table per pair of factors, looked up
            # by each row's two levels; longer combinations compared level by level
            tables: dict[tuple[int, int], np.ndarray] = {}
            pairs = [f for f in items if len(f) == 2 and f[0][0] != f[1][0]]
            longer = [f for f in items if f not in pairs]
            for f in pairs:
                (a, la), (b, lb) = sorted(f)
                table = tables.setdefault((a, b), np.zeros((int(self.v[a]), int(self.v[b])), dtype=bool))
                table[la, lb] = True
            want = np.full((len(longer), self.k), -1, dtype=np.int64)  # -1: any level
            for n, f in enumerate(longer):
                for i, lv in f:
                    want[n, i] = lv
            got = self._fmat[key] = (list(tables.items()), want, want < 0)
        tables, want, free = got
        hit = np.zeros(len(rows), dtype=bool)
        for (a, b), table in tables:
            hit |= table[rows[:, a], rows[:, b]]
        if len(want):
            hit |= ((rows[:, None, :] == want[None]) | free[None]).all(axis=2).any(axis=1)
        return ~hit

    def _feasible_mask(self) -> np.ndarray:
        feasible = np.ones(self.total, dtype=bool)
        if not self.constrained:
            return feasible
        for j, cols in enumerate(self.combos):
            for code, vals in enumerate(itertools.product(*(range(int(self.v[c])) for c in cols))):
                feasible[self.offset[j] + code] = self.completable(tuple(zip(cols, vals)))
        return feasible

    # -- tuples ------------------------------------------------------------------------
    def gids(self, rows: np.ndarray) -> np.ndarray:
        """(n, ncombos) flat tuple numbers of each row's t-tuples."""
        return rows @ self.mult + self.offset

    def decode(self, gid: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        j = int(self.combo_of[gid])
        code = gid - int(self.offset[j])
        cols = self.combos[j]
        vals = []
        for c in reversed(cols):
            vals.append(code % int(self.v[c]))
            code //= int(self.v[c])
        return cols, tuple(reversed(vals))

    def touching(self, j: int) -> np.ndarray:
        """Combos sharing a factor with combo ``j``."""
        got = self._touching.get(j)
        if got is None:
            got = np.array(sorted({jj for c in self.combos[j] for jj in self.by_col[c]}), dtype=np.int64)
            self._touching[j] = got
        return got

    def tuple_dict(self, gid: int) -> dict[str, str]:
        cols, vals = self.decode(gid)
        return {self.factors[c]: self.levels[c][lv] for c, lv in zip(cols, vals)}

    def encode_rows(self, rows: Sequence[Mapping[str, str]]) -> np.ndarray:
        out = np.zeros((len(rows), self.k), dtype=np.int64)
        for r, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise ConfigError(f"covering array: row {r} must be a mapping factor -> level, got {row!r}")
            extra = set(row) - set(self.index)
            if extra:
                raise ConfigError(f"covering array: row {r} names unknown factor(s) {sorted(map(str, extra))}; "
                                  f"valid: {choices(self.factors)}")
            for i, f in enumerate(self.factors):
                if f not in row:
                    raise ConfigError(f"covering array: row {r} has no level for factor {f!r}")
                if row[f] not in self.level_index[i]:
                    raise ConfigError(f"covering array: row {r} gives unknown level {row[f]!r} of factor {f!r}; "
                                      f"valid: {choices(self.levels[i])}")
                out[r, i] = self.level_index[i][row[f]]
        return out

    def lower_bound(self) -> int:
        per = np.bincount(self.combo_of[self.feasible], minlength=len(self.combos))
        bound = int(per.max()) if len(per) else 0
        if self.t == 2 and not self.constrained and self.k > 2 and np.all(self.v == 2):
            # Kleitman-Spencer / Katona: CAN(2, k, 2) is the least N with C(N-1, ceil(N/2)) >= k
            n = 4
            while math.comb(n - 1, (n + 1) // 2) < self.k:
                n += 1
            bound = max(bound, n)
        return bound


# ------------------------------------------------------------------------------------
def feasible_tuples(levels: Mapping[str, Sequence[str]], strength: int,
                    forbidden: Iterable[Mapping[str, str]] = ()) -> list[dict[str, str]]:
    """Every feasible t-tuple (``t = strength``) as ``{factor: level}``, factor
    combinations in ``itertools.combinations`` order of the factors, levels in list order.
    A tuple is feasible when some full row containing it avoids every ``forbidden``
    partial assignment."""
    p = TupleSpace(levels, strength, forbidden)
    return [p.tuple_dict(int(g)) for g in np.flatnonzero(p.feasible)]


def lower_bound(levels: Mapping[str, Sequence[str]], strength: int,
                forbidden: Iterable[Mapping[str, str]] = ()) -> int:
    """A lower bound on the rows of any covering array: the largest number of feasible
    tuples of a single factor combination (``v ** t`` unconstrained), or, for binary
    factors and strength 2 without constraints, the exact Kleitman-Spencer size.
    The optimisation stops early when it reaches this bound."""
    return TupleSpace(levels, strength, forbidden).lower_bound()


def verify_covering(rows: Sequence[Mapping[str, str]], levels: Mapping[str, Sequence[str]], strength: int,
                    forbidden: Iterable[Mapping[str, str]] = ()) -> list[dict[str, str]]:
    """Exhaustive check of a covering array: the feasible t-tuples no row contains
    (empty when ``rows`` is a covering array), in :func:`feasible_tuples` order.

    Raises :class:`ConfigError` when a row is malformed (unknown or missing factor or
    level) or contains a forbidden combination."""
    p = TupleSpace(levels, strength, forbidden)
    enc = p.encode_rows(list(rows))
    bad = np.flatnonzero(~p.row_allowed(enc)) if len(enc) else []
    if len(bad):
        r = int(bad[0])
        raise ConfigError(f"covering array: row {r} {dict(rows[r])!r} contains a forbidden combination")
    covered = np.zeros(p.total, dtype=bool)
    if len(enc):
        covered[p.gids(enc).ravel()] = True
    return [p.tuple_dict(int(g)) for g in np.flatnonzero(p.feasible & ~covered)]


def covering_array(levels: Mapping[str, Sequence[str]], strength: int, rng: np.random.Generator, *,
                   forbidden: Iterable[Mapping[str, str]] = (), iterations: int = 30_000,
                   candidates: int = 20, max_seconds: float = 10.0) -> list[dict[str, str]]:
    """A small covering array of the given strength.

    Args:
        levels: factor -> its levels (distinct), in order; rows list factors in this order.
        strength: t, 1 <= t <= number of factors.
        rng: the only source of randomness; the same seed gives the same rows.
        forbidden: partial assignments ``{factor: level, ...}`` that no row may contain.
            Only tuples with an allowed completion must be covered (see module doc).
        iterations: moves of the row-deletion + repair search (deterministic work
            budget); 0 keeps the greedy array (minus redundant rows).
        candidates: candidate rows per greedy step.
        max_seconds: wall-clock deadline for the call; past it the greedy step uses one
            candidate per row and the repair search stops (the result is always a
            valid array). If the deadline is what stops the work, the result can
            depend on machine speed; otherwise it depends only on the seed.

    Returns:
        list of rows ``{factor: level}``: every feasible t-tuple occurs in one, and none
        contains a forbidden combination.

    Raises:
        ConfigError: strength outside 1..k, empty or duplicate levels, unknown factor or
            level in ``forbidden``, constraints that forbid every row.
    """
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"covering array: rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise ConfigError(f"covering array: iterations must be an integer >= 0, got {iterations!r}")
    if isinstance(candidates, bool) or not isinstance(candidates, (int, np.integer)) or candidates < 1:
        raise ConfigError(f"covering array: candidates must be an integer >= 1, got {candidates!r}")
    if not (isinstance(max_seconds, (int, float)) and max_seconds >= 0 and math.isfinite(max_seconds)):
        raise ConfigError(f"covering array: max_seconds must be a finite number >= 0, got {max_seconds!r}")
    p = TupleSpace(levels, strength, forbidden)
    deadline = time.perf_counter() + float(max_seconds)
    rows = _greedy(p, rng, int(candidates), deadline)
    rows = _drop_redundant(p, rows, rng)
    if iterations and len(rows) > p.lower_bound():
        rows = _shrink(p, rows, rng, int(iterations), deadline)
    return [{p.factors[i]: p.levels[i][int(lv)] for i, lv in enumerate(row)} for row in rows]


def top_up_rows(levels: Mapping[str, Sequence[str]], strength: int, rng: np.random.Generator,
                covered: Iterable[Mapping[str, str]], *, forbidden: Iterable[Mapping[str, str]] = (),
                candidates: int = 20, max_seconds: float = 60.0) -> list[dict[str, str]]:
    """Few rows that, together with the t-tuples already ``covered`` (``{factor:
    level}``, other entries ignored), cover every feasible t-tuple: the greedy step of
    :func:`covering_array` started from what is covered, minus redundant rows.

    Returns:
        list of rows ``{factor: level}`` (empty when nothing feasible is missing); no
        row contains a forbidden combination.
    """
    p = TupleSpace(levels, strength, forbidden)
    mask = np.zeros(p.total, dtype=bool)
    for item in covered:
        mask[_gid_of(p, item)] = True
    deadline = time.perf_counter() + float(max_seconds)
    rows = _drop_redundant(p, _greedy(p, rng, int(candidates), deadline, mask), rng, mask)
    return [{p.factors[i]: p.levels[i][int(lv)] for i, lv in enumerate(row)} for row in rows]


def _gid_of(p: TupleSpace, item: Mapping[str, str]) -> int:
    """The tuple number of a t-tuple given as ``{factor: level}`` (its factors in any order)."""
    cols = tuple(sorted(p.index[f] for f in item))
    j = p.combos.index(cols)
    code = 0
    for c in cols:
        code = code * int(p.v[c]) + p.level_index[c][item[p.factors[c]]]
    return int(p.offset[j]) + code


# -- greedy -----------------------------------------------------------------------------
def _greedy(p: TupleSpace, rng: np.random.Generator, n_candidates: int, deadline: float,
            covered: np.ndarray | None = None) -> np.ndarray:
    uncovered = p.feasible.copy() if covered is None else p.feasible & ~covered
    per_combo = np.bincount(p.combo_of[uncovered], minlength=len(p.combos))
    rows: list[np.ndarray] = []
    mult = p.mult
    while per_combo.sum() > 0:
        best_row, best_score = None, -1
        top = np.flatnonzero(per_combo == per_combo.max())
        # past the deadline, one candidate per row: still a valid array, built sooner
        for _ in range(n_candidates if time.perf_counter() < deadline else 1):
            j = int(top[rng.integers(len(top))])
            lo = int(p.offset[j])
            pool = np.flatnonzero(uncovered[lo:lo + int(p.sizes[j])])
            gid = lo + int(pool[rng.integers(len(pool))])
            cols, vals = p.decode(gid)
            row = np.full(p.k, -1, dtype=np.int64)
            row[list(cols)] = vals
            fixed = np.zeros(p.k, dtype=bool)
            fixed[list(cols)] = True
            for c in rng.permutation([c for c in range(p.k) if not fixed[c]]):
                c = int(c)
                # combos through c whose other factors are already fixed
                through = p.by_col_arr[c]
                ready = through[fixed.astype(np.int64) @ p.member[:, through] == p.t - 1]
                base = np.where(fixed, row, 0) @ mult[:, ready] + p.offset[ready]
                lvls = np.arange(int(p.v[c]))
                scores = uncovered[base[None, :] + lvls[:, None] * mult[c, ready][None, :]].sum(axis=1)
                if p.constrained:
                    for lv in range(int(p.v[c])):
                        row[c] = lv
                        pairs = tuple((i, int(row[i])) for i in range(p.k) if fixed[i] or i == c)
                        if not p.completable(pairs):
                            scores[lv] = -1
                good = np.flatnonzero(scores == scores.max())
                row[c] = int(good[rng.integers(len(good))])
                fixed[c] = True
            score = int(uncovered[p.gids(row[None, :])[0]].sum())
            if score > best_score:
                best_row, best_score = row.copy(), score
        rows.append(best_row)
        g = p.gids(best_row[None, :])[0]
        newly = g[uncovered[g]]
        uncovered[newly] = False
        per_combo -= np.bincount(p.combo_of[newly], minlength=len(p.combos))
    return np.array(rows, dtype=np.int64).reshape(-1, p.k)


def _drop_redundant(p: TupleSpace, rows: np.ndarray, rng: np.random.Generator,
                    covered: np.ndarray | None = None) -> np.ndarray:
    if len(rows) == 0:
        return rows
    counts = np.bincount(p.gids(rows).ravel(), minlength=p.total)
    if covered is not None:
        counts = counts + covered * (len(rows) + 2)  # never needed by any row
    keep = np.ones(len(rows), dtype=bool)
    for r in rng.permutation(len(rows)):
        g = p.gids(rows[r:r + 1])[0]
        if np.all(counts[g] >= 2):
            counts[g] -= 1
            keep[r] = False
    return rows[keep]


# -- row deletion + tabu repair ---------------------------------------------------------
class _State:
    """An array with per-tuple counts and an O(1) sampleable set of uncovered tuples."""

    def __init__(self, p: TupleSpace, rows: np.ndarray):
        self.p = p
        self.rows = rows.copy()
        self.g = p.gids(self.rows)
        self.counts = np.bincount(self.g.ravel(), minlength=p.total).astype(np.int64)
        self.unc: list[int] = []
        self.pos: dict[int, int] = {}
        for gid in np.flatnonzero(p.feasible & (self.counts == 0)):
            self._add(int(gid))

    def _add(self, gid: int) -> None:
        self.pos[gid] = len(self.unc)
        self.unc.append(gid)

    def _remove(self, gid: int) -> None:
        i = self.pos.pop(gid)
        last = self.unc.pop()
        if last != gid:
            self.unc[i] = last
            self.pos[last] = i

    def delete_row(self, r: int) -> None:
        for gid in self.g[r]:
            gid = int(gid)
            self.counts[gid] -= 1
            if self.counts[gid] == 0 and self.p.feasible[gid]:
                self._add(gid)
        self.rows = np.delete(self.rows, r, axis=0)
        self.g = np.delete(self.g, r, axis=0)

    def set_row(self, r: int, row: np.ndarray, sub: np.ndarray, new_g: np.ndarray) -> None:
        old_g = self.g[r, sub]
        for o, n in zip(old_g.tolist(), new_g.tolist()):
            if o == n:
                continue
            self.counts[o] -= 1
            if self.counts[o] == 0 and self.p.feasible[o]:
                self._add(o)
            if self.counts[n] == 0 and n in self.pos:
                self._remove(n)
            self.counts[n] += 1
        self.rows[r] = row
        self.g[r, sub] = new_g


def _shrink(p: TupleSpace, rows: np.ndarray, rng: np.random.Generator, iterations: int,
            deadline: float) -> np.ndarray:
    best = rows
    bound = p.lower_bound()
    moves = 0
    # a longer tabu list helps few-factor problems (3^4, t=3 reaches 27 only with ~30),
    # a shorter one many-factor problems (3^20, t=2)
    tabu_len = max(10, 120 // p.k)
    while len(best) > bound and moves < iterations and time.perf_counter() < deadline:
        state = _State(p, best)
        # delete the row that covers fewest tuples alone
        alone = (state.counts[state.g] == 1).sum(axis=1)
        cand = np.flatnonzero(alone == alone.min())
        state.delete_row(int(cand[rng.integers(len(cand))]))
        tabu: deque[tuple[int, int, int]] = deque(maxlen=tabu_len)
        n = len(state.rows)
        while state.unc and moves < iterations:
            moves += 1
            if moves % 256 == 0 and time.perf_counter() >= deadline:
                break
            gid = state.unc[int(rng.integers(len(state.unc)))]
            cols, vals = p.decode(gid)
            j = int(p.combo_of[gid])
            sub = p.touching(j)
            new_rows = state.rows.copy()
            new_rows[:, list(cols)] = vals
            new_g = new_rows @ p.mult[:, sub] + p.offset[sub]
            old_g = state.g[:, sub]
            changed = new_g != old_g
            lost = (changed & (state.counts[old_g] == 1)).sum(axis=1)
            gained = (changed & (state.counts[new_g] == 0) & p.feasible[new_g]).sum(axis=1)
            delta = lost - gained
            bad = np.zeros(n, dtype=bool)
            if p.constrained:
                bad |= ~p.row_allowed(new_rows, j)
            for (tr, tc, tv) in tabu:
                if tc in cols and vals[cols.index(tc)] == tv and state.rows[tr, tc] != tv:
                    # aspiration: a tabu move is fine if it completes the array
                    if len(state.unc) + delta[tr] > 0:
                        bad[tr] = True
            if bad.all():
                continue
            delta = np.where(bad, np.iinfo(np.int64).max, delta)
            choice = np.flatnonzero(delta == delta.min())
            r = int(choice[rng.integers(len(choice))])
            for c, v in zip(cols, vals):
                if state.rows[r, c] != v:
                    tabu.append((r, c, int(state.rows[r, c])))
            state.set_row(r, new_rows[r], sub, new_g[r])
        if state.unc:
            break
        best = state.rows.copy()
    return best
