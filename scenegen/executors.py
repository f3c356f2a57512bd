"""Where scenes are made: in this process, in local worker processes, or on Dask.

Each executor takes *chunks* (lists of ``(scene index, directive or None)``) and yields
each chunk's :class:`ChunkResult` as soon as every scene of it is written, in completion
order. A scene depends only on (config, seed, index), so the files are the same
whatever the executor, the number of workers or the order.

Workers each own one :class:`scenegen.worker.SceneWorker` (one renderer, one GL
context), built on their first chunk and reused. Mesa's llvmpipe renders with
``LP_NUM_THREADS`` threads (default: one per core); with several workers on one
machine each gets ``cores // workers`` of them (unless ``LP_NUM_THREADS`` is set), so
workers and render threads do not fight over the cores.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import signal
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

from .config import config_from_dict, config_to_dict
from .errors import ConfigError, ScenegenError
from .shards import peak_memory_mib
from .worker import SceneWorker

Chunk = List[Tuple[int, Optional[dict]]]
CRASHED = ("a worker process stopped unexpectedly (killed, or out of memory?) while writing scenes; "
           "the scenes already written are kept: run the same command again to resume")


@dataclass(frozen=True)
class ChunkResult:
    """A chunk done: its scene indices, and the worker's process id and resident and
    peak resident memory (MiB) after it."""

    indices: Tuple[int, ...]
    pid: int
    rss_mib: float
    peak_mib: float


def render_threads(workers: int, cores: Optional[int] = None) -> int:
    """llvmpipe threads per worker for ``workers`` workers on ``cores`` cores."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, int(cores) // max(1, int(workers)))


def _write_chunk(worker: SceneWorker, chunk: Chunk) -> ChunkResult:
    for index, directive in chunk:
        worker.write(index, directive)
    flush = getattr(worker, "flush", None)
    if flush is not None:
        flush()
    rss, peak = peak_memory_mib()
    return ChunkResult(tuple(index for index, _ in chunk), os.getpid(), rss, peak)


# ------------------------------------------------------------------ one process
def run_inline(cfg, chunks: Sequence[Chunk]) -> Iterator[ChunkResult]:
    worker = SceneWorker(cfg)
    try:
        for chunk in chunks:
            yield _write_chunk(worker, chunk)
    finally:
        worker.close()


# -------------------------------------------------------- local worker processes
_WORKER: Optional[SceneWorker] = None


def _init_process(cfg_dict: dict, threads: int) -> None:
    global _WORKER
    os.environ.setdefault("LP_NUM_THREADS", str(threads))  # before the GL context exists
    _WORKER = SceneWorker(config_from_dict(cfg_dict))


def _chunk_in_process(chunk: Chunk) -> ChunkResult:
    assert _WORKER is not None, "worker not initialised"
    return _write_chunk(_WORKER, chunk)


def run_processes(cfg, chunks: Sequence[Chunk], workers: int) -> Iterator[ChunkResult]:
    """Chunks on ``workers`` spawned processes, at most two chunks per worker in flight
    (so memory stays flat however many scenes there are).

    Ctrl-C reaches this process alone (the workers start with SIGINT blocked, see
    :func:`_sigint_blocked`): it cancels the chunks not started, lets the running ones
    finish (a second Ctrl-C stops the workers at once; files are written atomically
    either way) and raises KeyboardInterrupt, so the folder resumes like after a kill.
    """
    # spawn, not fork: a forked child must not inherit a parent's GL or thread state
    context = multiprocessing.get_context("spawn")
    pending = iter(chunks)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_process,
                             initargs=(config_to_dict(cfg), render_threads(workers))) as pool:
        running = set()
        try:
            while True:
                while len(running) < 2 * workers:
                    chunk = next(pending, None)
                    if chunk is None:
                        break
                    with _sigint_blocked():  # a worker started here inherits the blocked signal
                        running.add(pool.submit(_chunk_in_process, chunk))
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        except BrokenProcessPool:
            raise ScenegenError(CRASHED) from None
        except KeyboardInterrupt:
            _stop_pool(pool)
            raise
        finally:
            for future in running:
                future.cancel()


