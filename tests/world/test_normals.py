"""The normals layer against the exact surface normal of every built-in shape.

Each entry (one primitive of every shape, every style of every part-composed entry, the
shipped meshes) is rendered alone from a few views. Every pixel is back-projected from
the depth layer into the local frame of its part, where the analytic surface it lies on
gives the expected normal: a box's face normal, radial on a sphere, from the axis on a
cylinder's side and a capsule, from the tube's centre circle on a torus, from the angle
about the axis and the half-angle on a cone and on a vessel's walls (the inner one
facing the axis), the axis on caps; the shipped meshes are surfaces of revolution of the profiles of ``assets/make_meshes.py``. Pixels within
MARGIN_PX pixels of a silhouette, a depth jump, another part or a crease (where two of
a part's surfaces meet) are left out.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree
from shipped_meshes import make_meshes_module
from studio import lone_scene, make_camera, make_object

from scenegen import load_config
from scenegen.config.load import config_from_dict, config_to_dict
from scenegen.config.schema import PRIMITIVE_SHAPES
from scenegen.render.raster import Renderer
from scenegen.scene.geometry import direction
from scenegen.world.dictionary import (
    STYLE_ASSIGN,
    STYLE_SEPARATOR,
    ObjectDictionary,
    find_mesh_file,
)
from scenegen.world.shapes import compose_parts, load_mesh_file, part_transform

pytestmark = pytest.mark.render

SIZE = 256  # image side, pixels
VIEWS = ((35.0, 30.0), (155.0, 5.0), (275.0, -30.0))  # (azimuth, elevation) degrees about the object's centre
LIFT = 1.0  # metres: the object hangs above the floor, so the views from below see its underside
YAW = 0.3  # radians
MARGIN_PX = 2
DEPTH_JUMP_PX = 5.0  # neighbouring pixels farther apart than this many pixel footprints: a depth jump
ON_SURFACE = 0.01  # of the object's size: farther from every reference surface is a failure of the test
SAMPLES = 4000  # points per profile piece
P95_DEG, MEDIAN_DEG = 2.0, 0.5
MIN_PIXELS = 200  # per part, over its entry's styles and views

# entries added to the built-in dictionary: the primitives it does not use alone
EXTRA_ENTRIES = {
    "pill": {"shape": "capsule", "params": {"radius": 0.2, "height": 1.0}},
    "ring": {"shape": "torus", "params": {"major_radius": 0.4, "minor_radius": 0.12}},
    "beaker": {"shape": "vessel", "params": {"radius": 0.4, "bottom_radius": 0.3, "height": 0.6, "thickness": 0.06}},
}
ENTRIES = ("ball", "can", "crate", "cone", "book", "pill", "ring", "beaker", "table", "chair", "lamp", "bottle",
           "mug", "laptop", "bench", "sofa", "bowl", "bucket", "flowerpot", "dumbbell", "bottle_mesh", "mug_mesh")


# -- reference surfaces ---------------------------------------------------------------
# A profile is a dense polyline in the (rho, z) half plane of a surface of revolution:
# (K, 2) points and (K, 2) unit outward normals.


def segment(a, b):
    """Profile of a straight piece from ``a`` to ``b`` (rho, z); outward is on the
    right when walking from a to b (the profiles run up the outside)."""
    t = np.linspace(0.0, 1.0, SAMPLES)[:, None]
    points = (1 - t) * np.asarray(a, float) + t * np.asarray(b, float)
    (dr, dz) = np.subtract(b, a) / np.linalg.norm(np.subtract(b, a))
    return points, np.repeat([[dz, -dr]], SAMPLES, axis=0)


def arc(centre, radius, start_deg, stop_deg):
    """Profile of a circular arc about ``centre`` (rho, z), outward away from it."""
    angle = np.radians(np.linspace(start_deg, stop_deg, SAMPLES))
    normals = np.column_stack([np.cos(angle), np.sin(angle)])
    return np.asarray(centre, float) + radius * normals, normals


def joined(*pieces):
    """One smooth profile of consecutive pieces."""
    return np.vstack([p for p, _ in pieces]), np.vstack([n for _, n in pieces])


class Revolved:
    """A smooth surface of revolution of ``profile`` about the z axis of the frame
    ``local_from_surface`` ((4, 4) rigid; the identity when None)."""

    def __init__(self, profile, local_from_surface=None):
        self.points, self.normals = profile
        self.tree = cKDTree(self.points)
        self.frame = np.eye(4) if local_from_surface is None else np.asarray(local_from_surface, float)

    def __call__(self, local):
        """(N,) distance and (N, 3) unit normal at the nearest profile point of (N, 3)
        local points."""
        rotation = self.frame[:3, :3]
        p = (local - self.frame[:3, 3]) @ rotation
        azimuth = np.arctan2(p[:, 1], p[:, 0])
        distance, nearest = self.tree.query(np.column_stack([np.hypot(p[:, 0], p[:, 1]), p[:, 2]]))
        n_rho, n_z = self.normals[nearest].T
        normal = np.column_stack([n_rho * np.cos(azimuth), n_rho * np.sin(azimuth), n_z])
        return distance, normal @ rotation.T


@dataclass
class BoxFace:
    """The face of a centred box of half extents ``half`` (3,) whose normal is
    ``sign`` along ``axis``."""

    half: np.ndarray
    axis: int
    sign: float

    def __call__(self, local):
        across = np.abs(local) - self.half
        across[:, self.axis] = local[:, self.axis] - self.sign * self.half[self.axis]
        distance = np.linalg.norm(np.where(np.arange(3) == self.axis, across, np.maximum(across, 0.0)), axis=1)
        normal = np.zeros((len(local), 3))
        normal[:, self.axis] = self.sign
        return distance, normal


def primitive_surfaces(shape, params):
    """The smooth surfaces of ``scenegen.world.shapes.primitive(shape, params)`` (centred on
    its bounding box, axis z), one per region between creases."""
    p = {key: float(value) for key, value in params.items()}
    if shape == "box":
        half = np.array([p["x"], p["y"], p["z"]]) / 2
        return [BoxFace(half, axis, sign) for axis in range(3) for sign in (-1.0, 1.0)]
    if shape == "sphere":
        return [Revolved(arc((0, 0), p["radius"], -90, 90))]
    if shape == "torus":
        return [Revolved(arc((p["major_radius"], 0), p["minor_radius"], -180, 180))]
    r = p["radius"]
    top = p["height"] / 2
    if shape == "vessel":  # base, outer wall, rim, inner wall, inner floor (as shapes.py's profile)
        rb, t = p["bottom_radius"], p["thickness"]
        floor = rb + (r - rb) * t / p["height"] - t
        corners = [(0, -top), (rb, -top), (r, top), (r - t, top), (floor, t - top), (0, t - top)]
        return [Revolved(segment(a, b)) for a, b in zip(corners[:-1], corners[1:])]
    if shape == "capsule":
        a = top - r  # the hemispheres' centres
        return [Revolved(joined(arc((0, -a), r, -90, 0), segment((r, -a), (r, a)), arc((0, a), r, 0, 90)))]
    base = segment((0, -top), (r, -top))
    if shape == "cylinder":
        return [Revolved(base), Revolved(segment((r, -top), (r, top))), Revolved(segment((r, top), (0, top)))]
    assert shape == "cone"
    return [Revolved(base), Revolved(segment((r, -top), (0, top)))]


def lathe_surfaces(profile, smooth=()):
    """The surfaces of a make_meshes profile ((radius, z) points): one per segment, but
    for each (start, stop, piece) of ``smooth``, the profile ``piece`` in place of the
    segments from point ``start`` to point ``stop``."""
    surfaces, i = [], 0
    for start, stop, piece in smooth:
        surfaces += [Revolved(segment(a, b)) for a, b in zip(profile[i:start], profile[i + 1 : start + 1])]
        surfaces.append(Revolved(piece))
        i = stop
    return surfaces + [Revolved(segment(a, b)) for a, b in zip(profile[i:-1], profile[i + 1 :])]


def bottle_surfaces(mm):
    """Body, shoulder and neck (``bottle_side``: straight, half a cosine, straight) are
    one smooth surface; every other corner of the profile is a crease."""
    profile, steps = mm.BOTTLE_PROFILE, mm.SHOULDER_STEPS
    # from the body's foot (before its ring at step -1) to the neck's top (after step steps + 1)
    first, last = profile.index(mm.bottle_side(-1)) - 1, profile.index(mm.bottle_side(steps + 1)) + 1
    shoulder = np.array([mm.bottle_side(k) for k in np.linspace(0, steps, SAMPLES)])
    tangent = np.gradient(shoulder, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    side = joined(segment(profile[first], shoulder[0]), (shoulder, np.column_stack([tangent[:, 1], -tangent[:, 0]])),
                  segment(shoulder[-1], profile[last]))
    return lathe_surfaces(profile, [(first, last, side)])


def mug_surfaces(mm):
    """The cup (every profile corner a crease) and the handle: a tube about a half
    circle in the yz plane, i.e. a torus about the x axis through its centre (the
    tube's other half, inside the cup, is never seen)."""
    handle = np.eye(4)
    handle[:3, :3] = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]  # the torus's z axis along local x
    handle[:3, 3] = [0.0, mm.CUP_RADIUS - mm.CUP_WALL / 2, mm.HANDLE_CENTRE_Z]
    tube = Revolved(arc((mm.HANDLE_RADIUS, 0), mm.HANDLE_TUBE, -180, 180), handle)
    return lathe_surfaces(mm.CUP_PROFILE) + [tube]


