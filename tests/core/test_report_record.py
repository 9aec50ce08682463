"""The record (core/report.py ``record``) as a parser reads it: the figure's numbers are in it."""

from __future__ import annotations

import json

import numpy as np

from helpers import make_tiny
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions
from gradflip_desktop.core.report import write_result_set


def _pixels() -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.kron(rng.uniform(0.3, 0.7, size=(6, 8, 3)).astype(np.float32), np.ones((4, 4, 1), np.float32))


def test_the_record_gives_the_explained_groups_probability_before_and_after(tmp_path):
    """A group run's figure says "any low (93 %)": the group's probability, the sum over its classes, which
    the record did not hold (only the top class's). ``explained`` now has it in the photo and in the saved
    8-bit image; a one-class run's is its class's probability."""
    clf, pixels = make_tiny(), _pixels()
    grouped = run(clf, pixels, ExplainOptions(style="free", group="low"))
    write_result_set(grouped, tmp_path, "g")
    rec = json.loads((tmp_path / "g.gradflip.json").read_text("utf-8"))
    ex = rec["explained"]
    assert ex["name"] == "low" and ex["indices"] == [0, 1]
    p0 = clf.probabilities(pixels)
    saved = clf.probabilities(np.asarray(grouped.adjusted_uint8, np.float32) / 255.0)
    assert abs(ex["probability"] - (p0[0] + p0[1])) < 1e-6
    assert abs(ex["final_probability"] - (saved[0] + saved[1])) < 1e-5
    assert ex["probability"] > rec["original"]["probability"]  # the group holds more than its top class
    single = run(clf, pixels, ExplainOptions(style="free"))
    write_result_set(single, tmp_path, "s")
    one = json.loads((tmp_path / "s.gradflip.json").read_text("utf-8"))["explained"]
    assert one["indices"] == [one_index := int(np.argmax(p0))]
    assert abs(one["probability"] - p0[one_index]) < 1e-6
    assert abs(one["final_probability"] - saved_of(clf, single, one_index)) < 1e-5


def saved_of(clf, result, index: int) -> float:
    return float(clf.probabilities(np.asarray(result.adjusted_uint8, np.float32) / 255.0)[index])


def test_the_record_gives_the_lowest_and_highest_class_probability_in_the_photo(tmp_path):
    """``original_range``: [lowest, highest] single-class probability in the photo, so that a reader of the
    record (the command line) can tell a model that hardly tells its classes apart, as the sentence does."""
    clf, pixels = make_tiny(), _pixels()
    result = run(clf, pixels, ExplainOptions(style="free", key_pixels=False))
    write_result_set(result, tmp_path, "r")
    rec = json.loads((tmp_path / "r.gradflip.json").read_text("utf-8"))
    p0 = clf.probabilities(pixels)
    assert np.allclose(rec["original_range"], [p0.min(), p0.max()], atol=1e-6)
    assert abs(rec["original_range"][1] - rec["original"]["probability"]) < 1e-6


def test_the_record_says_the_answer_in_the_words_of_the_figure(tmp_path):
    """The sentence ("Removing detail in the outlined 12 % of the image turns espresso (90 %) into candle …") was only
    in the figure's pixels: a folder of records could not be read for it (e.g. which photos no small region flips)."""
    from gradflip_desktop.core.summary import summary_sentence

    res = run(make_tiny(), _pixels(), ExplainOptions(max_steps=60))
    write_result_set(res, tmp_path, "r")
    rec = json.loads((tmp_path / "r.gradflip.json").read_text("utf-8"))
    assert rec["sentence"] == summary_sentence(res) and rec["sentence"].startswith(("Removing", "No small region"))
    assert list(rec)[:5] == ["format", "flipped", "status", "message", "sentence"]
