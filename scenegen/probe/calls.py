"""Calling the model under test: within ``probe.timeout`` seconds, its exceptions turned
into :class:`ModelError`.

With a timeout every call runs on one long-lived daemon thread of the probe's (some
frameworks keep per-thread state, so the thread never changes), and the caller waits at
most the timeout for the answer. Python cannot interrupt a call stuck in native code,
so a call that runs over is left running: the command line exits (the daemon thread
ends with the process), while a program calling :func:`scenegen.probe.run_probe` keeps
the stuck thread until the call returns. A model that holds the GIL while it hangs
cannot be timed out at all. With ``probe.timeout`` null the model runs on the caller's
thread, with no limit (for state the caller sets per thread, e.g. ``torch.no_grad()``
around ``run_probe``).
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import traceback
from typing import Any, Callable, Optional

import numpy as np

from ..errors import EXIT_INPUT, ScenegenError

MAX_QUOTED = 500  # characters of the model's exception message quoted


class ModelError(ScenegenError):
    """The model raised an exception (its ``__cause__``, with the model's traceback)."""

    exit_status = EXIT_INPUT  # the model must change


class ModelTimeoutError(ModelError):
    """A model call did not return within ``probe.timeout`` seconds."""


class ModelCaller:
    """Calls ``model`` as the probe does: ``caller(images, **kwargs)``.

    Args:
        model: the callable under test.
        name: how messages name it (``package.module:function``).
        timeout: seconds a call may take, or None for no limit (and no thread).

    Raises (from a call):
        ModelError: the model raised; the message quotes the exception and where it was
            raised.
        ModelTimeoutError: the call ran over ``timeout``.
    """

    def __init__(self, model: Callable, name: str, timeout: Optional[float]):
        self.model, self.name, self.timeout = model, name, timeout
        self._jobs: Optional[queue.SimpleQueue] = None  # the worker thread's inbox, once started

    def __call__(self, images: np.ndarray, **kwargs) -> Any:
        if self.timeout is None:
            return self._call(images, kwargs)
        answer: concurrent.futures.Future = concurrent.futures.Future()
        self._inbox().put((answer, images, kwargs))
        try:
            return answer.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            self.close()  # the stuck thread ends once its call returns; a later call starts another
            raise ModelTimeoutError(f"the model {self.name} did not answer within probe.timeout={self.timeout:g} s "
                                    f"(null: no limit)") from None

    def close(self) -> None:
        """Let the worker thread end (after the call it runs, if any)."""
        if self._jobs is not None:
            self._jobs.put(None)
            self._jobs = None

    def _inbox(self) -> queue.SimpleQueue:
        if self._jobs is None:
            self._jobs = queue.SimpleQueue()
            threading.Thread(target=_serve, args=(self._jobs, self._call), name="scenegen-probe-model",
                             daemon=True).start()
        return self._jobs

    def _call(self, images: np.ndarray, kwargs: dict) -> Any:
        try:
            return self.model(images, **kwargs)
        except Exception as exc:  # the model's own failure, whatever it is
            raise ModelError(f"the model {self.name} raised {_quoted(exc)}") from exc


def _serve(jobs: queue.SimpleQueue, call: Callable[[np.ndarray, dict], Any]) -> None:
    """The worker thread: run each (future, images, kwargs) job until None arrives."""
    while (job := jobs.get()) is not None:
        answer, images, kwargs = job
        try:
            answer.set_result(call(images, kwargs))
        except BaseException as exc:  # everything goes back to the waiting thread
            answer.set_exception(exc)


def _quoted(exc: BaseException) -> str:
    """``RuntimeError: CUDA out of memory (at net.py:42 in forward)``, on one line."""
    text = " ".join(str(exc).split())
    if len(text) > MAX_QUOTED:
        text = text[:MAX_QUOTED] + "..."
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{type(exc).__name__}{': ' + text if text else ''}{where}"
