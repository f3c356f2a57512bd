"""Labels of a rendered scene: per-object boxes, masks, visibility, poses, keypoints and
factor levels, and the scene graph."""
