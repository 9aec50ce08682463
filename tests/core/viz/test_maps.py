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
    # a sparse change's bar reaches its values (2 of 16 pixels changed: the limit over all pixels was a fraction of them)
    assert lim == pytest.approx(0.03, rel=1e-3)
    sparse = np.zeros((100, 100, 3), np.float32)
    sparse[:10, :10] = np.linspace(0.001, 0.012, 100).reshape(10, 10, 1)  # 1 % of the pixels changed
    assert maps.signed_overlay(sparse)[1] == pytest.approx(0.012, rel=0.02)
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
    # and darker whatever its brightness: a mid-grey or dark photo's outside must not stay as bright as the region
    for grey in (0.25, 0.5, 0.75, 1.0):
        flat = np.full((60, 80, 3), grey, np.float32)
        out = key_region_overlay(flat, mask)
        assert np.allclose(out[25:35, 35:45], grey)  # the region as it is
        assert (out[0:10] <= 0.62 * grey).all(), (grey, float(out[0:10].max()))  # the rest at most ~60 % as bright


def test_a_key_region_over_most_of_the_image_is_hatched_so_it_does_not_read_inverted():
    """A region over half of the image, outlined and dimmed outside as a small one, showed closed outlines
    only round the few unneeded areas (islands of dim), which read as the region. It is hatched too."""
    from gradflip_desktop.core.options import LARGE_REGION
    from gradflip_desktop.core.viz.maps import REGION_LINE_RGB, key_region_layer, region_hatch

    mask = np.ones((60, 80), bool)
    mask[20:30, 30:40] = False  # one small unneeded area: the region is 98 % of the image
    layer = key_region_layer(mask)
    yellow = (layer[..., :3] == REGION_LINE_RGB).all(-1)
    inside = mask.copy()
    inside[15:35, 25:45] = False  # away from the outline
    stripes = yellow & inside & (layer[..., 3] > 0) & (layer[..., 3] < 255)
    assert stripes.sum() > 0.15 * inside.sum()  # see-through yellow stripes over the region
    assert (layer[inside & ~region_hatch(mask.shape), 3] == 0).all()  # between them, the photo as it is
    assert (layer[22:28, 32:38, 3] > 0).all() and not yellow[22:28, 32:38].any()  # the unneeded area: dimmed
    small = np.zeros((60, 80), bool)
    small[20:40, 30:50] = True
    half = np.zeros((60, 80), bool)
    half[:30] = True
    for m in (small, half, np.ones((60, 80), bool)):  # up to half (or all: nothing to tell apart): no stripes
        assert m.mean() <= LARGE_REGION or m.all()
        lay = key_region_layer(m)
        assert not ((lay[..., 3] > 0) & (lay[..., 3] < 255) & (lay[..., :3] == REGION_LINE_RGB).all(-1)).any()


def test_a_key_region_of_a_few_pixels_gets_a_dashed_box_so_it_can_be_found():
    """skimage's coins at 224 px: an 18-pixel key region at the bottom edge was a yellow tick one had to hunt
    for in the figure (and the caption said "0.0 %"). A region below SMALL_REGION gets a dashed box round it."""
    from gradflip_desktop.core.options import SMALL_REGION
    from gradflip_desktop.core.viz.maps import REGION_LINE_RGB, key_region_layer

    mask = np.zeros((200, 200), bool)
    mask[100:104, 50:54] = True  # 16 px, 0.04 %
    assert mask.mean() < SMALL_REGION
    yellow = (key_region_layer(mask)[..., :3] == REGION_LINE_RGB).all(-1)
    far = yellow.copy()
    far[95:110, 45:60] = False  # away from the region and its own outline
    ys, xs = np.nonzero(far)
    assert far.sum() >= 20  # the box's dashes
    assert ys.min() < 100 - 5 and ys.max() > 104 + 5 and xs.min() < 50 - 5 and xs.max() > 54 + 5  # round the region
    assert ys.max() - ys.min() < 60 and xs.max() - xs.min() < 60  # close to it, not round the whole image
    big = np.zeros((200, 200), bool)
    big[50:120, 50:120] = True  # 12 %: its own outline only
    yellow = (key_region_layer(big)[..., :3] == REGION_LINE_RGB).all(-1)
    assert not (yellow & ~big).any()


