"""The maps shared by the views and the exported figure."""

import numpy as np
import pytest

from gradflip_desktop.core.viz import maps


def test_magnitude_map_is_smoothed_channel_sum():
    delta = np.zeros((40, 60, 3), np.float32)
    delta[20, 30] = [0.1, -0.2, 0.05]
    raw = maps.magnitude_map(delta, sigma=0)
    assert raw[20, 30] == pytest.approx(0.35) and raw.sum() == pytest.approx(0.35)
    sm = maps.magnitude_map(delta, sigma=2.0)
    assert sm.sum() == pytest.approx(0.35, rel=1e-3)  # blurring keeps the mass
    assert sm[20, 30] < raw[20, 30] and sm[20, 33] > 0 and sm.argmax() == 20 * 60 + 30
    assert maps.default_sigma(300, 451) == pytest.approx(451 / 150)


def test_signed_and_amplified():
    delta = np.zeros((4, 4, 3), np.float32)
    delta[0, 0] = 0.03
    delta[1, 1] = -0.03
    s = maps.signed_map(delta)
    assert s[0, 0] == pytest.approx(0.03) and s[1, 1] == pytest.approx(-0.03)
    rgb, lim = maps.signed_overlay(delta)
    assert lim > 0 and rgb[0, 0, 0] > rgb[0, 0, 2] and rgb[1, 1, 2] > rgb[1, 1, 0]  # red up, blue down
    gain = maps.auto_gain(delta)
    amp = maps.amplified(delta, gain)
    assert amp[2, 2, 0] == pytest.approx(0.5) and 0.9 < amp[0, 0, 0] <= 1.0 and 0 <= amp[1, 1, 0] < 0.1


def test_key_pixel_overlay_marks_exactly_the_key_pixels():
    img = np.full((30, 30, 3), 0.5, np.float32)
    mask = np.zeros((30, 30), bool)
    mask[10, 10] = mask[20, 5] = True
    out = maps.key_pixel_overlay(img, mask)
    yellow = np.all(np.isclose(out, [1.0, 0.9, 0.2]), axis=2)
    red = np.all(np.isclose(out, [0.9, 0.15, 0.1]), axis=2)
    assert np.array_equal(yellow, mask)
    assert red.sum() == 16 and red[9, 9] and red[11, 11] and not red[10, 10]


def test_heat_overlay_range_and_emphasis():
    img = np.full((20, 20, 3), 0.5, np.float32)
    values = np.zeros((20, 20), np.float32)
    values[5:8, 5:8] = 1.0
    out = maps.heat_overlay(img, values)
    assert out.shape == (20, 20, 3) and out.min() >= 0 and out.max() <= 1
    assert out[6, 6].sum() > out[15, 15].sum()  # the important area stands out
    assert np.allclose(out[15, 15], out[0, 0])  # the rest shows the (dimmed) photo unchanged


def test_the_key_region_layer_outlines_the_region_dims_the_rest_and_the_figure_composites_it():
    from gradflip_desktop.core.viz.maps import (
        REGION_LINE_RGB, composite, key_region_layer, key_region_overlay,
    )

    mask = np.zeros((60, 80), bool)
    mask[20:40, 30:50] = True
    layer = key_region_layer(mask)
    assert layer.shape == (60, 80, 4) and layer.dtype == np.uint8
    line = (layer[..., :3] == REGION_LINE_RGB).all(-1) & (layer[..., 3] == 255)
    assert line[20, 35] and line[39, 35] and line[25, 30] and line[25, 49]  # the region's inner border
    assert not line[~mask].any() and not line[25:35, 35:45].any()
    assert (layer[25:35, 35:45, 3] == 0).all()  # inside: the photo as it is
    assert (layer[0:10, :, 3] > 0).all() and (layer[0:10, :, 3] < 255).all()  # outside: a veil, not opaque
    photo = np.random.default_rng(0).uniform(0, 1, (60, 80, 3)).astype(np.float32)
    fig = key_region_overlay(photo, mask)
    assert np.array_equal(fig, composite(photo, layer))  # the figure and the app draw the same layer
    assert np.allclose(fig[25:35, 35:45], photo[25:35, 35:45])
    assert np.allclose(fig[line], np.array(REGION_LINE_RGB) / 255.0)
    # outside, the photo is dimmed toward grey: less contrast than the original
    assert fig[0:10].std() < 0.6 * photo[0:10].std()
