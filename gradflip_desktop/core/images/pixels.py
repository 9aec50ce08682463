"""Pixel conversion: :class:`ImageData`, any Pillow mode -> float32 RGB in [0, 1] (ICC to sRGB, alpha on
white, 16/32-bit and float scaling), resizing to the working size, numpy arrays in and 8-bit out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ..errors import ImageError
from .profiles import to_srgb

DEFAULT_MAX_SIDE = 1024  # long side of the working image, pixels
BACKGROUND = (1.0, 1.0, 1.0)  # alpha is composited on white
ROUNDING = 1e-6  # float pixels this far outside [0, 1] are rounding (a value one float32 step above 1), clipped


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
    file_stat: tuple[int, int] | None = field(default=None, repr=False, compare=False)  # (bytes, mtime_ns) read

    def __repr__(self) -> str:
        """One line: the dataclass's own printed the pixel array (50 lines per photo in a notebook or a log)."""
        (w, h), (ow, oh) = self.size, self.original_size
        return (f"ImageData(name={self.name!r}, pixels {h}×{w}×{self.pixels.shape[2] if self.pixels.ndim == 3 else 1} "
                f"{self.pixels.dtype}, original_size=({ow}, {oh}), source={self.source!r}, mode={self.mode!r}, "
                f"format={self.format!r}, warnings={self.warnings!r})")

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


