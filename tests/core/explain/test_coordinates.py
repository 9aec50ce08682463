"""Search spaces (core/explain/coordinates.py): the blur style moves each pixel only toward a blurred copy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.explain.coordinates import BlurCoordinates, FreeCoordinates, coordinates_for
from gradflip_desktop.core.explain.mask import MaskCoordinates
from gradflip_desktop.core.options import ExplainOptions, Status
from gradflip_desktop.core.viz import maps


def test_blur_style_only_moves_pixels_toward_the_blurred_copy(tiny, tiny_image):
    from gradflip_desktop.core.viz.filters import blur_array

    opts = ExplainOptions(style="blur", blur_sigma=3.0, epsilon=0.01, max_steps=300)
    res = run(tiny, tiny_image, opts)
    assert res.status == Status.FLIPPED
    m = res.blur_amount
    assert m is not None and m.shape == tiny_image.shape[:2]
    assert m.min() >= 0 and m.max() <= 1 and m.max() > 0
    blurred = np.clip(blur_array(tiny_image, 3.0), 0, 1)
    # every changed pixel lies on the segment from the photo to its blurred copy, by the reported amount
    np.testing.assert_allclose(res.adjusted_pixels, tiny_image + m[..., None] * (blurred - tiny_image), atol=2e-5)
    np.testing.assert_allclose(res.importance_map(), maps.smoothed(m), atol=1e-6)
    free = run(tiny, tiny_image, ExplainOptions(style="free", epsilon=0.01, max_steps=300))
    assert free.blur_amount is None
    np.testing.assert_allclose(free.importance_map(), maps.magnitude_map(free.delta))
    with pytest.raises(ValueError, match="style"):
        ExplainOptions(style="wavy").validate()


def _photo(h: int, w: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed)) * 0.6 + 0.2


@pytest.mark.parametrize("h, w, sigma", [(24, 48, 2.0), (12, 16, 1.0)])  # long side / 24, at least 1 px
def test_blur_coordinates_path_amounts_scale_and_adjoint(h, w, sigma):
    from gradflip_desktop.core.viz.filters import gaussian_blur

    x0 = _photo(h, w)
    c = BlurCoordinates(x0, ExplainOptions(style="blur"))
    d = gaussian_blur(x0, sigma).clamp(0.0, 1.0) - x0
    torch.testing.assert_close(c.d, d, rtol=0, atol=1e-7)
    assert c.scale == pytest.approx(math.sqrt(h * w) / float(d.pow(2).mean().sqrt()), rel=1e-5)
    start = c.start()
    assert start.shape == (1, 1, h, w) and torch.equal(c.image(start), x0)  # the search starts at the photo
    m = torch.rand(1, 1, h, w, generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(c.blur_amount(c.image(m)), m[0, 0].numpy(), atol=1e-4)
    # off the path's ends the amount is clipped to [0, 1]
    assert np.all(c.blur_amount(x0 + 2 * c.d) == 1.0) and np.all(c.blur_amount(x0 - c.d) == 0.0)
    g = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(2))
    assert float((c.grad(g) * m).sum()) == pytest.approx(float((g * (c.image(m) - x0)).sum()), rel=1e-4)


def test_a_flat_photo_has_no_blur_path_and_its_scale_stays_finite():
    x0 = torch.full((1, 3, 16, 16), 0.4)
    c = BlurCoordinates(x0, ExplainOptions(style="blur", blur_sigma=2.0))
    assert c.scale == pytest.approx(16.0) and float(c.d.abs().max()) < 1e-6
    assert np.array_equal(c.blur_amount(x0 + 0.1), np.zeros((16, 16), np.float32))


def test_each_style_gets_its_coordinates():
    x0 = _photo(16, 20)
    free = coordinates_for(x0, ExplainOptions(style="free"))
    assert isinstance(free, FreeCoordinates) and free.scale == pytest.approx(math.sqrt(3 * 16 * 20))
    assert free.start() is x0 and free.blur_amount(x0) is None
    assert isinstance(coordinates_for(x0, ExplainOptions(style="blur")), BlurCoordinates)
    assert isinstance(coordinates_for(x0, ExplainOptions(style="region")), MaskCoordinates)
