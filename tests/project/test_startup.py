"""Start-up stays light: importing scenegen or its command line loads none of the heavy
optional modules (each is imported where it is used, through :mod:`scenegen.lazy`), and
``scenegen space`` loads no mesh library once its dictionary's facts are kept. No timing
here: ``python benchmarks/bench_startup.py`` measures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from scenegen import lazy

# what importing scenegen must not load (a regression here costs every command start-up)
HEAVY = ("trimesh", "scipy", "pyrender", "OpenGL", "fpng", "jinja2", "networkx", "dask", "distributed", "hydra",
         "mitsuba", "pybullet", "torch")


def _loaded(code: str, env: dict | None = None) -> list:
    """The HEAVY modules in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, **(env or {})})
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["scenegen", "scenegen.cli"])
def test_importing_loads_no_heavy_module(module):
    assert _loaded(f"import {module}") == []


def test_space_loads_no_mesh_library_once_the_dictionary_is_known(tmp_path):
    command = "import contextlib, io\nfrom scenegen.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n" \
              "    assert main(['space']) == 0"
    env = {"SCENEGEN_CACHE": str(tmp_path / "cache")}
    first = _loaded(command, env)  # composes with Hydra, reads the meshes, keeps what it found
    assert "trimesh" in first
    assert _loaded(command, env) == []


def test_generate_loads_no_mesh_library_once_its_shapes_are_kept(tmp_path):
    """pyrender imports trimesh; scenegen binds the package without running its
    ``__init__`` (SciPy, networkx's graphs), the renderer draws the kept arrays and the
    sampler places objects on a support's kept top outline, so a second ``generate`` of
    the same dictionary loads neither trimesh's modules nor SciPy (scene 4 stands an
    object on a support)."""
    env = {"SCENEGEN_CACHE": str(tmp_path / "cache")}

    def run(out: str) -> dict:
        probe = ("import contextlib, io, json, sys\nfrom scenegen.cli import main\n"
                 "with contextlib.redirect_stdout(io.StringIO()):\n"
                 f"    assert main(['generate', 'n=6', 'out={tmp_path / out}', 'width=64', 'height=48']) == 0\n"
                 "print(json.dumps({'trimesh': 'trimesh.base' in sys.modules, 'scipy': 'scipy' in sys.modules}))")
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                              env={**os.environ, **env})
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert run("first") == {"trimesh": True, "scipy": True}  # makes the shapes, keeps them
    assert run("second") == {"trimesh": False, "scipy": False}
    assert sorted(p.name for p in (tmp_path / "first").rglob("*") if p.is_file()) == \
        sorted(p.name for p in (tmp_path / "second").rglob("*") if p.is_file())


