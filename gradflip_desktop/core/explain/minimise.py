"""Minimise: after the flip, bisect α ∈ (0, 1] for the smallest α·δ that still flips (forward passes only)."""

from __future__ import annotations

from typing import Callable

import torch

from .objective import Objective

BISECTIONS = 14  # at most this many forward passes
TOLERANCE = 2e-3  # stop when the bracket on α is narrower


def minimise_alpha(obj: Objective, x0: torch.Tensor, delta: torch.Tensor, stop: Callable[[], bool]) -> float:
    """The smallest α found such that ``x0 + α·delta`` still flips (1.0 when nothing smaller was found)."""
    lo, hi = 0.0, 1.0
    for _ in range(BISECTIONS):
        if stop():
            break
        mid = 0.5 * (lo + hi)
        if obj.flipped(obj.forward(x0 + mid * delta)):
            hi = mid
        else:
            lo = mid
        if hi - lo < TOLERANCE:
            break
    return hi
