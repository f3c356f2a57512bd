"""The config schema (scenegen.config.schema) drives the checks and the help: unknown
keys get a did-you-mean, ``generate --help`` lists every key with its default, and the
rules declared with each field (choices, bounds) are enforced with messages that name
the key and what would be valid."""

from __future__ import annotations

import dataclasses
import math
import re
import typing

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import MISSING, OmegaConf

from scenegen import load_config
from scenegen.cli import main
from scenegen.config.schema import CONFIG_GROUPS, SceneGenConfig
from scenegen.config.validate import VOCABULARIES, check_fields
from scenegen.errors import EXIT_INPUT, ConfigError
from scenegen.resources import conf_dir

# -- the schema, walked here on its own (not through scenegen.config.keys) ----------------


def _unwrap(hint):
    if typing.get_origin(hint) is typing.Union:  # Optional[X]
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _section(hint):
    """``(dataclass, path suffix)`` of a section, or a mapping or list of sections; else None."""
    hint, suffix = _unwrap(hint), ""
    while not dataclasses.is_dataclass(hint):
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is dict:
            hint, suffix = args[1], suffix + (".<key>" if suffix else ".<name>")
        elif origin is list:
            hint, suffix = args[0], suffix + "[i]"
        else:
            return None
    return hint, suffix


def _default(schema_field):
    if schema_field.default is not dataclasses.MISSING:
        return schema_field.default
    return schema_field.default_factory()


def schema_keys(cls=SceneGenConfig, prefix="", seen=None):
    """``(path, cls, field, hint)`` of every field of the schema, each section walked once
    (where it first appears), as ``generate --help`` lists them."""
    seen = set() if seen is None else seen
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        path, inner = prefix + f.name, _section(hints[f.name])
        yield path, cls, f, hints[f.name]
        if inner is not None and inner[0] not in seen:
            seen.add(inner[0])
            yield from schema_keys(inner[0], f"{path}{inner[1]}.", seen)


def leaf_keys():
    """``(path, default)`` of every leaf key: a field that is not itself a section."""
    return [(path, _default(f)) for path, _, f, hint in schema_keys() if not dataclasses.is_dataclass(_unwrap(hint))]


def typed_back(text: str):
    """The value a command line override ``key=<text>`` sets, as Hydra parses it."""
    value = OverridesParser.create().parse_override(f"key={text}").value()
    return OmegaConf.to_container(OmegaConf.create({"v": value}))["v"]


def load_error(overrides) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(overrides)
    assert info.value.exit_status == EXIT_INPUT
    message = str(info.value)
    assert len(message.splitlines()) == 1, message
    return message


# -- unknown keys, entries and files --------------------------------------------------------


@pytest.mark.parametrize("override, expected", [
    ("nn=5", "unknown config key 'nn'; did you mean 'n'?"),
    ("+nn=5", "unknown config key 'nn'; did you mean 'n'?"),
    ("camera.fovv=50", "unknown config key 'camera.fovv'; did you mean 'camera.fov'?"),
    ("probe.tsk=detection", "unknown config key 'probe.tsk'; did you mean 'probe.task'?"),
    ("dictinary=builtin", "unknown config key 'dictinary'; did you mean 'dictionary'?"),
])
def test_an_unknown_key_gets_a_did_you_mean(override, expected):
    assert expected in load_error([override])


@pytest.mark.parametrize("override, expected", [
    ("rest.levels.chair.on-side=1", "unknown entry or category 'chair' in rest.levels.chair.on-side; there are none in "
                                    "this config: to add one, put a + before the override (+rest.levels.chair.on-side=...)"),
    ("lighting.contexts.studio=[studio]", "unknown context 'studio' in lighting.contexts.studio; there are none in this "
                                          "config: to add one, put a + before the override (+lighting.contexts.studio=...)"),
    ("camera.effects.phone.weight=1", "unknown effects profile 'phone' in camera.effects.phone.weight; there are none in "
                                      "this config: camera.effects gets its entries from a preset or a config file "
                                      "(presets with some: 'realistic')"),
])
def test_an_entry_of_an_empty_mapping_says_how_to_add_one(override, expected):
    """Hydra says only "Key 'chair' is not in struct"; the way the message gives works."""
    assert load_error([override]) == expected


