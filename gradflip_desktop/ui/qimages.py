"""numpy arrays <-> QImage (clipboard, drag and drop)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def qimage_to_array(image: QImage) -> np.ndarray:
    """QImage -> H x W x 4 uint8 RGBA (alpha is composited later by the core)."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
    return arr[:, : w * 4].reshape(h, w, 4).copy()


def array_to_qimage(rgb: np.ndarray) -> QImage:
    """H x W x 3 uint8 -> QImage (a deep copy, safe to keep)."""
    a = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
