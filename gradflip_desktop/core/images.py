"""Image loading, conversion and saving.

Every image becomes an :class:`ImageData`: float32 RGB in [0, 1], shape H x W x 3, at its *working
resolution* (native size, long side capped at ``max_side``, default 1024 px).

Conversions (documented in the README):
- EXIF orientation is applied; embedded ICC profiles are converted to sRGB (when Pillow has LittleCMS).
- 16-bit integer images are scaled by 1/65535, 32-bit integer images by their format's range, float
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
  non-finite float pixels) raises :class:`ImageError` with a message naming the file and the problem;
  no other exception escapes. See docs/robustness.md.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

DEFAULT_MAX_SIDE = 1024
DEFAULT_MAX_PIXELS = 200_000_000
MAX_FILE_BYTES = 2 * 1024**3
BACKGROUND = (1.0, 1.0, 1.0)  # alpha is composited on white

ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageError(Exception):
    """An image could not be loaded or saved; the message is meant for the user."""


@dataclass
class ImageData:
    """An image ready for the classifier.

    ``pixels``: float32, H x W x 3, RGB in [0, 1], at working resolution.
    ``original_size``: (width, height) of the file as stored (after EXIF rotation).
    """

    pixels: np.ndarray
    name: str = "image"
    source: str | None = None
    original_size: tuple[int, int] = (0, 0)
    mode: str = "RGB"
    format: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) at working resolution."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])

    @property
    def scaled(self) -> bool:
        return self.size != tuple(self.original_size)

    def to_dict(self) -> dict:
        """The ``image`` entry of an exported record: name, source, sizes and loading notes (plain types)."""
        return {
            "name": self.name,
            "source": self.source,
            "original_size": list(self.original_size),
            "working_size": list(self.size),
            "warnings": list(self.warnings),
        }


def _describe(path: Path) -> str:
    return f"“{path.name or str(path)}”"


# Pillow's own decompression-bomb limit is a process-wide global. GradFlip applies its own, configurable
# limit from the header, so the global is lifted while a load runs: reference-counted under a lock, so
# that concurrent loads (GUI worker + main thread) cannot leave it lifted for good.
_limit_lock = threading.Lock()
_limit_users = 0
_limit_saved: int | None = None


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
    if max_side is not None and int(max_side) < 1:
        raise ImageError(f"the working size (max side) must be at least 1 pixel, not {max_side}")
    if int(max_pixels) < 1:
        raise ImageError(f"the pixel limit must be at least 1, not {max_pixels}")
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
            raise ImageError(f"cannot load an image from a {type(source).__name__}") from None
        label = _describe(path)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise ImageError(f"{label} does not exist") from None
        except OSError as exc:
            raise ImageError(f"cannot read {label}: {exc.strerror or exc}") from None
        if stat.S_ISDIR(st.st_mode):
            raise ImageError(f"{label} is a folder, not an image file")
        if not stat.S_ISREG(st.st_mode):
            raise ImageError(f"{label} is not a regular file (a device, pipe or socket), not an image file")
        nbytes = st.st_size
        if nbytes == 0:
            raise ImageError(f"{label} is empty (0 bytes)")
        if nbytes > MAX_FILE_BYTES:
            raise ImageError(f"{label} is {nbytes / 1e9:.1f} GB, larger than the 2 GB limit for image files")
        src_name, src_path = path.stem or "image", str(path)
        try:
            opener = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise ImageError(f"cannot open {label}: {exc.strerror or exc}") from None
    try:
        with _own_pixel_limit():
            return _load(opener, label, src_name, src_path, max_side, int(max_pixels))
    except MemoryError:
        raise ImageError(f"{label} is too large to load with the memory available; lower the working size") from None
    finally:
        opener.close()


# Signatures of raster formats: a file that starts like one but that Pillow cannot open is broken.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"qoif", "QOI"),
)


def _signature(head: bytes) -> str | None:
    for sig, fmt in _SIGNATURES:
        if head.startswith(sig):
            return fmt
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    return None


def _sniff_text(head: bytes) -> str | None:
    """Problems recognisable from the first bytes before Pillow looks (documents named like images)."""
    h = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if h.startswith(b"<svg") or b"<svg" in h[:1024]:
        return "is an SVG vector image; GradFlip needs a raster image (export it to PNG first)"
    if h.startswith(b"<!doctype html") or h.startswith(b"<html") or b"<html" in h[:512]:
        return "is an HTML page, not an image (a failed download?)"
    if h.startswith(b"%pdf"):
        return "is a PDF document, not an image"
    if h.startswith(b"<?xml"):
        return "is an XML document, not an image"
    return None


def _sniff_unidentified(head: bytes) -> str:
    """Why Pillow could not identify a file, as specifically as the first bytes allow."""
    fmt = _signature(head)
    if fmt:
        return f"starts like a {fmt} file but its header is truncated or corrupt"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"heim", b"heis"):
        return "is a HEIC/HEIF image, which this installation cannot read (convert it to JPEG or PNG)"
    if head.startswith(b"PK\x03\x04"):
        return "is a ZIP archive, not an image"
    if head.startswith(b"\x1f\x8b"):
        return "is a gzip archive, not an image"
    if head.startswith(b"%!ps"):
        return "is a PostScript document, not an image"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\t\r\n\f" for c in text):
        return "is a text file, not an image"
    return "is not an image format GradFlip can read (unknown or corrupt file header)"


def _decode_error(label: str, exc: BaseException) -> ImageError:
    msg = str(exc) or type(exc).__name__
    if "truncated" in msg.lower() or isinstance(exc, EOFError) or "premature end" in msg.lower():
        return ImageError(f"{label} is truncated or incomplete (broken download?): {msg}")
    return ImageError(f"{label} is corrupt and could not be decoded: {msg}")


def _check_size(label: str, w: int, h: int, max_pixels: int) -> None:
    if w <= 0 or h <= 0:
        raise ImageError(f"{label} has an invalid size {w}×{h}")
    if w * h > max_pixels:
        raise ImageError(
            f"{label} declares {w}×{h} = {w * h / 1e6:,.0f} megapixels, more than the limit of "
            f"{max_pixels / 1e6:,.0f} megapixels (possible decompression bomb; the limit is configurable)"
        )


def _load(fp, label, src_name, src_path, max_side, max_pixels) -> ImageData:
    head = fp.read(1024)
    fp.seek(0)
    problem = _sniff_text(head)
    if problem:
        raise ImageError(f"{label} {problem}")
    notes: list[str] = []
    # -- header only: identify, check the declared size --------------------------------------------------
    try:
        im = Image.open(fp)
        w, h = im.size
    except UnidentifiedImageError:
        raise ImageError(f"{label} {_sniff_unidentified(head)}") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{label} was refused as a possible decompression bomb: {exc}") from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow plugins raise many kinds on broken headers
        detail = str(exc) or type(exc).__name__
        fmt = _signature(head)
        if fmt:
            raise ImageError(f"{label} starts like a {fmt} file but its header is truncated or corrupt: {detail}") from None
        raise ImageError(f"{label} has a corrupt header and could not be read: {detail}") from None
    _check_size(label, w, h, max_pixels)
    fmt = im.format
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
        if max_side and fmt == "JPEG":
            # decode big JPEGs at a reduced scale (bounded memory); still >= 2x the working size
            target = _working_size(w, h, max_side * 2)
            if target != (w, h):
                im.draft("RGB" if im.mode not in ("L", "CMYK") else im.mode, target)
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
    try:
        im = ImageOps.exif_transpose(im) or im
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken EXIF block must not stop loading
        notes.append(f"ignored an unreadable EXIF orientation ({exc or type(exc).__name__})")
    rotated = im.size != decoded  # EXIF 5-8 swap width and height
    original_size = (stored[1], stored[0]) if rotated else stored
    try:
        pixels = _to_float(im, label, notes, max_side)
    except (ImageError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001
        raise ImageError(f"{label} (pixel mode {im.mode}) could not be converted to RGB: {exc}") from None
    pixels = _resize_to_working(pixels, max_side)
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


def _working_size(w: int, h: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(w, h) <= max_side:
        return w, h
    s = max_side / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def _icc_to_srgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """Convert RGB(A)/CMYK images with an embedded non-sRGB ICC profile to sRGB (perceptual intent)."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK"):
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = (ImageCms.getProfileDescription(src) or "").strip() or "unnamed"
        if "srgb" in desc.lower() and im.mode != "CMYK":
            return im  # already sRGB
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode=out_mode)
        if converted is None:  # pragma: no cover - only with inPlace=True
            return im
        notes.append(f"converted from the embedded colour profile “{desc}” to sRGB")
        return converted
    except Exception as exc:  # noqa: BLE001 - a broken profile must not stop loading
        notes.append(f"ignored an unreadable or unsuitable embedded colour profile ({exc or type(exc).__name__})")
        return im


