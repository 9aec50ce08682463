"""The sentence's whole percents agree with the one-decimal numbers the window shows next to them.

Walk (session 22): Grace Hopper's portrait is military uniform at 39.46 %: the class table, the captions and the
figure's title said "39.5 %", the sentence right above them "military uniform (39 %)"; the 20 px icon's key
region flipped to bulletproof vest at 14.5 % (the key-region line) and "15 %" (the sentence).
"""

from __future__ import annotations

import pytest

from gradflip_desktop.core.summary import pct, pct1


@pytest.mark.parametrize("p", [0.3946340084075928, 0.38501, 0.14500001, 0.125, 0.7949, 0.955, 0.1049])
def test_whole_percent_rounds_the_shown_decimal_half_up(p):
    shown = float(pct1(p).split()[0])  # "39.5 %" -> 39.5
    whole = int(pct(p).split()[0])
    assert whole == int(shown + 0.5), (pct1(p), pct(p))


def test_whole_percent_examples():
    assert pct(0.3946340084075928) == "40 %"  # was "39 %" beside "39.5 %"
    assert pct(0.385) == "39 %"  # 38.5 % (one decimal) was "38 %": half to even
    assert pct(0.791) == "79 %"
    assert pct(0.9996) == "99.9 %"  # never "100 %" below certainty
    assert pct(1.0) == "100 %"


def test_a_probability_above_nothing_never_reads_zero_with_any_decimals():
    """A 21,843-class model's top class at 0.04 % read "(0.0 %)" in the figure's title: as :func:`pct` says it,
    "< 0.1 %"; two decimals tell 0.04 % from 0.03 %, and nothing at all stays "0.0 %"."""
    from gradflip_desktop.core.summary import apart

    assert pct1(0.0004) == "< 0.1 %" == pct(0.0004)
    assert pct1(0.0005) == "0.1 %" and pct1(0.0) == "0.0 %"
    assert apart(0.0004, 0.0003) == ("0.04 %", "0.03 %")
    assert apart(0.00004, 0.00003) == ("< 0.01 %", "< 0.01 %")
