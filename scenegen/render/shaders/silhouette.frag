#version 330 core
// The amodal pass: each object writes its own bit (RGBA8, 32 bits a pixel) and the
// framebuffer ORs them together (glLogicOp(GL_OR), no depth test).
uniform vec4 color;
out vec4 frag_color;

void main()
{
    frag_color = color;
}
