"""GradFlip: explain an image classifier's decision by the smallest pixel change that flips it."""

__version__ = "0.1.0"