@contextmanager
def _sigint_blocked():
    """Block SIGINT in this thread for the block: a process spawned in it starts with
    SIGINT blocked (the mask survives fork and exec), so a Ctrl-C, which the terminal
    sends to every process of its group, interrupts only the coordinator, which then
    stops the workers in order instead of each printing its own traceback. A SIGINT
    arriving meanwhile is delivered when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """After a Ctrl-C: drop the chunks not started and wait for the running ones; on a
    second Ctrl-C, terminate the workers."""
    try:
        pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:
        for child in multiprocessing.active_children():
            child.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------------- Dask
_DASK_WORKERS: dict = {}


def _chunk_on_dask(cfg_json: str, chunk: Chunk, threads: int) -> ChunkResult:
    """Runs on a Dask worker: one SceneWorker per config per worker process."""
    import distributed  # noqa: PLC0415

    nthreads = distributed.get_worker().state.nthreads
    if nthreads != 1:  # a GL context belongs to one thread: two threads cannot share a renderer
        raise ConfigError(f"executor=dask needs single-threaded Dask workers (dask worker --nthreads 1); "
                          f"this worker has {nthreads} threads")
    worker = _DASK_WORKERS.get(cfg_json)
    if worker is None:
        if threads:
            os.environ.setdefault("LP_NUM_THREADS", str(threads))
        worker = _DASK_WORKERS[cfg_json] = SceneWorker(config_from_dict(json.loads(cfg_json)))
    return _write_chunk(worker, chunk)


def _close_on_dask() -> int:
    """Runs on a Dask worker, in the thread that rendered: close its SceneWorkers and
    release the GL context there (at the process's exit, another thread could not)."""
    from .render import release_gl_context  # noqa: PLC0415

    closed = len(_DASK_WORKERS)
    for worker in _DASK_WORKERS.values():
        worker.close()
    _DASK_WORKERS.clear()
    release_gl_context()
    return closed


def _import_distributed():
    try:
        import distributed  # noqa: PLC0415 (optional dependency)
    except ImportError:
        raise ConfigError("executor=dask needs Dask's distributed scheduler: pip install 'scenegen[dask]'") from None
    return distributed


def run_dask(cfg, chunks: Sequence[Chunk], workers: int) -> Iterator[ChunkResult]:
    """Chunks on the Dask cluster at ``cfg.dask.address``, or on a local cluster of
    ``workers`` single-threaded worker processes; at most two chunks per worker in
    flight."""
    distributed = _import_distributed()
    address = cfg.dask.address
    cluster = None
    if address is None:
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=40)
        threads = render_threads(workers)
    else:
        threads = 0  # a remote machine's cores are not ours to count
    try:
        client = distributed.Client(cluster if cluster is not None else address)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise ScenegenError(f"cannot reach the Dask scheduler at dask.address={address!r}: {exc}") from None
    cfg_json = json.dumps(config_to_dict(cfg))  # key order matters (it names part styles): never sort
    try:
        slots = 2 * max(1, len(client.scheduler_info().get("workers", {})) or workers)
        pending = iter(chunks)
        running = distributed.as_completed([])
        for chunk in itertools.islice(pending, slots):
            running.add(client.submit(_chunk_on_dask, cfg_json, chunk, threads, pure=False))
        for future in running:
            try:
                result = future.result()
            except distributed.KilledWorker:
                raise ScenegenError(CRASHED) from None
            yield result
            chunk = next(pending, None)
            if chunk is not None:
                running.add(client.submit(_chunk_on_dask, cfg_json, chunk, threads, pure=False))
        closing = [client.submit(_close_on_dask, pure=False, workers=[worker_address], allow_other_workers=False)
                   for worker_address in client.scheduler_info().get("workers", {})]
        distributed.wait(closing, timeout=60)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_chunks(cfg, chunks: Sequence[Chunk]) -> Iterator[ChunkResult]:
    """Write ``chunks`` with the executor of ``cfg`` (``executor``, ``workers``)."""
    workers = max(1, min(int(cfg.workers), len(chunks)))
    if cfg.executor == "dask":
        return run_dask(cfg, chunks, int(cfg.workers))
    if workers <= 1:
        return run_inline(cfg, chunks)
    return run_processes(cfg, chunks, workers)
