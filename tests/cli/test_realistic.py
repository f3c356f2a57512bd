"""preset=realistic end to end: a dataset is written, the same bytes with one worker or
two, its scenes record their environment, effects, texture sets and photographs, and
coverage counts the new factors; a covering design over them is realized."""

import json

import numpy as np
import pytest
from PIL import Image

import scenegen
from scenegen import load_config
from scenegen.dataset.layout import COVERAGE, RECORD_FOLDER

pytestmark = pytest.mark.render


def test_generate_realistic_tracks_the_look_factors(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.full((40, 60, 3), 120, np.uint8)).save(photos / "street.jpg")
    tracked = "[category,pose,context,occlusion,environment,effects,background]"
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        cfg = load_config([f"out={out}", "n=4", "width=48", "height=36", "preset=realistic", "progress=false",
                           f"background.images={photos}", f"factors.tracked={tracked}", f"workers={workers}"])
        scenegen.generate(cfg, progress=False)
        outs.append(out)
    # maps, texture sets, photographs and camera effects (noise, JPEG) are drawn per scene
    # from its own streams: one worker and two write the same bytes
    files = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file())
    assert all((outs[0] / f).read_bytes() == (outs[1] / f).read_bytes() for f in files)
    records = [json.loads(path.read_text()) for path in sorted((out / RECORD_FOLDER).glob("*.json"))]
    coverage = json.loads((out / COVERAGE).read_text())
    text = json.dumps(coverage)
    for factor in ("environment", "effects", "background"):
        assert factor in text
    assert "street" in text and "clear-noon" in text
    assert len(records) == 4 and all({"environment", "effects", "background", "surfaces"} <= set(r["scene"])
                                     for r in records)


def test_a_covering_design_over_environments_and_effects_is_realized(tmp_path):
    cfg = load_config([f"out={tmp_path}", "width=48", "height=36", "preset=realistic", "progress=false",
                       "strategy=covering", "strength=2", "design_factors=[category,environment,effects]",
                       "placement.objects=[1,1]"])
    scenegen.generate(cfg, progress=False)
    report = scenegen.coverage_report(str(tmp_path), strength=2, factors=["environment", "effects"], format="dict")
    assert report["covered"] == report["tuples"] > 0 and not report["missing"]