def _composite(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    bg = np.asarray(BACKGROUND, dtype=np.float32)[: rgb.shape[-1]]
    a = alpha[..., None]
    return rgb * a + bg * (1.0 - a)


def _reduce_factor(w: int, h: int, max_side: int | None) -> int:
    """Integer box-reduction that keeps the image at least twice the working size (bounded memory)."""
    if not max_side:
        return 1
    return max(1, max(w, h) // (2 * max_side))


def _to_float(im: Image.Image, label: str, notes: list[str], max_side: int | None) -> np.ndarray:
    """Any Pillow image -> float32 H x W x C (C = 1 gray or 3 RGB) in [0, 1]; alpha composited on white.

    Images much larger than the working size are box-reduced (``Image.reduce``) in 8 bits first, so
    that the float copy stays small.
    """
    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;16") or mode.startswith("I;32") or mode.startswith("F;"):
        return _scale_high_depth(np.asarray(im), mode, label, notes)
    if mode == "CMYK":
        im = _icc_to_srgb(im, notes)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode == "PA":
        im = im.convert("RGBA")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        im = im.convert("RGB")
    elif im.mode == "La":
        im = im.convert("LA")
    elif im.mode == "RGBa":
        im = im.convert("RGBA")
    elif im.mode == "L" and "transparency" in im.info:
        im = im.convert("LA")
    elif im.mode == "RGB" and "transparency" in im.info:
        im = im.convert("RGBA")
    elif im.mode not in ("L", "LA", "RGB", "RGBA"):
        try:
            im = im.convert("RGBA")
        except Exception as exc:  # noqa: BLE001
            raise ImageError(f"{label} uses the pixel mode {mode}, which cannot be converted to RGB: {exc}") from None
    if im.mode in ("RGB", "RGBA"):
        im = _icc_to_srgb(im, notes)
    if im.mode in ("L", "RGB"):
        f = _reduce_factor(*im.size, max_side)
        if f > 1:
            im = im.reduce(f)
    arr = np.asarray(im, dtype=np.float32)
    arr /= np.float32(255.0)
    if im.mode == "L":
        return arr[..., None]
    if im.mode == "LA":
        if arr[..., 1].min() < 1.0:
            notes.append("transparent areas were composited on white")
        return _composite(arr[..., :1], arr[..., 1])
    if im.mode == "RGBA":
        if arr[..., 3].min() < 1.0:
            notes.append("transparent areas were composited on white")
        return _composite(arr[..., :3], arr[..., 3])
    return arr[..., :3]


def _scale_high_depth(arr: np.ndarray, mode: str, label: str, notes: list[str]) -> np.ndarray:
    """16/32-bit integer and float images -> float32 in [0, 1] (scaled, never clipped)."""
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        a = arr.astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise ImageError(f"{label} contains non-finite pixel values (NaN or infinity)")
        lo, hi = float(a.min()), float(a.max())
        if lo >= 0.0 and hi <= 1.0:
            out = a
        else:
            span = hi - lo
            out = (a - lo) / np.float32(span) if span > 0 else np.zeros_like(a)
            notes.append(f"float pixel values in [{lo:.4g}, {hi:.4g}] were scaled to [0, 1]")
    else:
        a = arr.astype(np.float64)
        lo, hi = float(a.min()), float(a.max())
        if mode.startswith("I;16"):
            out = a / 65535.0
        elif lo >= 0 and hi <= 65535:
            out = a / 65535.0  # 16-bit data held as 32-bit integers (e.g. 16-bit PNG/TIFF)
        else:
            span = hi - lo
            out = (a - lo) / span if span > 0 else np.zeros_like(a)
            notes.append(f"integer pixel values in [{lo:.0f}, {hi:.0f}] were scaled to [0, 1]")
    out = np.clip(out, 0.0, 1.0).astype(np.float32)  # guards float rounding only; ranges were scaled above
    return out[..., None] if out.ndim == 2 else np.ascontiguousarray(out[..., :3])


def _resize_to_working(pixels: np.ndarray, max_side: int | None) -> np.ndarray:
    """Resize H x W x C float32 so that the long side is at most ``max_side`` (Lanczos, clipped to [0, 1])."""
    h, w = pixels.shape[:2]
    tw, th = _working_size(w, h, max_side)
    if (tw, th) == (w, h):
        return np.ascontiguousarray(pixels, dtype=np.float32)
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(pixels[..., c], dtype=np.float32)).resize(
                (tw, th), Image.Resampling.LANCZOS
            )
        )
        for c in range(pixels.shape[2])
    ]
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0).astype(np.float32)


