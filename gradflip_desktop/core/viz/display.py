"""Pixels made ready for a screen: float [0, 1] to 8 bits, and fast block-mean downsampling.

Qt-free (numpy only). The GUI uses these on worker threads so that the GUI thread only paints.
"""

from __future__ import annotations

import numpy as np

# an image longer than this many times its width (or wider than its height) is drawn stretched across to this shape, in
# the window's views and the gallery's thumbnails alike: a 10,000 x 10 strip (1,024 x 1 at the working size) was a line
# under one screen pixel tall, and zooming in could not bring it out (the exported figure draws it 5 px tall)
MAX_SHOWN_ASPECT = 16.0


def display_uint8(pixels: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 for display, in float32 (4-5x faster than the float64 rounding of
    :func:`gradflip_desktop.core.images.to_uint8`, which defines what is saved; a few values per million
    land on the neighbouring level, invisible on screen)."""
    return np.clip(np.rint(np.asarray(pixels, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def box_downsample(image: np.ndarray, fx: int, fy: int | None = None) -> np.ndarray:
    """The mean of each ``fy`` x ``fx`` block of an H x W or H x W x C image; the last partial blocks
    are dropped (as pyqtgraph's automatic downsampling does).

    uint8 in, uint8 out (rounded, integer arithmetic: ~2 ms for a 1024 px RGB image, where pyqtgraph's
    float mean takes 15–30 ms); any other type gives float32.
    """
    fx = max(1, int(fx))
    fy = fx if fy is None else max(1, int(fy))
    if fx == 1 and fy == 1:
        return image
    h, w = image.shape[0] // fy * fy, image.shape[1] // fx * fx
    n = fx * fy
    integer = image.dtype == np.uint8
    acc_type = (np.uint16 if n <= 256 else np.uint32) if integer else np.float32
    acc = np.zeros((h // fy, w // fx) + image.shape[2:], dtype=acc_type)
    if acc.size == 0:
        return acc.astype(np.uint8 if integer else np.float32)
    for dy in range(fy):
        for dx in range(fx):
            acc += image[dy:h:fy, dx:w:fx]
    if integer:
        acc += n // 2
        acc //= n
        return acc.astype(np.uint8)
    acc *= np.float32(1.0 / n)
    return acc


__all__ = ["display_uint8", "box_downsample"]
