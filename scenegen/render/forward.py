"""The colour pass's draws: pyrender's forward pass and shadow-map pass, with less GL.

pyrender's ``Renderer._forward_pass`` sets, for every primitive, the camera, every light
(its shadow map bound again, its shadow camera computed again) and the material, each
uniform found again by name (``glGetUniformLocation``), and restores the state it set:
about 50 GL calls a primitive, each a Python call through PyOpenGL. On llvmpipe that
Python was a fifth of a scene's time on the thread that draws. Here the same draws set
the same values with fewer calls: what is the same for every primitive of a pass
(camera, lights, shadow maps on texture units 0..L-1, as pyrender binds them) once per
program, the material per primitive, state only where it changes, uniform locations
looked up once per program. GL keeps a program's uniforms and the bound textures, so
every draw sees what pyrender's would: the images are the same, byte for byte (tests
compare both on every kind of scene).

Two differences, both fixes: lights are set in the order the Graph added them
(pyrender iterates a set of nodes, whose order follows their memory addresses: with
three lights or more the sum of their light could differ in its last bit from run to
run, so the same scene gave other bytes), and every light is drawn (pyrender's shader
holds 4 directional lights without shadows, and pyrender picked 4 of more by that same
order): scenegen's mesh programs hold :data:`~scenegen.render.programs.MAX_DIRECTIONAL_LIGHTS`.
The programs have the number of lights compiled in (``ShaderPrograms.mesh``): pyrender's
light counts are uniforms no program reads.
"""

from __future__ import annotations

from ..errors import RenderError
from . import _pyrender
from .opengl import gl
from .programs import MAX_DIRECTIONAL_LIGHTS
from .rawgl import check_errors, draw_elements
from .uniforms import set_uniform

# pyrender's material textures: (texture flag name, material attribute, sampler uniform),
# in the order pyrender binds them to texture units after the shadow maps
_MATERIAL_TEXTURES = (
    ("NORMAL", "normalTexture", "material.normal_texture"),
    ("OCCLUSION", "occlusionTexture", "material.occlusion_texture"),
    ("EMISSIVE", "emissiveTexture", "material.emissive_texture"),
    ("BASE_COLOR", "baseColorTexture", "material.base_color_texture"),
    ("METALLIC_ROUGHNESS", "metallicRoughnessTexture", "material.metallic_roughness_texture"),
    ("DIFFUSE", "diffuseTexture", "material.diffuse_texture"),
    ("SPECULAR_GLOSSINESS", "specularGlossinessTexture", "material.specular_glossiness_texture"),
)


class _State:
    """The blend, polygon and cull state last set in a pass (None: not set yet), so each
    is set only where it changes."""

    def __init__(self):
        self.blend = self.polygon = self.cull = None

    def set(self, blend: tuple, polygon: int, cull: bool) -> None:
        GL = gl()
        if blend != self.blend:
            GL.glBlendFunc(*blend)
            self.blend = blend
        if polygon != self.polygon:
            GL.glPolygonMode(GL.GL_FRONT_AND_BACK, polygon)
            self.polygon = polygon
        if cull != self.cull:
            if cull:
                GL.glEnable(GL.GL_CULL_FACE)
                GL.glCullFace(GL.GL_BACK)
            else:
                GL.glDisable(GL.GL_CULL_FACE)
            self.cull = cull


def _draw(renderer, primitive) -> None:
    """Draw the bound ``primitive`` (its vertex array bound) as pyrender does: every
    instance, indexed or not; points at the renderer's point size."""
    from pyrender.constants import GLTF

    GL = gl()
    if primitive.mode == GLTF.POINTS:
        GL.glEnable(GL.GL_PROGRAM_POINT_SIZE)
        GL.glPointSize(renderer.point_size)
    instances = 1 if primitive.poses is None else len(primitive.poses)
    if primitive.indices is not None:
        draw_elements(primitive.mode, primitive.indices.size, instances)
    else:
        GL.glDrawArraysInstanced(primitive.mode, 0, len(primitive.positions), instances)
    if primitive.mode == GLTF.POINTS:
        GL.glDisable(GL.GL_PROGRAM_POINT_SIZE)


