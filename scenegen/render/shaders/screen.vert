#version 330 core
// scenegen: one triangle covering the viewport at the far plane (depth 1), for the
// full-screen passes (the environment behind the scene, ambient occlusion); no vertex
// buffer (positions from gl_VertexID)
void main()
{
    vec2 corner = vec2(float((gl_VertexID & 1) << 2) - 1.0, float((gl_VertexID & 2) << 1) - 1.0);
    gl_Position = vec4(corner, 1.0, 1.0);
}
