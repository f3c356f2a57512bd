#version 330 core
// pyrender's mesh.frag (pyrender 0.1.45 / pyrender-maintained 1.0.1, MIT license,
// Copyright (c) 2019 Matthew Matl) with these changes, for scenegen's colour pass:
// directional shadow maps are sampled with the GPU's depth comparison
// (sampler2DShadow, bilinear: a 2x2 percentage-closer filter per lookup), four
// lookups a fragment, in place of pyrender's 36 separate fetches and compares, at
// shadow-map coordinates mesh.vert works out per vertex (pyrender: per fragment).
// Directional lights only (scenegen's scenes have no point or spot lights), and their
// number is compiled in (DIRECTIONAL_LIGHT_COUNT, one program per count) where pyrender
// loops over a uniform count: llvmpipe runs a loop of a uniform count with per-lane
// indices into the light array (a gather per uniform read), and its loops over zero
// point and spot lights still cost; measured, the colour pass takes about half as long.
// Costs measured on Mesa llvmpipe: see benchmarks/bench_pipeline.py.
// The normal map's bitangent follows the texture's t axis where coordinates are mirrored.
// And, where pyrender has "// TODO" (defined ENVIRONMENT_LIGHT, scenegen's realistic
// look): image-based lighting from an equirectangular environment map (diffuse from 9
// spherical-harmonic coefficients, specular from the map's mip chain by roughness with
// Karis's analytic split-sum terms), then exposure, the Khronos PBR Neutral tone
// mapping and the exact sRGB curve in place of pow(1/2.2).
///////////////////////////////////////////////////////////////////////////////
// Structs
///////////////////////////////////////////////////////////////////////////////

struct DirectionalLight {
    vec3 color;
    float intensity;
    vec3 direction;

    #ifdef DIRECTIONAL_LIGHT_SHADOWS
    sampler2DShadow shadow_map;
    #endif
};

struct Material {
    vec3 emissive_factor;

#ifdef USE_METALLIC_MATERIAL
    vec4 base_color_factor;
    float metallic_factor;
    float roughness_factor;
#endif

#ifdef USE_GLOSSY_MATERIAL
    vec4 diffuse_factor;
    vec3 specular_factor;
    float glossiness_factor;
#endif

#ifdef HAS_NORMAL_TEX
    sampler2D normal_texture;
#endif
#ifdef HAS_OCCLUSION_TEX
    sampler2D occlusion_texture;
#endif
#ifdef HAS_EMISSIVE_TEX
    sampler2D emissive_texture;
#endif
#ifdef HAS_BASE_COLOR_TEX
    sampler2D base_color_texture;
#endif
#ifdef HAS_METALLIC_ROUGHNESS_TEX
    sampler2D metallic_roughness_texture;
#endif
#ifdef HAS_DIFFUSE_TEX
    sampler2D diffuse_texture;
#endif
#ifdef HAS_SPECULAR_GLOSSINESS_TEX
    sampler2D specular_glossiness;
#endif
};

struct PBRInfo {
    float nl;
    float nv;
    float nh;
    float lh;
    float vh;
    float roughness;
    float metallic;
    vec3 f0;
    vec3 c_diff;
};

///////////////////////////////////////////////////////////////////////////////
// Uniforms
///////////////////////////////////////////////////////////////////////////////
uniform Material material;
uniform DirectionalLight directional_lights[MAX_DIRECTIONAL_LIGHTS];
uniform vec3 cam_pos;
uniform vec3 ambient_light;

#ifdef ENVIRONMENT_LIGHT
// irradiance E(n) = sum_k env_sh[k] Y_k(n) in the map's frame (coefficients already
// convolved with the clamped cosine and scaled); the map's mip chain for reflections
uniform vec3 env_sh[9];
uniform sampler2D env_map;
uniform float env_rotation;   // radians the map is turned by about world z
uniform float env_scale;      // radiance of the map's texels times this = scene radiance
uniform float env_max_lod;    // last mip level
uniform float env_texel;      // angle of a level-0 texel, radians
uniform float exposure;       // linear multiplier before tone mapping
// screen-space ambient occlusion (occlusion.frag, drawn before this pass): per pixel
// the share of ambient light not occluded and the view-space z
uniform sampler2D occlusion;
uniform float occlusion_on;   // 0: no occlusion pass this frame
uniform mat4 V;
#endif

