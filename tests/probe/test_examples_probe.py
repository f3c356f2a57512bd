"""The probe demo (examples/probe) runs its steps end to end on a tiny dataset: train
the classifier, load it the way the probe does, evaluate it and probe it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

import scenegen
from scenegen.probe import load_model, run_probe

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, env=None):
    run = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_demo_trains_a_classifier_the_probe_can_load(tmp_path, monkeypatch):
    data, weights = tmp_path / "data", tmp_path / "classifier.npz"
    _run("-m", "scenegen", "generate", f"out={data}", "n=24", "width=96", "height=96", "progress=false")
    printed = _run("-m", "examples.probe.train", str(data), "--out", str(weights), "--epochs", "3", "--hidden", "16")
    assert "validation accuracy" in printed and weights.is_file()
    table = _run("-m", "examples.probe.evaluate", str(data), "--weights", str(weights))
    assert "accuracy: all" in table

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SCENEGEN_PROBE_WEIGHTS", str(weights))
    predict = load_model("examples.probe.classifier:predict")
    crops = np.zeros((3, 64, 64, 3), dtype=np.uint8)
    probabilities = predict(crops)
    assert probabilities.shape == (3, len(scenegen.load_config().categories)) and np.allclose(probabilities.sum(axis=1), 1.0)

    cfg = scenegen.load_config(["width=96", "height=96", "probe.budget=16", "probe.factors=[category,context]",
                                f"probe.out={tmp_path / 'probe'}"])
    result = run_probe(cfg, predict, progress=False)
    assert result.report["renders"] == 16 and result.report["overall"]["n"] > 0
    assert (tmp_path / "probe" / "probe.html").is_file()
