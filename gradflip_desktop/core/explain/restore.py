"""The flip-back search of the region style and its importance map (see :mod:`.mask`).

From the fully detail-removed image, which cells of the mask must get their detail back for the explained
class to return? The same step loop (:mod:`.search`) on :class:`~.mask.RestoreObjective`. The importance
map is the mean of the deletion mask (where the deletion search flipped) and of one minus the restore mask.
"""

from __future__ import annotations

import numpy as np
import torch

from ..options import Status
from .mask import MaskCoordinates, RestoreObjective
from .search import Point, SearchContext, SearchParams, search

RESTORE_BUDGET = 30  # gradient steps at most for the flip-back search


def restore_search(ctx, explained: list[int], c_deleted: torch.Tensor):
    """The flip-back search and the importance map (a generator: yields the restore Steps).

    ``ctx``: the run's :class:`~.search.SearchContext` (its coordinates must be :class:`MaskCoordinates`);
    ``c_deleted``: the mask where the deletion search flipped. Returns the H x W float32 importance map
    in [0, 1]: the mean of the deletion mask and of (1 − the restore mask), each scaled to a maximum of 1;
    the deletion mask alone when the fully detail-removed image is still the explained class (nothing to
    restore) or the restore search ends without the class coming back.
    """
    coords: MaskCoordinates = ctx.coords
    obj = ctx.objective
    deleted = coords.weights(c_deleted)[0, 0]
    deleted = deleted / deleted.max().clamp_min(1e-12)
    restore = RestoreObjective(obj.clf, explained, None, coords.x0)
    full = coords.full()
    try:
        start = Point.at(restore, full, coords.image(full))
        if restore.flipped(start.z):
            return deleted.cpu().numpy().astype(np.float32)
        rctx = SearchContext(objective=restore, options=ctx.options, coords=coords, steps=ctx.steps, stop=ctx.stop)
        outcome = yield from search(
            rctx,
            SearchParams(start=start, epsilon=float(ctx.options.epsilon),
                         budget=min(RESTORE_BUDGET, int(ctx.options.max_steps)),
                         success=lambda zn, xn: restore.flipped(zn), phase="restore"),
        )
    finally:
        obj.grad_evals += restore.grad_evals
        obj.fwd_evals += restore.fwd_evals
    if outcome.c is None or outcome.status != Status.FLIPPED:
        return deleted.cpu().numpy().astype(np.float32)
    kept = 1.0 - coords.weights(outcome.c)[0, 0]
    kept = kept / kept.max().clamp_min(1e-12)
    return (0.5 * (deleted + kept)).cpu().numpy().astype(np.float32)
