"""Fixtures shared by the core's tests."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import make_tiny
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions, Status


@pytest.fixture(scope="module")
def result():
    """A finished free-style run on the tiny test model (a blocky 24 x 32 photo; it flips)."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.7, size=(6, 8, 3)).astype(np.float32)
    pixels = np.kron(base, np.ones((4, 4, 1), dtype=np.float32))
    res = run(make_tiny(), pixels, ExplainOptions(style="free"))
    assert res.status == Status.FLIPPED
    return res
