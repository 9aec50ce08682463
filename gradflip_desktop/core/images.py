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
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings as _warnings
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


def _describe(path: Path) -> str:
    return f"“{path.name}”"


def load_image(
    source: str | os.PathLike | bytes,
    max_side: int | None = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
) -> ImageData:
    """Load an image file (or its bytes) as :class:`ImageData`; raise :class:`ImageError` with a clear message.

    ``max_side``: long side of the working image in pixels (``None`` keeps the native size).
    ``max_pixels``: refuse images whose header declares more pixels than this.
    """
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        label = name or "pasted image"
        if not data:
            raise ImageError(f"{label}: the data is empty")
        src_name, src_path = label, None
        opener = io.BytesIO(data)
    else:
        path = Path(source)
        label = _describe(path)
        if not path.exists():
            raise ImageError(f"{label} does not exist")
        if path.is_dir():
            raise ImageError(f"{label} is a folder, not an image file")
        try:
            nbytes = path.stat().st_size
        except OSError as exc:
            raise ImageError(f"cannot read {label}: {exc.strerror or exc}") from None
        if nbytes == 0:
            raise ImageError(f"{label} is empty (0 bytes)")
        if nbytes > MAX_FILE_BYTES:
            raise ImageError(f"{label} is {nbytes / 1e9:.1f} GB, larger than the 2 GB limit for image files")
        src_name, src_path = path.stem, str(path)
        try:
            opener = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise ImageError(f"cannot open {label}: {exc.strerror or exc}") from None
    try:
        return _load(opener, label, src_name, src_path, max_side, max_pixels)
    finally:
        opener.close()


def _sniff_text(head: bytes) -> str | None:
    h = head.lstrip().lower()
    if h.startswith(b"<?xml") or h.startswith(b"<svg") or b"<svg" in h[:512]:
        return "is an SVG vector image; GradFlip needs a raster image (export it to PNG first)"
    if h.startswith(b"%pdf"):
        return "is a PDF document, not an image"
    if h.startswith(b"<!doctype html") or h.startswith(b"<html"):
        return "is an HTML page, not an image (a failed download?)"
    return None


def _load(fp, label, src_name, src_path, max_side, max_pixels) -> ImageData:
    head = fp.read(1024)
    fp.seek(0)
    problem = _sniff_text(head)
    if problem:
        raise ImageError(f"{label} {problem}")
    notes: list[str] = []
    with _warnings.catch_warnings():
        _warnings.simplefilter("error", Image.DecompressionBombWarning)
        old_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # we apply our own limit from the header below
        try:
            try:
                im = Image.open(fp)
            except UnidentifiedImageError:
                raise ImageError(
                    f"{label} is not an image format GradFlip can read (unknown or corrupt file header)"
                ) from None
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ImageError(f"{label} was refused as a possible decompression bomb: {exc}") from None
            except (OSError, ValueError, SyntaxError, EOFError) as exc:
                raise ImageError(f"{label} could not be read: {exc}") from None
            w, h = im.size
            if w <= 0 or h <= 0:
                raise ImageError(f"{label} has an invalid size {w}×{h}")
            if w * h > max_pixels:
                raise ImageError(
                    f"{label} declares {w}×{h} = {w * h / 1e6:.0f} megapixels, more than the limit of "
                    f"{max_pixels / 1e6:.0f} megapixels (possible decompression bomb; the limit is configurable)"
                )
            frames = getattr(im, "n_frames", 1)
            if frames > 1:
                notes.append(f"the file has {frames} frames; using the first")
            fmt = im.format
            orig_mode = im.mode
            if max_side and im.format == "JPEG":
                # decode big JPEGs at a reduced scale (bounded memory); still >= 2x the working size
                target = _working_size(w, h, max_side * 2)
                if target != (w, h):
                    im.draft("RGB" if im.mode not in ("L", "CMYK") else im.mode, target)
            try:
                im.load()
                im = ImageOps.exif_transpose(im) or im
            except (OSError, ValueError, SyntaxError, EOFError, MemoryError, Image.DecompressionBombError) as exc:
                msg = str(exc) or type(exc).__name__
                if "truncated" in msg.lower() or isinstance(exc, EOFError):
                    raise ImageError(f"{label} is truncated or incomplete (broken download?): {msg}") from None
                raise ImageError(f"{label} is corrupt and could not be decoded: {msg}") from None
            except Exception as exc:  # noqa: BLE001 - Pillow plugins raise many kinds
                raise ImageError(f"{label} could not be decoded: {exc}") from None
            original_size = im.size
            pixels = _to_rgb_float(im, label, notes)
        finally:
            Image.MAX_IMAGE_PIXELS = old_limit
    pixels = _resize_to_working(pixels, max_side)
    return ImageData(
        pixels=pixels,
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
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = ImageCms.getProfileDescription(src).strip()
        if "srgb" in desc.lower() and im.mode != "CMYK":
            return im
        out_mode = "RGBA" if im.mode in ("RGBA", "LA") else "RGB"
        in_mode = {"LA": "RGBA", "L": "RGB"}.get(im.mode, im.mode)
        if in_mode != im.mode:
            return im  # grayscale profiles: keep the gray values
        converted = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode=out_mode)
        notes.append(f"converted from the embedded colour profile “{desc}” to sRGB")
        return converted
    except Exception as exc:  # noqa: BLE001 - a broken profile must not stop loading
        notes.append(f"ignored an unreadable embedded colour profile ({exc})")
        return im


def _composite(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    bg = np.asarray(BACKGROUND, dtype=np.float32)
    a = alpha[..., None]
    return rgb * a + bg * (1.0 - a)


def _to_rgb_float(im: Image.Image, label: str, notes: list[str]) -> np.ndarray:
    """Any Pillow image -> float32 H x W x 3 in [0, 1]."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F") or mode.startswith("I;16"):
        arr = np.asarray(im)
        return _scale_high_depth(arr, mode, label, notes)
    im = _icc_to_srgb(im, notes)
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        im = im.convert("RGB")
    elif mode == "La":
        im = im.convert("LA")
    elif mode == "RGBa":
        im = im.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        try:
            im = im.convert("RGBA")
        except Exception as exc:  # noqa: BLE001
            raise ImageError(f"{label} uses the pixel mode {mode}, which cannot be converted to RGB: {exc}") from None
    arr = np.asarray(im, dtype=np.float32) / 255.0
    if im.mode == "L":
        return np.repeat(arr[..., None], 3, axis=2)
    if im.mode == "LA":
        gray = _composite(arr[..., :1], arr[..., 1])
        notes.append("transparent areas were composited on white")
        return np.repeat(gray, 3, axis=2) if gray.shape[2] == 1 else gray
    if im.mode == "RGBA":
        if arr[..., 3].min() < 1.0:
            notes.append("transparent areas were composited on white")
        return _composite(arr[..., :3], arr[..., 3])
    return np.ascontiguousarray(arr[..., :3])


def _scale_high_depth(arr: np.ndarray, mode: str, label: str, notes: list[str]) -> np.ndarray:
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
            out = (a - lo) / span if span > 0 else np.zeros_like(a)
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
        out = out.astype(np.float32)
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=2)
    return np.ascontiguousarray(out[..., :3], dtype=np.float32)


def _resize_to_working(pixels: np.ndarray, max_side: int | None) -> np.ndarray:
    h, w = pixels.shape[:2]
    tw, th = _working_size(w, h, max_side)
    if (tw, th) == (w, h):
        return np.ascontiguousarray(pixels, dtype=np.float32)
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(pixels[..., c])).resize((tw, th), Image.Resampling.LANCZOS))
        for c in range(3)
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
