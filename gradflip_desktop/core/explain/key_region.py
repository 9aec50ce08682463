"""Key region: the smallest top-ranked region of the importance map whose change alone flips the decision.

Pixels are ranked by the (smooth) importance map; the region is the top-k set, so it is a few connected
blobs rather than scattered pixels. Inside the region the image is fully replaced by the style's fill-in
(the detail-removed copy for the region style), outside it is untouched; bisection on k finds the
smallest such region whose 8-bit image (as it would be saved) still flips. Then the blobs the flip does
not need are dropped, the least important first (at most PRUNE_TRIES tries): the ranking of a smooth map
grows several blobs at once, and some only ride along (10 benchmark photos at 224 px: median share
2.15 % → 1.48 %, blobs 6 → 2.5, for ~6 forward passes; docs/benchmarks.md, "Key region and speed").
When a blob was dropped, the kept pixels (in their order) are bisected again: a dropped blob can have worked
*for* the class, so the first bisection took more of the others than the flip needs without it (1,024 px:
median 5.07 % → 1.47 %; two passes when nothing can go). The returned ranking puts the kept pixels first,
so ``ranking < pixels`` is the region. A region that still needs over a quarter of the photo ("no small region
flips it") is checked against 5 x 5 windows of a ninth of it (:func:`windows`): the map ranks by what the search
touched, and a part elsewhere can flip alone (a 300 px cat face: 53 % along the map, 10 % in one window); the
window that flips most clearly gives the region, its top-ranked part that still flips. Forward passes only.
"""

from __future__ import annotations

import math
from typing import Callable, Generator

import numpy as np
import torch
import torch.nn.functional as F

from ..models import Prediction
from ..options import is_broad_region, is_large_region
from ..results import KeyRegion, Progress
from .mask import FLAT
from .objective import Objective, probabilities
from .quantise import quantize_tensor

RESOLUTION = 1.0 / 400.0  # bisection stops when the bracket on the region's fraction is narrower
COMPONENT_SIDE = 256  # connected components are counted on a copy at most this many px on the long side
# a region over a quarter of the photo ("most of it": no count shown) is counted on the full mask up to this size
# (0.2 s at 1,024 px); above it the smaller copy's count stands (4.5 s at 4,096 px). The record said 5 areas over a
# key.png of 2 at 1,024 px.
FULL_COUNT_PIXELS = 2048 * 2048
PRUNE_TRIES = 6  # blobs of the top-k region tried for removal (least important first), one forward pass each
PROBE_CELLS = 3  # a region over BROAD_REGION is checked against windows of 1/3 of each side (1/9 of the photo) ...
PROBE_POSITIONS = 5  # ... at 5 x 5 places, one forward pass each (README "How it works", key region)
REBISECT_PARTS = 16  # after blobs were dropped, the second bisection's resolution: 1/16 of the kept region
OFF_MAP_SHARE = 0.1  # under this share of the region in the map's top pixels of its size: KeyRegion.off_map
# The region must flip with a margin when the whole fill-in does: the new top class ahead of the explained one by
# this many logits (about 10 % in probability). Without it the smallest region sat exactly on the boundary, where
# 8-bit rounding decided: on 8 of 18 benchmark photos the float composite of the region did not flip (6 with the
# margin), and on an unseen beetle rounding alone moved the explained class by 1.6 points (10.5 % to 8.8 %).
KEY_MARGIN = 0.1


def pixel_ranking(importance: np.ndarray) -> np.ndarray:
    """H x W int64 rank of each pixel by importance (0 = most important; ties by position)."""
    flat = np.asarray(importance, dtype=np.float64).ravel()
    order = np.argsort(-flat, kind="stable")
    ranks = np.empty(flat.size, dtype=np.int64)
    ranks[order] = np.arange(flat.size)
    return ranks.reshape(importance.shape)


