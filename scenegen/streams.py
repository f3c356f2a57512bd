"""Named random streams: the one module that owns every stream key, with its purpose.

Every random draw of scenegen comes from a ``numpy.random.Generator`` handed out here
for (root seed, :class:`Stream`, indices): ``generator(cfg.seed, Stream.FILL_ROUND, r)``.
No other module builds a ``SeedSequence`` from the root seed or writes a spawn key.

The keys, and why no two streams can be the same. Every stream of root seed ``s`` is
``SeedSequence(s, spawn_key=key)``, which hashes the 32-bit words of ``s`` (zero-padded
to 4 words, as the key is never empty) followed by the words of ``key``. For one ``s``
the prefix is common, so two streams are the same exactly when their key words are:

- scene ``i``, stage ``k`` (:data:`SCENE_STAGES`, ``k`` in 0..10): ``key = (i, k)``,
  the ``k``-th child spawned from ``SeedSequence(s, spawn_key=(i,))`` (what the
  scenes always used, so every scene is unchanged). ``i`` is any index >= 0 (a large
  one takes several words); the key's last word is the stage number, at most 10 (stages
  5 to 10, the environment, the camera effects, the texture sets, the background
  photograph, the rest states and the render engine, came later: the children 0..4 of
  the scene's sequence, and so every scene made before them, are unchanged).
- every other stream: ``key = (tag, *indices, END)``, each index one word
  (``0 <= index < 2**32``), a fixed number of indices per stream. The last word is
  :data:`END` (``2**32 - 1``), which no scene key ends with; the first word, the
  stream's tag, is distinct per stream, and with a fixed count of one-word indices
  the words determine (stream, indices).
- texture noise (:func:`texture_noise_seed`) is ``SeedSequence(NOISE_ROOT,
  spawn_key=(crc,))``, a key of one word, where every stream of a root seed has at
  least two: it differs from all of them even for ``s == NOISE_ROOT``.

So for any root seed, any scene index and any indices, two distinct (stream, indices)
are distinct word sequences, hence distinct streams (``tests/project/test_streams.py`` checks
it over random indices and streams, by key words, pools and draws). Before this
module the literal keys collided: fill round ``r`` drew ``(0xF1, r)``, which is scene
241's stage ``r``; the probe's ``(0x9B0E, 1..3)`` were scene 39694's layout,
appearance and lights streams; the split completion rounds' ``(0x5B, 0x2A, r)`` were
a stage of scene ``0x5B + 0x2A * 2**32``. A second root seed below ``2**128`` also
never meets these streams (its 4-word prefix differs).
"""

from __future__ import annotations

import bisect
import enum
import operator
import zlib
from collections.abc import Iterator, Mapping

import numpy as np

END = 2**32 - 1  # last key word of every non-scene stream; scene keys end in a stage number
NOISE_ROOT = 0x5CE7E6E7  # entropy of every noise texture's stream (independent of the root seed)


