"""Search spaces: what the gradient steps move, and how that maps to an image.

``FreeCoordinates``: the pixels themselves (the textbook method). ``BlurCoordinates``: one amount
m in [0, 1] per pixel toward a blurred copy, so the change can only remove detail.
Both offer ``start()``, ``image(c)``, ``grad(g)`` (the image gradient pulled back to the coordinates),
``scale`` (coordinate step per ε so that ε keeps meaning RMS pixel change) and ``blur_amount(x)``.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import torch

from ..options import ExplainOptions
from ..viz.filters import gaussian_blur
from . import sums
from .mask import MaskCoordinates


class Coordinates(Protocol):
    x0: torch.Tensor
    scale: float

    def start(self) -> torch.Tensor: ...
    def image(self, c: torch.Tensor) -> torch.Tensor: ...
    def grad(self, g: torch.Tensor) -> torch.Tensor: ...
    def blur_amount(self, x: torch.Tensor) -> np.ndarray | None: ...


class FreeCoordinates:
    """The textbook search space: the pixels themselves, clipped to [0, 1]."""

    def __init__(self, x0: torch.Tensor):
        self.x0 = x0
        self.scale = math.sqrt(x0.numel())  # a step of eps RMS pixel units has L2 eps*sqrt(n)

    def start(self) -> torch.Tensor:
        return self.x0

    def image(self, c: torch.Tensor) -> torch.Tensor:
        return c

    def grad(self, g: torch.Tensor) -> torch.Tensor:
        return g

    def blur_amount(self, x: torch.Tensor) -> None:
        return None


class BlurCoordinates:
    """x = x0 + m * (blur(x0) - x0) with one amount m in [0, 1] per pixel: the change can only remove detail."""

    def __init__(self, x0: torch.Tensor, opts: ExplainOptions):
        h, w = x0.shape[-2:]
        sigma = opts.blur_sigma if opts.blur_sigma is not None else max(1.0, max(h, w) / 24.0)
        self.x0 = x0
        self.d = (gaussian_blur(x0, sigma).clamp(0.0, 1.0) - x0).detach()
        with sums.one_thread(self.d):
            rms = float(self.d.pow(2).mean().sqrt())
        # eps keeps its meaning (RMS pixel change per step): a step of eps/rms(d) in m changes pixels by ~eps RMS
        self.scale = math.sqrt(h * w) / rms if rms > 0 else math.sqrt(h * w)
        self.d_sq = self.d.pow(2).sum(1, keepdim=True)

    def start(self) -> torch.Tensor:
        return torch.zeros_like(self.x0[:, :1])

    def image(self, m: torch.Tensor) -> torch.Tensor:
        return self.x0 + m * self.d

    def grad(self, g: torch.Tensor) -> torch.Tensor:
        return (g * self.d).sum(1, keepdim=True)

    def blur_amount(self, x: torch.Tensor) -> np.ndarray:
        """Per-pixel amount m recovered from any image on the path (least squares over the channels)."""
        m = ((x - self.x0) * self.d).sum(1, keepdim=True) / self.d_sq.clamp_min(1e-12)
        m = torch.where(self.d_sq > 1e-12, m, torch.zeros_like(m)).clamp(0.0, 1.0)
        return m[0, 0].detach().cpu().numpy().astype(np.float32)


def coordinates_for(x0: torch.Tensor, opts: ExplainOptions) -> Coordinates:
    """The search space of ``opts.style``."""
    if opts.style == "region":
        return MaskCoordinates(x0)
    return BlurCoordinates(x0, opts) if opts.style == "blur" else FreeCoordinates(x0)
