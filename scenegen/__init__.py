"""scenegen: procedural 3D scenes with exact ground truth, for combinatorial datasets.

The public API::

    import scenegen
    cfg = scenegen.load_config(["n=4", "out=/tmp/demo"])
    scene = scenegen.Sampler(cfg).sample(0)          # pure data, no OpenGL
    with scenegen.Renderer(scenegen.ObjectDictionary.from_config(cfg)) as renderer:
        frame = renderer.render(scene)               # rgb, depth, instances, semantic, amodal
    scenegen.generate(cfg)                           # the whole dataset
"""

from ._version import __version__
from .config import SceneGenConfig, load_config
from .coverage import CoverageTracker
from .dictionary import ObjectDictionary, ObjectEntry
from .directives import Directive
from .errors import (
    ConfigError,
    DepthOverflowError,
    MeshError,
    PlacementError,
    RenderError,
    ScenegenError,
)
from .grammar import Grammar, compile_grammar
from .labels import object_labels
from .pipeline import finish, generate
from .worker import SceneWorker
from .render import Frame, Renderer
from .sampler import Sampler, sample_scene
from .scene import Camera, Context, Light, ObjectInstance, Scene
from .scene_graph import scene_relations
from .space import describe_space
from .stream import SceneStream

__all__ = [
    "__version__",
    "Camera",
    "ConfigError",
    "Context",
    "CoverageTracker",
    "DepthOverflowError",
    "Directive",
    "Frame",
    "Grammar",
    "Light",
    "MeshError",
    "ObjectDictionary",
    "ObjectEntry",
    "ObjectInstance",
    "PlacementError",
    "RenderError",
    "Renderer",
    "Scene",
    "SceneGenConfig",
    "SceneStream",
    "SceneWorker",
    "ScenegenError",
    "Sampler",
    "compile_grammar",
    "describe_space",
    "finish",
    "generate",
    "load_config",
    "object_labels",
    "sample_scene",
    "scene_relations",
]
