"""Scenes that cannot be placed: feasible directives are placed (the widened occluder
search), and a scene that still cannot be is skipped, counted and reported by generate,
fill, the covering strategy and the stream instead of stopping them."""

import json
import warnings
from pathlib import Path

import pytest

from scenegen import load_config
from scenegen.cli import main
from scenegen.dataset.generate import generate
from scenegen.dataset.stream import SkippedSceneWarning, iter_scenes
from scenegen.dataset.verify import verify_dataset
from scenegen.errors import PlacementError
from scenegen.fileio import read_json
from scenegen.labels.objects import object_labels
from scenegen.render.raster import Renderer
from scenegen.world.directives import Directive
from scenegen.world.sampler import Sampler

SMALL = ["width=48", "height=32", "progress=false"]


@pytest.fixture
def unplaceable(monkeypatch):
    """``unplaceable(indices)``: the sampler raises PlacementError (as it does after its
    bounded retries) for those scene indices, and samples the others as usual. Returns
    the list of indices it refused, in call order."""
    refused = []

    def patch(indices):
        real = Sampler.sample

        def sample(self, index, directive=None):
            if index in indices:
                refused.append(index)
                wanted = directive if isinstance(directive, Directive) else Directive.from_mapping(directive)
                raise PlacementError(f"could not place scene {index} (test)", directive=wanted.items() if wanted else (),
                                     context="room", rejections={"layout did not fit": 3})
            return real(self, index, directive)

        monkeypatch.setattr(Sampler, "sample", sample)
        return refused

    return patch


def snapshot(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".scenegen" not in p.parts}


@pytest.mark.render
def test_generate_skips_unplaceable_scenes_reports_them_and_resumes(tmp_path, unplaceable, capsys, monkeypatch):
    out = tmp_path / "d"
    args = ["generate", f"out={out}", "n=6", "format=[webdataset,hf]", *SMALL]
    refused = unplaceable({1, 4})
    assert main(args) == 0
    assert sorted(set(refused)) == [1, 4]
    err = capsys.readouterr().err
    assert "wrote 4 scenes" in err and "skipped 2 of 6 scenes that could not be placed" in err
    assert "scene 1: {no directive} in context 'room'" in err

    manifest = read_json(out / "manifest.json")
    assert manifest["n"] == 6
    assert [(s["index"], s["directive"], s["context"], s["rejections"]) for s in manifest["skipped"]] == [
        (1, {}, "room", {"layout did not fit": 3}), (4, {}, "room", {"layout did not fit": 3})]
    assert all("(test)" in s["reason"] for s in manifest["skipped"])
    assert sorted(int(p.stem) for p in (out / "scenes").glob("*.json")) == [0, 2, 3, 5]
    assert not any(name.startswith(("images/000001", "images/000004")) for name in manifest["files"])
    coco = read_json(out / "coco.json")
    assert sorted(image["id"] for image in coco["images"]) == [1, 3, 4, 6]  # index + 1
    assert read_json(out / "coverage.json")["n_scenes"] == 4
    rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert [row["index"] for row in rows] == [0, 2, 3, 5]
    assert verify_dataset(out) == []

    # the skip records stand for the scenes: a rerun does not try them again (the real
    # sampler would place them) and leaves the same bytes
    before = snapshot(out)
    monkeypatch.undo()
    assert main(args) == 0
    assert snapshot(out) == before


@pytest.mark.render
def test_a_run_whose_every_scene_is_unplaceable_fails_with_the_reason(tmp_path, unplaceable, capsys):
    unplaceable({0, 1, 2})
    assert main(["generate", f"out={tmp_path / 'd'}", "n=3", *SMALL]) == 2  # placement.* must change: input
    err = capsys.readouterr().err
    assert "none of the 3 scenes could be placed" in err and "could not place scene 0 (test)" in err
    assert "Traceback" not in err


