"""Locate files shipped in ``resources/`` (installed as the ``gradflip_desktop.resources`` package)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Path of a packaged resource file, e.g. ``resource_path("samples", "chelsea.png")``."""
    base = resources.files("gradflip_desktop.resources")
    return Path(str(base.joinpath(*parts)))


def sample_image_path() -> Path:
    """The bundled sample photo (Chelsea the cat, CC0) that the app opens on start."""
    return resource_path("samples", "chelsea.png")
