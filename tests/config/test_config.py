import pytest
from deadline import deadline
from omegaconf import OmegaConf
from omegaconf.errors import ReadonlyConfigError

from scenegen import load_config
from scenegen.config import load as config_load
from scenegen.config.load import config_from_dict, config_to_dict
from scenegen.config.schema import SceneGenConfig, category_ids
from scenegen.config.validate import output_formats
from scenegen.errors import EXIT_INPUT, ConfigError


def test_defaults_and_overrides(cfg):
    assert (cfg.n, cfg.seed, cfg.workers, cfg.width, cfg.height, cfg.out) == (20, 0, 1, 256, 256, "scenegen_out")
    over = load_config(["n=7", "seed=3", "workers=2", "width=320", "height=200", "out=/tmp/x"])
    assert (over.n, over.seed, over.workers, over.width, over.height, over.out) == (7, 3, 2, 320, 200, "/tmp/x")


def test_config_is_typed_by_the_schema_and_read_only(cfg):
    assert OmegaConf.get_type(cfg) is SceneGenConfig
    with pytest.raises(ReadonlyConfigError):
        cfg.n = 5


def test_round_trip_through_a_plain_dict(cfg):
    assert config_from_dict(config_to_dict(cfg)) == cfg


def test_category_ids_start_at_one(cfg):
    ids = category_ids(cfg)
    assert ids[cfg.categories[0]] == 1 and sorted(ids.values()) == list(range(1, len(cfg.categories) + 1))


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["nope=1"], "'nope'"),
        (["+nope=1"], "'nope'"),
        (["n=many"], "'n'"),
        (["n=-1"], "n must be >= 0"),
        (["workers=0"], "workers"),
        (["height=8"], "height"),
        (["camera.fov=[60,40]"], "camera.fov"),
        (["placement.objects=[0,3]"], "placement.objects"),
        (["objects.ball.category=blob"], "'blob'"),
        (["objects.ball.colors=[teal]"], "'teal'"),
        (["objects.ball.symmetry=3"], "symmetry"),
        (["objects.ball.mesh=meshes/mug.ply"], "exactly one of"),
        (["objects.ball.shape=pyramid"], "'pyramid'"),
        (["contexts.room.weights={piano: 1.0}"], "'piano'"),
        (["contexts.studio.default_weight=0"], "weight 0 to every category"),
        (["factors.occlusion_partial_min=0.99"], "occlusion"),
        (["output.depth_scale=0"], "depth_scale"),
        (["dictionary=missing"], "unknown dictionary 'missing'; valid: 'builtin'"),
        (["grammar=missing"], "unknown grammar 'missing'; valid: 'builtin'"),
        (["nn=5"], "unknown config key 'nn'; did you mean 'n'?"),
        (["lights.cont=[1,2]"], "unknown config key 'lights.cont'; did you mean 'lights.count'?"),
        (["contexts.rom.weight=2"], "unknown context 'rom' in contexts.rom.weight; did you mean 'room'? valid: "),
        (["objects.ball.shape=spere"], "objects.ball.shape is 'spere'; did you mean 'sphere'? valid: 'box'"),
        (["probe.task=detect"], "probe.task is 'detect'; did you mean 'detection'? valid: 'classification', 'detection'"),
        (["meshes.max_faces=0"], "meshes.max_faces must be a positive integer"),
        (["grammar.max_depth=100000"], "grammar.max_depth must be between 1 and 64, got 100000"),
        (["grammar.rules.scene=[{repeat: ball, count: [1000000, 1000000000]}]"], "grammar.rules.scene[0].count is"),
    ],
)
def test_bad_configs_name_the_problem(overrides, message):
    with deadline(60), pytest.raises(ConfigError, match=None) as info:
        load_config(overrides)
    assert message in str(info.value)
    assert info.value.exit_status == EXIT_INPUT


BROKEN_YAML = """# @package _global_
grammar:
  start: scene
  rules:
    scene:
      - {object: ball
"""


def test_a_yaml_syntax_error_in_a_users_file_names_the_file_and_line(tmp_path):
    (tmp_path / "grammar").mkdir()
    path = tmp_path / "grammar" / "broken.yaml"
    path.write_text(BROKEN_YAML)
    with pytest.raises(ConfigError) as info:
        load_config([f"hydra.searchpath=[file://{tmp_path}]", "grammar=broken"])
    message = str(info.value)
    assert f"config file {str(path)!r} is not valid YAML at line 7, column 1" in message
    assert "started at line 6, column 9" in message and len(message.splitlines()) == 1
    assert info.value.exit_status == EXIT_INPUT


def test_a_syntax_error_in_an_override_is_one_clean_line():
    with pytest.raises(ConfigError) as info:
        load_config(["grammar.rules.scene=[{repeat: ball, count: [1, 2]"])
    message = str(info.value)
    assert "grammar.rules.scene=" in message or "[{repeat: ball, count: [1, 2]" in message
    assert not message.endswith("None") and len(message.splitlines()) == 1