class Stream(enum.Enum):
    """Every named stream: ``tag`` (its key's distinguishing word), ``indices`` (the names
    of the indices it takes) and ``purpose`` (what draws from it)."""

    # the five sampling stages of a scene (tag = stage number; key (scene, tag))
    CONTEXT = (0, ("scene",), "a scene's context (room, outdoor, ...), by the contexts' weights")
    LAYOUT = (1, ("scene",), ("a scene's grammar derivation, categories, entries, part styles, placement, and a "
                              "directive's target, pose and occluders"))
    APPEARANCE = (2, ("scene",), "a scene's object colours, materials and textures")
    LIGHTS = (3, ("scene",), "a scene's lights: number, directions, tints, intensities")
    CAMERA = (4, ("scene",), "a scene's camera: azimuth, elevation, field of view, distance factor")
    ENVIRONMENT = (5, ("scene",), "a scene's environment map (lighting.environment=random), its turn and intensity")
    EFFECTS = (6, ("scene",), "a scene's camera-effects profile, its strengths and its sensor-noise seed")
    SURFACES = (7, ("scene",), "a scene's texture sets (surfaces.sets): the set of each plain object's class")
    BACKGROUND = (8, ("scene",), "a scene's background photograph (background.images): whether, and which")
    REST = (9, ("scene",), "a scene's rest states (rest.chance): whether each object lies, and in which level")
    ENGINE = (10, ("scene",), "a scene's render engine (render.engine_mix), by the engines' weights")
    # datasets designed from the root seed (key (tag, *indices, END), as for all that follow)
    COVERING_PLAN = (16, (), "strategy=covering: the covering-array search whose rows direct the scenes")
    FILL_ROUND = (17, ("round",), "strategy=fill: the top-up rows (covering-array completion) of each round")
    SPLIT_HELD_OUT = (18, (), "split.fraction: the random order in which held-out tuples are drawn")
    SPLIT_ANY_ROW = (19, ("round",), "split completion, each round: the row of one scene when train is empty")
    SPLIT_TRAIN_ROWS = (20, ("round",), "split completion, each round: rows showing the sub-tuples train still lacks")
    # the probe's search, one stream per strategy
    PROBE_COVERING = (21, (), "probe.strategy=covering: the covering arrays of each pass")
    PROBE_RANDOM = (22, (), "probe.strategy=random: the rows drawn among the feasible ones")
    PROBE_ADAPTIVE = (23, (), ("probe.strategy=adaptive: covering pass, Thompson draws, random completions, "
                               "local-search perturbations"))
    # diagnostics and benchmarks, seeded by their own seed argument
    HIT_RATE_DIRECTIVES = (24, (), ("design.hitrate.random_directives: the feasible directives whose hit rate "
                                    "is measured (benchmarks/bench_directives.py)"))
    BENCH_COVERING = (25, (), "benchmarks/bench_covering.py: the covering-array search of each case")
    BENCH_COVERAGE = (26, (), "benchmarks/bench_coverage.py: the synthetic records' factor levels and sizes")
    BENCH_LIBRARIES = (27, (), "benchmarks/bench_libraries.py: the proportions and surface noise of its meshes")
    BENCH_SETTLE = (28, (), "benchmarks/bench_settle.py: the orientations and spots of its piles' objects")

    def __init__(self, tag: int, indices: tuple[str, ...], purpose: str):
        self.tag = tag
        self.indices = indices
        self.purpose = purpose

    @property
    def is_scene_stage(self) -> bool:
        return self in SCENE_STAGES


SCENE_STAGES = (Stream.CONTEXT, Stream.LAYOUT, Stream.APPEARANCE, Stream.LIGHTS, Stream.CAMERA, Stream.ENVIRONMENT,
                Stream.EFFECTS, Stream.SURFACES, Stream.BACKGROUND, Stream.REST,
                Stream.ENGINE)
STAGE_NAMES = tuple(stage.name.lower() for stage in SCENE_STAGES)  # "context", "layout", ...
assert [stage.tag for stage in SCENE_STAGES] == list(range(len(SCENE_STAGES)))
assert END > len(SCENE_STAGES) - 1 and len({s.tag for s in Stream}) == len(Stream)


def _word(value, what: str) -> int:
    """``value`` as a non-negative int; ``what`` names it in the errors."""
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, got {value!r}") from None
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return value


def spawn_key(stream: Stream, *indices: int) -> tuple[int, ...]:
    """The spawn key of ``stream`` with ``indices`` (see the module docstring).

    Raises:
        TypeError, ValueError: the wrong number of indices, or one that is negative, not
            an integer, or (for a non-scene stream) not below ``2**32``.
    """
    if not isinstance(stream, Stream):
        raise TypeError(f"stream must be a scenegen.streams.Stream, got {stream!r}")
    if len(indices) != len(stream.indices):
        names = ", ".join(stream.indices) or "none"
        raise TypeError(f"stream {stream.name} takes {len(stream.indices)} index(es) ({names}), got {len(indices)}")
    words = tuple(_word(v, f"stream {stream.name}: {name}") for v, name in zip(indices, stream.indices))
    if stream.is_scene_stage:
        return (words[0], stream.tag)
    too_big = [v for v in words if v > END]
    if too_big:
        raise ValueError(f"stream {stream.name}: indices must be below 2**32, got {too_big[0]}")
    return (stream.tag, *words, END)


