"""Shared fixtures. Configs are composed once per session: Hydra composition is the slow
part of building one, and configs are read-only."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

# Under pytest-xdist every test process renders with llvmpipe, which starts one thread per
# core: give each its share of the cores, as scenegen's own worker processes get theirs
# (set before any GL context exists; processes the tests start inherit it).
if os.environ.get("PYTEST_XDIST_WORKER_COUNT") and "LP_NUM_THREADS" not in os.environ:
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    os.environ["LP_NUM_THREADS"] = str(max(1, _cores // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))

from scenegen import load_config
from scenegen.world.dictionary import ObjectDictionary

_OWN_CACHE: str | None = None  # the cache folder this process made for the run, removed at its end


def pytest_configure(config):
    """What scenegen keeps across processes (its cache folder) goes into a folder of the
    test run, not the user's ``~/.cache/scenegen``: the suite writes hundreds of configs
    and shapes there. The run's first process makes it; pytest-xdist's workers and the
    processes the tests start inherit it. A ``SCENEGEN_CACHE`` already set is used as
    it is (a warm folder makes the suite faster)."""
    global _OWN_CACHE
    if not os.environ.get("SCENEGEN_CACHE"):
        _OWN_CACHE = os.environ["SCENEGEN_CACHE"] = tempfile.mkdtemp(prefix="scenegen-test-cache-")


def pytest_unconfigure(config):
    if _OWN_CACHE is not None:
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)

# fixtures shared by several test modules, defined beside the helpers they use
pytest_plugins = ("datasets_fixture", "tiny_dataset", "scaled_runs")


@pytest.fixture(scope="session")
def cfg():
    return load_config()


@pytest.fixture(scope="session")
def dictionary(cfg):
    return ObjectDictionary.from_config(cfg)


@pytest.fixture(scope="session")
def small_cfg():
    """A small image size so rendering tests stay fast."""
    return load_config(["width=96", "height=72"])


@pytest.fixture(scope="session")
def renderer(dictionary):
    from scenegen.render.raster import Renderer

    with Renderer(dictionary) as r:
        yield r
