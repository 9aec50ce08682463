"""Writing images: atomic file writes (temporary file in the same folder, fsync, rename) and PNG encoding."""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from .pixels import to_uint8


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def stage_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a new temporary file next to ``path`` (fsynced) and return it; ``path`` is untouched.

    The caller renames it into place (``os.replace``) or removes it; on failure nothing is left behind.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".gradflip-", suffix=".part", dir=str(path.parent))
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        discard(Path(tmp))
        raise
    return Path(tmp)


def discard(tmp: Path) -> None:
    """Remove a staged temporary file, if it is still there."""
    try:
        os.unlink(tmp)
    except OSError:
        pass


def atomic_write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(str(path))
    tmp = stage_bytes(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise
    return path


def utf8_bytes(text: str) -> bytes:
    """``text`` encoded as UTF-8 for a text file (record, CSV, HTML). A file name that is not valid UTF-8
    (b"caf\\xe9.png": Python keeps such bytes as lone surrogates) gets U+FFFD instead of failing the write."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return re.sub("[\ud800-\udfff]", "\ufffd", text).encode("utf-8")


def png_bytes(pixels: np.ndarray) -> bytes:
    """Encode an H x W x 3 float [0, 1] or uint8 image (or H x W gray) as PNG."""
    arr = pixels if pixels.dtype == np.uint8 else to_uint8(pixels)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def save_png(path: str | os.PathLike, pixels: np.ndarray, overwrite: bool = False) -> Path:
    """Save an image as 8-bit PNG, atomically."""
    return atomic_write_bytes(path, png_bytes(pixels), overwrite=overwrite)
