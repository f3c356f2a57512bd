"""The world of a config: its object dictionary and placement grammar, compiled once per
process and checked against each other and against the config's directive.

:func:`load_config` is the config every command and script starts from: composed and
validated (:func:`scenegen.config.load.compose_config`), then compiled into its
:class:`World`, so that a grammar that names an unknown category, or a directive the
dictionary cannot satisfy, fails at load, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from omegaconf import DictConfig

from ..config.load import compose_config
from .dictionary import ObjectDictionary
from .directives import Directive, check_directive
from .grammar import Grammar, compile_grammar


@dataclass(frozen=True, eq=False)
class World:
    """What the stages share about a config: its dictionary and its grammar (both
    memoised per process on the config's content, so compiling a world again is cheap).

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
        dictionary = ObjectDictionary.from_config(cfg)
        grammar = compile_grammar(cfg, dictionary)
        directive = Directive.from_mapping(cfg.directive)
        if directive is not None:
            check_directive(directive, grammar, cfg)
        return cls(cfg, dictionary, grammar)


def load_config(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose the config tree with Hydra, validate it and check its world.

    Args:
        overrides: Hydra override strings, e.g. ``["n=10", "width=512"]``.
        config_name: top-level config file in ``conf/`` (without ``.yaml``).

    Returns:
        A read-only, fully resolved ``DictConfig`` typed by
        :class:`scenegen.config.load.SceneGenConfig`.

    Raises:
        ConfigError: an unknown key, a wrong type, an inconsistent value, a grammar that
            does not fit the dictionary, or an infeasible directive; the message names
            the key.
        MeshError: a mesh file is missing or broken.
    """
    cfg = compose_config(overrides, config_name)
    World.of(cfg)
    return cfg
