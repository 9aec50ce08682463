"""A gallery tile's picture: a photo or a result's strip fitted to the tile, sharp at the screen's pixel ratio.

A 2x (HiDPI) screen drew the tiles' 264 x 88 pictures upscaled, soft; they are now made with the screen's device
pixels (528 x 176 there) and marked with that ratio, so Qt draws them at the tile's size, sharp.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPainter

ICON = QSize(264, 88)  # a thumbnail strip: original | difference | key set; a waiting photo is centred


def fit_image(image: QImage, size: QSize = ICON, ratio: float = 1.0) -> QImage:
    """``image`` scaled to fit ``size`` (never up), centred on a transparent image of exactly ``size`` so the grid
    stays uniform; ``ratio``: the screen's device pixels per pixel (2 on a HiDPI screen: twice the pixels, drawn
    as sharp). Called in the worker threads (QImage and QPainter on a QImage are allowed there)."""
    ratio = max(1.0, float(ratio))
    size = device_size(ratio, size)
    scaled = image
    if image.width() > size.width() or image.height() > size.height():
        scaled = image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    out = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)
    p.drawImage((size.width() - scaled.width()) // 2, (size.height() - scaled.height()) // 2, scaled)
    p.end()
    out.setDevicePixelRatio(ratio)
    return out


def device_size(ratio: float, size: QSize = ICON) -> QSize:
    """``size`` in device pixels at ``ratio`` (never below 1)."""
    ratio = max(1.0, float(ratio))
    return QSize(round(size.width() * ratio), round(size.height() * ratio))


__all__ = ["ICON", "device_size", "fit_image"]
