"""Search spaces (core/explain/coordinates.py): the blur style moves each pixel only toward a blurred copy."""

from __future__ import annotations

import numpy as np
import pytest

from gradflip_desktop.core.explain import run
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
