"""Minimise: after the flip, the smallest change that still flips.

1. *On the straight line* from the original to the search's end: the smallest α such that α·δ still flips.
   Other styles bisect on α (:func:`minimise_alpha`); the textbook change (free style) finds the crossing by
   regula falsi on the decision margin along the line (:func:`ray_boundary`: a few forward passes).
2. *Boundary refinement* (textbook change; ``ExplainOptions.refine``). The straight line keeps the direction
   of the search's curved path. From the boundary point reached: the gradient g of the decision margin m
   (best explained logit minus the best other one; < 0 once flipped), the point of the linearised boundary
   ``m + g·(x − x_b) = 0`` closest to the original (DeepFool's projection, linearised at the boundary point
   rather than at the original), a move half-way toward it (the full jump lands far off the curved
   boundary), then back to the boundary along the ray from the original. A candidate is kept only if it
   was tested to flip and is smaller; a few iterations (one gradient each).
Never returns a change that was not tested to flip, contains NaN, or is larger than the one it started from.
"""

from __future__ import annotations

from typing import Callable

import torch

from .objective import Objective

BISECTIONS = 14  # at most this many forward passes
TOLERANCE = 2e-3  # stop when the bracket on α is narrower
REFINE_ITERATIONS = 3  # boundary refinement: at most this many gradient evaluations
MIN_GAIN = 1e-3  # stop refining once a candidate shrinks the change by less than this fraction
RAY_EVALUATIONS = 3  # forward passes of one boundary search along a ray
RAY_MARGIN = 0.003  # aim this fraction past the secant's root, so the point tested lands on the flipped side
RAY_TOLERANCE = 0.008
RAY_MAX_SCALE = 4.0
BLEND = 0.5  # refinement: how far toward the projection each iteration moves before returning to the boundary


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


def ray_boundary(
    obj: Objective, x0: torch.Tensor, u: torch.Tensor, m0: float, stop: Callable[[], bool],
    m1: float | None = None, evaluations: int = RAY_EVALUATIONS,
) -> float | None:
    """The smallest scale s found with ``x0 + s·u`` flipping, by regula falsi on the decision margin along
    the ray (``m0``: margin at ``x0``, > 0; ``m1``: at ``x0 + u`` if known). Every s returned was tested
    and flips; ``None`` when no tested point flipped. A few forward passes instead of a bisection's 10+."""
    lo, m_lo = 0.0, float(m0)
    hi, m_hi = None, None
    best = None
    if m1 is None:
        if stop():
            return None
        z = obj.forward(x0 + u)
        m1 = float(obj.margin(z)[0])
        if obj.flipped(z):
            best = 1.0
    if m1 < 0:
        hi, m_hi = 1.0, m1
        best = 1.0 if best is None else best
    else:
        lo, m_lo = 1.0, m1
    for _ in range(evaluations):
        if stop():
            break
        if hi is None:  # extrapolate through (0, m0) and (lo, m_lo)
            if not m_lo < m0:
                break
            s = lo * m0 / (m0 - m_lo) * (1.0 + RAY_MARGIN)
            if s > RAY_MAX_SCALE:
                break
        else:
            root = lo + (hi - lo) * m_lo / (m_lo - m_hi)
            s = min(root * (1.0 + RAY_MARGIN), hi - 1e-6 * hi)
            if s <= lo:
                break
        z = obj.forward(x0 + s * u)
        m = float(obj.margin(z)[0])
        if obj.flipped(z):
            best = s if best is None else min(best, s)
            hi, m_hi = s, min(m, -1e-12)
        else:
            lo, m_lo = s, max(m, 1e-12)
        if hi is not None and hi - lo <= RAY_TOLERANCE * hi:
            break
    return best


def refine(
    obj: Objective, x0: torch.Tensor, d: torch.Tensor, m0: float, stop: Callable[[], bool],
    iterations: int = REFINE_ITERATIONS,
) -> torch.Tensor:
    """Walk the flipping change ``d`` (``x0 + d`` flips; ``m0``: the margin at ``x0``) along the decision
    boundary toward ``x0``. Each iteration: the margin's gradient at the current boundary point, the point of
    the linearised boundary closest to ``x0``, a move half-way toward it, and back to the boundary along the
    ray from ``x0`` (:func:`ray_boundary`). Returns a change that flips and is no larger than ``d``.
    """
    best = d
    best_norm = float(d.norm())
    for _ in range(iterations):
        if stop():
            break
        _, m, g = obj.margin_and_grad(x0 + best)
        gg = float((g * g).sum())
        m = float(m)
        if not (gg > 0.0 and m == m and bool(torch.isfinite(g).all())):
            break
        c = float((g * best).sum()) - m  # the linearised boundary: g·(x - x0) = c
        if c >= 0.0:  # linearly, the original is already across: nothing to project toward
            break
        proj = (c / gg) * g  # its point closest to the original
        u = (x0 + best + BLEND * (proj - best)).clamp(0.0, 1.0) - x0
        s = ray_boundary(obj, x0, u, m0, stop)
        if s is None:
            break
        cand = (x0 + s * u).clamp(0.0, 1.0) - x0
        n = float(cand.norm())
        if not (n < best_norm * (1.0 - MIN_GAIN)) or not bool(torch.isfinite(cand).all()):
            break
        best, best_norm = cand, n
    return best
