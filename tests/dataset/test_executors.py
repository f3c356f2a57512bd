"""The Dask executor's log filter: it drops exactly the error distributed's ``sync``
logs when Ctrl-C or SIGTERM stops it before its future exists, and nothing else."""

import logging
import os

import pytest

from scenegen.dataset.executors import SyncCancelRaceFilter

# distributed 2026.8's sync(): ``future`` is declared, assigned by the coroutine later,
# and read by the callback that a KeyboardInterrupt schedules.
SYNC_LIKE = """
def sync():
    future: object
    def cancel():
        if future is not None:
            pass
    return cancel
"""


def _record_of(error: BaseException) -> logging.LogRecord:
    return logging.LogRecord("tornado.application", logging.ERROR, __file__, 1, "Exception in callback", None,
                             (type(error), error, error.__traceback__))


def _error_of_cancel(filename: str) -> NameError:
    namespace: dict = {}
    exec(compile(SYNC_LIKE, filename, "exec"), namespace)  # noqa: S102 (code of this test)
    with pytest.raises(NameError) as caught:
        namespace["sync"]()()
    return caught.value


def test_the_unassigned_future_of_distributed_sync_is_dropped():
    error = _error_of_cancel(os.path.join("site-packages", "distributed", "utils.py"))
    assert "'future'" in str(error)
    assert not SyncCancelRaceFilter().filter(_record_of(error))


@pytest.mark.parametrize("make_error", [
    lambda: _error_of_cancel(os.path.join("site-packages", "mypackage", "utils.py")),  # the same NameError elsewhere
    lambda: ValueError("'future'"),
    lambda: NameError("name 'futures' is not defined"),
], ids=["another-file", "another-type", "another-name"])
def test_every_other_error_passes(make_error):
    error = make_error()
    assert SyncCancelRaceFilter().filter(_record_of(error))


def test_records_without_an_exception_pass():
    record = logging.LogRecord("tornado.application", logging.ERROR, __file__, 1, "message", None, None)
    assert SyncCancelRaceFilter().filter(record)
