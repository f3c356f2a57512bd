"""Everything that makes a Scene from a config, without OpenGL: the object dictionary and
its shapes, the placement grammar, directives, placement, the sampler, the space count and
ray-cast visibility."""
