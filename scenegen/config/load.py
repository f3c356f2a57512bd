"""Composing and loading configs: the one place a config is built.

:func:`compose_config` composes the YAML tree in ``conf/`` with Hydra's compose API, so
the CLI, Python scripts and tests all get exactly the same config, types it by the
schema (:mod:`scenegen.config.schema`; OmegaConf rejects wrong types against it) and
validates it (:mod:`scenegen.config.validate`). :func:`config_from_dict` and
:func:`config_to_dict` carry a config to worker processes and manifests. Hydra's and
YAML's errors become one line naming the key or file, with the valid choices.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import pickle
import typing
from typing import Any, Optional, Sequence

import yaml
from omegaconf import MISSING, DictConfig, OmegaConf, ValidationError
from omegaconf.errors import OmegaConfBaseException
from omegaconf.nodes import BooleanNode, FloatNode, IntegerNode, StringNode

from ..errors import ConfigError
from ..resources import conf_dir
from .memo import changing, compose_key, data_key, plain_of, remembered
from .schema import CONFIG_GROUPS, SceneGenConfig, field_default
from .validate import check_fields, override_key_problem, unknown_name, validate_config

_SCHEMA_NAME = "scenegen_schema"


def _register_schema() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=_SCHEMA_NAME, node=SceneGenConfig)


def compose_config(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose the config tree with Hydra and validate its values (the dictionary and the
    grammar are checked against each other by :func:`scenegen.world.compile.load_config`);
    the same inputs give the same config, kept in :mod:`scenegen.config.memo`.

    Args:
        overrides: Hydra override strings, e.g. ``["n=10", "width=512"]``.
        config_name: top-level config file in ``conf/`` (without ``.yaml``).

    Returns:
        A read-only, fully resolved ``DictConfig`` typed by :class:`SceneGenConfig`.

    Raises:
        ConfigError: an unknown key, a wrong type, or an inconsistent value; the message
            names the key.
    """
    overrides = list(overrides)
    return remembered(compose_key(overrides, config_name), lambda: _compose(overrides, config_name))


def _compose(overrides: list, config_name: str) -> DictConfig:
    """:func:`compose_config` without the memo: the config of the overrides' config-group
    choices (remembered) with their values set on it where that is the same config, else
    Hydra's composition. An override naming a key that config lacks is refused at once,
    with the message Hydra's refusal would have got (:func:`_unknown_override` on the
    same entries), without composing the files twice more."""
    lacking: list = []
    found = _defaults_with(overrides, config_name, lacking)
    if found is not None:
        return found
    if lacking:
        problem = _unknown_override(overrides, config_name, lacking[0])
        if problem:
            raise ConfigError(problem)
    return _compose_with_hydra(overrides, config_name)


