"""SceneWorker's overlapped writing: the same files as writing each scene in turn,
complete (record last) once flush returns, and writer errors raised, not lost."""

from pathlib import Path

import numpy as np
import pytest

import scenegen.dataset.worker
import scenegen.fileio
from scenegen import load_config
from scenegen.dataset.files import read_record, record_indices, write_scene
from scenegen.dataset.worker import SceneWorker
from scenegen.labels.objects import object_labels
from scenegen.render.raster import RenderError

pytestmark = pytest.mark.render


def files_of(root, work: bool = False):
    """The files of a dataset folder (with ``work``, only those of its work folder: the
    scenes' export pieces)."""
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and (".scenegen" in p.relative_to(root).parts) == work}


def config(out, *extra):
    return load_config(["width=64", "height=48", f"out={out}", *extra])


def test_overlapped_writes_equal_scene_by_scene_writes(tmp_path):
    """Background writing, sampling ahead and any call order give the bytes of writing
    each scene in turn with write_scene."""
    reference = tmp_path / "ref"
    cfg = config(reference)
    worker = SceneWorker(cfg, background=False)
    for index in range(6):
        scene, frame, labels = worker.make(index)
        write_scene(reference, scene, frame, labels, cfg.output)
    worker.close()
    expected = files_of(reference)
    assert len(expected) == 6 * 7  # 6 layers and the record per scene

    for name, order in [("seq", range(6)), ("shuffled", [3, 4, 0, 5, 1, 2])]:
        with SceneWorker(config(tmp_path / name)) as worker:
            for index in order:
                worker.write(index)
        assert files_of(tmp_path / name) == expected, name
    # and a synchronous worker writes the same
    with SceneWorker(config(tmp_path / "sync"), background=False) as worker:
        for index in range(6):
            worker.write(index)
    assert files_of(tmp_path / "sync") == expected
    # with the same parts of the exports, each written before its scene's record
    pieces = files_of(tmp_path / "sync", work=True)
    assert len(pieces) == 6
    assert files_of(tmp_path / "seq", work=True) == files_of(tmp_path / "shuffled", work=True) == pieces


def test_camera_effects_applied_by_the_writer_give_the_images_of_make(tmp_path):
    """The background worker leaves the camera effects to its writer thread: the images
    are those of make() (the effects applied with the frame), and differ from the image
    as drawn where a scene has effects."""
    reference = tmp_path / "ref"
    cfg = config(reference, "preset=realistic")
    worker = SceneWorker(cfg, background=False)
    with_effects = 0
    for index in range(8):
        scene, frame, labels = worker.make(index)
        write_scene(reference, scene, frame, labels, cfg.output)
        if scene.effects is not None and scene.effects.noise > 0:
            drawn = worker.renderer.begin(scene).read().frame(effects=False).rgb
            assert (drawn != frame.rgb).mean() > 0.2
            with_effects += 1
    worker.close()
    assert with_effects >= 2
    with SceneWorker(config(tmp_path / "writer", "preset=realistic")) as worker:
        for index in range(8):
            worker.write(index)
    assert files_of(tmp_path / "writer") == files_of(reference)


def test_flush_waits_for_every_scene_and_records_come_last(tmp_path, monkeypatch):
    order = []
    real = scenegen.fileio.atomic_write_bytes

    def spy(path, data):
        order.append(Path(path))
        real(path, data)

    monkeypatch.setattr("scenegen.dataset.files.atomic_write_bytes", spy)
    worker = SceneWorker(config(tmp_path))
    for index in range(5):
        assert worker.write(index) == index
    worker.flush()
    assert record_indices(tmp_path) == list(range(5))
    assert not list(tmp_path.rglob("*.tmp"))
    for index in range(5):
        stem = f"{index:06d}"
        mine = [i for i, path in enumerate(order) if path.stem == stem]
        assert order[mine[-1]].parent.name == "scenes"  # the record is written last
        record = read_record(tmp_path, index)
        assert all((tmp_path / path).is_file() for path in record["files"].values())
    worker.close()
    # the worker goes on after a flush, and close flushes
    worker = SceneWorker(config(tmp_path / "b"))
    worker.write(0)
    worker.write(1)
    worker.close()
    assert record_indices(tmp_path / "b") == [0, 1]


def test_writer_errors_are_raised(tmp_path, monkeypatch):
    real = scenegen.dataset.worker.write_layers

    def failing(root, scene, *args, **kwargs):
        if scene.index == 2:
            raise OSError(28, "No space left on device")
        return real(root, scene, *args, **kwargs)

    monkeypatch.setattr(scenegen.dataset.worker, "write_layers", failing)
    worker = SceneWorker(config(tmp_path))
    with pytest.raises(OSError, match="No space left"):
        for index in range(8):
            worker.write(index)
        worker.flush()
    worker.close()  # the error was raised once; the scenes handed over since are written
    written = record_indices(tmp_path)
    assert 2 not in written  # no record for the scene that failed
    assert {0, 1, 3} <= set(written)


def test_close_raises_a_pending_error(tmp_path, monkeypatch):
    def failing(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(scenegen.dataset.worker, "write_layers", failing)
    worker = SceneWorker(config(tmp_path))
    worker.write(0)  # drawn and read; its labels and files come with the next call or flush
    with pytest.raises(OSError, match="Input/output"):
        worker.close()
    assert record_indices(tmp_path) == []


def test_labels_and_frames_match_make(tmp_path):
    """What write records is what make returns (labels of the frame read back)."""
    cfg = config(tmp_path)
    with SceneWorker(cfg) as worker:
        for index in range(3):
            worker.write(index)
    with SceneWorker(cfg, background=False) as worker:
        for index in range(3):
            scene, frame, labels = worker.make(index)
            assert read_record(tmp_path, index)["objects"] == scenegen.fileio.to_plain(labels)
            assert object_labels(scene, frame, worker.dictionary, cfg.factors) == labels
            assert frame.normals is not None and np.isfinite(frame.normals).all()


def test_one_frame_in_flight(tmp_path):
    cfg = config(tmp_path)
    worker = SceneWorker(cfg)
    renderer = worker.renderer
    pending = renderer.begin(worker.sampler.sample(0))
    with pytest.raises(RenderError, match="not read yet"):
        renderer.begin(worker.sampler.sample(1))
    frame = pending.finish()
    with pytest.raises(RenderError, match="already read"):
        pending.read()
    np.testing.assert_array_equal(frame.instances, renderer.render(worker.sampler.sample(0)).instances)
    worker.close()
