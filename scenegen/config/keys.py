"""The config keys, read from the schema: every dotted key with its default, one line of
help and its valid values, for ``scenegen generate --help`` and for messages that need
to know what a path of the config is.

A named entry of a mapping is written ``<name>`` (``contexts.<name>.weight``), an item of
a list ``[i]``; a section met twice is listed once, where it first appears.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, List, Optional, Sequence, Tuple

from omegaconf import MISSING

from .schema import CONFIG_GROUPS, SceneGenConfig, field_default
from .validate import VOCABULARIES, schema_fields

_SET_BY = {key: group for group, (_, _, keys) in CONFIG_GROUPS.items() for key in keys}


@dataclass(frozen=True)
class Key:
    """One config key: its dotted path, its default as typed on the command line, and
    its help with the valid values."""

    path: str
    default: str
    help: str


def config_keys() -> List[Key]:
    """Every key, in the schema's order, after the config groups of ``conf/``."""
    keys = [Key(group, default, f"{what}: a file in conf/{group}/ (or in a hydra.searchpath folder)")
            for group, (default, what, _) in CONFIG_GROUPS.items()]
    _section_keys(SceneGenConfig, "", {}, keys)
    return keys


def _section_keys(cls: type, prefix: str, listed: dict, keys: List[Key]) -> None:
    defaults = {f.name: field_default(f) for f in fields(cls)}
    for name, hint, rules in schema_fields(cls):
        path, inner = prefix + name, _section_in(hint)
        default = _show(defaults[name], _set_by(path))
        if inner is None:
            keys.append(Key(path, default, _help(rules)))
            continue
        section, suffix = inner
        if suffix and path not in CONFIG_GROUPS:  # a mapping or list of sections: a line of its own
            # (one named like a config group, ``contexts``, is listed as the group: contexts=FILE)
            keys.append(Key(path, default, _help(rules)))
        if section in listed:
            keys.append(Key(path + suffix, "", f"the keys of {listed[section]}"))
            continue
        listed[section] = path + suffix
        _section_keys(section, f"{path}{suffix}.", listed, keys)


def _set_by(path: str) -> str:
    """The config group whose files set the key ``path`` (``grammar.rules``: grammar), or
    "required" (a key each entry must give, ``objects.<name>.category``)."""
    if "<" in path or "[" in path:
        return "required"
    return _SET_BY.get(path, _SET_BY.get(_top(path), "required"))


def _help(rules) -> str:
    valid = rules.get("choices")
    valid = VOCABULARIES[valid] if isinstance(valid, str) else valid
    return rules["help"] + (f": {' | '.join(map(str, valid))}" if valid else "")


def _unwrap(hint: Any) -> Any:
    if typing.get_origin(hint) is typing.Union:  # Optional[X]
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _section_in(hint: Any) -> Optional[Tuple[type, str]]:
    """``(section class, path suffix)`` when ``hint`` is a schema section, or a mapping
    or list of them (``.<name>``, ``[i]``), nested at any depth; else None."""
    hint, suffix = _unwrap(hint), ""
    while not is_dataclass(hint):
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is dict:
            hint, suffix = args[1], suffix + (".<name>" if not suffix else ".<key>")
        elif origin is list:
            hint, suffix = args[0], suffix + "[i]"
        else:
            return None
    return hint, suffix


def field_at(path: str):
    """``(name, type, metadata)`` of the schema field the config path names
    (``objects.ball.part_rules``), or None (an entry of a mapping, or no such field)."""
    hint, found = SceneGenConfig, None
    for part in re.findall(r"[^.\[\]]+", path):
        hint = _unwrap(hint)
        if is_dataclass(hint):
            found = next((f for f in schema_fields(hint) if f[0] == part), None)
            if found is None:
                return None
            hint = found[1]
        elif typing.get_origin(hint) in (dict, list):
            hint, found = typing.get_args(hint)[-1], None
        else:
            return None
    return found


def format_keys(include: Sequence[str] = (), exclude: Sequence[str] = ()) -> str:
    """The keys, one line each (``key  default  help``), a blank line between sections;
    ``include``, ``exclude``: top-level keys or sections (``probe``)."""
    keys = [k for k in config_keys() if _top(k.path) not in exclude and (not include or _top(k.path) in include)]
    width = max(len(k.path) for k in keys if len(k.path) <= 40)
    default_width = max(len(k.default) for k in keys if len(k.default) <= 16)
    sections = {_top(k.path) for k in keys if k.path != _top(k.path)}  # tops with keys below them
    lines: List[str] = []
    for before, key in zip([None, *keys], keys):
        top = _top(key.path)
        if before is not None and top != _top(before.path) and sections & {top, _top(before.path)}:
            lines.append("")
        path = key.path if len(key.path) <= width else f"{key.path}\n  {'':<{width}}"
        lines.append(f"  {path:<{width}}  {key.default:<{default_width}}  {key.help}".rstrip())
    return "\n".join(lines)


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _show(value: Any, missing: str = "required") -> str:
    """A default as it is typed on the command line; ``missing`` for none (``(dictionary)``:
    set by the dictionary file)."""
    if value is MISSING:
        return missing if missing == "required" else f"({missing})"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value or "''"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)
