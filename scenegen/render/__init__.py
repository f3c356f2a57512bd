"""Rendering: a Scene in, a Frame of named image layers out. The raster backend draws with
pyrender on EGL, with its shaders and procedural textures."""
