"""The checks of Preprocessing's fields (core/models/prep_fields.py): each value out of its range is one ModelError
that names it."""

from __future__ import annotations

import pytest

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import Preprocessing


def test_a_std_of_the_wrong_length_is_refused_like_a_mean():
    """Two std values for three channels (mutation audit: checking the mean's length alone survived; the two values
    then broadcast wrongly or failed inside the model)."""
    with pytest.raises(ModelError, match=r"^mean/std need 1 or 3 values for 3 channels, not 3 / 2$"):
        Preprocessing(mean=(0.5, 0.5, 0.5), std=(0.2, 0.2))


@pytest.mark.parametrize("size", [(224, 0), (224, 8193), (0, 224)])
def test_either_side_of_the_input_size_out_of_range_is_refused(size):
    """The width is checked as the height is (mutation audit: checking the height alone survived)."""
    with pytest.raises(ModelError, match=rf"^input size {size[0]}×{size[1]} out of range \(1 to 8192 px per side\)$"):
        Preprocessing(input_size=size)
    assert Preprocessing(input_size=(224, 8192)).input_size == (224, 8192)


def test_the_largest_resize_size_is_taken_and_one_more_is_refused():
    """8192 px is the limit, included (mutation audit: refusing 8192 itself survived)."""
    assert Preprocessing(resize="center-crop", resize_size=8192).resize_size == 8192
    with pytest.raises(ModelError, match=r"^resize size 8193 out of range \(1 to 8192 px\)$"):
        Preprocessing(resize="center-crop", resize_size=8193)