@pytest.mark.render
def test_covering_rows_that_cannot_be_placed_are_skipped_with_their_directive(tmp_path, unplaceable):
    refused = unplaceable({0})
    manifest = generate(load_config([f"out={tmp_path / 'd'}", "strategy=covering", "design_factors=[category,context]",
                                     *SMALL]), progress=False)
    row = manifest["design"]["rows"][0]
    assert refused and manifest["skipped"][0]["index"] == 0
    assert manifest["skipped"][0]["directive"] == row
    assert verify_dataset(tmp_path / "d") == []


@pytest.mark.render
def test_fill_skips_an_unplaceable_row_and_goes_on(tmp_path, unplaceable):
    out = tmp_path / "d"
    generate(load_config([f"out={out}", "n=4", *SMALL]), progress=False)
    unplaceable({4})  # the first scene the fill adds
    manifest = generate(load_config([f"out={out}", "n=4", "strategy=fill", "budget=6", *SMALL]), progress=False)
    assert manifest["design"]["scenes_added"] == 6 and manifest["n"] == 10
    (skip,) = manifest["skipped"]
    assert skip["index"] == 4 and skip["directive"] == manifest["design"]["rows"][0]
    assert not (out / "scenes" / "000004.json").exists()
    assert verify_dataset(out) == []


def test_the_stream_leaves_an_unplaceable_scene_out_with_a_warning(unplaceable, monkeypatch):
    import scenegen.dataset.stream as stream

    monkeypatch.setattr(stream, "SceneWorker", _NoWorker)
    monkeypatch.setattr(stream, "_refuse_inherited_gl", lambda: None)

    def make_sample(worker, index, directive, layers):  # samples as the real one does, renders nothing
        worker.sampler.sample(index, directive)
        return {"index": index}

    monkeypatch.setattr(stream, "make_sample", make_sample)
    unplaceable({1})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        indices = [sample["index"] for sample in iter_scenes(load_config(SMALL[:2]), [0, 1, 2])]
    assert indices == [0, 2]
    assert [type(w.message) for w in caught] == [SkippedSceneWarning]
    assert "scene 1 skipped" in str(caught[0].message)


class _NoWorker:
    """A SceneWorker without a renderer (the stream test samples only)."""

    def __init__(self, cfg):
        self.sampler = Sampler(cfg)

    def close(self):
        pass


def test_placement_error_names_the_directive_and_the_context():
    cfg = load_config(["placement.attempts_per_scene=1", "placement.attempts_per_object=1", "placement.area=0.05",
                       "placement.objects=[5,5]"])
    with pytest.raises(PlacementError) as caught:
        Sampler(cfg).sample(0, {"category": "mug", "context": "studio", "occlusion": "partial"})
    error = caught.value
    assert "for directive {category: mug, context: studio, occlusion: partial} in context 'studio'" in str(error)
    assert error.directive == (("category", "mug"), ("context", "studio"), ("occlusion", "partial"))
    assert error.context == "studio" and sum(error.rejections.values()) >= 1


@pytest.mark.render
def test_a_feasible_directive_that_failed_is_placed_at_its_level():
    """The issue's example: {table, front-left, studio, heavy, matte} failed within the
    budget (no occluder of the pair hid enough of a table); the widened search (another
    entry of the occluder's slot, lower views, nearer the camera) places it, and the
    rendered labels show every requested level."""
    cfg = load_config(["seed=7", "width=96", "height=96"])
    sampler = Sampler(cfg)
    wanted = {"category": "table", "pose": "front-left", "context": "studio", "occlusion": "heavy", "material": "matte"}
    scene = sampler.sample(1, wanted)
    with Renderer(sampler.dictionary) as renderer:
        frame = renderer.render(scene)
    label = object_labels(scene, frame, sampler.dictionary, cfg.factors)[scene.target]
    assert {factor: label["factors"][factor] for factor in wanted} == wanted
    assert scene.context.name == "studio"
