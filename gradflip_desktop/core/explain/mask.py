"""The default ("region") search space: a smooth low-resolution mask that removes detail.

The image is ``x(m) = x0 + up(m) · (fill − x0)``: ``m`` is a grid of ``cells`` x ``cells·w/h`` amounts in
[0, 1] (about :data:`CELLS` cells along the long side, whatever the image size), ``up`` is bilinear
upsampling to the working resolution and ``fill`` is the image with its detail removed (a Gaussian blur of
σ = long side / :data:`FILL_BLUR_DIVISOR`). GradFlip's loop runs unchanged in this space
(:mod:`.search`): normalised gradient steps on the log-odds of the explained class, pulled back to the
mask, until the class flips. So the change is a few smooth blobs of removed detail, not speckle, and the
mask is driven only by the model's gradient.

Why this space (measured in ``benchmarks/faithfulness.py``, see docs/benchmarks.md): per-pixel changes
find the network's most sensitive pixels (edges, texture) — a valid counterfactual, but a poor ranking of
what carries the class; RISE and Extremal Perturbations rank well because they perturb *smooth
low-resolution regions* toward a *meaningless fill-in*. The mask space keeps both properties at the cost
of ~10–20 gradient steps instead of RISE's thousands of forward passes.

After the deletion search (what to remove so the class flips) a second search runs the other way
(:class:`RestoreObjective`, driven by :mod:`.restore`): from the fully detail-removed image, which cells must get their detail back
for the class to return ("flip back"). The importance map is the mean of the two answers, so it ranks
regions both by what removing them breaks and by what keeping them preserves (the deletion and the
insertion view of the same question; Fong & Vedaldi 2017 / Fong et al. 2019 show that one alone wins one
curve and loses the other).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..viz.filters import gaussian_blur, gaussian_blur_fft
from . import sums
from .objective import Objective

CELLS = 14  # mask cells along the long side of the image (224 px -> 16 px cells)
FILL_BLUR_DIVISOR = 8.0  # fill-in: Gaussian blur with sigma = long side / this (28 px at 224 px)
MASK_STEP = 0.15  # RMS change of the mask per step at the default epsilon (see MaskCoordinates.scale)
DEFAULT_EPSILON = 0.0002  # ExplainOptions().epsilon: epsilon / DEFAULT_EPSILON scales MASK_STEP


def grid_shape(h: int, w: int, cells: int = CELLS) -> tuple[int, int]:
    """Mask grid (rows, columns): ``cells`` along the long side, at least 2 each way."""
    s = cells / max(h, w)
    return max(2, min(h, round(h * s))), max(2, min(w, round(w * s)))


def upsample(m: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """1 x 1 x gh x gw -> 1 x 1 x h x w, bilinear (half-pixel centres): smooth, no blocks."""
    return F.interpolate(m, size=(h, w), mode="bilinear", align_corners=False)


EXACT_FILL_SIDE = 512  # up to this long side (px) the wide blurs are a direct convolution; above, an FFT
FILL_LADDER = (FILL_BLUR_DIVISOR, 3.0)  # blur sigmas tried, as long side / divisor; then the mean colour


def wide_blur(t: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of an N x C x H x W tensor with a wide ``sigma`` (px), exact at every size.

    Up to EXACT_FILL_SIDE px on the long side by direct convolution; above, by FFT (the same blur to float
    rounding; 0.2 s at 1,024 px). It was computed on a copy area-downsampled by σ/4 and brought back up
    bilinearly: off by up to 0.065 (0.02 inside) on real photos, enough that an unseen rocket's key region
    flipped with this fill-in and not with the blur the record names."""
    h, w = t.shape[-2:]
    if max(h, w) <= EXACT_FILL_SIDE:
        return gaussian_blur(t, sigma)
    return gaussian_blur_fft(t, sigma)


def detail_removed(x0: torch.Tensor, divisor: float = FILL_BLUR_DIVISOR) -> torch.Tensor:
    """The fill-in: x0 blurred with σ = long side / ``divisor`` (at least 1 px), clipped to [0, 1]."""
    h, w = x0.shape[-2:]
    return wide_blur(x0, max(1.0, max(h, w) / divisor)).clamp(0.0, 1.0)


def fill_ladder(x0: torch.Tensor, first: torch.Tensor | None = None):
    """The fill-ins from least to most detail removed: blurs of growing σ, then the mean colour.
    Yields (name, 1 x 3 x H x W tensor), computed only when asked for; ``first``: the first rung, if known."""
    for i, divisor in enumerate(FILL_LADDER):
        yield f"blur sigma = long side / {divisor:g}", first if (i == 0 and first is not None) else detail_removed(x0, divisor)
    yield "mean colour", sums.channel_means(x0).expand_as(x0).contiguous()