def test_a_deferred_package_is_the_package_once_used():
    """``_defer_package``: a submodule imports alone; any other name loads the package
    whole, once, as itself (in a fresh interpreter, where nothing imported it yet)."""
    probe = (
        "import sys\nfrom scenegen.render.opengl import _defer_package\n_defer_package('email')\n"
        "deferred = sys.modules['email']\nimport email.charset\n"
        "assert email.charset.Charset and 'email.parser' not in sys.modules\n"
        "assert email.message_from_string('a: b')['a'] == 'b' and sys.modules['email'] is deferred\n"
        "import email as again\nassert again is deferred and 'email.parser' in sys.modules\n"
        "try:\n    email.no_such_name\nexcept AttributeError:\n    print('ok')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "ok"


def test_a_deferred_package_that_fails_to_load_raises_its_error_at_every_read(tmp_path):
    """A package whose ``__init__`` raises gives that error at each read of one of its
    names, as an import would, not an AttributeError of a half-loaded module."""
    (tmp_path / "broken_package").mkdir()
    (tmp_path / "broken_package" / "__init__.py").write_text("raise ImportError('no backend here')\n")
    probe = (
        "import sys\nfrom scenegen.render.opengl import _defer_package\n_defer_package('broken_package')\n"
        "import broken_package\nfor _ in range(2):\n    try:\n        broken_package.anything\n"
        "    except ImportError as error:\n        print(error)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.stdout.split("\n")[:2] == ["no backend here", "no backend here"]


def test_a_lazy_module_is_the_module_once_used():
    stand_in = lazy.lazy_module("json")
    assert stand_in.dumps([1]) == "[1]" and stand_in.JSONDecodeError is json.JSONDecodeError
    assert lazy.lazy_module("email").message.EmailMessage  # a submodule its package does not import
    with pytest.raises(AttributeError):
        getattr(stand_in, "no_such_name")  # noqa: B009
    assert stand_in and not lazy.lazy_module("no_such_module_here", optional=True)
    with pytest.raises(ImportError):
        getattr(lazy.lazy_module("no_such_module_here"), "anything")  # noqa: B009


def test_the_hull_stand_in_is_scipys_and_raises_its_own_qhull_error():
    import numpy as np
    from scipy.spatial import ConvexHull

    points = np.random.default_rng(0).normal(size=(30, 3))
    np.testing.assert_array_equal(lazy.ConvexHull(points).vertices, ConvexHull(points).vertices)
    flat = np.c_[points[:, :2], np.zeros(30)]
    with pytest.raises(lazy.QhullError, match="QH"):
        lazy.ConvexHull(flat)
    assert issubclass(lazy.QhullError, RuntimeError)


# The program's end (scenegen.cli.exit_fast): exit handlers run, output is flushed, the
# status is kept, and a thread still working is waited for.
EXITING = """
import atexit, sys, threading, time
from pathlib import Path
from scenegen.cli import exit_fast
atexit.register(lambda: print("handler ran", flush=False))
print("buffered output", end=" ")
print("to stderr", end="", file=sys.stderr)
if len(sys.argv) > 1:
    def write_late():
        time.sleep(0.5)
        Path(sys.argv[1]).write_text("written")
    threading.Thread(target=write_late).start()
exit_fast(3)
"""


def test_the_program_ends_with_its_status_its_output_and_its_exit_handlers():
    done = subprocess.run([sys.executable, "-c", EXITING], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (3, "buffered output handler ran\n", "to stderr")


def test_the_program_waits_for_a_thread_still_writing(tmp_path):
    done = subprocess.run([sys.executable, "-c", EXITING, str(tmp_path / "late.txt")], capture_output=True, text=True)
    assert done.returncode == 3 and (tmp_path / "late.txt").read_text() == "written"
    assert done.stdout == "buffered output handler ran\n"


def test_python_m_scenegen_and_its_errors_end_with_their_status(tmp_path):
    env = {**os.environ, "SCENEGEN_CACHE": str(tmp_path / "cache")}
    shown = subprocess.run([sys.executable, "-m", "scenegen", "space", "--json"], capture_output=True, text=True, env=env)
    assert shown.returncode == 0 and int(json.loads(shown.stdout)["total"]) > 0
    wrong = subprocess.run([sys.executable, "-m", "scenegen", "space", "n=-1"], capture_output=True, text=True, env=env)
    assert wrong.returncode == 2 and wrong.stderr.startswith("scenegen space: error:") and not wrong.stdout


VIEWER = """
import json, sys
from scenegen.render.opengl import import_pyrender
pyrender = import_pyrender()
found = {"pyglet_after_import": "pyglet" in sys.modules}
import pyrender.viewer
class Made:
    def __init__(self, *args, **kwargs):
        self.args = args
pyrender.viewer.Viewer = Made  # what pyrender.Viewer(...) makes: the module's Viewer, looked up when made
made = pyrender.Viewer("scene", run_in_thread=True)
found.update(real_module=pyrender.viewer.__file__.endswith("viewer.py"), made=type(made).__name__, args=made.args)
print(json.dumps(found))
"""


def test_pyrender_is_imported_without_its_viewer_and_the_viewer_still_works():
    done = subprocess.run([sys.executable, "-c", VIEWER], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"pyglet_after_import": False, "real_module": True, "made": "Made",
                                       "args": ["scene"]}
