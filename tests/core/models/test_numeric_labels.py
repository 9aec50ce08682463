"""Labels that are numbers themselves and --target. (found in the session-15 model hunt)."""

from __future__ import annotations

import pytest

from gradflip_desktop.core.errors import ModelError
from model_helpers import make_classifier


def test_labels_that_are_numbers_are_not_silently_read_as_indices():
    """Star ratings labelled "1"…"4": "--target 3" took index 3, the class labelled "4", without a word, and
    "--target 4" said index 4 was out of range. A number that is another class's label is ambiguous; "#N" is
    always the index."""
    clf = make_classifier([0.0] * 4, labels=["1", "2", "3", "4"])
    with pytest.raises(ModelError, match=r"class '3' is ambiguous: the label of class 2, and class index 3 "
                                         r"\(labelled '4'\); write #2 for the class labelled '3' or #3 for index 3"):
        clf.find_class("3")
    assert clf.find_class("4") == 3  # no index 4: only the label
    assert clf.find_class("#3") == 3 and clf.find_class("#2") == 2 and clf.find_class(3) == 3
    plain = make_classifier([0.0] * 3, labels=["0", "1", "cat"])  # labels equal to their own index: no question
    assert plain.find_class("1") == 1 and plain.find_class("2") == 2
