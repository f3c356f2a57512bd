"""PNG encoding of rendered layers: scenegen's own encoder, Pillow and fpng, in one run.

Renders ``--scenes`` scenes at each size (SceneWorker, default config) and encodes their
8-bit colour layers (RGB render; normals as the writer stores them) with:
  * scenegen zlib: ``encode_png`` at ``output.png_compress_level`` (1) with the layer's
    row filter (``LAYER_PNG_FILTERS``): what the writer does without fpng;
  * Pillow at compress_level 1 and at its default (6);
  * fpng (``fpng.from_ndarray``): what the writer does with fpng (``encode_layer``).
For each it prints ms per image (best of ``--rounds``), bytes per image and both as a
ratio to scenegen zlib; every output is checked to decode exactly (Pillow) and to give
the same bytes when encoded again.

Then, per scene, the whole writer (``write_layers``: every layer, files on disk) with and
without fpng: encode ms and bytes of all layers. Then the GIL: a writer thread encodes
the RGB images back to back while this thread turns a Python loop; the time this thread
stood still, per image, is the GIL held by the encoder (and, on a machine without a free
core, time the OS gave the other thread). Last, the pipeline as bench_pipeline.py
measures it (SceneWorker.write, in flushed chunks), in pairs of rounds with and without
fpng in one process: scenes/s, CPU time per scene (all threads) and the median ratio.

    python benchmarks/bench_png.py
    python benchmarks/bench_png.py --sizes 256x256 --pipeline-scenes 60
"""

from __future__ import annotations

import argparse
import io
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List

import fpng
import numpy as np
from bench_pipeline import (
    pipeline_round,  # benchmarks/ is on sys.path when run as a script
)
from PIL import Image

from scenegen import load_config
from scenegen.dataset import files
from scenegen.dataset.files import (
    LAYER_PNG_FILTERS,
    encode_png,
    normals_to_uint8,
    write_layers,
)
from scenegen.dataset.worker import SceneWorker

STALL_S = 1e-4  # a longer gap between two turns of a Python loop: the thread stood still
LABELS = {True: "with fpng", False: "without fpng"}
Encoder = Callable[[np.ndarray, str], bytes]  # (layer array, layer name) -> PNG bytes


def pillow(level: int) -> Encoder:
    def encode(array: np.ndarray, layer: str) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="PNG", compress_level=level)
        return buffer.getvalue()
    return encode


def encoders(level: int) -> Dict[str, Encoder]:
    return {
        f"scenegen zlib (level {level})": lambda array, layer: encode_png(array, level, LAYER_PNG_FILTERS[layer]),
        "Pillow level 1": pillow(1),
        "Pillow level 6 (default)": pillow(6),
        "fpng": lambda array, layer: fpng.from_ndarray(np.ascontiguousarray(array)),
    }


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def render(worker: SceneWorker, scenes: int) -> list:
    """(scene, frame) of scenes 0..scenes-1."""
    return [worker.make(index)[:2] for index in range(scenes)]


def time_encoder(encode: Encoder, arrays: List[np.ndarray], layer: str, rounds: int) -> tuple:
    """(best seconds per image, the outputs), after checking they decode exactly and
    are the same bytes when encoded again."""
    best, outputs = float("inf"), []
    for _ in range(rounds):
        start = time.perf_counter()
        outputs = [encode(array, layer) for array in arrays]
        best = min(best, (time.perf_counter() - start) / len(arrays))
    for array, data in zip(arrays, outputs):
        if not np.array_equal(decode(data), array) or encode(array.copy(), layer) != data:
            raise AssertionError(f"an encoder of {layer} is not exact or not deterministic")
    return best, outputs


def bench_layers(cfg, frames: list, rounds: int) -> None:
    level = int(cfg.output.png_compress_level)
    layers = {"rgb": [frame.rgb for frame in frames], "normals": [normals_to_uint8(frame.normals) for frame in frames]}
    for layer, arrays in layers.items():
        rows = {name: time_encoder(encode, arrays, layer, rounds) for name, encode in encoders(level).items()}
        base_s, base_outputs = next(iter(rows.values()))
        base_bytes = np.mean([len(data) for data in base_outputs])
        print(f"  {layer} ({arrays[0].shape[1]}x{arrays[0].shape[0]}, filter {LAYER_PNG_FILTERS[layer]} for zlib):")
        for name, (seconds, outputs) in rows.items():
            size = np.mean([len(data) for data in outputs])
            print(f"    {name:<26} {1000 * seconds:7.2f} ms {size:9.0f} bytes   time x{seconds / base_s:5.2f}"
                  f"   bytes x{size / base_bytes:5.2f}")


def write_all(cfg, made: list, root: str) -> tuple:
    """(encode seconds per scene, PNG bytes per scene) of write_layers on every scene
    (an empty JSON object stands in for each record)."""
    timings: dict = {}
    for scene, frame in made:
        write_layers(root, scene, frame, b"{}", cfg.output, timings)
    written = sum(path.stat().st_size for path in Path(root).rglob("*.png"))
    return timings["encode"] / len(made), written / len(made)


