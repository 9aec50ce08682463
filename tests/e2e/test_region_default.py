"""The default explanation (region style) on the real default model and the bundled cat photo."""

from __future__ import annotations

import numpy as np
import pytest

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.images import to_uint8
from gradflip_desktop.core.options import ExplainOptions, Status
from gradflip_desktop.core.report import record
from gradflip_desktop.core.summary import summary_sentence


@pytest.fixture(scope="module")
def region_run(default_model, chelsea):
    return run(default_model, chelsea, ExplainOptions())


def test_default_run_names_a_key_region_that_alone_flips(default_model, chelsea, region_run):
    res = region_run
    assert res.options.style == "region" and res.status == Status.FLIPPED
    assert res.original.label == "Egyptian cat" and res.final.index != 285
    kr = res.key_region
    assert kr is not None and kr.flips and 0 < kr.fraction < 1 and kr.components >= 1
    # the photo with only the key region changed, as an 8-bit image, is not an Egyptian cat
    only = to_uint8(res.key_region_image()).astype(np.float32) / 255.0
    assert default_model.classify(only, k=1)[0].index == kr.prediction.index != 285
    # the importance map is smooth: neighbouring pixels differ little (no speckle)
    imp = res.importance_map()
    assert imp.shape == chelsea.pixels.shape[:2] and 0 <= imp.min() and imp.max() == pytest.approx(1.0)
    assert float(np.abs(np.diff(imp, axis=1)).max()) < 0.1
    rec = record(res, versions={})
    assert rec["key_region"]["flips"] is True and rec["key_region"]["fraction"] == pytest.approx(kr.fraction)
    # outlined, or hatched over half the image (the cat: 47 % with two torch threads, 54 % with one)
    assert ("hatched" if kr.fraction > 0.5 else "outlined") in summary_sentence(res)


def test_any_cat_on_the_sample_flips_without_crawling(default_model, chelsea):
    """"Explain any cat" in the default style: the adaptive search used to shrink its steps ~50x on this
    photo and crawl for 192 steps (25 s); stuck, it now takes whole steps and, once the group holds under
    half of the probability, decreases the margin (objective.py): a few dozen steps at most."""
    res = run(default_model, chelsea, ExplainOptions(group="cat"))
    assert res.status == Status.FLIPPED
    assert res.final.index not in range(281, 286)
    assert len([s for s in res.steps if s.phase == "search"]) < 60
    assert res.key_region is not None and res.key_region.flips


def test_one_mask_cell_leaves_no_stripes_in_the_map(default_model):
    # --coarse 20 on a 128 x 96 photo averages the 14 x 10 mask into one cell. The flip-back half of the map was float
    # rounding (weights equal to ~1e-7) scaled up to [0, 1]: single rows at 0.9 beside pixels at 0.02, and a key region
    # of dozens of "areas" built from them (a newcomer's coffee: 54 areas). The map is now its feature-group half
    # over an even search half: smooth
    from PIL import Image
    from skimage import data

    photo = np.asarray(Image.fromarray(data.coffee()).resize((128, 96), Image.Resampling.BILINEAR), np.float32) / 255
    out = run(default_model, photo, ExplainOptions(coarse=20))
    assert out.flipped
    m = out.importance_map()
    jump = max(float(np.abs(np.diff(m, axis=0)).max()), float(np.abs(np.diff(m, axis=1)).max()))
    assert jump < 0.3, jump  # 0.65 with the stripes
    assert out.key_region is None or out.key_region.components <= 4
