"""Worst-case probe: search the scene space for the factor combinations where a vision
model fails, and report accuracy per level and per t-tuple with confidence intervals.

::

    import scenegen
    from scenegen.probe import run_probe

    cfg = scenegen.load_config(["width=128", "height=128", "probe.budget=200"])
    result = run_probe(cfg, model=my_classifier)   # (N, H, W, 3) uint8 -> N category names
    print(result.summary())

See :mod:`scenegen.probe.model` for what a model may return, :mod:`scenegen.probe.search`
for the strategies and :mod:`scenegen.probe.stats` for the statistics.
"""

from .calls import ModelError, ModelTimeoutError
from .model import ModelOutputError, load_model
from .run import ProbeResult, run_probe
from .scoring import box_iou, match_detections, target_crop

__all__ = ["run_probe", "ProbeResult", "load_model", "ModelOutputError", "ModelError", "ModelTimeoutError",
           "target_crop", "box_iou", "match_detections"]
