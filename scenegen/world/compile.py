"""The world of a config: its object dictionary and placement grammar, compiled once per
process and checked against each other and against the config's directive.

:func:`load_config` is the config every command and script starts from: composed and
validated (:func:`scenegen.config.load.compose_config`), then compiled into its
:class:`World`, so that a grammar that names an unknown category, or a directive the
dictionary cannot satisfy, fails at load, before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import Dict, List, Optional, Sequence, Tuple, Union

from omegaconf import DictConfig, OmegaConf

from ..cache import content_key
from ..config.load import compose_config
from ..config.memo import plain_of
from ..config.schema import REST_LEVELS
from ..config.validate import did_you_mean
from ..errors import ConfigError, choices
from ..scene.factors import universe
from .appearance import APPEARANCE_FACTORS, FILE_LEVEL
from .backgrounds import BackgroundSet
from .dictionary import ObjectDictionary, _facts_key, _memo_key, _memo_payload
from .directives import Directive, check_directive
from .environments import EnvironmentSet
from .grammar import Grammar, compile_grammar
from .resting import RestTable
from .texture_sets import catalogue


@dataclass(frozen=True, eq=False)
class World:
    """What the stages share about a config: its dictionary and its grammar, compiled
    once per process (:meth:`of` is memoised on the config's content and the mesh files
    it names), and what the stages read from them. The stages (the sampler, the scene
    workers, the designs, the exports) take a World instead of compiling from a config.

    Attributes:
        cfg: the config (read-only).
        dictionary: the object dictionary.
        grammar: the placement grammar, checked against the dictionary and the contexts.
    """

    cfg: DictConfig
    dictionary: ObjectDictionary
    grammar: Grammar

    @classmethod
    def of(cls, cfg: DictConfig) -> "World":
        """Compile ``cfg``'s world and check its directive.

        Raises:
            ConfigError: the grammar does not fit the dictionary or the contexts, or the
                directive can never be realized.
            MeshError: a mesh file of the dictionary is missing or broken.
        """
        key = _world_key(cfg)
        world = _WORLDS.get(key)
        if world is None:
            world = cls.build(cfg)
            _WORLDS[key] = world
        return world

    @classmethod
    def build(cls, cfg: DictConfig, dictionary: Optional[ObjectDictionary] = None) -> "World":
        """Like :meth:`of`, not memoised, with ``dictionary`` (default: the config's)."""
        dictionary = dictionary if dictionary is not None else ObjectDictionary.from_config(cfg)
        grammar = compile_grammar(cfg, dictionary)
        world = cls(cfg, dictionary, grammar)
        world._check_environment()
        _ = world.texture_sets, world.backgrounds  # folders that cannot be listed fail at load
        if world.directive is not None:
            world.check_directive(world.directive)
        return world

    def check_directive(self, directive: Directive) -> None:
        """Refuse a directive this world can never realize
        (:func:`scenegen.world.directives.check_directive`, with the levels of its
        environment maps and background photographs).

        Raises:
            ConfigError: naming the factor, the level and what would be valid.
        """
        levels = self.factor_levels[0]
        check_directive(directive, self.grammar, self.cfg, levels.get("environment", []),
                        levels.get("background", []), self.rest)

    def _check_environment(self) -> None:
        """The maps of ``lighting.environments`` can be listed, the one named exists, and
        a random choice has some weight.

        Raises:
            ConfigError: naming the key and the valid maps.
        """
        maps, wanted = self.environments, str(self.cfg.lighting.environment)
        if maps is None:
            return
        if wanted != "random" and wanted not in maps.names:
            raise ConfigError(f"lighting.environment {wanted!r} is not a map of {maps.source!r};"
                              f"{did_you_mean(wanted, maps.names)} valid: none, random, {choices(maps.names)}")
        if wanted == "random" and not any(maps.weight(name) > 0 for name in maps.names):
            raise ConfigError(f"lighting.environment=random: every map of {maps.source!r} has weight 0 (meta.yaml)")

    @cached_property
    def backgrounds(self) -> Optional[BackgroundSet]:
        """The photographs of ``background.images`` (names read, pixels on demand), or
        None without a folder."""
        folder = str(self.cfg.background.images)
        return BackgroundSet.load(folder) if folder else None

    @cached_property
    def texture_sets(self) -> Dict[str, Tuple[str, str]]:
        """Set name -> (material class, surface) of the sets of ``surfaces.sets`` (no
        image read); {} under ``surfaces.sets=none``."""
        source = str(self.cfg.surfaces.sets)
        return {} if source == "none" else catalogue(source)

    @cached_property
    def environments(self) -> Optional[EnvironmentSet]:
        """The maps of ``lighting.environments`` (names read, pixels on demand), or None
        under ``lighting.environment=none``."""
        if self.cfg.lighting.environment == "none":
            return None
        return EnvironmentSet.load(str(self.cfg.lighting.environments))

    @cached_property
    def rest(self) -> Optional[RestTable]:
        """The rest levels of the dictionary's shapes (``cfg.rest``), or None when
        ``rest.chance`` is 0 (every object upright)."""
        table = RestTable(self.cfg.rest, self.dictionary)
        return table if table.on else None

    @cached_property
    def directive(self) -> Optional[Directive]:
        """The config's directive (of every scene without one of its own), or None."""
        return Directive.from_mapping(self.cfg.directive)

    @cached_property
    def factors(self):
        """``cfg.factors`` as plain Python objects (its dataclass): what the labels read
        per object, where an attribute read on an OmegaConf node would cost."""
        factors = self.cfg.factors
        try:
            return OmegaConf.to_object(factors) if isinstance(factors, DictConfig) else factors
        except Exception:  # a node OmegaConf cannot turn into objects: read it as it is
            return factors

    @cached_property
    def plain_cfg(self):
        """``cfg``'s values as plain Python objects (:class:`PlainConfig`): what the sampler
        reads per scene, where an attribute read on an OmegaConf node costs tens of
        microseconds; ``cfg`` itself for a config built without the schema."""
        if isinstance(self.cfg, DictConfig) and OmegaConf.get_type(self.cfg) not in (None, dict):
            return PlainConfig(self.cfg)
        return self.cfg

    @cached_property
    def factor_levels(self) -> Tuple[Dict[str, List[str]], List[Tuple[str, str, str]]]:
        """(levels of every factor, the feasible (category, pose, context) tuples):
        :func:`scenegen.scene.factors.universe` of the config, with the level ``file``
        of colour, material and texture when some entry wears its file's look, and the
        ``environment`` levels of the maps, and the ``rest`` levels the shapes lie in."""
        levels, feasible = universe(self.cfg)
        maps = self.environments
        if maps is not None:
            wanted = str(self.cfg.lighting.environment)
            levels["environment"] = list(maps.levels) if wanted == "random" else [maps.level(wanted)]
        if self.backgrounds is not None:
            levels["background"] = [*self.backgrounds.levels, *levels["background"]]
        if self.rest is not None:
            shown = {level for name in self.dictionary.names for level in self.rest.levels_of(self.dictionary[name])}
            levels["rest"] = [level for level in REST_LEVELS if level in shown]
        if self.file_looks:
            for factor in APPEARANCE_FACTORS:
                levels[factor] = [*levels[factor], FILE_LEVEL]
        return levels, feasible

    @cached_property
    def file_looks(self) -> bool:
        """Whether some entry of the dictionary wears its file's look (its colour,
        material and texture level is ``file``)."""
        return any(FILE_LEVEL in self.dictionary[name].colors for name in self.dictionary.names)

    @property
    def categories(self) -> Tuple[str, ...]:
        """Category names in id order (id = position + 1)."""
        return self.dictionary.categories

    @cached_property
    def content_key(self) -> Optional[str]:
        """A key of everything this world is made of, for what is kept of it across
        processes (:mod:`scenegen.cache`): the config's values but those of where and how
        a run writes (``out``, ``n``, ``workers``, ...), the bytes of the dictionary's mesh
        files, the levels of every factor (those of folders of maps and photographs too)
        and scenegen's source. None where the mesh files cannot be keyed (an asset
        library, a file that cannot be read): nothing of this world is kept then."""
        facts = _facts_key(_memo_payload(self.cfg))
        if facts is None:
            return None
        data = {key: value for key, value in _known(self.cfg)[1].items() if key not in _RUN_KEYS}
        return content_key("world", data, facts, self.factor_levels[0])


class PlainConfig:
    """A config typed by the schema, read as plain Python objects top-level key by key:
    ``plain.camera`` is ``OmegaConf.to_object(cfg.camera)`` (the schema's dataclass, its
    dicts and lists: the same values), made on first read and then kept; a value that is
    no node (``plain.seed``) is the config's. A node OmegaConf cannot turn into objects
    is read as it is."""

    def __init__(self, cfg: DictConfig):
        self._cfg = cfg

    def __getattr__(self, key: str):
        if key.startswith("_"):
            raise AttributeError(key)
        node = getattr(self._cfg, key)
        value = node
        if OmegaConf.is_config(node):
            try:
                value = OmegaConf.to_object(node)
            except Exception:  # read it as it is
                value = node
        setattr(self, key, value)  # read from the instance from now on
        return value


_WORLDS: Dict[tuple, World] = {}  # (config content, mesh files) -> its World; see World.of
_KEYS: Dict[int, tuple] = {}  # id of a live read-only config -> (weak reference to it, its World key, its data)
# keys of where and how a run writes, on which nothing a World makes depends
_RUN_KEYS = ("out", "n", "workers", "progress", "shard", "num_shards", "executor", "dask")


def _world_key(cfg: DictConfig) -> tuple:
    """(sha256 of the config's content, the dictionary's memo key of its mesh files):
    worked out once per read-only config object while it lives (a read-only config does
    not change), since a run hands the same config to many stages."""
    return _known(cfg)[0]


def plain_config(cfg: DictConfig) -> dict:
    """``cfg`` as plain containers (``OmegaConf.to_container(cfg, resolve=True)``),
    worked out once while a read-only config lives: shared, so read it, never change it."""
    return _known(cfg)[1]


def _known(cfg: DictConfig) -> tuple:
    """(:func:`_world_key` of ``cfg``, ``cfg`` as plain containers), kept while a
    read-only config lives."""
    locked = OmegaConf.is_readonly(cfg)
    if locked:
        found = _KEYS.get(id(cfg))
        if found is not None and found[0]() is cfg:
            return found[1:]
    data = plain_of(cfg) if locked else None
    if data is None:
        data = OmegaConf.to_container(cfg, resolve=True)
    content = json.dumps(data, sort_keys=True)
    key = (hashlib.sha256(content.encode()).hexdigest(), _memo_key(cfg, data))
    if locked:
        ident = id(cfg)
        _KEYS[ident] = (weakref.ref(cfg, lambda _: _KEYS.pop(ident, None)), key, data)
    return key, data


def as_world(source: Union[World, DictConfig]) -> World:
    """``source`` if it is a World, else the World of the config ``source``."""
    return source if isinstance(source, World) else World.of(source)


def load_config(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose the config tree with Hydra, validate it and check its world.

    Args:
        overrides: Hydra override strings, e.g. ``["n=10", "width=512"]``.
        config_name: top-level config file in ``conf/`` (without ``.yaml``).

    Returns:
        A read-only, fully resolved ``DictConfig`` typed by
        :class:`scenegen.config.schema.SceneGenConfig`.

    Raises:
        ConfigError: an unknown key, a wrong type, an inconsistent value, a grammar that
            does not fit the dictionary, or an infeasible directive; the message names
            the key.
        MeshError: a mesh file is missing or broken.
    """
    cfg = compose_config(overrides, config_name)
    World.of(cfg)
    return cfg