def _working_size(w: int, h: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(w, h) <= max_side:
        return w, h
    s = max_side / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def _composite(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    bg = np.asarray(BACKGROUND, dtype=np.float32)[: rgb.shape[-1]]
    a = alpha[..., None]
    return rgb * a + bg * (1.0 - a)


def _reduce_factor(w: int, h: int, max_side: int | None) -> int:
    """Integer box-reduction that keeps the image at least twice the working size (bounded memory)."""
    if not max_side:
        return 1
    return max(1, max(w, h) // (2 * max_side))


def _to_float(im: Image.Image, label: str, notes: list[str], max_side: int | None, held: str | None = None) -> np.ndarray:
    """Any Pillow image -> float32 H x W x C (C = 1 gray or 3 RGB) in [0, 1]; alpha composited on white.

    Images much larger than the working size are box-reduced (``Image.reduce``) in 8 bits first, so
    that the float copy stays small.
    """
    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;16") or mode.startswith("I;32") or mode.startswith("F;"):
        extrema, held = None, held or _held_in(im, mode)  # from the file (load_image: before EXIF's copy forgot its format)
        im = to_srgb(im, notes)  # a profile is only said to be left unapplied
        if "transparency" in im.info and not mode.startswith("F"):
            im, extrema = _white_where_transparent(im, notes, held)
        f = _reduce_factor(*im.size, max_side)
        if f > 1:  # box-reduced first too (in float32: Pillow's integer reduce overflows), the scale set by the
            # whole image's range, not the averaged one's: a 196-megapixel 16-bit grey PNG took 6.7 GB, 8 bits 0.9 GB
            extrema = extrema or im.getextrema()
            im = (im if mode == "F" else im.convert("F")).reduce(f)
        return _scale_high_depth(np.asarray(im), mode, label, notes, extrema, held)
    if mode == "CMYK":
        told = len(notes)
        im = to_srgb(im, notes)
        if len(notes) == told:  # no profile to convert with: Pillow's plain formula, said as the ICC way is
            notes.append("converted from CMYK to RGB without a colour profile")
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
    if im.mode in ("RGB", "RGBA", "L", "LA"):
        im = to_srgb(im, notes)
    f = _reduce_factor(*im.size, max_side)
    if f > 1 and im.mode in ("L", "RGB"):
        im = im.reduce(f)
    elif f > 1:  # LA, RGBA: box-reduced premultiplied by alpha (the average of the image flattened on white), in 8 bits
        return _reduced_on_white(im, f, notes)
    arr = np.asarray(im, dtype=np.float32)
    arr /= np.float32(255.0)
    if im.mode == "L":
        return arr[..., None]
    # flattened onto white as an image editor would, to whole 8-bit levels (the modes hold 8 bits): left between
    # levels, a semi-transparent edge differed from the 8-bit adjusted PNG by up to half a level before the
    # explanation changed anything, and the smallest change's map and key pixels showed that band (_resize_to_working)
    if im.mode == "LA":
        if arr[..., 1].min() < 1.0:
            notes.append(transparency_note(float(arr[..., 1].max())))
        return quantize(_composite(arr[..., :1], arr[..., 1]))
    if im.mode == "RGBA":
        if arr[..., 3].min() < 1.0:
            notes.append(transparency_note(float(arr[..., 3].max())))
        return quantize(_composite(arr[..., :3], arr[..., 3]))
    return arr[..., :3]


TRANSPARENT_NOTE = "transparent areas were composited on white"
# every pixel transparent: the photo is plain white, and "transparent areas" did not say why the answer was of white
ALL_TRANSPARENT_NOTE = "the image is fully transparent: composited on white, it is plain white"


def transparency_note(alpha_max: float) -> str:
    """The loading note for an image with transparent pixels whose most opaque pixel has alpha ``alpha_max``."""
    return ALL_TRANSPARENT_NOTE if alpha_max <= 0 else TRANSPARENT_NOTE


def _white_where_transparent(im: Image.Image, notes: list[str], held: str):
    """A 16-bit (or 32-bit integer) grey image whose file names one value transparent (a PNG's tRNS): that value
    made white, as alpha is everywhere (it came out near black, unsaid, while the 8-bit image's was white).
    Returns the image and the range of its opaque values (the scale is theirs), or (``im``, None) when no pixel
    has the value."""
    t = im.info.get("transparency")
    if not isinstance(t, int):
        return im, None
    a = np.array(im)  # a copy, changed in place below (one full-size array, not four: 100 MP took 7-11 s)
    if a.ndim != 2:
        return im, None
    mask = a == t
    if not mask.any():
        return im, None
    notes.append(transparency_note(0.0 if mask.all() else 1.0))
    top = np.iinfo(a.dtype).max
    lo, hi = int(np.min(a, where=~mask, initial=top)), int(np.max(a, where=~mask, initial=0))
    lo, hi = (lo, hi) if lo <= hi else (0, 65535)  # every pixel transparent
    # white at the scale the opaque values get (_scale_high_depth), so a box-reduced edge averages toward white
    white = _integer_scale(hi, [], "16-bit" if im.mode.startswith("I;16") else held) if 0 <= lo and hi <= 65535 else hi
    a[mask] = min(int(white), int(top))
    return Image.fromarray(a), (lo, hi)


def _reduced_on_white(im: Image.Image, f: int, notes: list[str]) -> np.ndarray:
    """An LA or RGBA image much larger than the working size, box-reduced by ``f`` and flattened onto white, to
    whole 8-bit levels: premultiplied (La / RGBa), each box's colour sum and alpha sum are those of the flattened
    box less its white, so the float copy is of the reduced image (a 196-megapixel RGBA PNG took 16 GB)."""
    low, high = im.getchannel("A").getextrema()
    if low < 255:
        notes.append(transparency_note(high))
    small = np.asarray(im.convert("La" if im.mode == "LA" else "RGBa").reduce(f), dtype=np.float32) / np.float32(255.0)
    bg = np.asarray(BACKGROUND, dtype=np.float32)[: small.shape[-1] - 1]
    return quantize(small[..., :-1] + bg * (1.0 - small[..., -1:]))


def _held_in(im: Image.Image, mode: str) -> str:
    """What a mode-I image's values are held in, for the notes: "32-bit integer", or "16-bit" for 16-bit data that
    Pillow opens as mode I (PNG and PGM before Pillow 11, a TIFF of 16 bits per sample)."""
    bits = getattr(im, "tag_v2", {}).get(258) if im.format == "TIFF" else None
    held16 = mode != "I" or im.format in ("PNG", "PPM") or (bits is not None and max(bits) <= 16)
    return "16-bit" if held16 else "32-bit integer"


def _scale_high_depth(arr: np.ndarray, mode: str, label: str, notes: list[str],
                      extrema: tuple[float, float] | None = None, held: str = "16-bit") -> np.ndarray:
    """16/32-bit integer and float images -> float32 in [0, 1] (scaled, never clipped). ``extrema``: the range of
    the image ``arr`` was box-reduced from (the scale is the full image's), else ``arr``'s own. ``held``: what
    integer values are held in, "16-bit" or "32-bit integer" (:func:`_integer_scale`)."""
    arr = np.asarray(arr)
    if mode == "F" or mode.startswith("F;"):
        a = arr.astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise ImageError(f"{label} contains non-finite pixel values (NaN or infinity)")
        lo, hi = (float(a.min()), float(a.max())) if extrema is None else map(float, extrema)
        if lo >= 0.0 and hi <= 1.0:
            out = a
        else:
            span = hi - lo
            out = (a - lo) / np.float32(span) if span > 0 else np.full_like(a, 0.5)
            notes.append(f"float pixel values in [{lo:.4g}, {hi:.4g}] were scaled to [0, 1]" if span > 0 else
                         f"every pixel value is {lo:.4g}, outside [0, 1]: shown as mid-grey")
    else:
        a = arr.astype(np.float64)
        lo, hi = (float(a.min()), float(a.max())) if extrema is None else map(float, extrema)
        if mode.startswith("I;16") or (lo >= 0 and hi <= 65535):  # also 16-bit data held as 32-bit integers
            out = a / _integer_scale(hi, notes, "16-bit" if mode.startswith("I;16") else held)
        else:
            span = hi - lo
            out = (a - lo) / span if span > 0 else np.full_like(a, 0.5)
            notes.append(f"integer pixel values in [{lo:.0f}, {hi:.0f}] were scaled to [0, 1]" if span > 0 else
                         f"every pixel value is {lo:.0f}, outside 0–65535: shown as mid-grey")
    out = np.clip(out, 0.0, 1.0).astype(np.float32)  # guards float rounding only; ranges were scaled above
    return out[..., None] if out.ndim == 2 else np.ascontiguousarray(out[..., :3])


def _integer_scale(hi: float, notes: list[str], held: str = "16-bit") -> float:
    """The full scale of non-negative integer values of at most 65535 held in ``held`` ("16-bit", a dtype name or
    "32-bit integer"). 16-bit data (a uint16 array, a 16-bit file): :func:`_stored_range`. Data held wider (a
    32-bit TIFF, an int32/int64 array: numpy's and Pillow's way to widen an image, which tells no bit depth) whose
    values all fit 8 bits is an 8-bit image: by 1/255, as the array it was saved from (not 1/4095, 6 % of white)."""
    if held != "16-bit" and 0 < hi <= 255:
        notes.append(f"{held} pixel values reach at most {hi:.0f}: read as 8-bit data (scaled by 1/255)")
        return 255.0
    return _stored_range(hi, notes, held)


def _stored_range(hi: float, notes: list[str], held: str = "16-bit") -> float:
    """The full scale of a 16-bit image's values: 65535, or 4095 when no value passes 4095. X-ray and microscope
    images often store 12-bit values in a 16-bit PNG or TIFF: scaled by 1/65535 they reached 6 % of white at most,
    and the model was shown (and explained) a nearly black image. One rule for every such image, not a bit depth
    guessed from each one's brightest value (a 12-bit X-ray whose brightest value was 999 read as 10-bit data came
    out 4x too bright, and images of one device at different scales). ``held``: the notes' words for the data."""
    if 0 < hi <= 4095:
        # 8-bit values in a 16-bit file (matplotlib's MRI sample: at most 215) stay dark at 1/4095 too: said, not
        # left behind a note that reads as if the image were now shown as it should be
        dark = "" if hi >= 1024 else f"; still dark: its brightest value is {100 * hi / 4095:.0f} % of white"
        notes.append(f"{held} pixel values reach at most {hi:.0f}: read as 12-bit data (scaled by 1/4095, not "
                     f"1/65535, which would show a nearly black image){dark}")
        return 4095.0
    return 65535.0


def _resize_to_working(pixels: np.ndarray, max_side: int | None) -> np.ndarray:
    """Resize H x W x C float32 so that the long side is at most ``max_side`` (Lanczos, clipped to [0, 1]).

    An 8-bit photo (every value a whole level) stays one: the scaled copy is rounded to whole levels, as an
    image editor's scaled copy would be. Left in between levels, every value differed from the 8-bit adjusted
    PNG by up to half a level before the explanation changed anything, and the smallest change's map and key
    pixels showed that rounding: a 1,600 px photo's key pixels were 95 % of the image (8.6 % for the same
    photo scaled and saved as 8-bit first), its map flat noise.
    """
    h, w = pixels.shape[:2]
    tw, th = _working_size(w, h, max_side)
    if (tw, th) == (w, h):
        return np.ascontiguousarray(pixels, dtype=np.float32)
    # row blocks: quantize works in float64, and a whole 3,000 x 2,000 decode's check took 360 MB at its peak
    eight_bit = all(np.array_equal(quantize(pixels[i:i + 64]), np.asarray(pixels[i:i + 64], dtype=np.float32))
                    for i in range(0, h, 64))
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(pixels[..., c], dtype=np.float32)).resize(
                (tw, th), Image.Resampling.LANCZOS
            )
        )
        for c in range(pixels.shape[2])
    ]
    out = np.clip(np.stack(channels, axis=2), 0.0, 1.0).astype(np.float32)
    return quantize(out) if eight_bit else out


