"""The Scene: pure data holding every sampled value, the contract between stages.

All dataclasses are frozen and made of tuples, floats, ints and strings, so a Scene is
hashable, comparable, and survives a JSON round trip exactly
(``Scene.from_dict(scene.to_dict()) == scene``).

Frames and units: metres; world is Z-up with the ground at z = 0; angles in radians.
The camera pose is stored in the OpenCV convention (x right, y down, z forward).
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, fields, is_dataclass
from typing import Any, Optional, Tuple

import numpy as np

# 3: the streams of covering plans, fill rounds, split.fraction and split completion (and
# the probe) moved out of the scenes' key space (scenegen.streams), so the rows they choose
# changed; scene i of a seed draws from the same streams as in 2 and is unchanged
SCENE_SCHEMA_VERSION = 3

Vec3 = Tuple[float, float, float]
Mat4 = Tuple[Tuple[float, float, float, float], ...]


def _vec(values) -> tuple:
    return tuple(float(v) for v in values)


def _mat(values) -> Mat4:
    return tuple(tuple(float(v) for v in row) for row in values)


@dataclass(frozen=True)
class ObjectInstance:
    """One placed object.

    Attributes:
        entry: name of the dictionary entry (``cfg.objects`` key).
        category: category name of that entry.
        position: (3,) world position of the centre of the object's base, metres.
        yaw: rotation about the world up axis, radians; at yaw 0 the object's front
            (its local +x axis) faces world +x.
        scale: the object's largest extent in metres (the canonical geometry has
            largest extent 1, so this is also the uniform scale factor).
        color: colour name; ``rgb`` its linear RGB in [0, 1].
        material: material name; ``metallic`` and ``roughness`` its PBR parameters.
        support: index in ``Scene.objects`` of the object it stands on, or -1 for the
            ground.
        style: its shape, ``"slot=style,..."`` (see ``ObjectEntry.styles``); ``""``
            for an entry without part rules.
        texture: texture name (``cfg.textures`` key).
        relation: how the grammar placed it: ``ground``, ``on``, ``left-of``,
            ``right-of``, ``in-front-of``, ``behind``, ``near``, ``camera-front``
            (between the camera and ``anchor``) or ``camera-behind``.
        anchor: index of the object the relation refers to; -1 for ``ground``.
        slot: the grammar selector that chose its category (e.g. ``any``, ``small``).
        in_context: False when it was drawn against its context's weights.
        surface: the texture set it wears (``Scene.surfaces``' set; its colour times the
            set's detail, its material's factors times the set's maps), ``""``: none.
        rest: the rest level it lies in (:data:`scenegen.world.rest.LEVELS`: ``upright``,
            ``on-side``, ...), as sampled; ``""``: rest states are off (it stands upright
            on its base). Labels measure the level again from the pose.
        rest_rotation: 9 floats, row-major (3, 3): the rotation of its canonical frame
            before the yaw (``()``: none, the identity).
        rest_offset: (3,) canonical units (times ``scale``: metres): where the rotated
            canonical origin lies from ``position`` before the yaw, so that ``position``
            stays the centre of the base of the rotated object's box (``()``: zero).
    """

    entry: str
    category: str
    position: Vec3
    yaw: float
    scale: float
    color: str
    rgb: Vec3
    material: str
    metallic: float
    roughness: float
    support: int = -1
    style: str = ""
    texture: str = "plain"
    relation: str = "ground"
    anchor: int = -1
    slot: str = ""
    in_context: bool = True
    surface: str = ""
    rest: str = ""
    rest_rotation: Tuple[float, ...] = ()
    rest_offset: Tuple[float, ...] = ()

    @property
    def tipped(self) -> bool:
        """Whether its canonical frame is rotated before the yaw (a rest other than its
        base); upright objects keep the yaw-only formulas, bit for bit."""
        return bool(self.rest_rotation)

    def world_from_object(self) -> np.ndarray:
        """(4, 4) float rigid transform of the object frame (the canonical frame in
        metres: origin at the canonical base centre, z its up, +x its front; no scale):
        ``T(position) Rz(yaw) T(scale * rest_offset) R(rest_rotation)``; for an upright
        object a rotation about z, then the translation."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        matrix = np.eye(4)
        matrix[:2, :2] = [[c, -s], [s, c]]
        matrix[:3, 3] = self.position
        if self.tipped:
            local = np.eye(4)
            local[:3, :3] = np.reshape(self.rest_rotation, (3, 3))
            local[:3, 3] = np.asarray(self.rest_offset, dtype=float) * self.scale
            matrix = matrix @ local
        return matrix


@dataclass(frozen=True)
class Camera:
    """A pinhole camera in the OpenCV convention.

    Attributes:
        width, height: image size, pixels.
        fx, fy, cx, cy: intrinsics, pixels (pixel centres at integer + 0.5 convention
            of OpenCV: the principal point of a centred camera is (width/2, height/2)).
        world_from_camera: (4, 4) rigid transform, OpenCV axes (x right, y down,
            z forward).
        target: (3,) world point the camera aims at, metres.
        distance: distance from the camera centre to ``target``, metres.
        azimuth, elevation: direction from ``target`` to the camera, radians
            (azimuth from world +x towards +y; elevation above the ground plane).
        znear, zfar: clipping distances, metres.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    world_from_camera: Mat4
    target: Vec3
    distance: float
    azimuth: float
    elevation: float
    znear: float
    zfar: float

    @property
    def K(self) -> np.ndarray:
        """(3, 3) float intrinsic matrix, pixels."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def pose(self) -> np.ndarray:
        """(4, 4) float ``world_from_camera`` (OpenCV axes)."""
        return np.array(self.world_from_camera, dtype=float)

    @property
    def position(self) -> np.ndarray:
        """(3,) float camera centre in world coordinates, metres."""
        return self.pose[:3, 3]


@dataclass(frozen=True)
class Light:
    """A directional light.

    Attributes:
        direction: (3,) unit vector from the scene towards the light (world frame).
        color: (3,) linear RGB in [0, 1].
        intensity: pyrender directional intensity (W/m^2).
        shadows: whether the light casts shadows (objects shade each other, the floor
            and the walls). False in scenes recorded before the key existed.
    """

    direction: Vec3
    color: Vec3
    intensity: float
    shadows: bool = False


@dataclass(frozen=True)
class Context:
    """The setting: its name and the look the renderer needs (copied from the config so
    that a Scene renders on its own); ``floor_surface``, ``wall_surface``: the texture
    sets (of ``Scene.surfaces``) the floor and walls wear, ``""``: none."""

    name: str
    background: Vec3
    floor_color: Vec3
    floor_size: float
    walls: bool
    wall_color: Vec3
    wall_height: float
    ambient: float
    floor_texture: str = "plain"
    wall_texture: str = "plain"
    floor_surface: str = ""
    wall_surface: str = ""


@dataclass(frozen=True)
class Environment:
    """Image-based lighting: an equirectangular radiance map around the scene.

    Attributes:
        source: where the map comes from: ``"builtin"`` (scenegen's procedural maps) or
            the folder of ``lighting.environments``, as configured.
        name: the map's name in its source (a built-in name, or the file name without
            its extension).
        level: its ``environment`` factor level (the name, or the level a folder's
            ``meta.yaml`` gives it).
        rotation: radians the map is turned by about world z (see
            :mod:`scenegen.world.environments` for the map's axes).
        intensity: irradiance of an upward-facing surface under the whole map (sky and
            sun), in the units of the lights' intensities: the map is scaled to it.
        exposure: exposure compensation of the image, stops (EV): 0 leaves it, +1
            doubles the light reaching the sensor.
        background: the map is seen behind the scene, where no surface is.
        occlusion: the strength of the screen-space ambient occlusion of the map's
            light, in [0, 1] (0: off).
    """

    source: str
    name: str
    level: str
    rotation: float
    intensity: float
    exposure: float = 0.0
    background: bool = True
    occlusion: float = 0.9


@dataclass(frozen=True)
class CameraEffects:
    """Camera effects applied to the RGB image after rendering, never to the labels.
    Each parameter has an "off" value; the renderer draws no random numbers: the sensor
    noise comes from ``seed``, drawn by the sampler.

    Attributes:
        name: the effects profile (``camera.effects`` key), its ``effects`` factor level.
        seed: seed of the sensor noise, in [0, 2**32).
        noise: standard deviation of the sensor noise at mid-grey, in linear [0, 1]
            image units (0: off); shot noise grows with the signal's square root.
        white_balance: (3,) gains of the linear R, G, B channels ((1, 1, 1): off).
        jpeg_quality: JPEG quality 1..100 the image goes through (0: off).
        aperture: lens aperture diameter, metres (0: pinhole, all sharp): the thin-lens
            circle of confusion of a point at depth d is ``aperture * fx * |1/focus
            - 1/d|`` pixels.
        focus_distance: depth in focus, metres (> 0 when ``aperture`` is).
        motion_blur: length of a linear motion blur, pixels (0: off).
        motion_angle: its direction in the image, radians from +x (right) towards +y
            (down).
        vignetting: light lost at the image corners, fraction in [0, 1) (0: off).
    """

    name: str
    seed: int = 0
    noise: float = 0.0
    white_balance: Vec3 = (1.0, 1.0, 1.0)
    jpeg_quality: int = 0
    aperture: float = 0.0
    focus_distance: float = 0.0
    motion_blur: float = 0.0
    motion_angle: float = 0.0
    vignetting: float = 0.0


@dataclass(frozen=True)
class Background:
    """A photograph seen behind the scene, where no surface is.

    Attributes:
        source: the folder of ``background.images``, as configured.
        name: the photograph's name (its file name without the extension); ``""``: the
            scene drew none (``background.weight`` < 1).
        level: its ``background`` factor level (the name, or its ``meta.yaml`` level;
            ``none`` for no photograph).
    """

    source: str
    name: str
    level: str


@dataclass(frozen=True)
class Scene:
    """Every sampled value of one scene. ``index`` and ``seed`` say where it came from:
    scene ``index`` of root seed ``seed``.

    Attributes:
        structure: the grammar derivation, e.g. ``scene(group#1(chair),group#3(on(table,mug)))``:
            rule names with the chosen alternative, relations, and categories.
        out_of_context: some object was drawn against its context's weights.
        directive: the requested factor levels, as sorted (factor, level) pairs.
        target: index of the directive's target object; -1 without a directive.
        attempts: layouts drawn before this one was accepted (1 = first try).
        environment: its image-based lighting, or None (the lights and the context's
            ambient light and background colour alone).
        effects: its camera effects, or None.
        surfaces: where its objects', floor's and walls' texture sets come from
            (``surfaces.sets``: ``builtin`` or a folder); ``""``: none.
        background: the photograph behind it, or None.
        engine: the engine that draws its colour image (``render.engine_mix`` or
            ``render.engine``: ``raster``, ``pathtraced``); ``""``: the rasterizer, no
            engine chosen (its labels come from the raster passes either way).

    A Scene without environment, effects or texture sets writes none of their keys
    (records made before they existed read back unchanged).
    """

    index: int
    seed: int
    context: Context
    objects: Tuple[ObjectInstance, ...]
    lights: Tuple[Light, ...]
    camera: Camera
    structure: str = ""
    out_of_context: bool = False
    directive: Tuple[Tuple[str, str], ...] = ()
    target: int = -1
    attempts: int = 1
    environment: Optional[Environment] = None
    effects: Optional[CameraEffects] = None
    surfaces: str = ""
    background: Optional[Background] = None
    engine: str = ""

    def to_dict(self) -> dict:
        """Plain JSON-able dict (tuples become lists); the parts added later
        (:data:`_LATER`) only when set."""
        data = _plain(self)
        for where, key, unset in _LATER:
            for part in {"scene": [data], "context": [data["context"]], "objects": data["objects"]}[where]:
                if part[key] == unset:
                    del part[key]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=1)

    @classmethod
    def from_dict(cls, data: dict) -> "Scene":
        """Inverse of :meth:`to_dict`. Raises ``KeyError``/``TypeError`` on a malformed dict."""
        return cls(
            index=int(data["index"]),
            seed=int(data["seed"]),
            context=_build(Context, data["context"]),
            objects=tuple(_build(ObjectInstance, o) for o in data["objects"]),
            lights=tuple(_build(Light, light) for light in data["lights"]),
            camera=_build(Camera, data["camera"]),
            structure=str(data.get("structure", "")),
            out_of_context=bool(data.get("out_of_context", False)),
            directive=tuple((str(k), str(v)) for k, v in data.get("directive", ())),
            target=int(data.get("target", -1)),
            attempts=int(data.get("attempts", 1)),
            environment=_optional(Environment, data.get("environment")),
            effects=_optional(CameraEffects, data.get("effects")),
            surfaces=str(data.get("surfaces", "")),
            background=_optional(Background, data.get("background")),
            engine=str(data.get("engine", "")),
        )

    @classmethod
    def from_json(cls, text: str) -> "Scene":
        return cls.from_dict(json.loads(text))