def _defaults_with(overrides: list, config_name: str, lacking: Optional[list] = None) -> Optional[DictConfig]:
    """The config of ``overrides`` made by setting each value override on a copy of the
    config of their config-group choices alone (``preset=realistic``; the defaults' config
    when there are none; remembered), as Hydra sets a value override on the tree its
    groups compose, without composing the YAML files again: a new ``out=`` or ``seed=``
    beside a group choice costs no composition. None where only Hydra's composition gives
    the config or its error: no value override, an append or deletion, a group choice
    with a package or a sweep, a key the tree lacks, an interpolation, a list or mapping
    for a node that holds schema dataclasses in containers (filled by
    :func:`_with_nested_defaults`), or any other value the schema refuses. Where a key
    is lacking, the plain containers of the group choices' config are appended to
    ``lacking`` (when given).

    Raises:
        ConfigError: a value of the wrong type for its key (``n=many``: the message
            Hydra's composition gives, which sets the override with the same
            ``OmegaConf.update`` on the same tree), or a value validation refuses
            (:func:`validate_config` on the config Hydra's composition gives, which
            would refuse it with the same message).
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    if not overrides:
        return None
    overrides, directive = _split_directive(overrides)
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException:
        return None
    changes, groups = [], []  # changes: (key, value, the override's text)
    for text, override in zip(overrides, parsed):
        key = override.key_or_group
        if (override.package is not None or override.is_add() or override.is_force_add() or override.is_delete()
                or override.is_sweep_override() or key.startswith("hydra")):
            return None
        if key in CONFIG_GROUPS:
            groups.append(text)
            continue
        value = override.value()
        dumped = json.dumps(value, default=str)
        if "${" in dumped or value == "???" or (isinstance(value, (dict, list)) and _holds_nested_schema(key)):
            return None
        changes.append((key, value, text))
    if not changes and directive is None:
        return None  # group choices alone: Hydra composes them
    base = compose_config(groups, config_name)
    plain = plain_of(base)
    cfg = changing(base)  # a writable copy once unlocked
    OmegaConf.set_readonly(cfg, False)
    OmegaConf.set_struct(cfg, True)  # as Hydra's tree: no new keys in any mapping without +
    refusal = None
    try:
        for key, value, text in changes:
            if OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=False) is _ABSENT:
                if lacking is not None and plain is not None:
                    lacking.append(plain)
                return None
            try:
                OmegaConf.update(cfg, key, value, merge=True)
            except ValidationError as exc:  # a value of the wrong type for a key the tree has
                # Hydra's composition sets the override with this very call on this tree
                # and wraps the error so (ConfigLoaderImpl._apply_overrides_to_config)
                refusal = HydraException(f"Error merging override {text}")
                refusal.__cause__ = exc
                break
        OmegaConf.set_struct(cfg, None)
        if directive is not None:
            cfg.directive = _parse_directive(directive)
    except (OmegaConfBaseException, ConfigError, ValueError, HydraException):
        return None
    if refusal is not None:
        raise ConfigError(_clean_hydra_message(refusal))
    # Hydra's config, values and all: what validation refuses here it refuses there, with the
    # same message (Hydra's path validates after composing; this saves that composition)
    validate_config(cfg)
    OmegaConf.set_readonly(cfg, True)
    return cfg


_ABSENT = object()


def _split_directive(overrides: list) -> tuple[list, Optional[str]]:
    """(the overrides other than ``directive=...``, the last ``directive=...`` or None):
    the directive is a free mapping of factor -> level, parsed by :func:`_parse_directive`
    and checked against the world later, not by Hydra."""
    directives = [o for o in overrides if o.startswith("directive=")]
    return [o for o in overrides if not o.startswith("directive=")], directives[-1] if directives else None


def _holds_nested_schema(key: str) -> bool:
    """Whether the node at ``key`` is or holds schema dataclasses inside containers
    (an object entry, its parts and part rules, the grammar's rules)."""
    path = key.split(".")
    if path[0] == "objects":
        return len(path) <= 2 or "parts" in path or "part_rules" in path
    return path[0] == "grammar" and (len(path) == 1 or path[1] == "rules")


def _compose_with_hydra(overrides: list, config_name: str) -> DictConfig:
    """The config of ``overrides`` composed from the YAML files by Hydra."""
    from hydra import MissingConfigException, compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    _register_schema()
    GlobalHydra.instance().clear()
    try:
        overrides, directive = _split_directive(overrides)
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            cfg = compose(config_name=config_name, overrides=overrides)
        data = OmegaConf.to_container(cfg)
        if directive is not None:
            data["directive"] = _parse_directive(directive)
        # An appended key (``+nn=5``) or one a searchpath file sets slips past compose:
        # named here with a did-you-mean; merging into the schema then checks the types.
        check_fields(data, rules=False)
        cfg = OmegaConf.merge(OmegaConf.structured(SceneGenConfig), _with_nested_defaults(data, SceneGenConfig))
        OmegaConf.resolve(cfg)
        missing = sorted(OmegaConf.missing_keys(cfg))
    except MissingConfigException as exc:  # no such file in a config group (dictionary=foo)
        raise ConfigError(_missing_option_message(exc) or _clean_hydra_message(exc)) from None
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(_unknown_override(overrides, config_name) or _clean_hydra_message(exc)) from None
    except yaml.YAMLError as exc:  # a config file found through hydra.searchpath
        raise ConfigError(_yaml_message(exc)) from None
    finally:
        GlobalHydra.instance().clear()
    if missing:
        raise ConfigError(f"config keys without a value: {', '.join(missing)}")
    validate_config(cfg)
    OmegaConf.set_readonly(cfg, True)
    return cfg


def _missing_option_message(exc) -> Optional[str]:
    """``unknown dictionary 'foo'; valid: 'builtin' ...`` for a missing file of a config
    group (Hydra lists the group's files, those of ``hydra.searchpath`` folders too)."""
    group, _, name = str(exc.missing_cfg_file or "").rpartition("/")
    if group not in CONFIG_GROUPS or exc.options is None:
        return None
    return (f"{unknown_name(group, name, exc.options)} (the files of conf/{group}/ and of "
            f"{group}/ in any hydra.searchpath folder)")


def _unknown_override(overrides: Sequence[str], config_name: str, data: Optional[dict] = None) -> Optional[str]:
    """The message for the first override that names no key of the config (``nn=5``,
    ``contexts.rom.weight=2``), with a did-you-mean; None when every key exists.

    Called after Hydra refused ``overrides``: the tree is composed again with only the
    overrides that choose files (config groups, ``hydra.*``), to know its entries; or
    given as ``data``, the plain containers of the config of those choices (the same
    entries: the schema judges every field, the entries of its mappings come from the
    files alike).
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    def key_of(override: str) -> str:
        return override.lstrip("~+").split("=", 1)[0].strip()

    choosing = [o for o in overrides if key_of(o) in CONFIG_GROUPS or key_of(o).startswith("hydra")]
    if data is None:
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
                data = OmegaConf.to_container(compose(config_name=config_name, overrides=choosing))
        except (HydraException, OmegaConfBaseException, ValueError, yaml.YAMLError):
            return None  # the files chosen fail too: Hydra's own message says why
        finally:
            GlobalHydra.instance().clear()
    for override in overrides:
        key = key_of(override)
        if override in choosing or not key or any(c in key for c in "@/[]") or key == "directive":
            continue
        problem = override_key_problem(data, key, append=override.lstrip("~").startswith("+"))
        if problem:
            return problem
    return None


def _parse_directive(override: str) -> dict:
    """``directive={category:chair,pose:back}`` -> ``{"category": "chair", "pose": "back"}``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    value = OverridesParser.create().parse_override(override).value()
    if value in ("", None):
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"directive must be a mapping such as directive={{category:chair,pose:back}}, got {value!r}"
        )
    return {str(k): str(v) for k, v in value.items()}


