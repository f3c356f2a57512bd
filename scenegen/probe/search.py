"""Search strategies: which scenes to render, within a budget, to find where a model
does worst.

All three ask for directed scenes whose target shows chosen levels of the searched
factors (``probe.factors``); results are counted by the levels measured on the rendered
target (:class:`~scenegen.probe.stats.TupleStats`).

- ``covering``: the rows of a covering array of strength t over the factors, pass
  after pass (each a newly drawn array) until the budget is spent; every feasible
  t-tuple is asked for at least once per pass.
- ``random``: rows drawn uniformly among the feasible ones.
- ``adaptive``: one covering pass, then top-two Thompson sampling over the tuples of 1..t
  levels: for each scene, every tuple's accuracy is drawn from its Beta posterior
  (uniform prior) and the scene is asked to show the tuple with the lowest draw, its
  other factors drawn at random. Tuples that look bad get most scenes, but a tuple
  unlucky in its first scenes is still drawn now and then (successive halving would
  drop it for good, which we measured to miss weak failures). The last
  ``probe.local_fraction`` of the budget goes to a local search inside the worst tuple
  found: starting from its lowest-scoring scene, it renders perturbed copies
  (:mod:`scenegen.probe.perturb`) and moves to the lowest-scoring one that stays in
  the tuple.

A directed scene the sampler cannot place is skipped (:class:`~scenegen.probe.evaluate.
Skip`): it is recorded, not counted in the budget, and the strategy moves on to its next
row, so every strategy still renders exactly its budget. A row is never retried; the
adaptive search stops asking for a tuple whose rows mostly fail
(:data:`ARM_SKIP_LIMIT`), and the whole search gives up with a PlacementError after
:data:`MAX_CONSECUTIVE_SKIPS` skips in a row, so a config whose directives cannot be
placed ends in bounded time.

Randomness comes only from ``probe`` seeds derived from ``cfg.seed``, so a run is
reproducible.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from ..design.covering import TupleSpace, covering_array
from ..design.plan import design_space, directive_allowed
from ..errors import PlacementError, ScenegenError
from .evaluate import Evaluator, Skip, Trial
from .perturb import perturb
from .stats import Key, TupleStats

SWEEP_ITERATIONS = 2_000  # covering-array search moves: a near-minimal sweep in well under a second
SWEEP_SHARE = 2  # the covering pass takes at most 1/SWEEP_SHARE of the directed scenes
ROW_TRIES = 500  # random completions tried before a tuple is declared impossible to ask for
MAX_CONSECUTIVE_SKIPS = 50  # unplaceable scenes in a row after which the search gives up
ARM_SKIP_LIMIT = 3  # adaptive: a tuple is dropped once this many of its rows, and most, were skipped


class DesignSpace:
    """The rows a probe may ask for: levels of ``factors`` a directive can set, with the
    pairwise constraints of the config (:func:`scenegen.design.plan.design_space`).

    Args:
        world: the :class:`scenegen.world.compile.World` of the config (directive checks).
        factors: the searched factors; strength: t of the t-tuples.
    """

    def __init__(self, world, factors: Sequence[str], strength: int):
        self.world = world
        self.factors = list(factors)
        self.levels, self.forbidden = design_space(world, self.factors)
        self.space = TupleSpace(self.levels, strength, self.forbidden)
        self._checked: Dict[tuple, bool] = {}

    def tuples(self, strengths: Optional[Sequence[int]] = None) -> List[Key]:
        """Every feasible tuple of these strengths (default: t), as keys in factor order."""
        keys = []
        for strength in strengths or (self.space.t,):
            space = self.space if strength == self.space.t else TupleSpace(self.levels, strength, self.forbidden)
            for gid in np.flatnonzero(space.feasible):
                item = space.tuple_dict(int(gid))
                keys.append(tuple((f, item[f]) for f in self.factors if f in item))
        return keys

    def covering_rows(self, rng: np.random.Generator) -> List[Dict[str, str]]:
        return covering_array(self.levels, self.space.t, rng, forbidden=self.forbidden,
                              iterations=SWEEP_ITERATIONS, max_seconds=60.0)

    def allowed(self, row: Dict[str, str]) -> bool:
        """Whether a full row is a directive the sampler accepts."""
        key = tuple(row[f] for f in self.factors)
        if key not in self._checked:
            enc = self.space.encode_rows([row])
            self._checked[key] = bool(self.space.row_allowed(enc)[0]) and directive_allowed(row, self.world)
        return self._checked[key]

    def random_row(self, rng: np.random.Generator, fixed: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """A uniformly drawn allowed row containing ``fixed``.

        Raises:
            ScenegenError: no allowed row found in ROW_TRIES draws.
        """
        fixed = dict(fixed or {})
        for _ in range(ROW_TRIES):
            row = {f: fixed[f] if f in fixed else self.levels[f][int(rng.integers(len(self.levels[f])))]
                   for f in self.factors}
            if self.allowed(row):
                return row
        raise ScenegenError(f"no directive with {fixed} was found in {ROW_TRIES} random rows; "
                            f"the config makes it (nearly) impossible")


class Search:
    """Renders rows in batches within a budget and keeps the statistics and history.

    Args:
        evaluator: renders and scores scenes.
        space: the design space.
        stats: counts of the directed ("sweep") trials.
        budget: rendered scenes, all phases.
        batch: scenes per model call.
        on_batch: called with the trials of each batch (progress bar, trial log).

    Attributes:
        trials: every scored scene, in render order.
        skipped: every directed scene that could not be placed, in order.
    """

    def __init__(self, evaluator: Evaluator, space: DesignSpace, stats: TupleStats, budget: int, batch: int,
                 on_batch: Optional[Callable[[List[Trial]], None]] = None):
        self.evaluator, self.space, self.stats = evaluator, space, stats
        self.budget, self.batch = int(budget), int(batch)
        self.on_batch = on_batch
        self.trials: List[Trial] = []
        self.skipped: List[Skip] = []
        self.history: List[dict] = []
        self.local: Optional[dict] = None
        self._skips_in_a_row = 0

    @property
    def left(self) -> int:
        return self.budget - self.evaluator.renders

    def run_rows(self, rows: Sequence[Dict[str, str]], end: Optional[int] = None) -> List[Union[Trial, Skip]]:
        """Render and score ``rows`` in order, in batches, until they run out or ``end``
        scenes (default: the budget) are rendered; a row that cannot be placed is
        skipped and the next row takes its place. Returns the outcome of each row
        tried, in order (the rows after them were not tried).

        Raises:
            PlacementError: :data:`MAX_CONSECUTIVE_SKIPS` rows in a row were skipped.
        """
        rows, done = list(rows), []
        end = self.budget if end is None else min(int(end), self.budget)
        while len(done) < len(rows) and self.evaluator.renders < end:
            count = min(self.batch, end - self.evaluator.renders)
            outcomes = self.evaluator.evaluate(rows[len(done):len(done) + count], phase="sweep")
            trials = [t for t in outcomes if isinstance(t, Trial)]
            for trial in trials:
                if trial.correct is not None:
                    self.stats.add(trial.factors, trial.correct)
            if trials:
                self._after_batch(trials)
            self._count_skips(outcomes)
            done.extend(outcomes)
        return done

    def run_scenes(self, scenes: Sequence[tuple]) -> List[Trial]:
        """Render and score perturbed scenes (local search); not counted in ``stats``."""
        trials = self.evaluator.evaluate_scenes(list(scenes)[: max(self.left, 0)], phase="local")
        self._after_batch(trials)
        return trials

    def _count_skips(self, outcomes: Sequence[Union[Trial, Skip]]) -> None:
        """Record the skipped rows; give up after too many in a row."""
        for outcome in outcomes:
            if isinstance(outcome, Skip):
                self.skipped.append(outcome)
                self._skips_in_a_row += 1
            else:
                self._skips_in_a_row = 0
        if self._skips_in_a_row >= MAX_CONSECUTIVE_SKIPS:
            last = self.skipped[-1]
            raise PlacementError(
                f"the probe gave up: the last {self._skips_in_a_row} directed scenes could not be placed "
                f"({len(self.skipped)} in all, {self.evaluator.renders} of {self.budget} scenes rendered); the last, "
                f"scene {last.index} with directive {last.requested}: {last.error}"
            )

    def _after_batch(self, trials: List[Trial]) -> None:
        self.trials.extend(trials)
        findings = self.stats.findings(limit=1)
        point = {"renders": self.evaluator.renders, "worst": None, "accuracy": None, "upper": None}
        if findings:
            entry = self.stats.entry(findings[0])
            point.update(worst=entry["tuple"], accuracy=entry["accuracy"], upper=entry["ci"][1])
        self.history.append(point)
        if self.on_batch is not None:
            self.on_batch(trials)


# -- strategies ------------------------------------------------------------------------

def run_covering(search: Search, rng: np.random.Generator) -> None:
    """Covering passes until the budget is spent, each a new array: repeating one array
    would confound the tuples that share its rows."""
    while search.left > 0:
        search.run_rows(search.space.covering_rows(rng))


def run_random(search: Search, rng: np.random.Generator) -> None:
    while search.left > 0:
        search.run_rows([search.space.random_row(rng) for _ in range(min(search.batch, search.left))])


def run_adaptive(search: Search, rng: np.random.Generator, local_fraction: float) -> None:
    """One covering pass (at most half of the directed budget), then Thompson sampling
    of the worst tuple, then :func:`local_search` with ``local_fraction`` of the budget."""
    directed_end = search.budget - int(round(search.budget * local_fraction))
    sweep = search.space.covering_rows(rng)
    search.run_rows(sweep, end=directed_end // SWEEP_SHARE)
    arms = search.space.tuples(strengths=range(1, search.space.space.t + 1))
    tries: Counter = Counter()  # (arm, "asked" / "skipped") -> rows
    _thompson_rows(search, rng, arms, directed_end, tries)
    local_search(search, rng)
    _thompson_rows(search, rng, arms, search.budget, tries)  # what the local search could not spend (no start scene)


def _thompson_rows(search: Search, rng: np.random.Generator, arms: List[Key], end: int, tries: Counter) -> None:
    """Render rows showing Thompson-drawn arms until ``end`` scenes are rendered. An
    arm is dropped once :data:`ARM_SKIP_LIMIT` of its rows, and more than half of
    them, could not be placed; ``tries`` counts rows asked (``(arm, "asked")``) and
    skipped (``(arm, "skipped")``) across calls.

    Raises:
        PlacementError: every arm was dropped.
    """
    while search.evaluator.renders < end:
        live = [a for a in arms if not _dropped(tries, a)]
        if not live:
            raise PlacementError(f"the probe gave up: every tuple of {search.space.factors} was dropped after "
                                 f"{ARM_SKIP_LIMIT} or more of its directed scenes could not be placed; the last: "
                                 f"{search.skipped[-1].error}")
        count = min(search.batch, end - search.evaluator.renders)
        chosen = [live[i] for i in thompson_worst(search.stats, live, rng, count)]
        outcomes = search.run_rows([search.space.random_row(rng, dict(arm)) for arm in chosen])
        for arm, outcome in zip(chosen, outcomes):
            tries[arm, "asked"] += 1
            tries[arm, "skipped"] += isinstance(outcome, Skip)


def _dropped(tries: Counter, arm: Key) -> bool:
    """Whether at least ARM_SKIP_LIMIT, and more than half, of ``arm``'s rows were skipped."""
    skipped = tries[arm, "skipped"]
    return skipped >= ARM_SKIP_LIMIT and 2 * skipped > tries[arm, "asked"]


