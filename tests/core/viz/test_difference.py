"""The Difference view's renderer (Qt-free): every mode, the colour bars, live previews drawn small."""

from __future__ import annotations

import numpy as np
import pytest

from gradflip_desktop.core.viz.difference import (
    AMPLIFIED,
    DIFF_MODES,
    KEY_PIXELS,
    MAGNITUDE,
    SIGNED,
    DiffRequest,
    render_difference,
)
from gradflip_desktop.core.viz.display import box_downsample


@pytest.fixture
def pair():
    rng = np.random.default_rng(1)
    orig = rng.random((120, 180, 3), dtype=np.float32)
    adj = np.clip(orig + rng.normal(0, 0.01, orig.shape).astype(np.float32), 0, 1)
    return orig, adj


def test_live_difference_is_drawn_at_the_panel_size(pair):
    """Live previews: the map drawn at the panel's size is the full map, block-averaged."""
    orig, adj = pair
    full = render_difference(DiffRequest(MAGNITUDE, orig, None, adjusted=adj))
    live = render_difference(DiffRequest(MAGNITUDE, orig, None, adjusted=adj, reduce=2))
    assert full.extent is None and live.extent == (180, 120)
    assert live.rgb.shape == (60, 90, 3)
    diff = np.abs(live.rgb.astype(np.float32) - box_downsample(full.rgb, 2).astype(np.float32))
    assert diff.mean() < 6, diff.mean()
    # the per-pixel modes stay full size
    assert render_difference(DiffRequest(SIGNED, orig, None, adjusted=adj, reduce=2)).rgb.shape == orig.shape


def test_every_mode_draws_the_image_size_with_its_colour_bar(pair):
    orig, adj = pair
    delta = adj - orig
    assert set(DIFF_MODES) == {MAGNITUDE, SIGNED, KEY_PIXELS, AMPLIFIED}
    mask = np.zeros(orig.shape[:2], bool)
    mask[::7, ::5] = True
    for mode in DIFF_MODES:
        d = render_difference(DiffRequest(mode, orig, delta, mask=mask))
        assert d.mode == mode and d.rgb.shape == orig.shape and d.rgb.dtype == np.uint8
        assert (d.colorbar is not None) == (mode in (MAGNITUDE, SIGNED))
    signed = render_difference(DiffRequest(SIGNED, orig, delta)).colorbar
    assert signed.low == pytest.approx(-signed.high) and signed.high > 0  # centred on zero, 8-bit levels
    amp = render_difference(DiffRequest(AMPLIFIED, orig, delta))
    assert amp.gain > 1  # automatic gain
    fixed = render_difference(DiffRequest(AMPLIFIED, orig, delta, gain=3.0))
    assert fixed.gain == 3.0 and not np.array_equal(fixed.rgb, amp.rgb)
    # the key-pixel view before the key pixels are known shows the magnitude map and says why
    early = render_difference(DiffRequest(KEY_PIXELS, orig, delta))
    assert early.colorbar is not None and "after the flip" in early.note


def test_key_pixel_outline_follows_the_mask_and_opacity(pair):
    orig, adj = pair
    delta = adj - orig
    mask = np.zeros(orig.shape[:2], bool)
    mask[40:60, 50:90] = True
    clear = render_difference(DiffRequest(KEY_PIXELS, orig, delta, mask=mask, opacity=0.0))
    np.testing.assert_array_equal(clear.rgb, np.clip(np.rint(orig * 255), 0, 255).astype(np.uint8))
    shown = render_difference(DiffRequest(KEY_PIXELS, orig, delta, mask=mask, opacity=1.0))
    yellow = np.all(shown.rgb == np.array([255, 230, 51], np.uint8), axis=2)
    np.testing.assert_array_equal(yellow, mask)  # the key pixels, and only they, are the bright dots


