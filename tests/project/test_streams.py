"""Named random streams (scenegen.streams): every consumer has its own stream, for any
root seed, scene index and round; the scenes' streams are the ones they always had."""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scenegen import streams
from scenegen.streams import END, SCENE_STAGES, Stream, generator, scene_generators, seed_sequence, spawn_key
from scenegen.world.sampler import STAGES, stage_rngs

ROOT = Path(__file__).resolve().parents[2]  # the repository (an installed scenegen may live elsewhere)
OTHERS = [s for s in Stream if s not in SCENE_STAGES]
SS = np.random.SeedSequence


def fingerprint(seq: np.random.SeedSequence) -> tuple:
    """What makes two streams the same: the pool their key words hash to, and the
    generator's first four raw 64-bit outputs."""
    raw = np.random.default_rng(seq).bit_generator.random_raw(4)
    return tuple(int(v) for v in seq.pool), tuple(int(v) for v in raw)


def old_scene_stage(seed: int, index: int, stage: int) -> np.random.SeedSequence:
    """Scene ``index``'s stage stream as the sampler has always built it."""
    return SS(seed, spawn_key=(index,)).spawn(len(SCENE_STAGES))[stage]


@st.composite
def consumers(draw):
    """(stream, indices): scene indices anywhere (several 32-bit words included), the
    other streams' indices over their whole range."""
    stream = draw(st.sampled_from(list(Stream)))
    if stream in SCENE_STAGES:
        index = draw(st.one_of(st.integers(0, 2**20), st.integers(0, 2**100),
                               st.sampled_from([0xF1, 0x5B, 0xC0, 0x9B0E, 0x5B + (0x2A << 32), 0x5B + (0x2B << 32)])))
        return stream, (index,)
    return stream, tuple(draw(st.one_of(st.integers(0, 6), st.integers(0, END))) for _ in stream.indices)


SEEDS = st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 2**200), st.sampled_from([0, 0x5CE7E6E7]))


@settings(max_examples=600, deadline=None)
@given(seed=SEEDS, a=consumers(), b=consumers())
@example(seed=0, a=(Stream.FILL_ROUND, (0,)), b=(Stream.CONTEXT, (241,)))
@example(seed=0, a=(Stream.FILL_ROUND, (4,)), b=(Stream.CAMERA, (241,)))
@example(seed=0, a=(Stream.PROBE_RANDOM, ()), b=(Stream.APPEARANCE, (0x9B0E,)))
@example(seed=0, a=(Stream.SPLIT_TRAIN_ROWS, (3,)), b=(Stream.LIGHTS, (0x5B + (0x2A << 32),)))
@example(seed=5 + (6 << 32) + (7 << 64) + (8 << 96), a=(Stream.COVERING_PLAN, ()), b=(Stream.CONTEXT, (16,)))
def test_no_two_consumers_share_a_stream(seed, a, b):
    """Distinct (stream, indices) under one root seed: distinct keys, pools and draws."""
    first, second = seed_sequence(seed, a[0], *a[1]), seed_sequence(seed, b[0], *b[1])
    if a == b:
        assert fingerprint(first) == fingerprint(second)
        return
    assert (first.entropy, first.spawn_key) != (second.entropy, second.spawn_key)
    fa, fb = fingerprint(first), fingerprint(second)
    assert fa[0] != fb[0] and fa[1] != fb[1], (a, b)


@settings(max_examples=300, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**128 - 1), min_size=2, max_size=2, unique=True), a=consumers(), b=consumers())
def test_streams_of_two_root_seeds_below_2_128_differ(seeds, a, b):
    """A seed below 2**128 fills the 4-word pool prefix alone, so two such seeds never
    share a stream either, whatever the consumers."""
    first, second = seed_sequence(seeds[0], a[0], *a[1]), seed_sequence(seeds[1], b[0], *b[1])
    assert fingerprint(first)[1] != fingerprint(second)[1]


