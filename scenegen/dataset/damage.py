"""Files of a dataset that are not what scenegen wrote: one error, one message form.

A file scenegen wrote that is missing, not JSON or not of its shape is *damaged*
(:func:`damaged`): a fault of the run (exit status 1), named with how to repair it,
never a traceback. The readers of a dataset (:mod:`scenegen.dataset.manifest`,
:mod:`scenegen.dataset.read`, :mod:`scenegen.dataset.verify`) share these helpers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import DamagedFileError, ScenegenError
from ..fileio import read_json

_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
               float: "a number", type(None): "null"}


def damaged(path: str | Path, detail: str, repair: str = "") -> DamagedFileError:
    """The error for a file scenegen wrote that is not what it wrote: "PATH is damaged:
    ``detail``", then ``repair``, how to repair it, when there is a way. A fault of the
    run (exit status 1)."""
    return DamagedFileError(f"{path} is damaged: {detail}" + (f"; {repair}" if repair else ""))


def rewrite(root: str | Path) -> str:
    """How to repair a damaged manifest.json or coverage.json of the dataset ``root``
    (finishing the dataset again writes both)."""
    return (f"rerun the 'scenegen generate' (or 'scenegen finish') command that wrote the dataset to rewrite it, "
            f"then check it with 'scenegen verify {root}'")


def json_type(value: Any) -> str:
    """The JSON name of ``value``'s type, with its article: "an object", "an array", ..."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def json_type_of(kind: type) -> str:
    """The JSON name of the Python type ``kind`` (``dict``: "an object", ...)."""
    return _JSON_TYPES[kind]


def read_dataset_json(path: str | Path, repair: str = "") -> dict:
    """The JSON object in ``path``, a file scenegen wrote.

    Raises:
        DamagedFileError: the file is missing, not JSON or not an object (with
            ``repair``, see :func:`damaged`).
        ScenegenError: it cannot be read (permissions, I/O).
    """
    try:
        content = read_json(path)
    except FileNotFoundError:
        raise damaged(path, "it is missing", repair) from None
    except DamagedFileError as exc:  # not JSON: the message names the file
        raise DamagedFileError(f"{exc}; {repair}" if repair else str(exc)) from None
    except OSError as exc:
        raise ScenegenError(f"cannot read {path}: {exc.strerror}") from None
    if not isinstance(content, dict):
        raise damaged(path, f"it is {json_type(content)}, not a JSON object", repair)
    return content


def yaml_problem(exc: Exception) -> str:
    """A YAML parser error (or another error) in one line: what is wrong and where."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{getattr(exc, 'problem', None) or ' '.join(str(exc).split())}{where}"
