"""The result types (core/results.py): Step, KeyPixels, ExplainResult and what they derive."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions, Status
from gradflip_desktop.core.results import ExplainResult, KeyPixels, Step
from gradflip_desktop.core.viz import maps
from gradflip_desktop.core.images import quantize


def test_step_top_orders_by_probability_stably():
    s = Step(index=1, epsilon=0.1, score=0.0, probabilities=np.array([0.2, 0.5, 0.2, 0.1], np.float32),
             l2=0.0, linf=0.0, flipped=False)
    assert s.top(3) == [(1, pytest.approx(0.5)), (0, pytest.approx(0.2)), (2, pytest.approx(0.2))]
    assert s.image() is None and s.accepted and s.phase == "search"


def test_step_top_breaks_float32_probability_ties_by_the_logits():
    # a random model's 1,000 classes all at 0.001000 in float32: steps.csv named class 0 at the flip step while the
    # record (the logits' argmax) named another
    logits = np.array([0.0, 3e-9, 1e-9, 2e-9], np.float32)
    probs = np.full(4, 0.25, np.float32)
    s = Step(index=1, epsilon=0.1, score=0.0, probabilities=probs, l2=0.0, linf=0.0, flipped=False, logits=logits)
    assert [i for i, _ in s.top(4)] == [1, 3, 2, 0]
    bad = Step(index=1, epsilon=0.1, score=0.0, probabilities=np.array([0.1, 0.9], np.float32), l2=0.0, linf=0.0,
               flipped=False, logits=np.array([np.nan, 1.0], np.float32))
    assert bad.top(1)[0][0] == 1  # non-finite logits: by the probabilities


def test_every_step_of_a_run_orders_its_classes_as_the_record_does(tiny, tiny_image):
    res = run(tiny, tiny_image, ExplainOptions(style="free"))
    assert res.steps and all(s.logits is not None for s in res.steps)
    for s in res.steps:
        assert s.top(1)[0][0] == int(np.argmax(s.logits))


def test_key_pixels_masks_follow_the_ranking():
    ranking = np.array([[0, 3, -1], [1, 2, -1]], np.int32)
    kp = KeyPixels(count=2, fraction=2 / 6, mask=ranking == -99, ranking=ranking, prediction=None, flips=True)
    assert kp.changed == 4
    assert kp.mask_for(2).tolist() == [[True, False, False], [True, False, False]]
    assert kp.mask_for(0).sum() == 0 and kp.mask_for(100).sum() == 4


def test_result_measures_and_flip_rule(tiny, tiny_image):
    res = run(tiny, tiny_image, ExplainOptions(style="free", epsilon=0.01))
    assert isinstance(res, ExplainResult) and res.status is Status.FLIPPED and res.flipped
    d64 = res.delta.astype(np.float64)
    assert res.l2 == pytest.approx(float(np.sqrt((d64**2).sum())))
    assert res.linf == pytest.approx(float(np.abs(d64).max()))
    assert res.rms == pytest.approx(res.l2 / math.sqrt(res.delta.size))
    saved = res.adjusted_uint8.astype(np.float32) / 255 - tiny_image
    np.testing.assert_allclose(res.saved_delta, saved, atol=1e-7)
    assert res.l2_saved == pytest.approx(float(np.linalg.norm(saved.astype(np.float64))), rel=1e-6)
    assert res.linf_saved == pytest.approx(float(np.abs(saved).max()), rel=1e-6)
    assert res.label(res.original.index) == f"class{res.original.index}" and res.label(99) == "class 99"
    # untargeted: any class outside the explained set is a flip
    assert res.explained == [res.original.index]
    assert not res.is_flip(res.original.index)
    assert all(res.is_flip(i) for i in range(4) if i != res.original.index)
    assert res.is_flip(res.final.index)
    np.testing.assert_allclose(res.importance_map(), maps.magnitude_map(res.delta))


def test_flip_rule_targeted_and_group(tiny, tiny_image):
    top = int(np.argmax(tiny.probabilities(tiny_image)))
    target = (top + 2) % 4
    res = run(tiny, tiny_image, ExplainOptions(style="free", target=target, epsilon=0.01, max_steps=500))
    assert [i for i in range(4) if res.is_flip(i)] == [target]
    group = sorted({top, (top + 1) % 4})
    res = run(tiny, tiny_image, ExplainOptions(style="free", group=group, epsilon=0.01, max_steps=500))
    assert [i for i in range(4) if res.is_flip(i)] == sorted(set(range(4)) - set(group))


def test_key_pixel_image_needs_key_pixels(tiny, tiny_image):
    res = run(tiny, tiny_image, ExplainOptions(style="free", epsilon=0.01, key_pixels=False))
    assert res.key_pixels is None
    with pytest.raises(ValueError, match="no key pixels"):
        res.key_pixel_image()


def test_a_step_says_when_it_was_rejected_or_an_even_step_of_a_stalled_search():
    p = np.array([0.5, 0.5], np.float32)
    plain = Step(index=1, epsilon=2e-4, score=0.1, probabilities=p, l2=0.1, linf=0.1, flipped=False)
    assert plain.note() == ""
    assert "rejected" in Step(**{**plain.__dict__, "accepted": False}).note()
    assert "evenly" in Step(**{**plain.__dict__, "epsilon": 0.0}).note()
    # ε 0 means an even step only in the search itself: another phase's step of ε 0 is a plain step
    assert Step(**{**plain.__dict__, "epsilon": 0.0, "phase": "eight_bit"}).note() == ""


def test_a_result_prints_as_one_line(tiny, tiny_image):
    """``print(result)`` printed every array of the run (thousands of lines), in a notebook too."""
    result = run(tiny, tiny_image, ExplainOptions(style="free", max_steps=100))
    text = repr(result)
    assert "\n" not in text and "array" not in text and len(text) < 300, text
    o, f = result.original, result.final
    assert text == (f"<ExplainResult {result.status.value}: {o.label} ({o.probability:.1%}) -> {f.label} ({f.probability:.1%}), "
                    f"{len(result.steps)} steps, {result.seconds:.1f} s, {result.model_name}>")
    region = run(tiny, tiny_image, ExplainOptions(max_steps=100))
    assert region.key_region is not None and f", key region {region.key_region.fraction:.1%}, " in repr(region)
    key = repr(region.key_region)  # print(result.key_region) printed its mask and ranking whole
    assert "\n" not in key and "array" not in key and len(key) < 400, key
    assert key.startswith(f"KeyRegion(pixels={region.key_region.pixels}, fraction=") and "flips=" in key


def test_the_arrays_the_readme_names_have_its_types_and_shapes(tiny, tiny_image):
    """README "From Python" names where a notebook finds the counterfactual, the map and the key region as arrays
    (they were findable only by reading results.py); each is what it says, and key_region_image() is classified as
    key_region.prediction."""
    res = run(tiny, tiny_image, ExplainOptions(max_steps=60))
    h, w = tiny_image.shape[:2]
    for name in ("original_pixels", "adjusted_pixels", "delta"):
        a = getattr(res, name)
        assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == (h, w, 3), name
    assert 0 <= res.adjusted_pixels.min() and res.adjusted_pixels.max() <= 1
    assert res.adjusted_uint8.dtype == np.uint8 and res.adjusted_uint8.shape == (h, w, 3)
    assert res.importance_map().dtype == np.float32 and res.importance_map().shape == (h, w)
    for probs in (res.original_probabilities, res.final_probabilities):
        assert probs.dtype == np.float32 and probs.shape == (len(res.labels),)
    assert tiny.classify(res.adjusted_uint8 / np.float32(255))[0].index == res.final.index
    assert res.key_pixels is None and res.flipped and res.key_region is not None
    assert res.key_region.mask.dtype == bool and res.key_region.mask.shape == (h, w)
    img = res.key_region_image()
    assert img.dtype == np.float32 and img.shape == (h, w, 3) and np.array_equal(np.round(img * 255) / 255, img)
    assert tiny.classify(img)[0].index == res.key_region.prediction.index
    assert set(res.final.to_dict()) == {"index", "label", "probability"}
    probs = tiny.probabilities(res.original_pixels)
    assert probs.dtype == np.float64 and probs.shape == (len(res.labels),)


def test_the_key_pixel_image_is_the_8_bit_image_the_key_pixel_search_classified(tiny, tiny_image):
    """Outside the key set the photo keeps its own 8-bit rounding (a float or 16-bit photo is on no 8-bit level),
    inside it the saved adjusted image's values: every pixel on the 8-bit levels."""
    res = run(tiny, tiny_image, ExplainOptions(style="free", epsilon=0.01))
    assert res.key_pixels is not None and res.key_pixels.count > 0
    assert not np.allclose(tiny_image * 255, np.round(tiny_image * 255), atol=1e-3)  # the photo is on no 8-bit level
    none = res.key_pixel_image(0)
    np.testing.assert_allclose(none, quantize(tiny_image), atol=1e-6)
    img = res.key_pixel_image()
    np.testing.assert_allclose(img * 255, np.round(img * 255), atol=1e-3)
    m = res.key_pixels.mask
    np.testing.assert_allclose(img[m], res.adjusted_uint8[m].astype(np.float32) / 255, atol=1e-6)
    np.testing.assert_allclose(img[~m], quantize(tiny_image)[~m], atol=1e-6)


