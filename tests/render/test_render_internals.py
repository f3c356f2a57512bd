"""pyrender's private members: used in scenegen/render/_pyrender.py only, each listed in its
PRIVATE_MEMBERS, each present on the installed pyrender, which pyproject.toml pins
exactly. An upgrade of pyrender that renames or drops one fails here."""

from __future__ import annotations

import ast
import inspect
import textwrap
import tomllib
from importlib import import_module, metadata
from pathlib import Path

import numpy as np
import pytest

from scenegen.render import _pyrender
from scenegen.render._pyrender import PRIVATE_MEMBERS
from scenegen.render.opengl import import_pyrender
from scenegen.render.raster import PYRENDER_DISTRIBUTION

ROOT = Path(__file__).resolve().parents[2]  # the repository (an installed scenegen may live elsewhere)
MODULE = ROOT / "scenegen" / "render" / "_pyrender.py"
PRIVATE = set().union(*PRIVATE_MEMBERS.values())
# every Python file of the project but the access layer itself
SOURCES = sorted(p for d in ("scenegen", "tests", "benchmarks", "docs", "examples") for p in (ROOT / d).rglob("*.py")
                 if p != MODULE)


def owner_class(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


def assigned_on_self(cls) -> set:
    """Attribute names ``cls`` or a pyrender base class assigns as ``self.<name> = ...``."""
    names = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("pyrender."):
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
            names.update(node.attr for node in ast.walk(tree)
                         if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                         and isinstance(node.value, ast.Name) and node.value.id == "self")
    return names


def private_attributes(tree: ast.AST) -> set:
    """Names ``_x`` (not dunder) read or written as an attribute anywhere in ``tree``."""
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and node.attr.startswith("_") and not node.attr.startswith("__")}


@pytest.mark.render
@pytest.mark.parametrize("owner", sorted(PRIVATE_MEMBERS))
def test_every_private_member_exists_on_the_installed_pyrender(owner):
    import_pyrender()  # the GL platform first
    cls = owner_class(owner)
    instance_attributes = assigned_on_self(cls)
    for name, parameters in PRIVATE_MEMBERS[owner].items():
        if parameters is None:  # a data attribute, set in a method or on the class
            assert name in instance_attributes or (hasattr(cls, name) and not callable(getattr(cls, name))), \
                f"{owner}.{name} is gone"
            continue
        assert callable(getattr(cls, name, None)), f"{owner}.{name}() is gone"
        signature = list(inspect.signature(getattr(cls, name)).parameters.values())
        if signature and signature[0].name == "self":
            signature = signature[1:]
        assert tuple(p.name for p in signature[: len(parameters)]) == parameters, f"{owner}.{name}{signature}"
        rest = signature[len(parameters):]
        assert all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in rest), \
            f"{owner}.{name} needs more arguments than scenegen passes: {rest}"


def test_the_access_layer_uses_exactly_the_listed_members():
    """Every ``._x`` in _pyrender.py that it does not define itself is listed, and every
    listed member is used: the list cannot drift from the code."""
    tree = ast.parse(MODULE.read_text())
    defined = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert private_attributes(tree) - defined == PRIVATE


def test_no_other_module_touches_a_pyrender_private_member():
    """Outside _pyrender.py a listed name appears only as a module's own attribute on
    ``self`` (e.g. SceneWorker's ``self._renderer``), never on another object and never
    as a string (``getattr``)."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        own = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
               and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name) and node.value.id == "self"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
                if not (isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr in own):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in PRIVATE:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not found, "pyrender's private members belong in scenegen/render/_pyrender.py: " + ", ".join(found)


def test_pyproject_pins_the_installed_pyrender_exactly():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if d.startswith(PYRENDER_DISTRIBUTION)]
    assert pins == [f"{PYRENDER_DISTRIBUTION}=={metadata.version(PYRENDER_DISTRIBUTION)}"]


# -- the wrappers that need no GL context ---------------------------------------------


@pytest.fixture(scope="module")
def pr():
    return import_pyrender()


def a_mesh(pr):
    return pr.Mesh(primitives=[pr.Primitive(positions=np.eye(3, dtype=np.float32), indices=np.array([[0, 1, 2]]))])


@pytest.mark.render
def test_matrix_node_keeps_its_matrix_and_decomposes_it_on_request(pr):
    angle, scale = 0.7, 1.5
    matrix = np.eye(4)
    matrix[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    matrix[:3, :3] *= scale
    matrix[:3, 3] = [0.5, -1.0, 2.0]
    node, reference = _pyrender.matrix_node(pr, matrix), pr.Node(matrix=matrix)
    np.testing.assert_array_equal(node.matrix, matrix)  # as set, not recomposed
    for name in ("rotation", "scale", "translation"):
        np.testing.assert_allclose(getattr(node, name), getattr(reference, name), err_msg=name)
    node.translation = reference.translation = [1.0, 2.0, 3.0]
    np.testing.assert_allclose(node.matrix, reference.matrix)
    np.testing.assert_allclose(node.matrix[:3, 3], [1.0, 2.0, 3.0])


@pytest.mark.render
def test_scene_keeps_insertion_order_and_the_bounds_set(pr):
    scene = pr.Scene()
    _pyrender.keep_insertion_order(scene)
    nodes = [pr.Node(mesh=a_mesh(pr), translation=[float(i), 0.0, 0.0]) for i in range(20)]
    for node in reversed(nodes):
        scene.add_node(node)
    scene.remove_node(nodes[5])
    assert list(scene.mesh_nodes) == [n for n in reversed(nodes) if n is not nodes[5]]
    bounds = np.array([[-1.0, -2.0, 0.0], [1.0, 2.0, 0.5]])
    _pyrender.set_bounds(scene, bounds)
    np.testing.assert_array_equal(scene.bounds, bounds)
    np.testing.assert_allclose(scene.centroid, [0.0, 0.0, 0.25])
