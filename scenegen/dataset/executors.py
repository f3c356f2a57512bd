"""Where scenes are made: in this process, in local worker processes, or on Dask.

Each executor takes *chunks* (lists of ``(scene index, directive or None)``) and yields
each chunk's :class:`ChunkResult` as soon as every scene of it is written, in completion
order. A scene depends only on (config, seed, index), so the files are the same
whatever the executor, the number of workers or the order.

Workers each own one :class:`scenegen.dataset.worker.SceneWorker` (one renderer, one GL
context), built on their first chunk and reused. Mesa's llvmpipe renders with
``LP_NUM_THREADS`` threads (default: one per core); with several workers on one
machine each gets ``cores // workers`` of them (unless ``LP_NUM_THREADS`` is set), so
workers and render threads do not fight over the cores.

A local worker process ends within moments of its coordinator's end, however that
ends (even ``SIGKILL`` or the out-of-memory killer), removing the temporary file of any
write in progress: see :func:`_exit_with_coordinator`.
"""

from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
import os
import signal
import tempfile
import threading
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from typing import Iterable, Iterator, List, Optional, Tuple

from ..config.load import config_from_dict, config_to_dict
from ..errors import ConfigError, ScenegenError
from ..fileio import abandon_writes
from ..render.context import release_gl_context
from .shards import peak_memory_mib
from .worker import SceneWorker

Chunk = List[Tuple[int, Optional[dict]]]
CRASHED = ("a worker process stopped unexpectedly (killed, or out of memory?) while writing scenes; "
           "the scenes already written are kept: run the same command again to resume")


@dataclass(frozen=True)
class ChunkResult:
    """A chunk done: its scene indices, the worker's process id and resident and peak
    resident memory (MiB) after it, and its scenes' layouts drawn again, as sorted
    (reason, count) pairs (``layout did not fit``, ``pile did not settle``, ...)."""

    indices: Tuple[int, ...]
    pid: int
    rss_mib: float
    peak_mib: float
    rejections: Tuple[Tuple[str, int], ...] = ()


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
    indices = tuple(index for index, _ in chunk)
    take = getattr(worker, "take_rejections", None)
    rejections = tuple(sorted(take(indices).items())) if take is not None else ()
    return ChunkResult(indices, os.getpid(), rss, peak, rejections)


# ------------------------------------------------------------------ one process
def run_inline(cfg, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
    worker = SceneWorker(cfg)
    try:
        for chunk in chunks:
            yield _write_chunk(worker, chunk)
    finally:
        worker.close()


# -------------------------------------------------------- local worker processes
_WORKER: Optional[SceneWorker] = None
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})  # the coordinator's alone (see _stop_signals_blocked)


def _init_process(cfg_dict: dict, threads: int, lifeline: Connection) -> None:
    global _WORKER
    _exit_with_coordinator(lifeline)
    os.environ.setdefault("LP_NUM_THREADS", str(threads))  # before the GL context exists
    _WORKER = SceneWorker(config_from_dict(cfg_dict))


def _exit_with_coordinator(lifeline: Connection) -> None:
    """End this worker process at once when ``lifeline``, the read end of a pipe whose
    only write end the coordinator holds, reaches its end: the coordinator closed it
    (stop now) or died (the kernel closed it, whatever killed it). A thread waits on it,
    removes the temporary files of the writes in flight and exits: it needs no help
    from the main thread, which may be inside a long GL call.

    Chosen over Linux's ``PR_SET_PDEATHSIG``, which fires when the *thread* that started
    the process ends and whose ``SIGKILL`` could not clean up; the pipe is portable and
    cannot miss a coordinator that died before this ran (the pipe is already at its end).
    """
    def wait_then_exit() -> None:
        lifeline.poll(None)  # nothing is ever sent: this returns at the end of the pipe
        abandon_writes()
        os._exit(1)  # no clean-up of Python's: the main thread may be mid-scene

    threading.Thread(target=wait_then_exit, name="scenegen-lifeline", daemon=True).start()