@contextmanager
def writer_encoder(use_fpng: bool) -> Iterator[None]:
    """Inside the block the writer encodes colour layers with fpng (when installed) or,
    ``use_fpng`` False, with scenegen's zlib encoder, as it would without fpng."""
    installed = files.fpng
    files.fpng = installed if use_fpng else None
    try:
        yield
    finally:
        files.fpng = installed


def bench_writer(cfg, made: list, rounds: int) -> None:
    print("  whole writer per scene (every layer):")
    for use_fpng in (True, False):
        with writer_encoder(use_fpng):
            runs = []
            for _ in range(rounds):
                with tempfile.TemporaryDirectory() as root:
                    runs.append(write_all(cfg, made, root))
        seconds, size = min(seconds for seconds, _ in runs), runs[0][1]
        print(f"    {LABELS[use_fpng]:<13} encode {1000 * seconds:6.2f} ms, {size:9.0f} bytes")


def main_thread_stalls(encode: Encoder, arrays: List[np.ndarray], repeat: int) -> float:
    """Seconds per image this thread stood still (gaps over STALL_S between two turns of
    a Python loop) while a writer thread encoded ``arrays`` ``repeat`` times."""
    done = threading.Event()

    def writer() -> None:
        for _ in range(repeat):
            for array in arrays:
                encode(array, "rgb")
        done.set()

    thread = threading.Thread(target=writer)
    stalled, last = 0.0, time.perf_counter()
    thread.start()
    while not done.is_set():
        now = time.perf_counter()
        if now - last > STALL_S:
            stalled += now - last
        last = now
    thread.join()
    return stalled / (repeat * len(arrays))


def bench_gil(cfg, frames: list) -> None:
    arrays = [frame.rgb for frame in frames]
    level = int(cfg.output.png_compress_level)
    print("  this thread stalled per RGB image while a writer thread encodes (least of 3 runs):")
    for name, encode in encoders(level).items():
        if name.startswith("Pillow"):
            continue
        stalled = min(main_thread_stalls(encode, arrays, 5) for _ in range(3))
        print(f"    {name:<26} {1000 * stalled:6.2f} ms")


def bench_pipeline(worker: SceneWorker, scenes: int, pairs: int) -> None:
    """scenes/s of the pipeline (a round as bench_pipeline.py times one) and its CPU time
    per scene (every thread of this process), with and without fpng, in ``pairs`` pairs
    of rounds (which goes first alternates), so load from other processes falls on both."""
    runs: Dict[bool, list] = {True: [], False: []}  # use fpng -> [(scenes/s, CPU s per scene)]
    for index in range(10):  # GL context, shaders, mesh pools
        worker.write(scenes + index)
    worker.flush()
    for pair in range(pairs):
        for use_fpng in (True, False) if pair % 2 == 0 else (False, True):
            with writer_encoder(use_fpng):
                cpu = time.process_time()
                seconds, _ = pipeline_round(worker, scenes)  # flushed: no scene spans two encoders
                runs[use_fpng].append((scenes / seconds, (time.process_time() - cpu) / scenes))
    print(f"  pipeline, {pairs} pairs of rounds of {scenes} scenes: scenes/s best and median, CPU ms per scene median:")
    for use_fpng, measured in runs.items():
        rates, cpus = zip(*measured)
        print(f"    {LABELS[use_fpng]:<13} {max(rates):6.1f} {np.median(rates):6.1f} scenes/s, "
              f"CPU {1000 * np.median(cpus):6.2f} ms")
    ratios = [a[0] / b[0] for a, b in zip(runs[True], runs[False])]
    print(f"    scenes/s with / without fpng, median of the pairs: {np.median(ratios):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=6, help="scenes rendered per size for the encoders")
    parser.add_argument("--pipeline-scenes", type=int, default=20, help="scenes a pipeline round (0: none)")
    parser.add_argument("--pairs", type=int, default=6, help="pairs of pipeline rounds, with and without fpng")
    parser.add_argument("--sizes", nargs="+", default=["256x256", "640x480"], help="WIDTHxHEIGHT")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds; the best is kept")
    args = parser.parse_args()
    for size in args.sizes:
        width, height = (int(side) for side in size.split("x"))
        with tempfile.TemporaryDirectory() as out:
            cfg = load_config([f"width={width}", f"height={height}", f"out={out}"])
            worker = SceneWorker(cfg)
            try:
                made = render(worker, args.scenes)
                frames = [frame for _, frame in made]
                print(f"{width}x{height}, {args.scenes} scenes:")
                bench_layers(cfg, frames, args.rounds)
                bench_writer(cfg, made, args.rounds)
                bench_gil(cfg, frames)
                if args.pipeline_scenes:
                    bench_pipeline(worker, args.pipeline_scenes, args.pairs)
            finally:
                worker.close()


if __name__ == "__main__":
    main()
