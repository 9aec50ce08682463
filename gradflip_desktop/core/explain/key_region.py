"""Key region: the smallest top-ranked region of the importance map whose change alone flips the decision.

Pixels are ranked by the (smooth) importance map; the region is the top-k set, so it is a few connected
blobs rather than scattered pixels. Inside the region the image is fully replaced by the style's fill-in
(the detail-removed copy for the region style), outside it is untouched; bisection on k finds the
smallest such region whose 8-bit image (as it would be saved) still flips. Forward passes only.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..models import Prediction
from ..results import KeyRegion
from .objective import Objective, probabilities
from .quantise import quantize_tensor

RESOLUTION = 1.0 / 400.0  # bisection stops when the bracket on the region's fraction is narrower
COMPONENT_SIDE = 256  # connected components are counted on a copy at most this many px on the long side


def pixel_ranking(importance: np.ndarray) -> np.ndarray:
    """H x W int64 rank of each pixel by importance (0 = most important; ties by position)."""
    flat = np.asarray(importance, dtype=np.float64).ravel()
    order = np.argsort(-flat, kind="stable")
    ranks = np.empty(flat.size, dtype=np.int64)
    ranks[order] = np.arange(flat.size)
    return ranks.reshape(importance.shape)


def count_components(mask: np.ndarray) -> int:
    """Number of 8-connected blobs of ``mask`` (counted on a copy with long side <= COMPONENT_SIDE px,
    so a blob thinner than a few pixels at very large sizes may merge or vanish there)."""
    m = torch.from_numpy(np.asarray(mask, dtype=bool).astype(np.float32))[None, None]
    h, w = m.shape[-2:]
    if max(h, w) > COMPONENT_SIDE:
        s = COMPONENT_SIDE / max(h, w)
        m = F.interpolate(m, size=(max(1, round(h * s)), max(1, round(w * s))), mode="area")
        m = (m >= 0.5).float()
    if not bool(m.any()):
        return 0
    hh, ww = m.shape[-2:]
    labels = (torch.arange(1, hh * ww + 1, dtype=torch.float32).view(1, 1, hh, ww)) * m
    while True:  # every pixel takes the largest label among its 8 neighbours inside the mask
        grown = F.max_pool2d(labels, 3, stride=1, padding=1) * m
        if torch.equal(grown, labels):
            break
        labels = grown
    return int(torch.unique(labels[m > 0]).numel())


def key_region(
    obj: Objective,
    x0: torch.Tensor,
    fill: torch.Tensor,
    importance: np.ndarray,
    stop: Callable[[], bool],
    fill_name: str = "blur",
) -> KeyRegion:
    """Smallest top-k region (by ``importance``) such that ``x0`` with the region replaced by ``fill``
    flips after 8-bit quantisation. ``fill``: 1 x 3 x H x W; ``importance``: H x W."""
    h, w = importance.shape
    n = h * w
    ranks_np = pixel_ranking(importance)
    ranks = torch.from_numpy(ranks_np).to(x0.device).view(1, 1, h, w)
    d = fill - x0

    def image(k: int) -> torch.Tensor:
        return quantize_tensor(x0 + d * (ranks < k).to(x0.dtype))

    lo, hi = 0, n
    z_hi = obj.forward(image(hi))
    if obj.flipped(z_hi):
        step = max(1, int(n * RESOLUTION))
        while hi - lo > step and not stop():
            mid = (lo + hi) // 2
            z = obj.forward(image(mid))
            if obj.flipped(z):
                hi, z_hi = mid, z
            else:
                lo = mid
    top = int(torch.argmax(z_hi[0]))
    p = probabilities(z_hi)
    mask = ranks_np < hi
    return KeyRegion(
        pixels=int(hi),
        fraction=hi / float(n),
        components=count_components(mask),
        flips=obj.flipped(z_hi),
        prediction=Prediction(top, obj.clf.label(top), float(p[top])),
        mask=mask,
        ranking=ranks_np.astype(np.int32) if n < 2**31 else ranks_np,
        fill=fill_name,
    )