///////////////////////////////////////////////////////////////////////////////
// Inputs
///////////////////////////////////////////////////////////////////////////////

in vec3 frag_position;
#ifdef NORMAL_LOC
in vec3 frag_normal;
#endif
#ifdef HAS_NORMAL_TEX
#ifdef TANGENT_LOC
#ifdef NORMAL_LOC
in mat3 tbn;
#endif
#endif
#endif
#ifdef TEXCOORD_0_LOC
in vec2 uv_0;
#endif
#ifdef TEXCOORD_1_LOC
in vec2 uv_1;
#endif
#ifdef COLOR_0_LOC
in vec4 color_multiplier;
#endif
#ifdef DIRECTIONAL_LIGHT_SHADOWS
#if DIRECTIONAL_LIGHT_COUNT > 0
in vec3 shadow_coords[DIRECTIONAL_LIGHT_COUNT];  // mesh.vert's: x, y, depth in the light's map
#endif
#endif

///////////////////////////////////////////////////////////////////////////////
// OUTPUTS
///////////////////////////////////////////////////////////////////////////////

out vec4 frag_color;

///////////////////////////////////////////////////////////////////////////////
// Constants
///////////////////////////////////////////////////////////////////////////////
const float PI = 3.141592653589793;
const float min_roughness = 0.04;

///////////////////////////////////////////////////////////////////////////////
// Utility Functions
///////////////////////////////////////////////////////////////////////////////
vec4 srgb_to_linear(vec4 srgb)
{
#ifndef SRGB_CORRECTED
    // Fast Approximation
    //vec3 linOut = pow(srgbIn.xyz,vec3(2.2));
    //
    vec3 b_less = step(vec3(0.04045),srgb.xyz);
    vec3 lin_out = mix( srgb.xyz/vec3(12.92), pow((srgb.xyz+vec3(0.055))/vec3(1.055),vec3(2.4)), b_less );
    return vec4(lin_out, srgb.w);
#else
    return srgb;
#endif
}

// Normal computation
vec3 get_normal()
{
#ifdef HAS_NORMAL_TEX

#ifndef HAS_TANGENTS
    vec3 pos_dx = dFdx(frag_position);
    vec3 pos_dy = dFdy(frag_position);
    vec3 tex_dx = dFdx(vec3(uv_0, 0.0));
    vec3 tex_dy = dFdy(vec3(uv_0, 0.0));
    vec3 t = (tex_dy.t * pos_dx - tex_dx.t * pos_dy) / (tex_dx.s * tex_dy.t - tex_dy.s * tex_dx.t);

#ifdef NORMAL_LOC
    vec3 ng = normalize(frag_normal);
#else
    vec3 = cross(pos_dx, pos_dy);
#endif

    t = normalize(t - ng * dot(ng, t));
    vec3 b = normalize(cross(ng, t));
    // scenegen: the bitangent along dP/dt, as the map's green (+Y) means, also where the
    // texture coordinates are mirrored (box projection mirrors them on some faces)
    vec3 dp_dt = (tex_dx.s * pos_dy - tex_dy.s * pos_dx) / (tex_dx.s * tex_dy.t - tex_dy.s * tex_dx.t);
    b = dot(b, dp_dt) < 0.0 ? -b : b;
    mat3 tbn_n = mat3(t, b, ng);

#else

    mat3 tbn_n = tbn;

#endif

    vec3 n = texture(material.normal_texture, uv_0).rgb;
    n = normalize(tbn_n * ((2.0 * n - 1.0) * vec3(1.0, 1.0, 1.0)));
    return n; // TODO NORMAL MAPPING

#else

#ifdef NORMAL_LOC
    return frag_normal;
#else
    return normalize(cam_pos - frag_position);
#endif

#endif
}

