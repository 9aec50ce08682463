"""The views' slider scales (ui/widgets/slider_scales.py): the gain is logarithmic from ×1 to ×1000, the key-set
slider quadratic in k/total with every count reachable and 0 only at 0."""

from __future__ import annotations

import pytest

from gradflip_desktop.ui.widgets.slider_scales import (KEY_SLIDER_STEPS, count_to_slider, gain_to_slider,
                                                       slider_to_count, slider_to_gain)


def test_the_gain_is_logarithmic_from_one_to_a_thousand():
    assert [gain_to_slider(g) for g in (0.5, 1, 10, 100, 1000, 5000)] == [0, 0, 33, 67, 100, 100]
    assert slider_to_gain(0) == 1.0 and slider_to_gain(100) == pytest.approx(1000.0)
    assert slider_to_gain(gain_to_slider(31.6)) == pytest.approx(31.6, rel=0.04)


def test_the_key_set_slider_is_quadratic_and_reaches_every_count():
    total = 50_176
    assert count_to_slider(total // 4, total) == KEY_SLIDER_STEPS // 2  # a quarter of the set at the middle
    assert count_to_slider(total, total) == KEY_SLIDER_STEPS and count_to_slider(2 * total, total) == KEY_SLIDER_STEPS
    assert count_to_slider(0, total) == 0 and count_to_slider(5, 0) == 0
    assert slider_to_count(1, total) == 1  # off 0: at least one pixel
    assert slider_to_count(0, total) == 0 and slider_to_count(KEY_SLIDER_STEPS, total) == total
    assert slider_to_count(3, 0) == 0
    for k in (1, 37, 1_000, total):  # a count's slider position gives back about that count
        assert slider_to_count(count_to_slider(k, total), total) == pytest.approx(k, rel=0.1, abs=60)
