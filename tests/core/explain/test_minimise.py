"""The minimise pass (core/explain/minimise.py): bisection on alpha for the smallest alpha*delta that flips."""

from __future__ import annotations

import pytest
import torch

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions


def test_minimise_never_grows_the_change(tiny, tiny_image):
    full = run(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=0.02, minimise=False, eight_bit=False))
    small = run(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=0.02, minimise=True, eight_bit=False, refine=False))
    assert full.flipped and small.flipped
    assert small.alpha < 1.0
    assert small.l2 == pytest.approx(small.alpha * full.l2, rel=1e-4)  # on the straight line
    # the boundary refinement (default) leaves the line, and only ever shrinks the change
    refined = run(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=0.02, eight_bit=False))
    assert refined.flipped and refined.alpha == pytest.approx(small.alpha, rel=0.01)
    assert refined.l2 <= small.l2 + 1e-6
    assert refined.l2_minimal_float == pytest.approx(refined.l2, rel=1e-5)


def test_the_bisection_on_alpha_returns_a_tested_alpha_that_flips(tiny, tiny_image):
    """minimise_alpha (the straight line's fallback when regula falsi found no flipping point): the α it returns
    flips, and is the smallest to the bisection's tolerance (α one tolerance below does not flip)."""
    from gradflip_desktop.core.explain.minimise import TOLERANCE, minimise_alpha
    from gradflip_desktop.core.explain.objective import Objective

    full = run(tiny, tiny_image, ExplainOptions(style="free", mode="fixed", epsilon=0.02, minimise=False, eight_bit=False))
    assert full.flipped
    x0 = torch.from_numpy(full.original_pixels).permute(2, 0, 1)[None]
    delta = torch.from_numpy(full.delta).permute(2, 0, 1)[None]
    obj = Objective(tiny, [full.original.index], None, x0)
    alpha = minimise_alpha(obj, x0, delta, lambda: False)
    assert 0.0 < alpha < 1.0
    assert obj.flipped(obj.forward(x0 + alpha * delta))
    assert not obj.flipped(obj.forward(x0 + (alpha - 2 * TOLERANCE) * delta))


class _CurvedBoundary(torch.nn.Module):
    """Logits [m, 0] with the margin m = 1 - 5u + (5v)² of u, v = the mean change of the red and green values:
    convex, so the boundary curves away from the original and a linear prediction of it falls short."""

    def forward(self, x):
        u, v = x[:, 0].mean((1, 2)) - 0.5, x[:, 1].mean((1, 2)) - 0.5
        m = 1 - 5 * u + (5 * v) ** 2
        return torch.stack([m, torch.zeros_like(m)], 1)


@pytest.mark.parametrize("iterations", [1, 2, 6])
def test_the_boundary_walk_never_keeps_a_point_that_did_not_flip(iterations):
    """boundary_walk's first point (the linear prediction of the boundary) does not flip on this curved margin;
    the change it returns must still flip and be no larger than the one it started from (a smaller point that
    did not flip was kept: the record's smallest change would not change the decision)."""
    from gradflip_desktop.core.explain.minimise import boundary_walk
    from gradflip_desktop.core.explain.objective import Objective
    from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing

    pre = Preprocessing(input_size=(8, 8), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    clf = Classifier(module=PixelSpaceModel(_CurvedBoundary(), pre).eval(), labels=["a", "b"], name="curved",
                     preprocessing=pre)
    x0 = torch.full((1, 3, 8, 8), 0.5)
    d = torch.zeros_like(x0)
    d[:, 0], d[:, 1] = 0.45, 0.1  # m = 1 - 2.25 + 0.25 = -1: flips
    obj = Objective(clf, [0], None, x0)
    assert obj.flipped(obj.forward(x0 + d))
    change = boundary_walk(obj, x0, d, float(obj.margin(obj.forward(x0))[0]), lambda: False, iterations).change
    assert obj.flipped(obj.forward(x0 + change))
    assert float(change.norm()) <= float(d.norm())
