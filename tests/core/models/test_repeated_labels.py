"""Labels that name two classes alike (a labels file's repeat): said when the model loads, and a flip between two
such classes names their indices, never "“a” flipped to “a”"."""

from __future__ import annotations

import dataclasses

import numpy as np
from model_helpers import SmallCNN, make_classifier, script, short_options

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.models import files as mf
from gradflip_desktop.core.options import Status


def test_repeated_labels_are_noted_at_load_and_told_apart_by_index_in_the_message(tmp_path):
    path = tmp_path / "dup.pt"
    script(SmallCNN(channels=3, classes=3, size=16), path)
    clf = mf.load_model_file(path, labels=["a", "b", "a"], preprocessing={"input_size": [16, 16]})
    assert any("some labels name more than one class ('a': classes 0, 2)" in w for w in clf.warnings), clf.warnings
    image = np.random.default_rng(0).uniform(0.2, 0.8, (16, 16, 3)).astype(np.float32)
    top = clf.classify(image, k=1)[0].index
    assert top in (0, 2)
    other = 2 - top
    res = run(clf, image, dataclasses.replace(short_options(), target=f"#{other}", max_steps=200))
    assert res.status == Status.FLIPPED and res.final.index == other
    assert res.message == f"“a” (class {top}) flipped to “a” (class {other})"



def test_a_label_on_many_classes_is_said_in_a_short_line(tmp_path):
    """One label on 1,000 classes listed every index: a 5,049-character warning line."""
    path = tmp_path / "many.pt"
    script(SmallCNN(channels=3, classes=1000, size=16), path)
    clf = mf.load_model_file(path, labels=["dog"] * 1000, preprocessing={"input_size": [16, 16]})
    said = [w for w in clf.warnings if "more than one class" in w]
    assert len(said) == 1 and "('dog': classes 0, 1, 2, 3, 4, … 999 (1000 classes))" in said[0] and len(said[0]) < 200

def test_distinct_labels_get_no_note():
    assert not any("more than one class" in w for w in make_classifier([1.0, 0.0, 2.0]).warnings)


def test_a_label_that_names_two_classes_is_picked_by_its_index_and_the_error_says_how(tmp_path):
    import pytest

    from gradflip_desktop.core.errors import ModelError

    path = tmp_path / "dup.pt"
    script(SmallCNN(channels=3, classes=4, size=16), path)
    clf = mf.load_model_file(path, labels=["lemon", "lemon", "apple", "pear"], preprocessing={"input_size": [16, 16]})
    with pytest.raises(ModelError, match=r"the labels name classes 0, 1 alike; write #0 or #1"):
        clf.find_class("lemon")  # it said "give the exact label or the index": "lemon" is the exact label
    assert clf.find_class("#1") == 1 and clf.find_class("apple") == 2


def test_the_command_lines_result_line_tells_two_classes_of_one_label_apart():
    from gradflip_desktop.cli import _outcome_text

    class Outcome:
        written = ()
        record = {"flipped": True, "steps": 4, "flip_step": 1, "l2": 6.0, "l2_saved": 6.066,
                  "original": {"label": "apple", "index": 2, "probability": 0.274},
                  "final": {"label": "apple", "index": 0, "probability": 0.270},
                  "key_region": {"flips": True, "fraction": 0.27, "components": 8,
                                 "prediction": {"label": "apple", "index": 0, "probability": 0.3}}}

    line = _outcome_text(Outcome())
    assert line.startswith("apple (class 2) 27.4 % → apple (class 0) 27.0 %"), line  # it read "apple … → apple …"
    assert "alone → apple (class 0)" in line
