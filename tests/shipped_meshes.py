"""The shipped meshes (``assets/meshes``) and the script that makes them."""

import importlib.util

from scenegen import resources

MESHES = resources.assets_dir() / "meshes"


def make_meshes_module():
    """``assets/make_meshes.py`` imported as a module (the assets are not a package)."""
    spec = importlib.util.spec_from_file_location("make_meshes", resources.assets_dir() / "make_meshes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
