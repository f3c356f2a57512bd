"""``probe``: search the scene space for where a model does worst, and report it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

import numpy as np

from ..errors import ConfigError
from ..progress import progress_bar, wanted
from .evaluate import Evaluator, Trial
from .model import load_model
from .report import build_report, format_summary, write_outputs
from .search import STRATEGIES, DesignSpace, Search, run_adaptive
from .stats import TupleStats

_STRATEGY_KEYS = {"covering": 1, "random": 2, "adaptive": 3}


@dataclass
class ProbeResult:
    """What a probe run found.

    Attributes:
        report: the report dict (``probe.json``; see :mod:`scenegen.probe.html`).
        trials: every scored scene, in render order.
        thumbnails: failure id -> PNG bytes.
        out: the folder written, or None (``write=False``).
    """

    report: dict
    trials: List[Trial]
    thumbnails: Dict[int, bytes]
    out: Optional[Path]

    def summary(self, rows: int = 10) -> str:
        """The terminal summary (:func:`scenegen.probe.report.format_summary`)."""
        return format_summary(self.report, rows)

    @property
    def findings(self) -> List[dict]:
        """The findings: tuples significantly below the other tuples of their size, worst first."""
        return self.report["findings"]


def run_search(cfg, evaluator, on_batch: Optional[Callable[[int], None]] = None) -> Search:
    """Run ``cfg.probe.strategy`` with ``evaluator`` (anything with :class:`Evaluator`'s
    ``evaluate``, ``evaluate_scenes``, ``renders`` and ``sampler``) and return the
    finished :class:`~scenegen.probe.search.Search`."""
    probe = cfg.probe
    space = DesignSpace(cfg, evaluator.sampler, probe.factors, probe.strength)
    stats = TupleStats(probe.factors, probe.strength, probe.confidence)
    rng = np.random.default_rng(np.random.SeedSequence(int(cfg.seed), spawn_key=(0x9B0E, _STRATEGY_KEYS[probe.strategy])))
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
        write: write the report files into ``cfg.probe.out``.

    Raises:
        ConfigError: no model, or one that cannot be loaded.
        ModelOutputError: the model's answers cannot be read.
    """
    model = model if model is not None else cfg.probe.model
    if isinstance(model, str):
        if not model:
            raise ConfigError("no model given: pass model=package.module:function (a callable taking (N, H, W, 3) "
                              "uint8 images)")
        name, model = model, load_model(model)
    else:
        name = getattr(model, "__qualname__", type(model).__name__)
        name = f"{getattr(model, '__module__', '?')}:{name}"
    probe = cfg.probe
    evaluator = Evaluator(cfg, model)
    with progress_bar(int(probe.budget), wanted(cfg, progress), desc=f"probe ({probe.strategy})") as bar:
        try:
            search = run_search(cfg, evaluator, on_batch=bar.update)
        finally:
            evaluator.worker.close()
    stats = search.stats
    report = build_report(cfg, name, stats, search.trials, evaluator.gallery.failures(), search.history, search.local)
    thumbnails = evaluator.gallery.thumbnails()
    out = write_outputs(probe.out, report, search.trials, thumbnails) if write else None
    return ProbeResult(report, search.trials, thumbnails, out)
