"""Key pixels (core/explain/key_pixels.py): the smallest top-|change| pixel set that flips alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.explain.key_pixels import key_pixels
from gradflip_desktop.core.explain.objective import Objective
from gradflip_desktop.core.images import quantize
from gradflip_desktop.core.models import Classifier
from gradflip_desktop.core.options import ExplainOptions


def argmax_of(clf, pixels):
    return int(np.argmax(clf.probabilities(pixels)))


def test_key_pixels_are_minimal_and_flip_alone(tiny, tiny_image):
    res = run(tiny, tiny_image, ExplainOptions(style="free", epsilon=0.01))
    kp = res.key_pixels
    assert kp is not None and kp.flips
    assert kp.mask.shape == tiny_image.shape[:2] and int(kp.mask.sum()) == kp.count
    assert kp.fraction == pytest.approx(kp.count / (tiny_image.shape[0] * tiny_image.shape[1]))
    base = quantize(tiny_image)  # the photo's own 8-bit rounding (this random photo is between levels)
    dq = res.adjusted_uint8.astype(np.float32) / np.float32(255) - base
    only = base + dq * kp.mask[..., None]
    np.testing.assert_allclose(res.key_pixel_image(), only, atol=1e-6)
    assert np.array_equal(kp.mask_for(kp.count), kp.mask) and kp.changed >= kp.count
    assert argmax_of(tiny, only) == kp.prediction.index != res.original.index
    # what the explained class still has there (the key-pixel line's "tabby (41 %; Egyptian cat now 23 %)")
    assert kp.explained_probability == pytest.approx(float(tiny.probabilities(only)[res.original.index]), abs=1e-6)
    assert kp.to_dict()["explained_probability"] == kp.explained_probability
    # one pixel fewer (by the ranking) does not flip: bisection tested it
    if kp.count > 1:
        fewer = (kp.ranking >= 0) & (kp.ranking < kp.count - 1)
        assert argmax_of(tiny, base + dq * fewer[..., None]) == res.original.index
    # the ranking orders pixels by |change|
    mag = np.abs(dq).sum(2)
    ranked = kp.ranking[kp.ranking >= 0]
    assert len(ranked) == int((mag > 0).sum())
    inside, outside = mag[kp.mask], mag[~kp.mask]
    assert inside.min() >= outside.max() - 1e-7


def test_a_photo_between_8bit_levels_gets_key_pixels_of_its_change_not_of_its_rounding(tiny, tiny_image):
    """A 16-bit or float photo differs from every 8-bit image everywhere: ranked from the photo itself, the key
    pixels took in that rounding too (a 16-bit grey photo: 68 % of the image against 4.1 % saved as 8-bit first).
    They are the pixels where the saved image differs from the photo's own 8-bit rounding."""
    rng = np.random.default_rng(5)
    deep = np.clip(quantize(tiny_image) + rng.uniform(-0.45, 0.45, tiny_image.shape).astype(np.float32) / 255,
                   0, 1).astype(np.float32)  # the same photo, between levels (as 16 bits give)
    assert not np.array_equal(quantize(deep), deep)
    res = run(tiny, deep, ExplainOptions(style="free", epsilon=0.01))
    kp = res.key_pixels
    assert res.flipped and kp is not None and kp.flips
    moved = (res.adjusted_uint8 != (quantize(deep) * 255).round().astype(np.uint8)).any(2)
    assert not (kp.mask & ~moved).any()
    image = res.key_pixel_image()  # the image the search classified flips, and is the rounded photo elsewhere
    assert argmax_of(tiny, image) == kp.prediction.index != res.original.index
    np.testing.assert_array_equal(image[~kp.mask], quantize(deep)[~kp.mask])


@pytest.mark.parametrize("options", [dict(style="blur", epsilon=0.01, blur_sigma=2.0), dict(style="free", epsilon=0.01, lattice=False),
                                     dict(style="free", epsilon=0.01, smoothing=1.0)])
def test_pixels_of_equal_saved_change_are_taken_by_their_float_change_not_in_scan_order(tiny, tiny_image, options):
    """The saved change moves values by whole 8-bit levels, so many pixels tie on |saved change|. At the key set's
    smallest level, the tied pixels it takes are those the float change behind the saved image moved most; they
    used to be taken in scan order (the rocket in the blur style: the 530 one-level pixels of the key set lay
    anywhere, the 2,558 left out all in the bottom half)."""
    res = run(tiny, tiny_image, ExplainOptions(**options))
    kp = res.key_pixels
    assert res.flipped and kp is not None and kp.flips
    base = quantize(tiny_image)
    levels = np.rint(np.abs(res.adjusted_uint8.astype(np.float64) - base * 255.0).sum(2)).astype(int)
    floats = np.abs(res.adjusted_pixels.astype(np.float64) - base).sum(2)  # the float image behind the saved one
    edge = levels[kp.mask].min()
    tied_in, tied_out = kp.mask & (levels == edge), ~kp.mask & (levels == edge)
    if tied_out.any():  # the set stops inside a level (else there is no tie to break)
        assert floats[tied_in].min() >= floats[tied_out].max() - 1e-7


class RedSum(nn.Module):
    """Class 1's logit is the sum of the red channel; class 0's a constant: adding red flips it past ``threshold``."""

    def __init__(self, threshold: float):
        super().__init__()
        self.threshold = threshold

    def forward(self, x):
        red = x[:, 0].sum((1, 2))
        return torch.stack([torch.full_like(red, self.threshold), red], 1)


@pytest.mark.parametrize("threshold, count, flips", [(6.0 / 255, 3, True), (100.0, 4, False)])
def test_key_pixels_rank_by_the_change_within_a_level_and_say_when_they_do_not_flip(threshold, count, flips):
    """2 x 3 pixels changed by 1.2, 1.4, 3, 0, 2, 0 levels of red: ranked 3, 2, 1.4, 1.2 (changes that differ by less
    than a level are still ordered by size, not scan order); the top 3 add 6.4 levels and flip a threshold of 6. When
    even all 4 changed pixels do not flip, the count is all of them and the result says it does not flip."""
    clf = Classifier(module=RedSum(threshold), labels=["plain", "red"], name="red sum")
    x0 = torch.zeros(1, 3, 2, 3)
    dq = torch.zeros(1, 3, 2, 3)
    dq[0, 0] = torch.tensor([[1.2, 1.4, 3.0], [0.0, 2.0, 0.0]]) / 255
    kp = key_pixels(Objective(clf, [0], None, x0), x0, dq, lambda: False)
    np.testing.assert_array_equal(kp.ranking, [[3, 2, 0], [-1, 1, -1]])
    assert kp.count == count and kp.fraction == pytest.approx(count / 6)
    np.testing.assert_array_equal(kp.mask, (kp.ranking >= 0) & (kp.ranking < count))
    assert kp.flips is flips and kp.prediction.index == (1 if flips else 0)
