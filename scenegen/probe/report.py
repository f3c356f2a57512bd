"""The probe's report: one JSON-ready dict, its terminal summary, and the files.

The report's keys (``schema`` 1) are documented in :mod:`scenegen.probe.html`, which
draws it. Per-level and per-tuple accuracies count the directed ("sweep") scenes only;
the local search's scenes are chosen to fail and are reported apart.

Files: ``trials.jsonl`` grows as the probe goes (:class:`TrialLog`: one line per scored
scene, appended and flushed after every batch), so a crash or Ctrl-C keeps the trials
scored so far; ``failures/``, ``probe.html`` and, last, ``probe.json`` are written at the
end, each atomically (:func:`write_outputs`). A run first removes the previous run's
report files from the folder, so it never mixes two runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

from ..fileio import atomic_write_bytes, to_plain, write_json
from ..world.compile import World
from .evaluate import Skip, Trial
from .model import ModelSettings, input_text
from .stats import TupleStats, key_text, summary_entry

SCHEMA = 1
MAX_TUPLES = 200  # tuples listed in the report, worst first
MAX_FINDINGS = 20
SKIPS_SHOWN = 5  # skipped scenes listed in the terminal summary
REPORT_JSON = "probe.json"
REPORT_HTML = "probe.html"
TRIALS = "trials.jsonl"
FAILURES = "failures"


class TrialLog:
    """``trials.jsonl`` in ``out``, written as the probe goes: :meth:`append` adds one
    JSON line per trial and flushes, so the trials scored before a crash or Ctrl-C
    stay on disk (at worst the last line is cut short). Opening it removes the
    previous run's ``probe.json``, ``probe.html`` and failure thumbnails. A context
    manager; ``out`` None logs nothing.
    """

    def __init__(self, out):
        self.path: Optional[Path] = None if out is None else Path(out) / TRIALS
        self._handle = None

    def __enter__(self) -> "TrialLog":
        if self.path is not None:
            _remove_previous_run(self.path.parent)
            self._handle = open(self.path, "w", encoding="utf-8")
        return self

    def append(self, trials: Sequence[Trial]) -> None:
        if self._handle is not None:
            self._handle.write("".join(json.dumps(to_plain(t.to_dict()), sort_keys=True, allow_nan=False) + "\n"
                                       for t in trials))
            self._handle.flush()

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()


def _remove_previous_run(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for path in [out / REPORT_JSON, out / REPORT_HTML, *sorted((out / FAILURES).glob("*.png"))]:
        path.unlink(missing_ok=True)


def level_table(cfg, trials: Sequence[Trial], confidence: float) -> Dict[str, List[dict]]:
    """Accuracy per level of every measured factor (levels in the universe's order;
    levels never seen have n 0)."""
    levels, _ = World.of(cfg).factor_levels
    table = {}
    for factor, names in levels.items():
        counts = {name: [0, 0] for name in names}
        for trial in trials:
            level = trial.factors.get(factor)
            if trial.correct is None:
                continue
            if level is not None:
                entry = counts.setdefault(level, [0, 0])
                entry[0] += 1
                entry[1] += trial.correct
        table[factor] = [summary_entry(n, c, confidence, {"level": name}) for name, (n, c) in counts.items()]
    return table


def model_input(cfg, settings: ModelSettings) -> dict:
    """What the model was shown and how its scores were read (the report's ``input``):
    ``{"kind": "crop", "crop_size", "crop_margin", "scores"}`` for a classifier on
    crops, ``{"kind": "image", "width", "height"}`` (and ``"scores"`` for a classifier)
    otherwise."""
    probe = cfg.probe
    if probe.task == "classification" and probe.input == "crop":
        return {"kind": "crop", **settings.to_dict()}
    shown = {"kind": "image", "width": int(cfg.width), "height": int(cfg.height)}
    return shown if probe.task == "detection" else {**shown, "scores": settings.scores}


def build_report(cfg, model_name: str, stats: TupleStats, trials: Sequence[Trial], failures: Sequence[Trial],
                 history: List[dict], local: dict | None, skipped: Sequence[Skip] = (),
                 shown: Optional[dict] = None) -> dict:
    """The report dict (see the module docstring); ``skipped``: the directed scenes that
    could not be placed; ``shown``: :func:`model_input`."""
    probe = cfg.probe
    sweep = [t for t in trials if t.phase == "sweep"]
    return {
        "schema": SCHEMA,
        "title": f"scenegen probe: {model_name}",
        "model": model_name,
        "task": probe.task,
        "input": shown,
        "strategy": probe.strategy,
        "budget": int(probe.budget),
        "renders": len(trials),
        "skipped": [s.to_dict() for s in skipped],
        "seed": int(cfg.seed),
        "strength": int(probe.strength),
        "confidence": float(probe.confidence),
        "factors": list(probe.factors),
        "overall": summary_entry(stats.n, stats.correct, stats.confidence),
        "levels": level_table(cfg, sweep, stats.confidence),
        "strengths": [stats.cells(t) for t in range(1, stats.strength + 1)],
        "tuples": [stats.entry(k) for k in stats.ranked()[:MAX_TUPLES]],
        "findings": [stats.entry(k) for k in stats.findings(MAX_FINDINGS)],
        "failures": [t.to_dict() for t in failures],
        "local_search": local,
        "history": history,
    }


def _pct(value) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def _ci(entry: Mapping) -> str:
    return "" if not entry.get("ci") else f"[{100 * entry['ci'][0]:.1f}, {100 * entry['ci'][1]:.1f}]"


def format_summary(report: Mapping, rows: int = 10) -> str:
    """A terminal summary: overall accuracy, mean vs min over cells per strength, the
    findings (or the worst tuples), the worst level of each factor, the local search."""
    overall = report["overall"]
    lines = [
        f"{report['title']} ({report['task']}, strategy {report['strategy']}, {report['renders']} of "
        f"{report['budget']} renders, seed {report['seed']})",
    ]
    if report.get("input"):
        lines.append(f"the model saw {input_text(report['input'])}")
    lines += [
        f"overall accuracy {_pct(overall['accuracy']).strip()} {_ci(overall)} on {overall['n']} directed "
        f"scene{'' if overall['n'] == 1 else 's'}",
        *_skipped_lines(report.get("skipped") or []),
        "",
        "strength  cells  overall  mean over cells  min cell",
    ]
    for cell in report["strengths"]:
        worst = cell["min"]
        where = f"{_pct(worst['accuracy'])} {key_text(tuple(worst['tuple'].items()))} (n={worst['n']})" if worst else "-"
        lines.append(f"{cell['strength']:>8}  {cell['cells']:>5}  {_pct(cell['overall'])}  {_pct(cell['mean']):>15}  {where}")
    findings = report["findings"]
    title = ("worst tuples, significantly below the other tuples of their size (each explained by no other):" if findings
             else "no tuple is significantly below the other tuples of its size; the worst tuples:")
    lines += ["", title, " accuracy  95% interval       n  tuple".replace("95", f"{round(100 * report['confidence'])}")]
    for entry in (findings or report["tuples"])[:rows]:
        lines.append(f"  {_pct(entry['accuracy'])}  {_ci(entry):<16} {entry['n']:>4}  {key_text(tuple(entry['tuple'].items()))}")
    strength = report["strength"]
    cells = [e for e in report["tuples"] if len(e["tuple"]) == strength][:rows]
    if strength > 1 and cells:
        lines += ["", f"the {len(cells)} worst {strength}-tuples:"]
        for entry in cells:
            lines.append(f"  {_pct(entry['accuracy'])}  {_ci(entry):<16} {entry['n']:>4}  {key_text(tuple(entry['tuple'].items()))}")
    lines += ["", "worst level per factor:"]
    for factor, entries in report["levels"].items():
        seen = [e for e in entries if e["n"]]
        if len(seen) > 1:
            worst = min(seen, key=lambda e: (e["accuracy"], -e["n"]))
            best = max(seen, key=lambda e: (e["accuracy"], e["n"]))
            lines.append(f"  {factor:<10} {worst['level']} {_pct(worst['accuracy']).strip()} (n={worst['n']})   "
                         f"best {best['level']} {_pct(best['accuracy']).strip()} (n={best['n']})")
    local = report.get("local_search")
    if local:
        lines += ["", f"local search in {key_text(tuple(local['tuple'].items()))}: score {local['start']['score']:.3g} -> "
                  f"{local['best']['score']:.3g} in {local['renders']} renders ({local['failures']} failures; "
                  f"not counted in the accuracies above)"
                  + (f"; changes: {local['best']['change']}" if local["best"].get("change") else "")]
    return "\n".join(lines)


def _skipped_lines(skipped: Sequence[Mapping]) -> List[str]:
    """The summary's lines on the scenes that could not be placed (none: no lines)."""
    if not skipped:
        return []
    lines = [f"{len(skipped)} directed scene{'' if len(skipped) == 1 else 's'} could not be placed and "
             f"{'was' if len(skipped) == 1 else 'were'} skipped (not counted in the budget):"]
    for skip in skipped[:SKIPS_SHOWN]:
        lines.append(f"  scene {skip['index']} {key_text(tuple(skip['requested'].items()))}: {skip['error']}")
    if len(skipped) > SKIPS_SHOWN:
        lines.append(f"  ... and {len(skipped) - SKIPS_SHOWN} more (probe.json lists them all)")
    return lines


def write_outputs(out, report: dict, thumbnails: Mapping[int, bytes]) -> Path:
    """Write ``failures/<id>.png``, ``probe.html`` and, last, ``probe.json`` into ``out``
    (each file atomically; ``trials.jsonl`` is :class:`TrialLog`'s). Returns the folder."""
    from .html import write_probe_html  # noqa: PLC0415 (the page's code is only needed here)

    out = Path(out)
    (out / FAILURES).mkdir(parents=True, exist_ok=True)
    for trial_id, png in sorted(thumbnails.items()):
        atomic_write_bytes(out / FAILURES / f"{trial_id:06d}.png", png)
    write_probe_html(out / REPORT_HTML, report, thumbnails)
    write_json(out / REPORT_JSON, report)
    return out