def test_a_result_names_every_class_by_its_label_the_first_too(tiny, tiny_image):
    """result.label(i) (steps.csv's top-k labels): the model's label for every index, class 0 included."""
    res = run(tiny, tiny_image, ExplainOptions(style="free", max_steps=1, key_pixels=False))
    assert [res.label(i) for i in range(4)] == res.labels[:4] == [f"class{i}" for i in range(4)]
    assert res.label(-1) == "class -1" and res.label(4) == "class 4"


def test_the_records_saved_rms_and_class_range_are_the_results_own(tiny, tiny_image):
    """A notebook read ``record["rms_saved"]`` and ``record["original_range"]`` but found neither on the result: both
    are properties now, the record's values taken from them."""
    from gradflip_desktop.core.report import record

    result = run(tiny, tiny_image, ExplainOptions(style="free", max_steps=50))
    saved = result.adjusted_uint8.astype(np.float64) / 255 - result.original_pixels.astype(np.float64)
    assert result.rms_saved == pytest.approx(float(np.sqrt((saved ** 2).mean())), rel=1e-5)
    probs = result.original_probabilities
    assert result.original_range == [round(float(probs.min()), 8), round(float(probs.max()), 8)]
    rec = record(result, versions={})
    assert rec["rms_saved"] == pytest.approx(result.rms_saved, abs=1e-8) and rec["original_range"] == result.original_range