@pytest.mark.parametrize("seed", [0, 3, 2**31 + 5, 2**100 + 7])
def test_the_old_literal_keys_collided_and_the_new_ones_do_not(seed):
    """Before scenegen.streams, fill round r (spawn key (0xF1, r)) drew scene 241's stage r
    stream, the probe's strategies (0x9B0E, 1..3) scene 39694's, and split completion
    round r (0x5B, 0x2A, r) a stage of scene 0x5B + 0x2A * 2**32. Each old key is shown
    to collide (so this test fails on the old scheme), and its stream now to differ."""
    cases = [((0xF1, r), 241, r, (Stream.FILL_ROUND, r)) for r in range(5)]
    cases += [((0x9B0E, k), 0x9B0E, k, (stream,)) for k, stream in
              [(1, Stream.PROBE_COVERING), (2, Stream.PROBE_RANDOM), (3, Stream.PROBE_ADAPTIVE)]]
    cases += [((0x5B, 0x2A, r), 0x5B + (0x2A << 32), r, (Stream.SPLIT_TRAIN_ROWS, r)) for r in range(5)]
    cases += [((0x5B, 0x2B, r), 0x5B + (0x2B << 32), r, (Stream.SPLIT_ANY_ROW, r)) for r in range(5)]
    for old_key, scene, stage, (stream, *indices) in cases:
        scene_stream = fingerprint(old_scene_stage(seed, scene, stage))
        assert fingerprint(SS(seed, spawn_key=old_key)) == scene_stream, old_key
        assert fingerprint(seed_sequence(seed, stream, *indices)) != scene_stream, (stream, indices)
        assert fingerprint(scene_generators(seed, scene)[STAGES[stage]].bit_generator.seed_seq) == scene_stream


def test_a_seed_tag_in_the_entropy_would_not_have_been_enough():
    """Why the non-scene keys end in END rather than carrying the purpose in the entropy:
    ``SeedSequence([s, tag], spawn_key=(r,))`` is scene ``tag``'s stage ``r`` stream
    once ``s`` takes four 32-bit words (numpy concatenates the words)."""
    seed = 5 + (6 << 32) + (7 << 64) + (8 << 96)
    assert fingerprint(SS([seed, 17], spawn_key=(2,))) == fingerprint(old_scene_stage(seed, 17, 2))
    assert fingerprint(seed_sequence(seed, Stream.FILL_ROUND, 2)) != fingerprint(old_scene_stage(seed, 17, 2))


@given(seed=st.integers(0, 2**70), index=st.integers(0, 2**70))
@settings(max_examples=100, deadline=None)
def test_scene_streams_are_the_ones_scenes_always_drew(seed, index):
    """Scene i's stage streams are still the children of SeedSequence(seed, spawn_key=(i,)),
    so every scene keeps its bytes (the environment, effects, surfaces, background, rest
    and engine stages, added later, are children 5 to 10); the sampler takes them from
    scenegen.streams."""
    assert STAGES == ("context", "layout", "appearance", "lights", "camera", "environment", "effects", "surfaces",
                      "background", "rest", "engine")
    mine, sampler = scene_generators(seed, index), stage_rngs(seed, index)
    for k, name in enumerate(STAGES):
        expected = fingerprint(old_scene_stage(seed, index, k))
        assert fingerprint(mine[name].bit_generator.seed_seq) == expected
        assert fingerprint(sampler[name].bit_generator.seed_seq) == expected
        assert spawn_key(SCENE_STAGES[k], index) == (index, k)


def test_scene_streams_are_made_when_asked_for_in_any_order():
    """A scene's stage streams are made on first access (a stage that is off never makes
    its own), the same object when asked again, and draw the same whatever the order
    they are asked for in; the scene index and the root seed are checked at once."""
    forward, backward = scene_generators(3, 41), scene_generators(3, 41)
    assert list(forward) == list(STAGES) and len(forward) == len(STAGES) and not forward._made
    drawn = {name: forward[name].random(2).tolist() for name in STAGES}
    assert {name: backward[name].random(2).tolist() for name in reversed(STAGES)} == drawn
    assert forward["layout"] is forward["layout"] and list(forward._made) == list(STAGES)
    assert scene_generators(3, 41)["rest"].random(2).tolist() == drawn["rest"]  # alone, no other stage made
    with pytest.raises(KeyError):
        forward["lighting"]
    with pytest.raises(ValueError, match="scene must be >= 0"):
        scene_generators(0, -1)
    with pytest.raises(ValueError, match="root seed must be >= 0"):
        scene_generators(-1, 0)


