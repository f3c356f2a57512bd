"""The config: its typed schema, composing it with Hydra, and validating its values."""

from .load import SceneGenConfig, config_from_dict, config_to_dict, load_config

__all__ = ["SceneGenConfig", "config_from_dict", "config_to_dict", "load_config"]
