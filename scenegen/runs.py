"""A per-item function evaluated once per run of equal items.

A rendered layer repeats itself along its rows: a flat face has one normal, a wall one
colour. Where a function of each pixel alone is costly in NumPy (several passes of
float64 arithmetic), :func:`on_runs` evaluates it on the first pixel of each run of equal
pixels (in row-major order) and repeats the results. The values are the function's own,
bit for bit: equal inputs give equal outputs. In the id pass's normals of flat 320x240
scenes, 2% of the pixels (0.3-4.3%) start a run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# above this share of items starting a run, the function runs on every item instead
MOST_RUNS = 0.25


def byte_columns(rows: np.ndarray) -> list[np.ndarray]:
    """The (N,) columns of ``rows`` ((N, ...) of any dtype) as unsigned integers of the
    rows' bytes (4 bytes a column where the row's size allows, else 1): two rows are
    the same bytes when every column is equal at them."""
    data = np.ascontiguousarray(rows).reshape(len(rows), -1)
    raw = data.view(np.uint8).reshape(len(rows), -1)
    if raw.shape[1] % 4 == 0:
        raw = raw.view(np.uint32)
    return [raw[:, k] for k in range(raw.shape[1])]


def run_starts(keys: Sequence[np.ndarray]) -> np.ndarray:
    """(R,) int64 ascending indices where a run of consecutive items with equal ``keys``
    starts (item 0 first); ``keys``: (N,) arrays, N >= 1, one value each per item."""
    first = keys[0]
    changed = np.empty(len(first), dtype=bool)
    changed[0] = True
    np.not_equal(first[1:], first[:-1], out=changed[1:])
    for key in keys[1:]:
        changed[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(changed)


def on_runs(function: Callable[..., np.ndarray], keys: Sequence[np.ndarray], *items: np.ndarray) -> np.ndarray:
    """``function(*items)``, evaluated once per run of consecutive items with equal ``keys``.

    Args:
        function: of (K, ...) arrays, the ``items`` at K indices, to a (K, ...) array
            whose row k depends only on the items' rows k.
        keys: (N,) arrays that tell the items apart: items equal in every key give
            ``function`` inputs it gives the same row (:func:`byte_columns` of the items
            are always such keys).
        items: (N, ...) arrays, N >= 1.

    Where runs do not shorten the work (more than ``MOST_RUNS`` of the items start one),
    ``function`` runs on all items at once.
    """
    count = len(items[0])
    starts = run_starts(keys)
    if len(starts) > MOST_RUNS * count:
        return function(*items)
    values = function(*(item[starts] for item in items))
    return repeat_rows(values, np.diff(starts, append=count))


def repeat_rows(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``np.repeat(values, counts, axis=0)`` ((K, ...) values, (K,) counts), a column at a
    time: NumPy repeats items of 1, 2, 4 or 8 bytes several times faster than rows of
    3 (uint8 colours) or 12 (float32 vectors)."""
    if values.ndim == 1:
        return np.repeat(values, counts)
    columns = values.reshape(len(values), -1)
    repeated = np.empty((int(counts.sum()), columns.shape[1]), dtype=values.dtype)
    for k in range(columns.shape[1]):
        repeated[:, k] = np.repeat(columns[:, k], counts)
    return repeated.reshape(len(repeated), *values.shape[1:])
