#version 330 core
// Writes the unit camera-space normal, facing the camera, as colour (n + 1) / 2.
in vec3 view_normal;
out vec4 frag_color;

void main()
{
    vec3 n = normalize(view_normal);
    if (!gl_FrontFacing) {
        n = -n;
    }
    frag_color = vec4(n * 0.5 + 0.5, 1.0);
}