def from_array(array: np.ndarray, name: str = "image", max_side: int | None = DEFAULT_MAX_SIDE) -> ImageData:
    """Wrap a numpy image (H x W, H x W x 1/3/4; uint8, uint16 or float) as :class:`ImageData`."""
    a = np.asarray(array)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)) or min(a.shape[:2]) < 1:
        raise ImageError(f"{name}: expected an H×W or H×W×(1, 3, 4) array, got shape {a.shape}")
    if a.dtype == np.uint8:
        f = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        f = a.astype(np.float32) / 65535.0
    elif a.dtype == np.bool_:
        f = a.astype(np.float32)
    else:
        f = a.astype(np.float32)
        if not np.all(np.isfinite(f)):
            raise ImageError(f"{name} contains non-finite pixel values (NaN or infinity)")
        if f.min() < 0 or f.max() > 1:
            raise ImageError(f"{name}: float pixel values must lie in [0, 1]")
    if f.ndim == 2:
        f = f[..., None]
    if f.shape[2] == 1:
        f = np.repeat(f, 3, axis=2)
    elif f.shape[2] == 4:
        f = _composite(f[..., :3], f[..., 3])
    h, w = f.shape[:2]
    return ImageData(pixels=_resize_to_working(f, max_side), name=name, original_size=(w, h), mode="array")


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 by rounding, exactly as images are saved."""
    return np.clip(np.rint(np.asarray(pixels, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def quantize(pixels: np.ndarray) -> np.ndarray:
    """Float image -> the float image that an 8-bit save and reload gives back."""
    return to_uint8(pixels).astype(np.float32) / np.float32(255.0)


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
