"""Composing and loading configs: the one place a config is built.

:func:`compose_config` composes the YAML tree in ``conf/`` with Hydra's compose API, so
the CLI, Python scripts and tests all get exactly the same config, types it by the
schema (:mod:`scenegen.config.schema`; OmegaConf rejects wrong types against it) and
validates it (:mod:`scenegen.config.validate`). :func:`config_from_dict` and
:func:`config_to_dict` carry a config to worker processes and manifests. Hydra's and
YAML's errors become one line naming the key or file, with the valid choices.
"""

from __future__ import annotations

from typing import Optional, Sequence

import yaml
from omegaconf import DictConfig, OmegaConf

from ..errors import ConfigError
from ..resources import conf_dir
from .schema import CONFIG_GROUPS, PartStyleConfig, ProductionConfig, SceneGenConfig
from .validate import check_fields, override_key_problem, unknown_name, validate_config

_SCHEMA_NAME = "scenegen_schema"


def _register_schema() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=_SCHEMA_NAME, node=SceneGenConfig)


def compose_config(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose the config tree with Hydra and validate its values (the dictionary and the
    grammar are checked against each other by :func:`scenegen.world.compile.load_config`).

    Args:
        overrides: Hydra override strings, e.g. ``["n=10", "width=512"]``.
        config_name: top-level config file in ``conf/`` (without ``.yaml``).

    Returns:
        A read-only, fully resolved ``DictConfig`` typed by :class:`SceneGenConfig`.

    Raises:
        ConfigError: an unknown key, a wrong type, or an inconsistent value; the message
            names the key.
    """
    from hydra import MissingConfigException, compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    _register_schema()
    GlobalHydra.instance().clear()
    try:
        # the directive is a free mapping of factor -> level: parsed here, checked later
        directive = [o for o in overrides if o.startswith("directive=")]
        overrides = [o for o in overrides if not o.startswith("directive=")]
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            cfg = compose(config_name=config_name, overrides=list(overrides))
        data = OmegaConf.to_container(cfg)
        if directive:
            data["directive"] = _parse_directive(directive[-1])
        # An appended key (``+nn=5``) or one a searchpath file sets slips past compose:
        # named here with a did-you-mean; merging into the schema then checks the types.
        check_fields(data, rules=False)
        cfg = OmegaConf.merge(OmegaConf.structured(SceneGenConfig), data)
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
    _fill_nested_defaults(cfg)
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


def _unknown_override(overrides: Sequence[str], config_name: str) -> Optional[str]:
    """The message for the first override that names no key of the config (``nn=5``,
    ``contexts.rom.weight=2``), with a did-you-mean; None when every key exists.

    Called after Hydra refused ``overrides``: the tree is composed again with only the
    overrides that choose files (config groups, ``hydra.*``), to know its entries.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    def key_of(override: str) -> str:
        return override.lstrip("~+").split("=", 1)[0].strip()

    choosing = [o for o in overrides if key_of(o) in CONFIG_GROUPS or key_of(o).startswith("hydra")]
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


def _fill_nested_defaults(cfg: DictConfig) -> None:
    """Give structured configs nested in containers of containers their defaults.

    OmegaConf types but does not fill such nodes (``grammar.rules.<rule>[i]``,
    ``objects.<name>.part_rules.<slot>.<style>``), so they are merged into their schema.
    """
    for alternatives in cfg.grammar.rules.values():
        for i, alternative in enumerate(alternatives):
            alternatives[i] = OmegaConf.merge(OmegaConf.structured(ProductionConfig), alternative)
    for entry in cfg.objects.values():
        for styles in entry.part_rules.values():
            for style in list(styles.keys()):
                styles[style] = OmegaConf.merge(OmegaConf.structured(PartStyleConfig), styles[style])


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
    hand a config to worker processes)."""
    cfg = OmegaConf.merge(OmegaConf.structured(SceneGenConfig), data)
    _fill_nested_defaults(cfg)
    validate_config(cfg)
    OmegaConf.set_readonly(cfg, True)
    return cfg


def config_to_dict(cfg: DictConfig) -> dict:
    """The resolved config as plain Python containers (for manifests and hashing)."""
    return OmegaConf.to_container(cfg, resolve=True)
