"""Sampler: (config, dictionary, seed, index) -> Scene, in independent stages.

Scene ``index`` of root seed ``seed`` draws from the children of
``SeedSequence(seed, spawn_key=(index,))`` (:mod:`scenegen.streams`, which owns every
stream), so it is the same in any process and any order and can be regenerated alone.
Each stage (context, layout, appearance, lights, camera) has its own child stream, so an
extra draw in one stage never moves the values of another. The sampler never imports the renderer.

A scene is drawn in stages: its context; the camera's direction (drawn before the
layout, so camera relations know where the camera will be); a derivation of the
placement grammar (:mod:`scenegen.world.grammar`) placed by :mod:`scenegen.world.placement`; for a
directive, the target's pose and occlusion (:meth:`Sampler._realize`); the camera
fitted to the objects; appearance; lights. Retries are bounded by
``placement.attempts_per_object`` and ``placement.attempts_per_scene`` (times
``DIRECTIVE_ATTEMPTS_FACTOR`` for directives, which then get
``WIDENED_ATTEMPTS_SHARE`` of that again with a widened occluder search, derivations
without a slot for the directive not counted); beyond them a :class:`PlacementError`
names the directive, the context and the rejections.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Mapping, Optional, Union

import numpy as np
from omegaconf import DictConfig

from ..errors import PlacementError
from ..lazy import ConvexHull, QhullError
from ..scene.factors import AZIMUTH_BINS, NO_BACKGROUND, occlusion_level, pose_bin
from ..scene.geometry import direction, intrinsics_from_fov, look_at_opencv, project, rotation_about_z
from ..scene.scene import Background, Camera, CameraEffects, Context, Environment, Light, ObjectInstance, Scene
from ..streams import STAGE_NAMES, cumulative, draw_index, scene_generators
from .camera_effects import sample_effects
from .compile import World
from .dictionary import ObjectDictionary
from .directives import Directive, feasible_contexts, matching_entries
from .environments import rotate_direction
from .grammar import RelationNode, RepeatNode, head, object_nodes, walk
from .piles import PILE, settle_piles
from .placement import (
    FLOOR_MARGIN,
    LayoutFailed,
    Placer,
    Surface,
    copy_layout,
    dependents,
    moved_copy,
    translate,
    turn,
)
from .resting import POSE_ELEVATIONS, UPRIGHT, object_azimuth
from .visibility import GRID, Body, band_fractions, visible_counts, visible_fraction

POSE_JITTER = math.radians(15.0)  # pose directives aim within +-15 degrees of the bin centre
# Where, inside each occlusion level's band of visible fractions, the ray-cast estimate
# must land (as fractions of the band), so that the rendered measure, which differs by a
# few hundredths, still falls in the level: with the default bands 'none' needs >= 0.995,
# 'partial' 0.62-0.88 and 'heavy' 0.08-0.40.
AIM_WITHIN_BAND = {"none": (0.9, 1.0), "partial": (0.27, 0.84), "heavy": (0.16, 0.8)}
OCCLUDER_DISTANCES = (0.0, 0.3)  # extra gap to the target, in target radii
OCCLUDER_OFFSETS = (0.0, -0.25, 0.25, -0.5, 0.5, -0.75, 0.75)  # sideways, in summed radii; 0.0 first
# An occluder lower than this share of the target's height (at its largest size) is not
# searched: on bench_directives' 300 directives such searches reached heavy in 2 of 153
# layouts and partial in 1 of 37, and took most of the failed searches' time.
OCCLUDER_MIN_HEIGHT = {"partial": 0.45, "heavy": 0.9}
DIRECTIVE_ATTEMPTS_FACTOR = 20  # directive scenes may reject more derivations
TIPPED_YAWS = 360  # turns tried to show a lying target at its pose level
# A derivation without a slot for the directive costs one grammar draw and no placement:
# up to this many of them per attempt of the budget, so a rare slot does not use it up.
SLOTLESS_DRAWS_PER_ATTEMPT = 10
# Directive scenes that exhausted the budget get this share of it again, with the widened
# occluder search (WIDE_*): every layout the first budget accepts is unchanged, so
# scenes that placed before keep their values.
WIDENED_ATTEMPTS_SHARE = 0.5
WIDE_OCCLUDER_DISTANCES = (0.0, 0.3, 1.0, 2.0)  # target radii: nearer the camera looks bigger
WIDE_ELEVATION_STEPS = 3  # views from the drawn elevation down to the lowest allowed one
WIDE_MAX_EVALUATIONS = 160  # ray-cast visibility estimates per widened attempt
COARSE_GRID, COARSE_SLACK = 16, 0.08  # rays a side of the screening grid; its margin around the band
TRIAL_BATCH = (4, 32)  # occluder trials measured together: the first batch, the largest (doubling)

KEY_LIGHT_MIN = 0.02  # a map's key light below this share of its intensity is no light
STAGES = STAGE_NAMES  # ("context", "layout", ..., "surfaces", "background"): scenegen.streams.SCENE_STAGES


def _choose(rng: np.random.Generator, names: list, weights) -> str:
    """One of ``names``, drawn (one ``rng.choice``) with probabilities proportional to
    ``weights`` (not all zero)."""
    weights = np.asarray(weights, dtype=float)
    return names[draw_index(rng, cumulative(weights / weights.sum()))]


def stage_rngs(seed: int, index: int) -> Mapping[str, np.random.Generator]:
    """One independent generator per sampling stage for scene ``index`` of root ``seed``
    (:func:`scenegen.streams.scene_generators`)."""
    return scene_generators(seed, index)


class Sampler:
    """Draws scenes from a validated config.

    Args:
        world: the compiled :class:`scenegen.world.compile.World` of a config; a config
            from :func:`scenegen.load_config` is a shortcut for ``World.of(cfg)``.
        dictionary: with a config: the object dictionary to sample from instead of the
            config's.

    ``cfg.directive``, when not empty, is the directive of every scene it samples.
    ``stats`` counts the bounded rejections (layouts that did not fit, derivations
    without a slot for the directive, occlusion searches that missed their level).
    """

    def __init__(self, world: Union[World, DictConfig], dictionary: Optional[ObjectDictionary] = None):
        if isinstance(world, World):
            if dictionary is not None and dictionary is not world.dictionary:
                raise TypeError("Sampler(world) samples from world.dictionary; pass a config to use another one")
        else:
            world = World.of(world) if dictionary is None else World.build(world, dictionary)
        self.world = world
        cfg = self.cfg = world.cfg
        self._settings = world.plain_cfg  # cfg's values as plain objects: read per scene
        self.dictionary = world.dictionary
        self.grammar = world.grammar
        self._context_names = list(cfg.contexts.keys())
        self._context_weights = np.array([cfg.contexts[c].weight for c in self._context_names], float)
        self.directive = world.directive  # checked by the World
        self.stats: Counter = Counter()
        # the occluder search's work: trials made, cases measured on each grid
        self.search_work: Counter = Counter()
        self._feasible: dict = {}  # directive -> contexts it can be realized in (checked)
        self.occlusion_targets = occlusion_targets(cfg.factors)
        self._contexts: dict = {}  # context name -> its Context (see _context)
        # plain values read on every camera fit
        self._size = (int(cfg.width), int(cfg.height))
        self._clip = (float(cfg.camera.znear), float(cfg.camera.zfar))
        self._gap = float(cfg.placement.gap)
        self._elevations = tuple(float(e) for e in cfg.camera.elevation)  # degrees
        self._framing = _Framing.of(cfg)  # None: off
        self._silhouettes: dict = {}  # id(mesh) -> (mesh, (K, 3) canonical hull vertices), for framing
        self.rest = world.rest  # None: every object upright
        self._object_sets: dict = {}  # material class -> names of the texture sets made for objects
        for name, (material_class, surface) in world.texture_sets.items():
            if surface == "object":
                self._object_sets.setdefault(material_class, []).append(name)

    def sample(self, index: int, directive: Union[Directive, Mapping, None] = None) -> Scene:
        """Scene ``index`` of the config's root seed, realizing ``directive`` (default:
        ``cfg.directive``).

        Raises:
            ConfigError: the directive is infeasible for this grammar and dictionary.
            PlacementError: no layout was accepted within the bounded retries.
        """
        if index < 0:
            raise ValueError(f"scene index must be >= 0, got {index}")
        if directive is None:
            directive = self.directive
        elif not isinstance(directive, Directive):
            directive = Directive.from_mapping(directive)
        if directive is not None and directive not in self._feasible:
            self.world.check_directive(directive)
            self._feasible[directive] = feasible_contexts(directive, self.grammar)
        settings = self._settings
        rngs = stage_rngs(settings.seed, index)  # a stage that draws nothing never makes its stream
        context_name = self._sample_context(rngs["context"], directive)
        view = self._sample_view(rngs["camera"])
        placed, camera, structure, target, attempts = self._sample_layout(
            rngs["layout"], context_name, view, directive, rngs["rest"] if self.rest is not None else None)
        objects = self._sample_appearance(rngs["appearance"], placed, target, directive)
        lights = self._sample_lights(rngs["lights"])
        environment = self._sample_environment(rngs, context_name, directive)
        if environment is not None:  # the map's key light in place of the drawn lights
            lights = self._environment_lights(environment)
        effects = self._sample_effects(rngs, camera, directive)
        context = self._context(context_name)
        if self.world.texture_sets:
            objects, context = self._sample_surfaces(rngs["surfaces"], objects, context)
        return Scene(
            index=index,
            seed=int(settings.seed),
            context=context,
            objects=objects,
            lights=lights,
            camera=camera,
            structure=structure,
            out_of_context=any(not p.node.in_context for p in placed),
            directive=directive.items() if directive is not None else (),
            target=target,
            attempts=attempts,
            environment=environment,
            effects=effects,
            surfaces=str(settings.surfaces.sets) if self.world.texture_sets else "",
            background=self._sample_background(rngs, directive),
            engine=self._sample_engine(rngs, directive),
        )

    # -- stages ---------------------------------------------------------------------

    def _sample_context(self, rng: np.random.Generator, directive: Optional[Directive]) -> str:
        names, weights = self._context_names, self._context_weights
        if directive is not None and directive.context:
            return directive.context
        if directive is not None and directive.category:
            allowed = self._feasible[directive]
            weights = np.array([w if n in allowed else 0.0 for n, w in zip(names, weights)])
        return _choose(rng, names, weights)

    def _context(self, name: str) -> Context:
        """The Context of ``name`` (made once, then shared: it is frozen)."""
        found = self._contexts.get(name)
        if found is None:
            found = self._contexts[name] = self._make_context(name)
        return found

    def _make_context(self, name: str) -> Context:
        c = self._settings.contexts[name]
        return Context(
            name=name,
            background=tuple(float(v) for v in c.background),
            floor_color=tuple(float(v) for v in c.floor_color),
            floor_size=float(c.floor_size),
            walls=bool(c.walls),
            wall_color=tuple(float(v) for v in c.wall_color),
            wall_height=float(c.wall_height),
            ambient=float(c.ambient),
            floor_texture=str(c.floor_texture),
            wall_texture=str(c.wall_texture),
        )

    def _sample_view(self, rng: np.random.Generator) -> "_View":
        """The camera's direction, field of view and distance factor, drawn before the
        layout so that camera relations know where the camera will be."""
        camera_cfg = self._settings.camera
        return _View(
            azimuth=math.radians(rng.uniform(*camera_cfg.azimuth)) % (2 * math.pi),
            elevation=math.radians(rng.uniform(*camera_cfg.elevation)),
            fov_y=math.radians(rng.uniform(*camera_cfg.fov)),
            distance_factor=float(rng.uniform(*camera_cfg.distance)),
        )

    def _entries_for(self, node, category: str, directive: Optional[Directive] = None) -> list:
        """The entries of ``category`` that ``node`` may take: supports only where it
        carries others; for the target, only those allowing the directive's levels."""
        if directive is None:
            members = self.dictionary.entries_of(category)
        else:
            members = matching_entries(directive, self.dictionary, category, self.rest, self._elevations)
        return [e for e in members if e.support or not node.support_head]

    def _choose_entries(self, rng, nodes, target, directive) -> dict:
        entries = {}
        for node in nodes:
            members = self._entries_for(node, node.category, directive if node is target else None)
            entry = members[int(rng.integers(len(members)))]
            style = entry.sample_style(rng)
            if node is target and directive.rest is not None:  # a shape that can lie so (and show the pose)
                styles = self._rest_styles(entry, directive)
                if style not in styles:
                    style = styles[int(rng.integers(len(styles)))]
            entries[id(node)] = (entry, style)
        return entries

    def _rest_styles(self, entry, directive: Directive) -> tuple:
        """The entry's styles that rest in the directive's level (showing its pose)."""
        styles = self.rest.styles_with(entry, directive.rest)
        if directive.pose is None:
            return styles
        return tuple(s for s in styles if directive.pose in self.rest.poses_shown(entry, s, directive.rest,
                                                                                   self._elevations))

    def _rest_chooser(self, rng: np.random.Generator, target, directive: Optional[Directive]):
        """The placer's ``rest_of(node, entry, style)``: upright for an object carrying
        others, the directive's level for its target, else a level drawn from ``rng``
        (the rest stream); None when rest states are off."""
        table = self.rest
        if table is None:
            return None

        def rest_of(node, entry, style):
            if node.support_head:
                return table.poses(entry, style)[UPRIGHT]
            if node is target and directive.rest is not None:
                return table.poses(entry, style)[directive.rest]
            return table.draw(rng, entry, style)

        return rest_of

    def _pick_target(self, rng, derivation, nodes, context: str, directive: Directive):
        """The object node the directive applies to (its category drawn in place), or
        None when this derivation has no suitable one."""
        occluded = {id(head(n.anchor)) for n in walk(derivation) if isinstance(n, RelationNode) and n.relation == "camera-front"}
        piled = {id(child) for n in walk(derivation) if isinstance(n, RepeatNode) and n.arrange == PILE
                 for child in n.children}
        wanted = directive.occlusion
        candidates = []
        for node in nodes:
            if wanted in ("partial", "heavy") and id(node) not in occluded:
                continue
            if wanted == "none" and id(node) in occluded:
                continue
            if directive.rest not in (None, UPRIGHT) and node.support_head:  # a carrier stands upright
                continue
            if id(node) in piled and (directive.pose or directive.rest or directive.occlusion):  # physics decides
                continue
            if directive.category is not None:
                if not self.grammar.allows(node, directive.category, context):
                    continue
                if not self._entries_for(node, directive.category, directive):
                    continue
            candidates.append(node)
        if not candidates:
            return None
        target = candidates[int(rng.integers(len(candidates)))]
        if directive.category is not None:
            inside, _, _ = self.grammar.category_options(target.categories, context, target.support_head)
            target.category, target.in_context = directive.category, directive.category in inside
        else:
            for _ in range(64):
                self.grammar.draw_category(target, context, rng)
                if self._entries_for(target, target.category, directive):
                    break
            else:
                return None
        return target

    def _sample_layout(self, rng, context: str, view: "_View", directive: Optional[Directive], rest_rng=None):
        """Draw derivations and place them until one is accepted: (placed, camera,
        structure, target index, attempts). Attempts are bounded (see the module
        docstring); a directive scene that used its budget up gets
        ``WIDENED_ATTEMPTS_SHARE`` of it again with the widened occluder search.

        Raises:
            PlacementError: nothing accepted within the bounds, naming the directive.
        """
        placement = self._settings.placement
        floor_half = float(self._settings.contexts[context].floor_size) / 2
        directed = directive is not None and directive.needs_object
        budget = placement.attempts_per_scene * (DIRECTIVE_ATTEMPTS_FACTOR if directed else 1)
        widened = math.ceil(WIDENED_ATTEMPTS_SHARE * budget) if directed else 0
        draws = (budget + widened) * (SLOTLESS_DRAWS_PER_ATTEMPT if directed else 1)
        rejected: Counter = Counter()
        tries = attempt = 0
        while tries < budget + widened and attempt < draws:
            attempt += 1
            derivation = self.grammar.sample_derivation(rng, context)
            nodes = object_nodes(derivation)
            target = None
            if directed:
                target = self._pick_target(rng, derivation, nodes, context, directive)
                if target is None:
                    rejected["derivation without a slot for the directive"] += 1
                    continue
            tries += 1
            for node in nodes:
                if node is not target:
                    self.grammar.draw_category(node, context, rng)
            placer = Placer(self._settings, rng, view.azimuth, floor_half, target, self._rest_chooser(rest_rng, target, directive))
            placer.entries = self._choose_entries(rng, nodes, target, directive)
            try:
                placer.place(derivation)
            except LayoutFailed:
                rejected["layout did not fit"] += 1
                continue
            placed = placer.placed
            if any(p.relation == PILE for p in placed) and not settle_piles(placed, self.cfg.physics,
                                                                            floor_half - FLOOR_MARGIN):
                rejected["pile did not settle"] += 1
                continue
            target_index = next((i for i, p in enumerate(placed) if p.node is target), -1)
            camera = self._fit_camera(view, placed, target_index)
            if camera is None:
                rejected["framing not reached"] += 1
                continue
            if target is not None:
                wide = attempt > budget  # the first budget's attempts are searched as before
                camera = self._realize(rng, placer, derivation, target_index, camera, view, directive, context, wide)
                if camera is None:
                    missed = (f"occlusion {directive.occlusion}" if directive.occlusion is not None
                              else f"pose {directive.pose} lying {directive.rest}")
                    rejected[f"{missed} not reached"] += 1
                    continue
            if not self._all_in_view(placed, camera, target_index):
                rejected["object out of view"] += 1
                continue
            self.stats.update(rejected)
            return placed, camera, derivation.signature(), target_index, attempt
        self.stats.update(rejected)
        wanted = f"for directive {{{', '.join(f'{k}: {v}' for k, v in directive.items())}}} " if directive is not None else ""
        raise PlacementError(
            f"could not place a layout {wanted}in context {context!r} within {tries} attempts "
            f"(placement.attempts_per_scene={placement.attempts_per_scene}) of "
            f"placement.attempts_per_object={placement.attempts_per_object} tries per object; "
            f"rejections: {dict(rejected)}; enlarge placement.area (now {placement.area} m) or "
            f"contexts.{context}.floor_size (now {self.cfg.contexts[context].floor_size} m), lower "
            f"placement.objects (now {list(placement.objects)}) or the entries' sizes"
            + (f", or give piles more time to settle (physics.seconds, now {self.cfg.physics.seconds} s)"
               if rejected.get("pile did not settle") else "")
            + (", or request fewer levels in the directive" if directive is not None else ""),
            directive=directive.items() if directive is not None else (),
            context=context,
            rejections=dict(rejected),
        )

    # -- directives -------------------------------------------------------------------

    def _realize(self, rng, placer: Placer, derivation, target: int, camera: Camera, view, directive: Directive,
                 context: str, wide: bool = False):
        """Turn the target to its pose level and reach its occlusion level, measured by
        ray casting with the final camera; returns that camera, or None when the
        occlusion level was not reached (the layout is then rejected).

        The occluder (the ``camera-front`` partner of the target) is moved to
        candidate spots between the camera and the target, at the drawn camera
        elevation and the lowest allowed one, at its drawn size and, when nothing stands
        on it, at its entry's largest size; the first candidate whose fraction lies in
        the level's aim band is taken (:func:`_first_in_band`). The candidates come in
        groups (extra gap, view, size), each with the occluder straight in front of
        the target first: that spot is tried for every group before any other, and a
        group whose spot in front leaves more of the target visible than the level
        allows tries no sideways spot (which would hide less). ``wide`` widens the
        search: more camera elevations and distances, and any in-context entry the
        occluder's slot allows (largest first) in its place, every candidate in turn.
        """
        placed = placer.placed
        pose_offset = float(rng.uniform(-POSE_JITTER, POSE_JITTER))
        free_yaw = float(rng.uniform(0, 2 * math.pi))

        def apply_pose(objects, cam: Camera) -> bool:
            """Turn the target so the camera sees it at the wanted pose level; False when
            it lies so that no turn shows that level from this camera."""
            obj = objects[target]
            to_eye = math.atan2(cam.position[1] - obj.position[1], cam.position[0] - obj.position[0])
            if directive.pose is None or obj.entry.symmetry == 0:
                relative = free_yaw
            elif obj.tipped:
                yaw = self._tipped_yaw(obj, cam, directive.pose, pose_offset)
                if yaw is None:
                    return False
                turn(objects, target, yaw)
                return True
            else:
                relative = AZIMUTH_BINS.index(directive.pose) * math.radians(45.0) + pose_offset
            turn(objects, target, (to_eye - relative) % (2 * math.pi))
            return True

        if not apply_pose(placed, camera):  # lying so, it shows the pose only from another elevation
            found = self._elevation_showing(placed, target, view, apply_pose)
            if found is None:
                return None
            camera, view = found
        if self._framing is not None:  # the turn changed the target's box: frame it again
            camera = self._fit_camera(view, placed, target)
            if camera is None:
                return None
        if directive.occlusion is None:
            return camera
        low, high = self.occlusion_targets[directive.occlusion]
        if directive.occlusion == "none":
            fraction = visible_fraction(_bodies(placed), camera, target)
            return camera if fraction >= low else None
        relation = next(
            n
            for n in walk(derivation)
            if isinstance(n, RelationNode) and n.relation == "camera-front" and head(n.anchor) is placed[target].node
        )
        start, stop = placer.layout.spans[id(relation.other)]
        occluder = next(i for i in range(start, stop) if placed[i].node is head(relation.other))
        moving = set(range(start, stop))  # the occluder's whole group moves with it
        shapes = self._occluder_shapes(rng, placed, occluder, target, moving, directive.occlusion, context, wide)
        if not shapes:
            return None  # no occluder this slot can take is tall enough to hide enough
        lowest = math.radians(self.cfg.camera.elevation[0])
        none_min, partial_min = float(self.cfg.factors.occlusion_none_min), float(self.cfg.factors.occlusion_partial_min)

        def steady(case, fraction: float) -> bool:
            level = directive.occlusion
            return (_steady_in_lowest_terms(fraction, level, none_min, partial_min)
                    or _steady(*visible_counts(*case, target), level, none_min, partial_min))

        def search(candidates, limit=None, above=None):
            trials = self._occluder_trials(placer, target, occluder, moving, shapes, camera, candidates, apply_pose)
            return _first_in_band(trials, target, low, high, limit, made, above, steady, self.search_work)

        made: dict = {}  # the bodies the searches share (see _bodies)
        if wide:
            elevations = np.linspace(view.elevation, lowest, WIDE_ELEVATION_STEPS)
            views = [replace(view, elevation=float(e)) for e in elevations]
            best = search(itertools.product(range(len(shapes)), views, WIDE_OCCLUDER_DISTANCES, OCCLUDER_OFFSETS),
                          WIDE_MAX_EVALUATIONS)
        else:
            views = [view, replace(view, elevation=lowest)]
            groups = [(shape, v, d) for d, v, shape in itertools.product(OCCLUDER_DISTANCES, views, range(len(shapes)))]
            above: set = set()  # candidates measured above the band
            best = search([(*group, OCCLUDER_OFFSETS[0]) for group in groups], above=above)
            if best is None:  # sideways, in the groups whose occluder in front hides enough
                shown = {candidate[:3] for candidate in above}
                best = search((*group, o) for group in groups if group not in shown for o in OCCLUDER_OFFSETS[1:])
        if best is None:
            return None
        _, placed[:], chosen_camera = best
        chosen = placed[occluder]
        if chosen.entry.category != chosen.node.category:  # the widened search swapped it
            chosen.node.category, chosen.node.in_context = chosen.entry.category, True
        return chosen_camera

    def _occluder_trials(self, placer: Placer, target: int, occluder: int, moving: set, shapes: list,
                         camera: Camera, candidates, apply_pose):
        """(candidate, trial layout, camera) of each candidate (shape index, view, extra
        gap in target radii, sideways offset in summed radii) whose layout fits, whose
        camera fits and turns the target to its pose, in candidate order (a generator:
        the search stops drawing when it has its occluder).

        The occluder's group goes between the camera and the target. What does not depend
        on the view (the spot, whether the moved objects fit) is computed once per
        (shape, extra, offset), and the boxes of the objects that stay once; every value is
        computed as before, so each trial is the layout and camera it always was.
        """
        placed = placer.placed
        obj = placed[target]
        u = camera.position[:2] - obj.position[:2]
        u /= np.linalg.norm(u)
        side = np.array([-u[1], u[0]])
        reach = obj.reach(u)
        staying = [i for i in range(len(placed)) if i not in moving]
        staying_corners = [placed[i].box() for i in staying]
        turned = {target, *dependents(placed, target)}  # what apply_pose moves
        shaped: dict = {}  # shape index -> (layout with the occluder so shaped, its reach towards the target, radius)
        # (shape index, extra, offset) -> (layout before any turn, its boxes' corners), or None: it does not fit
        layouts: dict = {}
        # Layouts share the objects they do not change (a trial's objects are never
        # changed once it is made; the one kept replaces ``placed``)
        for candidate in candidates:
            k, trial_view, extra, lateral = candidate
            key = (k, extra, lateral)
            if key not in layouts:
                if k not in shaped:
                    base = copy_layout(placed)
                    blocker = base[occluder]
                    blocker.entry, blocker.style, blocker.scale, blocker.rest = shapes[k]
                    shaped[k] = (base, blocker.reach(-u), blocker.radius)
                base, blocker_reach, blocker_radius = shaped[k]
                layout = _copy_some(base, moving)
                distance = reach + blocker_reach + self._gap + extra * obj.radius
                spot = obj.position[:2] + distance * u + lateral * (obj.radius + blocker_radius) * side
                translate(layout, moving, spot - layout[occluder].position[:2])
                # every moved object must clear the objects that stayed; the occluder, which
                # may have grown, must also clear the objects that moved with it
                fits = all(
                    placer.fits(layout[i], layout, Surface(layout[i].position[2], layout[i].support),
                                ignore=() if i == occluder else moving - {occluder})
                    for i in sorted(moving)
                )
                # every object's box before the target is turned: the same for every view
                layouts[key] = (layout, np.vstack(staying_corners + [layout[i].box() for i in sorted(moving)])
                                ) if fits else None
            if layouts[key] is None:
                continue
            layout, corners = layouts[key]
            trial = _copy_some(layout, turned)
            trial_camera = self._fit_camera(trial_view, trial, target, corners)
            if trial_camera is None:
                continue
            if not apply_pose(trial, trial_camera):
                continue
            if self._framing is not None:  # framed on the turned target; the camera clear of every object
                trial_camera = self._fit_camera(trial_view, trial, target)
                if trial_camera is None or not self._clear_of_camera(trial, trial_camera):
                    continue
            yield candidate, trial, trial_camera

    def _elevation_showing(self, placed, target: int, view: "_View", apply_pose):
        """(camera, view) of the first camera elevation of ``camera.elevation`` (nearest
        the drawn one first) from which ``apply_pose`` can show the lying target at its
        pose level (turning it there), or None."""
        low, high = (math.radians(e) for e in self._elevations)
        for elevation in sorted(np.linspace(low, high, POSE_ELEVATIONS), key=lambda e: abs(e - view.elevation)):
            trial_view = replace(view, elevation=float(elevation))
            camera = self._fit_camera(trial_view, placed, target)
            if camera is not None and apply_pose(placed, camera):
                return camera, trial_view
        return None

    @staticmethod
    def _tipped_yaw(obj, camera: Camera, pose: str, offset: float) -> Optional[float]:
        """The yaw (radians) of a lying object ``obj`` (a Placed) at which ``camera`` sees
        it at pose level ``pose``, the camera's azimuth in the object's own frame nearest
        to the level's centre plus ``offset``; None when no turn shows that level (an
        object on its right side cannot be seen from its right)."""
        rotation = obj.rest.rotation
        # the centre of its canonical box (where the labels measure the pose from), before the yaw
        height = obj.entry.shape_extents(obj.style)[2]
        local_centre = (rotation @ [0.0, 0.0, height / 2] + obj.rest.offset) * obj.scale
        eye = np.asarray(camera.position) - np.asarray(obj.position)
        wanted = AZIMUTH_BINS.index(pose) * math.radians(45.0) + offset
        best = None
        for yaw in np.linspace(0.0, 2 * math.pi, TIPPED_YAWS, endpoint=False):
            c, s = math.cos(yaw), math.sin(yaw)
            centre = [c * local_centre[0] - s * local_centre[1], s * local_centre[0] + c * local_centre[1],
                      local_centre[2]]
            azimuth = object_azimuth(rotation, float(yaw), eye - centre)
            if pose_bin(azimuth, obj.entry.symmetry) != pose:
                continue
            miss = abs((azimuth - wanted + math.pi) % (2 * math.pi) - math.pi)
            if best is None or miss < best[0]:
                best = (miss, float(yaw))
        return None if best is None else best[1]

    def _occluder_shapes(self, rng, placed, occluder: int, target: int, moving: set, level: str, context: str,
                         wide: bool) -> list:
        """(entry, style, scale, rest pose) the occluder may take in the search, each
        tall enough to hide ``level`` of the target: its own at its drawn size and, when
        nothing stands on it, at its entry's largest size; with ``wide``, when it is alone
        in its group, also every entry of every in-context category its slot allows,
        upright at its largest size, largest (height x width) first."""
        blocker = placed[occluder]
        needed = OCCLUDER_MIN_HEIGHT[level] * placed[target].extents[2]

        def height(entry, style, scale, rest) -> float:
            return float(rest.extents[2] if rest is not None else entry.extents(style)[2]) * scale

        own = (blocker.entry, blocker.style, float(blocker.entry.size[1]), blocker.rest)
        if height(*own) < needed and not wide:
            return []
        shapes = [(blocker.entry, blocker.style, blocker.scale, blocker.rest)]
        free = not dependents(placed, occluder)
        if free and float(blocker.entry.size[1]) != blocker.scale:
            shapes.append(own)  # nothing stands on it: may grow
        if wide and free and moving == {occluder}:
            node = blocker.node
            inside, _, _ = self.grammar.category_options(node.categories, context, node.support_head)
            others = []
            for category in inside:
                for entry in self._entries_for(node, category):
                    if entry is not blocker.entry:
                        style = entry.sample_style(rng)
                        upright = self.rest.poses(entry, style)[UPRIGHT] if self.rest is not None else None
                        others.append((entry, style, float(entry.size[1]), upright))
            others.sort(key=lambda s: -height(*s) * float(np.hypot(*s[0].extents(s[1])[:2])) * s[2])
            shapes += others
        return [shape for shape in shapes if height(*shape) >= needed] if wide else shapes

    # -- camera ---------------------------------------------------------------------

    def _fit_camera(self, view: "_View", placed, target: int = -1, corners: Optional[np.ndarray] = None
                    ) -> Optional[Camera]:
        """Aim at the centre of the objects' bounding box from the drawn direction, far
        enough that their bounding sphere fits the narrower field of view, so every
        object is inside the frame.

        With ``camera.framing`` on, :meth:`_frame` then aims and brings the camera
        nearer (the direction kept) so the framed objects are as large as asked;
        ``target`` is the directive's target (-1: none, the first object is framed).
        ``corners``: the (8 N, 3) corners of every object's box (``Placed.box``) in any
        order, when the caller has them. Returns None when framing cannot reach its size
        within ``camera.fov``.
        """
        width, height = self._size
        if corners is None:
            corners = np.vstack([p.box() for p in placed])
        target_point = (corners.min(axis=0) + corners.max(axis=0)) / 2
        radius = float(np.linalg.norm(corners - target_point, axis=1).max())
        fov_x = 2 * math.atan(math.tan(view.fov_y / 2) * width / height)
        fit_distance = radius / math.sin(min(fov_x, view.fov_y) / 2)
        distance = fit_distance * view.distance_factor
        fov_y = view.fov_y
        if self._framing is not None:
            framed = self._frame(view, placed, max(target, 0), target_point, distance)
            if framed is None:
                return None
            target_point, distance, fov_y = framed
        eye = target_point + distance * direction(view.azimuth, view.elevation)
        pose = look_at_opencv(eye, target_point)
        fx, fy, cx, cy = intrinsics_from_fov(fov_y, width, height)
        return Camera(
            width=width,
            height=height,
            fx=fx,
            fy=fy,
            cx=cx,
            cy=cy,
            world_from_camera=tuple(map(tuple, pose.tolist())),  # Python floats, as float(v) gives them
            target=tuple(np.asarray(target_point, dtype=float).tolist()),
            distance=float(distance),
            azimuth=float(view.azimuth),
            elevation=float(view.elevation),
            znear=self._clip[0],
            zfar=self._clip[1],
        )

    def _silhouette(self, p) -> np.ndarray:
        """(K, 3) world vertices of the convex hull of ``p``'s mesh: their projection's
        box is the object's projected (amodal) box."""
        mesh = _mesh_as_it_lies(p)
        cached = self._silhouettes.get(id(mesh))
        if cached is None:
            vertices = np.asarray(mesh.vertices, dtype=float)
            try:
                hull = vertices[ConvexHull(vertices).vertices]
            except QhullError:  # flat or degenerate: every vertex
                hull = vertices
            cached = self._silhouettes[id(mesh)] = (mesh, hull)  # the mesh kept: its id stays its own
        local = cached[1]
        return local * p.scale @ rotation_about_z(p.yaw).T + p.position

    def _frame(self, view: "_View", placed, target: int, aim: np.ndarray, distance: float):
        """(aim point, distance, vertical field of view) of a framed camera, or None.

        The camera stays on the drawn direction from the aim point, so in camera
        coordinates a point at distance d is ``q + (0, 0, d)`` (``q`` its coordinates
        with the camera at the aim point): its pixel is ``c + f q_xy / (q_z + d)``, each
        monotone in d and linear in the focal length f. The largest d (at most the
        unframed ``distance``) at which the framed boxes are large enough is found by
        bisection on that closed form (no rendering, no random draw).

        objects=target: aim at the centre of the target's box; if even at the near
        plane (every target vertex beyond ``znear``) the box is too small, narrow the
        field of view (down to ``camera.fov[0]``); None when that is not enough.
        objects=all: keep the aim; come no nearer than keeps every object entirely in
        the image (then the size is reached as far as the layout allows).
        """
        framing = self._framing
        width, height = self._size
        znear = self._clip[0]
        rotation = look_at_opencv(direction(view.azimuth, view.elevation), np.zeros(3))[:3, :3]
        focal = intrinsics_from_fov(view.fov_y, width, height)[0]
        centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])

        def local(points: np.ndarray, point: np.ndarray) -> np.ndarray:
            return (points - point) @ rotation  # camera coordinates with the eye at ``point``

        if framing.objects == "target":
            points = self._silhouette(placed[target])
            aim = (points.min(axis=0) + points.max(axis=0)) / 2
            groups = [local(points, aim)]
        else:
            groups = [local(self._silhouette(p), aim) for p in placed]
        nearest = max(float((-q[:, 2]).max()) for q in groups) + znear * (1 + 1e-6) + 1e-9

        def boxes(d: float, scale: float = 1.0) -> np.ndarray:
            """(G, 4) projected boxes (u0, v0, u1, v1) of the groups at distance d."""
            out = []
            for q in groups:
                uv = centre + focal * scale * q[:, :2] / (q[:, 2:3] + d)
                out.append([*uv.min(axis=0), *uv.max(axis=0)])
            return np.array(out)

        def large(d: float, scale: float = 1.0) -> bool:
            return bool(framing.large_enough(boxes(d, scale), width, height).all())

        def inside(d: float) -> bool:
            b = boxes(d)
            return bool((b[:, :2] >= -0.5).all() and (b[:, 2] <= width - 0.5).all() and (b[:, 3] <= height - 0.5).all())

        far = max(distance, nearest)
        if large(far):
            return aim, far, view.fov_y
        if framing.objects == "all":
            if not inside(far):
                return aim, far, view.fov_y
            low = nearest if inside(nearest) else _bisect(inside, nearest, far)
            if not large(low):
                return aim, low, view.fov_y  # as large as the layout allows with every object in view
            return aim, _bisect(large, low, far), view.fov_y
        if large(nearest):
            return aim, _bisect(large, nearest, far), view.fov_y
        widest = math.tan(view.fov_y / 2) / math.tan(math.radians(float(self.cfg.camera.fov[0])) / 2)
        if not large(nearest, widest):
            return None
        scale = _bisect(lambda k: large(nearest, k), 1.0, widest)
        return aim, nearest, 2 * math.atan(math.tan(view.fov_y / 2) / scale)

    def _clear_of_camera(self, placed, camera: Camera) -> bool:
        """No object's axis-aligned box (grown by the near distance) holds the camera."""
        eye = np.asarray(camera.pose[:3, 3])
        for p in placed:
            corners = self._silhouette(p)
            if ((eye >= corners.min(axis=0) - camera.znear) & (eye <= corners.max(axis=0) + camera.znear)).all():
                return False
        return True

    def _all_in_view(self, placed, camera: Camera, target: int = -1) -> bool:
        """Every object's box is in front of the camera and partly inside the image.

        With ``camera.framing.objects=target`` only the framed object must be (the
        others may leave the frame), and the camera must be clear of every object."""
        if self._framing is not None and self._framing.objects == "target":
            if not self._clear_of_camera(placed, camera):
                return False
            framed = self._silhouette(placed[max(target, 0)])
            return self._boxes_in_view([framed], camera)
        return self._boxes_in_view([p.box() for p in placed], camera)

    @staticmethod
    def _boxes_in_view(boxes, camera: Camera) -> bool:
        """Every (N, 3) point set is in front of the camera and partly inside the image."""
        pose, K = camera.pose, camera.K
        camera_from_world = np.linalg.inv(pose)
        for corners in boxes:
            depth = corners @ camera_from_world[2, :3] + camera_from_world[2, 3]
            if depth.min() <= camera.znear or depth.max() >= camera.zfar:
                return False
            uv = project(corners, K, pose, camera_from_world)
            if uv[:, 0].max() < 0 or uv[:, 1].max() < 0 or uv[:, 0].min() > camera.width - 1 or uv[:, 1].min() > camera.height - 1:
                return False
        return True

    # -- appearance and lights ---------------------------------------------------------

    def _sample_appearance(self, rng: np.random.Generator, placed, target: int, directive) -> tuple:
        objects = []
        for i, p in enumerate(placed):
            entry = p.entry
            color = entry.colors[int(rng.integers(len(entry.colors)))]
            material = entry.materials[int(rng.integers(len(entry.materials)))]
            texture = entry.textures[int(rng.integers(len(entry.textures)))]
            if i == target:
                color = directive.color or color
                material = directive.material or material
                texture = directive.texture or texture
            # an entry wearing its file's look has the single level "file" of each (no
            # palette values: the renderer draws the file's material)
            own = entry.file_appearance is not None
            material_cfg = None if own else self._settings.materials[material]
            objects.append(
                ObjectInstance(
                    entry=entry.name,
                    category=entry.category,
                    position=tuple(float(v) for v in p.position),
                    yaw=float(p.yaw % (2 * math.pi)),
                    scale=p.scale,
                    color=color,
                    rgb=(1.0, 1.0, 1.0) if own else tuple(float(v) for v in self._settings.colors[color]),
                    material=material,
                    metallic=0.0 if own else float(material_cfg.metallic),
                    roughness=1.0 if own else float(material_cfg.roughness),
                    support=p.support,
                    style=p.style,
                    texture=texture,
                    relation=p.relation,
                    anchor=p.anchor,
                    slot=p.node.selector,
                    in_context=p.node.in_context,
                    **(p.rest.instance_fields() if p.rest is not None else {}),
                )
            )
        return tuple(objects)

    def _sample_environment(self, rngs: Mapping[str, np.random.Generator], context: str, directive
                            ) -> Optional[Environment]:
        """The scene's environment map, its turn and its intensity (None without one):
        the map named by ``lighting.environment``, else one drawn by weight among those
        of the directive's level, else of the levels ``lighting.contexts`` gives the
        context (any map when none of them is in the set). ``rngs``: the scene's
        streams (this draws from ``rngs["environment"]``)."""
        lighting, maps = self._settings.lighting, self.world.environments
        if maps is None:
            return None
        rng = rngs["environment"]
        if lighting.environment != "random":
            name = str(lighting.environment)
        else:
            wanted = directive.environment if directive is not None else None
            levels = [wanted] if wanted else [str(v) for v in lighting.contexts.get(context, [])]
            names = [n for n in maps.names if maps.level(n) in levels and maps.weight(n) > 0]
            names = names or [n for n in maps.names if maps.weight(n) > 0]
            name = _choose(rng, names, [maps.weight(n) for n in names])
        return Environment(
            source=str(lighting.environments),
            name=name,
            level=maps.level(name),
            rotation=math.radians(rng.uniform(*lighting.rotation)) % (2 * math.pi),
            intensity=float(rng.uniform(*lighting.intensity)),
            exposure=float(lighting.exposure),
            background=bool(lighting.background),
            occlusion=float(lighting.occlusion),
        )

    def _environment_lights(self, environment: Environment) -> tuple:
        """The map's key light as the scene's one directional light, turned with the map
        and scaled as the renderer scales the map (an upward-facing surface receives
        ``environment.intensity`` from the whole map); none for a map without one that
        gives at least :data:`KEY_LIGHT_MIN` of it (an overcast sky)."""
        lighting = self.world.environments.lighting(environment.name)
        irradiance = np.asarray(lighting.irradiance, dtype=float) * (environment.intensity / lighting.up_irradiance)
        peak = float(irradiance.max())
        if peak <= KEY_LIGHT_MIN * environment.intensity:  # none standing out (overcast)
            return ()
        toward = rotate_direction(lighting.direction, environment.rotation)
        return (Light(direction=tuple(float(v) for v in toward), color=tuple(float(v) for v in irradiance / peak),
                      intensity=peak, shadows=bool(self._settings.lighting.shadows)),)

    def _sample_engine(self, rngs: Mapping[str, np.random.Generator], directive) -> str:
        """The engine of the scene's colour image: the directive's, else one of
        ``render.engine_mix`` drawn by weight (from ``rngs["engine"]``), else
        ``render.engine``; ``""`` for the rasterizer alone (no draw, no record)."""
        render = self._settings.render
        if directive is not None and directive.engine:
            return directive.engine
        if render.engine_mix:
            names = list(render.engine_mix.keys())
            return _choose(rngs["engine"], names, [float(render.engine_mix[n]) for n in names])
        return "" if render.engine == "raster" else str(render.engine)

    def _sample_effects(self, rngs: Mapping[str, np.random.Generator], camera, directive) -> Optional[CameraEffects]:
        """The scene's camera effects: a profile of ``camera.effects`` (the directive's,
        else drawn by weight) and its strengths, drawn from ``rngs["effects"]``; None
        without profiles."""
        profiles = self._settings.camera.effects
        if not profiles:
            return None
        rng = rngs["effects"]
        names = list(profiles.keys())
        if directive is not None and directive.effects:
            name = directive.effects
        else:
            name = _choose(rng, names, [float(profiles[n].weight) for n in names])
        return sample_effects(rng, name, profiles[name], camera.distance)

    def _sample_surfaces(self, rng: np.random.Generator, objects: tuple, context: Context) -> tuple:
        """(objects, context) wearing texture sets: each object whose texture is
        ``plain`` and whose entry (else category) has a class in ``surfaces.classes``
        takes one of the object sets of that class, drawn uniformly (one draw per object,
        in order, whether or not it has a class); floors and walls take the set
        ``surfaces.context_textures`` names for their texture."""
        sets, surfaces, by_class = self.world.texture_sets, self._settings.surfaces, self._object_sets
        dressed = []
        for obj in objects:
            draw = float(rng.random())
            material_class = surfaces.classes.get(obj.entry, surfaces.classes.get(obj.category))
            names = by_class.get(material_class, []) if obj.texture == "plain" else []
            own_look = self.dictionary[obj.entry].file_appearance is not None
            dressed.append(obj if not names or own_look else replace(obj, surface=names[int(draw * len(names))]))
        floor, wall = (str(surfaces.context_textures.get(t, "")) for t in (context.floor_texture, context.wall_texture))
        context = replace(context, floor_surface=floor if floor in sets else "", wall_surface=wall if wall in sets else "")
        return tuple(dressed), context

    def _sample_background(self, rngs: Mapping[str, np.random.Generator], directive) -> Optional[Background]:
        """The scene's photograph: with chance ``background.weight`` (or as the
        directive's level asks) one drawn by weight among those of the directive's level,
        else among all; else a Background of no photograph (name "", level ``none``);
        None without ``background.images``. Draws from ``rngs["background"]``."""
        photos = self.world.backgrounds
        if photos is None:
            return None
        rng = rngs["background"]
        wanted = directive.background if directive is not None else None
        shown = float(rng.random()) < float(self._settings.background.weight)
        if wanted is not None:
            shown = wanted != NO_BACKGROUND
        names = [n for n in photos.names if (wanted is None or photos.level(n) == wanted) and photos.weight(n) > 0]
        names = names or [n for n in photos.names if photos.level(n) == wanted]
        if not shown or not names:
            return Background(source=photos.source, name="", level=NO_BACKGROUND)
        name = _choose(rng, names, [max(photos.weight(n), 1e-12) for n in names])
        return Background(source=photos.source, name=name, level=photos.level(name))

    def _sample_lights(self, rng: np.random.Generator) -> tuple:
        lights_cfg = self._settings.lights
        lo, hi = lights_cfg.count
        lights = []
        for _ in range(int(rng.integers(lo, hi + 1))):
            azimuth = math.radians(rng.uniform(*lights_cfg.azimuth))
            elevation = math.radians(rng.uniform(*lights_cfg.elevation))
            tint = lights_cfg.tints[int(rng.integers(len(lights_cfg.tints)))]
            lights.append(
                Light(
                    direction=tuple(float(v) for v in direction(azimuth, elevation)),
                    color=tuple(float(v) for v in tint),
                    intensity=float(rng.uniform(*lights_cfg.intensity)),
                    shadows=bool(lights_cfg.shadows),
                )
            )
        return tuple(lights)