def _with_nested_defaults(value: Any, hint: Any, key: str = "", nested: bool = False) -> Any:
    """``value`` (plain containers at config key ``key``) with every schema dataclass that
    its type ``hint`` nests inside lists and mappings filled with its defaults and its
    values converted to their types, at any depth.

    OmegaConf neither fills nor converts such nodes (``grammar.rules.<rule>[i]``,
    ``objects.<name>.part_rules.<slot>.<style>`` and its parts), so that is done here, in
    plain data, before the one merge into the schema; the fields of the schema's own
    sections (``nested`` False) are left to that merge.

    Raises:
        ConfigError: a nested value that its type cannot take, naming its key.
    """
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        hints = _type_hints(hint)
        filled = {}  # in the schema's order, as OmegaConf orders a typed node
        for schema_field in dataclasses.fields(hint):
            name = schema_field.name
            if name in value:
                item = value[name]
            elif not nested:
                continue  # the merge fills the schema's own sections
            else:
                item = field_default(schema_field)
                if item is MISSING:
                    continue  # required: the merge names it
            filled[name] = _with_nested_defaults(item, hints[name], f"{key}.{name}".lstrip("."), nested)
        return {**filled, **{k: v for k, v in value.items() if k not in filled}}  # unknown keys: the merge names them
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is dict and isinstance(value, dict):
        return {k: _with_nested_defaults(item, args[1], f"{key}.{k}", True) for k, item in value.items()}
    if origin is list and isinstance(value, list):
        return [_with_nested_defaults(item, args[0], f"{key}[{i}]", True) for i, item in enumerate(value)]
    if origin is typing.Union:
        typed = [arg for arg in args if arg is not type(None)]
        return value if value is None or len(typed) != 1 else _with_nested_defaults(value, typed[0], key, nested)
    leaf = _LEAF_NODES.get(hint)
    if nested and leaf is not None and value is not None:
        try:
            return leaf(value)._value()
        except ValidationError:
            raise ConfigError(f"invalid config key {key!r}: {value!r} is not {_TYPE_NAMES[hint]}") from None
    return value


