"""benchmarks/region_peers.py runs the default's own key-region search with another map's ranking."""

from __future__ import annotations

import numpy as np

from helpers import make_tiny
from benchmarks.region_peers import region_by_map
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions, Status


def test_the_runs_own_ranking_gives_back_its_region_and_a_random_one_needs_more():
    rng = np.random.default_rng(1)
    pixels = np.kron(rng.uniform(0.2, 0.8, size=(6, 8, 3)), np.ones((4, 4, 1))).astype(np.float32)
    clf = make_tiny()
    res = run(clf, pixels, ExplainOptions())
    assert res.status == Status.FLIPPED and res.key_region is not None and res.key_region.flips
    own = region_by_map(clf, res, -res.key_region.ranking.astype(np.float32))  # the run's own order
    assert own.flips and own.fraction <= res.key_region.fraction + 1e-9
    assert np.all(own.mask <= (res.key_region.ranking < res.key_region.pixels))  # within the run's region
    shuffled = region_by_map(clf, res, np.random.default_rng(0).random(pixels.shape[:2]))
    assert shuffled.fraction > 2 * own.fraction