@dataclass(frozen=True)
class _Framing:
    """``camera.framing``: the least size of a framed object's projected box."""

    fraction: float  # of the image area, 0: no bound
    pixels: float  # least side, pixels, 0: no bound
    objects: str  # "target" or "all"

    @classmethod
    def of(cls, cfg) -> Optional["_Framing"]:
        """The config's framing, or None when it is off."""
        framing = cfg.camera.get("framing")
        if framing is None or not (float(framing.target_fraction) > 0 or int(framing.min_pixels) > 0):
            return None
        return cls(float(framing.target_fraction), float(framing.min_pixels), str(framing.objects))

    def large_enough(self, boxes: np.ndarray, width: int, height: int) -> np.ndarray:
        """(G,) bool: each (u0, v0, u1, v1) box, clipped to the image ([-0.5, width - 0.5]
        by [-0.5, height - 0.5], pixel centres at integers), is large enough; with a
        margin of 1e-7 so that the camera as recorded (rounded) still reaches it."""
        w = np.clip(boxes[:, 2], -0.5, width - 0.5) - np.clip(boxes[:, 0], -0.5, width - 0.5)
        h = np.clip(boxes[:, 3], -0.5, height - 0.5) - np.clip(boxes[:, 1], -0.5, height - 0.5)
        ok = np.ones(len(boxes), bool)
        if self.fraction > 0:
            ok &= w * h >= min(self.fraction * (1 + 1e-7), 1.0) * width * height
        if self.pixels > 0:
            ok &= np.minimum(w, h) >= self.pixels + 1e-6
        return ok


