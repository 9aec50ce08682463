"""The sentence writes probabilities as the window and the figure do next to it: one decimal.

Walk (session 22): Grace Hopper's portrait is military uniform at 39.46 %: the class table, the captions and the
figure's title said "39.5 %", the sentence right above them "military uniform (39 %)". Whole percents rounded half up
from the decimal shown then agreed in value, but two reviewers (session 55) still read two numbers for one value:
"Egyptian cat (79 %)" under the figure's title "Egyptian cat (79.0 %)", "bobsled (30 %)" beside a table's 29.5 %.
"""

from __future__ import annotations

import pytest

from gradflip_desktop.core.summary import pct, pct1, share


@pytest.mark.parametrize("p", [0.3946340084075928, 0.38501, 0.14500001, 0.125, 0.7949, 0.955, 0.1049, 0.042, 0.9996])
def test_the_sentence_writes_a_probability_as_the_captions_do(p):
    assert pct(p) == pct1(p)


def test_probability_examples():
    assert pct(0.3946340084075928) == "39.5 %"
    assert pct(0.791) == "79.1 %"
    assert pct(0.042) == "4.2 %"
    assert pct(0.9996) == "99.9 %"  # never "100.0 %" below certainty
    assert pct(1.0) == "100.0 %"
    assert pct(float("nan")) == "n/a"


def test_a_share_of_the_image_stays_whole_above_ten_percent():
    assert share(0.491) == "49 %" and share(0.385) == "39 %"  # half up from the decimal, not half to even
    assert share(0.064) == "6.4 %" and share(0.004) == "0.4 %"
    assert share(0.9985) == "99.9 %" and share(0.99996) == "99.9 %"  # never "100 %" for less than all of it


def test_a_probability_above_nothing_never_reads_zero_with_any_decimals():
    """A 21,843-class model's top class at 0.04 % read "(0.0 %)" in the figure's title: "< 0.1 %"; two decimals tell
    0.04 % from 0.03 %, and nothing at all stays "0.0 %"."""
    from gradflip_desktop.core.summary import apart

    assert pct1(0.0004) == "< 0.1 %" == pct(0.0004)
    assert pct1(0.0005) == "0.1 %" and pct1(0.0) == "0.0 %"
    assert apart(0.0004, 0.0003) == ("0.04 %", "0.03 %")
    assert apart(0.00004, 0.00003) == ("< 0.01 %", "< 0.01 %")
