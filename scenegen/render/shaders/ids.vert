#version 330 core
// scenegen's flat passes (ground truth): the id + normals pass and the silhouette
// (amodal) pass. Camera-space (OpenGL) normal of the surface, interpolated like shading.
layout(location = 0) in vec3 position;
layout(location = NORMAL_LOC) in vec3 normal;
layout(location = INST_M_LOC) in mat4 inst_m;

uniform mat4 P;
uniform mat4 V;
uniform mat4 M;

out vec3 view_normal;

void main()
{
    // the arithmetic of pyrender's segmentation.vert
    mat4 light_matrix = P * V;
    gl_Position = light_matrix * M * inst_m * vec4(position, 1.0);
    // rotation times a uniform scale: the normal matrix is the matrix itself
    view_normal = mat3(V * M * inst_m) * normal;
}
