"""Settling: rigid bodies dropped onto a flat floor until they come to rest, simulated with
PyBullet (an optional dependency: ``pip install 'scenegen[physics]'``).

Frames and units follow the project's conventions: metres, seconds, kilograms; world
z-up. A body is given in its canonical frame (unitless vertices, see
:mod:`scenegen.world.dictionary`), scaled by ``scale`` metres per unit and placed by a
world-from-canonical rotation and the world position of its canonical origin; results
are returned in the same terms, whatever PyBullet uses inside.

Bodies. Each :class:`SettleBody` is one rigid PyBullet multibody: its first piece is the
base link and every other piece a link welded to it by a fixed joint (PyBullet's Python
API cannot build a compound of several in-memory convex hulls, and a weld of links is
exact in reduced coordinates). Every link frame is the body's canonical frame in metres;
each piece collides as the convex hull of its vertices, and its mass and inertia are
those of that hull at ``density``, its inertial frame at the hull's centre of mass along
its principal axes. Links of one body do not collide with each other.

Margins. PyBullet rounds every hull outward by a collision margin of 1 mm
(:data:`COLLISION_MARGIN`, fixed when a shape is created; from Python it can be changed
for a base but not for a link). The floor plane is lowered by that margin, so a body
resting on the floor has its lowest vertex at ``floor_z`` (within the solver's
tolerance, about 1e-5 m); bodies resting on one another keep a gap of up to two margins
(2 mm) between their meshes, and edges and corners touch as if rounded by 1 mm.

Contacts. Bullet combines two colliders' coefficients by multiplying them, so every
collider, the floor included, gets the square root of ``friction`` and of
``restitution``: each contact then has exactly the given coefficients. Rolling and
spinning friction are zero; damping is small and fixed (:data:`LINEAR_DAMPING`,
:data:`ANGULAR_DAMPING`); bodies never sleep, so a slowly creeping body is seen moving.

Determinism. Each call connects a fresh ``DIRECT`` (in-process) client and disconnects it
afterwards, sets every engine parameter that shapes a step explicitly (one step of
``time_step`` per call to ``stepSimulation``, a fixed number of solver iterations,
deterministic overlapping pairs, even the process-wide contact breaking threshold),
creates the floor and then the bodies in list order and runs exactly
``round(seconds / time_step)`` steps. The same input then gives the same bytes, in this
process or another on the same machine and PyBullet build. Nothing is drawn at random.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh

from ..errors import ConfigError, MeshError

GRAVITY = 9.81  # m/s^2, along -z
COLLISION_MARGIN = 1e-3  # m: PyBullet's default margin of a hull made from vertices
SOLVER_ITERATIONS = 50
CONTACT_ERP = 0.2  # share of a contact's penetration corrected per step (PyBullet's default: 0.08)
LINEAR_DAMPING = 0.01  # 1/s
ANGULAR_DAMPING = 0.01  # 1/s
CONTACT_BREAKING_THRESHOLD = 0.02  # m: Bullet's default (a process-wide global in PyBullet)
REST_WINDOW = 0.25  # s: speeds are judged over this last stretch of a run
REST_LINEAR_SPEED = 0.01  # m/s
REST_ANGULAR_SPEED = math.radians(2.0)  # rad/s
_MIN_VOLUME = 1e-15  # m^3: a piece whose hull is smaller has no solid hull


@dataclass(frozen=True)
class SettleBody:
    """One rigid body to settle.

    Attributes:
        pieces: convex pieces, each a (V, 3) float array of canonical-unit vertices (V >= 4;
            their convex hull collides and carries mass), e.g. one per part of a
            part-composed object, or the whole mesh's vertices. The first is the base.
        scale: metres per canonical unit (> 0).
        rotation: (3, 3) world-from-canonical rotation, row-major nested tuples (or any
            array-like of that shape; proper and orthonormal within 1e-6).
        position: (3,) world position (metres) of the canonical origin.
        fixed: a static body (e.g. a table others fall onto); it never moves.
        density: kg/m^3; the mass is ``density`` times the hull volumes, summed over pieces.
    """

    pieces: tuple
    scale: float
    rotation: tuple
    position: tuple
    fixed: bool = False
    density: float = 300.0


@dataclass(frozen=True)
class SettleResult:
    """What :func:`settle` returns, one entry per body in input order.

    Attributes:
        rotations: (3, 3) world-from-canonical rotation after settling, row-major tuples of
            float.
        positions: (3,) world position (metres) of the canonical origin after settling.
        at_rest: the body's centre of mass moved slower than 1 cm/s and it turned slower
            than 2 deg/s at every step of the last 0.25 s of the run (all of it if shorter);
            always True for a fixed body.
        left_area: its centre of mass ended outside the square ``|x|, |y| <= area_half``
            (metres) or below the floor.
        steps: simulation steps run (``round(seconds / time_step)``).
    """

    rotations: tuple
    positions: tuple
    at_rest: tuple
    left_area: tuple
    steps: int


@dataclass(frozen=True)
class _Piece:
    vertices: np.ndarray  # (H, 3) hull vertices in the body's canonical frame, metres
    mass: float  # kg
    center: np.ndarray  # (3,) centre of mass in the canonical frame, metres
    axes: np.ndarray  # (3, 3) proper rotation: canonical-from-principal
    inertia: np.ndarray  # (3,) principal moments, kg m^2


@dataclass(frozen=True)
class _Prepared:
    pieces: tuple  # of _Piece
    rotation: np.ndarray  # (3, 3) initial world-from-canonical
    position: np.ndarray  # (3,) initial world position of the canonical origin, metres
    center: np.ndarray  # (3,) the whole body's centre of mass in the canonical frame, metres
    fixed: bool


def _import_pybullet():
    """The ``pybullet`` module; ConfigError naming the extra that installs it when missing."""
    try:
        import pybullet
    except ImportError as exc:
        raise ConfigError("settling needs PyBullet: pip install 'scenegen[physics]'") from exc
    return pybullet


def settle(bodies, *, area_half: float, seconds: float = 2.0, time_step: float = 1 / 240, floor_z: float = 0.0,
           friction: float = 0.6, restitution: float = 0.0, seed: int = 0) -> SettleResult:
    """Drop ``bodies`` under gravity onto the floor ``z = floor_z`` and simulate them.

    Args:
        bodies: sequence of :class:`SettleBody`, created in this order.
        area_half: metres; a body whose centre of mass ends outside ``|x|, |y| <=
            area_half`` is flagged in :attr:`SettleResult.left_area` (the floor itself is
            unbounded).
        seconds: simulated time (> 0).
        time_step: seconds per step (> 0); ``round(seconds / time_step)`` steps are run,
            no early exit.
        floor_z: height of the floor, metres.
        friction: Coulomb friction coefficient of every contact (>= 0).
        restitution: restitution of every contact, in [0, 1].
        seed: accepted for future use; nothing in a settle is random, and it changes
            nothing.

    Returns:
        :class:`SettleResult`.

    Raises:
        ConfigError: PyBullet is not installed.
        ValueError: a bad argument or body.
        MeshError: a piece has no solid convex hull (fewer than 4 vertices, non-finite or
            flat).
    """
    steps = _check_run(area_half, seconds, time_step, floor_z, friction, restitution, seed)
    prepared = [_prepare(body, i) for i, body in enumerate(bodies)]
    window = max(1, round(REST_WINDOW / time_step))
    pybullet = _import_pybullet()
    with _World(pybullet, prepared, time_step, floor_z, friction, restitution) as world:
        fastest = np.zeros((len(prepared), 2))
        for step in range(steps):
            world.step()
            if step >= steps - window:
                fastest = np.maximum(fastest, world.speeds())
        rotations, positions = world.poses()
    at_rest, left_area = [], []
    for body, rotation, position, (linear, angular) in zip(prepared, rotations, positions, fastest):
        at_rest.append(body.fixed or (linear < REST_LINEAR_SPEED and angular < REST_ANGULAR_SPEED))
        x, y, z = rotation @ body.center + position
        left_area.append(bool(max(abs(x), abs(y)) > area_half or z < floor_z))
    return SettleResult(
        rotations=tuple(_matrix_tuple(r) for r in rotations),
        positions=tuple(tuple(float(v) for v in p) for p in positions),
        at_rest=tuple(bool(v) for v in at_rest),
        left_area=tuple(left_area),
        steps=steps,
    )


def drift(piece_vertices, scale, rotation, position, seconds=2.0, **kw) -> tuple[float, float]:
    """How far one body moves when released at a pose: the stability check of a rest.

    Args:
        piece_vertices: its pieces, as :attr:`SettleBody.pieces` ((V, 3) canonical units each).
        scale: metres per canonical unit.
        rotation: (3, 3) world-from-canonical rotation it is released in.
        position: (3,) world position (metres) of its canonical origin.
        seconds: simulated time.
        **kw: ``time_step``, ``floor_z``, ``friction``, ``restitution`` as for
            :func:`settle`, and ``density`` as for :class:`SettleBody`.

    Returns:
        ``(metres, degrees)``: the largest displacement of any of its vertices from where
        it was released, over every step of the run (not only the last), and the largest
        angle, in degrees, its orientation turned from the released one over the run.
    """
    density = kw.pop("density", SettleBody.density)
    options = {"time_step": 1 / 240, "floor_z": 0.0, "friction": 0.6, "restitution": 0.0}
    unknown = set(kw) - set(options)
    if unknown:
        raise ValueError(f"drift got unknown options {sorted(unknown)}; valid: {sorted(options) + ['density']}")
    options.update(kw)
    steps = _check_run(math.inf, seconds, options["time_step"], options["floor_z"], options["friction"],
                       options["restitution"], 0)
    body = _prepare(SettleBody(tuple(piece_vertices), scale, rotation, position, density=density), 0)
    points = np.concatenate([piece.vertices for piece in body.pieces])  # the extremes of a rigid motion
    start = points @ body.rotation.T + body.position
    pybullet = _import_pybullet()
    moved, turned = 0.0, 0.0
    with _World(pybullet, [body], **options) as world:
        for _ in range(steps):
            world.step()
            (rotation_now,), (position_now,) = world.poses()
            now = points @ rotation_now.T + position_now
            moved = max(moved, float(np.sqrt(((now - start) ** 2).sum(axis=1)).max()))
            turned = max(turned, _angle(rotation_now @ body.rotation.T))
    return moved, math.degrees(turned)


class _World:
    """A PyBullet client holding the floor and the bodies; disconnected on exit."""

    def __init__(self, pybullet, bodies, time_step, floor_z, friction, restitution):
        self._p = pybullet
        self._bodies = bodies
        self._settings = (float(time_step), float(floor_z), float(friction), float(restitution))
        self._client = -1
        self._ids: list[int] = []

    def __enter__(self) -> "_World":
        self._client = self._p.connect(self._p.DIRECT)
        if self._client < 0:
            raise RuntimeError("PyBullet could not start a DIRECT client")
        try:
            self._build()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._client >= 0:
            self._p.disconnect(physicsClientId=self._client)
            self._client = -1

    def _build(self) -> None:
        p, client = self._p, self._client
        time_step, floor_z, friction, restitution = self._settings
        p.setPhysicsEngineParameter(
            fixedTimeStep=time_step, numSubSteps=0, numSolverIterations=SOLVER_ITERATIONS,
            numNonContactInnerIterations=1, deterministicOverlappingPairs=1, useSplitImpulse=1,
            contactBreakingThreshold=CONTACT_BREAKING_THRESHOLD,
            contactSlop=1e-5, enableConeFriction=1, enableSAT=0, restitutionVelocityThreshold=0.2,
            solverResidualThreshold=1e-7, minimumSolverIslandSize=0, warmStartingFactor=0.1,
            erp=0.2, contactERP=CONTACT_ERP, frictionERP=0.2, globalCFM=0.0, enableFileCaching=0,
            physicsClientId=client,
        )
        p.setGravity(0.0, 0.0, -GRAVITY, physicsClientId=client)
        coefficients = {"lateralFriction": math.sqrt(friction), "restitution": math.sqrt(restitution),
                        "rollingFriction": 0.0, "spinningFriction": 0.0}
        plane = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=client)
        floor = p.createMultiBody(0.0, plane, -1, [0.0, 0.0, floor_z - COLLISION_MARGIN], physicsClientId=client)
        p.changeDynamics(floor, -1, **coefficients, physicsClientId=client)
        self._ids = [self._add(body, coefficients) for body in self._bodies]

    def _add(self, body: _Prepared, coefficients: dict) -> int:
        p, client = self._p, self._client
        shapes = [p.createCollisionShape(p.GEOM_MESH, vertices=piece.vertices.tolist(), physicsClientId=client)
                  for piece in body.pieces]
        base, links = body.pieces[0], body.pieces[1:]
        n = len(links)
        body_id = p.createMultiBody(
            baseMass=0.0 if body.fixed else base.mass, baseCollisionShapeIndex=shapes[0],
            basePosition=body.position.tolist(), baseOrientation=_quaternion(body.rotation),
            baseInertialFramePosition=base.center.tolist(), baseInertialFrameOrientation=_quaternion(base.axes),
            linkMasses=[piece.mass for piece in links], linkCollisionShapeIndices=shapes[1:],
            linkVisualShapeIndices=[-1] * n, linkPositions=[[0.0, 0.0, 0.0]] * n,
            linkOrientations=[[0.0, 0.0, 0.0, 1.0]] * n,
            linkInertialFramePositions=[piece.center.tolist() for piece in links],
            linkInertialFrameOrientations=[_quaternion(piece.axes) for piece in links],
            linkParentIndices=[0] * n, linkJointTypes=[p.JOINT_FIXED] * n, linkJointAxis=[[0.0, 0.0, 1.0]] * n,
            physicsClientId=client,
        )
        for link, piece in enumerate(body.pieces, start=-1):
            p.changeDynamics(body_id, link, localInertiaDiagonal=piece.inertia.tolist(), **coefficients,
                             physicsClientId=client)
        p.changeDynamics(body_id, -1, linearDamping=LINEAR_DAMPING, angularDamping=ANGULAR_DAMPING,
                         activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING, physicsClientId=client)
        return body_id

    def step(self) -> None:
        self._p.stepSimulation(physicsClientId=self._client)

    def poses(self) -> tuple[list, list]:
        """Per body: (3, 3) world-from-canonical rotation and (3,) canonical origin, metres."""
        rotations, positions = [], []
        for body, body_id in zip(self._bodies, self._ids):
            position, orientation = self._p.getBasePositionAndOrientation(body_id, physicsClientId=self._client)
            base = body.pieces[0]
            rotation = _rotation(orientation) @ base.axes.T  # world-from-inertial times inertial-from-canonical
            rotations.append(rotation)
            positions.append(np.asarray(position, dtype=np.float64) - rotation @ base.center)
        return rotations, positions

    def speeds(self) -> np.ndarray:
        """(N, 2) per body: speed of its centre of mass (m/s) and angular speed (rad/s)."""
        out = np.zeros((len(self._ids), 2))
        for i, (body, body_id) in enumerate(zip(self._bodies, self._ids)):
            if body.fixed:
                continue
            linear, angular = self._p.getBaseVelocity(body_id, physicsClientId=self._client)
            _, orientation = self._p.getBasePositionAndOrientation(body_id, physicsClientId=self._client)
            base = body.pieces[0]
            lever = _rotation(orientation) @ (base.axes.T @ (body.center - base.center))
            omega = np.asarray(angular, dtype=np.float64)
            out[i] = np.linalg.norm(np.asarray(linear, dtype=np.float64) + np.cross(omega, lever)), np.linalg.norm(omega)
        return out


def _check_run(area_half, seconds, time_step, floor_z, friction, restitution, seed) -> int:
    """Validate the run's arguments; the number of steps."""
    if not (area_half > 0.0):
        raise ValueError(f"area_half must be > 0 metres, got {area_half!r}")
    if not (math.isfinite(time_step) and time_step > 0.0):
        raise ValueError(f"time_step must be a finite number of seconds > 0, got {time_step!r}")
    if not (math.isfinite(seconds) and seconds > 0.0):
        raise ValueError(f"seconds must be finite and > 0, got {seconds!r}")
    if not math.isfinite(floor_z):
        raise ValueError(f"floor_z must be finite, got {floor_z!r}")
    if not (math.isfinite(friction) and friction >= 0.0):
        raise ValueError(f"friction must be >= 0, got {friction!r}")
    if not (0.0 <= restitution <= 1.0):
        raise ValueError(f"restitution must be in [0, 1], got {restitution!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    steps = round(seconds / time_step)
    if steps < 1:
        raise ValueError(f"seconds ({seconds!r}) must be at least half a time_step ({time_step!r})")
    return steps


def _prepare(body: SettleBody, index: int) -> _Prepared:
    """Check ``body`` and compute its pieces' hulls and mass properties (metres, kg)."""
    where = f"settle body {index}"
    scale, density = float(body.scale), float(body.density)
    if not (math.isfinite(scale) and scale > 0.0):
        raise ValueError(f"{where}: scale must be > 0 metres per unit, got {body.scale!r}")
    if not (math.isfinite(density) and density > 0.0):
        raise ValueError(f"{where}: density must be > 0 kg/m^3, got {body.density!r}")
    rotation = np.asarray(body.rotation, dtype=np.float64)
    position = np.asarray(body.position, dtype=np.float64)
    if rotation.shape != (3, 3) or not np.all(np.isfinite(rotation)) or not np.allclose(
            rotation @ rotation.T, np.eye(3), atol=1e-6) or np.linalg.det(rotation) <= 0.0:
        raise ValueError(f"{where}: rotation must be a proper (3, 3) rotation, got {body.rotation!r}")
    if position.shape != (3,) or not np.all(np.isfinite(position)):
        raise ValueError(f"{where}: position must be (3,) finite metres, got {body.position!r}")
    if len(body.pieces) == 0:
        raise ValueError(f"{where}: needs at least one piece")
    pieces = tuple(_piece(vertices, scale, density, f"{where}, piece {j}") for j, vertices in enumerate(body.pieces))
    masses = np.array([piece.mass for piece in pieces])
    center = (masses[:, None] * np.array([piece.center for piece in pieces])).sum(axis=0) / masses.sum()
    return _Prepared(pieces, rotation, position, center, bool(body.fixed))


def _piece(vertices, scale: float, density: float, where: str) -> _Piece:
    """One convex piece: its hull in metres and the hull's mass properties."""
    points = np.asarray(vertices, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) < 4 or not np.all(np.isfinite(points)):
        raise MeshError(f"{where}: needs (V, 3) finite vertices, V >= 4, got shape {points.shape}")
    hull = trimesh.convex.convex_hull(points * scale)
    volume = float(hull.volume)
    if not (volume > _MIN_VOLUME):
        raise MeshError(f"{where}: its convex hull is flat ({len(points)} vertices, volume {volume:.3g} m^3)")
    moments, axes = np.linalg.eigh(np.asarray(hull.moment_inertia, dtype=np.float64))  # about the centroid, density 1
    if np.linalg.det(axes) < 0.0:
        axes[:, 2] = -axes[:, 2]
    return _Piece(np.ascontiguousarray(hull.vertices, dtype=np.float64), density * volume,
                  np.asarray(hull.center_mass, dtype=np.float64), axes, density * np.maximum(moments, 0.0))


def _quaternion(rotation: np.ndarray) -> list[float]:
    """[x, y, z, w] unit quaternion of a proper (3, 3) rotation (Shepperd's method)."""
    m = np.asarray(rotation, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0.0:
        s = 2.0 * math.sqrt(1.0 + trace)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] >= m[1, 1] and m[0, 0] >= m[2, 2]:
        s = 2.0 * math.sqrt(max(1.0 + m[0, 0] - m[1, 1] - m[2, 2], 0.0))
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] >= m[2, 2]:
        s = 2.0 * math.sqrt(max(1.0 - m[0, 0] + m[1, 1] - m[2, 2], 0.0))
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * math.sqrt(max(1.0 - m[0, 0] - m[1, 1] + m[2, 2], 0.0))
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    norm = math.sqrt(sum(v * v for v in q))
    return [float(v / norm) for v in q]


def _rotation(quaternion) -> np.ndarray:
    """(3, 3) rotation of an [x, y, z, w] quaternion (normalised first)."""
    x, y, z, w = np.asarray(quaternion, dtype=np.float64) / np.linalg.norm(quaternion)
    return np.array([
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
        [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
        [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
    ])


def _angle(rotation: np.ndarray) -> float:
    """Rotation angle (radians, [0, pi]) of a (3, 3) rotation matrix."""
    cosine = (float(np.trace(rotation)) - 1.0) / 2.0
    return math.acos(min(1.0, max(-1.0, cosine)))


def _matrix_tuple(matrix: np.ndarray) -> tuple:
    return tuple(tuple(float(v) for v in row) for row in matrix)
