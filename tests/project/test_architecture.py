"""The package layout is the data flow: imports go one way, from a stage to the stages
below it, and there is no import cycle, counting imports inside functions too (so none
can hide a cycle there)."""

from __future__ import annotations

import ast
from pathlib import Path

import scenegen

PACKAGE = Path(scenegen.__file__).parent
# the stages, lowest first; a module may import from lower ranks and from its own stage
RANKS = {
    "scenegen.errors": 0, "scenegen.fileio": 0, "scenegen._version": 0, "scenegen.resources": 0,
    "scenegen.progress": 0, "scenegen.timing": 0, "scenegen.streams": 0, "scenegen.lazy": 0, "scenegen.cache": 0,
    "scenegen.runs": 0,
    "scenegen.scene": 1,
    "scenegen.config": 2,
    "scenegen.world": 3,
    "scenegen.render": 4, "scenegen.labels": 4,
    "scenegen.design": 5,
    "scenegen.dataset": 6,
    "scenegen.reports": 7,
    "scenegen.probe": 8,
    "scenegen.cli": 9, "scenegen.__main__": 9, "scenegen": 9,
}
BASE = 0


def module_name(path: Path) -> str:
    parts = ["scenegen", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict:
    """Every module of the package: the .py files of folders that are Python packages
    (an installed wheel also holds data folders, assets/ and conf/, with scripts in them)."""
    return {module_name(path): path for path in PACKAGE.rglob("*.py")
            if all((folder / "__init__.py").is_file()
                   for folder in [path.parent, *path.parent.parents] if folder.is_relative_to(PACKAGE))}


def imports(name: str, path: Path, known: set) -> set:
    """The scenegen modules ``name`` imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target
                found.add(candidate)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


def stage(name: str) -> str:
    """The stage of a module: its package below ``scenegen`` (or the module itself)."""
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else name


def graph() -> dict:
    known = modules()
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def upward_imports(edges: dict) -> list:
    """``"a imports b"`` for every import from a stage into the same or a higher one
    (modules of the base and of the top may import each other)."""
    wrong = []
    for name, targets in edges.items():
        for target in targets:
            mine, theirs = RANKS[stage(name)], RANKS[stage(target)]
            siblings = stage(name) == stage(target) or mine == theirs in (BASE, max(RANKS.values()))
            if not siblings and theirs >= mine:
                wrong.append(f"{name} imports {target}")
    return sorted(wrong)


def cycles(edges: dict) -> list:
    """The import cycles of ``edges`` (module -> modules it imports), each as a path."""
    state, found = {}, []

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                found.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_every_module_has_a_stage():
    assert sorted(m for m in modules() if stage(m) not in RANKS) == []


def test_imports_go_down_the_stages():
    assert upward_imports(graph()) == []


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_the_checks_see_an_upward_import_and_a_cycle():
    edges = {"scenegen.scene.scene": {"scenegen.dataset.pipeline"}, "scenegen.dataset.pipeline": {"scenegen.errors"},
             "scenegen.world.grammar": {"scenegen.world.dictionary"},
             "scenegen.world.dictionary": {"scenegen.world.shapes"}, "scenegen.world.shapes": {"scenegen.world.grammar"}}
    assert upward_imports(edges) == ["scenegen.scene.scene imports scenegen.dataset.pipeline"]
    assert cycles(edges) == [["scenegen.world.dictionary", "scenegen.world.shapes", "scenegen.world.grammar",
                              "scenegen.world.dictionary"]]