# -- expected normals of one object ---------------------------------------------------


@dataclass
class PartReference:
    """A part's smooth surfaces in its local frame, and that frame in the object's."""

    key: str  # "part name/shape"
    surfaces: list
    object_from_local: np.ndarray  # (4, 4) rigid


def variant_references(cfg, entry, style):
    """The :class:`PartReference` of each part of ``entry``'s ``style`` in part order,
    and the (size, (3,) offset) that map the object's frame (metres) to the canonical
    one: canonical = (object - offset) / size."""
    spec = cfg.objects[entry]
    if spec.mesh:
        mm = make_meshes_module()
        surfaces = {"meshes/bottle.ply": bottle_surfaces, "meshes/mug.ply": mug_surfaces}[spec.mesh](mm)
        meshes = [load_mesh_file(find_mesh_file(spec.mesh))]
        parts = [PartReference("body/mesh", surfaces, np.eye(4))]
    else:
        specs = [{"name": "body", "shape": spec.shape, "params": spec.params}] if spec.shape else list(spec.parts)
        for item in filter(None, style.split(STYLE_SEPARATOR)):
            slot, name = item.split(STYLE_ASSIGN)
            specs += list(spec.part_rules[slot][name].parts)
        meshes = [mesh for _, mesh in compose_parts(specs)]
        parts = [
            PartReference(f"{s['name']}/{s['shape']}", primitive_surfaces(s["shape"], s["params"]),
                          part_transform(s.get("position") or [0.0] * 3, s.get("rotation") or [0.0] * 3))
            for s in specs
        ]
    low = np.min([m.bounds[0] for m in meshes], axis=0)
    high = np.max([m.bounds[1] for m in meshes], axis=0)
    return parts, float((high - low).max()), np.array([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2, low[2]])


