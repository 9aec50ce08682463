"""The Difference view's renderer: one of four ways to show a change over the photo, with its colour bar.

Qt-free. The GUI calls :func:`render_difference` on a worker thread and only paints the returned
:class:`DiffImage`; the maps are the core's (:mod:`.maps`), the same ones the exported figure uses.
:mod:`.maps` (which imports torch) is imported when the first map is drawn, so the GUI thread can import
the mode names and data classes here at start-up without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import Status
from .display import box_downsample, display_uint8

MAGNITUDE = "magnitude"
SIGNED = "signed"
KEY_PIXELS = "key"
AMPLIFIED = "amplified"
# what the magnitude mode shows, one name each in its box entry, its colour bar (with the unit) and the exported
# figure's heading (:func:`map_name`): during a run and for the free style the smoothed |change| in 8-bit levels,
# after a key-region run its importance map in %, after a blur-style run the blur amount in %
IMPORTANCE_MAP, SMOOTHED_MAGNITUDE = "importance map", "smoothed magnitude"
UNFINISHED_MAP = "unfinished importance map"  # a cancelled run's (the sentence says "not finished")
DIFF_MODES = {
    MAGNITUDE: "Smoothed magnitude",
    SIGNED: "Signed (diverging)",
    KEY_PIXELS: "Key-pixel outline",
    AMPLIFIED: "Amplified RGB",
}


@dataclass
class DiffRequest:
    """What to draw in the Difference panel.

    original, delta: H x W x 3 float32; mask: H x W bool key pixels (or None);
    opacity in [0, 1]; gain: amplification for ``amplified`` (None = automatic).
    """

    mode: str
    original: np.ndarray
    delta: np.ndarray | None  # None: computed here as adjusted - original
    mask: np.ndarray | None = None
    opacity: float = 0.75
    gain: float | None = None
    adjusted: np.ndarray | None = None
    key_pixels: object | None = None  # KeyPixels; with key_count the mask is key_pixels.mask_for(key_count)
    key_count: int | None = None
    blur_amount: np.ndarray | None = None  # H x W importance of a "blur"-style result (shown instead of |Δ|)
    importance: np.ndarray | None = None  # H x W smooth importance in [0, 1] (the region style's map), shown as is
    # what blur_amount is called: a region-style run that ended before its map (nothing to flip, stopped) shows
    # its mask, the detail it removed, not a "blur amount" of the blur style
    blur_name: str = "blur amount"
    name: str = IMPORTANCE_MAP  # what ``importance`` is called (:func:`map_name`: a cancelled run's is unfinished)
    # the key region's fill-in (H x W x 3, the detail-removed copy): with it the key-region mode shows the image the
    # key region's answer is about, the photo with only the region replaced (ExplainResult.key_region_image)
    fill: np.ndarray | None = None
    # live previews only (no mask, key pixels or blur amount): draw at 1/reduce of the size, about the
    # size the panel shows (the same maps, computed on block means; the final result is full size)
    reduce: int = 1


KEY_OUTLINE_MIN_SIDE = 64  # a key set's outline in this panel is drawn on a grid at least this long (maps.outline_scale)


@dataclass
class ColorBar:
    lut: np.ndarray  # N x 3 float in [0, 1]
    low: float
    high: float
    label: str


@dataclass
class DiffImage:
    mode: str
    rgb: np.ndarray  # H x W x 3 uint8
    colorbar: ColorBar | None
    gain: float | None
    note: str = ""
    extent: tuple[int, int] | None = None  # (width, height) of the full image when rgb is reduced
    alone: bool = False  # the image shown is the key region alone (the photo with only the region replaced)


def render_difference(req: DiffRequest) -> DiffImage:
    """Draw one Difference mode with the core's maps (the same ones the exported figure uses)."""
    from . import maps  # noqa: PLC0415 - imports torch (see the module doc)

    orig, o = req.original, float(np.clip(req.opacity, 0.0, 1.0))
    delta = req.delta if req.delta is not None else (req.adjusted - orig).astype(np.float32)
    f = max(1, int(req.reduce))
    if req.mask is not None or req.key_pixels is not None or req.blur_amount is not None or req.importance is not None:
        f = 1  # a finished result: always full size
    if req.mode not in (MAGNITUDE, KEY_PIXELS) or min(orig.shape[:2]) // f < 8:
        f = 1  # the per-pixel modes are cheap and would look different as block means
    extent = magnitude = sigma = None
    if f > 1:
        # the smoothed-magnitude map (the expensive one) from block means of the full-size |δ|
        # (block means of δ itself would cancel); smoothing scaled to match
        extent = (orig.shape[1], orig.shape[0])
        magnitude = box_downsample(maps.pixel_magnitude(delta), f)
        sigma = maps.default_sigma(*orig.shape[:2]) / f
        orig = box_downsample(orig, f)
    gain = float(req.gain) if req.gain else None
    if req.mode == SIGNED:
        rgb, lim = maps.signed_overlay(delta)
        base = (0.25 + 0.5 * maps.grayscale(orig))[..., None]
        out = base * (1 - o) + rgb * o
        bar = ColorBar(maps.DIVERGING_LUT, -lim * 255, lim * 255, "mean Δ (8-bit levels)")
        return DiffImage(req.mode, display_uint8(out), bar, None)
    if req.mode == AMPLIFIED:
        gain = gain or maps.auto_gain(delta)
        return DiffImage(req.mode, display_uint8(maps.amplified(delta, gain)), None, gain)
    mask = req.mask
    if req.key_pixels is not None and req.key_count is not None:
        mask = req.key_pixels.mask_for(req.key_count)
    if req.mode == KEY_PIXELS and mask is not None:
        from ..results import KeyRegion  # noqa: PLC0415

        region = isinstance(req.key_pixels, KeyRegion)  # drawn as the figure and the Original draw it
        # a tiny photo's outline drawn on a finer grid, as the Original's and the figure's are: on an 8 x 8 photo's
        # own pixels it was solid yellow cells ringed by black ones, hiding what it outlines (from 64 px on, a line
        # a pixel wide on the photo's own grid hides little; the Original's goes finer up to 256 px)
        scale = maps.outline_scale(mask.shape, KEY_OUTLINE_MIN_SIDE)
        whole = None if scale == 1 else (orig.shape[1], orig.shape[0])  # the panel spreads it over the photo
        if region and req.fill is not None and req.fill.shape == orig.shape:
            # what the key-region answer is about: "removing its detail flips it to X" was a claim about an image
            # the window never showed (the Original outlined it twice); outlined, not veiled or hatched
            alone = np.where(mask[..., None], req.fill, orig)
            out = maps.key_region_overlay(alone, mask, scale, veil=False)
            return DiffImage(req.mode, display_uint8(out), None, None, extent=whole, alone=True)
        over = maps.key_region_overlay(orig, mask, scale) if region else maps.key_pixel_overlay(orig, mask, scale)
        out = maps.upscale(orig, scale) * (1 - o) + over * o
        return DiffImage(req.mode, display_uint8(out), None, None, extent=whole)
    # magnitude (also the key-pixel view until the key pixels are known)
    if req.importance is not None:  # already the result's importance map (ExplainResult.importance_map())
        imp, scale, what = np.asarray(req.importance, dtype=np.float32), 100.0, f"{req.name} (%)"
    elif req.blur_amount is not None:  # smoothed exactly as ExplainResult.importance_map() does
        imp, scale, what = maps.smoothed(req.blur_amount), 100.0, f"{req.blur_name} (%)"
    elif magnitude is not None:
        imp, scale, what = maps.smoothed(magnitude, sigma), 255.0, f"{SMOOTHED_MAGNITUDE} (8-bit levels)"
    else:
        imp, scale, what = maps.magnitude_map(delta), 255.0, f"{SMOOTHED_MAGNITUDE} (8-bit levels)"
    top = maps.heat_top(imp)
    out = maps.heat_overlay(orig, imp, o, top=top)
    # an all-zero map (no change: a run that stopped at step 0) gets the unit's full scale (0-100 %, 0-255
    # levels), not ticks like 2e-11; a 0-1 scale read "0.2 … 0.8" under a label in % (or 8-bit levels)
    bar = ColorBar(maps.INFERNO_LUT, 0.0, top * scale if top > 0 else scale, what)
    # a sentence in the status bar, which says why the panel under the key-set mode shows the change instead
    note = ("Key pixels are found after the flip: until then this panel shows the change so far"
            if req.mode == KEY_PIXELS else "")
    return DiffImage(req.mode, display_uint8(out), bar, None, note, extent)


