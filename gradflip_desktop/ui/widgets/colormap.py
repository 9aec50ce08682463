"""pyqtgraph colour maps of the core's LUTs (the Difference view's colour bar)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

_COLORMAPS: dict[int, pg.ColorMap] = {}


def colormap_from_lut(lut: np.ndarray) -> pg.ColorMap:
    """A pyqtgraph ColorMap of an N x 3 float LUT (cached: the core's LUTs are module constants)."""
    key = id(lut)
    if key not in _COLORMAPS:
        a = np.asarray(lut, dtype=np.float32)
        _COLORMAPS[key] = pg.ColorMap(np.linspace(0.0, 1.0, len(a)), np.clip(np.rint(a * 255), 0, 255).astype(np.uint8))
    return _COLORMAPS[key]


__all__ = ["colormap_from_lut"]