// Fresnel
vec3 specular_reflection(PBRInfo info)
{
     vec3 res = info.f0 + (1.0 - info.f0) * pow(clamp(1.0 - info.vh, 0.0, 1.0), 5.0);
     return res;
}

// Smith
float geometric_occlusion(PBRInfo info)
{
    float r = info.roughness + 1.0;
    float k = r * r  / 8.0;
    float g1 = info.nv / (info.nv * (1.0 - k) + k);
    float g2 = info.nl / (info.nl * (1.0 - k) + k);
    //float k = info.roughness * sqrt(2.0 / PI);
    //float g1 = info.lh / (info.lh * (1.0 - k) + k);
    //float g2 = info.nh / (info.nh * (1.0 - k) + k);
    return g1 * g2;
}

float microfacet_distribution(PBRInfo info)
{
    float a = info.roughness * info.roughness;
    float a2 = a * a;
    float nh2 = info.nh * info.nh;

    float denom = (nh2 * (a2 - 1.0) + 1.0);
    return a2 / (PI * denom * denom);
}

vec3 compute_brdf(vec3 n, vec3 v, vec3 l,
                  float roughness, float metalness,
                  vec3 f0, vec3 c_diff, vec3 albedo,
                  vec3 radiance)
{
        vec3 h = normalize(l+v);
        float nl = clamp(dot(n, l), 0.001, 1.0);
        float nv = clamp(abs(dot(n, v)), 0.001, 1.0);
        float nh = clamp(dot(n, h), 0.0, 1.0);
        float lh = clamp(dot(l, h), 0.0, 1.0);
        float vh = clamp(dot(v, h), 0.0, 1.0);

        PBRInfo info = PBRInfo(nl, nv, nh, lh, vh, roughness, metalness, f0, c_diff);

        // Compute PBR terms
        vec3 F = specular_reflection(info);
        float G = geometric_occlusion(info);
        float D = microfacet_distribution(info);

        // Compute BRDF
        vec3 diffuse_contrib = (1.0 - F) * c_diff / PI;
        vec3 spec_contrib = F * G * D / (4.0 * nl * nv + 0.001);

        vec3 color = nl * radiance * (diffuse_contrib + spec_contrib);
        return color;
}

#ifdef ENVIRONMENT_LIGHT
vec3 to_map_frame(vec3 d)
{
    float c = cos(env_rotation);
    float s = sin(env_rotation);
    return vec3(c * d.x + s * d.y, -s * d.x + c * d.y, d.z);
}

vec3 environment_irradiance(vec3 n)
{
    vec3 d = to_map_frame(n);
    return max(env_sh[0] * 0.282095
        + env_sh[1] * (0.488603 * d.y) + env_sh[2] * (0.488603 * d.z) + env_sh[3] * (0.488603 * d.x)
        + env_sh[4] * (1.092548 * d.x * d.y) + env_sh[5] * (1.092548 * d.y * d.z)
        + env_sh[6] * (0.315392 * (3.0 * d.z * d.z - 1.0)) + env_sh[7] * (1.092548 * d.x * d.z)
        + env_sh[8] * (0.546274 * (d.x * d.x - d.y * d.y)), vec3(0.0));
}

// radiance of the map towards world direction d, blurred over a GGX lobe of the
// (perceptual) roughness: the mip level whose texels span the lobe
vec3 environment_radiance(vec3 d, float roughness)
{
    vec3 m = to_map_frame(normalize(d));
    float u = atan(m.y, m.x) / (2.0 * PI);
    float v = acos(clamp(m.z, -1.0, 1.0)) / PI;
    float lobe = 2.0 * roughness * roughness;
    float lod = clamp(log2(max(lobe, env_texel) / env_texel), 0.0, env_max_lod);
    return textureLod(env_map, vec2(u, v), lod).rgb * env_scale;
}

