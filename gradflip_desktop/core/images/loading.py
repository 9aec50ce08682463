"""Loading image files: header-only size limits, decoding with Pillow, the notes of what loading did.

Every failure becomes an :class:`ImageError` naming the file and the problem (see the package docstring and
docs/robustness.md). What the first bytes and headers say lives in :mod:`.headers`, pixel conversion in
:mod:`.pixels`, colour profiles in :mod:`.profiles`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import numbers
import os
import re
import stat
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, PngImagePlugin, UnidentifiedImageError

from ..errors import ImageError, one_line
from .headers import (ICON, MAX_SCANS, article, icon_frame_sizes, orientation, ppm_bits, scan_count, signature,
                      sniff_text, sniff_unidentified, tiff_kind)
from .pixels import DEFAULT_MAX_SIDE, ImageData, _held_in, _resize_to_working, _to_float, _working_size, scaled_note

DEFAULT_MAX_PIXELS = 200_000_000
MAX_FILE_BYTES = 2 * 1024**3

ImageFile.LOAD_TRUNCATED_IMAGES = False
# a PNG's text or colour-profile chunk may hold up to this much once decompressed (Pillow's default is 1 MB:
# photo editors' XMP metadata exceeds it, and such a photo, which viewers open, was refused as corrupt); the
# total over all chunks stays Pillow's MAX_TEXT_MEMORY (64 MB)
PngImagePlugin.MAX_TEXT_CHUNK = max(PngImagePlugin.MAX_TEXT_CHUNK, 16 * 1024 * 1024)

# Formats Pillow decodes by running an external program on the file: EPS/PostScript goes through Ghostscript,
# which executes the file's PostScript (it can loop forever, print to stdout and so break --json, and its
# -dSAFER sandbox has had escapes). GradFlip never opens them, whatever the file is named.
UNSAFE_FORMATS = frozenset({"EPS"})
WEB_ADDRESS = re.compile(r"(?i)^(https?|ftp):/+")  # one slash too: a Path folds "https://" into "https:/"


# EXIF orientation tag (0x0112) values other than 1, as the note says what was done to the stored pixels
_ORIENTATIONS = {2: "mirrored left to right", 3: "rotated 180°", 4: "mirrored top to bottom",
                 5: "mirrored along its diagonal", 6: "rotated 90° clockwise", 7: "mirrored along its anti-diagonal",
                 8: "rotated 90° counter-clockwise"}

def safe_formats() -> tuple[str, ...]:
    """The Pillow formats GradFlip opens: every registered one but :data:`UNSAFE_FORMATS` (for ``Image.open``'s
    ``formats=``; every ``Image.open`` in GradFlip passes it)."""
    Image.init()
    return tuple(f for f in Image.ID if f not in UNSAFE_FORMATS)


def _describe(path: Path) -> str:
    return f"“{one_line(path.name or str(path))}”"  # a newline in a name: "\n", so the error stays one line


# Pillow's own decompression-bomb limit is a process-wide global. GradFlip applies its own, configurable
# limit from the header, so the global is lifted while a load runs: reference-counted under a lock, so
# that concurrent loads (GUI worker + main thread) cannot leave it lifted for good.
_limit_lock = threading.Lock()
_limit_users = 0
_limit_saved: int | None = None


_warnings_lock = threading.Lock()  # load_image: recording warnings is process-wide


@contextlib.contextmanager
def _own_pixel_limit():
    global _limit_users, _limit_saved
    with _limit_lock:
        if _limit_users == 0:
            _limit_saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
        _limit_users += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0:
                Image.MAX_IMAGE_PIXELS = _limit_saved


def load_image(
    source: str | os.PathLike | bytes,
    max_side: int | None = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
) -> ImageData:
    """Load an image file (or its bytes) as :class:`ImageData`; raise :class:`ImageError` with a clear message.

    ``max_side``: long side of the working image in pixels (``None`` keeps the native size).
    ``max_pixels``: refuse images whose header declares more pixels than this.
    ``name``: the name used in messages and results for ``bytes`` sources (default "pasted image").

    Every failure is an :class:`ImageError` whose message names the file and the problem; no other
    exception escapes (``MemoryError`` included).
    """
    # "2" failed in Pillow ("could not be converted"), 1.5 blamed the file, NaN raised a bare ValueError, True was 1 px
    if max_side is not None and not _whole(max_side) or not _whole(max_pixels):
        raise ImageError("the working size and the pixel limit are whole numbers (below 2**53), "
                         f"not {max_side!r} / {max_pixels!r}")
    if max_side is not None and int(max_side) < 1:
        raise ImageError(f"the working size (max side) must be at least 1 pixel, not {max_side}")
    if int(max_pixels) < 1:
        raise ImageError(f"the pixel limit must be at least 1, not {max_pixels}")
    max_side = None if max_side is None else int(max_side)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = f"“{name}”" if name else "the pasted image"
        if not data:
            raise ImageError(f"{label} is empty (0 bytes)")
        src_name, src_path = name or "pasted image", None
        opener = io.BytesIO(data)
    else:
        try:
            path = Path(source)
        except TypeError:
            hint = (": load_image reads files and bytes; wrap an array or a Pillow image with "
                    "gradflip_desktop.core.images.from_array (run() takes a Pillow image as it is)"
                    if (hasattr(source, "shape") and hasattr(source, "dtype")) or isinstance(source, Image.Image) else "")
            raise ImageError(f"cannot load an image from a {type(source).__name__}{hint}") from None
        label = _describe(path)
        try:
            st = path.stat()
        except FileNotFoundError:
            if str(source) == "-":
                raise ImageError("reading an image from standard input ('-') is not supported; give the file's path") from None
            if WEB_ADDRESS.match(str(source)):  # "https://host/cat.jpg" as a path: say what it is, whole
                url = WEB_ADDRESS.sub(lambda m: m.group(1) + "://", str(source))
                raise ImageError(f"{url} is a web address: GradFlip works offline and does not download "
                                 "images; save the image and give the file's path") from None
            if path.is_symlink():  # `ls` lists it: "does not exist" read as wrong
                raise ImageError(f"{label} is a link to {os.readlink(path)}, which does not exist") from None
            raise ImageError(f"{label} does not exist") from None
        except OSError as exc:
            raise ImageError(f"cannot read {label}: {exc.strerror or exc}") from None
        if stat.S_ISDIR(st.st_mode):
            raise ImageError(f"{label} is a folder, not an image file")
        if not stat.S_ISREG(st.st_mode):
            raise ImageError(f"{label} is not a regular file (a device, pipe or socket), not an image file")
        nbytes = st.st_size
        if nbytes > MAX_FILE_BYTES:
            raise ImageError(f"{label} is {nbytes / 1e9:.1f} GB, larger than the 2 GB limit for image files")
        src_name, src_path = path.stem or "image", str(path)
        try:
            opener = open_regular(path)  # closed below; the file may have become a pipe since the stat above
        except OSError as exc:
            raise ImageError(f"cannot open {label}: {exc.strerror or exc}") from None
        if nbytes == 0 and _empty(opener, label):  # /proc and /sys files say 0 bytes and have content: read on
            raise ImageError(f"{label} is empty (0 bytes)")
    try:
        # Pillow's warnings ("Corrupt EXIF data. ...") become notes, not stderr. The warning filters are one
        # per process, so loads that record them take turns (batched folder runs load in several threads;
        # otherwise one image's warning could land in another's notes, or the filter stay changed)
        with _own_pixel_limit(), _warnings_lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = _load(opener, label, src_name, src_path, max_side, int(max_pixels))
        if src_path is not None:  # the file read (run() records its fingerprint only while it is still this one)
            read = os.fstat(opener.fileno())
            data.file_stat = (int(read.st_size), int(read.st_mtime_ns))
        for text in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
            data.warnings.append(f"while reading the file: {text}")
        return data
    except MemoryError:
        raise ImageError(f"{label} is too large to load with the memory available; lower the working size") from None
    finally:
        opener.close()


def _empty(fp, label: str) -> bool:
    """Whether a file whose size is 0 holds nothing: a /proc or /sys file does (said "is empty (0 bytes)" before;
    read, it is told for what it is, "is a text file, not an image"). Closes ``fp`` when it is empty or unreadable."""
    try:
        empty = not fp.read(1)
        fp.seek(0)
    except OSError as exc:
        fp.close()
        raise ImageError(f"cannot read {label}: {exc.strerror or exc}") from None
    if empty:
        fp.close()
    return empty


def open_regular(path: str | os.PathLike):
    """Open a file for binary reading without ever blocking: a named pipe (or a device) that took a photo's
    name after its folder was listed, or after it was explained, would block a plain ``open()`` until a writer
    came (a folder run or ``gradflip check`` then hung). ``OSError`` for anything that is not a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a device, pipe or socket)", os.fspath(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike) -> bytes:
    """A file's bytes, read with :func:`open_regular`: a named pipe that took the name of a record, a CSV or a
    check in a result folder made ``explain --resume`` and ``check`` wait for a writer for ever."""
    with open_regular(path) as fh:
        return fh.read()


