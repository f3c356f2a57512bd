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
spinning friction are small (:data:`ROLLING_FRICTION`, :data:`SPINNING_FRICTION`: a
ball, a can on its side or a bowl on its rim slows down and stops as on a real floor); damping is small and fixed (Bullet's multibody defaults,
:data:`LINEAR_DAMPING`, :data:`ANGULAR_DAMPING`); bodies never sleep, so a slowly
creeping body is seen moving. Multibody contacts have no split impulse: penetration is
pushed out by :data:`CONTACT_ERP` of it per step (with PyBullet's default, 0.08, a bowl
rolling on its rim sank 4 mm into the floor). A contact manifold gains one point per
step (the deepest), so a body released resting on a face rocks for the first steps (up
to 1.9 mm and 0.9 degrees among the built-in rest states), and a body still rolling can
dip about 2 mm into the floor; at rest, meshes stay within 0.1 mm of it.

Determinism. Each call empties this process's ``DIRECT`` (in-process) client
(``resetSimulation``; connected once per process), sets every engine parameter that
shapes a step explicitly (one step of ``time_step`` per call to ``stepSimulation``, a
fixed number of solver iterations, deterministic overlapping pairs, even the
process-wide contact breaking threshold), creates the floor and then the bodies in list
order and runs at most ``round(seconds / time_step)`` steps, stopping early only when
every body has been at rest for :data:`REST_WINDOW` (a test of the simulated state). The
same input then gives the same bytes, in this process after any other runs, or in
another on the same machine and PyBullet build. Nothing is drawn at random.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..cache import array_digest
from ..errors import ConfigError, MeshError
from ..lazy import trimesh

GRAVITY = 9.81  # m/s^2, along -z
COLLISION_MARGIN = 1e-3  # m: PyBullet's default margin of a hull made from vertices
SOLVER_ITERATIONS = 20
CONTACT_ERP = 0.2  # share of a contact's penetration corrected per step (PyBullet's default: 0.08)
LINEAR_DAMPING = 0.04  # Bullet's multibody default: a force -k m v (1 + |v|) on each link, k in 1/s
ANGULAR_DAMPING = 0.04  # ... and a torque -k I w (1 + |w|)
CONTACT_BREAKING_THRESHOLD = 0.02  # m: Bullet's default (a process-wide global in PyBullet)
REST_WINDOW = 0.25  # s: a body is at rest when it has not moved faster than below for this long
ROLLING_FRICTION = 1e-3  # of every contact (torque / normal force, metres): rollers slow down and stop
SPINNING_FRICTION = 1e-3  # of every contact, metres
CHECK_EVERY = 6  # steps between looks at the speeds (at 1/240 s: every 25 ms)
REST_LINEAR_SPEED = 0.02  # m/s
REST_ANGULAR_SPEED = math.radians(5.0)  # rad/s
_MIN_VOLUME = 1e-15  # m^3: a piece whose hull is smaller has no solid hull


@dataclass(frozen=True, eq=False)
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
        fixed: a static body (e.g. a table others fall onto); it never moves, and its
            input pose is returned.
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
        at_rest: the body's centre of mass moved slower than 2 cm/s and it turned slower
            than 5 deg/s whenever its speeds were looked at (every CHECK_EVERY steps) in the
            last 0.25 s of the run (all of it if shorter);
            always True for a fixed body.
        left_area: its centre of mass ended outside the square ``|x|, |y| <= area_half``
            (metres) or below the floor.
        steps: simulation steps run (at most ``round(seconds / time_step)``; fewer when every
            body came to rest before).
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


def require_physics(what: str) -> None:
    """Refuse ``what`` (a config key that needs a simulation) where PyBullet is missing.

    Raises:
        ConfigError: naming ``what`` and the install command.
    """
    try:
        _import_pybullet()
    except ConfigError:
        raise ConfigError(f"{what} needs PyBullet, which is not installed: pip install 'scenegen[physics]'") from None