def _bisect(holds, low: float, high: float, iterations: int = 60) -> float:
    """Where ``holds`` changes between ``low`` and ``high`` (it holds at exactly one of
    them): the end of the last bracket at which it holds."""
    held_low = holds(low)
    for _ in range(iterations):
        middle = (low + high) / 2
        if holds(middle) == held_low:
            low = middle
        else:
            high = middle
    return low if held_low else high


@dataclass(frozen=True)
class _View:
    azimuth: float  # radians
    elevation: float  # radians
    fov_y: float  # radians
    distance_factor: float  # multiple of the fit distance


def _first_in_band(trials, target: int, low: float, high: float, limit: Optional[int] = None,
                   made: Optional[dict] = None, above: Optional[set] = None, accept=None,
                   work: Optional[Counter] = None):
    """The first (key, layout, camera) of ``trials`` (an iterator, in candidate order)
    from whose layout and camera the target's ray-cast visible fraction
    (:func:`visible_fraction`) lies in ``[low, high]`` (and which ``accept``, given,
    takes: called with its (bodies, camera) and that fraction); None when no trial does
    (among the first ``limit``, if given). ``made``: the bodies of earlier searches of
    the same layouts (:func:`_bodies`); ``above``: a set that gets the key of each trial
    measured above the band (more of the target visible than it allows); ``work``: a
    Counter of the trials made and the cases measured on each grid.

    Trials are measured in batches (``TRIAL_BATCH``, doubling), each on a coarse grid
    (``COARSE_GRID`` rays a side) first: only the trials it puts within ``COARSE_SLACK``
    of the band are measured on the full grid, which alone decides. The answer is the
    one-by-one search's over the trials the coarse grid keeps; a trial is above the
    band when the coarse grid puts it above the band's slack, or the full grid above
    the band."""
    batch, seen = TRIAL_BATCH[0], 0
    made = {} if made is None else made  # id(Placed) -> (it, its Body): trials share the objects they do not move
    while limit is None or seen < limit:
        chunk = list(itertools.islice(trials, batch if limit is None else min(batch, limit - seen)))
        if not chunk:
            return None
        seen += len(chunk)
        batch = min(2 * batch, TRIAL_BATCH[1])
        cases = [(_bodies(trial, made), trial_camera) for _, trial, trial_camera in chunk]
        coarse = band_fractions(cases, target, low - COARSE_SLACK, high + COARSE_SLACK, COARSE_GRID)
        near = [n for n, fraction in enumerate(coarse) if low - COARSE_SLACK <= fraction <= high + COARSE_SLACK]
        fine = dict(zip(near, band_fractions([cases[n] for n in near], target, low, high) if near else ()))
        if work is not None:
            work.update({"trials": len(chunk), "coarse-grid cases": len(cases), "full-grid cases": len(near)})
        if above is not None:
            above.update(chunk[n][0] for n, fraction in enumerate(coarse) if fraction > high + COARSE_SLACK)
            above.update(chunk[n][0] for n, fraction in fine.items() if fraction > high)
        for n, fraction in fine.items():
            if low <= fraction <= high and (accept is None or accept(cases[n], fraction)):
                return chunk[n]
    return None