def test_blur_amount_is_shown_in_percent(pair):
    orig, adj = pair
    amount = np.zeros(orig.shape[:2], np.float32)
    amount[30:70, 60:120] = 0.8
    d = render_difference(DiffRequest(MAGNITUDE, orig, adj - orig, blur_amount=amount))
    assert d.colorbar.label == "blur amount (%)" and 0 < d.colorbar.high <= 100


def test_a_map_without_any_change_has_a_plain_scale(pair):
    # a run that stopped at step 0 (zero gradient, e.g. a 1x1 or one-colour photo): its map is all zero; the
    # colour bar went from 0 to 1e-10 % (ticks "2e-11 ... 8e-11"), numbers that mean nothing
    orig, _ = pair
    zero = np.zeros(orig.shape[:2], np.float32)
    # ... and its scale is the full one of its unit: a 0-1 scale under "blur amount (%)" read "0.2 % … 0.8 %"
    for req, high in ((DiffRequest(MAGNITUDE, orig, np.zeros_like(orig), blur_amount=zero), 100.0),
                      (DiffRequest(MAGNITUDE, orig, np.zeros_like(orig), importance=zero), 100.0),
                      (DiffRequest(MAGNITUDE, orig, np.zeros_like(orig)), 255.0)):
        bar = render_difference(req).colorbar
        assert (bar.low, bar.high) == (0.0, high), bar.label

def test_key_outline_rings_the_key_pixels_and_is_transparent_elsewhere():
    from gradflip_desktop.core.viz.difference import OUTLINE_RGB, key_outline

    mask = np.zeros((40, 60), bool)
    mask[10:20, 20:30] = True
    rgba = key_outline(mask, width=2, radius=0)
    assert rgba.shape == (40, 60, 4) and rgba.dtype == np.uint8
    ring = rgba[..., 3] == 255
    assert ring[8, 25] and ring[21, 25] and ring[15, 18] and ring[15, 31]  # 2 px around the block
    assert not ring[10:20, 20:30].any() and not ring[5, 25] and not ring[15, 10]
    assert (rgba[ring][:, :3] == OUTLINE_RGB).all()
    assert (rgba[10:20, 20:30, 3] == 90).all()  # the key pixels: a light tint
    assert (rgba[0:5, :, 3] == 0).all()  # transparent elsewhere
    assert (key_outline(np.zeros((1200, 800), bool))[..., 3] == 0).all()  # nothing to outline: all clear


def test_scattered_key_pixels_close_together_are_outlined_as_one_region():
    from gradflip_desktop.core.viz.difference import key_outline, key_region

    mask = np.zeros((90, 90), bool)
    mask[30:60:3, 30:60:3] = True  # a grid of single pixels, 3 px apart
    region = key_region(mask, radius=2)
    assert region[30:58, 30:58].all()  # one area
    assert not region[:25].any() and not region[65:].any()
    rgba = key_outline(mask, width=1, radius=2)
    ring = rgba[..., 3] == 255
    assert ring[29, 40] and ring[40, 29]  # one line around the area ...
    assert not ring[31:57, 31:57].any()  # ... not a ring around every pixel


def test_the_key_set_mode_draws_a_key_region_as_the_figure_does():
    """Difference view, "Key region outline": the region outlined with the rest dimmed (the figure's
    panel), not yellow key-pixel dots over the whole region."""
    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.results import KeyRegion
    from gradflip_desktop.core.viz.difference import KEY_PIXELS, DiffRequest, render_difference
    from gradflip_desktop.core.viz.maps import key_region_overlay

    rng = np.random.default_rng(1)
    orig = rng.uniform(0, 1, (48, 64, 3)).astype(np.float32)
    mask = np.zeros((48, 64), bool)
    mask[10:30, 10:40] = True
    ranking = np.argsort(np.argsort(~mask.ravel(), kind="stable"), kind="stable").reshape(mask.shape)  # region first
    region = KeyRegion(pixels=int(mask.sum()), fraction=float(mask.mean()), components=1, flips=True,
                       prediction=Prediction(1, "b", 0.6), mask=mask, ranking=ranking.astype(np.int32), fill="blur")
    req = DiffRequest(KEY_PIXELS, orig, orig.copy(), opacity=1.0, key_pixels=region, key_count=region.pixels)
    img = render_difference(req)
    expected = np.clip(np.round(key_region_overlay(orig, mask) * 255), 0, 255)
    assert np.abs(img.rgb.astype(int) - expected.astype(int)).max() <= 1
    assert np.abs(img.rgb[15:25, 15:35].astype(int) - np.round(orig[15:25, 15:35] * 255).astype(int)).max() <= 1


