#version 330 core
// pyrender's mesh.vert (pyrender 0.1.45 / pyrender-maintained 1.0.1, MIT license,
// Copyright (c) 2019 Matthew Matl), but for the vertex normal, passed on without
// normalising it, and each directional light's shadow-map coordinates worked out here,
// per vertex, where pyrender's mesh.frag works them out per fragment: scenegen's colour
// pass draws with its own copy of pyrender's mesh shaders so that mesh.frag can take
// cheaper shadows. A directional light's shadow camera is orthographic (w = 1), so its
// coordinates are affine in the position and interpolate exactly as the position does.

// Vertex Attributes
layout(location = 0) in vec3 position;
#ifdef NORMAL_LOC
layout(location = NORMAL_LOC) in vec3 normal;
#endif
#ifdef TANGENT_LOC
layout(location = TANGENT_LOC) in vec4 tangent;
#endif
#ifdef TEXCOORD_0_LOC
layout(location = TEXCOORD_0_LOC) in vec2 texcoord_0;
#endif
#ifdef TEXCOORD_1_LOC
layout(location = TEXCOORD_1_LOC) in vec2 texcoord_1;
#endif
#ifdef COLOR_0_LOC
layout(location = COLOR_0_LOC) in vec4 color_0;
#endif
#ifdef JOINTS_0_LOC
layout(location = JOINTS_0_LOC) in vec4 joints_0;
#endif
#ifdef WEIGHTS_0_LOC
layout(location = WEIGHTS_0_LOC) in vec4 weights_0;
#endif
layout(location = INST_M_LOC) in mat4 inst_m;

// Uniforms
uniform mat4 M;
uniform mat4 V;
uniform mat4 P;
#ifdef DIRECTIONAL_LIGHT_SHADOWS
#if DIRECTIONAL_LIGHT_COUNT > 0
// world -> each light's shadow camera's clip space (P V of its orthographic camera)
uniform mat4 light_matrices[DIRECTIONAL_LIGHT_COUNT];
#endif
#endif

// Outputs
out vec3 frag_position;
#ifdef NORMAL_LOC
out vec3 frag_normal;
#endif
#ifdef HAS_NORMAL_TEX
#ifdef TANGENT_LOC
#ifdef NORMAL_LOC
out mat3 tbn;
#endif
#endif
#endif
#ifdef TEXCOORD_0_LOC
out vec2 uv_0;
#endif
#ifdef TEXCOORD_1_LOC
out vec2 uv_1;
#endif
#ifdef COLOR_0_LOC
out vec4 color_multiplier;
#endif
#ifdef DIRECTIONAL_LIGHT_SHADOWS
#if DIRECTIONAL_LIGHT_COUNT > 0
// each light's shadow-map coordinates (x, y, depth, all in 0..1 inside its view)
out vec3 shadow_coords[DIRECTIONAL_LIGHT_COUNT];
#endif
#endif


void main()
{
    gl_Position = P * V * M * inst_m * vec4(position, 1);
    frag_position = vec3(M * inst_m * vec4(position, 1.0));
#ifdef DIRECTIONAL_LIGHT_SHADOWS
#if DIRECTIONAL_LIGHT_COUNT > 0
    for (int i = 0; i < DIRECTIONAL_LIGHT_COUNT; i++) {
        shadow_coords[i] = (light_matrices[i] * vec4(frag_position, 1.0)).xyz * 0.5 + 0.5;
    }
#endif
#endif

    mat4 N = transpose(inverse(M * inst_m));

#ifdef NORMAL_LOC
    // not normalised here (mesh.frag normalises): a zero normal, at a cone's apex,
    // gives its vertex no weight in the interpolation
    frag_normal = vec3(N * vec4(normal, 0.0));
#endif

#ifdef HAS_NORMAL_TEX
#ifdef TANGENT_LOC
#ifdef NORMAL_LOC
    vec3 normal_w = normalize(vec3(N * vec4(normal, 0.0)));
    vec3 tangent_w = normalize(vec3(N * vec4(tangent.xyz, 0.0)));
    vec3 bitangent_w = cross(normal_w, tangent_w) * tangent.w;
    tbn = mat3(tangent_w, bitangent_w, normal_w);
#endif
#endif
#endif
#ifdef TEXCOORD_0_LOC
    uv_0 = texcoord_0;
#endif
#ifdef TEXCOORD_1_LOC
    uv_1 = texcoord_1;
#endif
#ifdef COLOR_0_LOC
    color_multiplier = color_0;
#endif
}