class MaskCoordinates:
    """Search coordinates = a low-resolution mask m in [0, 1] (1 x 1 x gh x gw); see the module doc.

    Same protocol as the other coordinates (:mod:`.coordinates`): ``start()``, ``image(m)``, ``grad(g)``
    (the image gradient pulled back through the upsampling: the adjoint of ``image``), ``scale`` and
    ``blur_amount(x)``. ``scale`` makes the default ε (0.0002) a mask step of RMS :data:`MASK_STEP`;
    other ε scale it proportionally.
    """

    def __init__(self, x0: torch.Tensor, cells: int = CELLS, fill: torch.Tensor | None = None):
        self.x0 = x0
        h, w = x0.shape[-2:]
        self.size = (h, w)
        self.grid = grid_shape(h, w, cells)
        self.fill = (detail_removed(x0) if fill is None else fill).detach()
        self.d = (self.fill - x0).detach()
        self.scale = MASK_STEP / DEFAULT_EPSILON * math.sqrt(self.grid[0] * self.grid[1])

    fill_name = f"blur sigma = long side / {FILL_BLUR_DIVISOR:g}"

    def choose_fill(self, obj: Objective, stop: Callable[[], bool] | None = None) -> bool:
        """Use the least detail-removing fill-in of :func:`fill_ladder` whose full application flips the
        decision (one forward pass each; usually the first). When none flips, the strongest is kept
        and the search reports that it found no flip. Returns whether the chosen fill-in flips.
        ``stop()`` (polled before each forward pass) ends the choice early."""
        flips = False
        for i, (name, fill) in enumerate(fill_ladder(self.x0, first=self.fill)):
            if stop is not None and stop():
                break
            self.fill, self.fill_name = fill.detach(), name
            flips = obj.flipped(obj.forward(fill))
            if flips:
                break
        self.d = (self.fill - self.x0).detach()
        return flips

    def start(self) -> torch.Tensor:
        return torch.zeros((1, 1, *self.grid), dtype=self.x0.dtype, device=self.x0.device)

    def full(self) -> torch.Tensor:
        return torch.ones((1, 1, *self.grid), dtype=self.x0.dtype, device=self.x0.device)

    def weights(self, m: torch.Tensor) -> torch.Tensor:
        """The mask at working resolution, 1 x 1 x H x W in [0, 1]."""
        return upsample(m, *self.size)

    def image(self, m: torch.Tensor) -> torch.Tensor:
        return self.x0 + self.weights(m) * self.d

    def grad(self, g: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            m = torch.zeros((1, 1, *self.grid), dtype=g.dtype, device=g.device, requires_grad=True)
            up = upsample(m, *self.size)
            (gm,) = torch.autograd.grad(up, m, grad_outputs=(g * self.d).sum(1, keepdim=True))
        return gm

    def blur_amount(self, x: torch.Tensor) -> np.ndarray:
        """Per-pixel amount of detail removed in ``x`` (least squares over the channels), H x W in [0, 1]."""
        d_sq = self.d.pow(2).sum(1, keepdim=True)
        m = ((x - self.x0) * self.d).sum(1, keepdim=True) / d_sq.clamp_min(1e-12)
        m = torch.where(d_sq > 1e-12, m, torch.zeros_like(m)).clamp(0.0, 1.0)
        return m[0, 0].detach().cpu().numpy().astype(np.float32)


class RestoreObjective(Objective):
    """The "flip back" search: starting where the explained class (group) is gone, raise its log-odds
    until it is on top again. ``success`` = :meth:`flipped` = an explained class is the arg-max."""

    def loss(self, z: torch.Tensor) -> torch.Tensor:
        return -self.score(z)

    def switch_to_margin(self, z: torch.Tensor) -> bool:
        return False  # the flip back raises the group's log-odds throughout

    def flipped(self, z: torch.Tensor) -> bool:
        top = int(torch.argmax(z[0]))
        return bool(self.explained_mask[top])


FLAT = 1e-4  # a mask whose values all lie within this of each other is even: the rest is float rounding


def unit_scaled(w: torch.Tensor) -> torch.Tensor:
    """``w`` (>= 0) scaled to a maximum of 1; an even mask (all values within :data:`FLAT`) is 1 everywhere, or 0
    where it is ~0 everywhere. Scaling float rounding up made stripes: with ``--coarse`` 14 or more the mask is
    one cell, its upsampled weights equal up to ~1e-7, and the flip-back half (1 - a mask near 1) was that noise
    scaled to [0, 1], bright single rows the key region was then built from."""
    w = w.clamp_min(0.0)
    top = w.max()
    if float(top - w.min()) <= FLAT:
        return torch.full_like(w, 1.0 if float(top) > FLAT else 0.0)
    return w / top