def thompson_worst(stats: TupleStats, arms: List[Key], rng: np.random.Generator, count: int,
                   leader_share: float = 0.5, redraws: int = 16) -> List[int]:
    """``count`` arms by top-two Thompson sampling for the worst arm (Russo 2016): each
    arm's accuracy is drawn from its Beta(correct + 1, wrong + 1) posterior and the
    lowest draw leads; with probability ``leader_share`` the leader is taken, otherwise
    the posterior is drawn again until another arm leads (the challenger). Spending
    half the scenes on challengers keeps the search from piling every scene onto the
    arm that looks worst by chance."""
    n = np.array([stats.counts.get(a, (0, 0))[0] for a in arms], dtype=float)
    correct = np.array([stats.counts.get(a, (0, 0))[1] for a in arms], dtype=float)
    chosen = []
    for _ in range(count):
        leader = int(rng.beta(correct + 1.0, n - correct + 1.0).argmin())
        pick = leader
        if rng.random() >= leader_share:
            draws = rng.beta(correct + 1.0, n - correct + 1.0, size=(redraws, len(arms))).argmin(axis=1)
            others = draws[draws != leader]
            pick = int(others[0]) if len(others) else leader
        chosen.append(pick)
    return chosen


def _shows(trial: Trial, key: Key) -> bool:
    return all(trial.factors.get(f) == level for f, level in key)


