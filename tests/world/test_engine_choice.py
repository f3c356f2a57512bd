"""render.engine and render.engine_mix: which engine draws each scene's colour image,
drawn from its own stream, recorded only when chosen, a factor and a directive factor."""

from __future__ import annotations

import importlib.util
from collections import Counter

import pytest

from scenegen import load_config
from scenegen.errors import ConfigError
from scenegen.scene.factors import engine_levels
from scenegen.scene.scene import Scene
from scenegen.world.compile import World
from scenegen.world.sampler import Sampler

MIX = ["width=64", "height=48", "++render.engine_mix={raster: 3, pathtraced: 1}"]


def test_the_rasterizer_alone_is_no_choice_and_writes_no_key():
    scene = Sampler(load_config(["width=64", "height=48"])).sample(3)
    assert scene.engine == "" and "engine" not in scene.to_dict()
    assert engine_levels(load_config(["width=64", "height=48"])) == []


def test_a_mix_draws_each_engine_by_weight_from_its_own_stream():
    """About a quarter path traced; everything else about the scenes is what the
    rasterizer alone gives (the engine has its own stream); the record round-trips."""
    mixed, plain = Sampler(load_config(MIX)), Sampler(load_config(["width=64", "height=48"]))
    engines = Counter(mixed.sample(i).engine for i in range(400))
    assert set(engines) == {"raster", "pathtraced"}
    assert 70 <= engines["pathtraced"] <= 130  # 100 expected, 4 sigma = 35
    for index in range(5):
        scene = mixed.sample(index)
        assert Scene.from_json(scene.to_json()) == scene
        assert scene.to_dict()["engine"] == scene.engine
        assert scene.objects == plain.sample(index).objects and scene.camera == plain.sample(index).camera


def test_engine_is_a_factor_and_a_directive_factor():
    cfg = load_config([*MIX, "factors.tracked=[category,pose,context,engine]"])
    levels, _ = World.of(cfg).factor_levels
    assert levels["engine"] == ["raster", "pathtraced"]
    sampler = Sampler(cfg)
    assert {sampler.sample(i, {"engine": "pathtraced"}).engine for i in range(6)} == {"pathtraced"}
    one = load_config(["width=64", "height=48", "render.engine=pathtraced"])
    assert engine_levels(one) == ["pathtraced"] and Sampler(one).sample(0).engine == "pathtraced"


@pytest.mark.parametrize("overrides, message", [
    (["++render.engine_mix={raster: 1, cycles: 1}"], r"render.engine_mix names 'cycles', which is no engine; valid: 'pathtraced', 'raster'"),
    (["++render.engine_mix={raster: 0, pathtraced: 0}"], r"every engine has weight 0"),
    (["++render.engine_mix={raster: fast}"], r"render.engine_mix.raster must be a weight >= 0"),
    (["render.engine=cycles"], r"render.engine"),
    (["factors.tracked=[category,engine]"], r"names 'engine', which scenes do not have: mix engines"),
    (["directive={engine:pathtraced}"], r"directive engine 'pathtraced' is not an engine scenes are drawn with"),
    (["render.spp=0"], r"render.spp"),
])
def test_bad_render_settings_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides)


def test_the_path_tracer_without_mitsuba_is_refused_with_the_install_hint(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mitsuba" else real(name, *a))
    with pytest.raises(ConfigError, match=r"render.engine=pathtraced: the path tracer needs Mitsuba 3.*"
                                          r"pip install 'scenegen\[pathtraced\]'"):
        load_config(["render.engine=pathtraced", "seed=918273"])  # a config no other test validates (memo)