_LEAF_NODES = {float: FloatNode, int: IntegerNode, bool: BooleanNode, str: StringNode}
_TYPE_NAMES = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}


@functools.lru_cache(maxsize=None)
def _type_hints(schema: type) -> dict:
    return typing.get_type_hints(schema)


def _yaml_message(exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: the file, where, and what the parser expected."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return f"a config file is not valid YAML: {' '.join(str(exc).split())}"
    where = f"config file {mark.name!r} is not valid YAML at line {mark.line + 1}, column {mark.column + 1}"
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start is not None:
        context = f"{context} started at line {start.line + 1}, column {start.column + 1}"
    return f"{where}: {exc.problem}" + (f" ({context})" if context else "")


def _clean_hydra_message(exc: BaseException) -> str:
    """One line from Hydra/OmegaConf's chained errors: what failed, and the key."""
    parts, full_key = [], None
    while exc is not None:
        for line in str(exc).strip().splitlines():
            line = line.strip()
            if line.startswith("full_key:"):
                full_key = full_key or line.split(":", 1)[1].strip()
            elif line and line != "None" and "$VALUE" not in line and not line.startswith(
                ("object_type", "reference_type", "To append", "invalid literal")
            ):
                if line not in parts:
                    parts.append(line)
        exc = exc.__cause__ or exc.__context__
    prefix = f"invalid config key {full_key!r}: " if full_key else "invalid config: "
    return prefix + " ".join(parts[:6])


def config_from_dict(data: dict) -> DictConfig:
    """Rebuild a validated, read-only config from :func:`config_to_dict` output (used to
    hand a config to worker processes); kept in :mod:`scenegen.config.memo`."""
    return remembered(data_key(data), lambda: _from_dict(data))


def _from_dict(data: dict) -> DictConfig:
    """:func:`config_from_dict` without the memo."""
    cfg = OmegaConf.merge(OmegaConf.structured(SceneGenConfig), _with_nested_defaults(data, SceneGenConfig))
    validate_config(cfg)
    OmegaConf.set_readonly(cfg, True)
    return cfg


def config_with(cfg: DictConfig, **values: Any) -> DictConfig:
    """A validated, read-only copy of ``cfg`` with its top-level ``values`` changed
    (``config_with(cfg, n=40)``): what ``config_from_dict({**config_to_dict(cfg), "n": 40})``
    gives, without merging the whole tree into the schema again.

    Raises:
        ConfigError: a key the config lacks, or a value its schema or validation refuses.
    """
    changed = pickle.loads(pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL))
    OmegaConf.set_readonly(changed, False)
    for key, value in values.items():
        if key not in changed:
            raise ConfigError(unknown_name("config key", key, list(changed.keys())))
        try:
            changed[key] = value
        except OmegaConfBaseException as exc:
            raise ConfigError(_clean_hydra_message(exc)) from None
    validate_config(changed)
    OmegaConf.set_readonly(changed, True)
    return changed


def config_to_dict(cfg: DictConfig) -> dict:
    """The resolved config as plain Python containers (for manifests and hashing)."""
    return OmegaConf.to_container(cfg, resolve=True)
