"""The minimise pass (core/explain/minimise.py): bisection on alpha for the smallest alpha*delta that flips."""

from __future__ import annotations

import pytest

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