def from_array(array, name: str = "image", max_side: int | None = DEFAULT_MAX_SIDE) -> ImageData:
    """Wrap a numpy image (H x W, H x W x 1/3/4) as :class:`ImageData`: uint8 by 1/255; uint16 as a 16-bit file
    (12-bit data by 1/4095, with a note); other integer dtypes as 8-bit data when every value fits 0–255, else as
    16-bit data up to 65535; bool as black (False) and white (True); float as it is, in [0, 1]. A Pillow image is
    converted as a file's pixels are (palette, CMYK, colour profile, alpha, 16-bit), as it is in memory (no EXIF
    rotation: ``load_image`` applies it). Anything else: :class:`ImageError`."""
    if isinstance(array, Image.Image):
        notes: list[str] = []
        f = _to_float(array, name, notes, None)
        f = np.repeat(f, 3, axis=2) if f.shape[2] == 1 else f
        return _wrapped(f, name, max_side, notes, array.mode)
    try:
        a = np.asarray(array)
    except Exception as exc:  # noqa: BLE001 - ragged lists, a GPU tensor: numpy's words are not one clear line
        raise ImageError(f"{name}: cannot read a {type(array).__name__} as an array of pixels: {str(exc).split('. ')[0]}") from None
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)) or min(a.shape[:2]) < 1:
        first = " (channels first? put them last: .transpose(1, 2, 0))" if a.ndim == 3 and a.shape[0] in (1, 3, 4) else ""
        raise ImageError(f"{name}: expected an H×W or H×W×(1, 3, 4) array, got shape {a.shape}{first}")
    if a.dtype.kind not in "biuf":  # strings, objects, complex, dates: numpy's words or a silent cast before
        raise ImageError(f"{name}: pixel values must be numbers (integers, floats or booleans), not dtype {a.dtype}")
    notes = []
    if a.dtype == np.uint8:
        f = a.astype(np.float32) / 255.0
    elif a.dtype.kind in "iu":  # uint16 as a 16-bit file; wider or signed integers by their values
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 65535:
            raise ImageError(f"{name}: {a.dtype} pixel values in [{lo}, {hi}] fit neither 8-bit (0–255) nor 16-bit "
                             "(0–65535) data; scale them to floats in [0, 1] first")
        held = "16-bit" if a.dtype == np.uint16 else str(a.dtype)
        f = (a.astype(np.float64) / _integer_scale(float(hi), notes, held)).astype(np.float32)
    elif a.dtype == np.bool_:
        f = a.astype(np.float32)
    else:
        f = a.astype(np.float32)
        if not np.all(np.isfinite(f)):
            raise ImageError(f"{name} contains non-finite pixel values (NaN or infinity)")
        lo, hi = float(f.min()), float(f.max())
        if lo < -ROUNDING or hi > 1 + ROUNDING:
            hint = " (8-bit values? divide them by 255)" if lo >= 0 and 1.5 < hi <= 255 else ""
            raise ImageError(f"{name}: float pixel values must lie in [0, 1], not [{lo:.4g}, {hi:.4g}]{hint}")
        if lo < 0 or hi > 1:  # rounding (a value one float step above 1 was asked "8-bit values?"): clipped
            f = np.clip(f, 0.0, 1.0)
    if f.ndim == 2:
        f = f[..., None]
    if f.shape[2] == 1:
        f = np.repeat(f, 3, axis=2)
    elif f.shape[2] == 4:
        if f[..., 3].min() < 1.0:  # said as a file's load says it (a pasted PNG with transparency said nothing)
            notes.append(transparency_note(float(f[..., 3].max())))
        f = _composite(f[..., :3], f[..., 3])
        f = quantize(f) if a.dtype == np.uint8 else f  # 8-bit stays 8-bit, as a file's RGBA does
    return _wrapped(f, name, max_side, notes)


