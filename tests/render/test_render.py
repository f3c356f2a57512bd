"""Renderer checks with independent geometry: projection, depth, ids, parts, amodal
masks, textures."""

import math
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from studio import STUDIO, backproject, lone_scene, make_camera, make_object

from scenegen import load_config
from scenegen.errors import RenderError
from scenegen.render import graph, raster
from scenegen.render._pyrender import vertex_array
from scenegen.render.flat import may_be_occluded
from scenegen.scene.geometry import intrinsics_from_fov, look_at_opencv, project
from scenegen.scene.scene import Light, ObjectInstance, Scene
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render


@pytest.fixture(scope="module")
def scenes_and_frames(small_cfg, dictionary, renderer):
    sampler = Sampler(small_cfg, dictionary)
    scenes = [sampler.sample(i) for i in range(12)]
    return [(s, renderer.render(s)) for s in scenes]


def test_layers_have_documented_shapes_and_types(scenes_and_frames):
    for scene, frame in scenes_and_frames:
        h, w, n = scene.camera.height, scene.camera.width, len(scene.objects)
        assert frame.rgb.shape == (h, w, 3) and frame.rgb.dtype == np.uint8
        assert frame.depth.shape == (h, w) and frame.depth.dtype == np.float32
        assert frame.instances.shape == (h, w) and frame.instances.dtype == np.uint16
        assert frame.semantic.shape == (h, w) and frame.semantic.dtype == np.uint8
        assert frame.parts.shape == (h, w) and frame.parts.dtype == np.uint8
        assert frame.amodal.shape == (n, h, w) and frame.amodal.dtype == bool
        assert frame.normals.shape == (h, w, 3) and frame.normals.dtype == np.float32
        assert set(frame.layers()) == {"rgb", "depth", "instances", "semantic", "parts", "amodal", "normals"}
        assert set(np.unique(frame.instances)) <= set(range(n + 1))


def test_semantic_is_category_of_instance(scenes_and_frames, dictionary):
    for scene, frame in scenes_and_frames:
        expected = np.zeros_like(frame.semantic)
        for i, obj in enumerate(scene.objects):
            expected[frame.instances == i + 1] = dictionary[obj.entry].category_id
        np.testing.assert_array_equal(frame.semantic, expected)


def test_visible_pixels_lie_inside_amodal_silhouettes(scenes_and_frames):
    for scene, frame in scenes_and_frames:
        for i in range(len(scene.objects)):
            visible = frame.instances == i + 1
            assert not np.any(visible & ~frame.amodal[i])
            assert np.all(frame.depth[visible] > 0)


def test_object_pixels_fall_inside_projected_geometry(scenes_and_frames, dictionary):
    """Pixel centres inside the projected geometry are covered. Every silhouette lies in
    the box of the projected mesh vertices; for solid convex shapes (no thin legs or
    points) the boxes agree to a pixel with no systematic offset, which would expose a
    half-pixel error in the intrinsics convention."""
    offsets = []
    for scene, frame in scenes_and_frames:
        cam = scene.camera
        for i, obj in enumerate(scene.objects):
            silhouette = frame.amodal[i]
            if not silhouette.any():
                continue
            pose = obj.world_from_object()
            verts = dictionary[obj.entry].variant(obj.style).mesh().vertices * obj.scale @ pose[:3, :3].T + pose[:3, 3]
            uv = project(verts, cam.K, cam.pose)
            rows, cols = np.nonzero(silhouette)
            measured = np.array([cols.min(), rows.min(), cols.max(), rows.max()], float)
            predicted = np.array([np.ceil(uv[:, 0].min()), np.ceil(uv[:, 1].min()),
                                  np.floor(uv[:, 0].max()), np.floor(uv[:, 1].max())])
            assert np.all(measured[:2] >= predicted[:2] - 1) and np.all(measured[2:] <= predicted[2:] + 1)
            if obj.entry in ("crate", "book", "ball", "can", "bowl", "flowerpot", "sofa") and silhouette.sum() >= 30:
                assert np.all(np.abs(measured - predicted) <= 1.0), (obj.entry, measured, predicted)
                offsets.append(measured - predicted)
    assert len(offsets) >= 5
    assert np.all(np.abs(np.mean(offsets, axis=0)) < 0.35), np.mean(offsets, axis=0)