def _steady(shown: int, hits: int, level: str, none_min: float, partial_min: float) -> bool:
    """Whether ``shown`` of the ``hits`` rays on a target visible is at occlusion ``level``
    with one ray more and with one ray fewer visible too (``none_min``, ``partial_min``:
    the levels' bounds, as the labels apply them): at a few pixels, the rendered mask
    may differ from the rays by a pixel at the occluder's edge, and one pixel is a large
    share of a small target."""
    return all(occlusion_level(s / hits, none_min, partial_min) == level for s in (shown - 1, shown + 1))


def _steady_in_lowest_terms(fraction: float, level: str, none_min: float, partial_min: float,
                            rays: int = GRID * GRID) -> bool:
    """True when :func:`_steady` holds for any counts of at most ``rays`` rays whose ratio
    is ``fraction``, without the counts: they are a multiple of the fraction's lowest
    terms, and if one ray of those keeps the level, one of the counts does (False
    proves nothing)."""
    lowest = Fraction(fraction).limit_denominator(rays)  # exact: fractions of <= rays differ by >= 1 / rays**2
    return _steady(lowest.numerator, lowest.denominator, level, none_min, partial_min)


def _copy_some(placed, indices) -> list:
    """``placed`` with the objects at ``indices`` copied (as ``copy_layout`` copies them)
    and the others shared."""
    return [moved_copy(p) if i in indices else p for i, p in enumerate(placed)]