def component_labels(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """(H x W int64 labels, count) of the 8-connected blobs of ``mask`` (0 outside). Found on a copy with
    long side <= COMPONENT_SIDE px (union-find, :func:`_blob_roots`), so a blob thinner than a few pixels at
    very large sizes may merge or vanish there (its pixels then keep label 0)."""
    full = np.asarray(mask, dtype=bool)
    m = torch.from_numpy(full.astype(np.float32))[None, None]
    h, w = m.shape[-2:]
    if max(h, w) > COMPONENT_SIDE:
        s = COMPONENT_SIDE / max(h, w)
        m = F.interpolate(m, size=(max(1, round(h * s)), max(1, round(w * s))), mode="area")
        m = (m >= 0.5).float()
    if not bool(m.any()):
        return np.zeros(full.shape, dtype=np.int64), 0
    hh, ww = m.shape[-2:]
    roots = _blob_roots(m[0, 0].numpy() > 0)
    count = int(np.unique(roots[roots > 0]).size)
    labels = torch.from_numpy(roots.astype(np.float32))[None, None]
    if (hh, ww) != (h, w):
        labels = F.interpolate(labels, size=(h, w), mode="nearest")
        out = np.ascontiguousarray(labels[0, 0].to(torch.int64).numpy()) * full
        # mask pixels on an empty cell of the copy (blob edges) take the label next to them, so that a
        # blob dropped by its label leaves no rim behind; a speck too small for the copy keeps 0
        return _grown(out, full, math.ceil(max(h, w) / COMPONENT_SIDE) + 1), count
    return labels[0, 0].to(torch.int64).numpy() * full, count


def _grown(labels: np.ndarray, full: np.ndarray, rounds: int) -> np.ndarray:
    """``labels`` (H x W int64, 0 = none) grown into the unlabelled pixels of ``full``: each round every such
    pixel takes the largest label of its 3 x 3 neighbourhood (all at once, from the last round's labels), at most
    ``rounds`` rounds, until none changes. The same as a 3 x 3 max-pool over the whole image per round, done on
    the unlabelled pixels only: at 4,096 px the max-pools took 4-5 s of a run whose progress bar stood still."""
    h, w = labels.shape
    flat = labels.reshape(-1)
    for _ in range(rounds):
        todo = np.flatnonzero(full.reshape(-1) & (flat == 0))
        if todo.size == 0:
            break
        y, x = np.divmod(todo, w)
        best = np.zeros(todo.size, dtype=labels.dtype)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                yy, xx = y + dy, x + dx
                inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
                seen = np.zeros_like(best)
                seen[inside] = flat[yy[inside] * w + xx[inside]]
                np.maximum(best, seen, out=best)
        if not best.any():
            break
        flat[todo] = best
    return labels


def _blob_roots(m: np.ndarray) -> np.ndarray:
    """H x W int64: for each pixel of the bool mask ``m``, 1 + the flat index of the smallest pixel of its
    8-connected blob (0 outside). Union-find on the neighbour pairs, vectorised: each round hooks every
    root onto the smallest root it touches, then compresses the paths; a few rounds (about log of the
    blob's length) instead of one 3 x 3 max-pool per pixel of the blob's length."""
    h, w = m.shape
    idx = np.arange(h * w, dtype=np.int32 if h * w < 2**31 else np.int64).reshape(h, w)  # half the memory
    pairs = []
    for a, b in ((m[:, :-1] & m[:, 1:], (slice(None), slice(None, -1), slice(None), slice(1, None))),
                 (m[:-1, :] & m[1:, :], (slice(None, -1), slice(None), slice(1, None), slice(None))),
                 (m[:-1, :-1] & m[1:, 1:], (slice(None, -1), slice(None, -1), slice(1, None), slice(1, None))),
                 (m[:-1, 1:] & m[1:, :-1], (slice(None, -1), slice(1, None), slice(1, None), slice(None, -1)))):
        pairs.append((idx[b[0], b[1]][a], idx[b[2], b[3]][a]))
    left = np.concatenate([p[0] for p in pairs])
    right = np.concatenate([p[1] for p in pairs])
    parent = np.arange(h * w, dtype=idx.dtype)
    while True:
        pl, pr = parent[left], parent[right]
        differ = pl != pr
        if not differ.any():
            break
        pl, pr = pl[differ], pr[differ]
        low = np.minimum(pl, pr)
        np.minimum.at(parent, pl, low)  # hook each root onto the smallest root it touches
        np.minimum.at(parent, pr, low)
        while True:  # compress: every pixel points at its root
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
    return np.where(m, parent.reshape(h, w) + 1, 0)


def count_components(mask: np.ndarray) -> int:
    """Number of 8-connected blobs of ``mask``, counted at its own resolution (the areas the outline draws: the
    count on :func:`component_labels`' smaller copy missed specks too thin for it, and a record said "3 areas"
    over an outline of 4)."""
    full = np.asarray(mask, dtype=bool)
    if not full.any():
        return 0
    if full.all():  # no search flipped it: the whole image (at 4,096 px the union-find took 15 s and 5.6 GB)
        return 1
    rows, cols = np.flatnonzero(full.any(axis=1)), np.flatnonzero(full.any(axis=0))
    box = full[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # the blobs' bounding box: less to scan
    return int(np.unique(_blob_roots(box)[box]).size)


def _kept_first(ranks: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The ranking with the pixels of ``keep`` first (in their order), then the others (in theirs): O(n)."""
    flat = ranks.ravel()
    order = np.empty_like(flat)
    order[flat] = np.arange(flat.size)  # order[r] = the pixel of rank r
    kept = keep.ravel()[order]
    k = int(kept.sum())
    new_at = np.where(kept, np.cumsum(kept) - 1, k + np.cumsum(~kept) - 1)
    out = np.empty_like(flat)
    out[order] = new_at
    return out.reshape(ranks.shape)


def key_region(*args, **kwargs) -> KeyRegion:
    """:func:`find_key_region` run to its end, without progress (the same arguments)."""
    gen = find_key_region(*args, **kwargs)
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value


def find_key_region(
    obj: Objective,
    x0: torch.Tensor,
    fill: torch.Tensor,
    importance: np.ndarray,
    stop: Callable[[], bool],
    fill_name: str = "blur",
) -> Generator[Progress, None, KeyRegion]:
    """Smallest top-k region (by ``importance``) such that ``x0`` with the region replaced by ``fill``
    flips after 8-bit quantisation (``fill``: 1 x 3 x H x W; ``importance``: H x W). A generator: yields a
    :class:`.Progress` after each forward pass (the run's progress stays live at large sizes) and returns
    the :class:`.KeyRegion`."""
    done = [0]

    def forward(image: torch.Tensor) -> Generator[Progress, None, torch.Tensor]:
        z = obj.forward(image)
        done[0] += 1
        yield Progress("key_region", done[0])
        return z
    h, w = importance.shape
    n = h * w
    ranks_np = map_ranks = pixel_ranking(importance)
    ranks = torch.from_numpy(ranks_np).to(x0.device).view(1, 1, h, w)
    d = fill - x0
    compose = _composer(x0, d)

    def image(k: int) -> torch.Tensor:
        return compose(ranks < k)

    step = max(1, int(n * RESOLUTION))
    z_hi = yield from forward(image(n))
    if _WithMargin(obj, KEY_MARGIN).flipped(z_hi):  # else the fill-in only just flips: no margin to ask for
        obj = _WithMargin(obj, KEY_MARGIN)
    even = float(np.ptp(importance)) <= FLAT  # one mask cell (--coarse): its ties rank row by row, so only the windows
    if obj.flipped(z_hi) and not even:
        hi, z_hi = yield from _bisect(forward, obj, image, 0, n, z_hi, step, stop)
    else:
        hi = n
    mask = ranks_np < hi
    # a Cancel: the runner drops an unfinished region, and labelling a 4,096 px mask takes seconds
    labels, count = component_labels(mask) if not stop() else (None, 0)
    if labels is not None and obj.flipped(z_hi) and (count >= 2 or (mask & (labels == 0)).any()) and PRUNE_TRIES > 0 \
            and not stop():
        mask, z_hi, dropped = yield from _prune(forward, obj, compose, importance, mask, labels, count, z_hi, stop)
        if dropped:
            # the blobs left may not all be needed in full: bisect again on the ranking with them first
            ranks_np = _kept_first(ranks_np, mask)
            ranks = torch.from_numpy(ranks_np).to(x0.device).view(1, 1, h, w)
            kept = int(mask.sum())
            resolution = max(step, kept // REBISECT_PARTS)
            # the top half first, as a bisection would; when it does not flip, the kept region less its last
            # 1/16 says in one more pass whether anything can go (usually nothing can)
            lo = 0
            for probe in (kept // 2, kept - resolution):
                if not lo < probe < kept or stop():
                    break
                z = yield from forward(image(probe))
                if obj.flipped(z):
                    hi, z_hi = yield from _bisect(forward, obj, image, lo, probe, z, resolution, stop)
                    mask = ranks_np < hi
                    break
                lo = probe
    in_window = False
    if obj.flipped(z_hi) and is_broad_region(mask.mean()) and not stop():
        # the map's ranking needs over a quarter of the photo ("no small region flips it"): first ask a few small
        # windows elsewhere (an unseen cat's face: 53 % along the map, while a ninth of it flipped alone)
        found = yield from _probe_windows(forward, obj, compose, ranks_np, z_hi, step, stop)
        if found is not None and found[1] < int(mask.sum()):  # a thin photo's window can be all of it
            ranks_np, hi, z_hi = found
            mask, in_window = ranks_np < hi, True
    if not stop() and (not is_large_region(mask.mean()) or mask.size <= FULL_COUNT_PIXELS):  # the record's count
        count = count_components(mask)
    top = int(torch.argmax(z_hi[0]))
    p = probabilities(z_hi)
    kept = int(mask.sum())
    # the pruning can drop the blobs around the map's peak (the rest flips without them): then the region is said to
    # lie away from the map's brightest parts (an unseen panorama's lay wholly outside the map's top 6 %)
    off_map = bool(obj.flipped(z_hi) and not in_window and not is_broad_region(kept / float(n))
                   and int((mask & (map_ranks < kept)).sum()) < OFF_MAP_SHARE * kept)
    return KeyRegion(
        pixels=kept,
        fraction=kept / float(n),
        components=count,
        flips=obj.flipped(z_hi),
        prediction=Prediction(top, obj.clf.label(top), float(p[top])),
        mask=mask,
        ranking=ranks_np.astype(np.int32) if n < 2**31 else ranks_np,
        fill=fill_name,
        explained_probability=obj.explained_share(p),
        window=in_window,
        off_map=off_map,
    )


class _WithMargin:
    """``obj`` whose ``flipped`` also asks for the decision margin to be below ``-margin``."""

    def __init__(self, obj: Objective, margin: float):
        self._obj, self._margin = obj, margin

    def __getattr__(self, name):
        return getattr(self._obj, name)

    def flipped(self, z: torch.Tensor) -> bool:
        return self._obj.flipped(z) and float(self._obj.margin(z)[0]) < -self._margin


def _composer(x0: torch.Tensor, d: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """``compose(mask)`` (bool, 1 x 1 x H x W) = ``quantize_tensor(x0 + d·mask)``, bit for bit (for a 0/1 mask
    that sum is ``x0 + d`` or ``x0`` exactly): both 8-bit images are made once and each pixel is taken from
    one, instead of a float64 rounding of the whole image per forward pass (at 1,024 px that was 60 % of
    the pass)."""
    inside, outside = quantize_tensor(x0 + d), quantize_tensor(x0)
    return lambda mask: torch.where(mask.to(inside.device), inside, outside)


def _bisect(forward, obj, image, lo, hi, z_hi, step, stop):
    """Smallest k in (lo, hi] found (bracket narrower than ``step``) with ``image(k)`` flipping, given that
    ``image(hi)`` flips with logits ``z_hi`` (and ``image(lo)`` does not, or lo = 0): (k, its logits).
    ``forward``: a pass that yields its progress (a generator)."""
    while hi - lo > step and not stop():
        mid = (lo + hi) // 2
        z = yield from forward(image(mid))
        if obj.flipped(z):
            hi, z_hi = mid, z
        else:
            lo = mid
    return hi, z_hi


def windows(h: int, w: int) -> list[np.ndarray]:
    """The H x W bool windows a broad key region is checked against: rectangles of 1/PROBE_CELLS of each side
    (1/9 of the photo, under BROAD_REGION), at PROBE_POSITIONS evenly spaced places each way, the centre first."""
    wh, ww = max(1, h // PROBE_CELLS), max(1, w // PROBE_CELLS)
    ys = np.linspace(0, h - wh, PROBE_POSITIONS).round().astype(int)
    xs = np.linspace(0, w - ww, PROBE_POSITIONS).round().astype(int)
    mid = (PROBE_POSITIONS - 1) / 2.0
    places = sorted(((y, x) for y in range(PROBE_POSITIONS) for x in range(PROBE_POSITIONS)),
                    key=lambda p: ((p[0] - mid) ** 2 + (p[1] - mid) ** 2, p))
    out = []
    for i, j in places:
        m = np.zeros((h, w), dtype=bool)
        m[ys[i]: ys[i] + wh, xs[j]: xs[j] + ww] = True
        out.append(m)
    return out


def _probe_windows(forward, obj, compose, ranks_np, z_hi, step, stop):
    """A broad region's check: the window (:func:`windows`) whose detail removal alone flips the decision most
    clearly (the lowest margin), one forward pass each, then its smallest top-ranked part that still flips (the
    map's order inside the window). Returns (ranking with that window's pixels first, k, logits) or None when no
    window flips (the sentence's "no small region flips it" then stands for these windows too)."""
    h, w = ranks_np.shape
    best = None
    for window in windows(h, w):
        if stop():
            return None
        z = yield from forward(compose(torch.from_numpy(window)[None, None]))
        if obj.flipped(z):
            margin = float(obj.margin(z)[0])
            if best is None or margin < best[0]:
                best = (margin, window, z)
    if best is None:
        return None
    _, window, z = best
    ranks = _kept_first(ranks_np, window)
    ranks_t = torch.from_numpy(ranks).view(1, 1, h, w)
    hi, z = yield from _bisect(forward, obj, lambda k: compose(ranks_t < k), 0, int(window.sum()), z, step, stop)
    return ranks, hi, z


def _prune(forward, obj, compose, importance, mask, labels, count, z, stop):
    """Drop the blobs of ``mask`` the flip does not need: the least important first (by mean importance),
    at most PRUNE_TRIES tries, never the last one; each try is one forward pass of the 8-bit image.
    Specks too small for the copy the blobs are found on (label 0 inside the mask) are tried first, all
    together. ``compose``: the 8-bit image of a region (:func:`_composer`). Returns (mask, logits of its
    image, how many blobs or speck sets were dropped)."""

    def flips_without(trial: np.ndarray):
        zt = yield from forward(compose(torch.from_numpy(trial)[None, None]))
        return zt if obj.flipped(zt) else None

    dropped = 0
    specks = mask & (labels == 0)
    if specks.any() and count >= 1 and not stop():
        zt = yield from flips_without(mask & ~specks)
        if zt is not None:
            mask, z, dropped = mask & ~specks, zt, 1
    imp = np.asarray(importance, dtype=np.float64)
    ids = sorted((i for i in np.unique(labels) if i > 0), key=lambda i: float(imp[labels == i].mean()))
    left = count
    for i in ids[:PRUNE_TRIES]:
        if left < 2 or stop():
            break
        trial = mask & (labels != i)
        zt = yield from flips_without(trial)
        if zt is not None:
            mask, z, left, dropped = trial, zt, left - 1, dropped + 1
    return mask, z, dropped
