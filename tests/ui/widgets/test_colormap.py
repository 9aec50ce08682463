"""The colour bar's colour maps (``ui/widgets/colormap.py``): the core's LUT, rounded to 8 bits, from low to high
(mutation audit, mutD)."""

from __future__ import annotations

import numpy as np


def test_a_lut_becomes_its_8_bit_colours_from_the_low_end_to_the_high_end():
    from gradflip_desktop.ui.widgets.colormap import colormap_from_lut

    lut = np.array([[0.0, 0.0, 0.25], [0.25, 0.5, 0.75], [1.0, 1.0, 1.0]], np.float32)
    cmap = colormap_from_lut(lut)
    assert cmap.pos.tolist() == [0.0, 0.5, 1.0]
    assert cmap.getColors(mode="byte").tolist() == [[0, 0, 64, 255], [64, 128, 191, 255], [255, 255, 255, 255]]
    assert colormap_from_lut(lut) is cmap  # cached: the bar is not rebuilt at every preview