def _mesh_as_it_lies(p):
    """The canonical mesh of a Placed as it lies: its rest pose's (shared), else its
    variant's (shared)."""
    return p.rest.mesh if p.rest is not None else p.entry.variant(p.style).mesh()


def _bodies(placed, made: Optional[dict] = None) -> list[Body]:
    """Every placed object as a ray-casting :class:`Body` (its shared mesh as it lies).
    ``made``: id(Placed) -> (that Placed, its Body) of objects met before and not changed
    since (filled in here), so layouts that share objects share their bodies; it keeps
    each Placed alive, so no other object takes its id while it is in use."""
    if made is None:
        made = {}
    for p in placed:
        if id(p) not in made:
            made[id(p)] = (p, Body(_mesh_as_it_lies(p), p.yaw, p.scale, tuple(float(c) for c in p.position)))
    return [made[id(p)][1] for p in placed]


def occlusion_targets(factors_cfg) -> dict:
    """Occlusion level -> (low, high) visible fraction the ray-cast estimate must reach,
    inside the level's band of ``cfg.factors`` (see ``AIM_WITHIN_BAND``)."""
    none_min, partial_min = float(factors_cfg.occlusion_none_min), float(factors_cfg.occlusion_partial_min)
    bands = {"none": (none_min, 1.0), "partial": (partial_min, none_min), "heavy": (0.0, partial_min)}
    return {
        level: (lo + a * (hi - lo), lo + b * (hi - lo))
        for level, (lo, hi) in bands.items()
        for a, b in [AIM_WITHIN_BAND[level]]
    }


def sample_scene(cfg, index: int, dictionary: Optional[ObjectDictionary] = None, directive=None) -> Scene:
    """Scene ``index`` of ``cfg.seed`` (convenience wrapper around :class:`Sampler`;
    ``cfg``: a config or a World)."""
    return Sampler(cfg, dictionary).sample(index, directive)
