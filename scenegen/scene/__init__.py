"""The data contracts between the stages: the Scene (every sampled value), the Frame (a
rendered scene's named image layers), geometry helpers and the factor definitions. Imports
nothing of scenegen but its errors."""
