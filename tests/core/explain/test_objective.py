"""The score the search moves (objective.py) on models seen in the wild: a freshly initialised network
whose logits are all tiny (torchvision's MobileNetV3 at random init gives |z| ~ 1e-9 over 1000 classes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers import TinyNet, tiny_image_array
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.explain.objective import Objective
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing
from gradflip_desktop.core.options import ExplainOptions, Status


class Scaled(nn.Module):
    """TinyNet's logits times ``scale``: the same decisions, logits of size ``scale``."""

    def __init__(self, classes: int, scale: float):
        super().__init__()
        self.net, self.scale = TinyNet(classes, seed=0), scale

    def forward(self, x):
        return self.net(x) * self.scale


def _classifier(classes: int, scale: float) -> Classifier:
    pre = Preprocessing(input_size=(16, 16), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    module = PixelSpaceModel(Scaled(classes, scale), pre).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return Classifier(module=module, labels=[f"c{i}" for i in range(classes)], name="scaled", preprocessing=pre)


def test_log_odds_sees_a_change_of_tiny_logits():
    # 1000 classes: logsumexp over the others is ~6.9, where float32 resolves only ~5e-7
    z = torch.full((1, 1000), 1e-9)
    z[0, 3] = 2e-9
    mask = torch.zeros(1000, dtype=torch.bool)
    mask[3] = True
    z2 = z.clone()
    z2[0, 3] = 1.5e-9
    s1, s2 = Objective.log_odds(z, mask), Objective.log_odds(z2, mask)
    assert float(s1 - s2) == pytest.approx(5e-10, rel=1e-3)


def test_a_model_with_tiny_logits_flips():
    """Logits ~1e-8 over 1000 classes: the decision is as clear as at scale 1 (argmax), but in float32 the
    log-odds did not change with any step, so every step was rejected and the run "stalled" at L2 = 0."""
    res = run(_classifier(1000, 1e-8), tiny_image_array(), ExplainOptions(style="free", max_steps=100))
    assert res.status == Status.FLIPPED, res.message
    assert res.final.index != res.original.index
    assert res.l2 > 0
    assert np.isfinite(res.adjusted_pixels).all()



def test_a_trained_models_logits_keep_float32_so_its_runs_do_not_move():
    """Only logits too close together for float32 are scored in float64: a trained model's logits differ by
    tens, and scoring them in float64 changed the searches' paths (the benchmark photos' maps and key regions
    moved: coffee's key region 3.9 % -> 9.5 %)."""
    mask = torch.zeros(1000, dtype=torch.bool)
    mask[3] = True
    z = torch.linspace(-5.0, 12.0, 1000)[None]
    assert Objective.log_odds(z, mask).dtype == torch.float32
    assert Objective.log_odds(torch.full((1, 1000), 1e-9), mask).dtype == torch.float64
