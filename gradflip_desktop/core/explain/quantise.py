"""The 8-bit pass: the saved 8-bit PNG must flip too.

If the quantised minimised change no longer flips, α grows (×1.25 + 0.01) back toward 1; if even the
full change fails once quantised, the search keeps stepping (at most ``extra_steps``) with success
tested on the quantised image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator

import torch

from ..results import Step
from . import sums
from .search import Point, SearchContext, SearchParams, search

if TYPE_CHECKING:  # pragma: no cover
    from .runner import RunState


def quantize_tensor(x: torch.Tensor) -> torch.Tensor:
    """What saving as 8-bit PNG and loading back gives: rounds exactly like :func:`images.to_uint8`
    (x·255 in float64; in float32 a few values per million round to the other level, so the image
    tested would differ from the PNG saved)."""
    if x.device.type == "mps":  # no float64 on Apple GPUs
        return quantize_tensor(x.cpu()).to(x.device)
    levels = torch.round(x.double() * 255.0).clamp_(0.0, 255.0)
    return levels.to(x.dtype) / 255.0


def eight_bit(
    ctx: SearchContext, state: "RunState", c_full: torch.Tensor, delta: torch.Tensor
) -> Generator[Step, None, torch.Tensor]:
    """Make ``x0 + state.alpha·delta`` survive 8-bit quantisation; returns the float image (``state.alpha``
    is updated to the α used; 1.0 once extra steps start).

    The image returned may still fail once quantised (the caller checks); ``c_full`` are the search
    coordinates at ``x0 + delta`` (where extra steps start).
    """
    obj, opts, stop = ctx.objective, ctx.options, ctx.stop
    x0 = obj.x0
    x_min = x0 + state.alpha * delta
    if obj.flipped(obj.forward(quantize_tensor(x_min))):
        return x_min
    a = state.alpha
    while a < 1.0 and not stop():
        a = min(1.0, a * 1.25 + 0.01)
        x = x0 + a * delta
        if obj.flipped(obj.forward(quantize_tensor(x))):
            state.alpha = a
            return x
    if stop() or opts.extra_steps <= 0:
        return x0 + delta
    state.alpha = 1.0
    x = x0 + delta
    outcome = yield from search(
        ctx,
        SearchParams(
            start=Point.at(obj, c_full, x),
            epsilon=opts.epsilon,
            budget=int(opts.extra_steps),
            success=lambda z_new, x_new: obj.flipped(obj.forward(quantize_tensor(x_new))),
            phase="eight_bit",
        ),
    )
    return outcome.x


LATTICE_ROUNDS = 10  # searches for a lattice point; each after the first re-linearises at the last one found
# (10, not 5: the mean of more unit gradients ranks the one-level moves better; on the benchmark photos the
# saved change's median ratio to the peers went 0.849 -> 0.835, its mean 0.848 -> 0.814; 20 rounds: ~0.83;
# the cost: 5 gradients and ~20 forward passes more per free-style run, docs/benchmarks.md)
LATTICE_PROBES = 10  # forward passes of one search on the scale c, at most
LATTICE_TOLERANCE = 0.02  # a search on c stops when its bracket is this narrow (relative)
LATTICE_PRUNE_ROUNDS = 1  # gradient-guided rounds that undo the moves the flip does not need


def lattice(
    ctx: SearchContext, x_float: torch.Tensor, grad: torch.Tensor | None = None, m0: float | None = None
) -> torch.Tensor | None:
    """The 8-bit lattice pass: an 8-bit image (levels / 255) that flips and is close to the original, or
    ``None`` when none is found (the caller falls back to :func:`eight_bit`).

    Rounding the smallest float change to the nearest level throws most of it away: almost everywhere it
    is far below half a level. On the lattice, the change that lowers a linearised margin m by a given
    amount at the least squared cost moves value i by ``round(c·|n_i|)`` levels against the margin's
    gradient direction n (the greedy by marginal gain |n_i| / (2k + 1) of a separable convex problem): few
    values, the most sensitive ones, by one level or more. So: find the smallest c whose image flips (from
    the linear prediction, secant steps on the margin, then regula falsi); then *re-linearise*: the gradient
    at the lattice point found joins the running mean of the unit gradients seen (first: at the float
    optimum ``x_float``, ``grad`` when the refinement has it) and the search repeats with that mean, from the
    last c (``LATTICE_ROUNDS`` in all). One gradient describes the dense float change, not a sparse change of
    whole levels; on piecewise-linear networks it is also one facet's normal. The mean over the lattice
    points visited predicts which moves matter better. Then, guided by the mean including the gradient at
    the best lattice point, the moves the flip does not need are undone. Finally the plain rounding of a
    scaled copy of the float change is tried too, and the smaller of the two is kept. The image returned is
    exactly what is saved, and it was tested to flip. ``m0``: the margin at the original (computed if
    ``None``).
    """
    obj, stop = ctx.objective, ctx.stop
    x0 = obj.x0
    if x0.device.type == "mps":  # no float64 on Apple GPUs
        return None
    if grad is None:
        _, _, grad = obj.margin_and_grad(x_float)
    g = grad.double()
    if not _unit_ok(g):
        return None
    if m0 is None:
        m0 = float(obj.margin(obj.forward(x0))[0])
    if not m0 > 0.0:
        return None
    scaled0 = x0.double() * 255.0
    q0 = torch.round(scaled0).clamp_(0.0, 255.0)
    r = scaled0 - q0  # where the original sits between levels (0 for an 8-bit original)

    def moves_for(c: float, n: torch.Tensor) -> torch.Tensor:
        return torch.round(scaled0 - c * n).clamp_(0.0, 255.0) - q0

    def image(moves: torch.Tensor) -> torch.Tensor:
        return ((q0 + moves) / 255.0).to(x0.dtype)

    def flips(moves: torch.Tensor) -> bool:
        return obj.flipped(obj.forward(image(moves)))

    normals = [sums.unit(g)]
    direction = normals[0]
    c = _predicted_scale(g, moves_for, m0) * sums.norm(g)
    best, best_cost = None, float("inf")
    for round_ in range(LATTICE_ROUNDS):
        found = _smallest_scale(obj, lambda c_, n=direction: image(moves_for(c_, n)), c, m0, stop)
        if found is None:
            break
        c = found
        moves = moves_for(c, direction)
        cost = sums.dot(moves - r, moves - r)
        if cost < best_cost:
            best, best_cost = moves, cost
        if round_ == LATTICE_ROUNDS - 1 or stop():
            break
        _, _, gy = obj.margin_and_grad(image(moves))
        if not _unit_ok(gy.double()):
            break
        normals.append(sums.unit(gy.double()))
        direction = torch.stack(normals).mean(0)
    if best is None:
        return None
    for _ in range(LATTICE_PRUNE_ROUNDS):
        if stop():
            break
        _, _, gy = obj.margin_and_grad(image(best))
        if not _unit_ok(gy.double()):
            break
        normals.append(sums.unit(gy.double()))
        pruned = _prune(best, torch.stack(normals).mean(0), r, flips, stop)
        if torch.equal(pruned, best):
            break
        best = pruned
    y = image(best)
    if not obj.flipped(obj.forward(y)):
        return None
    # the rounding pass's answer on the same float change, when it is smaller
    rounded = _scaled_rounding(obj, x0, x_float - x0, sums.norm((y - x0).double()), stop)
    return y if rounded is None else rounded


def _unit_ok(g: torch.Tensor) -> bool:
    n = sums.norm(g)
    return n > 0.0 and n == n and n != float("inf")


def _predicted_scale(g: torch.Tensor, moves_for, m0: float) -> float:
    """The smallest c whose moves ``moves_for(c, g)`` lower the margin linearised with ``g`` by ``m0``
    (bisection on the prediction; no model evaluation)."""

    def drop(c: float) -> float:
        return -sums.dot(g, moves_for(c, g)) / 255.0

    lo, hi = 0.0, 0.5 / float(g.abs().max())
    while drop(hi) < m0 and hi < 1e30:
        lo, hi = hi, hi * 2.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if drop(mid) >= m0:
            hi = mid
        else:
            lo = mid
    return hi


def _smallest_scale(obj, image_at, c: float, m0: float, stop) -> float | None:
    """The smallest c tried whose lattice image ``image_at(c)`` flips, searched from ``c``: secant steps
    on the margin through the original's (c = 0, ``m0``) until bracketed, then regula falsi (kept 15 %
    inside the bracket) until it is ``LATTICE_TOLERANCE`` narrow; ``None`` when no image tried flips."""
    lo = m_lo = hi = m_hi = None
    for _ in range(LATTICE_PROBES):
        if stop() or not (c > 0.0 and c < 1e30):
            break
        z = obj.forward(image_at(c), obj.flipped)  # a flipping lattice point keeps its graph: the
        # gradient the next round re-linearises with costs only the backward pass there
        m = float(obj.margin(z)[0])
        if obj.flipped(z):
            hi, m_hi = c, min(m, -1e-12)
        else:
            lo, m_lo = c, max(m, 1e-12)
        if hi is not None and lo is not None:
            if hi - lo <= LATTICE_TOLERANCE * hi:
                break
            c = lo + (hi - lo) * m_lo / (m_lo - m_hi)
            c = min(max(c, lo + 0.15 * (hi - lo)), hi - 0.15 * (hi - lo))
        elif hi is None:  # nothing flips yet: the secant's root, at least 4 % and at most 2x further
            c = c * min(2.0, max(1.04, m0 / max(m0 - m_lo, 1e-12) * 1.02))
        else:  # flips, nothing below yet: back toward the secant's root
            c = c * min(1.0 / 1.04, max(0.5, m0 / (m0 - m_hi)))
    return hi


def _prune(moves, direction, r, flips, stop) -> torch.Tensor:
    """Undo the moves that help the flip least per unit of squared change they cost, as many as the flip
    allows (bisection on how many, weakest first; guided by the margin's gradient ``direction``)."""
    chosen = (moves != 0).flatten()
    count = int(chosen.sum())
    if count < 2 or stop():
        return moves
    help_ = (-direction * moves).flatten()[chosen]  # > 0: the move lowers the margin
    saved = ((moves - r) ** 2 - r**2).flatten()[chosen].clamp_min(1e-3)  # squared change it costs
    weakest = torch.argsort(help_ / saved, stable=True)
    idx = torch.nonzero(chosen, as_tuple=False).flatten()[weakest]

    def undo(k: int) -> torch.Tensor:
        out = moves.flatten().clone()
        out[idx[:k]] = 0.0
        return out.view_as(moves)

    lo, hi = 0, count  # undoing lo moves keeps the flip
    while hi - lo > max(1, count // 64) and not stop():
        mid = (lo + hi) // 2
        if flips(undo(mid)):
            lo = mid
        else:
            hi = mid
    return undo(lo)


def _scaled_rounding(obj, x0, d, limit: float, stop) -> torch.Tensor | None:
    """The nearest-level rounding of ``x0 + f·d`` for the smallest f >= 1 tried (×1.25 steps, then a
    bisection) that flips, if its L2 is below ``limit``; else ``None``. Forward passes only."""

    def rounded(f: float) -> torch.Tensor:
        return quantize_tensor((x0 + f * d).clamp(0.0, 1.0))

    def size(y: torch.Tensor) -> float:
        return sums.norm((y - x0).double())

    lo, f = 1.0, 1.0
    while True:
        y = rounded(f)
        if size(y) >= limit or stop():
            return None
        if obj.flipped(obj.forward(y)):
            break
        lo, f = f, f * 1.25
    for _ in range(3 if f > 1.0 else 0):
        mid = 0.5 * (lo + f)
        ym = rounded(mid)
        if obj.flipped(obj.forward(ym)):
            f, y = mid, ym
        else:
            lo = mid
    return y if size(y) < limit else None
