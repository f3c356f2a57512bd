"""Accuracy of a model per factor level and per t-tuple of levels, with confidence
intervals, and the tuples where it is worst.

A *trial* is one rendered scene scored on its target object: the target's measured
factor levels (``labels["factors"]``) and whether the model was right. :class:`TupleStats`
counts trials and correct ones for every tuple of 1..t levels of the searched factors.
Intervals are Wilson score intervals (they behave at 0 and n correct, unlike the normal
approximation); tuples are ranked worst first by the upper end of their interval, so a
tuple seen once and failed does not outrank one seen twenty times and failed nineteen.

A *finding* is a tuple significantly below the other tuples of its size. A probe tests
hundreds of tuples at once (over a thousand at strength 3), so a per-tuple test at 95%
would flag dozens by chance; :meth:`TupleStats.findings` tests each tuple with a
one-sided exact binomial test and keeps those that survive the Benjamini-Hochberg
procedure over all the tuples tested (:func:`below_reference`).
"""

from __future__ import annotations

import itertools
from statistics import NormalDist
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from scipy.stats import binom

Key = Tuple[Tuple[str, str], ...]  # ((factor, level), ...) in the searched factors' order


def wilson_interval(correct, n, confidence: float = 0.95) -> Tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion.

    Args:
        correct, n: successes and trials (scalars or arrays of the same shape); n >= 0.
        confidence: two-sided level in (0, 1).

    Returns:
        (low, high), float arrays in [0, 1]; (0, 1) where n == 0.
    """
    correct = np.asarray(correct, dtype=float)
    n = np.asarray(n, dtype=float)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    safe = np.maximum(n, 1.0)
    p = correct / safe
    centre = (p + z * z / (2 * safe)) / (1 + z * z / safe)
    half = z / (1 + z * z / safe) * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe))
    # exact ends where rounding would leave 0.9999...: all right -> 1, all wrong -> 0
    low = np.where((n > 0) & (correct > 0), np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where((n > 0) & (correct < n), np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high


def lower_tail_pvalues(correct, n, reference) -> np.ndarray:
    """One-sided exact binomial p-values: P(X <= correct) for X ~ Binomial(n, reference),
    the chance of so few right answers if the tuple's accuracy were ``reference``.

    Args:
        correct, n: successes and trials (arrays of one shape, n >= 1).
        reference: accuracy under the null hypothesis, in [0, 1] (scalar or array).
    """
    return binom.cdf(np.asarray(correct), np.asarray(n), np.asarray(reference, dtype=float))


def benjamini_hochberg(pvalues, alpha: float) -> np.ndarray:
    """Which hypotheses the Benjamini-Hochberg procedure rejects at false-discovery
    rate ``alpha``: the k smallest p-values, for the largest k with p_(k) <= alpha k / m.

    Returns:
        bool array, the shape of ``pvalues``.
    """
    pvalues = np.asarray(pvalues, dtype=float)
    m = pvalues.size
    rejected = np.zeros(pvalues.shape, dtype=bool)
    if m == 0:
        return rejected
    order = np.argsort(pvalues, kind="stable")
    passing = np.flatnonzero(pvalues[order] <= alpha * np.arange(1, m + 1) / m)
    if passing.size:
        rejected[order[: passing[-1] + 1]] = True
    return rejected


def below_reference(correct, n, reference, alpha: float) -> np.ndarray:
    """Which tuples are significantly below their ``reference`` accuracy, controlling the
    false-discovery rate among them at ``alpha``: :func:`lower_tail_pvalues`, then
    :func:`benjamini_hochberg`. A tuple with no reference (NaN) is never below it.

    Under a model that is equally good everywhere, the chance that any tuple is flagged
    is at most about ``alpha`` (the false-discovery rate is then the family-wise rate).
    A tuple seen once and failed has the p-value ``1 - reference``, which no longer
    passes on its own.

    Args:
        correct, n: per tuple (arrays of one shape, n >= 1).
        reference: per tuple, the accuracy to be below (NaN: none).
        alpha: false-discovery rate, ``1 - confidence``.

    Returns:
        bool array, the shape of ``n``.
    """
    reference = np.asarray(reference, dtype=float)
    tested = ~np.isnan(reference)
    below = np.zeros(reference.shape, dtype=bool)
    pvalues = lower_tail_pvalues(np.asarray(correct)[tested], np.asarray(n)[tested], reference[tested])
    below[tested] = benjamini_hochberg(pvalues, alpha)
    return below


def tuple_keys(levels: Mapping[str, str], factors: Sequence[str], strength: int) -> List[Key]:
    """Every tuple of 1..``strength`` of ``factors`` (in their order) with the levels of
    one trial."""
    present = [f for f in factors if f in levels]
    return [
        tuple((f, str(levels[f])) for f in combo)
        for t in range(1, strength + 1)
        for combo in itertools.combinations(present, t)
    ]


def key_text(key: Key) -> str:
    """``category=chair · context=outdoor``."""
    return " \u00b7 ".join(f"{f}={lv}" for f, lv in key)


class TupleStats:
    """Trial and success counts per tuple of 1..``strength`` levels of ``factors``.

    Args:
        factors: the searched factors, in report order.
        strength: largest tuple size t.
        confidence: level of the Wilson intervals.
    """

    def __init__(self, factors: Sequence[str], strength: int, confidence: float = 0.95):
        self.factors = list(factors)
        self.strength = int(strength)
        self.confidence = float(confidence)
        self.counts: Dict[Key, List[int]] = {}  # key -> [n, correct]
        self.n = 0
        self.correct = 0
        self._levels: List[Tuple[Optional[str], ...]] = []  # per trial, the levels of the factors
        self._outcomes: List[bool] = []

    def add(self, levels: Mapping[str, str], correct: bool) -> None:
        """Count one trial whose target shows ``levels`` (factor -> level)."""
        self.n += 1
        self.correct += bool(correct)
        self._levels.append(tuple(levels.get(f) for f in self.factors))
        self._outcomes.append(bool(correct))
        for key in tuple_keys(levels, self.factors, self.strength):
            entry = self.counts.setdefault(key, [0, 0])
            entry[0] += 1
            entry[1] += bool(correct)

    @property
    def accuracy(self) -> Optional[float]:
        return self.correct / self.n if self.n else None

    def entry(self, key: Key) -> dict:
        """``{"tuple", "n", "correct", "accuracy", "ci"}`` of one tuple (JSON-ready)."""
        n, correct = self.counts.get(key, (0, 0))
        return summary_entry(n, correct, self.confidence, {"tuple": dict(key)})

    def ranked(self, strengths: Optional[Iterable[int]] = None) -> List[Key]:
        """Tuples with at least one trial, worst first: by the upper end of the
        interval, then accuracy, then more trials first, then key order."""
        wanted = set(strengths) if strengths is not None else None
        keys = [k for k in self.counts if wanted is None or len(k) in wanted]
        if not keys:
            return []
        n = np.array([self.counts[k][0] for k in keys])
        correct = np.array([self.counts[k][1] for k in keys])
        _, high = wilson_interval(correct, n, self.confidence)
        order = sorted(range(len(keys)), key=lambda i: (high[i], correct[i] / n[i], -n[i], keys[i]))
        return [keys[i] for i in order]

    def findings(self, limit: int = 20) -> List[Key]:
        """The tuples whose accuracy is significantly below the mean accuracy of the other
        tuples of their size (each tuple counts once, so the reference does not move
        when an adaptive search renders the bad tuples most, as the overall accuracy
        would), worst first, each explained by no other. Significant means: a one-sided
        exact binomial test against that mean, passed after the Benjamini-Hochberg
        correction over all tuples at ``1 - confidence`` (:meth:`significant`), so
        that testing hundreds of tuples does not turn a few unlucky scenes into
        findings:

        - a tuple is left out when it contains a significant shorter tuple S, is not
          significantly worse than S's other trials (the intervals overlap) and those
          are significantly worse on their own: heavy occlusion with a chair is still
          heavy occlusion;
        - a tuple is left out when its trials that do not show another significant
          tuple F (not one it contains) are no longer significantly worse: when chairs
          fail only outdoors, "chair" and "chair, not occluded" are explained by
          "chair, outdoor".
        """
        if not self.n:
            return []
        rest = self._other_cells_mean()
        significant = self.significant(rest)
        levels = np.array(self._levels, dtype=object).reshape(self.n, len(self.factors))
        outcomes = np.array(self._outcomes, dtype=bool)
        column = {f: i for i, f in enumerate(self.factors)}

        masks: Dict[Key, np.ndarray] = {}

        def shows(key: Key) -> np.ndarray:
            if key not in masks:
                mask = np.ones(self.n, dtype=bool)
                for factor, level in key:
                    mask &= levels[:, column[factor]] == level
                masks[key] = mask
            return masks[key]

        found: List[Key] = []
        for key in self.ranked():
            if len(found) >= limit:
                break
            if key not in significant:
                continue
            shorter = [sub for t in range(1, len(key)) for sub in itertools.combinations(key, t)]
            if any(sub in significant and not self._worse_than_rest(key, sub)
                   and _below(shows(sub) & ~shows(key), outcomes, rest[sub], self.confidence) for sub in shorter):
                continue
            if any(other != key and not set(other) < set(key) and self._explains(other, key, shows, outcomes, rest[key], found)
                   for other in significant):
                continue
            found.append(key)
        return found

    def significant(self, rest: Optional[Dict[Key, Optional[float]]] = None) -> set:
        """The tuples significantly below the mean accuracy of the other tuples of their
        size (``rest``, default :meth:`_other_cells_mean`): :func:`below_reference` at
        false-discovery rate ``1 - confidence``, over all tuples of all sizes at once
        (the findings are one list, so they are one family)."""
        rest = self._other_cells_mean() if rest is None else rest
        keys = list(self.counts)
        n, correct = np.array([self.counts[k] for k in keys], dtype=float).reshape(-1, 2).T
        reference = [np.nan if rest[k] is None else rest[k] for k in keys]
        below = below_reference(correct, n, reference, 1.0 - self.confidence)
        return {k for k, b in zip(keys, below) if b}

    def _other_cells_mean(self) -> Dict[Key, Optional[float]]:
        """Per tuple, the mean accuracy of the other tuples of its size (each cell
        counts once, however many scenes it got); None for a size with one cell."""
        keys = list(self.counts)
        n = np.array([self.counts[k][0] for k in keys], dtype=float)
        correct = np.array([self.counts[k][1] for k in keys], dtype=float)
        accuracy = correct / n
        sizes = np.array([len(k) for k in keys])
        totals = {size: (float(accuracy[sizes == size].sum()), int((sizes == size).sum())) for size in set(sizes.tolist())}
        means: Dict[Key, Optional[float]] = {}
        for key, size, acc in zip(keys, sizes.tolist(), accuracy):
            total, cells = totals[size]
            means[key] = (total - acc) / (cells - 1) if cells > 1 else None
        return means

    def _explains(self, other: Key, key: Key, shows, outcomes: np.ndarray, reference: float, found: List[Key]) -> bool:
        """Whether ``key``'s trials that do not show ``other`` are no longer significantly
        below ``reference``; when every trial of ``key`` shows ``other`` (the two are
        confounded), only a tuple found earlier explains it."""
        outside = shows(key) & ~shows(other)
        if not outside.any():
            return other in found
        return not _below(outside, outcomes, reference, self.confidence)

    def _worse_than_rest(self, key: Key, shorter: Key) -> bool:
        """Whether ``key`` is significantly worse than the trials of ``shorter`` (which it
        contains) that do not show ``key``: the intervals do not overlap."""
        n, correct = self.counts[key]
        rest_n = self.counts[shorter][0] - n
        rest_correct = self.counts[shorter][1] - correct
        if rest_n <= 0:
            return False
        _, high = wilson_interval(correct, n, self.confidence)
        low, _ = wilson_interval(rest_correct, rest_n, self.confidence)
        return float(high) < float(low)

    def cells(self, strength: int) -> dict:
        """Mean (macro, over tuples of this strength with trials) vs minimum cell vs
        overall (micro) accuracy."""
        keys = [k for k in self.counts if len(k) == strength]
        if not keys:
            return {"strength": strength, "cells": 0, "mean": None, "overall": self.accuracy, "min": None}
        accuracies = [self.counts[k][1] / self.counts[k][0] for k in keys]
        worst = self.ranked([strength])[0]
        return {
            "strength": strength,
            "cells": len(keys),
            "mean": float(np.mean(accuracies)),
            "overall": self.accuracy,
            "min": self.entry(worst),
        }


def _below(mask: np.ndarray, outcomes: np.ndarray, reference: float, confidence: float) -> bool:
    """Whether the trials in ``mask`` are significantly below ``reference`` accuracy."""
    n = int(mask.sum())
    if n == 0:
        return False
    _, high = wilson_interval(int(outcomes[mask].sum()), n, confidence)
    return float(high) < reference


def summary_entry(n: int, correct: int, confidence: float, label: Optional[dict] = None) -> dict:
    """``label`` (e.g. ``{"tuple": ...}`` or ``{"level": ...}``) followed by ``{"n",
    "correct", "accuracy", "ci"}`` (accuracy and ci None when n == 0)."""
    entry = dict(label or {})
    if n:
        low, high = wilson_interval(correct, n, confidence)
        entry.update(n=int(n), correct=int(correct), accuracy=correct / n, ci=[float(low), float(high)])
    else:
        entry.update(n=0, correct=0, accuracy=None, ci=None)
    return entry
