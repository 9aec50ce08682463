"""The algorithm on a tiny deterministic model: steps, statuses, post passes, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gradflip_desktop.core import explain as ex
from gradflip_desktop.core import maps
from gradflip_desktop.core.models import Classifier, ModelError, PixelSpaceModel, Preprocessing

from conftest import make_tiny


def argmax_of(clf, pixels):
    return int(np.argmax(clf.probabilities(pixels)))


def test_untargeted_run_flips_and_result_is_consistent(tiny, tiny_image):
    res = ex.run(tiny, tiny_image, ex.ExplainOptions(epsilon=0.01))
    assert res.status == ex.FLIPPED and res.flipped
    assert res.final.index != res.original.index
    # the final class is that of the saved 8-bit image
    assert argmax_of(tiny, res.adjusted_uint8.astype(np.float32) / 255) == res.final.index
    np.testing.assert_allclose(res.adjusted_pixels, tiny_image + res.delta, atol=1e-6)
    assert res.adjusted_pixels.min() >= 0 and res.adjusted_pixels.max() <= 1
    assert res.l2 == pytest.approx(float(np.linalg.norm(res.delta)), rel=1e-6)
    assert res.rms == pytest.approx(res.l2 / math.sqrt(res.delta.size))
    assert res.gradient_evaluations >= len(res.steps) >= 1
    assert res.forward_evaluations > 1
    assert set(res.timings) == {"flip", "minimise", "eight_bit", "key_pixels"}
    assert 0 < res.alpha <= 1


def test_each_step_is_a_normalised_gradient_step_of_the_log_odds(tiny, tiny_image):
    """Fixed mode: X1 = clip(X0 - eps*sqrt(n) * g/|g|) with g the gradient of the log-odds of the top class."""
    eps = 0.002
    gen = ex.explain(tiny, tiny_image, ex.ExplainOptions(mode="fixed", epsilon=eps))
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


def test_targeted_run_reaches_the_target(tiny, tiny_image):
    top = argmax_of(tiny, tiny_image)
    target = (top + 2) % 4
    res = ex.run(tiny, tiny_image, ex.ExplainOptions(target=f"class{target}", epsilon=0.01, max_steps=500))
    assert res.status == ex.FLIPPED
    assert res.final.index == target
    assert res.target.index == target


def test_group_run_leaves_the_group(tiny_image):
    clf = make_tiny()
    top = argmax_of(clf, tiny_image)
    group = [top, (top + 1) % 4]
    res = ex.run(clf, tiny_image, ex.ExplainOptions(group=group, epsilon=0.01, max_steps=500))
    assert res.status == ex.FLIPPED
    assert res.final.index not in group
    assert res.explained == sorted(group)


def test_group_by_name_and_ranges(tiny):
    assert tiny.find_group("low") == ("low", [0, 1])
    assert tiny.find_group("1-2") == ("classes 1-2", [1, 2])
    with pytest.raises(ModelError, match="unknown class group"):
        tiny.find_group("felines")
    with pytest.raises(ModelError, match="outside"):
        tiny.find_group("2-9")


def test_nothing_to_flip_when_target_already_wins(tiny, tiny_image):
    top = argmax_of(tiny, tiny_image)
    res = ex.run(tiny, tiny_image, ex.ExplainOptions(target=top))
    assert res.status == ex.ALREADY and not res.flipped
    assert "already predicts" in res.message
    assert np.array_equal(res.delta, np.zeros_like(res.delta))


def test_key_pixels_are_minimal_and_flip_alone(tiny, tiny_image):
    res = ex.run(tiny, tiny_image, ex.ExplainOptions(epsilon=0.01))
    kp = res.key_pixels
    assert kp is not None and kp.flips
    assert kp.mask.shape == tiny_image.shape[:2] and int(kp.mask.sum()) == kp.count
    assert kp.fraction == pytest.approx(kp.count / (tiny_image.shape[0] * tiny_image.shape[1]))
    dq = res.saved_delta
    only = tiny_image + dq * kp.mask[..., None]
    np.testing.assert_allclose(res.key_pixel_image(), only, atol=1e-6)
    assert np.array_equal(kp.mask_for(kp.count), kp.mask) and kp.changed >= kp.count
    assert argmax_of(tiny, only) == kp.prediction.index != res.original.index
    # one pixel fewer (by the ranking) does not flip: bisection tested it
    if kp.count > 1:
        fewer = (kp.ranking >= 0) & (kp.ranking < kp.count - 1)
        assert argmax_of(tiny, tiny_image + dq * fewer[..., None]) == res.original.index
    # the ranking orders pixels by |change|
    mag = np.abs(dq).sum(2)
    ranked = kp.ranking[kp.ranking >= 0]
    assert len(ranked) == int((mag > 0).sum())
    inside, outside = mag[kp.mask], mag[~kp.mask]
    assert inside.min() >= outside.max() - 1e-7


def test_minimise_never_grows_the_change(tiny, tiny_image):
    full = ex.run(tiny, tiny_image, ex.ExplainOptions(mode="fixed", epsilon=0.02, minimise=False, eight_bit=False))
    small = ex.run(tiny, tiny_image, ex.ExplainOptions(mode="fixed", epsilon=0.02, minimise=True, eight_bit=False))
    assert full.flipped and small.flipped
    assert small.alpha < 1.0
    assert small.l2 == pytest.approx(small.alpha * full.l2, rel=1e-4)


def test_adaptive_mode_rejects_overshoot_and_reports_it(tiny, tiny_image):
    res = ex.run(tiny, tiny_image, ex.ExplainOptions(mode="adaptive", epsilon=0.2, max_steps=100))
    assert res.status in (ex.FLIPPED, ex.BUDGET)
    eps = [s.epsilon for s in res.steps]
    assert all(e > 0 for e in eps)
    if any(not s.accepted for s in res.steps):
        i = next(i for i, s in enumerate(res.steps) if not s.accepted)
        assert res.steps[i + 1].epsilon == pytest.approx(res.steps[i].epsilon / 2) if i + 1 < len(res.steps) else True


def test_cancel_ends_with_state_so_far(tiny, tiny_image):
    calls = {"n": 0}
    steps_seen = []

    def stop():
        return len(steps_seen) >= 2

    res = ex.run(tiny, tiny_image, ex.ExplainOptions(mode="fixed", epsilon=1e-5, max_steps=50), on_step=steps_seen.append, should_stop=stop)
    assert res.status == ex.CANCELLED
    assert len(res.steps) == 2
    assert np.isfinite(res.adjusted_pixels).all()
    assert res.l2 == pytest.approx(res.steps[-1].l2, rel=1e-4)
    del calls


def test_budget_exhausted(tiny, tiny_image):
    res = ex.run(tiny, tiny_image, ex.ExplainOptions(mode="fixed", epsilon=1e-6, max_steps=3))
    assert res.status == ex.BUDGET
    assert len(res.steps) == 3 and res.key_pixels is None
    assert "3 steps" in res.message


class _Const(nn.Module):
    def forward(self, x):
        return torch.tensor([[1.0, 0.0, -1.0]]).expand(x.shape[0], 3) + 0 * x.mean()


class _NaN(nn.Module):
    def forward(self, x):
        return torch.full((x.shape[0], 3), float("nan")) + x.mean()


class _Huge(nn.Module):
    """Logit margin of thousands: softmax(z)[t] is exactly 1.0 in float32, its gradient exactly 0."""

    def forward(self, x):
        m = x.mean((2, 3))
        return torch.stack([5000 * m[:, 0], 5000 * m[:, 1] - 2000, 5000 * m[:, 2] - 2000], 1)


def _wrap(net, classes=3):
    pre = Preprocessing(input_size=(8, 8), mean=(0.0,), std=(1.0,))
    return Classifier(module=PixelSpaceModel(net, pre).eval(), labels=[f"c{i}" for i in range(classes)], name="t")


def test_zero_gradient_has_its_own_status(tiny_image):
    res = ex.run(_wrap(_Const()), tiny_image)
    assert res.status == ex.ZERO_GRADIENT
    assert "gradient is zero" in res.message
    assert np.isfinite(res.adjusted_pixels).all()


def test_nonfinite_output_has_its_own_status(tiny_image):
    res = ex.run(_wrap(_NaN()), tiny_image)
    assert res.status == ex.NONFINITE_OUTPUT
    assert np.isfinite(res.adjusted_pixels).all() and np.isfinite(res.delta).all()


def test_log_odds_gradient_survives_saturated_probability(tiny_image):
    clf = _wrap(_Huge())
    img = np.full_like(tiny_image, 0.5)
    img[..., 0] = 0.9
    p = clf.probabilities(img)
    assert p[0] == 1.0  # saturated: gradient of C_t itself would vanish
    gen = ex.explain(clf, img, ex.ExplainOptions(mode="fixed", epsilon=0.01, max_steps=5))
    step = next(gen)
    assert step.l2 > 0 and np.isfinite(step.score)
    gen.close()


def test_invalid_options_are_refused(tiny, tiny_image):
    for bad in (dict(epsilon=0), dict(epsilon=float("nan")), dict(mode="wild"), dict(max_steps=0), dict(smoothing=-1)):
        with pytest.raises(ValueError):
            ex.run(tiny, tiny_image, ex.ExplainOptions(**bad))
    with pytest.raises(ModelError, match="no class named"):
        ex.run(tiny, tiny_image, ex.ExplainOptions(target="zebra"))


def test_smoothing_makes_the_step_smooth(tiny, tiny_image):
    gen = ex.explain(tiny, tiny_image, ex.ExplainOptions(mode="fixed", epsilon=0.002, smoothing=3.0))
    d_smooth = next(gen).image() - tiny_image
    gen.close()
    gen = ex.explain(tiny, tiny_image, ex.ExplainOptions(mode="fixed", epsilon=0.002, smoothing=0.0))
    d_raw = next(gen).image() - tiny_image
    gen.close()

    def roughness(d):
        return float(np.abs(np.diff(d, axis=0)).mean() + np.abs(np.diff(d, axis=1)).mean()) / float(np.abs(d).mean())

    assert roughness(d_smooth) < 0.5 * roughness(d_raw)


def test_coarse_to_fine_change_is_blocky_smooth(tiny, tiny_image):
    gen = ex.explain(tiny, tiny_image, ex.ExplainOptions(mode="fixed", epsilon=0.002, coarse=8))
    d = next(gen).image() - tiny_image
    gen.close()
    # the change lives at 1/8 resolution: averaging over 8x8 blocks then upsampling changes it little
    t = torch.from_numpy(d).permute(2, 0, 1)[None]
    low = torch.nn.functional.adaptive_avg_pool2d(t, (3, 4))
    back = torch.nn.functional.interpolate(low, size=d.shape[:2], mode="bilinear", align_corners=False)
    assert float((back - t).norm() / t.norm()) < 0.35
    with pytest.raises(ValueError, match="coarse"):
        ex.ExplainOptions(coarse=0).validate()


def test_blur_style_only_moves_pixels_toward_the_blurred_copy(tiny, tiny_image):
    from gradflip_desktop.core.filters import blur_array

    opts = ex.ExplainOptions(style="blur", blur_sigma=3.0, epsilon=0.01, max_steps=300)
    res = ex.run(tiny, tiny_image, opts)
    assert res.status == ex.FLIPPED
    m = res.blur_amount
    assert m is not None and m.shape == tiny_image.shape[:2]
    assert m.min() >= 0 and m.max() <= 1 and m.max() > 0
    blurred = np.clip(blur_array(tiny_image, 3.0), 0, 1)
    # every changed pixel lies on the segment from the photo to its blurred copy, by the reported amount
    np.testing.assert_allclose(res.adjusted_pixels, tiny_image + m[..., None] * (blurred - tiny_image), atol=2e-5)
    np.testing.assert_allclose(res.importance_map(), maps.smoothed(m), atol=1e-6)
    free = ex.run(tiny, tiny_image, ex.ExplainOptions(epsilon=0.01, max_steps=300))
    assert free.blur_amount is None
    np.testing.assert_allclose(free.importance_map(), maps.magnitude_map(free.delta))
    with pytest.raises(ValueError, match="style"):
        ex.ExplainOptions(style="wavy").validate()
