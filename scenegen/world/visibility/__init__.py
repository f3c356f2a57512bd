"""Renderer-free visibility estimates by ray casting (trimesh; Embree when installed).

Used by the sampler to realize occlusion directives before anything is rendered: the
visible fraction of an object is estimated on a grid of pixel rays over its projected
bounding box, as (rays whose first hit is the object) / (rays that hit the object at
all), the same ratio the labels measure on the rendered masks.

Each object is a :class:`Body`: its canonical mesh, whose ray intersector (an Embree BVH)
is built once and cached on the mesh, placed by a yaw, a scale and a position. Rays are
moved into the body's frame instead of moving the mesh into the world, so trying an
occluder at many spots builds no new acceleration structure.

:mod:`.definition` holds the definition (:func:`visible_fraction`, :class:`Body`,
:class:`MeshRays`), :mod:`.batched` the occluder search's query of many candidate layouts
at once (:func:`fractions_in_band`), which returns the definition's very floats.
"""

from .batched import band_fractions, fraction_in_band, fractions_in_band, image_boxes, meets_box
from .definition import (
    GRID,
    Body,
    MeshRays,
    box_body,
    box_rays,
    mesh_rays,
    pixel_rays,
    visible_counts,
    visible_fraction,
)

__all__ = ["GRID", "Body", "MeshRays", "band_fractions", "box_body", "box_rays", "fraction_in_band", "fractions_in_band",
           "image_boxes", "meets_box", "mesh_rays", "pixel_rays", "visible_counts", "visible_fraction"]