def test_the_ways_to_add_an_entry_to_an_empty_mapping_work():
    assert load_config(["+rest.levels.chair.on-side=1"]).rest.levels.chair["on-side"] == 1
    assert list(load_config(["+lighting.contexts.studio=[studio]"]).lighting.contexts.studio) == ["studio"]
    assert load_config(["preset=realistic", "camera.effects.phone.weight=2"]).camera.effects.phone.weight == 2


def test_an_unknown_key_on_the_command_line_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["generate", f"out={tmp_path / 'd'}", "nn=5"]) == 2
    err = capsys.readouterr().err
    assert err == "scenegen generate: error: unknown config key 'nn'; did you mean 'n'?\n"
    assert not (tmp_path / "d").exists()


def test_an_unknown_context_lists_the_valid_ones():
    valid = sorted(load_config([]).contexts)
    message = load_error(["contexts.rom.weight=2"])
    assert message.startswith("unknown context 'rom' in contexts.rom.weight; did you mean 'room'? valid: ")
    assert message.endswith(", ".join(map(repr, valid)))


def test_an_unknown_object_entry_lists_the_valid_ones():
    message = load_error(["objects.bal.size=[0.1,0.2]"])
    assert "unknown object 'bal'" in message and "did you mean 'ball'?" in message
    assert all(repr(name) in message for name in load_config([]).objects)


@pytest.mark.parametrize("group", ["dictionary", "grammar", "contexts"])
def test_an_unknown_file_of_a_config_group_lists_the_files(group):
    files = sorted(path.stem for path in (conf_dir() / group).glob("*.yaml"))
    message = load_error([f"{group}=foo"])
    assert message.startswith(f"unknown {group} 'foo'; valid: {', '.join(map(repr, files))}")


def test_the_files_of_a_searchpath_folder_are_listed_too(tmp_path):
    (tmp_path / "grammar").mkdir()
    (tmp_path / "grammar" / "mine.yaml").write_text("# @package _global_\n")
    message = load_error([f"hydra.searchpath=[file://{tmp_path}]", "grammar=mien"])
    assert message.startswith("unknown grammar 'mien'; did you mean 'mine'? valid: 'builtin', 'mine'")


# -- generate --help ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def help_lines():
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as info:
        main(["generate", "--help"])
    assert info.value.code == 0
    text = out.getvalue()
    assert text.startswith("usage: scenegen generate")
    lines = text.split("config keys", 1)[1].splitlines()[1:]
    joined = []  # a long key is alone on its line, its default and help on the next
    for line in lines:
        if joined and len(joined[-1].split()) == 1 and line.startswith("    "):
            joined[-1] += "  " + line.strip()
        else:
            joined.append(line)
    return joined


def test_generate_help_lists_every_leaf_key_once_with_its_default(help_lines):
    leaves = leaf_keys()
    assert len(leaves) > 100
    for path, default in leaves:
        found = [line for line in help_lines if line.split()[:1] == [path]]
        assert len(found) == 1, (path, found)
        after = found[0].strip()[len(path):].strip()
        if path in CONFIG_GROUPS:  # contexts: chosen as a file, contexts=builtin
            assert after.startswith(f"{CONFIG_GROUPS[path][0]}  "), found[0]
        elif default is MISSING:
            assert after.startswith(("required", "(dictionary)", "(contexts)", "(grammar)")), found[0]
        else:
            # the default as listed, typed back on the command line, is the default
            assert typed_back(re.split(r"\s{2,}", after, maxsplit=1)[0]) == default, (path, found[0])
    for group in CONFIG_GROUPS:
        assert sum(line.split()[:2] == [group, CONFIG_GROUPS[group][0]] for line in help_lines) == 1


