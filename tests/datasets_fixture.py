"""Small finished datasets for the exporter tests (webdataset, hf, bop, coco).

Import the fixtures you need into a test module:

- ``small_dataset``: each module gets its own folder, so one module's exports cannot
  change another's input; export into it freely.
- ``every_format`` and ``every_format_split``: a dataset written with every format
  (``format=[webdataset,hf,bop]``), without and with a held-out split, made once per
  test session and shared by every module that uses it: read them, never write into
  them (copy one to change it).
"""

from __future__ import annotations

import pytest

N_SCENES = 6
WIDTH, HEIGHT = 96, 72
EVERY_FORMAT = ("format=[webdataset,hf,bop]", "width=64", "height=48")
# one context held out: every scene in a room goes to test, and the split's guarantees
# make sure both splits have scenes (scenes are added when needed)
HELD_OUT = "split.held_out=[{context: room}]"

_SHARED: dict = {}  # overrides -> folder, for the whole session


def make_dataset(out, *overrides: str) -> str:
    """Generate ``N_SCENES`` scenes of ``WIDTH`` x ``HEIGHT`` into ``out`` (later overrides win)."""
    import scenegen

    cfg = scenegen.load_config([f"out={out}", f"n={N_SCENES}", f"width={WIDTH}", f"height={HEIGHT}", *overrides])
    scenegen.generate(cfg, progress=False)
    return str(out)


def shared_dataset(tmp_path_factory, *overrides: str) -> str:
    """The session's one dataset made with ``overrides`` (made on first use)."""
    if overrides not in _SHARED:
        _SHARED[overrides] = make_dataset(tmp_path_factory.mktemp("shared"), *overrides)
    return _SHARED[overrides]


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    """Path (str) of a finished 6-scene 96x72 dataset folder, this module's own."""
    return make_dataset(tmp_path_factory.mktemp("dataset"))


@pytest.fixture(scope="module")
def every_format(tmp_path_factory):
    """Path (str) of the session's 6-scene 64x48 dataset with every format; read only."""
    return shared_dataset(tmp_path_factory, *EVERY_FORMAT)


@pytest.fixture(scope="module")
def every_format_split(tmp_path_factory):
    """Like ``every_format``, with a held-out split (``splits.json``); read only."""
    return shared_dataset(tmp_path_factory, *EVERY_FORMAT, HELD_OUT)
