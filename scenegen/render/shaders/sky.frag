#version 330 core
// scenegen: the environment map seen through the camera where no surface was drawn
// (the depth test passes only at the far plane), shaded as mesh.frag shades surfaces:
// exposure, Khronos PBR Neutral tone mapping, the sRGB curve.
uniform sampler2D env_map;
uniform float env_rotation;    // radians the map is turned by about world z
uniform float env_scale;       // texel radiance times this = scene radiance
uniform float exposure;        // linear multiplier before tone mapping
uniform mat3 world_from_camera;  // rotation, OpenCV camera axes (x right, y down, z forward)
uniform vec4 intrinsics;       // fx, fy, cx, cy in pixels, OpenCV pixel centres
uniform float image_height;    // pixels

out vec4 frag_color;

const float PI = 3.141592653589793;

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

void main()
{
    // the OpenCV pixel coordinates of this fragment's sample (pixel centres at integers)
    vec2 pixel = vec2(gl_FragCoord.x - 0.5, image_height - gl_FragCoord.y - 0.5);
    vec3 ray = world_from_camera * vec3((pixel - intrinsics.zw) / intrinsics.xy, 1.0);
    vec3 d = normalize(ray);
    float c = cos(env_rotation);
    float s = sin(env_rotation);
    vec3 m = vec3(c * d.x + s * d.y, -s * d.x + c * d.y, d.z);
    vec2 uv = vec2(atan(m.y, m.x) / (2.0 * PI), acos(clamp(m.z, -1.0, 1.0)) / PI);
    vec3 radiance = textureLod(env_map, uv, 0.0).rgb * env_scale;
    frag_color = vec4(linear_to_srgb(tone_map(radiance * exposure)), 1.0);
}