def test_depth_of_floor_pixels_lies_on_the_ground_plane(scenes_and_frames):
    for scene, frame in scenes_and_frames:
        floor = (frame.instances == 0) & (frame.depth > 0)
        world = backproject(frame, scene, floor)
        on_ground = np.abs(world[:, 2]) < 2e-3
        # walls are the only other background surface
        assert on_ground.mean() > 0.5 or scene.context.walls
        if not scene.context.walls:
            assert on_ground.all()


def test_depth_matches_an_analytic_sphere(cfg, dictionary, renderer):
    """A lone ball: every pixel's back-projected depth lies on the sphere (icosphere
    tessellation error is well below the 2 mm tolerance at this size)."""
    scene = Sampler(cfg, dictionary).sample(0)
    radius = 0.15
    ball = ObjectInstance(entry="ball", category="ball", position=(0.0, 0.0, 0.0), yaw=0.3, scale=2 * radius,
                          color="red", rgb=(0.8, 0.1, 0.1), material="matte", metallic=0.0, roughness=0.9)

    pose = look_at_opencv([1.2, -0.4, 0.6], [0, 0, radius])
    fx, fy, cx, cy = intrinsics_from_fov(math.radians(45), 120, 90)
    camera = scene.camera.__class__(width=120, height=90, fx=fx, fy=fy, cx=cx, cy=cy,
                                    world_from_camera=tuple(map(tuple, pose)), target=(0, 0, radius),
                                    distance=1.0, azimuth=0.0, elevation=0.5, znear=0.05, zfar=100.0)
    lone = Scene(index=0, seed=0, context=scene.context, objects=(ball,), lights=scene.lights, camera=camera)
    frame = renderer.render(lone)
    mask = frame.instances == 1
    assert mask.sum() > 400  # a disc of about 12 px radius
    world = backproject(frame, lone, mask)
    distance = np.linalg.norm(world - [0, 0, radius], axis=1)
    assert np.abs(distance - radius).max() < 2e-3
    assert frame.amodal[0].sum() == mask.sum()  # nothing in front of it


def test_rendering_is_deterministic(scenes_and_frames, renderer):
    scene, frame = scenes_and_frames[3]
    again = renderer.render(scene)
    for name, layer in frame.layers().items():
        np.testing.assert_array_equal(layer, again.layers()[name], err_msg=name)


def test_without_the_colour_pass_every_label_layer_is_the_same(scenes_and_frames, renderer):
    """render(colour=False), what the path tracer asks for: a black image, every other
    layer byte-identical (effects too are left out: they touch the image only)."""
    for scene, frame in scenes_and_frames[:6]:
        labels_only = renderer.render(scene, colour=False)
        assert labels_only.rgb.shape == frame.rgb.shape and not labels_only.rgb.any()
        for layer in ("depth", "instances", "semantic", "parts", "amodal", "normals"):
            np.testing.assert_array_equal(getattr(labels_only, layer), getattr(frame, layer), err_msg=layer)
    again = renderer.render(scenes_and_frames[0][0])  # the next colour frame is unaffected
    np.testing.assert_array_equal(again.rgb, scenes_and_frames[0][1].rgb)