def _import_pybullet():
    """The ``pybullet`` module; ConfigError naming the extra that installs it when missing."""
    try:
        import pybullet
    except ImportError as exc:
        raise ConfigError("settling needs PyBullet: pip install 'scenegen[physics]'") from exc
    return pybullet


def settle(bodies, *, area_half: float, seconds: float = 2.0, time_step: float = 1 / 240, floor_z: float = 0.0,
           friction: float = 0.6, restitution: float = 0.0, seed: int = 0, early_exit: bool = True) -> SettleResult:
    """Drop ``bodies`` under gravity onto the floor ``z = floor_z`` and simulate them.

    Args:
        bodies: sequence of :class:`SettleBody`, created in this order.
        area_half: metres; a body whose centre of mass ends outside ``|x|, |y| <=
            area_half`` is flagged in :attr:`SettleResult.left_area` (the floor itself is
            unbounded).
        seconds: simulated time (> 0) at most.
        time_step: seconds per step (> 0); at most ``round(seconds / time_step)`` steps.
        early_exit: stop as soon as every body has been at rest for :data:`REST_WINDOW`
            (speeds are looked at every :data:`CHECK_EVERY` steps); the stop depends on
            the simulated state alone, so it is as deterministic as the steps.
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
    pybullet = _import_pybullet()
    steps = _check_run(area_half, seconds, time_step, floor_z, friction, restitution, seed)
    prepared = [_prepare(body, i) for i, body in enumerate(bodies)]
    window = max(1, round(REST_WINDOW / time_step))
    with _World(pybullet, prepared, time_step, floor_z, friction, restitution) as world:
        moving = [not body.fixed for body in prepared]
        last_fast = [0 if m else -window for m in moving]  # the last step each body was seen moving
        step = 0
        while step < steps:
            world.step()
            step += 1
            if step % CHECK_EVERY and step != steps:
                continue
            for i, fast in enumerate(world.moving()):
                if fast:
                    last_fast[i] = step
            if early_exit and step >= window and all(step - last >= window for last in last_fast):
                break
        rotations, positions = world.poses()
    at_rest, left_area = [], []
    for body, rotation, position, last in zip(prepared, rotations, positions, last_fast):
        at_rest.append(body.fixed or step - last >= window)
        x, y, z = rotation @ body.center + position
        left_area.append(bool(max(abs(x), abs(y)) > area_half or z < floor_z))
    return SettleResult(
        rotations=tuple(_matrix_tuple(r) for r in rotations),
        positions=tuple(tuple(float(v) for v in p) for p in positions),
        at_rest=tuple(bool(v) for v in at_rest),
        left_area=tuple(left_area),
        steps=step,
    )


def center_of_mass(pieces) -> np.ndarray:
    """(3,) centre of mass, in the pieces' own units, of a uniform-density body made of the
    convex hulls of ``pieces`` ((V, 3) vertices each): the one :func:`settle` simulates.

    Pass it to :func:`scenegen.world.rest.rest_states` as ``center`` so that the rests
    analysed are those the simulation keeps (by default that analysis takes the centroid
    of the hull of all vertices, which counts the space between parts as solid).
    """
    pieces = [_piece(vertices, 1.0, 1.0, f"piece {j}") for j, vertices in enumerate(pieces)]
    if not pieces:
        raise ValueError("center_of_mass needs at least one piece")
    return _center(pieces)


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
    pybullet = _import_pybullet()
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
    moved, turned = 0.0, 0.0
    with _World(pybullet, [body], **options) as world:
        for _ in range(steps):
            world.step()
            (rotation_now,), (position_now,) = world.poses()
            now = points @ rotation_now.T + position_now
            moved = max(moved, float(np.sqrt(((now - start) ** 2).sum(axis=1)).max()))
            turned = max(turned, _angle(rotation_now @ body.rotation.T))
    return moved, math.degrees(turned)


_CLIENT: dict = {}  # process id -> this process's DIRECT client (a fork gets its own)


def _client(pybullet) -> int:
    """This process's DIRECT client, emptied (``resetSimulation``: no body, shape or
    setting of an earlier run is left), connected on first use: connecting costs about
    14 ms, emptying 4 ms."""
    client = _CLIENT.get(os.getpid())
    if client is None or not pybullet.isConnected(physicsClientId=client):
        client = pybullet.connect(pybullet.DIRECT)
        if client < 0:
            raise RuntimeError("PyBullet could not start a DIRECT client")
        _CLIENT[os.getpid()] = client
    else:
        pybullet.resetSimulation(physicsClientId=client)
    return client


def _drop_client(pybullet) -> None:
    client = _CLIENT.pop(os.getpid(), None)
    if client is not None and pybullet.isConnected(physicsClientId=client):
        pybullet.disconnect(physicsClientId=client)


class _World:
    """A PyBullet client holding the floor and the bodies; disconnected on exit."""

    def __init__(self, pybullet, bodies, time_step, floor_z, friction, restitution):
        self._p = pybullet
        self._bodies = bodies
        self._settings = (float(time_step), float(floor_z), float(friction), float(restitution))
        self._client = -1
        self._ids: list[int] = []
        self._levers = [float(np.linalg.norm(body.center - body.pieces[0].center)) for body in bodies]

    def __enter__(self) -> "_World":
        self._client = _client(self._p)
        try:
            self._build()
        except BaseException:
            _drop_client(self._p)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:  # a run stopped half-way: start the next from a new client
            _drop_client(self._p)
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
                        "rollingFriction": math.sqrt(ROLLING_FRICTION), "spinningFriction": math.sqrt(SPINNING_FRICTION)}
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
            linkMasses=[0.0 if body.fixed else piece.mass for piece in links], linkCollisionShapeIndices=shapes[1:],
            linkVisualShapeIndices=[-1] * n, linkPositions=[[0.0, 0.0, 0.0]] * n,
            linkOrientations=[[0.0, 0.0, 0.0, 1.0]] * n,
            linkInertialFramePositions=[piece.center.tolist() for piece in links],
            linkInertialFrameOrientations=[_quaternion(piece.axes) for piece in links],
            linkParentIndices=[0] * n, linkJointTypes=[p.JOINT_FIXED] * n, linkJointAxis=[[0.0, 0.0, 1.0]] * n,
            physicsClientId=client,
        )
        for link, piece in enumerate(body.pieces, start=-1):
            inertia = {} if body.fixed else {"localInertiaDiagonal": piece.inertia.tolist()}
            p.changeDynamics(body_id, link, **inertia, **coefficients, physicsClientId=client)
        p.changeDynamics(body_id, -1, linearDamping=LINEAR_DAMPING, angularDamping=ANGULAR_DAMPING,
                         activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING, physicsClientId=client)
        return body_id

    def step(self) -> None:
        self._p.stepSimulation(physicsClientId=self._client)

    def poses(self) -> tuple[list, list]:
        """Per body: (3, 3) world-from-canonical rotation and (3,) canonical origin, metres."""
        rotations, positions = [], []
        for body, body_id in zip(self._bodies, self._ids):
            if body.fixed:
                rotations.append(body.rotation.copy())
                positions.append(body.position.copy())
                continue
            position, orientation = self._p.getBasePositionAndOrientation(body_id, physicsClientId=self._client)
            base = body.pieces[0]
            rotation = _rotation(orientation) @ base.axes.T  # world-from-inertial times inertial-from-canonical
            rotations.append(rotation)
            positions.append(np.asarray(position, dtype=np.float64) - rotation @ base.center)
        return rotations, positions

    def moving(self) -> list[bool]:
        """Per body: whether it moves faster than a body at rest may: its centre of mass
        over :data:`REST_LINEAR_SPEED` (bounded above by the base's speed plus the turn
        rate times the base-to-centre lever, no orientation needed) or its turn rate over
        :data:`REST_ANGULAR_SPEED`; fixed bodies never move."""
        out = []
        for body, body_id, lever in zip(self._bodies, self._ids, self._levers):
            if body.fixed:
                out.append(False)
                continue
            (vx, vy, vz), (wx, wy, wz) = self._p.getBaseVelocity(body_id, physicsClientId=self._client)
            turn_rate = math.sqrt(wx * wx + wy * wy + wz * wz)
            speed = math.sqrt(vx * vx + vy * vy + vz * vz) + turn_rate * lever
            out.append(speed >= REST_LINEAR_SPEED or turn_rate >= REST_ANGULAR_SPEED)
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
    return _Prepared(pieces, rotation, position, _center(pieces), bool(body.fixed))


def _center(pieces) -> np.ndarray:
    """(3,) mass-weighted mean of the pieces' centres of mass."""
    masses = np.array([piece.mass for piece in pieces])
    return (masses[:, None] * np.array([piece.center for piece in pieces])).sum(axis=0) / masses.sum()