def _directional_lights(renderer, scene, light_nodes, flags, light_matrices=None) -> list[dict]:
    """The uniforms of each light of ``light_nodes`` (in that order) as pyrender's
    ``Renderer._bind_lighting`` sets them; a shadow camera's (V, P) taken from
    ``light_matrices`` (node -> (V, P)) where it holds the node's.

    Raises:
        RenderError: a light is not directional, or there are more than the mesh
            programs hold.
    """
    from pyrender.constants import RenderFlags
    from pyrender.light import DirectionalLight

    nodes = list(light_nodes)
    if len(nodes) > MAX_DIRECTIONAL_LIGHTS:
        raise RenderError(f"{len(nodes)} lights exceed the colour pass's {MAX_DIRECTIONAL_LIGHTS}")
    for node in nodes:
        if not isinstance(node.light, DirectionalLight):
            raise RenderError(f"the colour pass draws directional lights only, got a {type(node.light).__name__}")
    shadows = bool(flags & RenderFlags.SHADOWS_DIRECTIONAL)
    lights = []
    for node in nodes:
        light, pose = node.light, scene.get_pose(node)
        entry = {"direction": -pose[:3, 2], "color": light.color, "intensity": light.intensity, "shadow_map": None}
        if shadows:
            V, P = (light_matrices or {}).get(node) or _pyrender.light_matrices(renderer, scene, node, flags)
            entry["shadow_map"], entry["light_matrix"] = light.shadow_texture, P.dot(V)
        lights.append(entry)
    return lights


def forward_pass(renderer, scene, flags, programs, light_nodes, bind_extra=None, light_matrices=None) -> None:
    """Draw pyrender's lit forward pass of ``scene`` into its multisampled main
    framebuffer (pyrender's ``Renderer._forward_pass`` without its read-back: the same
    draws, in the same order, with the same uniform values), with the programs of
    ``programs`` (a ShaderProgramCache of scenegen's mesh shaders) and the lights of
    ``light_nodes`` (pyrender nodes, in the order they are set). ``bind_extra(program)``,
    when given, sets more uniforms on each program once it is bound and lit.
    ``light_matrices``: node -> (V, P) of its shadow camera where the caller has them
    (:func:`scenegen.render._pyrender.light_matrices`; worked out here otherwise).

    Raises:
        RenderError: more lights than the programs hold, or one that is not directional.
    """
    from pyrender.constants import ProgramFlags, RenderFlags, TexFlags
    from pyrender.material import MetallicRoughnessMaterial, SpecularGlossinessMaterial

    lights = _directional_lights(renderer, scene, light_nodes, flags, light_matrices)
    GL = gl()
    _pyrender.bind_main_framebuffer(renderer)
    GL.glViewport(0, 0, renderer.viewport_width, renderer.viewport_height)
    GL.glEnable(GL.GL_DEPTH_TEST)
    GL.glDepthMask(GL.GL_TRUE)
    GL.glDepthFunc(GL.GL_LESS)
    GL.glDepthRange(0.0, 1.0)
    GL.glClearColor(*scene.bg_color)
    GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
    GL.glEnable(GL.GL_MULTISAMPLE)
    GL.glEnable(GL.GL_BLEND)
    GL.glDisable(GL.GL_PROGRAM_POINT_SIZE)

    V, P = _pyrender.camera_matrices(renderer, scene)
    camera_position = scene.get_pose(scene.main_camera_node)[:3, 3]
    for unit, light in enumerate(entry for entry in lights if entry["shadow_map"] is not None):
        GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
        _pyrender.bind(light["shadow_map"])
    first_material_unit = sum(entry["shadow_map"] is not None for entry in lights)

    state, lit, current, program_of = _State(), set(), None, {}
    for node in _pyrender.sorted_mesh_nodes(renderer, scene):
        mesh = node.mesh
        if not mesh.is_visible:
            continue
        pose = scene.get_pose(node)
        for primitive in mesh.primitives:
            material = primitive.material
            key = (primitive.buf_flags, material.tex_flags, type(material))
            program = program_of.get(key)
            if program is None:
                program = program_of[key] = _pyrender.primitive_program(
                    renderer, primitive, flags, ProgramFlags.USE_MATERIAL, programs)
            if program is not current:
                _pyrender.bind(program)
                current = program
            if program not in lit:  # the pass's uniforms: GL keeps them per program
                lit.add(program)
                _light(program, V, P, camera_position, scene.ambient_light, lights)
                if bind_extra is not None:
                    bind_extra(program)
            set_uniform(program, "M", pose)
            _pyrender.bind(primitive)
            unit, texture_flags = first_material_unit, material.tex_flags
            for flag, attribute, uniform in _MATERIAL_TEXTURES:
                if texture_flags & getattr(TexFlags, flag):
                    GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
                    _pyrender.bind(getattr(material, attribute))
                    set_uniform(program, uniform, unit)
                    unit += 1
            set_uniform(program, "material.emissive_factor", material.emissiveFactor)
            if isinstance(material, MetallicRoughnessMaterial):
                set_uniform(program, "material.base_color_factor", material.baseColorFactor)
                set_uniform(program, "material.metallic_factor", material.metallicFactor)
                set_uniform(program, "material.roughness_factor", material.roughnessFactor)
            elif isinstance(material, SpecularGlossinessMaterial):
                set_uniform(program, "material.diffuse_factor", material.diffuseFactor)
                set_uniform(program, "material.specular_factor", material.specularFactor)
                set_uniform(program, "material.glossiness_factor", material.glossinessFactor)
            blend = ((GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA) if material.alphaMode == "BLEND"
                     else (GL.GL_ONE, GL.GL_ZERO))
            wireframe = bool(material.wireframe) != bool(flags & RenderFlags.FLIP_WIREFRAME)
            polygon = GL.GL_LINE if (flags & RenderFlags.ALL_WIREFRAME) or wireframe else GL.GL_FILL
            state.set(blend, polygon, not (material.doubleSided or flags & RenderFlags.SKIP_CULL_FACES))
            _draw(renderer, primitive)
    GL.glBindVertexArray(0)
    if current is not None:
        _pyrender.unbind_program(current)
    GL.glActiveTexture(GL.GL_TEXTURE0)
    check_errors("the colour pass")
    GL.glFlush()


