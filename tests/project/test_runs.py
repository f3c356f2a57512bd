"""A per-item function evaluated once per run of equal items (scenegen.runs): the
function's own values, bit for bit, wherever the runs start."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen import runs
from scenegen.runs import byte_columns, on_runs, repeat_rows, run_starts

DTYPES = [np.uint8, np.uint16, np.int32, np.float32, np.float64]


def items_with_runs(seed: int, count: int, width: int, dtype, distinct: int) -> np.ndarray:
    """(count, width) items drawn from ``distinct`` random rows, in runs of 1-40."""
    rng = np.random.default_rng(seed)
    rows = (rng.normal(size=(distinct, width)) * 50).astype(dtype)
    lengths = rng.integers(1, 41, size=count)
    picks = rng.integers(0, distinct, size=count)
    return np.repeat(rows[picks], lengths, axis=0)[:count]


def costly(items: np.ndarray) -> np.ndarray:
    """A per-row function of float arithmetic whose value rounds differently for
    nearly equal inputs: (K, W) -> (K, 3) float32."""
    work = items.astype(np.float64).reshape(len(items), -1)
    total = np.sqrt(np.abs(work).sum(axis=1)) * 1.1 + np.sin(work[:, 0])
    return np.stack([total, total * 0.3, work[:, -1] / 7.0], axis=1).astype(np.float32)


def test_run_starts_are_where_an_item_differs_from_the_one_before():
    keys = [np.array([3, 3, 3, 4, 4, 3, 3]), np.array([0, 0, 1, 1, 1, 1, 1], dtype=bool)]
    np.testing.assert_array_equal(run_starts(keys), [0, 2, 3, 5])
    np.testing.assert_array_equal(run_starts([np.array([9])]), [0])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.integers(1, 5), st.sampled_from(DTYPES), st.integers(1, 30))
def test_on_runs_gives_the_functions_values_bit_for_bit(seed, count, width, dtype, distinct):
    items = items_with_runs(seed, count, width, dtype, distinct)
    got = on_runs(costly, byte_columns(items), items)
    expected = costly(items)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


def test_the_function_sees_one_item_a_run_until_runs_stop_shortening_the_work():
    seen = []

    def counting(items):
        seen.append(len(items))
        return items * 2

    long_runs = np.repeat(np.arange(10, dtype=np.int32), 100)  # 10 runs of 1000 items
    np.testing.assert_array_equal(on_runs(counting, [long_runs], long_runs), long_runs * 2)
    alternating = np.arange(1000, dtype=np.int32) % 2  # every item starts a run
    np.testing.assert_array_equal(on_runs(counting, [alternating], alternating), alternating * 2)
    assert seen == [10, 1000]
    assert runs.MOST_RUNS < 1


def test_byte_columns_tell_apart_what_compares_equal():
    """-0.0 == 0.0 and NaN != NaN as numbers; as bytes -0.0 and 0.0 differ and a NaN
    equals itself, so a function that tells the zeros apart is still given each."""
    items = np.array([[0.0, 1.0], [-0.0, 1.0], [np.nan, 1.0], [np.nan, 1.0]], dtype=np.float32)
    np.testing.assert_array_equal(run_starts(byte_columns(items)), [0, 1, 2])
    got = on_runs(lambda x: np.copysign(1.0, x), byte_columns(items), items)
    np.testing.assert_array_equal(got[:2, 0], [1.0, -1.0])
    colours = np.zeros((5, 3), dtype=np.uint8)
    assert len(byte_columns(colours)) == 3 and byte_columns(np.zeros((5, 4), np.uint8))[0].dtype == np.uint32


@pytest.mark.parametrize("shape", [(7,), (7, 3), (7, 2, 2), (7, 12)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_repeat_rows_is_numpys_repeat_along_the_first_axis(shape, dtype):
    rng = np.random.default_rng(len(shape))
    values = (rng.random(shape) * 200).astype(dtype)
    counts = rng.integers(0, 5, size=shape[0])
    expected = np.repeat(values, counts, axis=0)
    got = repeat_rows(values, counts)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