def _chunk_in_process(chunk: Chunk) -> ChunkResult:
    assert _WORKER is not None, "worker not initialised"
    return _write_chunk(_WORKER, chunk)


def run_processes(cfg, chunks: Iterable[Chunk], workers: int) -> Iterator[ChunkResult]:
    """Chunks on ``workers`` spawned processes, at most two chunks per worker in flight
    (so memory stays flat however many scenes there are).

    Ctrl-C and SIGTERM (raised as a KeyboardInterrupt by the command line) reach this
    process alone (the workers start with both blocked, see
    :func:`_stop_signals_blocked`): it cancels the chunks not started, lets the running
    ones finish (a second signal stops the workers at once; files are written
    atomically either way) and raises the KeyboardInterrupt, so the folder resumes like
    after a kill. Should this process die, the workers end on their own, leaving no
    temporary file (:func:`_exit_with_coordinator`).
    """
    # spawn, not fork: a forked child must not inherit a parent's GL or thread state
    context = multiprocessing.get_context("spawn")
    pending = iter(chunks)
    lifeline, held = context.Pipe(duplex=False)  # the workers hold lifeline; held stays here
    # the pool shuts down before the pipe closes (contexts exit in reverse order)
    with held, lifeline, ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_process,
                                             initargs=(config_to_dict(cfg), render_threads(workers), lifeline)) as pool:
        running = set()
        try:
            while True:
                while len(running) < 2 * workers:
                    chunk = next(pending, None)
                    if chunk is None:
                        break
                    with _stop_signals_blocked():  # a worker started here inherits the blocked signals
                        running.add(pool.submit(_chunk_in_process, chunk))
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        except BrokenProcessPool:
            # the pool's SIGTERM to the other workers is blocked, and one may wait on a
            # queue lock the dead one held: end them through their pipe
            held.close()
            raise ScenegenError(CRASHED) from None
        except KeyboardInterrupt:
            _stop_pool(pool, held)
            raise
        finally:
            for future in running:
                future.cancel()


@contextmanager
def _stop_signals_blocked():
    """Block SIGINT and SIGTERM in this thread for the block: a process spawned in it
    starts with them blocked (the mask survives fork and exec), so a Ctrl-C, which the
    terminal sends to every process of its group, or a SIGTERM sent to the whole group
    (as some schedulers do) interrupts only the coordinator, which then stops the
    workers in order instead of each printing its own traceback. A signal arriving
    meanwhile is delivered when the block ends. Threads started in the block inherit
    the mask too, and so do the processes they start."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    # multiprocessing starts its resource tracker on first need, and then *unblocks*
    # SIGINT and SIGTERM in the starting thread: start it before blocking them
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_pool(pool: ProcessPoolExecutor, lifeline: Connection) -> None:
    """After a Ctrl-C or SIGTERM: drop the chunks not started and wait for the running
    ones; on a second one, close ``lifeline`` (the coordinator's end of the workers'
    pipe), which ends the workers at once, their writes in flight removed."""
    try:
        pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:
        lifeline.close()
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


class SyncCancelRaceFilter(logging.Filter):
    """Drops the one error distributed's ``sync`` logs for no failure: stopped by Ctrl-C
    or SIGTERM before its coroutine has made its future, its ``cancel`` callback reads
    the unassigned ``future`` and tornado logs the NameError with a traceback (seen with
    distributed 2026.8), although nothing was left to cancel. Every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, NameError) and "'future'" in str(error)
                    and any(frame.name == "cancel" and frame.filename.endswith(_DISTRIBUTED_UTILS)
                            for frame in traceback.extract_tb(error.__traceback__)))


_DISTRIBUTED_UTILS = os.path.join("distributed", "utils.py")


