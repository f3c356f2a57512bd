"""The probe's report: one JSON-ready dict, its terminal summary, and the files.

The report's keys (``schema`` 1) are documented in :mod:`scenegen.probe.html`, which
draws it. Per-level and per-tuple accuracies count the directed ("sweep") scenes only;
the local search's scenes are chosen to fail and are reported apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

from ..factors import universe
from ..fileio import atomic_write_bytes, to_plain, write_json
from .evaluate import Trial
from .stats import TupleStats, key_text, summary_entry

SCHEMA = 1
MAX_TUPLES = 200  # tuples listed in the report, worst first
MAX_FINDINGS = 20
REPORT_JSON = "probe.json"
REPORT_HTML = "probe.html"
TRIALS = "trials.jsonl"


def level_table(cfg, trials: Sequence[Trial], confidence: float) -> Dict[str, List[dict]]:
    """Accuracy per level of every measured factor (levels in the universe's order;
    levels never seen have n 0)."""
    levels, _ = universe(cfg)
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


def build_report(cfg, model_name: str, stats: TupleStats, trials: Sequence[Trial], failures: Sequence[Trial],
                 history: List[dict], local: dict | None) -> dict:
    """The report dict (see the module docstring)."""
    probe = cfg.probe
    sweep = [t for t in trials if t.phase == "sweep"]
    return {
        "schema": SCHEMA,
        "title": f"scenegen probe: {model_name}",
        "model": model_name,
        "task": probe.task,
        "strategy": probe.strategy,
        "budget": int(probe.budget),
        "renders": len(trials),
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
        f"overall accuracy {_pct(overall['accuracy']).strip()} {_ci(overall)} on {overall['n']} directed "
        f"scene{'' if overall['n'] == 1 else 's'}",
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
                  f"{local['best']['score']:.3g} in {local['renders']} renders ({local['failures']} failures)"
                  + (f"; changes: {local['best']['change']}" if local["best"].get("change") else "")]
    return "\n".join(lines)


def write_outputs(out, report: dict, trials: Sequence[Trial], thumbnails: Mapping[int, bytes]) -> Path:
    """Write ``probe.json``, ``trials.jsonl``, ``probe.html`` and ``failures/<id>.png``
    into ``out`` (each file atomically). Returns the folder."""
    from .html import write_probe_html  # noqa: PLC0415 (the page's code is only needed here)

    out = Path(out)
    (out / "failures").mkdir(parents=True, exist_ok=True)
    for trial_id, png in sorted(thumbnails.items()):
        atomic_write_bytes(out / "failures" / f"{trial_id:06d}.png", png)
    lines = "".join(json.dumps(to_plain(t.to_dict()), sort_keys=True, allow_nan=False) + "\n" for t in trials)
    atomic_write_bytes(out / TRIALS, lines.encode("utf-8"))
    write_probe_html(out / REPORT_HTML, report, thumbnails)
    write_json(out / REPORT_JSON, report)
    return out