def test_keys_and_arguments():
    assert spawn_key(Stream.FILL_ROUND, 3) == (Stream.FILL_ROUND.tag, 3, END)
    assert spawn_key(Stream.COVERING_PLAN) == (Stream.COVERING_PLAN.tag, END)
    assert len({s.tag for s in Stream}) == len(Stream)
    assert all(s.purpose and s.name.isupper() for s in Stream)
    np.testing.assert_array_equal(generator(7, Stream.FILL_ROUND, 1).random(3), generator(7, Stream.FILL_ROUND, 1).random(3))
    with pytest.raises(TypeError, match="FILL_ROUND takes 1 index"):
        spawn_key(Stream.FILL_ROUND)
    with pytest.raises(TypeError, match="COVERING_PLAN takes 0"):
        spawn_key(Stream.COVERING_PLAN, 1)
    with pytest.raises(ValueError, match="below 2\\*\\*32"):
        spawn_key(Stream.FILL_ROUND, 2**32)
    with pytest.raises(ValueError, match="round must be >= 0"):
        spawn_key(Stream.FILL_ROUND, -1)
    with pytest.raises(TypeError, match="round must be an integer"):
        spawn_key(Stream.FILL_ROUND, 1.0)
    with pytest.raises(ValueError, match="root seed must be >= 0"):
        generator(-1, Stream.CONTEXT, 0)
    with pytest.raises(TypeError, match="Stream"):
        spawn_key("context", 0)
    assert spawn_key(Stream.CONTEXT, np.int64(2**40)) == (2**40, 0)


def test_texture_noise_is_the_renderers_and_apart_from_every_root_seed_stream():
    textures = pytest.importorskip("scenegen.render.textures")
    from scenegen.world.dictionary import Texture

    texture = Texture(pattern="noise", repeats=3.0, contrast=0.4)
    key = f"{texture.pattern}|{texture.repeats!r}|{texture.contrast!r}".encode()
    assert fingerprint(streams.texture_noise_seed(key)) == fingerprint(textures._noise_seed(texture))
    # a texture key has one word; every stream of a root seed, even NOISE_ROOT, two or more
    crc = streams.texture_noise_seed(key).spawn_key[0]
    noise = fingerprint(streams.texture_noise_seed(key))
    for stream in Stream:
        indices = [crc] * len(stream.indices)
        assert fingerprint(seed_sequence(streams.NOISE_ROOT, stream, *indices)) != noise


# Streams with a constant seed, independent of the root seed, that live elsewhere: the
# renderer's texture noise (streams.texture_noise_seed gives the same stream) and the
# preview's colour palette. Anything else must come from scenegen.streams.
CONSTANT_STREAMS = ("np.random.SeedSequence(_NOISE_ROOT,", "np.random.Generator(np.random.PCG64(seed))",
                    "np.random.default_rng(3)")
MAKERS = re.compile(r"(np|numpy)\.random\.(SeedSequence|default_rng|Generator|PCG64|Philox|MT19937|SFC64|seed|RandomState)\("
                    r"|\.spawn\(|^\s*(import random|from random import|from numpy\.random import|from numpy import random)")


def test_no_stream_is_made_outside_scenegen_streams():
    found = []
    for path in sorted([*(ROOT / "scenegen").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]):
        if path.name == "streams.py" and path.parent.name == "scenegen":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if MAKERS.search(code) and not any(allowed in code for allowed in CONSTANT_STREAMS):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "make generators with scenegen.streams.generator:\n" + "\n".join(found)


def test_the_readme_lists_every_stream():
    assert streams.table() in (ROOT / "README.md").read_text()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.0, 1e-9, 0.1, 0.25, 1.0, 3.0, 7.5]) | st.floats(0.0, 10.0), min_size=1, max_size=12)
       .filter(lambda w: sum(w) > 0), st.integers(0, 2**32 - 1))
def test_draw_index_is_numpys_weighted_choice_from_the_same_stream(weights, seed):
    """The sampler's weighted draws: the index rng.choice gives, and the stream left where
    it leaves it, for any weights (zeros among them) and seed."""
    p = np.array(weights) / np.sum(weights)
    ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
    sums = streams.cumulative(p)
    for _ in range(8):
        assert streams.draw_index(ours, sums) == int(numpys.choice(len(p), p=p))
    assert ours.random() == numpys.random()


@pytest.mark.parametrize("bad", [[], [0.0, 0.0], [0.5, -0.1, 0.6], [0.5, float("nan")], [float("inf"), 1.0]])
def test_cumulative_refuses_what_numpy_refuses(bad):
    with pytest.raises(ValueError, match="probabilities must be finite"):
        streams.cumulative(bad)
