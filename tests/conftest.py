"""Shared fixtures. Configs are composed once per session: Hydra composition is the slow
part of building one, and configs are read-only."""

from __future__ import annotations

import pytest

from scenegen.config import load_config
from scenegen.dictionary import ObjectDictionary


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
    from scenegen.render import Renderer

    with Renderer(dictionary) as r:
        yield r