def expected_normals(surfaces, local, margin):
    """(N, 3) expected unit normals of (N, 3) local points (NaN rows: within ``margin``
    of a second surface, i.e. of a crease) and (N,) distance to the nearest surface."""
    distance, normal = zip(*(surface(local) for surface in surfaces))
    distance, normal = np.stack(distance), np.stack(normal)  # (S, N), (S, N, 3)
    order = np.argsort(distance, axis=0)
    columns = np.arange(local.shape[0])
    expected = normal[order[0], columns]
    if len(surfaces) > 1:
        expected[distance[order[1], columns] < margin] = np.nan
    return expected, distance[order[0], columns]


def depth_jumps(frame, camera):
    """(H, W) bool: pixels within MARGIN_PX of a neighbour farther than DEPTH_JUMP_PX
    pixel footprints in 3D (a self-occlusion edge, or a surface seen edge on)."""
    h, w = frame.depth.shape
    v, u = np.mgrid[0:h, 0:w]
    z = frame.depth.astype(float)
    points = np.stack([(u - camera.cx) / camera.fx * z, (v - camera.cy) / camera.fy * z, z], axis=-1)
    limit = DEPTH_JUMP_PX * z / camera.fx
    across = np.linalg.norm(points[:, 1:] - points[:, :-1], axis=-1) > np.minimum(limit[:, 1:], limit[:, :-1])
    down = np.linalg.norm(points[1:] - points[:-1], axis=-1) > np.minimum(limit[1:], limit[:-1])
    jumps = np.zeros((h, w), bool)
    jumps[:, 1:] |= across
    jumps[:, :-1] |= across
    jumps[1:] |= down
    jumps[:-1] |= down
    return ndimage.binary_dilation(jumps, iterations=MARGIN_PX)


def part_pixels(frame, index, jumps):
    """(rows, columns) of the pixels of part ``index`` of object 1, MARGIN_PX pixels
    away from its outline and from depth jumps."""
    mask = ndimage.binary_erosion((frame.instances == 1) & (frame.parts == index), iterations=MARGIN_PX)
    return np.nonzero(mask & ~jumps)


