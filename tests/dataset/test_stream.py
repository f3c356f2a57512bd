"""SceneStream: samples equal the files generate writes; indices split across ranks and
data-loader workers without overlap or gap (fake torch worker info); lazy, closed
SceneWorkers; pickling; torch compatibility without torch; argument errors."""

from __future__ import annotations

import itertools
import json
import os
import pickle
import subprocess
import sys
import time
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scenegen
from scenegen import load_config
from scenegen.dataset import stream as stream_module
from scenegen.dataset.files import depth_to_uint16, normals_to_uint8, read_png
from scenegen.dataset.generate import generate
from scenegen.dataset.stream import (
    LAYERS,
    SceneStream,
    collate,
    iter_scenes,
    loader_worker,
)
from scenegen.errors import ConfigError, RenderError
from scenegen.fileio import dumps_json, read_json
from scenegen.render.context import GL_CONTEXT
from scenegen.scene.frame import Frame
from scenegen.world.sampler import Sampler

SMALL = ["width=48", "height=32", "seed=7"]


@pytest.fixture(scope="module")
def cfg48():
    return load_config(SMALL)


def install_fake_torch(monkeypatch, worker_id=None, num_workers=None):
    """Put a minimal ``torch`` package into sys.modules whose
    ``torch.utils.data.get_worker_info()`` says this is loader worker ``worker_id`` of
    ``num_workers`` (None: not a loader worker). Returns ``torch.utils.data``."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch.utils")
    data = types.ModuleType("torch.utils.data")

    class IterableDataset:
        pass

    info = None if worker_id is None else types.SimpleNamespace(id=worker_id, num_workers=num_workers)
    data.IterableDataset = IterableDataset
    data.get_worker_info = lambda: info
    torch.utils, utils.data = utils, data
    for name, module in (("torch", torch), ("torch.utils", utils), ("torch.utils.data", data)):
        monkeypatch.setitem(sys.modules, name, module)
    return data


# -- splitting (no rendering) ---------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 50),
    length=st.integers(0, 60),
    world_size=st.integers(1, 5),
    num_workers=st.integers(1, 6),
)
def test_shards_partition_the_indices(cfg48, start, length, world_size, num_workers):
    stop = start + length
    seen = []
    for rank in range(world_size):
        stream = SceneStream(cfg48, start=start, stop=stop, rank=rank, world_size=world_size)
        mine = []
        for worker in range(num_workers):
            indices = list(stream.indices(worker, num_workers))
            assert indices == sorted(indices)
            mine += indices
        # a rank's share does not depend on its number of loader workers
        assert sorted(mine) == list(range(start + rank, stop, world_size))
        assert len(stream) == len(mine)
        seen += mine
    assert sorted(seen) == list(range(start, stop))  # no gap, no duplicate


@pytest.mark.parametrize("world_size,num_workers", [(1, 1), (1, 3), (2, 1), (2, 2), (3, 4)])
def test_endless_shards_partition_a_prefix(cfg48, world_size, num_workers):
    start, prefix = 5, 5 + 10 * world_size * num_workers
    seen = []
    for rank in range(world_size):
        stream = SceneStream(cfg48, start=start, rank=rank, world_size=world_size)
        with pytest.raises(TypeError, match="endless"):
            len(stream)
        assert stream
        for worker in range(num_workers):
            indices = stream.indices(worker, num_workers)
            assert isinstance(indices, itertools.count)
            seen += itertools.takewhile(lambda i: i < prefix, indices)
    assert sorted(seen) == list(range(start, prefix))


def test_single_rank_round_robin_is_index_order(cfg48):
    """A DataLoader takes one sample from each worker in turn (batch_size=1)."""
    stream = SceneStream(cfg48, start=3, stop=15)
    shards = [list(stream.indices(w, 4)) for w in range(4)]
    assert [i for row in itertools.zip_longest(*shards) for i in row if i is not None] == list(range(3, 15))


def test_worker_comes_from_torch_worker_info(cfg48, monkeypatch):
    stream = SceneStream(cfg48, start=2, stop=30, rank=1, world_size=2)
    assert "torch" not in sys.modules or loader_worker() == (0, 1)
    for worker_id in range(3):
        install_fake_torch(monkeypatch, worker_id, 3)
        assert loader_worker() == (worker_id, 3)
        assert list(stream.indices()) == list(stream.indices(worker_id, 3))
    install_fake_torch(monkeypatch)  # torch loaded, but the main process
    assert loader_worker() == (0, 1)
    assert list(stream.indices()) == list(range(3, 30, 2))


def test_without_torch_the_process_is_one_worker(cfg48, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    monkeypatch.delitem(sys.modules, "torch.utils", raising=False)
    monkeypatch.delitem(sys.modules, "torch.utils.data", raising=False)
    assert loader_worker() == (0, 1)
    assert list(SceneStream(cfg48, stop=4).indices()) == [0, 1, 2, 3]
    with pytest.raises(ImportError, match="pip install torch"):
        SceneStream(cfg48, stop=4).as_torch()


def test_import_scenegen_does_not_import_torch():
    code = "import scenegen, scenegen.dataset.stream, sys; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- iteration with a stand-in SceneWorker (no rendering) -----------------------------


class FakeWorker:
    """Samples real scenes but renders none: constant frames, no labels."""

    made: list = []
    closed: list = []

    def __init__(self, cfg):
        self.cfg = cfg
        self.sampler = Sampler(cfg)
        FakeWorker.made.append(self)

    def make(self, index, directive=None):
        scene = self.sampler.sample(index, directive)
        h, w = scene.camera.height, scene.camera.width
        frame = Frame(
            rgb=np.full((h, w, 3), index, np.uint8),
            depth=np.full((h, w), index, np.float32),
            instances=np.zeros((h, w), np.uint16),
            semantic=np.zeros((h, w), np.uint8),
            parts=np.zeros((h, w), np.uint8),
            amodal=np.zeros((len(scene.objects), h, w), bool),
            normals=np.zeros((h, w, 3), np.float32),
        )
        return scene, frame, []

    def close(self):
        FakeWorker.closed.append(self)


@pytest.fixture
def fake_worker(monkeypatch):
    FakeWorker.made, FakeWorker.closed = [], []
    monkeypatch.setattr(stream_module, "SceneWorker", FakeWorker)
    return FakeWorker


def test_worker_is_made_lazily_per_iteration_and_closed(cfg48, fake_worker, monkeypatch):
    stream = SceneStream(cfg48, start=1, stop=9, world_size=2, rank=1, layers=["rgb", "depth"])
    stream = pickle.loads(pickle.dumps(stream))  # as a spawned loader worker gets it
    install_fake_torch(monkeypatch, 1, 2)
    iterator = iter(stream)
    assert fake_worker.made == []  # nothing until the first sample
    samples = list(iterator)
    assert [s["index"] for s in samples] == [4, 8]
    assert len(fake_worker.made) == 1 and fake_worker.closed == fake_worker.made
    for sample in samples:
        assert set(sample) == {"index", "scene", "images", "labels", "camera", "record"}
        assert list(sample["images"]) == ["rgb", "depth"]
        assert sample["images"]["rgb"][0, 0, 0] == sample["index"]
        assert sample["scene"] == Sampler(cfg48).sample(sample["index"])
        assert sample["record"]["index"] == sample["index"] and sample["record"]["files"] == {}
        np.testing.assert_array_equal(sample["camera"]["K"], sample["scene"].camera.K)
    # abandoned iterations close their worker too
    endless = SceneStream(cfg48, start=0)
    iterator = iter(endless)
    assert next(iterator)["index"] == 1
    iterator.close()
    assert len(fake_worker.made) == 2 and fake_worker.closed == fake_worker.made
    for _sample in SceneStream(cfg48):
        break
    del sample
    assert len(fake_worker.made) == 3 and fake_worker.closed == fake_worker.made


def test_iter_scenes_follows_indices_and_directives(cfg48, fake_worker):
    samples = list(iter_scenes(cfg48, [5, 0, 5], layers="rgb"))
    assert [s["index"] for s in samples] == [5, 0, 5]
    assert all(list(s["images"]) == ["rgb"] for s in samples)
    plan = [{"category": "chair"}, None, {"context": "outdoor"}]
    samples = list(iter_scenes(cfg48, [2, 0, 1], directive=plan))
    assert samples[0]["scene"].context.name == "outdoor"
    assert samples[1]["scene"] == Sampler(cfg48).sample(0, {"category": "chair"})
    assert samples[2]["scene"] == Sampler(cfg48).sample(1)
    with pytest.raises(ConfigError, match="beyond the 3 directives"):
        list(iter_scenes(cfg48, [3], directive=plan))
    with pytest.raises(ConfigError, match="scene index"):
        list(iter_scenes(cfg48, [-1]))


def test_directive_plan_sets_the_default_stop(cfg48):
    plan = [{"category": "chair"}, {"category": "table"}, None]
    assert list(SceneStream(cfg48, directive=plan).indices(0, 1)) == [0, 1, 2]
    assert SceneStream(cfg48, directive=plan, start=1, stop=2).stop == 2
    with pytest.raises(ConfigError, match="stop is 4, beyond the plan's 3 directives"):
        SceneStream(cfg48, directive=plan, stop=4)


def test_covering_strategy_streams_the_covering_plan(fake_worker):
    cfg = load_config([*SMALL, "strategy=covering", "design_factors=[category,context]"])
    from scenegen.design.plan import covering_plan

    plan = covering_plan(Sampler(cfg).world)
    stream = SceneStream(cfg)
    assert stream.stop == len(plan) and stream.directive == plan
    samples = list(SceneStream(cfg, stop=3))
    for sample in samples:
        assert sample["scene"] == Sampler(cfg).sample(sample["index"], plan[sample["index"]])


def test_refuses_to_render_after_forking_a_gl_process(cfg48, fake_worker, monkeypatch):
    monkeypatch.setattr(GL_CONTEXT, "offscreen", object())  # as if this process had rendered
    monkeypatch.setattr(stream_module, "_INHERITED_GL_CONTEXT", False)
    stream_module._after_fork_in_child()  # what os.register_at_fork runs in a child
    with pytest.raises(RenderError, match="multiprocessing_context='spawn'"):
        next(iter(SceneStream(cfg48)))
    assert fake_worker.made == []


# -- pickling and torch ---------------------------------------------------------------


def test_pickle_keeps_the_stream(cfg48):
    plan = [{"category": "chair"}, None]
    stream = SceneStream(cfg48, start=1, directive=plan, layers=["depth"], rank=0, world_size=3)
    copy = pickle.loads(pickle.dumps(stream))
    assert type(copy) is SceneStream
    assert copy._state().keys() == stream._state().keys()
    for key in ("start", "stop", "directive", "layers", "rank", "world_size"):
        assert getattr(copy, key) == getattr(stream, key)
    assert copy.cfg == stream.cfg


def test_as_torch_is_an_iterable_dataset_and_pickles(cfg48, monkeypatch):
    data = install_fake_torch(monkeypatch)
    stream = SceneStream(cfg48, start=2, stop=6, layers=["rgb"])
    dataset = stream.as_torch()
    assert isinstance(dataset, data.IterableDataset) and isinstance(dataset, SceneStream)
    assert type(stream) is SceneStream  # unchanged
    assert len(dataset) == 4 and list(dataset.indices(0, 1)) == [2, 3, 4, 5]
    copy = pickle.loads(pickle.dumps(dataset))
    assert isinstance(copy, data.IterableDataset) and copy.layers == ("rgb",)
    assert type(copy) is type(dataset)


# -- batching -------------------------------------------------------------------------


def test_collate_stacks_images_and_lists_the_rest(cfg48, fake_worker):
    samples = list(SceneStream(cfg48, stop=3))
    batch = collate(samples)
    assert batch["index"].tolist() == [0, 1, 2]
    for name in LAYERS:
        if name == "amodal":
            assert isinstance(batch["images"][name], list) and len(batch["images"][name]) == 3
        else:
            assert batch["images"][name].shape == (3, *samples[0]["images"][name].shape)
    assert batch["camera"]["K"].shape == (3, 3, 3) and batch["camera"]["world_from_camera"].shape == (3, 4, 4)
    assert [s.index for s in batch["scene"]] == [0, 1, 2] and len(batch["labels"]) == len(batch["record"]) == 3
    with pytest.raises(ValueError):
        collate([])


# -- argument errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"start": -1}, r"start must be an integer >= 0, got -1"),
        ({"start": 1.5}, r"start must be an integer >= 0"),
        ({"start": True}, r"start must be an integer >= 0"),
        ({"start": 4, "stop": 3}, r"stop must be None \(endless\) or an integer >= start \(4\), got 3"),
        ({"stop": "10"}, r"stop must be None"),
        ({"rank": 2, "world_size": 2}, r"rank must be an integer in 0\.\.1 \(world_size=2\), got 2"),
        ({"rank": -1}, r"rank must be an integer in 0\.\.0"),
        ({"world_size": 0}, r"world_size must be a positive integer"),
        ({"layers": ["rgb", "colour"]}, r"unknown layer 'colour'; valid: 'amodal', 'depth', 'instances', 'normals'"),
        ({"layers": 3}, r"layers must be a list of layer names"),
        ({"directive": {"shape": "round"}}, r"directive has unknown factor 'shape'; valid: .*'category'"),
        ({"directive": {"category": "blob"}}, r"directive category 'blob' is unknown; valid: 'ball'"),
        ({"directive": [None, {"context": "moon"}]}, r"directive context 'moon' is unknown"),
        ({"directive": "chair"}, r"directive must be a mapping"),
    ],
)
def test_bad_arguments_name_the_problem(cfg48, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SceneStream(cfg48, **kwargs)


def test_bad_worker_arguments(cfg48):
    stream = SceneStream(cfg48, stop=10)
    with pytest.raises(ConfigError, match=r"worker must be an integer in 0\.\.1 \(num_workers=2\), got 2"):
        stream.indices(2, 2)
    with pytest.raises(ConfigError, match="num_workers must be a positive integer"):
        stream.indices(0, 0)
    with pytest.raises(ConfigError, match="both worker and num_workers"):
        stream.indices(worker=0)
    with pytest.raises(ConfigError, match="unknown layer"):
        iter_scenes(cfg48, [0], layers=["albedo"])


def test_fill_strategy_is_refused():
    with pytest.raises(ConfigError, match=r"strategy is 'fill'.*valid: 'covering', 'random'"):
        SceneStream(load_config([*SMALL, "strategy=fill"]))


# -- rendering ------------------------------------------------------------------------

N = 4


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("stream_dataset")
    cfg = load_config([*SMALL, f"n={N}", f"out={out}", "output.depth_scale=0.5"])
    generate(cfg, progress=False)
    return out, cfg


@pytest.mark.render
def test_samples_equal_the_generated_files(dataset):
    out, cfg = dataset
    samples = list(scenegen.SceneStream(cfg, stop=N))
    assert [s["index"] for s in samples] == list(range(N))
    for sample in samples:
        record = read_json(out / "scenes" / f"{sample['index']:06d}.json")
        images = sample["images"]
        assert set(images) == set(LAYERS)
        assert images["rgb"].shape == (32, 48, 3) and images["rgb"].dtype == np.uint8
        assert images["depth"].shape == (32, 48) and images["depth"].dtype == np.float32
        np.testing.assert_array_equal(images["rgb"], read_png(out / record["files"]["rgb"]))
        np.testing.assert_array_equal(depth_to_uint16(images["depth"], 0.5), read_png(out / record["files"]["depth"]))
        for name in ("instances", "semantic", "parts"):
            np.testing.assert_array_equal(images[name], read_png(out / record["files"][name]))
        np.testing.assert_array_equal(normals_to_uint8(images["normals"]), read_png(out / record["files"]["normals"]))
        assert images["amodal"].shape == (len(record["objects"]), 32, 48)
        assert json.loads(dumps_json(sample["labels"])) == record["objects"]
        assert json.loads(dumps_json(sample["record"])) == {**record, "files": {}}
        assert sample["camera"]["K"].tolist() == record["camera"]["K"]
        assert sample["scene"].to_dict() == scenegen.Scene.from_dict(record["scene"]).to_dict()


@pytest.mark.render
def test_split_samples_equal_unsplit_ones(dataset, monkeypatch):
    out, cfg = dataset
    whole = {s["index"]: s for s in SceneStream(cfg, start=1, stop=N, layers=["rgb", "instances"])}
    install_fake_torch(monkeypatch, 1, 2)
    part = list(SceneStream(cfg, start=1, stop=N, layers=["rgb", "instances"]))
    assert [s["index"] for s in part] == [2]
    for sample in part:
        for name in ("rgb", "instances"):
            np.testing.assert_array_equal(sample["images"][name], whole[sample["index"]]["images"][name])
        assert sample["labels"] == whole[sample["index"]]["labels"]


@pytest.mark.render
def test_a_forked_child_of_a_rendering_process_raises_instead_of_hanging(cfg48):
    next(iter(SceneStream(cfg48, layers=["rgb"])))  # this process now holds a GL context
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running pytest's teardown
        try:
            next(iter(SceneStream(cfg48)))
            message = b"rendered"
        except BaseException as exc:  # noqa: BLE001
            message = f"{type(exc).__name__}: {exc}".encode()
        os.write(write, message[:4000])
        os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 60
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.05)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    assert message.startswith("RenderError") and "spawn" in message


@pytest.mark.render
def test_torch_dataloader_with_two_workers(dataset):
    torch = pytest.importorskip("torch")
    out, cfg = dataset
    dataset_ = SceneStream(cfg, stop=N, layers=["rgb", "depth"]).as_torch()
    assert isinstance(dataset_, torch.utils.data.IterableDataset)
    loader = torch.utils.data.DataLoader(
        dataset_, batch_size=2, num_workers=2, collate_fn=collate, multiprocessing_context="spawn"
    )
    batches = list(loader)
    indices = sorted(i for batch in batches for i in batch["index"].tolist())
    assert indices == list(range(N))
    for batch in batches:
        for index, rgb in zip(batch["index"].tolist(), batch["images"]["rgb"]):
            np.testing.assert_array_equal(rgb, read_png(out / "images" / f"{index:06d}.png"))
