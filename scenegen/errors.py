"""Typed errors. Every error names the offending key or file and, where there is a
finite set of valid choices, lists them.

Each class says, in ``exit_status``, how the command line ends when it stops a command:
:data:`EXIT_INPUT` (2) for input the user must change (a config key, a mesh file, a
grammar that cannot be placed, a model's answers), :data:`EXIT_FAULT` (1) for faults of
the environment or of the run (a full disk, an unwritable folder, no OpenGL, a crashed
worker)."""

from __future__ import annotations

import numbers

EXIT_FAULT = 1  # the environment or the run failed: retrying after fixing it may work
EXIT_INPUT = 2  # the input must change: the same command fails the same way again


class ScenegenError(Exception):
    """Base class of every error scenegen raises on purpose (a fault of the run: exit
    status 1)."""

    exit_status = EXIT_FAULT


class ConfigError(ScenegenError):
    """A configuration value is missing, of the wrong type, or inconsistent."""

    exit_status = EXIT_INPUT


class MeshError(ScenegenError):
    """A mesh file is missing, unreadable, empty, non-finite or degenerate."""

    exit_status = EXIT_INPUT


class PlacementError(ScenegenError):
    """The placement grammar could not be satisfied within its bounded retries.

    Attributes:
        directive: the requested ``(factor, level)`` pairs, sorted (empty without one).
        context: the context the layout was drawn in ("" when unknown).
        rejections: why layouts were rejected -> how many times.
    """

    exit_status = EXIT_INPUT  # placement.* or the directive must change

    def __init__(self, message: str, directive=(), context: str = "", rejections=None):
        super().__init__(message)
        self.directive = tuple(directive)
        self.context = context
        self.rejections = dict(rejections or {})

    def __reduce__(self):  # picklable with its attributes (raised in worker processes)
        return type(self), (str(self), self.directive, self.context, self.rejections)


class RenderError(ScenegenError):
    """No usable OpenGL context, or a frame that cannot be rendered or encoded."""


class DepthOverflowError(RenderError):
    """A depth value does not fit the 16-bit depth PNG at the configured scale."""

    exit_status = EXIT_INPUT  # output.depth_scale or camera.zfar must change


class DamagedFileError(ScenegenError, ValueError):
    """A file scenegen reads (one it wrote, as a rule) is not what it should be: not valid
    JSON, or not the structure expected. A ``ValueError`` too, as the JSON error it
    replaces."""


class CoverageError(ScenegenError, ValueError):
    """A factor, level or tuple outside a coverage tracker's universe, or trackers that
    do not match. A ``ValueError`` too, so plain ``except ValueError`` catches it."""


def choices(values) -> str:
    """Format valid choices for an error message: ``'a', 'b', 'c'``."""
    return ", ".join(repr(v) for v in sorted(values))


def positive_int(value, name: str, meaning: str = "") -> int:
    """``value`` as an int if it is an integer >= 1 (not a bool), else a ConfigError
    naming ``name`` (``meaning``, e.g. "scenes per shard", is added in brackets)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        hint = f" ({meaning})" if meaning else ""
        raise ConfigError(f"{name} must be a positive integer{hint}, got {value!r}")
    return int(value)