def test_generate_help_lists_the_choices_of_a_key(help_lines):
    line = next(line for line in help_lines if line.split()[:1] == ["strategy"])
    assert line.endswith("random | covering | fill")


# -- the rules of the fields: choices and bounds ----------------------------------------------


def _example_path(path: str) -> str:
    return path.replace("<name>", "x").replace("<key>", "y").replace("[i]", "[0]")


def _fields_with(*rules):
    found = []
    for path, cls, f, hint in schema_keys():
        if any(rule in f.metadata for rule in rules):
            found.append(pytest.param(path, cls, f, hint, id=path))
    return found


def _check(path: str, cls, name: str, value) -> None:
    """check_fields on the section that holds the key, with the key's full path."""
    section = _example_path(path).rpartition(".")[0]
    check_fields({name: value}, cls, section)


CHOICE_FIELDS = _fields_with("choices")


def test_the_schema_declares_choices_and_bounds():
    assert len(CHOICE_FIELDS) >= 10 and len(BOUND_FIELDS) >= 30


@pytest.mark.parametrize("path, cls, f, hint", CHOICE_FIELDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_field_with_choices_rejects_others_and_accepts_each(path, cls, f, hint, data):
    valid = f.metadata["choices"]
    valid = VOCABULARIES[valid] if isinstance(valid, str) else valid
    is_list = typing.get_origin(_unwrap(hint)) is list
    values = st.integers() if all(isinstance(v, int) for v in valid) else st.text(max_size=12)
    bad = data.draw(values.filter(lambda v: v not in valid))
    with pytest.raises(ConfigError) as info:
        _check(path, cls, f.name, [bad] if is_list else bad)
    message = str(info.value)
    assert _example_path(path) in message and repr(bad) in message, message
    assert all(repr(v) in message for v in valid), message
    for value in valid:
        _check(path, cls, f.name, [value] if is_list else value)


BOUND_FIELDS = [p for p in _fields_with("ge", "gt", "le", "lt")]


def _steps(hint):
    """Just below and just above a bound, for the field's number type."""
    if _number_type(hint) is int:
        return lambda b: b - 1, lambda b: b + 1
    return lambda b: math.nextafter(b, -math.inf), lambda b: math.nextafter(b, math.inf)


def _number_type(hint):
    hint = _unwrap(hint)
    while typing.get_origin(hint) in (list, dict):
        hint = typing.get_args(hint)[-1]
    return hint


@pytest.mark.parametrize("path, cls, f, hint", BOUND_FIELDS)
def test_a_field_with_bounds_rejects_just_outside_and_accepts_the_bound(path, cls, f, hint):
    rules = f.metadata
    below, above = _steps(hint)
    kind = int if _number_type(hint) is int else float

    def wrap(x):
        value = [x, x] if rules.get("pair") else x
        if rules.get("each"):
            return {"k": value} if typing.get_origin(_unwrap(hint)) is dict else [value]
        return value

    for rule, bound in ((r, rules[r]) for r in ("ge", "gt", "le", "lt") if r in rules):
        bound = kind(bound)
        outside = {"ge": below(bound), "gt": bound, "le": above(bound), "lt": bound}[rule]
        inside = {"ge": bound, "gt": above(bound), "le": bound, "lt": below(bound)}[rule]
        with pytest.raises(ConfigError) as info:
            _check(path, cls, f.name, wrap(outside))
        assert _example_path(path) in str(info.value), (rule, str(info.value))
        _check(path, cls, f.name, wrap(inside))


@pytest.mark.parametrize("override, key", [("camera.distance=0.5", "camera.distance"),
                                           ("colors.red=0.5", "colors.red")])
def test_a_lone_number_where_a_list_is_due_is_a_config_error(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config([override])
