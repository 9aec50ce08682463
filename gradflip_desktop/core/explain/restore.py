"""The flip-back search of the region style and its importance map (see :mod:`.mask`).

From the fully detail-removed image, which cells of the mask must get their detail back for the explained
class to return? The same step loop (:mod:`.search`) on :class:`~.mask.RestoreObjective`. The importance
map is the mean of the deletion mask and of one minus the restore mask, each the mean of the masks its search
visits in the steps past its flip (see :func:`_continue`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..options import Status
from .mask import MaskCoordinates, RestoreObjective, unit_scaled, wide_blur
from .search import Point, SearchContext, SearchParams, search

RESTORE_BUDGET = 30  # gradient steps at most for the flip-back search
PAST_FLIP = 3  # steps the deletion search continues past its flip, to rank the cells beyond the first flip
RESTORE_PAST_FLIP = 10  # steps the flip-back search continues past its flip (see restore_search)
RESTORE_MODE = "fixed"  # step rule of the flip-back search ("adaptive" was the rule before; see restore_search)
AVERAGE_PAST_FLIP = True  # the steps past a flip answer with the mean of their masks (False: the last; see _continue)
CONTEXT_WEIGHT = 0.3  # share of the blurred copy of the map in the final map (see with_context)
CONTEXT_DIVISOR = 8.0  # its sigma: long side / this


def _continue(ctx: SearchContext, c: torch.Tensor, phase: str, steps: int, at: Point | None = None):
    """``steps`` more steps of the same search from mask ``c`` (nothing counts as success); returns the mean
    of the masks they visit (``c`` itself when none was taken).

    Why the mean and not the last mask: past its flip the search takes whole steps of a fixed length along
    a normalised gradient, so it circles the decision boundary (the class's log-odds goes +1.3, -1.9, +0.1,
    +1.9, ... on coffee) and the last mask is one sample of where it circles: a change of the logits by
    1e-6 (another float summation order) moved the map's ranking to a median Spearman correlation of 0.90
    with itself over the benchmark photos. The mean over the steps (Polyak averaging) is the steadier
    answer: 0.95, and better deletion/insertion on most photos, at no extra evaluation (docs/benchmarks.md,
    "Averaging past the flip"). ``at``: the search's point at ``c`` with its gradient, when the search that
    ended there has it (saves recomputing it)."""
    if steps <= 0 or ctx.stop():
        return c
    point = at if at is not None and at.c is c else Point.at(ctx.objective, c, ctx.coords.image(c))
    total, taken, last = torch.zeros_like(c), 0, c
    for _ in range(steps):
        out = yield from search(ctx, SearchParams(start=point, epsilon=float(ctx.options.epsilon), budget=1,
                                                  success=lambda zn, xn: False, phase=phase))
        if out.point is None:  # cancelled, stalled or failed: keep what was visited
            break
        point = out.point
        total += point.c
        taken += 1
        last = point.c
    if not AVERAGE_PAST_FLIP:
        return last
    return total / taken if taken else c


def _scaled(coords: MaskCoordinates, m: torch.Tensor) -> torch.Tensor:
    return unit_scaled(coords.weights(m)[0, 0])


def restore_search(ctx: SearchContext, explained: list[int], c_deleted: torch.Tensor, at: Point | None = None):
    """The rest of the region style's search and its importance map (a generator: yields the Steps).

    ``ctx``: the run's :class:`~.search.SearchContext` (its coordinates must be :class:`MaskCoordinates`);
    ``c_deleted``: the mask where the deletion search flipped (``at``: its point with the gradient there).
    The deletion search goes on for :data:`PAST_FLIP` steps (phase ``"sharpen"``: the cells it adds next
    rank below those of the flip); then the flip-back search runs from the fully detail-removed image, in fixed steps of the run's ε,
    until the class returns and :data:`RESTORE_PAST_FLIP` steps beyond (phase ``"restore"``). Returns the
    H x W float32 importance map in [0, 1]: the mean of the deletion mask and of (1 − the restore mask), each
    averaged over the steps past its flip (:func:`_continue`) and scaled to a maximum of 1;
    the deletion mask alone when the fully detail-removed image is still the explained class (nothing to
    restore) or the restore search ends without the class coming back. The key region is ranked by this map,
    the one shown and exported (ranked by the deletion half alone, its outline often lay away from the map's
    bright areas: none of a motorcycle's 2,327 region pixels among the map's brightest 2,327).
    """
    coords: MaskCoordinates = ctx.coords
    obj = ctx.objective
    # whole steps past the flip, as _continue says: in the run's adaptive mode a rejected step was tried again
    # unchanged (each of the PAST_FLIP calls starts at the run's ε), and the "mean" was the flip's mask 3 times
    sctx = dataclasses.replace(ctx, options=dataclasses.replace(ctx.options, mode="fixed"))
    c_deleted = yield from _continue(sctx, c_deleted, "sharpen", PAST_FLIP, at)
    deleted = _scaled(coords, c_deleted)
    alone = with_context(deleted).cpu().numpy().astype(np.float32)
    restore = RestoreObjective(obj.clf, explained, None, coords.x0)
    full = coords.full()
    try:
        start = Point.at(restore, full, coords.image(full))
        if restore.flipped(start.z) or ctx.stop():
            return alone
        # fixed steps: at the fully detail-removed image the log-odds is rough (a step of mask RMS 4e-4 along
        # the gradient can still lower the class), so the adaptive rule rejected up to 10 steps in a row,
        # shrank the step ~1000x and "flipped back" by an adversarially tiny restoration; whole steps
        # restore whole regions (docs/benchmarks.md, "Why this search space").
        ropts = dataclasses.replace(ctx.options, mode=RESTORE_MODE)
        rctx = SearchContext(objective=restore, options=ropts, coords=coords, steps=ctx.steps, stop=ctx.stop)
        outcome = yield from search(
            rctx,
            SearchParams(start=start, epsilon=float(ctx.options.epsilon),
                         budget=min(RESTORE_BUDGET, int(ctx.options.max_steps)),
                         success=lambda zn, xn: restore.flipped(zn), phase="restore"),
        )
        if outcome.c is None or outcome.status != Status.FLIPPED:
            return alone
        c_restored = yield from _continue(rctx, outcome.c, "restore", RESTORE_PAST_FLIP, outcome.point)
    finally:
        obj.grad_evals += restore.grad_evals
        obj.fwd_evals += restore.fwd_evals
    kept = unit_scaled(1.0 - coords.weights(c_restored)[0, 0])
    return with_context(0.5 * (deleted + kept)).cpu().numpy().astype(np.float32)


def with_context(m: torch.Tensor) -> torch.Tensor:
    """The map plus :data:`CONTEXT_WEIGHT` of itself blurred with σ = long side / :data:`CONTEXT_DIVISOR`,
    scaled to a maximum of 1. The searches leave many cells at exactly 0 (never needed) or 1 (saturated);
    the blurred copy orders those ties by how close they lie to the cells that mattered, so the ranking
    grows regions outward instead of jumping to scattered ties. H x W in, H x W out."""
    h, w = m.shape[-2:]
    wide = wide_blur(m[None, None], max(1.0, max(h, w) / CONTEXT_DIVISOR))[0, 0]
    out = (1.0 - CONTEXT_WEIGHT) * m + CONTEXT_WEIGHT * wide / wide.max().clamp_min(1e-12)
    return out / out.max().clamp_min(1e-12)


def only_seen(m: np.ndarray, preprocessing) -> np.ndarray:
    """The map with zero where the network never looks (the sides a centre crop cuts off; see
    ``Preprocessing.visible_box``), scaled to a maximum of 1 again; unchanged when it sees the whole image.
    The mask's bilinear cells and the context blur spread importance a few cells past the crop's edge:
    a wide photo explained by a centre-cropping model had 16 % of its map's mass on pixels that change nothing."""
    box = None if preprocessing is None else preprocessing.visible_box(*m.shape[-2:])
    if box is None:
        return m
    top, left, bottom, right = box
    out = np.zeros_like(m)
    out[top:bottom, left:right] = m[top:bottom, left:right]
    peak = float(out.max())
    return out / peak if peak > 0 else m

