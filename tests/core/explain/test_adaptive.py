"""The adaptive step length and the ``stalled`` outcomes, deterministically (core/explain/search.py).

The model is a known 1-D landscape of the image mean m (logits ``[S(m), 0]``, class "a" wins while S > 0,
which it always does here). Its gradient is the same for every pixel, so a step of ε moves every pixel,
and m, by exactly ε: the predicted decrease is S'(m)·ε and the actual one S(m) − S(m − ε), both known.

    S(m) = 1 + 10·(m − 0.45)      for m ≥ 0.45   (steep and linear: ratio 1, ε grows ×1.5)
         = 1 − 0.5·(0.45 − m)     for 0.40 ≤ m < 0.45 (almost flat: a step from the steep part
                                                    gains far less than predicted, ε shrinks ×0.7)
         = 0.975 + 50·(0.40 − m)  for m < 0.40   (a wall: a step into it raises S, it is rejected, ε halves)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.explain.search import GOOD_RATIO, GROW, PATIENCE, POOR_RATIO, REJECT, SHRINK, STUCK
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing
from gradflip_desktop.core.options import EPS_MAX, EPS_MIN, ExplainOptions, Status


def s_of_m(m):
    relu = (lambda v: torch.relu(v)) if isinstance(m, torch.Tensor) else (lambda v: max(v, 0.0))
    return 1 + 10 * relu(m - 0.45) - 0.5 * relu(0.45 - m) + 50.5 * relu(0.40 - m)


def slope(m: float) -> float:
    return 10.0 if m > 0.45 else (0.5 if m > 0.40 else -50.0)


class Landscape(nn.Module):
    def forward(self, x):
        s = s_of_m(x.mean((1, 2, 3)))
        return torch.stack([s, torch.zeros_like(s)], 1)


class Ramp(nn.Module):
    """S = 1 + 10·m: pushing S down pushes every pixel toward 0, where it cannot go further."""

    def forward(self, x):
        s = 1 + 10 * x.mean((1, 2, 3))
        return torch.stack([s, torch.zeros_like(s)], 1)


def classifier(net: nn.Module) -> Classifier:
    pre = Preprocessing(input_size=(8, 8), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    return Classifier(module=PixelSpaceModel(net, pre).eval(), labels=["a", "b"], name="landscape", preprocessing=pre)


def reference(m: float, eps: float, budget: int, floor: float = EPS_MIN) -> list[tuple[float, bool]]:
    """The documented rule, in float64 on the analytic landscape: [(ε used, accepted), ...] until ε < floor."""
    out = []
    for _ in range(budget):
        predicted = slope(m) * eps
        actual = s_of_m(m) - s_of_m(m - eps)
        used = eps
        if actual <= 0:
            eps, accepted = eps * 0.5, False
        elif actual / predicted > 0.75:
            eps, accepted = min(eps * 1.5, EPS_MAX), True
        elif actual / predicted < 0.25:
            eps, accepted = eps * 0.7, True
        else:
            accepted = True
        if accepted:
            m -= used
        out.append((used, accepted))
        if eps < floor:
            break
    return out


def test_rule_constants_are_the_documented_ones():
    assert (GROW, SHRINK, REJECT, GOOD_RATIO, POOR_RATIO) == (1.5, 0.7, 0.5, 0.75, 0.25)


def test_adaptive_epsilon_grows_shrinks_and_halves_on_reject():
    img = np.full((8, 8, 3), 0.5, np.float32)
    res = run(classifier(Landscape()), img, ExplainOptions(style="free", mode="adaptive", epsilon=0.01, max_steps=500))
    eps = [s.epsilon for s in res.steps]
    accepted = [s.accepted for s in res.steps]
    # by hand: m = 0.5 -> 0.49 -> 0.475 -> 0.4525 (x1.5 each: linear, ratio 1); the 4th step lands at
    # 0.41875 on the flat part (ratio 0.12: x0.7); the 5th would cross the wall (rejected: /2); ...
    e = 0.01
    expected = [
        (e, True), (1.5 * e, True), (1.5**2 * e, True), (1.5**3 * e, True),
        (0.7 * 1.5**3 * e, False), (0.5 * 0.7 * 1.5**3 * e, True), (1.5 * 0.5 * 0.7 * 1.5**3 * e, False),
        (0.5 * 1.5 * 0.5 * 0.7 * 1.5**3 * e, False), (0.25 * 1.5 * 0.5 * 0.7 * 1.5**3 * e, True),
    ]
    assert eps[: len(expected)] == pytest.approx([x for x, _ in expected], rel=1e-9)
    assert accepted[: len(expected)] == [a for _, a in expected]
    # the whole sequence follows the rule, step by step, until the step length falls below STUCK of its start
    ref = reference(0.5, 0.01, 500, floor=STUCK * 0.01)
    n = len(ref)
    assert n > 10
    assert eps[:n] == pytest.approx([x for x, _ in ref], rel=1e-6)
    assert accepted[:n] == [a for _, a in ref]
    # a rejected step leaves the image (and the score) where it was; an accepted one lowers the score
    for prev, step in zip(res.steps[:n], res.steps[1:n]):
        if step.accepted:
            assert step.score < prev.score
        else:
            assert step.score == prev.score and step.l2 == prev.l2
    # then (the free style can change any pixel: a flip may lie beyond a crease) whole steps of the longest ε
    # an adaptive step was accepted at; at the wall they find no lower score, and PATIENCE of them end the run
    whole = res.steps[n:]
    assert len(whole) == PATIENCE and all(s.accepted for s in whole)
    assert [s.epsilon for s in whole] == pytest.approx([1.5**3 * 0.01] * PATIENCE, rel=1e-9)
    lowest = min(s.score for s in res.steps[:n])
    assert all(s.score >= lowest for s in whole) and max(s.score for s in whole) > lowest + 1
    # stalled, with its own message, at the lowest point reached (not where the last whole step left it)
    assert res.status == Status.STALLED
    assert res.message == (f"the score stopped falling: neither shorter steps nor {PATIENCE} whole steps along the "
                           "gradient lowered it further, and the decision did not flip (a local optimum)")
    m_final, m_lowest = float(res.adjusted_pixels.mean()), 0.5 - sum(e for e, ok in ref if ok)
    assert 0.40 < m_final == pytest.approx(m_lowest, abs=1e-5) and np.isfinite(res.delta).all()


def test_fixed_mode_keeps_epsilon_and_accepts_every_step():
    img = np.full((8, 8, 3), 0.5, np.float32)
    res = run(classifier(Landscape()), img, ExplainOptions(style="free", mode="fixed", epsilon=0.01, max_steps=12))
    assert [s.epsilon for s in res.steps] == [0.01] * 12
    assert all(s.accepted for s in res.steps)
    assert res.status == Status.BUDGET  # the wall is no obstacle to the fixed mode, but S never drops below 0


def test_stalled_when_every_pixel_is_at_its_limit():
    img = np.zeros((8, 8, 3), np.float32)  # the gradient pushes every pixel below 0: clipping keeps them
    res = run(classifier(Ramp()), img, ExplainOptions(style="free", mode="fixed", epsilon=0.01))
    assert res.status == Status.STALLED and not res.flipped
    assert res.message == "every pixel the gradient points at is already at its limit; the image cannot change further"
    assert res.steps == [] and res.gradient_evaluations == 1
    assert np.array_equal(res.delta, np.zeros_like(res.delta))


def test_a_mask_style_at_its_limit_says_so_in_its_own_terms():
    """The key-region style stalled with the textbook style's "every pixel … at its limit", though it steps a mask
    of removed detail, not pixels."""
    from gradflip_desktop.core.explain.search import FREE_ADVICE, MASK_AT_LIMIT

    class DarkDots(nn.Module):  # S rises with the dark dots' brightness: removing their detail (blur) raises it
        def __init__(self, where):
            super().__init__()
            self.register_buffer("w", where)

        def forward(self, x):
            s = 1 + 10 * (x * self.w).sum((1, 2, 3)) / self.w.sum()
            return torch.stack([s, torch.zeros_like(s)], 1)

    img = np.full((8, 8, 3), 0.9, np.float32)
    img[2, 2] = img[5, 5] = 0.1  # two dark dots on a bright photo
    where = torch.zeros(1, 3, 8, 8)
    where[..., 2, 2] = where[..., 5, 5] = 1.0
    res = run(classifier(DarkDots(where)), img, ExplainOptions(style="region", mode="fixed", epsilon=0.01))
    assert res.status == Status.STALLED and not res.flipped, (res.status, res.message)
    assert MASK_AT_LIMIT.removesuffix(FREE_ADVICE) in res.message and "every pixel" not in res.message
    assert res.message.count("--style free") == 1, res.message  # the advice once (no fill-in flips it: said after)


def test_the_rule_at_its_edges_a_step_that_does_not_lower_the_score_is_rejected_and_eps_stops_at_eps_max():
    """The documented rule where the landscape above never goes: a step whose score did not fall at all (actual
    decrease exactly 0) is rejected like one that rose, and growing never takes ε past ``EPS_MAX``."""
    from gradflip_desktop.core.explain.search import adapt

    assert adapt(0.02, 0.01, 0.0) == (0.02 * REJECT, False)  # no decrease: the image stays, ε halves
    assert adapt(0.02, 0.01, -1e-9) == (0.02 * REJECT, False)
    assert adapt(0.02, 0.01, 0.01) == (0.02 * GROW, True)
    assert adapt(EPS_MAX, 0.01, 0.01) == (EPS_MAX, True)  # a good step at the longest ε keeps it there
    assert adapt(0.9 * EPS_MAX, 0.01, 0.01) == (EPS_MAX, True)  # 1.35 x EPS_MAX is cut back to it


def test_a_stalled_free_search_ends_on_its_longest_accepted_step_not_the_rejected_one():
    """(a mutation audit, session 43: the rescue's whole steps took the grown ε of a rejected step, 1.5× too long.)
    Steep, then a wall: three accepted growing steps, a rejected fourth, and the run stalls at the longest accepted."""

    class SteepThenWall(nn.Module):
        def forward(self, x):
            m = x.mean((1, 2, 3))
            s = 1 + 10 * torch.relu(m - 0.45) + 50 * torch.relu(0.45 - m)
            return torch.stack([s, torch.zeros_like(s)], 1)

    img = np.full((8, 8, 3), 0.5, np.float32)
    res = run(classifier(SteepThenWall()), img, ExplainOptions(style="free", mode="adaptive", epsilon=0.01, max_steps=500))
    eps, acc = [s.epsilon for s in res.steps], [s.accepted for s in res.steps]
    assert eps[:4] == pytest.approx([0.01, 0.015, 0.0225, 0.03375], rel=1e-9) and acc[:4] == [True, True, True, False]
    assert res.status == Status.STALLED
    assert res.steps[-1].epsilon == pytest.approx(0.0225, rel=1e-9)