def test_a_small_regions_box_fits_a_thin_strip_and_is_closed_along_the_images_edge():
    """A 4000 x 300 panorama at 1,024 x 77: the boxes (a twentieth of the long side away, 51 px) were taller than the
    photo, so only their sides showed, as stray dashes across it; a box the image's edge cut had no line there."""
    from gradflip_desktop.core.viz.maps import REGION_LINE_RGB, dashed_boxes, key_region_layer

    strip = np.zeros((77, 1024), bool)
    strip[30:33, 400:406] = True
    yellow = (key_region_layer(strip)[..., :3] == REGION_LINE_RGB).all(-1)
    yellow[25:38, 395:411] = False  # the region and its own outline
    ys, xs = np.nonzero(yellow)
    assert ys.min() > 0 and ys.max() < 76  # inside the strip, top and bottom lines drawn
    assert yellow[ys.min(), 390:416].sum() >= 6 and yellow[ys.max(), 390:416].sum() >= 6  # dashes along them
    assert xs.max() - xs.min() < 60 and dashed_boxes(strip) == 1
    corner = np.zeros((200, 200), bool)
    corner[0:3, 0:3] = True  # at the top left corner: the box's top and left sides lie on the image's edge
    yellow = (key_region_layer(corner)[..., :3] == REGION_LINE_RGB).all(-1)
    assert yellow[0, 8:14].any() and yellow[8:14, 0].any()


def test_dilate_is_a_square_max_filter_at_any_radius():
    """dilate() (outlines, key pixels, the small region's box) gives what a (2r+1)² max filter gives; it was max
    pooling, 40 s for the key region's outline at the 4,096 px working size."""
    import torch
    import torch.nn.functional as F

    from gradflip_desktop.core.viz.maps import dilate

    rng = np.random.default_rng(0)
    for shape in ((37, 53), (5, 90), (1, 1)):
        mask = rng.uniform(size=shape) > 0.9
        assert np.array_equal(dilate(mask, 0), mask)
        for r in (1, 3, 40):
            t = torch.from_numpy(mask.astype(np.float32))[None, None]
            ref = F.max_pool2d(t, 2 * r + 1, stride=1, padding=r)[0, 0].numpy() > 0.5
            assert np.array_equal(dilate(mask, r), ref), (shape, r)


