"""The 8-bit rounding pass (core/explain/quantise.py ``eight_bit``; ``lattice=False``), deterministically:
the saved 8-bit PNG must flip too. The lattice pass has its own tests in test_minimality.py.

The model's score is linear in the image mean m: logits ``[k·(m − m*), 0]``, so class "b" wins (the run
flips) once m < m*. The image is uniform at the 8-bit level 128, and the gradient is the same for every
pixel, so each fixed step lowers every pixel by exactly ε and 8-bit rounding acts on m directly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing
from gradflip_desktop.core.options import ExplainOptions, Status


class Threshold(nn.Module):
    def __init__(self, level: float):
        super().__init__()
        self.threshold = level / 255.0

    def forward(self, x):
        s = 100.0 * (x.mean((1, 2, 3)) - self.threshold)
        return torch.stack([s, torch.zeros_like(s)], 1)


def classifier(level: float) -> Classifier:
    pre = Preprocessing(input_size=(8, 8), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    net = PixelSpaceModel(Threshold(level), pre).eval()
    return Classifier(module=net, labels=["a", "b"], name="threshold", preprocessing=pre)


IMAGE = np.full((8, 8, 3), 128 / 255, np.float32)


def saved_top(clf: Classifier, res) -> int:
    return int(np.argmax(clf.probabilities(res.adjusted_uint8.astype(np.float32) / 255)))


def test_alpha_grows_until_the_quantised_change_flips():
    """Flip below level 120.7: the minimised change ends just below it, which rounds back up to 121
    (no flip), so α grows (α·1.25 + 0.01) until the rounded image is at level 120 or below."""
    clf = classifier(120.7)
    opts = dict(style="free", mode="fixed", epsilon=3.3 / 255, max_steps=20, key_pixels=False, refine=False, lattice=False)
    plain = run(clf, IMAGE, ExplainOptions(eight_bit=False, **opts))
    assert plain.flipped and 0 < plain.alpha < 1
    delta = plain.delta / plain.alpha  # the search's full change (3 steps of 3.3 levels)
    assert float(delta.mean()) * 255 == pytest.approx(-9.9, abs=1e-3)
    # the minimised change alone does not survive rounding
    min_levels = np.round((IMAGE + plain.delta) * 255)
    assert min_levels.mean() == 121 and clf.classify(min_levels.astype(np.float32) / 255, 1)[0].index == 0

    res = run(clf, IMAGE, ExplainOptions(**opts))
    assert res.status == Status.FLIPPED and saved_top(clf, res) == 1
    # the α the rule reaches: the first of α_min·1.25 + 0.01, ... whose rounded image flips
    a, expected = plain.alpha, None
    while a < 1.0:
        a = min(1.0, a * 1.25 + 0.01)
        if np.round((IMAGE + a * delta) * 255).mean() < 120.7:
            expected = a
            break
    assert expected is not None and res.alpha == pytest.approx(expected, rel=1e-9)
    assert res.alpha > plain.alpha
    assert [s.phase for s in res.steps] == ["search"] * len(plain.steps)  # no extra steps were needed
    # the saved image is at the level the rule stopped at: 128 - 0.9317 * 9.9 = 118.8 -> 119
    assert res.adjusted_uint8.mean() == np.round((IMAGE + expected * delta) * 255).mean() == 119


def test_extra_steps_when_even_the_full_change_rounds_away():
    """Flip below level 127.9 with steps of 0.2 levels: the first step flips in float (127.8) but rounds back
    to 128, so does every α ≤ 1; the extra steps (phase ``eight_bit``) go on until the rounded image flips:
    127.6 still rounds to 128, 127.4 rounds to 127."""
    clf = classifier(127.9)
    res = run(clf, IMAGE, ExplainOptions(style="free", mode="fixed", epsilon=0.2 / 255, max_steps=20, key_pixels=False, lattice=False))
    assert res.status == Status.FLIPPED and saved_top(clf, res) == 1
    assert [s.phase for s in res.steps] == ["search", "eight_bit", "eight_bit"]
    assert [s.flipped for s in res.steps] == [True, False, True]
    assert res.alpha == 1.0
    assert float(res.adjusted_pixels.mean()) * 255 == pytest.approx(127.4, abs=1e-3)
    assert res.adjusted_uint8.mean() == 127
    assert res.final.index == 1 and res.final_probabilities[1] > 0.5


@pytest.mark.parametrize("extra", [0, 1])
def test_did_not_survive_8_bit_within_the_extra_budget(extra):
    clf = classifier(127.9)
    res = run(clf, IMAGE, ExplainOptions(style="free", mode="fixed", epsilon=0.2 / 255, max_steps=20, extra_steps=extra, lattice=False))
    assert res.status == Status.BUDGET and not res.flipped
    assert res.message == (
        "the decision flipped, but the change did not survive 8-bit quantisation within the extra step budget"
    )
    assert [s.phase for s in res.steps] == ["search"] + ["eight_bit"] * extra
    # the saved image is what the record reports: it does not flip, and the run says so
    assert saved_top(clf, res) == 0 and res.final.index == 0
    assert res.key_pixels is None and np.isfinite(res.delta).all()


def test_the_tensor_rounding_is_the_saved_pngs():
    """(a mutation audit, session 43: rounding in float32 instead of float64 put a few values per million on the
    other level, so the 8-bit image tested for the flip was not the PNG saved.)"""
    from gradflip_desktop.core.explain.quantise import quantize_tensor
    from gradflip_desktop.core.images.pixels import quantize, to_uint8

    x = torch.tensor([0.8058823347091675, 0.9862744808197021, 0.4882352948188782], dtype=torch.float32).view(1, 3, 1, 1)
    assert to_uint8(x.numpy()).ravel().tolist() == [205, 251, 125]
    assert torch.equal(quantize_tensor(x), torch.from_numpy(quantize(x.numpy())))


def test_the_saved_change_is_never_scaled_past_the_change_found():
    """(a mutation audit, session 43: without the cap at 1 the saved change grew to 32 levels where the search
    found 30.)"""
    res = run(classifier(102.7), IMAGE, ExplainOptions(style="free", mode="fixed", epsilon=30 / 255, max_steps=20,
                                                       key_pixels=False, refine=False, lattice=False))
    assert res.status == Status.FLIPPED
    assert res.alpha == 1.0 and res.adjusted_uint8.mean() == 98