def _wrapped(f: np.ndarray, name: str, max_side: int | None, notes: list[str], mode: str = "array") -> ImageData:
    h, w = f.shape[:2]
    pixels = _resize_to_working(f, max_side)
    note = scaled_note((w, h), pixels.shape, max_side)
    return ImageData(pixels=pixels, name=name, original_size=(w, h), mode=mode,
                     warnings=notes + ([note] if note else []))


THIN_SIDE = 16  # a working image whose short side scaling made thinner than this gets a note (a 10000×20 panorama)


REDUCED_BY_WORKING = "after the working size reduced it from "  # a model's enlargement note naming scaled_note's sizes
THIN_START = "; its short side is only "  # scaled_note's advice for a photo the scaling made thin
ELONGATED = 4  # a photo this many times as long as it is wide (or more) is told to crop it, when the scaling made it thin
CROP = "crop it, or "  # that advice, in scaled_note's thin note


def said_notes(notes) -> list[str]:
    """The loading notes as a person reads them (the command line's lines, the figure's and the window's
    captions): a "scaled from 451×300 to 224×149 …" note goes when the working size's enlargement note names the
    same reduction (`--max-side 224` printed both), but not its advice to crop a panorama the scaling made thin,
    which the enlargement note does not give (its "raise the working size" it does). The record keeps every note."""
    notes = [str(n) for n in notes or []]
    if not any(REDUCED_BY_WORKING in n for n in notes):
        return notes
    said = []
    for n in notes:
        if not n.startswith("scaled from "):
            said.append(n)
        elif THIN_START in n and f"({CROP}" in n:  # "its short side is only 10 px at the working size, … (crop it, …)"
            said.append("its short side is only " + n.split(THIN_START, 1)[1].replace(
                " px there,", " px at the working size,", 1))
    return said


def scaled_note(original_size: tuple[int, int], shape: tuple, max_side: int | None) -> str | None:
    """The note for an image reduced to the working size, e.g. "scaled from 6000×4000 to 1024×683 (working
    size 1024 px)"; None when it kept its size."""
    w, h = int(original_size[0]), int(original_size[1])
    ww, wh = int(shape[1]), int(shape[0])
    short = min(ww, wh)
    crop = CROP if max(w, h) >= ELONGATED * min(w, h) else ""  # a panorama's sliver: cropping helps
    thin = (f"{THIN_START}{short} px there, so a classifier sees little of it ({crop}raise "
            "the working size)") if short < min(THIN_SIDE, min(w, h)) else ""  # the scaling made it that thin
    if (ww, wh) == (w, h):
        return None
    return f"scaled from {w}×{h} to {ww}×{wh} (working size {max_side} px){thin}"


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 by rounding, exactly as images are saved."""
    return np.clip(np.rint(np.asarray(pixels, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def quantize(pixels: np.ndarray) -> np.ndarray:
    """Float image -> the float image that an 8-bit save and reload gives back."""
    return to_uint8(pixels).astype(np.float32) / np.float32(255.0)
