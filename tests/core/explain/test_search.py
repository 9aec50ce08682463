"""The step loop (core/explain/search.py): one step is a normalised gradient step of the log-odds;
adaptive step length; smoothing and coarse-to-fine projections."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradflip_desktop.core.explain import explain, run
from gradflip_desktop.core.options import ExplainOptions, Status


def test_each_step_is_a_normalised_gradient_step_of_the_log_odds(tiny, tiny_image):
    """Fixed mode: X1 = clip(X0 - eps*sqrt(n) * g/|g|) with g the gradient of the log-odds of the top class."""
    eps = 0.002
    gen = explain(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=eps))
    step = next(gen)
    x1 = step.image()
    x = torch.from_numpy(tiny_image).permute(2, 0, 1)[None].clone().requires_grad_(True)
    z = tiny.module(x)[0]
    t = int(torch.argmax(z))
    others = torch.cat([z[:t], z[t + 1 :]])
    score = z[t] - torch.logsumexp(others, 0)
    (g,) = torch.autograd.grad(score, x)
    expected = (x.detach() - eps * math.sqrt(x.numel()) * g / g.norm()).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(x1, expected, atol=1e-6)
    assert step.l2 == pytest.approx(eps * math.sqrt(tiny_image.size), rel=1e-4)
    z1 = tiny.module(torch.from_numpy(x1).permute(2, 0, 1)[None])[0].detach()
    assert step.score == pytest.approx(float(z1[t] - torch.logsumexp(torch.cat([z1[:t], z1[t + 1 :]]), 0)), abs=1e-5)
    assert step.score < float(score.detach())  # the step lowered the log-odds
    assert step.probabilities.shape == (4,) and step.probabilities.sum() == pytest.approx(1, abs=1e-5)
    gen.close()
    assert step.image() is None  # the preview reference is dropped once the generator moves on


def test_adaptive_mode_rejects_overshoot_and_reports_it(tiny, tiny_image):
    res = run(tiny, tiny_image, ExplainOptions(style="free", mode="adaptive", epsilon=0.2, max_steps=100))
    assert res.status in (Status.FLIPPED, Status.BUDGET)
    eps = [s.epsilon for s in res.steps]
    assert all(e > 0 for e in eps)
    if any(not s.accepted for s in res.steps):
        i = next(i for i, s in enumerate(res.steps) if not s.accepted)
        assert res.steps[i + 1].epsilon == pytest.approx(res.steps[i].epsilon / 2) if i + 1 < len(res.steps) else True


def test_smoothing_makes_the_step_smooth(tiny, tiny_image):
    gen = explain(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=0.002, smoothing=3.0))
    d_smooth = next(gen).image() - tiny_image
    gen.close()
    gen = explain(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=0.002, smoothing=0.0))
    d_raw = next(gen).image() - tiny_image
    gen.close()

    def roughness(d):
        return float(np.abs(np.diff(d, axis=0)).mean() + np.abs(np.diff(d, axis=1)).mean()) / float(np.abs(d).mean())

    assert roughness(d_smooth) < 0.5 * roughness(d_raw)


def test_coarse_to_fine_change_is_blocky_smooth(tiny, tiny_image):
    gen = explain(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=0.002, coarse=8))
    d = next(gen).image() - tiny_image
    gen.close()
    # the change lives at 1/8 resolution: averaging over 8x8 blocks then upsampling changes it little
    t = torch.from_numpy(d).permute(2, 0, 1)[None]
    low = torch.nn.functional.adaptive_avg_pool2d(t, (3, 4))
    back = torch.nn.functional.interpolate(low, size=d.shape[:2], mode="bilinear", align_corners=False)
    assert float((back - t).norm() / t.norm()) < 0.35
    with pytest.raises(ValueError, match="coarse"):
        ExplainOptions(style="free", coarse=0).validate()


class _Flipped(torch.autograd.Function):
    """Identity forward, negated backward: a model whose gradient contradicts its output (timm's random-init
    EfficientFormer-L1 and XCiT-nano, in torch 2.14, give a backward pass finite differences disagree with)."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return -g


@pytest.mark.parametrize("style", ["free", "region", "blur"])
def test_a_gradient_that_contradicts_the_output_is_named_when_no_step_helps(tiny_image, style, monkeypatch):
    """Every style says so: the region style, when its fully detail-removed image does not flip, gave up after its
    step shrank 64-fold and called that a local optimum."""
    from helpers import make_tiny

    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.explain.coordinates import MaskCoordinates
    from gradflip_desktop.core.options import ExplainOptions, Status

    if style == "region":  # no fill-in flips (here it would: the search would go on to it and flip)
        choose = MaskCoordinates.choose_fill
        monkeypatch.setattr(MaskCoordinates, "choose_fill", lambda self, *a: choose(self, *a) and False)
    clf = make_tiny()
    net = clf.module.net
    clf.module.net = torch.nn.Sequential(_Wrap(_Flipped.apply), net)
    res = run(clf, tiny_image, ExplainOptions(style=style))
    assert res.status == Status.STALLED and res.l2 == 0
    assert "no step along the gradient lowered the score, not even the smallest" in res.message, res.message


class _Wrap(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)
