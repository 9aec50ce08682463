"""Qt-free core of GradFlip: images, models, the explanation algorithm and export.

Nothing under ``gradflip_desktop.core`` imports Qt; the package is importable without a display.
"""