def test_the_raster_engine_is_a_render_backend(dictionary, scenes_and_frames):
    from importlib import metadata

    from scenegen.errors import ConfigError
    from scenegen.render import RenderBackend, make_renderer

    scene, frame = scenes_and_frames[2]
    with make_renderer(dictionary, "raster") as backend:
        assert isinstance(backend, RenderBackend) and isinstance(backend, raster.Renderer)
        assert backend.name == "raster" and metadata.version("pyrender-maintained") in backend.version
        again = backend.render(scene)
        assert set(again.layers()) == set(backend.layers) == set(frame.layers())
        np.testing.assert_array_equal(again.rgb, frame.rgb)
    with make_renderer(dictionary, normals=False) as backend:
        assert "normals" not in backend.layers and set(backend.render(scene).layers()) == set(backend.layers)
    with pytest.raises(ConfigError, match="unknown engine 'mitsuba'; valid: 'pathtraced', 'raster'") as error:
        make_renderer(dictionary, "mitsuba")
    assert error.value.exit_status == 2


def test_missing_gl_platform_is_a_clear_error():
    code = (
        "from scenegen import Renderer, ObjectDictionary, load_config, Sampler\n"
        "cfg = load_config(); d = ObjectDictionary.from_config(cfg)\n"
        "Renderer(d).render(Sampler(cfg, d).sample(0))\n"
    )
    env = {**os.environ, "PYOPENGL_PLATFORM": "osmesa"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode != 0
    assert "RenderError" in result.stderr and "apt-get install" in result.stderr


def test_oversized_image_is_refused_before_rendering(scenes_and_frames, renderer):
    from dataclasses import replace

    scene, frame = scenes_and_frames[0]
    huge = replace(scene, camera=replace(scene.camera, width=100_000, height=16))
    with pytest.raises(RenderError, match="exceeds this GL driver's limit"):
        renderer.render(huge)
    # the renderer is still usable afterwards
    np.testing.assert_array_equal(renderer.render(scene).instances, frame.instances)


def test_amodal_shortcut_equals_one_pass_per_object(small_cfg, dictionary, renderer, monkeypatch):
    """Skipping the solo pass of objects that nothing can occlude changes no pixel."""
    sampler = Sampler(small_cfg, dictionary)
    scenes = [sampler.sample(i) for i in range(100, 130)]
    fast = [renderer.render(s).amodal for s in scenes]
    skipped = sum(int((~may_be_occluded(s, dictionary)).sum()) for s in scenes)
    assert skipped > 0, "the shortcut was never taken: the test would prove nothing"
    monkeypatch.setattr(raster, "may_be_occluded", lambda scene, dictionary: np.ones(len(scene.objects), bool))
    for scene, amodal in zip(scenes, fast):
        np.testing.assert_array_equal(renderer.render(scene).amodal, amodal)


# -- parts and textures on hand-built scenes ------------------------------------------


def test_part_image_labels_every_object_pixel_and_nothing_else(scenes_and_frames, dictionary):
    for scene, frame in scenes_and_frames:
        np.testing.assert_array_equal(frame.parts == 0, frame.instances == 0)
        for i, obj in enumerate(scene.objects):
            count = len(dictionary[obj.entry].variant(obj.style).parts)
            ids = frame.parts[frame.instances == i + 1]
            assert ids.min(initial=1) >= 1 and ids.max(initial=1) <= count
    assert "parts" in scenes_and_frames[0][1].layers()


@pytest.mark.parametrize(
    "entry, style",
    [("table", "top=rect,legs=four"), ("table", "top=round,legs=trestle"), ("chair", "back=ladder,legs=splayed"),
     ("lamp", "base=stepped,shade=drum")],
)
def test_each_pixel_carries_the_part_whose_geometry_is_there(dictionary, renderer, entry, style):
    """Back-project every object pixel into the object's canonical frame: the pixel's
    part id names a part whose bounding box holds that surface point (e.g. table-top
    pixels carry the top's id, pixels below the top a leg's)."""
    entry_cfg = dictionary[entry]
    style = style if style in entry_cfg.styles else entry_cfg.styles[0]  # the dictionary may change its styles
    variant = entry_cfg.variant(style)
    obj = make_object(dictionary, entry, style=style, scale=1.0, yaw=0.4)
    scene = lone_scene(obj, make_camera((1.3, 0.9, 1.5), (0.0, 0.0, 0.35), 128, 96))
    frame = renderer.render(scene)
    mask = frame.instances == 1
    world = backproject(frame, scene, mask)
    pose = obj.world_from_object()
    canonical = (world - pose[:3, 3]) @ pose[:3, :3] / obj.scale
    ids = frame.parts[mask]
    tolerance = 0.01  # canonical units (1 cm here): depth and tessellation error
    inside = np.stack([np.all((canonical >= p.mesh.bounds[0] - tolerance) & (canonical <= p.mesh.bounds[1] + tolerance),
                              axis=1) for p in variant.parts], axis=1)  # (M, parts)
    assert inside[np.arange(len(ids)), ids.astype(int) - 1].all()
    seen = set(np.unique(ids).tolist())
    assert len(seen) >= 2, "a composed object should show more than one part"
    if entry == "table":
        top = next(p for p in variant.parts if p.label == "top")
        (x0, y0, z0), (x1, y1, z1) = top.mesh.bounds
        x, y, z = canonical.T
        on_top = (x > x0 + tolerance) & (x < x1 - tolerance) & (y > y0 + tolerance) & (y < y1 - tolerance)
        on_top &= (z > z0 - tolerance) & (z < z1 + tolerance)
        below_top = canonical[:, 2] < top.mesh.bounds[0][2] - tolerance
        assert on_top.sum() > 200 and below_top.sum() > 10
        assert np.all(ids[on_top] == top.index) and np.all(ids[below_top] != top.index)


@pytest.fixture(scope="module")
def box_world(cfg):
    """The built-in dictionary plus ``solid_box``, a solid 1 x 1 x 0.7 box (the built-in crate
    has boards with gaps between them): a flat face across the largest extent."""
    from scenegen.config.load import config_from_dict, config_to_dict
    from scenegen.world.dictionary import ObjectDictionary

    data = config_to_dict(cfg)
    data["objects"]["solid_box"] = {**data["objects"]["ball"], "category": "crate", "shape": "box",
                              "params": {"x": 1.0, "y": 1.0, "z": 0.7}, "symmetry": 4}
    dictionary = ObjectDictionary(config_from_dict(data))
    with raster.Renderer(dictionary) as renderer:
        yield dictionary, renderer


def test_stripes_show_repeats_periods_across_the_largest_extent(box_world):
    """A 1 m box seen face-on: its front face (the full largest extent, 1 m) shows
    exactly ``repeats`` periods of stripes, and the dark phase is (1 - contrast) of the
    base colour in linear light (the shader's output is gamma 2.2)."""
    dictionary, renderer = box_world
    stripes = dictionary.textures["stripes"]
    crate = make_object(dictionary, "solid_box", texture="stripes", scale=1.0)
    height = dictionary["solid_box"].variant().extents[2]
    scene = lone_scene(crate, make_camera((2.0, 0.0, height / 2), (0.0, 0.0, height / 2), 160, 120))
    frame = renderer.render(scene)
    row = frame.instances[60] == 1
    red = frame.rgb[60, row, 0].astype(float)
    assert row.sum() > 100
    light = red > (red.min() + red.max()) / 2
    runs = 1 + int(np.count_nonzero(light[1:] != light[:-1]))
    assert runs == 2 * stripes.repeats  # light and dark half-periods
    ratio = np.median(red[~light]) / np.median(red[light])
    assert ratio == pytest.approx((1 - stripes.contrast) ** (1 / 2.2), abs=0.02)
    # the plain crate: one colour across the face
    plain = renderer.render(replace(scene, objects=(replace(crate, texture="plain"),)))
    flat = plain.rgb[60, plain.instances[60] == 1, 0].astype(int)
    assert flat.max() - flat.min() <= 2
    # a textured object shows more distinct colours than the same plain one
    def distinct(f):
        return len(np.unique(f.rgb[f.instances == 1], axis=0))

    assert distinct(frame) > 2 * distinct(plain)
    # texture changes colour only: ids, parts and depth are the same
    np.testing.assert_array_equal(frame.instances, plain.instances)
    np.testing.assert_array_equal(frame.parts, plain.parts)
    np.testing.assert_array_equal(frame.depth, plain.depth)


def test_floor_tiles_are_repeats_per_metre(dictionary, renderer):
    """Seen from above, the checker floor's squares are 1 / (2 repeats) m: the centres
    of squares alternate dark and light, each class one colour."""
    tiles = dictionary.textures["tiles"]
    assert tiles.pattern == "checker"
    context = replace(STUDIO, floor_texture="tiles")
    ball = make_object(dictionary, "ball", scale=0.1, position=(5.0, 5.0, 0.0))  # out of view
    camera = make_camera((0.001, 0.0, 3.0), (0.0, 0.0, 0.0), 96, 72)
    light = Light(direction=(0.6, 0.0, 0.8), color=(1.0, 1.0, 1.0), intensity=3.0)
    frame = renderer.render(lone_scene(ball, camera, context, light))
    side = 1 / (2 * tiles.repeats)
    centres = np.array([((i + 0.5) * side, (j + 0.5) * side, 0.0) for i in range(-3, 3) for j in range(-2, 2)])
    parity = np.array([(i + j) % 2 for i in range(-3, 3) for j in range(-2, 2)])
    uv = np.rint(project(centres, camera.K, camera.pose)).astype(int)
    values = frame.rgb[uv[:, 1], uv[:, 0], 0].astype(float)
    a, b = values[parity == 0], values[parity == 1]
    assert a.max() - a.min() <= 3 and b.max() - b.min() <= 3
    dark, bright = sorted([a.mean(), b.mean()])
    assert dark / bright == pytest.approx((1 - tiles.contrast) ** (1 / 2.2), abs=0.02)
    plain = renderer.render(lone_scene(ball, camera, STUDIO, light))
    assert np.ptp(plain.rgb[uv[:, 1], uv[:, 0], 0].astype(int)) <= 3


def test_meshes_and_textures_are_cached_across_scenes(scenes_and_frames, dictionary):
    """Meshes are pooled by geometry (not by material) and stay in the GL context: a
    scene rendered again takes the same meshes, with the same GL buffers."""
    scenes = [scene for scene, _ in scenes_and_frames]
    with raster.Renderer(dictionary) as renderer:
        renderer.render(scenes[0])
        pools = {key: list(pool) for key, pool in renderer.meshes.pools.items()}
        textures = dict(renderer.meshes.textures)
        buffers = {id(m): vertex_array(m.primitives[0]) for pool in pools.values() for m in pool}
        for scene in scenes[1:]:
            renderer.render(scene)
        again = renderer.render(scenes[0])
        for key, pool in pools.items():
            assert renderer.meshes.pools[key][: len(pool)] == pool
        assert all(renderer.meshes.textures[name] is texture for name, texture in textures.items())
        assert {id(m): vertex_array(m.primitives[0]) for pool in pools.values() for m in pool} == buffers
        # one pool per geometry (and texture scale), whatever the colours and materials:
        # a pool holds as many meshes as one scene uses of that geometry at once
        most = max(len(scene.objects) for scene in scenes)
        assert all(len(pool) <= most for pool in renderer.meshes.pools.values())
    for name, layer in scenes_and_frames[0][1].layers().items():
        np.testing.assert_array_equal(again.layers()[name], layer, err_msg=name)


def test_normals_can_be_switched_off(small_cfg, dictionary):
    scene = Sampler(small_cfg, dictionary).sample(0)
    with raster.Renderer(dictionary, normals=False) as plain:
        frame = plain.render(scene)
    assert frame.normals is None and "normals" not in frame.layers()


def test_object_normals_agree_with_depth_gradients(scenes_and_frames):
    """Inside flat regions (a 3x3 neighbourhood of one instance whose back-projected
    points are coplanar) the normal is the plane's normal from the depth alone."""
    compared = 0
    for scene, frame in scenes_and_frames:
        cam = scene.camera
        h, w = frame.depth.shape
        ys, xs = np.mgrid[0:h, 0:w]
        z = frame.depth.astype(float)
        points = np.stack([(xs - cam.cx) / cam.fx * z, (ys - cam.cy) / cam.fy * z, z], axis=-1)
        for v in range(1, h - 1):
            for u in range(1, w - 1):
                window = frame.instances[v - 1 : v + 2, u - 1 : u + 2]
                if frame.depth[v, u] <= 0 or not (window == window[1, 1]).all():
                    continue
                p = points[v - 1 : v + 2, u - 1 : u + 2].reshape(9, 3)
                centred = p - p.mean(axis=0)
                _, sv, vt = np.linalg.svd(centred)
                if sv[2] > 1e-5 * sv[0] or sv[1] < 1e-9:
                    continue  # not flat: an edge or a curved surface
                normal = vt[2]
                angle = np.degrees(np.arccos(min(1.0, abs(float(normal @ frame.normals[v, u])))))
                assert angle < 2.0, (scene.index, u, v, angle)
                compared += 1
    assert compared > 1000


def test_draw_order_and_so_depth_ties_do_not_depend_on_the_run():
    """Parts of one object tie in pyrender's distance sort; coplanar faces between them
    then depend on the draw order. Scene 23 of this plan has such a tie: rendering it
    again, with new node objects at new addresses, must give the same layers."""
    from scenegen.design.plan import covering_plan
    cfg = load_config(["width=64", "height=48", "strategy=covering", "design_factors=[category,context]"])
    sampler = Sampler(cfg)
    scene = sampler.sample(23, covering_plan(sampler.world)[23])
    renderer = raster.Renderer(sampler.dictionary)
    first = renderer.render(scene)
    for _ in range(6):
        again = renderer.render(scene)
        for name, layer in first.layers().items():
            np.testing.assert_array_equal(again.layers()[name], layer, err_msg=name)


def test_amodal_masks_equal_each_object_rendered_alone(small_cfg, dictionary, renderer, monkeypatch):
    """The amodal pass (all silhouettes in one pass, one bit each) gives every object
    exactly the pixels it covers when it is drawn alone (no other object, no floor or
    walls: a floor coplanar with an object's base must not take its edge pixels)."""
    sampler = Sampler(small_cfg, dictionary)
    compared = hidden = 0
    for index in range(40, 52):
        scene = sampler.sample(index)
        frame = renderer.render(scene)
        for i, obj in enumerate(scene.objects):
            with monkeypatch.context() as patch:
                patch.setattr(graph, "context_boxes", lambda scene: [])
                alone = renderer.render(replace(scene, objects=(obj,)))
            np.testing.assert_array_equal(frame.amodal[i], alone.instances == 1, err_msg=f"scene {index} object {i}")
            compared += 1
            hidden += int((frame.amodal[i] & (frame.instances != i + 1)).any())
    assert compared > 20 and hidden >= 3, (compared, hidden)  # some objects are partly hidden


def test_more_objects_than_one_amodal_pass_holds(dictionary, renderer, monkeypatch):
    """With fewer silhouette bits a pass than occludable objects, the extra passes give
    the same masks."""
    scene = Sampler(load_config(["width=96", "height=72", "placement.objects=[5,5]"]), dictionary).sample(7)
    expected = renderer.render(scene).amodal
    monkeypatch.setattr(raster, "SILHOUETTE_BITS", 2)
    np.testing.assert_array_equal(renderer.render(scene).amodal, expected)
