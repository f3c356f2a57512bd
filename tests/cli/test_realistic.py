"""preset=realistic end to end: a dataset is written, its scenes record their
environment, effects, texture sets and photographs, and coverage counts the new
factors; a covering design over them is realized."""

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
    out = tmp_path / "out"
    tracked = "[category,pose,context,occlusion,environment,effects,background]"
    cfg = load_config([f"out={out}", "n=4", "width=48", "height=36", "preset=realistic", "progress=false",
                       f"background.images={photos}", f"factors.tracked={tracked}"])
    scenegen.generate(cfg, progress=False)
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
