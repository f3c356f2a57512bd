"""The config: its typed schema, composing it with Hydra, and validating its values."""

from .load import compose_config, config_from_dict, config_to_dict
from .schema import SceneGenConfig

__all__ = ["SceneGenConfig", "compose_config", "config_from_dict", "config_to_dict"]
