"""Key pixels: the smallest k such that changing only the k pixels with the largest |saved change|
(summed over channels) still flips the decision (bisection, forward passes only)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..models import Prediction
from ..results import KeyPixels
from .objective import Objective, probabilities


def key_pixels(
    obj: Objective, x0: torch.Tensor, dq: torch.Tensor, stop: Callable[[], bool], tie: torch.Tensor | None = None
) -> KeyPixels:
    """Smallest k such that changing only the k pixels with the largest |dq| (summed over channels) flips.

    ``tie``: a change whose |value| (summed over channels) orders pixels of equal |dq| — after the 8-bit
    lattice pass many pixels moved by exactly one level, and the float change says which matter more.
    """
    h, w = dq.shape[-2:]
    # in 8-bit levels, rounded to 1/1000 of one: a one-level change is 1/255 only up to float32 rounding, which
    # differs with the level it starts from (8 values between 0.99999994 and 1.0000075 levels), so unrounded the
    # pixels of "equal" change were ordered by their brightness's rounding error before ``tie`` could order them
    flat = torch.round(dq.abs().sum(1)[0].flatten().double() * (255.0 * 1000.0))
    m = int((flat > 0).sum())
    order = torch.arange(h * w, device=flat.device)
    if tie is not None:
        order = torch.argsort(tie.abs().sum(1)[0].flatten(), descending=True, stable=True)
    order = order[torch.argsort(flat[order], descending=True, stable=True)]
    ranks = torch.full((h * w,), -1, dtype=torch.int64, device=flat.device)
    ranks[order[:m]] = torch.arange(m, device=flat.device)
    ranks = ranks.view(1, 1, h, w)

    def image(k: int) -> torch.Tensor:
        mask = (ranks >= 0) & (ranks < k)
        return x0 + dq * mask

    lo, hi = 0, m
    while hi - lo > 1 and not stop():
        mid = (lo + hi) // 2
        if obj.flipped(obj.forward(image(mid))):
            hi = mid
        else:
            lo = mid
    z = obj.forward(image(hi))
    top = int(torch.argmax(z[0]))
    p = probabilities(z)
    rank_np = ranks[0, 0].cpu().numpy().astype(np.int32)
    return KeyPixels(
        count=hi,
        fraction=hi / float(h * w),
        mask=(rank_np >= 0) & (rank_np < hi),
        ranking=rank_np,
        prediction=Prediction(top, obj.clf.label(top), float(p[top])),
        flips=obj.flipped(z),
        explained_probability=obj.explained_share(p),
    )