def test_output_formats_one_or_several_and_coco_always(cfg):
    assert output_formats(cfg) == ["coco"]
    assert output_formats(load_config(["format=bop"])) == ["coco", "bop"]
    assert output_formats(load_config(["format=[bop,webdataset,hf]"])) == ["coco", "webdataset", "hf", "bop"]
    with pytest.raises(ConfigError, match=r"format 'tfrecord' is unknown; valid: 'bop', 'coco', 'hf', 'webdataset'"):
        load_config(["format=[hf,tfrecord]"])
    with pytest.raises(ConfigError, match="output.shard_size must be >= 1"):
        load_config(["output.shard_size=0"])


UNKNOWN_KEYS = [
    ["nn=5"],
    ["lights.cont=[1,2]"],
    ["contexts.rom.weight=2"],
    ["objects.chiar.size=[1,2]"],
    ["n=3", "camera.fovv=40"],
    ["preset=realistic", "lighting.enviroment=random"],
    ["lights.cont=1", "nn=3"],  # the first one is named
    ["grammar.rules.scene.weight=2", "nn=3"],  # a list on the way: Hydra judges it, then nn is named
    ["rest.levels.chair.on-side=1"],  # an entry of an empty mapping
    ["camera.effects.phone.weight=1"],
]


@pytest.mark.parametrize("overrides", UNKNOWN_KEYS, ids=lambda o: " ".join(o))
def test_an_unknown_key_is_named_without_composing_the_files_again(overrides, monkeypatch):
    """Where the group choices' config lacks an override's key, the message is the one
    Hydra's refusal gets (:func:`_unknown_override` on Hydra's own tree of those choices),
    given before Hydra composes anything."""
    with pytest.raises(ConfigError) as hydras:
        config_load._compose_with_hydra(list(overrides), "config")
    load_config([o for o in overrides if o.split("=")[0] in ("preset",)])  # the group choices' config, remembered
    composed = []
    monkeypatch.setattr(config_load, "_compose_with_hydra", lambda *args: composed.append(args))
    if overrides[0].startswith("grammar.rules"):  # not found lacking in the config: Hydra's path, as before
        config_load._compose(list(overrides), "config")
        assert composed
        return
    with pytest.raises(ConfigError) as fast:
        config_load._compose(list(overrides), "config")
    assert not composed
    assert str(fast.value) == str(hydras.value)
    assert fast.value.exit_status == EXIT_INPUT


WRONG_TYPES = [
    ["n=many"], ["width=abc"], ["seed=1.5"], ["progress=maybe"], ["output.png_compress_level=abc"],
    ["lights.count=[1,x]"], ["preset=realistic", "camera.fov=[a,40]"], ["n=3", "height=tall", "width=wide"],
    ["contexts.studio.weight=heavy"], ["preset=realistic", "camera.effects.phone.weight=abc"], ["rest.chance=often"],
]


@pytest.mark.parametrize("overrides", WRONG_TYPES, ids=lambda o: " ".join(o))
def test_a_value_of_the_wrong_type_is_refused_before_composing_with_hydras_message(overrides, monkeypatch):
    """A value the config's type refuses (``n=many``) is refused where it is set on the
    remembered config of the group choices, with the message Hydra's composition gives
    (its own ``OmegaConf.update`` on the same tree, wrapped as Hydra wraps it), without
    that composition (about 1.3 s)."""
    with pytest.raises(ConfigError) as hydras:
        config_load._compose_with_hydra(list(overrides), "config")
    load_config([o for o in overrides if o.split("=")[0] in ("preset",)])  # the group choices' config, remembered
    composed = []
    monkeypatch.setattr(config_load, "_compose_with_hydra", lambda *args: composed.append(args))
    with pytest.raises(ConfigError) as fast:
        config_load._compose(list(overrides), "config")
    assert not composed
    assert str(fast.value) == str(hydras.value)
    assert fast.value.exit_status == EXIT_INPUT


@pytest.mark.parametrize("overrides", [
    ["n=-1"], ["camera.fov=[60,40]"], ["objects.ball.category=blob"], ["probe.task=detect"], ["output.depth_scale=0"],
    ["preset=realistic", "camera.fov=[0,1]"], ["objects.ball.shape=spere"], ["contexts.studio.default_weight=0"],
], ids=lambda o: " ".join(o))
def test_a_value_validation_refuses_is_refused_before_composing_with_hydras_message(overrides, monkeypatch):
    """Values set on the remembered config of the group choices make Hydra's config: a
    value that validation refuses there is refused with the message Hydra's composition
    would have got, without that composition (about 1.3 s)."""
    with pytest.raises(ConfigError) as hydras:
        config_load._compose_with_hydra(list(overrides), "config")
    composed = []
    monkeypatch.setattr(config_load, "_compose_with_hydra", lambda *args: composed.append(args))
    with pytest.raises(ConfigError) as fast:
        config_load._compose(list(overrides), "config")
    assert not composed and str(fast.value) == str(hydras.value)
