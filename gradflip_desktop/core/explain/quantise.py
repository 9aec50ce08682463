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
