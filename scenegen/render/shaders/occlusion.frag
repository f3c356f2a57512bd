#version 330 core
// scenegen: screen-space ambient occlusion from the id pass's depth, at half the
// image's resolution: one value per 2x2 block of pixels, from the surface at the block's
// first pixel: the share of the hemisphere of radius ao_radius above it that the
// full-resolution depth shows empty (1: open), and its view-space z. The kernel turns by
// a 2x2 ordered pattern of blocks, so any 2x2 window of texels (mesh.frag averages one)
// holds each turn once.
uniform sampler2D scene_depth;  // window depth, one texel per pixel
uniform mat4 P;                 // the id pass's projection
uniform mat4 inverse_P;
uniform float ao_radius;        // metres
uniform float ao_strength;      // occlusion of a fully occluded point, in [0, 1]

out vec4 result;

const int AO_SAMPLES = 12;
// points of the unit hemisphere about +z, nearer the centre than its rim (Fibonacci
// directions, lengths from 0.15 to 1 in a shuffled order)
const vec3 AO_KERNEL[AO_SAMPLES] = vec3[](
    vec3(0.0445, 0.0000, 0.1494),
    vec3(-0.1294, 0.1185, 0.3172),
    vec3(0.0462, -0.5260, 0.6842),
    vec3(0.1050, 0.1369, 0.1731),
    vec3(-0.4828, -0.0854, 0.3926),
    vec3(0.1231, -0.0783, 0.0940),
    vec3(-0.1013, 0.3770, 0.2013),
    vec3(-0.4273, -0.8227, 0.3750),
    vec3(0.2674, 0.0976, 0.0868),
    vec3(-0.6693, 0.2763, 0.1542),
    vec3(0.0854, -0.1825, 0.0254),
    vec3(0.1578, 0.5031, 0.0220)
);
const float BAYER[4] = float[](0.0, 2.0, 3.0, 1.0);

vec3 view_position(ivec2 pixel)
{
    ivec2 size = textureSize(scene_depth, 0);
    pixel = clamp(pixel, ivec2(0), size - 1);
    float depth = texelFetch(scene_depth, pixel, 0).r;
    vec4 ndc = vec4((vec2(pixel) + 0.5) / vec2(size) * 2.0 - 1.0, 2.0 * depth - 1.0, 1.0);
    vec4 view = inverse_P * ndc;
    return view.xyz / view.w;
}

float view_z(vec2 uv)
{
    float ndc = 2.0 * texture(scene_depth, uv).r - 1.0;
    return P[3][2] / (-ndc - P[2][2]);
}

void main()
{
    ivec2 block = ivec2(gl_FragCoord.xy);
    ivec2 pixel = 2 * block;
    if (texelFetch(scene_depth, pixel, 0).r >= 1.0) {  // nothing drawn
        result = vec4(1.0, -1.0e6, 0.0, 1.0);
        return;
    }
    vec3 p = view_position(pixel);
    // the surface's normal from its nearer neighbour along each axis (not across edges)
    vec3 right = view_position(pixel + ivec2(1, 0)) - p, left = p - view_position(pixel - ivec2(1, 0));
    vec3 up = view_position(pixel + ivec2(0, 1)) - p, down = p - view_position(pixel - ivec2(0, 1));
    vec3 dx = abs(right.z) < abs(left.z) ? right : left;
    vec3 dy = abs(up.z) < abs(down.z) ? up : down;
    vec3 n = normalize(cross(dx, dy));
    n = dot(n, p) > 0.0 ? -n : n;  // towards the camera
    float angle = 6.2831853 * (BAYER[(block.x & 1) + 2 * (block.y & 1)] + 0.5) / 4.0;
    vec3 r = vec3(cos(angle), sin(angle), 0.0);
    vec3 t = r - n * dot(r, n);
    t = dot(t, t) > 1e-6 ? normalize(t) : normalize(cross(n, vec3(0.0, 1.0, 0.0)));
    vec3 b = cross(n, t);
    float occluded = 0.0;
    for (int k = 0; k < AO_SAMPLES; k++) {
        vec3 s = p + ao_radius * (t * AO_KERNEL[k].x + b * AO_KERNEL[k].y + n * AO_KERNEL[k].z);
        vec4 c = P * vec4(s, 1.0);
        vec2 uv = c.xy / c.w * 0.5 + 0.5;
        if (uv.x < 0.0 || uv.y < 0.0 || uv.x > 1.0 || uv.y > 1.0) {
            continue;
        }
        float z = view_z(uv);
        float near = smoothstep(0.0, 1.0, ao_radius / max(abs(p.z - z), 1e-4));
        occluded += (z >= s.z + 0.02 * ao_radius ? 1.0 : 0.0) * near;
    }
    result = vec4(1.0 - ao_strength * occluded / float(AO_SAMPLES), p.z, 0.0, 1.0);
}