def preview_note(im: Image.Image) -> str:
    """What a TIFF's first image is when it is not the photo: a camera RAW file (DNG: a TIFF whose raw sensor data
    Pillow does not decode) was explained from its 96 x 64 thumbnail with no note; a TIFF whose first image is marked
    as a reduced-resolution copy (NewSubfileType bit 0) holds the full one elsewhere. Empty otherwise."""
    tags = getattr(im, "tag_v2", {})
    kind, size = tags.get(254), f"{im.size[0]}×{im.size[1]}"
    reduced = isinstance(kind, int) and kind & 1
    if 50706 in tags:  # DNGVersion
        return (f"a camera RAW (DNG) file: only its embedded {size} {'preview' if reduced else 'image'} is read, not "
                "the raw sensor data; convert it to TIFF, PNG or JPEG in a raw converter to explain the photo itself")
    if reduced:
        return f"its first image is marked as a reduced-resolution copy ({size}) of one the file holds elsewhere: the copy is read"
    return ""


def _decode_error(label: str, exc: BaseException) -> ImageError:
    msg = str(exc) or type(exc).__name__
    if "truncated" in msg.lower() or isinstance(exc, EOFError) or "premature end" in msg.lower():
        # Pillow's "image file is truncated (33 bytes not processed)" counted what it could not use of its last read,
        # for a file missing two thirds of its image: said plainly
        if msg.lower().startswith("image file is truncated"):
            msg = "the file ends before the image data does"
        # (a whole file whose header claims a larger image reads the same to Pillow: both causes are named)
        return ImageError(f"{label} is truncated or incomplete (a broken download, or a header that claims more "
                          f"image than the file holds): {msg}")
    return ImageError(f"{label} is corrupt and could not be decoded: {msg}")


