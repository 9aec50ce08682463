"""The 8-bit pass: the saved 8-bit PNG must flip too.

If the quantised minimised change no longer flips, α grows (×1.25 + 0.01) back toward 1; if even the
full change fails once quantised, the search keeps stepping (at most ``extra_steps``) with success
tested on the quantised image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generator

import torch

from ..results import Step
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


LATTICE_BISECTIONS = 8  # on the scale c of the lattice change (after a doubling search)
LATTICE_PRUNE_ROUNDS = 1  # gradient-guided rounds that undo the moves the flip does not need



def lattice(ctx: SearchContext, x_float: torch.Tensor) -> torch.Tensor | None:
    """The 8-bit lattice pass: an 8-bit image (levels / 255) that flips and is close to the original, or
    ``None`` when none is found (the caller falls back to :func:`eight_bit`).

    Rounding the smallest float change to the nearest level throws most of it away: almost everywhere it
    is far below half a level. On the lattice, the change that lowers a linearised margin m by a given
    amount at the least squared cost moves value i by ``round(c·|g_i|)`` levels against the gradient g
    (the greedy by marginal gain |g_i| / (2k + 1) of a separable convex problem): few values, the most
    sensitive ones, by one level or more. So: g = the margin's gradient at the float optimum ``x_float``;
    find the smallest c whose image flips (geometric search from the linear estimate, then bisection);
    then, guided by the gradient at that image, undo the moves the flip does not need. Finally the plain
    rounding of a scaled copy of the float change is tried too, and the smaller of the two is kept.
    Forward passes and two gradient evaluations; the image returned is exactly what is saved and it flips.
    """
    obj, stop = ctx.objective, ctx.stop
    x0 = obj.x0
    if x0.device.type == "mps":  # no float64 on Apple GPUs
        return None
    _, _, g = obj.margin_and_grad(x_float)
    if not bool(torch.isfinite(g).all()):
        return None
    g = g.double()
    gg = float((g * g).sum())
    if gg == 0.0:
        return None
    scaled0 = x0.double() * 255.0
    q0 = torch.round(scaled0).clamp_(0.0, 255.0)
    r = scaled0 - q0  # where the original sits between levels (0 for an 8-bit original)

    def moves_for(c: float) -> torch.Tensor:
        return torch.round(scaled0 - c * g).clamp_(0.0, 255.0) - q0

    def image(moves: torch.Tensor) -> torch.Tensor:
        return ((q0 + moves) / 255.0).to(x0.dtype)

    def flips(moves: torch.Tensor) -> bool:
        return obj.flipped(obj.forward(image(moves)))

    c = 0.5 / float(g.abs().max())  # the smallest c that moves anything: the largest |g| gets one level
    lo = 0.0
    while not flips(moves_for(c)):
        if stop() or c > 1e12:
            return None
        lo, c = c, c * 2.0
    for _ in range(LATTICE_BISECTIONS):
        if stop() or c - lo <= 0.01 * c:
            break
        mid = 0.5 * (lo + c)
        if flips(moves_for(mid)):
            c = mid
        else:
            lo = mid
    moves = moves_for(c)
    for _ in range(LATTICE_PRUNE_ROUNDS):
        pruned = _prune(obj, q0, r, moves, image, flips, stop)
        if torch.equal(pruned, moves):
            break
        moves = pruned
    y = image(moves)
    if not obj.flipped(obj.forward(y)):
        return None
    # the rounding pass's answer on the same float change, when it is smaller
    rounded = _scaled_rounding(obj, x0, x_float - x0, float((y - x0).double().norm()), stop)
    return y if rounded is None else rounded


def _prune(obj, q0, r, moves, image, flips, stop) -> torch.Tensor:
    """Undo the moves that help the flip least per unit of squared change they cost, as many as the flip
    allows (bisection on how many, weakest first; guided by the margin's gradient at the flipped image)."""
    if stop():
        return moves
    _, _, gy = obj.margin_and_grad(image(moves))
    chosen = (moves != 0).flatten()
    count = int(chosen.sum())
    if count < 2 or not torch.isfinite(gy).all():
        return moves
    help_ = (-gy.double() * moves).flatten()[chosen]  # > 0: the move lowers the margin
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
        return float((y - x0).double().norm())

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
