"""Minimise: after the flip, the smallest change that still flips.

1. *On the straight line* from the original to the search's end: the smallest α such that α·δ still flips,
   by regula falsi on the decision margin along the line (:func:`ray_boundary`: a few forward passes), with
   a bisection on α (:func:`minimise_alpha`) when no tested point flips. Every style.
2. *Boundary refinement* (textbook change; ``ExplainOptions.refine``). The straight line keeps the direction
   of the search's curved path. A walk along the decision margin m (best explained logit minus the best
   other one; < 0 once flipped), one gradient evaluation per step, that evaluation also being the flip
   test: at the current point, the component of the change across the boundary is kept and half of the
   rest is dropped (the point of the linearised boundary closest to the original, approached half-way: the
   full jump lands far off the curved boundary), then the point is scaled back to the boundary along the ray
   from the original, to the root the linearised margin predicts, corrected by how far off the previous
   predictions were (the boundary curves away from the original). The "normal" used is a running average of
   the unit gradients of the points visited: on piecewise-linear networks (ReLU) each gradient is one facet's
   normal, and the average is a steadier estimate of the boundary's orientation. A few forward passes at the
   end put the best point back on the boundary (Newton along the ray with the gradient there, then regula
   falsi). It takes a fixed ``REFINE_ITERATIONS`` steps (fewer only when the linearisation breaks down), so
   its cost is known in advance and the same when float rounding differs (batched runs): a rule like "stop
   when a step gains < 0.1 %" decides differently on near-ties of the flip test.
Never returns a change that was not tested to flip, contains NaN, or is larger than the one it started from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from . import sums
from .objective import Objective

BISECTIONS = 14  # at most this many forward passes
TOLERANCE = 2e-3  # stop when the bracket on α is narrower
REFINE_ITERATIONS = 6  # boundary refinement: at most this many gradient evaluations after the first
RAY_EVALUATIONS = 3  # forward passes of one boundary search along a ray
RAY_MARGIN = 0.003  # aim this fraction past the secant's root, so the point tested lands on the flipped side
RAY_TOLERANCE = 0.008
RAY_MAX_SCALE = 4.0
BLEND = 0.5  # refinement: the fraction of the change's along-boundary part dropped per step
AVERAGE = 0.5  # refinement: weight of the previous normals in the running average (0: the latest gradient)
OVERSHOOT = 0.005  # refinement: aim this fraction past the predicted boundary crossing
POLISH_MARGIN = 0.0003  # final polish: aim this fraction of the original margin past the boundary
POLISH_TOLERANCE = 0.0005  # final polish: stop when the bracket on the scale is this narrow
POLISH_EVALUATIONS = 4

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
    m1: float | None = None, evaluations: int = RAY_EVALUATIONS, keep: bool = False,
) -> float | None:
    """The smallest scale s found with ``x0 + s·u`` flipping, by regula falsi on the decision margin along
    the ray (``m0``: margin at ``x0``, > 0; ``m1``: at ``x0 + u`` if known). Every s returned was tested
    and flips; ``None`` when no tested point flipped. A few forward passes instead of a bisection's 10+.
    ``keep``: the passes keep the graph of the last flipping point, which is the one returned
    (:meth:`.objective.Objective.forward`): the boundary walk's first gradient there costs only its backward."""
    keep_if = obj.flipped if keep else None
    lo, m_lo = 0.0, float(m0)
    hi, m_hi = None, None
    best = None
    if m1 is None:
        if stop():
            return None
        z = obj.forward(x0 + u, keep_if)
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
        z = obj.forward(x0 + s * u, keep_if)
        m = float(obj.margin(z)[0])
        if obj.flipped(z):
            best = s if best is None else min(best, s)
            hi, m_hi = s, min(m, -1e-12)
        else:
            lo, m_lo = s, max(m, 1e-12)
        if hi is not None and hi - lo <= RAY_TOLERANCE * hi:
            break
    return best


@dataclass
class Refined:
    """The refinement's answer: ``change`` (flips, no larger than the start) and the margin's gradient at a
    point within the final polish of it (``None`` when none was computed): the 8-bit pass reuses it."""

    change: torch.Tensor
    grad: torch.Tensor | None


def refine(
    obj: Objective, x0: torch.Tensor, d: torch.Tensor, m0: float, stop: Callable[[], bool],
    iterations: int | None = None,
) -> torch.Tensor:
    """Walk the flipping change ``d`` (``x0 + d`` flips; ``m0``: the margin at ``x0``) along the decision
    boundary toward ``x0`` (:func:`boundary_walk`); a change that flips and is no larger than ``d``."""
    return boundary_walk(obj, x0, d, m0, stop, iterations).change