def _whole(value) -> bool:
    """A whole number (1024, 2e8, numpy's integers) below 2**53, not a bool, a string, a fraction, NaN or infinity
    (nor 10**400, which math.isfinite cannot take: an OverflowError escaped)."""
    try:
        return (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
                and float(value) == int(value) and abs(value) < 2**53)
    except OverflowError:
        return False


def _check_size(label: str, w: int, h: int, max_pixels: int) -> None:
    if w <= 0 or h <= 0:
        raise ImageError(f"{label} has an invalid size {w}×{h}")
    if w * h > max_pixels:
        declared, limit = _pixel_counts(w * h, max_pixels)
        raise ImageError(
            f"{label} declares {w}×{h} = {declared}, more than the limit of "
            f"{limit} ({_limit_remedy(max_pixels)})"
        )


def _limit_remedy(max_pixels: int) -> str:
    """The default limit: a possible decompression bomb, and how to raise the limit; a limit the caller chose
    (`--max-pixels 1000000`) was not told that it "raises the limit", which the caller had just lowered."""
    if max_pixels == DEFAULT_MAX_PIXELS:
        return "possible decompression bomb; the command line's --max-pixels raises the limit"
    return "the limit given, e.g. by --max-pixels"


def _pixel_counts(declared: int, limit: int) -> tuple[str, str]:
    """Both counts in whole megapixels when that still shows ``declared > limit``, else in exact pixels."""
    mp_declared, mp_limit = round(declared / 1e6), round(limit / 1e6)
    if limit >= 1_000_000 and mp_declared > mp_limit:
        return f"{mp_declared:,} megapixels", f"{mp_limit:,} megapixels"
    return f"{declared:,} pixels", f"{limit:,} pixels"