def _piece(vertices, scale: float, density: float, where: str) -> _Piece:
    """One convex piece: its hull in metres and the hull's mass properties (the hull of
    the unscaled vertices, worked out once per vertex array, then scaled: vertices and
    centre by ``scale``, volume by its cube, moments by its fifth power)."""
    points = np.asarray(vertices, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) < 4 or not np.all(np.isfinite(points)):
        raise MeshError(f"{where}: needs (V, 3) finite vertices, V >= 4, got shape {points.shape}")
    hull_vertices, volume, center, axes, moments = _unit_hull(points, where)
    if not (volume * scale**3 > _MIN_VOLUME):
        raise MeshError(f"{where}: its convex hull is flat ({len(points)} vertices, volume "
                        f"{volume * scale**3:.3g} m^3)")
    return _Piece(hull_vertices * scale, density * volume * scale**3, center * scale, axes,
                  density * moments * scale**5)


_HULLS: dict = {}  # sha256 of a vertex array -> its unit hull (see _unit_hull)
_HULLS_MAX = 4096


def _unit_hull(points: np.ndarray, where: str) -> tuple:
    """(hull vertices (H, 3), volume, centre of mass (3,), principal axes (3, 3) proper,
    principal moments (3,) at density 1) of the convex hull of ``points`` as given,
    memoised on their dtype, shape and bytes (:func:`~scenegen.cache.array_digest`)."""
    key = array_digest(points)
    found = _HULLS.get(key)
    if found is None:
        with np.errstate(invalid="ignore", divide="ignore"):  # a flat hull's centroid is 0 / 0
            try:
                hull = trimesh.convex.convex_hull(points)
                volume = float(hull.volume)
            except Exception:  # qhull refuses a flat or degenerate set
                volume = 0.0
        if not (volume > 0.0):
            raise MeshError(f"{where}: its convex hull is flat ({len(points)} vertices)")
        moments, axes = np.linalg.eigh(np.asarray(hull.moment_inertia, dtype=np.float64))  # about the centroid
        if np.linalg.det(axes) < 0.0:
            axes[:, 2] = -axes[:, 2]
        found = (np.ascontiguousarray(hull.vertices, dtype=np.float64), volume,
                 np.asarray(hull.center_mass, dtype=np.float64), axes, np.maximum(moments, 0.0))
        if len(_HULLS) >= _HULLS_MAX:
            _HULLS.clear()
        _HULLS[key] = found
    return found


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
    """Rotation angle (radians, [0, pi]) of a (3, 3) rotation matrix, accurate near 0."""
    r = np.asarray(rotation, dtype=np.float64)
    sine = math.hypot(r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]) / 2.0
    return math.atan2(sine, (float(np.trace(r)) - 1.0) / 2.0)


def _matrix_tuple(matrix: np.ndarray) -> tuple:
    return tuple(tuple(float(v) for v in row) for row in matrix)
