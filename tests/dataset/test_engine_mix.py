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

SMALL = ["n=2", "width=64", "height=48", "progress=false", "render.spp=4"]  # scene 0 path traced, 1 raster
MIX = "++render.engine_mix={raster: 1, pathtraced: 1}"


def _files(folder) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_path_traced_scenes_differ_only_in_their_colour_image_and_workers_agree(tmp_path):
    """Same layers but rgb; same labels but the engine level; raster scenes of the mix are
    the raster dataset's, byte for byte; two workers write the mixed dataset's bytes
    (one test: the three datasets cost a dozen seconds, on one xdist worker)."""
    for name, extra in (("raster", []), ("mixed", [MIX]), ("mixed2", [MIX, "workers=2"])):
        assert main(["generate", f"out={tmp_path / name}", *SMALL, *extra]) == 0
    raster, mixed = tmp_path / "raster", tmp_path / "mixed"
    engines = []
    for index in range(2):
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
    assert _files(mixed) == _files(tmp_path / "mixed2")



TRACED = ["n=3", "width=48", "height=32", "progress=false", "render.engine=pathtraced", "render.spp=2"]


@pytest.fixture(scope="module")
def traced_reference(tmp_path_factory):
    """The files of a small path-traced dataset, written in one uninterrupted run."""
    out = tmp_path_factory.mktemp("traced") / "d"
    assert main(["generate", f"out={out}", *TRACED]) == 0
    return _files(out)


@pytest.mark.parametrize("writes_before_kill", [5, 17])
def test_a_path_traced_run_killed_between_two_writes_resumes_to_the_same_bytes(tmp_path, monkeypatch,
                                                                              traced_reference, writes_before_kill):
    from crash import Killed, fail_replace_after

    out = tmp_path / "d"
    fail_replace_after(monkeypatch, writes_before_kill)
    with pytest.raises(Killed):
        main(["generate", f"out={out}", *TRACED])
    monkeypatch.undo()
    assert not (out / "manifest.json").exists()
    assert main(["generate", f"out={out}", *TRACED]) == 0
    assert _files(out) == traced_reference


def test_a_path_traced_dataset_on_dask_has_the_same_bytes(tmp_path, traced_reference):
    pytest.importorskip("distributed")
    out = tmp_path / "d"
    assert main(["generate", f"out={out}", *TRACED, "executor=dask", "workers=2"]) == 0
    assert _files(out) == traced_reference