def run_dask(cfg, chunks: Iterable[Chunk], workers: int) -> Iterator[ChunkResult]:
    """Chunks on the Dask cluster at ``cfg.dask.address``, or on a local cluster of
    ``workers`` single-threaded worker processes; at most two chunks per worker in
    flight."""
    distributed = _import_distributed()
    address = cfg.dask.address
    cluster = None
    scratch = None
    if address is None:
        # The local cluster (its scheduler reads the config's temporary-directory, its
        # workers local_directory) keeps its scratch space in a folder of this run, removed
        # after it. In the shared default, TMPDIR/dask-scratch-space, each new worker first
        # purges what killed runs left there, and distributed warns on stderr when making
        # its scratch space takes over a second.
        import dask  # noqa: PLC0415 (installed with distributed)

        scratch = tempfile.TemporaryDirectory(prefix="scenegen-dask-", ignore_cleanup_errors=True)
        with _stop_signals_blocked(), dask.config.set({"temporary-directory": scratch.name}):
            # no dashboard; the scheduler's HTTP server (health routes) still starts, on a free
            # port: on its default, 8787, a second cluster on the machine made distributed warn
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                                               silence_logs=40, local_directory=scratch.name)
        threads = render_threads(workers)
    else:
        threads = 0  # a remote machine's cores are not ours to count
    try:
        client = distributed.Client(cluster if cluster is not None else address)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
            scratch.cleanup()
        raise ScenegenError(f"cannot reach the Dask scheduler at dask.address={address!r}: {exc}") from None
    cfg_json = json.dumps(config_to_dict(cfg))  # key order matters (it names part styles): never sort
    tornado_log, race_filter = logging.getLogger("tornado.application"), SyncCancelRaceFilter()
    tornado_log.addFilter(race_filter)
    try:
        slots = 2 * max(1, len(client.scheduler_info().get("workers", {})) or workers)
        yield from _chunks_on_dask(distributed, client, iter(chunks), slots,
                                   lambda chunk: client.submit(_chunk_on_dask, cfg_json, chunk, threads, pure=False))
        _release_dask_workers(distributed, client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
            scratch.cleanup()
        tornado_log.removeFilter(race_filter)


def _chunks_on_dask(distributed, client, pending: Iterator[Chunk], slots: int, submit) -> Iterator[ChunkResult]:
    """The results of ``submit(chunk)`` for each chunk of ``pending``, ``slots`` chunks in
    flight. Stopped early (Ctrl-C, SIGTERM, or the caller's loop ending), it drops the
    chunks not started and waits for the running ones, then releases the workers'
    renderers (else each worker's exit reports a GL context it cannot release)."""
    in_flight = set()
    running = distributed.as_completed([])

    def start(chunk: Chunk) -> None:
        future = submit(chunk)
        in_flight.add(future)
        running.add(future)

    try:
        for chunk in itertools.islice(pending, slots):
            start(chunk)
        for future in running:
            in_flight.discard(future)
            try:
                result = future.result()
            except distributed.KilledWorker:
                raise ScenegenError(CRASHED) from None
            yield result
            chunk = next(pending, None)
            if chunk is not None:
                start(chunk)
    except (KeyboardInterrupt, GeneratorExit):
        client.cancel(list(in_flight))  # a running chunk finishes on its (single) thread, before the release
        with suppress(TimeoutError):  # a worker that is gone has nothing to release
            _release_dask_workers(distributed, client)
        raise


def _release_dask_workers(distributed, client) -> None:
    """Close the SceneWorkers of every Dask worker on the thread that rendered."""
    closing = [client.submit(_close_on_dask, pure=False, workers=[worker_address], allow_other_workers=False)
               for worker_address in client.scheduler_info().get("workers", {})]
    distributed.wait(closing, timeout=60)


def run_chunks(cfg, chunks: Iterable[Chunk], count: Optional[int] = None) -> Iterator[ChunkResult]:
    """Write ``chunks`` (any iterable, consumed as workers ask for work) with the
    executor of ``cfg`` (``executor``, ``workers``); ``count``: how many chunks there
    are at most (default ``len(chunks)``), so that no more workers start than have work."""
    workers = max(1, min(int(cfg.workers), len(chunks) if count is None else int(count)))
    if cfg.executor == "dask":
        return run_dask(cfg, chunks, int(cfg.workers))
    if workers <= 1:
        return run_inline(cfg, chunks)
    return run_processes(cfg, chunks, workers)
