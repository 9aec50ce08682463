"""GradFlip: explain an image classifier's decision by the change that flips it (by default the smallest region whose detail removal alone flips it)."""

__version__ = "0.1.0"
