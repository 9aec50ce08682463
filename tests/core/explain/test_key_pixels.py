"""Key pixels (core/explain/key_pixels.py): the smallest top-|change| pixel set that flips alone."""

from __future__ import annotations

import numpy as np
import pytest

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions


def argmax_of(clf, pixels):
    return int(np.argmax(clf.probabilities(pixels)))


def test_key_pixels_are_minimal_and_flip_alone(tiny, tiny_image):
    res = run(tiny, tiny_image, ExplainOptions(style="free", epsilon=0.01))
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