def test_the_figure_draws_a_small_photos_key_region_at_the_panels_size():
    """The figure's Key region panel of an 8 x 8 photo was the 8 x 8 overlay scaled up: the region solid
    yellow, ringed by black squares. At a scale (outline_scale), the region's pixels keep their colours."""
    from gradflip_desktop.core.viz.maps import key_region_overlay, outline_scale

    assert outline_scale((600, 800)) == 1 and outline_scale((8, 8)) == 32 and outline_scale((8, 8), 360) == 45
    assert outline_scale((300, 100, 3)) == 1  # the long side counts
    photo = np.random.default_rng(1).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    mask = np.zeros((8, 8), bool)
    mask[2, 3:5] = True
    f = outline_scale(mask.shape, 360)
    fig = key_region_overlay(photo, mask, f)
    assert fig.shape == (8 * f, 8 * f, 3)
    for y, x in ((2, 3), (2, 4)):  # inside the region, away from its outline: the photo's own colour
        assert np.allclose(fig[y * f + f // 2, x * f + f // 2], photo[y, x], atol=1e-6)
    assert np.array_equal(key_region_overlay(photo, mask), key_region_overlay(photo, mask, 1))  # the default


def test_a_small_photos_key_pixels_are_drawn_at_the_panels_size(tiny, tiny_image, monkeypatch):
    """On a small photo's own grid the key pixels' red outline covered whole pixels that are not key pixels:
    skimage's chelsea at 16 x 16 (--style free) showed its 57 key pixels with 108 red ones, 64 % of the photo
    coloured. Drawn at the panel's size (outline_scale, as the key region is), the ring is a thin line and the
    pixel next to a key pixel shows its (dimmed) photo."""
    photo = np.random.default_rng(2).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    mask = np.zeros((16, 16), bool)
    mask[5, 5] = mask[5, 6] = mask[10, 3] = True
    f = maps.outline_scale(mask.shape, 360)
    out = maps.key_pixel_overlay(photo, mask, f)
    assert out.shape == (16 * f, 16 * f, 3)
    yellow = np.all(np.isclose(out, [1.0, 0.9, 0.2]), axis=2)
    red = np.all(np.isclose(out, [0.9, 0.15, 0.1]), axis=2)
    assert np.array_equal(yellow, maps.upscale(mask, f))
    assert red.sum() < yellow.sum() / 2  # a thin ring, not a ring of whole pixels
    cy, cx = 5 * f + f // 2, 7 * f + f // 2  # the centre of the pixel right of a key pixel
    assert np.allclose(out[cy, cx], 0.2 + 0.45 * maps.grayscale(photo)[5, 7], atol=1e-6)
    assert np.array_equal(maps.key_pixel_overlay(photo, mask), maps.key_pixel_overlay(photo, mask, 1))  # the default

    # the figure draws a small photo's key pixels that way
    from gradflip_desktop.core import report
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    result = run(tiny, tiny_image, ExplainOptions(style="free"))
    assert result.key_pixels is not None and max(result.original_pixels.shape[:2]) < 64
    scales = []
    drawn = maps.key_pixel_overlay
    monkeypatch.setattr(maps, "key_pixel_overlay", lambda o, m, scale=1: scales.append(scale) or drawn(o, m, scale))
    report.render_figure(result)
    assert scales and scales[0] > 1


def test_a_dark_photo_gets_a_light_veil_so_its_key_region_stands_out():
    # a dalmatian at 12 % brightness: dimmed, its outside looked exactly like its region in the window and the figure
    from gradflip_desktop.core.viz.maps import is_dark, key_region_overlay

    rng = np.random.default_rng(0)
    dark = (rng.random((60, 80, 3)) * 0.12).astype(np.float32)
    mid = (0.3 + rng.random((60, 80, 3)) * 0.4).astype(np.float32)
    assert is_dark(dark) and not is_dark(mid) and not is_dark(np.ones((5, 5, 3), np.float32))
    mask = np.zeros((60, 80), bool)
    mask[20:40, 30:50] = True
    inner = np.zeros_like(mask)
    inner[24:36, 34:46] = True  # away from the outline
    for photo in (dark, mid):
        out = key_region_overlay(photo, mask)
        np.testing.assert_allclose(out[inner], photo[inner], atol=1e-6)  # the region keeps its colours
        gap = abs(float(out[~mask].mean()) - float(photo[inner].mean()))
        assert gap > 0.2, gap  # and the outside differs from it: lifted on the dark photo, dimmed on the mid one
    assert key_region_overlay(dark, mask)[~mask].mean() > dark.mean() + 0.3
    assert key_region_overlay(mid, mask)[~mask].mean() < mid.mean()


def test_an_empty_key_region_leaves_the_photo_unveiled():
    """The key-region slider at 0 px: the whole Original went dark with nothing marked."""
    from gradflip_desktop.core.viz.maps import key_region_layer

    for dark in (False, True):
        layer = key_region_layer(np.zeros((20, 30), bool), dark=dark)
        assert layer.shape == (20, 30, 4) and not layer.any()
    one = np.zeros((20, 30), bool)
    one[5:9, 5:9] = True
    assert key_region_layer(one)[0, 0, 3] > 0  # a region still veils the rest


def test_the_automatic_gain_shows_a_sparse_change():
    """The smallest change of a near tie, saved as 8-bit, moved 64 pixels of a 600 x 400 photo by one level: over
    all values the 99.5th percentile of |δ| was 0, the gain ×1, and the amplified view flat grey."""
    delta = np.zeros((400, 600, 3), np.float32)
    delta[100:108, 200:208, 1] = 1 / 255
    gain = maps.auto_gain(delta)
    assert gain == pytest.approx(0.45 * 255, rel=1e-3)
    amp = maps.amplified(delta, gain)
    assert amp[104, 204, 1] > 0.9 and amp[0, 0, 1] == pytest.approx(0.5)  # the moved pixels stand out of the grey
    assert maps.auto_gain(np.zeros((4, 4, 3), np.float32)) == 1.0  # no change: no gain


# P05 (heat_overlay: np.clip(v / top, 0, 1) -> v / top): a value above the full-heat value (the top 0.5 % of a map)
# is drawn exactly as the full-heat value, at the given opacity; never more opaque than it, nor washed out
def test_values_above_the_top_are_drawn_at_full_heat_and_the_given_opacity():
    from gradflip_desktop.core.viz.maps import heat_overlay

    original = np.full((1, 3, 3), 0.5, np.float32)
    values = np.array([[1.0, 4.0, 100.0]], np.float32)
    out = heat_overlay(original, values, opacity=0.75, top=1.0)
    assert np.allclose(out[0, 1], out[0, 0]) and np.allclose(out[0, 2], out[0, 0])
    # with the percentile's own top: the outlier looks like the 99.5th percentile's pixel
    v = np.concatenate([np.linspace(0, 1, 999, dtype=np.float32), [50.0]]).reshape(1, -1)
    out = heat_overlay(np.full(v.shape + (3,), 0.5, np.float32), v)
    assert np.allclose(out[0, -1], heat_overlay(np.full((1, 1, 3), 0.5, np.float32), np.ones((1, 1), np.float32), top=1.0)[0, 0])


# P06 (key_pixel_overlay: dots grow 1 px per 600 px of the long side -> per 300 px): a key pixel of a 600 px photo
# is one yellow dot ringed in red; of a 1200 px photo a 3 x 3 dot
def test_key_pixel_dots_grow_one_pixel_per_600_of_the_long_side():
    from gradflip_desktop.core.viz.maps import key_pixel_overlay

    for side, dot in ((600, 1), (1200, 3)):
        mask = np.zeros((side, side), bool)
        mask[side // 2, side // 2] = True
        out = key_pixel_overlay(np.full((side, side, 3), 0.5, np.float32), mask)
        yellow = np.all(np.isclose(out, [1.0, 0.9, 0.2]), axis=2)
        red = np.all(np.isclose(out, [0.9, 0.15, 0.1]), axis=2)
        assert yellow.sum() == dot * dot and red.sum() == (dot + 2) ** 2 - dot * dot
