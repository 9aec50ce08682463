"""The score the search moves (objective.py) on models seen in the wild: a freshly initialised network
whose logits are all tiny (torchvision's MobileNetV3 at random init gives |z| ~ 1e-9 over 1000 classes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers import TinyNet, make_tiny, tiny_image_array
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


def _tiny_objective(target=None):
    clf = make_tiny()
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 0.6 + 0.2
    return Objective(clf, [0], target, x), x


def test_log_odds_and_margin_are_their_formulas():
    z = torch.tensor([[1.0, 2.0, 3.0, -1.0]])
    mask = torch.tensor([True, True, False, False])
    want = float(torch.logsumexp(z[0, :2], 0) - torch.logsumexp(z[0, 2:], 0))
    assert float(Objective.log_odds(z, mask)[0]) == pytest.approx(want)
    obj, _ = _tiny_objective()
    assert float(obj.margin(z)[0]) == pytest.approx(1.0 - 3.0)  # explained class 0 minus the best other
    assert obj.flipped(z) and float(obj.loss(z)[0]) == pytest.approx(float(obj.score(z)[0]))
    targeted, _ = _tiny_objective(target=3)
    assert float(targeted.margin(z)[0]) == pytest.approx(3.0 - (-1.0))  # the best non-target minus the target's
    only_3 = torch.tensor([False, False, False, True])
    assert float(targeted.loss(z)[0]) == pytest.approx(-float(Objective.log_odds(z, only_3)[0]))
    assert not targeted.flipped(z)


def test_an_image_changed_in_place_is_evaluated_again():
    """The last image's logits are reused only while it is unchanged: an in-place step bumps its version."""
    obj, x = _tiny_objective()
    z1 = obj.forward(x).clone()
    assert torch.equal(obj.forward(x), z1) and obj.fwd_evals == 1  # the same image: no second pass
    x.add_(0.2)
    z2 = obj.forward(x)
    assert obj.fwd_evals == 2 and not torch.equal(z2, z1)
    assert torch.equal(z2, Objective(obj.clf, [0], None, x).forward(x))


def test_a_kept_pass_is_reused_only_at_its_unchanged_image():
    obj, x = _tiny_objective()
    fresh, _ = _tiny_objective()
    _, m_want, g_want = fresh.margin_and_grad(x.clone())
    # a flipping pass kept by forward(keep_if): the margin's gradient costs only the backward
    obj.forward(x, keep_if=lambda z: True)
    _, m, g = obj.margin_and_grad(x)
    assert (obj.fwd_evals, obj.grad_evals) == (0, 1)
    assert float(m) == pytest.approx(float(m_want)) and torch.allclose(g, g_want)
    # a pass that keep_if turns down is not kept
    obj.forward(x + 0.0, keep_if=lambda z: False)
    obj.margin_and_grad(x)
    assert (obj.fwd_evals, obj.grad_evals) == (1, 2)
    # value_then_grad keeps its pass even when its gradient is never asked for
    y = x + 0.1
    obj.value_then_grad(y)
    obj.margin_and_grad(y)
    assert (obj.fwd_evals, obj.grad_evals) == (1, 3)
    # a kept pass whose image changed in place since is not reused
    obj.value_then_grad(y)
    y.sub_(0.2)
    _, m, g = obj.margin_and_grad(y)
    _, m_want, g_want = Objective(obj.clf, [0], None, y).margin_and_grad(y.clone())
    assert float(m) == pytest.approx(float(m_want)) and torch.allclose(g, g_want)


def test_the_thread_counts_are_said_as_one_number_or_a_range():
    obj, _ = _tiny_objective()
    assert obj.threads_text() == str(torch.get_num_threads())
    obj.threads = {3}
    assert obj.threads_text() == "3"
    obj.threads = {4, 1, 2}
    assert obj.threads_text() == "1-4"
