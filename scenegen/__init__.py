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
from .config.load import SceneGenConfig
from .dataset.generate import generate
from .dataset.pipeline import finish
from .dataset.stream import SceneStream
from .dataset.worker import SceneWorker
from .design.coverage import CoverageTracker
from .errors import (
    ConfigError,
    DepthOverflowError,
    MeshError,
    PlacementError,
    RenderError,
    ScenegenError,
)
from .labels.objects import object_labels
from .labels.scene_graph import scene_relations
from .render.raster import Renderer
from .scene.frame import Frame
from .scene.scene import Camera, Context, Light, ObjectInstance, Scene
from .world.compile import load_config
from .world.dictionary import ObjectDictionary, ObjectEntry
from .world.directives import Directive
from .world.grammar import Grammar, compile_grammar
from .world.sampler import Sampler, sample_scene
from .world.space import describe_space

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
