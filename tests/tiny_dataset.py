"""A tiny finished dataset (3 scenes of 48x32) for the tests that damage one: import the
fixtures ``tiny_dataset`` (made once per module, never changed) and ``dataset_copy`` (a
copy, the test's own to change) into a test module."""

import shutil
from pathlib import Path

import pytest

from scenegen import load_config
from scenegen.dataset.generate import generate

TINY = ["n=3", "width=48", "height=32", "progress=false"]


def make_tiny(out) -> None:
    """Generate (or resume) the tiny dataset in ``out``."""
    generate(load_config([f"out={out}", *TINY]), progress=False)


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "d"
    make_tiny(out)
    return out


@pytest.fixture
def dataset_copy(tiny_dataset, tmp_path) -> Path:
    return Path(shutil.copytree(tiny_dataset, tmp_path / "d", symlinks=True))