def part_errors(frame, scene, parts, size, offset):
    """{part key: (M,) angles in degrees between the rendered and the expected normal}
    of the pixels of each part of a rendered lone object (see :func:`variant_references`
    for ``parts``, ``size`` and ``offset``)."""
    obj, cam = scene.objects[0], scene.camera
    object_from_camera = np.linalg.inv(obj.world_from_object()) @ cam.pose  # rigid
    jumps = depth_jumps(frame, cam)
    errors = {}
    for index, part in enumerate(parts, start=1):
        v, u = part_pixels(frame, index, jumps)
        z = frame.depth[v, u].astype(float)
        camera_points = np.column_stack([(u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z])
        canonical = (camera_points @ object_from_camera[:3, :3].T + object_from_camera[:3, 3]) / obj.scale
        local_from_object = np.linalg.inv(part.object_from_local)
        local = (canonical * size + offset) @ local_from_object[:3, :3].T + local_from_object[:3, 3]
        margin = MARGIN_PX * z / cam.fx * size / obj.scale  # pixels -> local units
        expected, distance = expected_normals(part.surfaces, local, margin)
        off = np.count_nonzero(distance > ON_SURFACE * size)
        assert off <= 0.01 * len(distance), f"{part.key}: {off} pixels off the reference surfaces"
        rendered = frame.normals[v, u] @ (local_from_object[:3, :3] @ object_from_camera[:3, :3]).T
        keep = ~np.isnan(expected[:, 0])
        cosine = np.sum(rendered[keep] * expected[keep], axis=1)
        errors[part.key] = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    return errors


def view_camera(centre, radius, azimuth_deg, elevation_deg):
    """A SIZE x SIZE camera looking at ``centre`` that frames a sphere of ``radius``."""
    fov = 40.0
    distance = 1.1 * radius / math.sin(math.radians(fov / 2))
    eye = np.asarray(centre) + distance * direction(math.radians(azimuth_deg), math.radians(elevation_deg))
    return make_camera(eye, centre, SIZE, SIZE, fov_deg=fov)


# -- fixtures and tests ---------------------------------------------------------------


@pytest.fixture(scope="module")
def shapes_cfg():
    """The built-in config plus an entry for each primitive shape it does not use."""
    data = config_to_dict(load_config())
    for name, extra in EXTRA_ENTRIES.items():
        data["objects"][name] = {**data["objects"]["ball"], **extra}
    return config_from_dict(data)


@pytest.fixture(scope="module")
def shapes(shapes_cfg):
    dictionary = ObjectDictionary(shapes_cfg)
    with Renderer(dictionary) as renderer:
        yield dictionary, renderer


def entry_errors(shapes_cfg, shapes, entry):
    """{part key: (M,) angles in degrees between the rendered and the expected normal}
    over every style and view of ``entry``; every part of every style has a key."""
    dictionary, renderer = shapes
    errors = {}
    for style in dictionary[entry].styles:
        parts, size, offset = variant_references(shapes_cfg, entry, style)
        extents = np.asarray(dictionary[entry].variant(style).extents)
        obj = make_object(dictionary, entry, style=style, yaw=YAW, position=(0.0, 0.0, LIFT))
        centre = np.array([0.0, 0.0, LIFT + extents[2] / 2])
        for azimuth, elevation in VIEWS:
            scene = lone_scene(obj, view_camera(centre, np.linalg.norm(extents) / 2, azimuth, elevation))
            for key, found in part_errors(renderer.render(scene), scene, parts, size, offset).items():
                errors.setdefault(key, []).append(found)
    return {key: np.concatenate(found) for key, found in errors.items()}


def test_entries_cover_every_entry_and_primitive_shape(shapes_cfg):
    assert set(ENTRIES) == set(shapes_cfg.objects)
    entries = shapes_cfg.objects.values()
    parts = [p for e in entries for p in e.parts]
    parts += [p for e in entries for slot in e.part_rules.values() for style in slot.values() for p in style.parts]
    assert {str(p.shape) for p in parts} | {str(e.shape) for e in entries if e.shape} == set(PRIMITIVE_SHAPES)


@pytest.mark.parametrize("entry", ENTRIES)
def test_normals_are_the_exact_surface_normals(shapes_cfg, shapes, entry):
    """Every part (of every style) is seen on at least MIN_PIXELS pixels away from its
    edges, where the angle between the rendered and the exact normal has a median below
    MEDIAN_DEG and a 95th percentile below P95_DEG (8-bit normals alone give ~0.25)."""
    errors = entry_errors(shapes_cfg, shapes, entry)
    measured = {key: (len(e), np.median(e), np.percentile(e, 95)) for key, e in errors.items() if len(e) > 0}
    report = "; ".join(f"{key}: n={n} median={median:.2f} p95={p95:.2f}" for key, (n, median, p95) in measured.items())
    for key, found in errors.items():
        assert len(found) >= MIN_PIXELS, f"{entry} {key} is seen on {len(found)} pixels"
        assert np.median(found) < MEDIAN_DEG and np.percentile(found, 95) < P95_DEG, f"{entry} {key}: {report}"
