"""A dataset mixing the rasterizer and the path tracer (render.engine_mix): the path
traced scenes' colour images come from Mitsuba, every label is the raster's, and the
files are the same for any worker count."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from scenegen.cli import main

pytest.importorskip("mitsuba")
pytestmark = pytest.mark.render

SMALL = ["n=4", "width=64", "height=48", "progress=false", "render.spp=4"]
MIX = "++render.engine_mix={raster: 1, pathtraced: 1}"


def _files(folder) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix")
    for name, extra in (("raster", []), ("mixed", [MIX]), ("mixed2", [MIX, "workers=2"])):
        assert main(["generate", f"out={root / name}", *SMALL, *extra]) == 0
    return root


def test_path_traced_scenes_differ_only_in_their_colour_image(datasets):
    """Same layers but rgb; same labels but the engine level; raster scenes of the mix are
    the raster dataset's, byte for byte."""
    raster, mixed = datasets / "raster", datasets / "mixed"
    engines = []
    for index in range(4):
        name = f"{index:06d}"
        plain, record = (json.loads((d / "scenes" / f"{name}.json").read_text()) for d in (raster, mixed))
        engine = record["scene"]["engine"]
        engines.append(engine)
        for ours, theirs in zip(record["objects"], plain["objects"]):
            assert ours["factors"].pop("engine") == engine
            assert ours == theirs
        for layer in ("depth", "instances", "semantic", "parts"):
            assert (mixed / layer / f"{name}.png").read_bytes() == (raster / layer / f"{name}.png").read_bytes()
        ours, theirs = (np.asarray(Image.open(d / "images" / f"{name}.png")) for d in (mixed, raster))
        assert ours.shape == theirs.shape
        assert (engine == "raster") == np.array_equal(ours, theirs)
    assert set(engines) == {"raster", "pathtraced"}


def test_two_workers_write_the_same_bytes(datasets):
    assert _files(datasets / "mixed") == _files(datasets / "mixed2")

