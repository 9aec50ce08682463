"""A gallery tile's picture: a photo or a result's strip fitted to the tile, sharp at the screen's pixel ratio.

A 2x (HiDPI) screen drew the tiles' 264 x 88 pictures upscaled, soft; they are now made with the screen's device
pixels (528 x 176 there) and marked with that ratio, so Qt draws them at the tile's size, sharp.

A tile keeps its picture packed (:class:`Picture`: the fitted pixels as PNG, losslessly, without the tile's
transparent margins), and decodes it only while it is shown (:mod:`.tile_cache`): kept decoded, every tile held a
264 x 88 ARGB image (93 KB; 372 KB on a 2x screen): 3,000 tiles held 270 MB (1.06 GB at 2x) until the window closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QPainter

ICON = QSize(264, 88)  # a thumbnail strip: original | difference | key set; a waiting photo is centred
PNG_QUALITY = 80  # Qt's PNG "quality": zlib's fastest level, 3x faster than its default and 4 % larger


@dataclass(frozen=True, eq=False)
class Picture:
    """A tile's picture packed: ``data`` the PNG of its pixels (at most the tile's size in device pixels, not yet
    centred), ``ratio`` the screen's device pixels per pixel it was made for."""

    data: bytes
    ratio: float = 1.0


def fit_image(image: QImage, size: QSize = ICON, ratio: float = 1.0) -> QImage:
    """``image`` scaled to fit ``size`` (never up), centred on a transparent image of exactly ``size`` so the grid
    stays uniform; ``ratio``: the screen's device pixels per pixel (2 on a HiDPI screen: twice the pixels, drawn
    as sharp). Called in the worker threads (QImage and QPainter on a QImage are allowed there)."""
    ratio = max(1.0, float(ratio))
    scaled, size = fitted(image, size, ratio), device_size(ratio, size)
    out = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)
    p.drawImage((size.width() - scaled.width()) // 2, (size.height() - scaled.height()) // 2, scaled)
    p.end()
    out.setDevicePixelRatio(ratio)
    return out


def fitted(image: QImage, size: QSize = ICON, ratio: float = 1.0) -> QImage:
    """``image`` scaled to fit ``size`` in device pixels at ``ratio`` (never up), not centred."""
    size = device_size(ratio, size)
    if image.width() > size.width() or image.height() > size.height():
        return image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return image


def pack(image: QImage, ratio: float = 1.0) -> Picture:
    """``image`` fitted to the tile at ``ratio`` and packed (PNG: lossless, with its transparency). A worker thread
    packs its pictures: the GUI thread only decodes the shown ones (:func:`unpack`)."""
    ratio = max(1.0, float(ratio))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    fitted(image, ICON, ratio).save(buffer, "PNG", PNG_QUALITY)
    return Picture(bytes(data.data()), ratio)


def unpack(picture: Picture) -> QImage:
    """The tile's image of ``picture``, as :func:`fit_image` made it: the tile's size at its ratio (a null image
    where its data cannot be read)."""
    image = QImage.fromData(picture.data, "PNG")
    return image if image.isNull() else fit_image(image, ratio=picture.ratio)


def device_size(ratio: float, size: QSize = ICON) -> QSize:
    """``size`` in device pixels at ``ratio`` (never below 1)."""
    ratio = max(1.0, float(ratio))
    return QSize(round(size.width() * ratio), round(size.height() * ratio))


__all__ = ["ICON", "Picture", "device_size", "fit_image", "fitted", "pack", "unpack"]