def test_with_its_fill_the_key_region_mode_shows_the_image_the_key_region_answer_is_about():
    """"removing its detail flips it to prairie chicken" spoke of an image the window never showed: with the
    region's fill-in the mode draws the photo with only the region replaced (ExplainResult.key_region_image),
    outlined but neither veiled nor hatched, so what was done to the region shows."""
    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.results import KeyRegion
    from gradflip_desktop.core.viz.difference import KEY_PIXELS, DiffRequest, render_difference

    rng = np.random.default_rng(2)
    orig = rng.uniform(0, 1, (60, 80, 3)).astype(np.float32)
    fill = np.full_like(orig, 0.5)
    mask = np.zeros((60, 80), bool)
    mask[:, :50] = True  # over half of the image: hatched on the Original, not here
    ranking = np.argsort(np.argsort(~mask.ravel(), kind="stable"), kind="stable").reshape(mask.shape)
    region = KeyRegion(pixels=int(mask.sum()), fraction=float(mask.mean()), components=1, flips=True,
                       prediction=Prediction(1, "b", 0.6), mask=mask, ranking=ranking.astype(np.int32), fill="blur")
    img = render_difference(DiffRequest(KEY_PIXELS, orig, orig.copy(), opacity=0.75, key_pixels=region,
                                        key_count=region.pixels, fill=fill))
    assert img.alone
    assert (img.rgb[5:55, 5:45] == 128).all()  # the region: the fill-in, unhatched
    outside = np.round(orig[5:55, 55:75] * 255).astype(int)
    assert np.abs(img.rgb[5:55, 55:75].astype(int) - outside).max() <= 1  # the rest: the photo, not dimmed
    assert (img.rgb[:, 48:50] == (255, 217, 26)).all(axis=-1).any()  # the outline
    half = render_difference(DiffRequest(KEY_PIXELS, orig, orig.copy(), key_pixels=region, key_count=1000, fill=fill))
    assert (half.rgb.reshape(-1, 3) == 128).all(axis=-1).sum() < (img.rgb.reshape(-1, 3) == 128).all(axis=-1).sum()
    plain = render_difference(DiffRequest(KEY_PIXELS, orig, orig.copy(), key_pixels=region, key_count=region.pixels))
    assert not plain.alone  # without the fill-in (an older result): the outlined photo, as before


# V01 (render_difference: `f = 1` for a finished result dropped): a result's maps are drawn full size even when the
# panel asks for a reduced live preview (its importance map, blur amount or key-pixel mask is full size)
def test_a_finished_results_map_is_drawn_full_size_whatever_the_reduction(pair):
    orig, adj = pair
    importance = np.random.default_rng(2).random(orig.shape[:2]).astype(np.float32)
    mask = np.zeros(orig.shape[:2], bool)
    mask[40:60, 50:90] = True
    for req in (DiffRequest(MAGNITUDE, orig, None, adjusted=adj, importance=importance, reduce=3),
                DiffRequest(MAGNITUDE, orig, None, adjusted=adj, blur_amount=importance, reduce=3),
                DiffRequest(KEY_PIXELS, orig, None, adjusted=adj, mask=mask, reduce=3)):
        img = render_difference(req)
        assert img.rgb.shape == orig.shape and img.extent is None
    full = render_difference(DiffRequest(MAGNITUDE, orig, None, adjusted=adj, importance=importance))
    reduced = render_difference(DiffRequest(MAGNITUDE, orig, None, adjusted=adj, importance=importance, reduce=3))
    assert np.array_equal(full.rgb, reduced.rgb)