def blur_name(result) -> str:
    """The region style's mask is the detail removed (shown when the run ended before its map was made);
    only the blur style's is a blur amount."""
    return "detail removed" if getattr(result.options, "style", None) == "region" else "blur amount"


def map_name(result) -> str:
    """What ``result.importance_map()`` is, lower case: the magnitude mode's box entry (capitalised, :func:`entry`),
    its colour bar (with the unit) and the exported figure's heading of that map all say this one name."""
    if getattr(result, "region_map", None) is not None:  # a run cancelled past its flip: the map was not finished
        status = getattr(result, "status", None)
        return UNFINISHED_MAP if getattr(status, "value", status) == Status.CANCELLED.value else IMPORTANCE_MAP
    return blur_name(result) if getattr(result, "blur_amount", None) is not None else SMOOTHED_MAGNITUDE


def entry(name: str) -> str:
    """A map's name as a heading or a box entry: "importance map" -> "Importance map"."""
    return name[:1].upper() + name[1:]


OUTLINE_RGB = (255, 80, 40)  # the key-pixel outline on the photo (orange-red, visible on light and dark)


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Square (2r+1)² binary dilation with numpy shifts (separable; r is small)."""
    out = mask.copy()
    for _ in range(max(0, int(r))):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= grown[:, :-1].copy()
        grown[:, :-1] |= grown[:, 1:].copy()
        out = grown
    return out


def key_region(mask: np.ndarray, radius: int | None = None) -> np.ndarray:
    """The region the key pixels form: ``mask`` closed (dilated, then eroded) by ``radius`` px (default
    1 per 90 px of the long side), so scattered key pixels that lie close together read as one area."""
    mask = np.asarray(mask, dtype=bool)
    r = max(1, round(max(mask.shape) / 90)) if radius is None else max(0, int(radius))
    grown = _dilate(mask, r)
    return ~_dilate(~grown, r)


KEY_TINT_MAX_FRACTION = 0.25  # key pixels over more of the image than this are outlined only, not tinted
KEY_OUTLINE_MAX_FRACTION = 0.9  # a region over more of the image than this is not outlined: its line ringed only the holes


def key_outline(mask: np.ndarray, width: int | None = None, radius: int | None = None) -> np.ndarray:
    """H x W x 4 uint8 to draw over the photo: a line around the region the key pixels form
    (:func:`key_region`), the key pixels themselves lightly tinted, transparent elsewhere. ``width`` (px)
    defaults to 1 per 400 px of the long side, so the line stays visible when a large image is shown small."""
    mask = np.asarray(mask, dtype=bool)
    w = max(1, round(max(mask.shape) / 400)) if width is None else max(1, int(width))
    region = key_region(mask, radius)
    # the sample cat's "any cat" textbook change: key pixels on 50 % of it closed to 99 %, and the Original showed four
    # small red boxes around the holes, the pixels that are not key; the key line points to Difference ▸ Key-pixel outline
    ring = _dilate(region, w) & ~region if region.mean() <= KEY_OUTLINE_MAX_FRACTION else np.zeros_like(region)
    out = np.zeros(mask.shape + (4,), np.uint8)
    # the tint marks a few scattered pixels; over most of the photo (a textbook change's key set is often 80-90 %
    # of it) it washed the whole Original orange-red, so the "Original" no longer showed the photo's colours
    if mask.mean() <= KEY_TINT_MAX_FRACTION:
        out[mask] = (*OUTLINE_RGB, 90)
    out[ring] = (*OUTLINE_RGB, 255)
    return out


__all__ = [
    "OUTLINE_RGB", "key_outline", "key_region", "MAGNITUDE", "SIGNED", "KEY_PIXELS", "AMPLIFIED", "DIFF_MODES",
    "DiffRequest", "ColorBar", "DiffImage", "render_difference", "IMPORTANCE_MAP", "SMOOTHED_MAGNITUDE", "blur_name",
    "entry", "map_name",
]
