"""A small finished dataset for the exporter tests (webdataset, hf, bop).

Import ``small_dataset`` into a test module; each module gets its own folder, so one
module's exports cannot change another's input.
"""

from __future__ import annotations

import pytest

N_SCENES = 6
WIDTH, HEIGHT = 96, 72


def make_dataset(out) -> str:
    import scenegen

    cfg = scenegen.load_config([f"out={out}", f"n={N_SCENES}", f"width={WIDTH}", f"height={HEIGHT}"])
    scenegen.generate(cfg, progress=False)
    return str(out)


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    """Path (str) of a finished 6-scene 96x72 dataset folder."""
    return make_dataset(tmp_path_factory.mktemp("dataset"))
