"""split_corners (vertices split where face corners carry different keys): the packed
one-dimensional search gives exactly what the row-wise ``np.unique(axis=0)`` gives."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen.world.shapes import split_corners


def by_rows(faces, keys):
    """The definition: unique (vertex, key) rows in lexicographic order, and each corner's row."""
    corners = np.column_stack([np.asarray(faces).ravel(), np.asarray(keys).ravel()])
    unique, inverse = np.unique(corners, axis=0, return_inverse=True)
    return unique[:, 0], unique[:, 1], inverse.reshape(-1, 3)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 300), st.integers(1, 200), st.integers(-10**6, 10), st.integers(0, 40), st.integers(0, 2**31))
def test_packed_split_equals_the_row_wise_definition(faces_n, vertices_n, low, spread, seed):
    rng = np.random.default_rng(seed)
    faces = rng.integers(0, vertices_n, (faces_n, 3))
    keys = rng.integers(low, low + spread + 1, (faces_n, 3))
    source, key, new_faces = split_corners(faces, keys)
    expected = by_rows(faces, keys)
    for got, want in zip((source, key, new_faces), expected):
        np.testing.assert_array_equal(got, want)
        assert got.shape == want.shape
    np.testing.assert_array_equal(source[new_faces], faces)  # the same triangles
    np.testing.assert_array_equal(key[new_faces], keys)
