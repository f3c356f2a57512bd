#version 330 core
// The id + normals pass: one fragment writes both targets, so ids, normals and depth
// always come from the same surface.
//   target 0: the flat id colour (instance id in red and green, part index in blue);
//   target 1: the unit camera-space normal, facing the camera, as (n + 1) / 2.
in vec3 view_normal;
uniform vec3 color;
layout(location = 0) out vec4 id_color;
layout(location = 1) out vec4 normal_color;

void main()
{
    vec3 n = normalize(view_normal);
    if (!gl_FrontFacing) {
        n = -n;
    }
    id_color = vec4(color, 1.0);
    normal_color = vec4(n * 0.5 + 0.5, 1.0);
}
