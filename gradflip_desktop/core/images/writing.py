"""Writing images: atomic file writes (temporary file in the same folder, fsync, rename) and PNG encoding."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from .pixels import to_uint8


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(str(path))
    fd, tmp = tempfile.mkstemp(prefix=".gradflip-", suffix=".part", dir=str(path.parent))
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def png_bytes(pixels: np.ndarray) -> bytes:
    """Encode an H x W x 3 float [0, 1] or uint8 image (or H x W gray) as PNG."""
    arr = pixels if pixels.dtype == np.uint8 else to_uint8(pixels)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def save_png(path: str | os.PathLike, pixels: np.ndarray, overwrite: bool = False) -> Path:
    """Save an image as 8-bit PNG, atomically."""
    return atomic_write_bytes(path, png_bytes(pixels), overwrite=overwrite)