// the ambient-occlusion pass's value at this pixel (the pass has one texel per 2x2
// pixels), averaged over the 2x2 texels around it (each turn of its kernel once) among
// those at this fragment's depth
float ambient_occlusion(vec3 world_position)
{
    if (occlusion_on == 0.0) {
        return 1.0;
    }
    float z = (V * vec4(world_position, 1.0)).z;
    ivec2 size = textureSize(occlusion, 0);
    ivec2 corner = max(ivec2(gl_FragCoord.xy) - ivec2(1), ivec2(0)) / 2;
    float total = 0.0;
    float count = 0.0;
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            vec2 texel = texelFetch(occlusion, clamp(corner + ivec2(i, j), ivec2(0), size - 1), 0).rg;
            float same = abs(texel.g - z) < 0.05 * abs(z) + 0.02 ? 1.0 : 0.0;
            total += same * texel.r;
            count += same;
        }
    }
    return count > 0.0 ? total / count : 1.0;
}

// the split-sum's scale and bias of f0 (Karis, "Physically Based Shading on Mobile")
vec2 env_brdf(float roughness, float nv)
{
    const vec4 c0 = vec4(-1.0, -0.0275, -0.572, 0.022);
    const vec4 c1 = vec4(1.0, 0.0425, 1.04, -0.04);
    vec4 r = roughness * c0 + c1;
    float a004 = min(r.x * r.x, exp2(-9.28 * nv)) * r.x + r.y;
    return vec2(-1.04, 1.04) * a004 + r.zw;
}

// Khronos PBR Neutral tone mapping: linear in the shadows and mid-tones, highlights
// compressed towards white (keeps base colours recognisable)
vec3 tone_map(vec3 color)
{
    const float start = 0.8 - 0.04;
    const float desaturation = 0.15;
    float x = min(color.r, min(color.g, color.b));
    float offset = x < 0.08 ? x - 6.25 * x * x : 0.04;
    color -= offset;
    float peak = max(color.r, max(color.g, color.b));
    if (peak < start) {
        return color;
    }
    const float d = 1.0 - start;
    float new_peak = 1.0 - d * d / (peak + d - start);
    color *= new_peak / peak;
    float g = 1.0 - 1.0 / (desaturation * (peak - new_peak) + 1.0);
    return mix(color, vec3(new_peak), g);
}

vec3 linear_to_srgb(vec3 c)
{
    c = clamp(c, 0.0, 1.0);
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(vec3(0.0031308), c));
}
#endif

// light_coords: this fragment in the light's shadow map (x, y, depth; 0..1 inside it)
float shadow_calc(vec3 light_coords, sampler2DShadow shadow_map, float nl)
{
    if (light_coords.z > 1.0) {
        return 0.0;
    }
    float bias = max(0.001 * (1.0 - nl), 0.0001);
    float compare = light_coords.z - bias;
    // each lookup: the bilinear blend of 4 texel comparisons (1 = lit); 4 lookups half
    // a texel around the point: a 3x3-texel percentage-closer filter (environment
    // light: 1.5 texels around it, 16 texels of a 5x5 area, softer edges)
#ifdef ENVIRONMENT_LIGHT
    vec2 texel = 1.5 / vec2(textureSize(shadow_map, 0));  // softer: a 5x5-texel filter
#else
    vec2 texel = 0.5 / vec2(textureSize(shadow_map, 0));
#endif
    float lit = texture(shadow_map, vec3(light_coords.xy + vec2(-texel.x, -texel.y), compare))
              + texture(shadow_map, vec3(light_coords.xy + vec2(texel.x, -texel.y), compare))
              + texture(shadow_map, vec3(light_coords.xy + vec2(-texel.x, texel.y), compare))
              + texture(shadow_map, vec3(light_coords.xy + vec2(texel.x, texel.y), compare));
    return 1.0 - 0.25 * lit;
}