def _light(program, V, P, camera_position, ambient, lights: list[dict]) -> None:
    """Set the camera and the lights on the bound ``program`` (pyrender's camera uniforms
    and ``Renderer._bind_lighting``'s, directional lights only; shadow map k on texture
    unit k)."""
    set_uniform(program, "V", V)
    set_uniform(program, "P", P)
    set_uniform(program, "cam_pos", camera_position)
    set_uniform(program, "ambient_light", ambient)
    unit = 0
    for index, light in enumerate(lights):
        prefix = f"directional_lights[{index}]."
        set_uniform(program, prefix + "direction", light["direction"])
        set_uniform(program, prefix + "color", light["color"])
        set_uniform(program, prefix + "intensity", light["intensity"])
        if light["shadow_map"] is not None:
            set_uniform(program, prefix + "shadow_map", unit)
            set_uniform(program, f"light_matrices[{index}]", light["light_matrix"])
            unit += 1


def shadow_pass(renderer, scene, light_node, flags, casters, matrices=None) -> None:
    """Draw the depth of ``casters`` (``(primitive, (4, 4) pose)``) into the bound
    shadow framebuffer from ``light_node``'s shadow camera, as pyrender's depth program
    draws them (``Renderer._bind_and_draw_primitive`` with ``DEPTH_ONLY``), each program's
    camera set once. ``matrices``: (V, P) of the light's shadow camera where the caller
    has them (worked out here otherwise)."""
    from pyrender.constants import ProgramFlags

    GL = gl()
    V, P = matrices or _pyrender.light_matrices(renderer, scene, light_node, flags)
    GL.glEnable(GL.GL_CULL_FACE)
    GL.glEnable(GL.GL_BLEND)
    GL.glCullFace(GL.GL_BACK)
    GL.glBlendFunc(GL.GL_ONE, GL.GL_ZERO)
    GL.glPolygonMode(GL.GL_FRONT_AND_BACK, GL.GL_FILL)
    GL.glDisable(GL.GL_PROGRAM_POINT_SIZE)
    current, program_of = None, {}
    for primitive, pose in casters:
        program = program_of.get(primitive.buf_flags)
        if program is None:
            program = program_of[primitive.buf_flags] = _pyrender.primitive_program(
                renderer, primitive, flags, ProgramFlags.NONE)
        if program is not current:
            _pyrender.bind(program)
            set_uniform(program, "V", V)
            set_uniform(program, "P", P)
            current = program
        set_uniform(program, "M", pose)
        _pyrender.bind(primitive)
        _draw(renderer, primitive)
    GL.glBindVertexArray(0)
    if current is not None:
        _pyrender.unbind_program(current)
    check_errors("a shadow map's pass")