def local_search(search: Search, rng: np.random.Generator) -> None:
    """Perturb the lowest-scoring scene of the worst tuple, moving to lower scores."""
    if search.left <= 0:
        return
    findings = search.stats.findings(limit=1)
    key = findings[0] if findings else (search.stats.ranked([search.stats.strength]) or [None])[0]
    inside = [t for t in search.trials if t.phase == "sweep" and key is not None and _shows(t, key)]
    if not inside:
        return
    start = min(inside, key=lambda t: (t.score, t.id))
    evaluator = search.evaluator
    scene = evaluator.sampler.sample(start.index, start.requested)
    colors = {name: tuple(rgb) for name, rgb in evaluator.cfg.colors.items()}
    current = (scene, start.score, "", start.occluders)
    steps, renders_before, failures = [], evaluator.renders, 0
    best_id = start.id
    while search.left > 0:
        proposals = []
        for _ in range(min(search.batch, search.left)):
            changed, text = perturb(current[0], rng, evaluator.worker.dictionary, colors, list(current[3]))
            proposals.append((changed, start.requested, "; ".join(filter(None, (current[2], text)))))
        trials = search.run_scenes(proposals)
        failures += sum(t.correct is False for t in trials)
        staying = [t for t in trials if _shows(t, key)]
        if staying:
            best = min(staying, key=lambda t: (t.score, t.id))
            if best.score <= current[1]:
                current = (best.scene, best.score, best.change, best.occluders)
                best_id = best.id
                steps.append({"renders": evaluator.renders - renders_before, "score": best.score,
                              "change": best.change.rsplit("; ", 1)[-1]})
    search.local = {
        "tuple": dict(key),
        "renders": evaluator.renders - renders_before,
        "failures": failures,
        "start": {"id": start.id, "score": start.score},
        "best": {"id": best_id, "score": current[1], "change": current[2]},
        "steps": steps,
    }


STRATEGIES = {"covering": run_covering, "random": run_random}  # adaptive takes local_fraction too