///////////////////////////////////////////////////////////////////////////////
// MAIN
///////////////////////////////////////////////////////////////////////////////
void main()
{

    vec4 color = vec4(vec3(0.0), 1.0);
///////////////////////////////////////////////////////////////////////////////
// Handle Metallic Materials
///////////////////////////////////////////////////////////////////////////////
#ifdef USE_METALLIC_MATERIAL

    // Compute metallic/roughness factors
    float roughness = material.roughness_factor;
    float metallic = material.metallic_factor;
#ifdef HAS_METALLIC_ROUGHNESS_TEX
    vec2 mr = texture(material.metallic_roughness_texture, uv_0).rg;
    roughness = roughness * mr.r;
    metallic = metallic * mr.g;
#endif
    roughness = clamp(roughness, min_roughness, 1.0);
    metallic = clamp(metallic, 0.0, 1.0);
    // In convention, material roughness is perceputal roughness ^ 2
    float alpha_roughness = roughness * roughness;

    // Compute albedo
    vec4 base_color = material.base_color_factor;
#ifdef HAS_BASE_COLOR_TEX
    base_color = base_color * srgb_to_linear(texture(material.base_color_texture, uv_0));
#endif

    // Compute specular and diffuse colors
    vec3 dialectric_spec = vec3(min_roughness);
    vec3 c_diff = mix(vec3(0.0), base_color.rgb * (1 - min_roughness), 1.0 - metallic);
    vec3 f0 = mix(dialectric_spec, base_color.rgb, metallic);

    // Compute normal
    vec3 n = normalize(get_normal());

    // Loop over lights
    for (int i = 0; i < DIRECTIONAL_LIGHT_COUNT; i++) {
        vec3 direction = directional_lights[i].direction;
        vec3 v = normalize(cam_pos - frag_position); // Vector towards camera
        vec3 l = normalize(-1.0 * direction);   // Vector towards light

        // Compute attenuation and radiance
        float attenuation = directional_lights[i].intensity;
        vec3 radiance = attenuation * directional_lights[i].color;

        // Compute outbound color
        vec3 res = compute_brdf(n, v, l, roughness, metallic,
                                f0, c_diff, base_color.rgb, radiance);

        // Compute shadow
#ifdef DIRECTIONAL_LIGHT_SHADOWS
        float nl = clamp(dot(n,l), 0.0, 1.0);
        float shadow = shadow_calc(
            shadow_coords[i],
            directional_lights[i].shadow_map,
            nl
        );
        res = res * (1.0 - shadow);
#endif
        color.xyz += res;
    }

    color.xyz += base_color.xyz * ambient_light;

#ifdef ENVIRONMENT_LIGHT
    vec3 v_env = normalize(cam_pos - frag_position);
    float nv_env = clamp(abs(dot(n, v_env)), 0.001, 1.0);
    vec2 split_sum = env_brdf(roughness, nv_env);
    color.xyz += ambient_occlusion(frag_position) * (c_diff * environment_irradiance(n) / PI
               + environment_radiance(reflect(-v_env, n), roughness) * (f0 * split_sum.x + split_sum.y));
#endif

    // Apply occlusion
#ifdef HAS_OCCLUSION_TEX
    float ao = texture(material.occlusion_texture, uv_0).r;
    color.xyz *= ao;
#endif

    // Apply emissive map
    vec3 emissive = material.emissive_factor;
#ifdef HAS_EMISSIVE_TEX
    emissive *= srgb_to_linear(texture(material.emissive_texture, uv_0)).rgb;
#endif
    color.xyz += emissive * material.emissive_factor;

#ifdef COLOR_0_LOC
    color *= color_multiplier;
#endif

#ifdef ENVIRONMENT_LIGHT
    frag_color = vec4(linear_to_srgb(tone_map(color.xyz * exposure)), clamp(color.a * base_color.a, 0.0, 1.0));
#else
    frag_color = clamp(vec4(pow(color.xyz, vec3(1.0/2.2)), color.a * base_color.a), 0.0, 1.0);
#endif

#else
    // TODO GLOSSY MATERIAL BRDF
#endif

///////////////////////////////////////////////////////////////////////////////
// Handle Glossy Materials
///////////////////////////////////////////////////////////////////////////////

}
