#version 330 core
// scenegen: a background photograph where no surface was drawn (the depth test passes
// only at the far plane), scaled to cover the image and centred, shown as it is (its
// sRGB values, no tone mapping).
uniform sampler2D photo;
uniform vec2 cover;          // the image's share of the photograph's width and height
uniform vec2 image_size;     // pixels

out vec4 frag_color;

void main()
{
    // top row of the photograph at the top of the image
    vec2 along = vec2(gl_FragCoord.x, image_size.y - gl_FragCoord.y) / image_size;
    vec2 uv = 0.5 + (along - 0.5) * cover;
    frag_color = vec4(texture(photo, uv).rgb, 1.0);
}
