"""Fixtures for fast core tests: a tiny deterministic pixel-space classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing


class TinyNet(nn.Module):
    """3 -> 6 conv (3x3), tanh, global average pool, linear to ``classes`` logits. Seeded weights."""

    def __init__(self, classes: int = 4, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6, classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.8)

    def forward(self, x):
        return self.fc(torch.tanh(self.conv(x)).mean((2, 3)))


def make_tiny(classes: int = 4, seed: int = 0, size: int = 16) -> Classifier:
    pre = Preprocessing(input_size=(size, size), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    module = PixelSpaceModel(TinyNet(classes, seed), pre).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    labels = [f"class{i}" for i in range(classes)]
    return Classifier(module=module, labels=labels, name="tiny", groups={"low": [0, 1]}, preprocessing=pre)


@pytest.fixture
def tiny():
    return make_tiny()


@pytest.fixture
def tiny_image():
    """A smooth 24 x 32 RGB image with values inside (0.2, 0.8), so no step is clipped at first."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.7, size=(6, 8, 3)).astype(np.float32)
    return np.kron(base, np.ones((4, 4, 1), dtype=np.float32))