def boundary_walk(
    obj: Objective, x0: torch.Tensor, d: torch.Tensor, m0: float, stop: Callable[[], bool],
    iterations: int | None = None,
) -> Refined:
    """The boundary refinement (module docstring, 2.): at most ``1 + iterations`` gradient evaluations
    (default ``REFINE_ITERATIONS``) and ``POLISH_EVALUATIONS`` forward passes. Every change kept was tested
    to flip and is smaller than the last."""
    iterations = REFINE_ITERATIONS if iterations is None else int(iterations)
    if stop():
        return Refined(d, None)
    z, m, g = obj.margin_and_grad(x0 + d)
    if not obj.flipped(z) or not _usable(g):
        return Refined(d, None)
    best, best_norm, best_m, best_g = d, sums.norm(d), float(m), g
    cur, cur_m, cur_g = d, float(m), g
    normal = None
    kappa = 1.0  # actual / linearly predicted scale back to the boundary (running average)
    evals = 0
    while evals < iterations and not stop():
        unit = sums.unit(cur_g)
        normal = unit if normal is None else AVERAGE * normal + (1.0 - AVERAGE) * unit
        n = normal / max(sums.norm(normal), 1e-30)
        along = sums.dot(n, cur)
        u = (x0 + cur - BLEND * (cur - along * n)).clamp(0.0, 1.0) - x0
        gu = sums.dot(cur_g, u)
        c = sums.dot(cur_g, cur) - cur_m  # the linearised boundary at cur: g·(x - x0) = c (< 0)
        if not (gu < 0.0 and c < 0.0):
            break
        s_lin = c / gu
        s = s_lin * kappa * (1.0 + OVERSHOOT)
        for attempt in range(2):  # one Newton correction along the ray when the first point does not flip
            evals += 1
            cand = (x0 + s * u).clamp(0.0, 1.0) - x0
            z, m2, g2 = obj.margin_and_grad(x0 + cand)
            flipped, m2 = obj.flipped(z), float(m2)
            if flipped or attempt == 1 or evals >= iterations or stop():
                break
            g2u = sums.dot(g2, u)
            if not g2u < 0.0:
                break
            s = (s - m2 / g2u) * (1.0 + OVERSHOOT)
        if not (_usable(g2) and bool(torch.isfinite(cand).all())):
            break
        kappa = 0.5 * kappa + 0.5 * s / s_lin
        cur, cur_m, cur_g = cand, m2, g2
        size = sums.norm(cand)
        if flipped and size < best_norm:
            best, best_norm, best_m, best_g = cand, size, m2, g2
    polished = _polish(obj, x0, best, best_m, best_g, m0, stop)
    if polished is not None and sums.norm(polished) < best_norm:
        best = polished
    return Refined(best, best_g)


def _usable(g: torch.Tensor) -> bool:
    gg = sums.dot(g, g)
    return gg > 0.0 and gg == gg and gg != float("inf")


def _polish(obj, x0, d, m_d, g_d, m0, stop) -> torch.Tensor | None:
    """The smallest tested flipping ``x0 + s·d`` with s < 1 (``d`` flips with margin ``m_d`` < 0 and
    gradient ``g_d``): Newton along the ray from s = 1, then regula falsi once bracketed; ``None`` if no
    tested point flipped."""
    k = sums.dot(g_d, d)  # d margin / d s near s = 1
    if not (k < 0.0 and m_d < 0.0):
        return None
    aim = POLISH_MARGIN * m0
    lo = m_lo = None
    hi, m_hi = 1.0, m_d
    for _ in range(POLISH_EVALUATIONS):
        if stop():
            break
        if lo is None:
            s = hi - (m_hi + aim) / k
        else:
            s = (lo + (hi - lo) * m_lo / (m_lo - m_hi)) * (1.0 + POLISH_MARGIN)
        if not (0.0 < s < hi):
            break
        z = obj.forward((x0 + s * d).clamp(0.0, 1.0))
        m = float(obj.margin(z)[0])
        if obj.flipped(z):
            hi, m_hi = s, min(m, -1e-12)
        else:
            lo, m_lo = s, max(m, 1e-12)
        if lo is not None and hi - lo <= POLISH_TOLERANCE * hi:
            break
    return None if hi >= 1.0 else (x0 + hi * d).clamp(0.0, 1.0) - x0
