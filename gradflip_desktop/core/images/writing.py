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


def sweep_stale(folder: str | os.PathLike) -> int:
    """Remove the staged files in ``folder`` that a killed run left (the writer process is gone and the file
    is over a minute old), and the staging folders a killed Export All left (alike; one without its writer's
    process id in its name: a day old); returns how many went. A live writer's files, other programs' files and files of
    another user's processes are never touched; any error leaves the file where it is."""
    import time  # noqa: PLC0415

    removed, now = 0, time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for e in entries:
        m = _STAGED.fullmatch(e.name)
        folder_of = _STAGING.fullmatch(e.name) if m is None else None
        if folder_of is not None:  # a staging folder: its copies, all of them, or none
            m = folder_of
        if m is None or m.group(1) is not None and int(m.group(1)) == os.getpid():
            continue
        try:
            age = now - e.stat(follow_symlinks=False).st_mtime
            kind_ok = e.is_dir(follow_symlinks=False) if folder_of is not None else e.is_file(follow_symlinks=False)
            if not kind_ok or age < STALE_AFTER_S:
                continue
            if m.group(1) is None:  # no writer named: a day old
                if age < STALE_AFTER_S_NO_PID:
                    continue
                raise ProcessLookupError
            if os.name == "posix":
                os.kill(int(m.group(1)), 0)  # signal 0 only asks: ProcessLookupError when the writer is gone
            elif age < STALE_AFTER_S_NO_PID:  # elsewhere os.kill would end the process: go by age alone
                continue
            else:
                raise ProcessLookupError
        except ProcessLookupError:
            try:
                if folder_of is not None:
                    import shutil  # noqa: PLC0415

                    shutil.rmtree(e.path)
                else:
                    os.unlink(e.path)
                removed += 1
            except OSError:
                pass
        except (OSError, OverflowError, ValueError):  # alive under another user, or not a process id
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
