"""scenegen: procedural 3D scenes with exact ground truth, for combinatorial datasets.

The public API::

    import scenegen
    cfg = scenegen.load_config(["n=4", "out=/tmp/demo"])
    world = scenegen.World.of(cfg)                   # dictionary + grammar, compiled once
    scene = scenegen.Sampler(world).sample(0)        # pure data, no OpenGL
    with scenegen.Renderer(world.dictionary) as renderer:
        frame = renderer.render(scene)               # rgb, depth, instances, semantic, amodal
    scenegen.generate(cfg)                           # the whole dataset
    print(scenegen.coverage_report(cfg.out))         # what `scenegen coverage DIR` prints
"""

from ._version import __version__
from .config.schema import SceneGenConfig
from .dataset.generate import finish_dataset, generate
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
from .reports.coverage import coverage_report
from .scene.frame import Frame
from .scene.scene import Camera, Context, Light, ObjectInstance, Scene
from .world.compile import World, load_config
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
    "World",
    "compile_grammar",
    "coverage_report",
    "describe_space",
    "finish",
    "finish_dataset",
    "generate",
    "load_config",
    "object_labels",
    "sample_scene",
    "scene_relations",
]
