"""Maps that make a change δ readable: where it concentrates, its sign, the key pixels.

All functions take the float change ``delta`` (H x W x 3, the flipping change) and return numpy arrays.
The GUI's Difference modes and the exported figure/importance map use these same functions.
"""

from __future__ import annotations

import numpy as np

from ..options import SMALL_REGION, is_large_region
from .filters import blur_array


def default_sigma(height: int, width: int) -> float:
    """Smoothing (px) of the default magnitude view: about 1/150 of the long side, at least 1 px."""
    return max(1.0, max(height, width) / 150.0)


def pixel_magnitude(delta: np.ndarray) -> np.ndarray:
    """|δ| summed over channels, H x W float32: the ranking used for key pixels."""
    return np.abs(np.asarray(delta, dtype=np.float32)).sum(axis=2)


def smoothed(values: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """An H x W map >= 0 blurred with ``sigma`` px (``None``: :func:`default_sigma`), float32."""
    s = default_sigma(*values.shape) if sigma is None else float(sigma)
    return np.maximum(blur_array(values, s), 0.0).astype(np.float32)


def magnitude_map(delta: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Smoothed |δ| (summed over channels), H x W float32 >= 0. ``sigma=None`` uses :func:`default_sigma`."""
    return smoothed(pixel_magnitude(delta), sigma)


def signed_map(delta: np.ndarray) -> np.ndarray:
    """Mean change over channels, H x W float32 (positive = brighter)."""
    return np.asarray(delta, dtype=np.float32).mean(axis=2)


def amplified(delta: np.ndarray, gain: float) -> np.ndarray:
    """The change as RGB around mid-grey: clip(0.5 + gain·δ, 0, 1)."""
    return np.clip(0.5 + gain * np.asarray(delta, dtype=np.float32), 0.0, 1.0)


def auto_gain(delta: np.ndarray) -> float:
    """Gain that maps the 99.5th percentile of the changed values' |δ| to 0.45 (so amplified RGB uses the visible
    range). Of the changed values only: a saved change that moved 64 pixels of a 600 × 400 photo by one level had
    a 99.5th percentile of 0 over all values, so gain ×1, and the view was flat grey under a sentence saying "the
    colours away from grey show the change, amplified"."""
    a = np.abs(np.asarray(delta, dtype=np.float32)).ravel()
    moved = a[a > 0]
    q = float(np.percentile(moved, 99.5)) if moved.size else 0.0
    return 0.45 / q if q > 0 else 1.0


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` grown by a square of ``radius`` px (what a (2r+1)² max filter gives), in O(pixels) whatever
    the radius: window sums of running sums, one axis after the other. (Max pooling took 40 s for the key
    region's outline at the 4,096 px working size, 17 s for a 103 px window at 1,024 px.)"""
    out = np.asarray(mask, dtype=bool)
    if radius <= 0:
        return out.copy()
    for axis in (0, 1):
        n = out.shape[axis]
        c = np.cumsum(out, axis=axis, dtype=np.int32)
        zeros = [(radius + 1, 0) if a == axis else (0, 0) for a in range(out.ndim)]
        ends = [(0, radius) if a == axis else (0, 0) for a in range(out.ndim)]
        c = np.pad(np.pad(c, zeros), ends, mode="edge")  # 0 before the start, the total past the end
        hi = np.take(c, range(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
        lo = np.take(c, range(n), axis=axis)
        out = hi > lo  # a True within radius along this axis
    return out


# ---- colour maps (small LUTs; no matplotlib needed) ------------------------------------------------

_INFERNO = np.array(
    [[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]],
    dtype=np.float32,
) / 255.0
_DIVERGING = np.array([[5, 48, 97], [67, 147, 195], [247, 247, 247], [214, 96, 77], [103, 0, 31]], dtype=np.float32) / 255.0


def _lut(anchors: np.ndarray, n: int = 256) -> np.ndarray:
    xs = np.linspace(0, 1, len(anchors))
    t = np.linspace(0, 1, n)
    return np.stack([np.interp(t, xs, anchors[:, c]) for c in range(3)], axis=1).astype(np.float32)


INFERNO_LUT = _lut(_INFERNO)
DIVERGING_LUT = _lut(_DIVERGING)


def colorize(values: np.ndarray, lut: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Map H x W values to RGB float32 with a LUT over [vmin, vmax]."""
    span = vmax - vmin if vmax > vmin else 1.0
    idx = np.clip((values - vmin) / span, 0, 1) * (len(lut) - 1)
    return lut[np.rint(idx).astype(np.int32)]


def grayscale(pixels: np.ndarray) -> np.ndarray:
    return (pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.float32)


def heat_top(values: np.ndarray) -> float:
    """The value :func:`heat_overlay` shows at full heat: the 99.5th percentile (non-finite values as 0)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return float(np.percentile(v, 99.5)) if v.size else 0.0


def heat_overlay(original: np.ndarray, values: np.ndarray, opacity: float = 0.75, top: float | None = None) -> np.ndarray:
    """A map as inferno heat over the dimmed greyscale photo; H x W x 3 float32 in [0, 1].

    ``values``: H x W >= 0, normalised by its 99.5th percentile (:func:`heat_top`; pass ``top`` when it
    is known already). Opacity grows with the value, so unimportant areas show the photo and the
    important ones stand out.
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if top is None:
        top = heat_top(v)
    norm = np.clip(v / top, 0, 1) if top > 0 else np.zeros_like(v)
    heat = colorize(norm, INFERNO_LUT, 0.0, 1.0)
    base = 0.25 + 0.5 * grayscale(original)
    a = (float(opacity) * np.sqrt(norm))[..., None]
    return np.clip(base[..., None] * (1 - a) + heat * a, 0, 1).astype(np.float32)


def magnitude_overlay(original: np.ndarray, delta: np.ndarray, sigma: float | None = None, opacity: float = 0.75) -> np.ndarray:
    """Smoothed magnitude of the change (:func:`magnitude_map`) as :func:`heat_overlay`."""
    return heat_overlay(original, magnitude_map(delta, sigma), opacity)


def signed_overlay(delta: np.ndarray) -> tuple[np.ndarray, float]:
    """Signed map in a diverging colour map centred on 0; returns (RGB, symmetric limit in pixel units): the 99.5th
    percentile of the changed pixels' |mean Δ| (of all pixels', a sparse change's limit was a fraction of its values:
    a textbook change on 9 % of the pixels drew every one of them saturated under a bar of ±0.3 levels)."""
    s = signed_map(delta)
    changed = np.abs(s)[np.abs(s) > 0]
    lim = float(np.percentile(changed, 99.5)) if changed.size else 0.0
    lim = lim if lim > 0 else 1.0 / 255.0
    return colorize(s, DIVERGING_LUT, -lim, lim), lim


def key_pixel_overlay(original: np.ndarray, mask: np.ndarray, scale: int = 1) -> np.ndarray:
    """Key pixels as bright yellow dots with a red outline over the dimmed greyscale photo; H x W x 3
    (``scale`` times larger: a small photo's panel, :func:`outline_scale`).

    On large images the dots grow (1 px per 600 px of the long side) so they stay visible when the
    view is scaled down. On a small photo's own grid the outline is a ring of whole pixels that are not key
    pixels (a 16 x 16 photo's 57 key pixels came with 108 red ones, 64 % of the photo coloured); drawn
    ``scale`` times larger, it is a thin line round each key pixel.
    """
    mask = np.asarray(mask, dtype=bool)
    if int(scale) > 1:
        mask = upscale(mask, int(scale))
        original = upscale(np.asarray(original, dtype=np.float32), int(scale))
    r = 1 if int(scale) > 1 else max(1, round(max(mask.shape) / 600))
    dots = dilate(mask, r - 1)
    outline = dilate(mask, r) & ~dots
    out = np.repeat((0.2 + 0.45 * grayscale(original))[..., None], 3, axis=2)
    out[outline] = np.array([0.9, 0.15, 0.1], dtype=np.float32)
    out[dots] = np.array([1.0, 0.9, 0.2], dtype=np.float32)
    return out.astype(np.float32)


def region_outline(mask: np.ndarray, width: int | None = None) -> np.ndarray:
    """H x W bool: the outline (inner border, ``width`` px; default :func:`region_outline_width`) of the region
    ``mask``."""
    mask = np.asarray(mask, dtype=bool)
    r = region_outline_width(mask) if width is None else max(1, int(width))
    return dilate(~mask, r) & mask


def region_outline_width(mask: np.ndarray) -> int:
    """1 px per 300 px of the long side, at least 1."""
    return max(1, round(max(np.shape(mask)) / 300))


REGION_LINE_RGB = (255, 217, 26)  # the key region's outline (yellow), with a dark edge so it shows on light photos
REGION_EDGE_RGB = (26, 26, 26)
# outside the region: a dark veil, so the region's own colours stand out. Dark, not mid-grey: a mid-grey
# veil (85 at 2/3) left a mid-grey photo's outside almost as bright as the region (128 -> 99) and lifted a
# dark one (64 -> 78); this dims every brightness to about 40-60 % (64 -> 38, 128 -> 60, 255 -> 106)
REGION_DIM = (24, 24, 24, 165)
# a dark photo (median brightness below DARK_PHOTO) gets a light veil instead: dimmed, its outside looked exactly
# like its region (a dalmatian at 12 % brightness); lifted, the outside turns grey and the region stays dark
REGION_LIFT = (232, 232, 232, 150)
DARK_PHOTO = 0.2


def is_dark(pixels: np.ndarray) -> bool:
    """Whether the photo (H x W x 3 in [0, 1]) is dark enough for the light veil: its median luminance (on at
    most ~256 x 256 samples) is below :data:`DARK_PHOTO`."""
    a = np.asarray(pixels, dtype=np.float32)
    step = max(1, max(a.shape[:2]) // 256)
    lum = a[::step, ::step, :3] @ np.array([0.299, 0.587, 0.114], np.float32) if a.ndim == 3 else a[::step, ::step]
    return bool(lum.size) and float(np.median(lum)) < DARK_PHOTO
REGION_HATCH_ALPHA = 150  # a region over most of the image: yellow stripes this opaque (the photo shows between)


def region_hatch(shape: tuple[int, int]) -> np.ndarray:
    """H x W bool: diagonal stripes (period 1/40 of the long side, at least 6 px; a quarter of it wide)."""
    h, w = int(shape[0]), int(shape[1])
    period = max(6, round(max(h, w) / 40))
    width = max(1, round(period / 4))
    yy, xx = np.ogrid[:h, :w]
    return (yy + xx) % period < width


OUTLINE_MIN_SIDE = 256  # a key region's layer is drawn at least this many pixels on the long side (see outline_scale)


def outline_scale(shape: tuple[int, ...], min_side: int = OUTLINE_MIN_SIDE) -> int:
    """The whole factor a small image's key-region layer is drawn at, so that its long side is at least
    ``min_side`` px (1 for larger images). The outline is 1 px wide with a 1 px dark edge: drawn on the
    photo's own grid, an 8 x 8 or a 32 x 32 (CIFAR-sized) photo's region became solid yellow ringed by
    black squares, hiding the very pixels it outlines."""
    long_side = max(1, int(max(shape[:2])))
    return 1 if long_side >= min_side else -(-int(min_side) // long_side)


def upscale(a: np.ndarray, factor: int) -> np.ndarray:
    """``a`` (H x W [x C]) with every pixel repeated ``factor`` times on both axes (nearest neighbour)."""
    if factor <= 1:
        return a
    return np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)


def key_region_layer(mask: np.ndarray, scale: int = 1, dark: bool = False, veil: bool = True) -> np.ndarray:
    """H x W x 4 uint8 to lay over the photo: the key region outlined (yellow line, dark edge), the rest
    under a grey veil, the region itself clear. The app draws it over the Original; the figure's panel
    (:func:`key_region_overlay`) is the same layer composited, so both show the region alike.

    A region that covers most of the image (more than :data:`~..options.LARGE_REGION`, less than all) is
    hatched in the outline's yellow as well: outlined alone, its only closed outlines would be around the
    few unneeded areas, which then read as the region (islands of dim). One below
    :data:`~..options.SMALL_REGION` (a few pixels) gets a dashed yellow box round it, so that it can be found.

    ``scale``: the layer is drawn ``scale`` times larger than the mask (:func:`outline_scale`), so that a
    small photo's outline is thinner than its pixels; it is laid over the photo at the photo's size.
    ``dark``: the photo is dark (:func:`is_dark`): the outside is lifted (:data:`REGION_LIFT`), not dimmed.
    ``veil=False``: the line (and a small region's dashed box) only, no veil and no hatching: drawn over the
    image the key region's answer is about, whose region must show what was done to it."""
    mask = upscale(np.asarray(mask, dtype=bool), int(scale))
    out = np.zeros(mask.shape + (4,), np.uint8)
    if not mask.any():  # no region (the slider at 0 px): the photo as it is, not a veil over nothing marked
        return out
    if veil:
        out[~mask] = REGION_LIFT if dark else REGION_DIM
    share = float(mask.mean())
    if veil and is_large_region(share) and share < 1.0:
        out[mask & region_hatch(mask.shape)] = (*REGION_LINE_RGB, REGION_HATCH_ALPHA)
    elif 0.0 < share < SMALL_REGION:  # a few pixels: a dashed box round them (1/20 of the long side away)
        # a box the image's edge cuts is closed along that edge (the outline of the box padded by a pixel)
        box = region_outline(np.pad(dilate(mask, _box_radius(mask)), 1), region_outline_width(mask))[1:-1, 1:-1]
        dash = max(2, round(max(mask.shape) / 100))
        yy, xx = np.ogrid[: mask.shape[0], : mask.shape[1]]
        out[box & ((yy + xx) // dash % 2 == 0)] = (*REGION_LINE_RGB, 255)
    line = region_outline(mask)
    edge = dilate(line, max(1, round(max(mask.shape) / 600))) & ~line
    out[edge] = (*REGION_EDGE_RGB, 255)
    out[line] = (*REGION_LINE_RGB, 255)
    return out


def _box_radius(mask: np.ndarray) -> int:
    """The dashed box's margin: 1/20 of the long side, at most 1/6 of the short one (on a 1024 x 77 strip the boxes
    were taller than the photo, and only their sides showed)."""
    return max(3, round(min(max(mask.shape) / 20, min(mask.shape) / 6)))


def dashed_boxes(mask: np.ndarray) -> int:
    """How many dashed boxes :func:`key_region_layer` draws round a region under SMALL_REGION: one per group of
    blobs its dilation joins (the figure's caption said "in the dashed box" under two). Counted on a copy shrunk so
    that the box's margin is a few cells (a gap that thin between two boxes may count them as one)."""
    m = np.asarray(mask, dtype=bool)
    radius = _box_radius(m)
    f = max(1, radius // 3)
    grown = dilate(m, radius)
    h, w = -(-grown.shape[0] // f) * f, -(-grown.shape[1] // f) * f
    padded = np.zeros((h, w), dtype=bool)
    padded[: grown.shape[0], : grown.shape[1]] = grown
    cells = padded.reshape(h // f, f, w // f, f).any(axis=(1, 3))
    left, count = set(zip(*np.nonzero(cells))), 0
    while left:  # 8-connected groups of cells, one flood at a time
        count += 1
        todo = [left.pop()]
        while todo:
            y, x = todo.pop()
            for n in ((y + dy, x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)):
                if n in left:
                    left.remove(n)
                    todo.append(n)
    return count


def composite(pixels: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """``layer`` (H x W x 4 uint8) over ``pixels`` (H x W x 3 in [0, 1]): H x W x 3 float32."""
    a = layer[..., 3:4].astype(np.float32) / 255.0
    out = (1.0 - a) * np.asarray(pixels, dtype=np.float32) + a * layer[..., :3].astype(np.float32) / 255.0
    return np.clip(out, 0, 1).astype(np.float32)


def key_region_overlay(original: np.ndarray, mask: np.ndarray, scale: int = 1, veil: bool = True) -> np.ndarray:
    """The photo with the key region outlined (yellow line, dark edge) and the rest dimmed (the figure's
    panel); H x W x 3 float32 in [0, 1] (``scale`` times larger: :func:`key_region_layer`). The region
    itself keeps its colours so one can see what is in it. ``veil=False``: the outline only (the "Key region
    alone" panel, over the image with the region's detail removed)."""
    return composite(upscale(np.asarray(original, dtype=np.float32), int(scale)),
                     key_region_layer(mask, scale, is_dark(original), veil=veil))