# (where: "scene", its "context", or each of its "objects"; key; its unset value):
# written only when set, so records from before they existed keep their bytes
_LATER = (("scene", "environment", None), ("scene", "effects", None), ("scene", "surfaces", ""),
          ("scene", "background", None), ("scene", "engine", ""), ("context", "floor_surface", ""),
          ("context", "wall_surface", ""), ("objects", "surface", ""), ("objects", "rest", ""), ("objects", "rest_rotation", []),
          ("objects", "rest_offset", []))


_FIELD_NAMES: dict = {}  # dataclass -> the names of its fields, in order


def _plain(value: Any) -> Any:
    """``json.loads(json.dumps(dataclasses.asdict(value)))`` of a dataclass ``value`` (and
    of what it holds): dataclasses as dicts of their fields in order, tuples and lists as
    lists, str, int, float, bool and None as they are; anything else as that round trip
    makes it (a numpy float as a float)."""
    cls = type(value)
    if cls is str or cls is float or cls is int or cls is bool or value is None:
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    names = _FIELD_NAMES.get(cls)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return json.loads(json.dumps({key: _plain(item) for key, item in value.items()}))
    return json.loads(json.dumps(value))


def _optional(cls, data: dict | None) -> Any:
    return None if data is None else _build(cls, data)


def _build(cls, data: dict) -> Any:
    """Construct a frozen dataclass from a dict, coercing lists back to tuples."""
    kwargs = {}
    for f in fields(cls):
        if f.name not in data and f.default is not MISSING:
            continue
        value = data[f.name]
        if f.name == "world_from_camera":
            value = _mat(value)
        elif isinstance(value, list):
            value = _vec(value)
        kwargs[f.name] = value
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} got unknown keys {sorted(unknown)}")
    return cls(**kwargs)
