"""Colour profiles: an embedded ICC profile converted to sRGB, judged by what it does, not by its name.

A profile named "sRGB" can be linear ("Linear sRGB", elle-stone's "sRGB-elle-V4-g10.icc"): skipping every profile
whose name held "srgb" left such photos unconverted and unsaid (a mean level of 115 where sRGB gives 175). A
profile is left alone when it maps a test set of colours (or a grey ramp) to within SAME_LEVELS of themselves in
sRGB; every other one converts the pixels, with a note naming it. Grey images (L, LA) with a grey profile are
converted too (a "Dot Gain 20 %" grey was read as if it were sRGB's), and so are grey images with an RGB profile; a
grey image of more than 8 bits is said to be left as stored (LittleCMS transforms here take 8-bit modes).
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
from PIL import Image, ImageCms

SAME_LEVELS = 2  # a profile within this many 8-bit levels of sRGB on the test colours is sRGB
_TEST_LEVELS = np.linspace(0, 255, 9).round().astype(np.uint8)  # 9 levels per channel: 729 colours (grey: all 256)
_SRGB_OF: dict[str, bool] = {}  # profile digest -> sRGB in effect (a few bytes per profile, not the profile's MBs)


def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _test_image(mode: str) -> Image.Image:
    if mode == "L":
        return Image.fromarray(np.repeat(np.arange(256, dtype=np.uint8)[None], 2, axis=0), "L")
    r, g, b = np.meshgrid(_TEST_LEVELS, _TEST_LEVELS, _TEST_LEVELS, indexing="ij")
    return Image.fromarray(np.stack([r, g, b], axis=-1).reshape(1, -1, 3), "RGB")


def _is_srgb(icc: bytes, src: ImageCms.ImageCmsProfile, mode: str) -> bool:
    """Whether the profile (for ``mode``: "RGB" or "L") maps the test colours to themselves in sRGB, colorimetric:
    a v4 sRGB profile's perceptual tables remap colours on purpose; its colorimetric ones are sRGB's."""
    key = hashlib.sha256(icc).hexdigest() + mode
    if key not in _SRGB_OF:
        test = _test_image(mode)
        out = ImageCms.profileToProfile(test, src, _srgb(), renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                                        outputMode="RGB")
        a = np.asarray(test.convert("RGB"), dtype=np.int16)
        if len(_SRGB_OF) >= 64:  # noqa: PLR2004 - a long folder of photos from many devices
            _SRGB_OF.clear()
        _SRGB_OF[key] = int(np.abs(np.asarray(out, dtype=np.int16) - a).max()) <= SAME_LEVELS
    return _SRGB_OF[key]


def to_srgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """``im`` (RGB, RGBA, CMYK, L or LA) with its embedded ICC profile converted to sRGB (perceptual intent),
    with a note; as it is when it has none or the profile is sRGB's in effect. A grey image may carry a grey or an
    RGB profile (a photo made grey keeps its colour profile). A 16/32-bit or float grey image's profile is named as
    left unapplied; a broken one, as ignored."""
    icc = im.info.get("icc_profile")
    deep = im.mode.startswith(("I", "F"))  # 16/32-bit or float grey: no transform here
    if not icc or not deep and im.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = (ImageCms.getProfileDescription(src) or "").strip() or "unnamed"
        grey = deep or im.mode in ("L", "LA")
        space = "L" if grey and src.profile.xcolor_space.strip().upper() == "GRAY" else "RGB"
        if im.mode != "CMYK" and _is_srgb(bytes(icc), src, space):
            return im  # sRGB's in effect, whatever its name
        if deep:
            notes.append(f"its embedded colour profile “{desc}” was not applied (a grey image of more than 8 bits is "
                         "read as stored)")
            return im
        if grey:  # grey in, neutral grey out: the transform's RGB back to one channel
            lum = im.getchannel("L") if space == "L" else im.getchannel("L").convert("RGB")
            lum = ImageCms.profileToProfile(lum, src, _srgb(), outputMode="RGB").getchannel("G")
            converted = Image.merge("LA", (lum, im.getchannel("A"))) if im.mode == "LA" else lum
        else:
            out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(im, src, _srgb(), outputMode=out_mode)
        if converted is None:  # pragma: no cover - only with inPlace=True
            return im
        notes.append(f"converted from the embedded colour profile “{desc}” to sRGB")
        return converted
    except Exception as exc:  # noqa: BLE001 - a broken profile must not stop loading
        notes.append(f"ignored an unreadable or unsuitable embedded colour profile ({exc or type(exc).__name__})")
        return im