# V05 (key_outline: the tint's test on the key pixels' share -> the closed region's share): scattered key pixels on
# under a quarter of the photo are tinted even when their closed region covers more of it
def test_sparse_key_pixels_are_tinted_even_when_their_region_is_large():
    from gradflip_desktop.core.viz.difference import KEY_TINT_MAX_FRACTION, key_outline, key_region

    mask = np.zeros((60, 60), bool)
    mask[2:58:3, 2:58:3] = True  # one pixel in nine: about 9 % of the photo
    region = key_region(mask, radius=2)
    assert mask.mean() <= KEY_TINT_MAX_FRACTION < region.mean()
    rgba = key_outline(mask, width=1, radius=2)
    assert (rgba[mask & ~(rgba[..., 3] == 255), 3] == 90).all() and (rgba[..., 3] == 90).any()


# V06 (key_region's default radius: 1 per 90 px of the long side -> 1 per 45 px): on a 180 px photo the radius is
# 2, so two key pixels 8 px apart stay two areas (a radius of 4 joined them)
def test_the_default_closing_radius_is_one_pixel_per_90_of_the_long_side():
    from gradflip_desktop.core.viz.difference import key_region

    mask = np.zeros((180, 180), bool)
    mask[90, 60] = mask[90, 68] = True
    assert np.array_equal(key_region(mask), key_region(mask, radius=2))
    assert not key_region(mask)[90, 64]
    near = np.zeros((180, 180), bool)
    near[90, 60] = near[90, 65] = True  # 5 px apart: joined at radius 2
    assert key_region(near)[90, 62:64].all()


def test_a_tiny_photos_key_set_is_outlined_on_a_finer_grid_and_spread_over_the_photo():
    """An 8 x 8 photo's key region alone (and its key pixels) was outlined on the photo's own grid: each outlined
    pixel solid yellow, ringed by solid black ones, so about a sixth of the photo was hidden. Drawn on a grid 8 times
    finer (as the Original's outline and the figure are), the panel spreads it over the photo's 8 x 8 area."""
    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.results import KeyRegion
    from gradflip_desktop.core.viz.difference import KEY_OUTLINE_MIN_SIDE, KEY_PIXELS, DiffRequest, render_difference

    rng = np.random.default_rng(3)
    orig = rng.uniform(0.2, 0.8, (8, 8, 3)).astype(np.float32)
    fill = np.full_like(orig, 0.5)
    mask = np.zeros((8, 8), bool)
    mask[3:5, 3:4] = True
    ranking = np.argsort(np.argsort(~mask.ravel(), kind="stable"), kind="stable").reshape(mask.shape)
    region = KeyRegion(pixels=2, fraction=2 / 64, components=1, flips=True, prediction=Prediction(1, "b", 0.6),
                       mask=mask, ranking=ranking.astype(np.int32), fill="blur")
    scale = KEY_OUTLINE_MIN_SIDE // 8
    for fill_given in (fill, None):
        img = render_difference(DiffRequest(KEY_PIXELS, orig, orig.copy(), opacity=1.0, key_pixels=region,
                                            key_count=2, fill=fill_given))
        assert img.rgb.shape == (8 * scale, 8 * scale, 3) and img.extent == (8, 8)
        # the outline is a thin line: each photo pixel's block keeps most of its own colour
        line = np.all(img.rgb == (255, 217, 26), axis=-1) | np.all(img.rgb <= 40, axis=-1)
        assert line.mean() < 0.15, line.mean()
        assert not line[scale * 3 + 2:scale * 5 - 2, scale * 3 + 2:scale * 4 - 2].any()  # the region's inside clear
    dots = render_difference(DiffRequest(KEY_PIXELS, orig, orig.copy(), mask=mask, opacity=1.0))  # key pixels alike
    assert dots.rgb.shape == (8 * scale, 8 * scale, 3) and dots.extent == (8, 8)
