"""Coverage of factor levels and factor combinations over a dataset's objects.

Every object record carries one level for each factor (``category``, ``pose``,
``elevation``, ``context``, ``occlusion``, ``color``, ``material``, ...). A
:class:`CoverageTracker` counts how often each level occurs and how often each
combination of a chosen subset of factors (by default category x pose x context) was
seen, against the *feasible* combinations (a sphere, for instance, has only pose
"any"). It answers: which tuples are covered, which are missing, and what fraction is
covered. Trackers of shards merge exactly, in any order, and round-trip through
``coverage.json`` (:meth:`CoverageTracker.to_dict` / :meth:`CoverageTracker.from_dict`).

Ordering: factors keep the order of ``levels``; levels and tuples are listed in
"universe order", i.e. ordered by the position of each level in its factor's list.

Adding is cheap: an object is counted under its full signature (one level per factor)
in a single dict; levels are checked only the first time a signature is seen, and
the per-level and per-tuple counts are derived from the signature counts on demand.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Iterable, Mapping, Sequence

from .errors import CoverageError

COVERAGE_SCHEMA_VERSION = 1
DEFAULT_COMBINATION = ("category", "pose", "context")


def _names(values) -> str:
    return ", ".join(repr(v) for v in values)


class CoverageTracker:
    """Counts factor levels and combinations of objects.

    Args:
        levels: factor -> every level it can take, in display order. Every object
            added must carry exactly these factors.
        feasible: the combination tuples (levels in ``combination`` order) that can
            exist; ``None`` means the full cartesian product of the combination
            factors' levels.
        combination: the factors whose joint levels are tracked as tuples.

    Raises:
        CoverageError: empty or duplicate levels, a combination factor not in
            ``levels``, or a feasible tuple of the wrong length or with unknown levels.
    """

    def __init__(
        self,
        levels: Mapping[str, Sequence[str]],
        feasible: Iterable[Sequence[str]] | None = None,
        combination: Sequence[str] = DEFAULT_COMBINATION,
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
                raise CoverageError(
                    f"combination factor {factor!r} is not a factor; valid: {_names(self._levels)}"
                )
        if "count" in self._combination:
            raise CoverageError("a combination factor may not be named 'count'")
        self._factors = tuple(self._levels)
        self._rank = {f: {lv: i for i, lv in enumerate(lvs)} for f, lvs in self._levels.items()}
        self._comb_index = tuple(self._factors.index(f) for f in self._combination)

        if feasible is None:
            tuples = list(itertools.product(*(self._levels[f] for f in self._combination)))
        else:
            tuples = sorted({tuple(t) for t in feasible}, key=self._tuple_rank)
        self._feasible = tuple(tuples)
        self._feasible_set = frozenset(tuples)

        # signature (one level per factor, in self._factors order) -> object count
        self._joint: dict[tuple, int] = {}
        # counts that came in without signatures (from_dict); zero otherwise
        self._base_levels = {f: dict.fromkeys(lv, 0) for f, lv in self._levels.items()}
        self._base_tuples = dict.fromkeys(self._feasible, 0)
        self._n_objects = 0
        self._n_scenes = 0
        self._cache: tuple[dict, dict] | None = None

    def _tuple_rank(self, t: Sequence[str]) -> tuple[int, ...]:
        if len(t) != len(self._combination):
            raise CoverageError(
                f"feasible tuple {tuple(t)} does not have one level per factor of "
                f"{self._combination}"
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

    # ----------------------------------------------------------------- adding
    def _key(self, factors: Mapping[str, str]) -> tuple:
        """The signature of one object's factors, validated on first sight."""
        try:
            key = tuple([factors[f] for f in self._factors])
        except KeyError:
            absent = [f for f in self._factors if f not in factors]
            raise CoverageError(
                f"object lacks factor(s) {_names(absent)}; every object needs "
                f"{_names(self._factors)}"
            ) from None
        if len(factors) != len(self._factors) or key not in self._joint:
            self._check(factors, key)
        return key

    def _check(self, factors: Mapping[str, str], key: tuple) -> None:
        for factor in factors:
            if factor not in self._levels:
                raise CoverageError(
                    f"unknown factor {factor!r} (level {factors[factor]!r}); "
                    f"valid factors: {_names(self._factors)}"
                )
        for factor, level in zip(self._factors, key):
            if level not in self._rank[factor]:
                raise CoverageError(
                    f"unknown level {level!r} of factor {factor!r}; "
                    f"valid levels: {_names(self._levels[factor])}"
                )
        t = tuple(key[i] for i in self._comb_index)
        if t not in self._feasible_set:
            raise CoverageError(
                f"infeasible {' x '.join(self._combination)} tuple {t}: it is not among "
                f"the {len(self._feasible)} feasible tuples"
            )

    def add(self, factors: Mapping[str, str]) -> None:
        """Count one object, given its factor levels (factor -> level).

        Raises:
            CoverageError (a ValueError): a missing or unknown factor, an unknown level
                (the message names both and lists the valid levels), or an infeasible
                tuple. Nothing is counted then.
        """
        key = self._key(factors)
        self._joint[key] = self._joint.get(key, 0) + 1
        self._n_objects += 1
        self._cache = None

    def add_record(self, record: Mapping[str, Any]) -> None:
        """Count every object of one scene record (``record["objects"][i]["factors"]``),
        hidden objects included, and count the scene. All or nothing: if one object is
        invalid, nothing of the record is counted."""
        keys = []
        for obj in record.get("objects", ()):
            try:
                keys.append(self._key(obj["factors"]))
            except CoverageError as exc:
                raise CoverageError(
                    f"scene {record.get('index')}, object {obj.get('instance_id')}: {exc}"
                ) from None
        for key in keys:
            self._joint[key] = self._joint.get(key, 0) + 1
        self._n_objects += len(keys)
        self._n_scenes += 1
        self._cache = None

    def merge(self, other: "CoverageTracker") -> "CoverageTracker":
        """A new tracker holding the counts of both. Exact and order-independent.

        Raises:
            CoverageError: the trackers' levels, combination or feasible tuples differ.
        """
        if not isinstance(other, CoverageTracker):
            raise TypeError(f"cannot merge a CoverageTracker with {type(other).__name__}")
        for what, mine, theirs in (
            ("levels", tuple(self._levels.items()), tuple(other._levels.items())),
            ("combination", self._combination, other._combination),
            ("feasible tuples", self._feasible, other._feasible),
        ):
            if mine != theirs:
                raise CoverageError(f"cannot merge trackers with different {what}")
        merged = copy.copy(self)  # shares the immutable universe
        merged._joint = dict(self._joint)
        for key, n in other._joint.items():
            merged._joint[key] = merged._joint.get(key, 0) + n
        merged._base_levels = {
            f: {lv: n + other._base_levels[f][lv] for lv, n in counts.items()}
            for f, counts in self._base_levels.items()
        }
        merged._base_tuples = {t: n + other._base_tuples[t] for t, n in self._base_tuples.items()}
        merged._n_objects = self._n_objects + other._n_objects
        merged._n_scenes = self._n_scenes + other._n_scenes
        merged._cache = None
        return merged

    # ---------------------------------------------------------------- queries
    def _derived(self) -> tuple[dict, dict]:
        """(level_counts, tuple_counts), computed from the signatures once per change."""
        if self._cache is None:
            levels = {f: dict(counts) for f, counts in self._base_levels.items()}
            tuples = dict(self._base_tuples)
            per_factor = [levels[f] for f in self._factors]
            index = self._comb_index
            for key, n in self._joint.items():
                for counts, level in zip(per_factor, key):
                    counts[level] += n
                tuples[tuple([key[i] for i in index])] += n
            self._cache = (levels, tuples)
        return self._cache

    @property
    def levels(self) -> dict[str, tuple[str, ...]]:
        """factor -> its levels (the universe), in order."""
        return dict(self._levels)

    @property
    def combination(self) -> tuple[str, ...]:
        return self._combination

    @property
    def feasible(self) -> tuple[tuple, ...]:
        """Every feasible tuple, in universe order."""
        return self._feasible

    @property
    def n_objects(self) -> int:
        return self._n_objects

    @property
    def n_scenes(self) -> int:
        return self._n_scenes

    @property
    def level_counts(self) -> dict[str, dict[str, int]]:
        """factor -> {level: objects}, every level of the universe (0 if unseen)."""
        return {f: dict(counts) for f, counts in self._derived()[0].items()}

    @property
    def tuple_counts(self) -> dict[tuple, int]:
        """feasible tuple -> objects, every feasible tuple (0 if unseen), universe order."""
        return dict(self._derived()[1])

    def covered(self) -> list[tuple]:
        """Feasible tuples seen at least once, in universe order."""
        return [t for t, n in self._derived()[1].items() if n]

    def missing(self) -> list[tuple]:
        """Feasible tuples never seen, in universe order (infeasible ones never appear)."""
        return [t for t, n in self._derived()[1].items() if not n]

    def coverage(self) -> float:
        """Covered / feasible tuples, in [0, 1]; 1.0 when there is no feasible tuple
        (nothing can be missing)."""
        if not self._feasible:
            return 1.0
        return len(self.covered()) / len(self._feasible)

    # ---------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
        """The ``coverage.json`` content: plain Python types, deterministic order."""
        level_counts, tuple_counts = self._derived()
        return {
            "schema_version": COVERAGE_SCHEMA_VERSION,
            "combination": list(self._combination),
            "levels": {f: list(lv) for f, lv in self._levels.items()},
            "level_counts": {f: dict(counts) for f, counts in level_counts.items()},
            "feasible": len(self._feasible),
            "covered": len(self.covered()),
            "coverage": self.coverage(),
            "counts": [
                {**dict(zip(self._combination, t)), "count": n} for t, n in tuple_counts.items()
            ],
            "missing": [list(t) for t in self.missing()],
            "n_objects": self._n_objects,
            "n_scenes": self._n_scenes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CoverageTracker":
        """Rebuild a tracker from :meth:`to_dict` output (e.g. a loaded coverage.json).

        The result gives the same ``to_dict()`` and merges exactly with live trackers.

        Raises:
            CoverageError: unknown schema version, or content that is not consistent.
        """
        if data.get("schema_version") != COVERAGE_SCHEMA_VERSION:
            raise CoverageError(
                f"coverage schema_version {data.get('schema_version')!r} is not supported; "
                f"expected {COVERAGE_SCHEMA_VERSION}"
            )
        try:
            combination = list(data["combination"])
            feasible = [tuple(c[f] for f in combination) for c in data["counts"]]
            tracker = cls(data["levels"], feasible, combination)
            tracker._base_levels = {
                f: {lv: int(data["level_counts"][f][lv]) for lv in lvs}
                for f, lvs in tracker._levels.items()
            }
            tracker._base_tuples = dict.fromkeys(tracker._feasible, 0)
            for c in data["counts"]:
                tracker._base_tuples[tuple(c[f] for f in combination)] += int(c["count"])
            tracker._n_objects = int(data["n_objects"])
            tracker._n_scenes = int(data["n_scenes"])
        except (KeyError, TypeError) as exc:
            raise CoverageError(f"malformed coverage data: missing or bad {exc}") from None
        totals = {sum(c.values()) for c in tracker._base_levels.values()}
        totals.add(sum(tracker._base_tuples.values()))
        if totals != {tracker._n_objects} or tracker.to_dict() != dict(data):
            raise CoverageError("coverage data is inconsistent (counts, totals or keys disagree)")
        return tracker

    # ---------------------------------------------------------------- display
    def format_table(self, width: int = 96, max_missing: int = 30) -> str:
        """A plain-text report for a terminal about ``width`` columns wide: totals,
        tuple coverage, per-factor level counts ("!" marks never-seen levels), a
        table of the first x last combination factor, and the missing tuples (at most
        ``max_missing`` lines)."""
        level_counts, tuple_counts = self._derived()
        comb = self._combination
        n_cov = len(self.covered())
        n_feas = len(self._feasible)
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
            col_ws = [
                max(len(str(c)), *(len(row[j]) for row in table)) for j, c in enumerate(col_levels)
            ]
            tw = max(len("total"), *(len(t) for t in totals))
            note = f"; covered/feasible {' x '.join(middle)}" if middle else ""
            lines += ["", f"Objects by {rows_f} x {cols_f} (objects{note}; - = infeasible)"]
            header = "  ".join(f"{str(c):>{w}}" for c, w in zip(col_levels, col_ws))
            lines.append(f"  {rows_f:<{rw}}  {header}  {'total':>{tw}}")
            for r, row, total in zip(row_levels, table, totals):
                body = "  ".join(f"{v:>{w}}" for v, w in zip(row, col_ws))
                lines.append(f"  {str(r):<{rw}}  {body}  {total:>{tw}}")

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
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return (
            f"CoverageTracker({' x '.join(self._combination)}: "
            f"{len(self.covered())}/{len(self._feasible)} covered, "
            f"{self._n_objects} objects, {self._n_scenes} scenes)"
        )