def seed_sequence(seed: int, stream: Stream, *indices: int) -> np.random.SeedSequence:
    """``SeedSequence(seed, spawn_key=spawn_key(stream, *indices))``; ``seed`` >= 0."""
    key = spawn_key(stream, *indices)
    return np.random.SeedSequence(_word(seed, "root seed"), spawn_key=key)


def generator(seed: int, stream: Stream, *indices: int) -> np.random.Generator:
    """The Generator of ``stream`` with ``indices`` under root ``seed`` (the only way
    scenegen makes one): ``generator(cfg.seed, Stream.FILL_ROUND, r)``."""
    return np.random.default_rng(seed_sequence(seed, stream, *indices))


def scene_generators(seed: int, index: int) -> "SceneGenerators":
    """One independent Generator per sampling stage of scene ``index`` of root ``seed``,
    by stage name (:data:`STAGE_NAMES`). They depend only on (seed, index, stage):
    the children of ``SeedSequence(seed, spawn_key=(index,))``, so a scene can be
    regenerated alone, in any process and order. Each is made when first asked for
    (a stage that is off costs nothing).

    Raises:
        TypeError, ValueError: ``seed`` or ``index`` is negative or not an integer.
    """
    index = _word(index, f"stream {Stream.CONTEXT.name}: scene")  # checked first, as spawn_key did
    return SceneGenerators(_word(seed, "root seed"), index)


class SceneGenerators(Mapping):
    """Stage name -> the Generator of that stage of one scene (:func:`scene_generators`):
    ``generator(seed, stage, index)``, made on first access and then the same object."""

    def __init__(self, seed: int, index: int):
        self._seed, self._index = seed, index
        self._made: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        found = self._made.get(name)
        if found is None:
            tag = _STAGE_TAGS[name]  # KeyError for a name that is no stage
            # generator(seed, stage, index) without checking the words again
            sequence = np.random.SeedSequence(self._seed, spawn_key=(self._index, tag))
            found = self._made[name] = np.random.default_rng(sequence)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(STAGE_NAMES)

    def __len__(self) -> int:
        return len(STAGE_NAMES)


_STAGE_TAGS = {name: stage.tag for name, stage in zip(STAGE_NAMES, SCENE_STAGES)}  # stage name -> key word


def cumulative(probabilities) -> tuple[float, ...]:
    """The cumulative sums numpy's ``Generator.choice(n, p=probabilities)`` searches: the
    float64 ``p.cumsum()``, divided by its last (for :func:`draw_index`).

    Raises:
        ValueError: a probability is negative or not finite, or they sum to 0.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or not len(p) or not np.all(np.isfinite(p)) or np.any(p < 0) or not p.sum() > 0:
        raise ValueError(f"probabilities must be finite, >= 0 and not all 0, got {p.tolist()}")
    sums = p.cumsum()
    sums /= sums[-1]
    return tuple(sums.tolist())


def draw_index(rng: np.random.Generator, sums: tuple[float, ...]) -> int:
    """``int(rng.choice(len(sums), p=p))`` for ``sums = cumulative(p)``: the same index from
    the same draw (numpy's choice takes one ``rng.random()`` and finds where it falls
    among the sums, from the right), without choice's checks of ``p`` (about 10 us a
    call): the sampler makes dozens of such draws per scene."""
    return bisect.bisect_right(sums, rng.random())


def texture_noise_seed(key: bytes) -> np.random.SeedSequence:
    """The stream of a noise texture described by ``key`` (its parameters, as bytes):
    ``SeedSequence(NOISE_ROOT, spawn_key=(crc32(key),))``, independent of the root seed
    (the same texture looks the same in every dataset)."""
    return np.random.SeedSequence(NOISE_ROOT, spawn_key=(zlib.crc32(key),))


def table() -> str:
    """The streams as a Markdown table: name, key, purpose."""
    rows = ["| stream | key | purpose |", "| --- | --- | --- |"]
    for stream in Stream:
        names = ", ".join(stream.indices)
        key = f"({stream.indices[0]}, {stream.tag})" if stream.is_scene_stage else \
            f"({stream.tag}, {names + ', ' if names else ''}END)"
        rows.append(f"| `{stream.name}` | `{key}` | {stream.purpose} |")
    return "\n".join(rows)
