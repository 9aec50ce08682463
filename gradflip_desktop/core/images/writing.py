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
    fd, tmp = tempfile.mkstemp(prefix=f"{STAGED_PREFIX}{os.getpid()}-", suffix=".part", dir=str(path.parent))
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


STAGED_PREFIX = ".gradflip-"  # staged files are ".gradflip-<pid>-<random>.part"
_STAGED = re.compile(r"\.gradflip-(\d+)-[^/]*\.part")
# Export All's staging folder (core/dataset/copy.py): ".gradflip-export-<pid>-<random>"; a killed app's stayed for
# good (13-21 MB). Before the pid was in its name: ".gradflip-export-<random>", judged by age alone
_STAGING = re.compile(r"\.gradflip-export-(?:(\d+)-)?\w+")
STALE_AFTER_S = 60.0  # a staged file this old whose writer is gone is left over from a killed run
STALE_AFTER_S_NO_PID = 86400.0  # where a process cannot be asked whether it lives (not POSIX): a day old


def left_behind(pid: int | None, age: float) -> bool:
    """Whether a file or folder named after process ``pid`` (``None``: named after none), ``age`` seconds old, is what
    a killed process left: over :data:`STALE_AFTER_S` old and its process gone (asked with signal 0 on POSIX, where
    another user's process counts as alive); where the process cannot be asked (elsewhere, or none is named), a day
    old. Never this process's own. Shared by the staged files, Export All's staging folders and the app's scratch
    folders (:mod:`..dataset.scratch`)."""
    if pid == os.getpid() or age < STALE_AFTER_S:
        return False
    if pid is None or os.name != "posix":  # os.kill would end the process there: go by age alone
        return age >= STALE_AFTER_S_NO_PID
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # alive under another user, or not a process id
        return False
    return False


def sweep_stale(folder: str | os.PathLike) -> int:
    """Remove the staged files in ``folder`` that a killed run left, and the staging folders a killed Export All
    left (:func:`left_behind`); returns how many went. A live writer's files, other programs' files and files of
    another user's processes are never touched; any error leaves the file where it is."""
    import shutil  # noqa: PLC0415
    import time  # noqa: PLC0415

    removed, now = 0, time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for e in entries:
        staged = _STAGED.fullmatch(e.name)
        m = staged or _STAGING.fullmatch(e.name)  # a staging folder: its copies, all of them, or none
        if m is None:
            continue
        try:
            if not (e.is_file(follow_symlinks=False) if staged else e.is_dir(follow_symlinks=False)):
                continue
            if left_behind(None if m.group(1) is None else int(m.group(1)), now - e.stat(follow_symlinks=False).st_mtime):
                os.unlink(e.path) if staged else shutil.rmtree(e.path)
                removed += 1
        except (OSError, ValueError):
            continue
    return removed


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