def _load(fp, label, src_name, src_path, max_side, max_pixels) -> ImageData:
    head = fp.read(1024)
    fp.seek(0)
    problem = sniff_text(head)
    if problem:
        raise ImageError(f"{label} {problem}")
    notes: list[str] = []
    if head[:4] == ICON:  # an icon: Pillow decodes its largest frame while opening it
        for fw, fh in icon_frame_sizes(fp):
            if fw * fh > max_pixels:
                _check_size(label, fw, fh, max_pixels)
    # -- header only: identify, check the declared size --------------------------------------------------
    try:
        im = Image.open(fp, formats=safe_formats())
        w, h = im.size
    except UnidentifiedImageError:
        kind = tiff_kind(fp) if signature(head) == "TIFF" else None
        if kind is not None:  # a whole TIFF of a kind Pillow does not decode: it was called "truncated or corrupt"
            raise ImageError(f"{label} is a TIFF image of {kind}, which GradFlip cannot read (Pillow does not decode "
                             "it); save it as an 8- or 16-bit PNG") from None
        raise ImageError(f"{label} {sniff_unidentified(head)}") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{label} was refused as a possible decompression bomb: {exc}") from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow plugins raise many kinds on broken headers
        detail = str(exc) or type(exc).__name__
        if head[:4] == ICON and ("truncated" in detail.lower() or isinstance(exc, EOFError)):  # decoded while opening
            raise _decode_error(label, exc) from None
        fmt = signature(head)
        if "decompressed data too large" in detail.lower():  # a metadata chunk over the limit above: not corrupt
            raise ImageError(f"{label} holds a metadata chunk (text or colour profile) of more than "
                             f"{PngImagePlugin.MAX_TEXT_CHUNK // 2**20} MB, more than GradFlip reads; save the image "
                             "again without its metadata") from None
        if fmt:
            raise ImageError(f"{label} starts like {article(fmt)} file but its header is truncated or corrupt: {detail}") from None
        raise ImageError(f"{label} has a corrupt header and could not be read: {detail}") from None
    _check_size(label, w, h, max_pixels)
    fmt = im.format
    if fmt in ("JPEG", "MPO") and im.info.get("progressive") and scan_count(fp) > MAX_SCANS:  # libjpeg-turbo's limit
        raise ImageError(f"{label} is a progressive JPEG of more than {MAX_SCANS} scans (a camera's has about 10): "
                         "decoding it would take minutes; save it again as a baseline JPEG or a PNG")
    orig_mode = im.mode
    # -- decode ------------------------------------------------------------------------------------------
    try:
        try:
            frames = int(getattr(im, "n_frames", 1) or 1)
        except Exception:  # noqa: BLE001 - counting frames reads the file; a broken tail is not fatal here
            frames = 1
        if frames > 1:
            notes.append(f"the file has {frames} frames; using the first")
            im.seek(0)
        if fmt == "TIFF" and (preview := preview_note(im)):
            notes.append(preview)
        if max_side and fmt == "JPEG":
            # decode big JPEGs at a reduced scale (bounded memory); still >= 2x the working size
            target = _working_size(w, h, max_side * 2)
            if target != (w, h):
                im.draft("RGB" if im.mode not in ("L", "CMYK") else im.mode, target)
        raw = [str(getattr(t, "args", "")) for t in (im.tile or [])[:1]]  # what the decoder reads, before load
        # Pillow turns a TIFF upright while loading it and drops the tag: read first, to be said as for a JPEG
        tiff_turn = _ORIENTATIONS.get(orientation(im)) if fmt == "TIFF" else None
        # Pillow keeps 8 of a PNG's (or TIFF's) 16 bits per colour: "RGB;16B"/"RGB;16L", not BMP's packed 5-6-5 "BGR;16"
        if raw and re.search(r";16[BLN]\b", raw[0]) and im.mode in ("RGB", "RGBA"):
            notes.append("16 bits per colour channel read as 8")
        elif bits := ppm_bits(im):
            notes.append(f"{bits} bits per colour channel read as 8")
        im.load()
    except ImageError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - OSError, EOFError, SyntaxError, struct.error, ...
        raise _decode_error(label, exc) from None
    _check_size(label, im.size[0], im.size[1], max_pixels)  # ICO/ICNS may pick a larger frame on load
    # the size as stored: the header's, unless loading changed it (ICO/ICNS); not the JPEG draft size
    stored = (w, h) if fmt == "JPEG" else im.size
    decoded = im.size
    held = _held_in(im, "I") if im.mode == "I" else None  # from the file: exif_transpose returns a copy without its format
    # Pillow opens a TIFF of signed 8-bit samples as mode L, its bytes as they are: -1 read as white, -128 as 128
    sample_format = im.tag_v2.get(339) if im.mode == "L" and im.format == "TIFF" else None
    signed8 = sample_format == 2 or (isinstance(sample_format, tuple) and 2 in sample_format)
    try:
        turn = _ORIENTATIONS.get(im.getexif().get(0x0112)) or tiff_turn  # said: the arrays are not the file's layout
        im = ImageOps.exif_transpose(im) or im
        if turn:
            notes.append(f"turned upright by its EXIF orientation ({turn})")
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken EXIF block must not stop loading
        notes.append(f"ignored an unreadable EXIF orientation ({exc or type(exc).__name__})")
    rotated = im.size != decoded  # EXIF 5-8 swap width and height
    original_size = (stored[1], stored[0]) if rotated else stored
    if signed8:  # by their values, as a signed 16-bit TIFF's are (scaled to [0, 1] with a note when negative)
        im, held = Image.fromarray(np.asarray(im).view(np.int8).astype(np.int32), "I"), "signed 8-bit"
    try:
        pixels = _to_float(im, label, notes, max_side, held)
    except (ImageError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001
        raise ImageError(f"{label} (pixel mode {im.mode}) could not be converted to RGB: {exc}") from None
    pixels = _resize_to_working(pixels, max_side)
    note = scaled_note(original_size, pixels.shape, max_side)
    if note:
        notes.append(note)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    if not np.all(np.isfinite(pixels)):  # cannot happen after the checks above; never pass NaN on
        raise ImageError(f"{label} contains non-finite pixel values (NaN or infinity)")
    return ImageData(
        pixels=np.ascontiguousarray(pixels, dtype=np.float32),
        name=src_name,
        source=src_path,
        original_size=(int(original_size[0]), int(original_size[1])),
        mode=orig_mode,
        format=fmt,
        warnings=notes,
    )
