"""Helpers shared by the GUI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# the first window imports torch and loads the model; later ones reuse the loaded model
STARTUP_TIMEOUT_MS = 90_000
RUN_TIMEOUT_MS = 90_000



def make_image_file(path: Path, width: int = 96, height: int = 64, seed: int = 0) -> Path:
    """A smooth colour pattern with some texture, saved as PNG/JPEG by extension."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([x / width, y / height, 0.5 + 0.4 * np.sin(x / 5.0) * np.cos(y / 7.0)], axis=2)
    img = np.clip(img + rng.normal(0, 0.03, img.shape), 0, 1)
    fmt = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    Image.fromarray((img * 255).round().astype(np.uint8)).save(path, format=fmt)
    return path
