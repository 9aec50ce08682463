"""Image loading, conversion and saving (package: loading.py, headers.py, pixels.py, profiles.py, writing.py).

Every image becomes an :class:`ImageData`: float32 RGB in [0, 1], shape H x W x 3, at its *working
resolution* (native size, long side capped at ``max_side``, default 1024 px).

Conversions (documented in the README):
- EXIF orientation is applied; embedded ICC profiles are converted to sRGB (when Pillow has LittleCMS).
- 16-bit integer images are scaled by 1/65535 (by 1/4095 when no value passes 4095, 12-bit data such as
  X-rays, with a note), 32-bit integer images as 8-bit data when their values fit 0–255 (with a note), else as
  16-bit data within 0–65535 and min–max scaled outside it, float
  images are used as they are when they lie in [0, 1] and min–max scaled (with a warning) otherwise.
  Nothing is clipped silently.
- Palette, CMYK, YCbCr, LAB, HSV and 1-bit images are converted to RGB; grayscale is replicated to 3
  channels; alpha (LA, RGBA, PA, palette transparency) is composited on a white background.
- Multi-frame files (GIF, TIFF, WebP, APNG) use the first frame, with a warning.
- Images with more than ``max_pixels`` pixels (default 200 megapixels) are refused from their header,
  before any pixel is decoded (decompression-bomb guard).
- Images larger than the working size are reduced while decoding (JPEG draft mode) or box-reduced in
  8 bits before the float copy, so that peak memory stays bounded for large photos.
- Anything else (folders, pipes, empty, truncated or corrupt files, documents named like images, SVG,
  non-finite float pixels, EPS/PostScript, which Pillow renders by running Ghostscript on the file's
  program) raises :class:`ImageError` with a message naming the file and the problem;
  no other exception escapes. See docs/robustness.md.

Files: ``loading`` (sniffing, decoding, limits), ``pixels`` (ImageData, float conversion, ICC, alpha,
resize), ``writing`` (atomic write, PNG). Import from this package; the split is an implementation detail.
"""

from __future__ import annotations

from ..errors import ImageError
from . import loading, pixels, writing
from .loading import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, MAX_FILE_BYTES, load_image, safe_formats
from .pixels import BACKGROUND, ImageData, from_array, quantize, to_uint8
from .writing import atomic_write_bytes, discard, png_bytes, save_png, stage_bytes, utf8_bytes

__all__ = [
    "ImageError",
    "ImageData",
    "load_image",
    "safe_formats",
    "from_array",
    "to_uint8",
    "quantize",
    "atomic_write_bytes",
    "stage_bytes",
    "discard",
    "utf8_bytes",
    "png_bytes",
    "save_png",
    "DEFAULT_MAX_SIDE",
    "DEFAULT_MAX_PIXELS",
    "MAX_FILE_BYTES",
    "BACKGROUND",
    "loading",
    "pixels",
    "writing",
]
