"""``probe``: search the scene space for where a model does worst, and report it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

from ..errors import ConfigError, ScenegenError
from ..progress import progress_bar, wanted
from ..streams import Stream, generator
from ..world.compile import World
from .evaluate import Evaluator, Skip, Trial
from .model import load_model, model_name
from .report import TrialLog, build_report, format_summary, model_input, write_outputs
from .search import STRATEGIES, DesignSpace, Search, run_adaptive
from .stats import TupleStats

_STRATEGY_STREAMS = {"covering": Stream.PROBE_COVERING, "random": Stream.PROBE_RANDOM, "adaptive": Stream.PROBE_ADAPTIVE}


@dataclass
class ProbeResult:
    """What a probe run found.

    Attributes:
        report: the report dict (``probe.json``; see :mod:`scenegen.probe.html`).
        trials: every scored scene, in render order.
        thumbnails: failure id -> PNG bytes.
        out: the folder written, or None (``write=False``).
        skipped: the directed scenes that could not be placed (not rendered, not in
            the budget), in order.
    """

    report: dict
    trials: List[Trial]
    thumbnails: Dict[int, bytes]
    out: Optional[Path]
    skipped: List[Skip]

    def summary(self, rows: int = 10) -> str:
        """The terminal summary (:func:`scenegen.probe.report.format_summary`)."""
        return format_summary(self.report, rows)

    @property
    def findings(self) -> List[dict]:
        """The findings: tuples significantly below the other tuples of their size, worst first."""
        return self.report["findings"]


def run_search(cfg, evaluator, on_batch: Optional[Callable[[List[Trial]], None]] = None) -> Search:
    """Run ``cfg.probe.strategy`` with ``evaluator`` (anything with :class:`Evaluator`'s
    ``evaluate``, ``evaluate_scenes``, ``renders`` and ``sampler``) and return the
    finished :class:`~scenegen.probe.search.Search`; ``on_batch`` gets each batch's
    trials as they are scored."""
    probe = cfg.probe
    space = DesignSpace(World.of(cfg), probe.factors, probe.strength)
    stats = TupleStats(probe.factors, probe.strength, probe.confidence)
    rng = generator(int(cfg.seed), _STRATEGY_STREAMS[probe.strategy])
    search = Search(evaluator, space, stats, probe.budget, probe.batch, on_batch=on_batch)
    if probe.strategy == "adaptive":
        run_adaptive(search, rng, float(probe.local_fraction))
    else:
        STRATEGIES[probe.strategy](search, rng)
    return search


def run_probe(cfg, model: Union[Callable, str, None] = None, progress: Optional[bool] = None,
              write: bool = True) -> ProbeResult:
    """Probe ``model`` on scenes of ``cfg`` within ``cfg.probe.budget`` renders.

    Args:
        cfg: a composed config (``scenegen.load_config([...])``); ``cfg.probe`` holds the
            task, strategy, budget, factors and strength.
        model: a callable (see :mod:`scenegen.probe.model`), a ``module:function``
            string, or None for ``cfg.probe.model``.
        progress: a progress bar on stderr (default: ``cfg.progress`` and a terminal).
        write: write the report files into ``cfg.probe.out``: ``trials.jsonl`` batch by
            batch as the trials are scored (so an error or Ctrl-C keeps them, and an
            error raised during the search says where), the rest at the end.

    Raises:
        ConfigError: no model, or one that cannot be loaded.
        ModelOutputError: the model's answers cannot be read (this and the two below
            name the scenes and directives of the batch at fault).
        ModelError: the model raised (the exception is chained as ``__cause__``).
        ModelTimeoutError: a model call ran over ``probe.timeout`` seconds (the call
            itself is left running on its daemon thread: see
            :mod:`scenegen.probe.calls`).
        PlacementError: the search gave up, too many directed scenes in a row could not
            be placed (a scene that cannot be placed is otherwise skipped and reported).
    """
    model = model if model is not None else cfg.probe.model
    if isinstance(model, str):
        if not model:
            raise ConfigError("no model given: pass model=package.module:function (a callable taking (N, H, W, 3) "
                              "uint8 images)")
        name, model = model, load_model(model)
    else:
        name = model_name(model)
    probe = cfg.probe
    evaluator = Evaluator(cfg, model, name=name)
    with TrialLog(probe.out if write else None) as log, \
            progress_bar(int(probe.budget), wanted(cfg, progress), desc=f"probe ({probe.strategy})") as bar:

        def on_batch(trials: List[Trial]) -> None:
            log.append(trials)
            bar.update(len(trials))

        try:
            search = run_search(cfg, evaluator, on_batch=on_batch)
        except ScenegenError as exc:
            if log.path:  # the same error, its message completed: the command line prints str(exc)
                exc.args = (f"{exc}; the {evaluator.renders} scenes scored before are in {log.path}",)
            raise
        finally:
            evaluator.close()
    report = build_report(cfg, name, search.stats, search.trials, evaluator.gallery.failures(), search.history,
                          search.local, search.skipped, model_input(cfg, evaluator.settings))
    thumbnails = evaluator.gallery.thumbnails()
    out = write_outputs(probe.out, report, thumbnails) if write else None
    return ProbeResult(report, search.trials, thumbnails, out, search.skipped)
