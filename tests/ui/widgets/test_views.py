"""The result views (``ui/widgets/views.py``) alone: the opacity and gain slider, the key-set explorer, the captions,
the colour bar and its "no map" note, and the zoom that outlives a resize (mutation audit, mutD)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

CAT, FOX = "<b>Egyptian cat</b> — 79.0 %", "<b>fox squirrel</b> (19.2 %)"


@pytest.fixture
def views(qtbot):
    from gradflip_desktop.ui.widgets.views import ResultViews

    v = ResultViews()
    qtbot.addWidget(v)
    return v


def _diff(mode, bar=None, gain=None, alone=False):
    from gradflip_desktop.core.viz.difference import DiffImage

    return DiffImage(mode, np.zeros((8, 8, 3), np.uint8), bar, gain, alone=alone)


def _bar(low=2.0, high=85.0, label="importance map (%)"):
    from gradflip_desktop.core.viz.difference import ColorBar

    return ColorBar(np.stack([np.linspace(0, 1, 16)] * 3, axis=1), low, high, label)


def test_the_opacity_slider_reads_the_percent_it_sets_and_keeps_a_saved_value_in_range(views):
    assert (views.opacity, views.slider.value(), views.slider_label.text()) == (0.75, 75, "Opacity 75 %")
    views.set_opacity(-0.5)  # the window sets the saved value first: the slider is named then
    assert (views.opacity, views.slider_label.text(), views.slider.accessibleName()) == (0.0, "Opacity 0 %", "Opacity")
    views.set_opacity(0.4)
    for saved in (float("nan"), "much", None):  # no number: the value stays
        views.set_opacity(saved)
    assert (views.opacity, views.slider.value()) == (0.4, 40)
    views.slider.setValue(29)  # 0.29 * 100 is 28.999…: the label rounds it
    assert (views.opacity, views.slider_label.text()) == (0.29, "Opacity 29 %")


def test_the_gain_slider_follows_the_automatic_gain_until_the_user_moves_it(views):
    from gradflip_desktop.core.viz.difference import AMPLIFIED, MAGNITUDE

    views.set_mode(AMPLIFIED)
    assert (views.slider_label.text(), views.slider.accessibleName(), views.slider.value()) == ("Gain ×1.0", "Gain", 0)
    views.show_difference(_diff(AMPLIFIED, gain=12.5))
    assert (views.slider_label.text(), views.slider.value()) == ("Gain ×12.5", 37)  # 100·log10(12.5)/3
    views.slider.setValue(50)  # ×10^1.5
    assert views.slider_label.text() == "Gain ×31.6" and views.gain == pytest.approx(31.62, abs=0.01)
    assert views.opacity == 0.75
    views.show_difference(_diff(AMPLIFIED, gain=5.0))  # the user's gain stays
    assert views.slider_label.text() == "Gain ×31.6"
    views.reset_gain()  # a new change: automatic again
    views.show_difference(_diff(AMPLIFIED, gain=5.0))
    assert (views.slider_label.text(), views.gain) == ("Gain ×5.0", None)
    views.set_mode(MAGNITUDE)
    assert views.slider_label.text() == "Opacity 75 %"


def test_the_key_pixel_explorer_counts_and_names_the_set_it_outlines(views, qtbot):
    from gradflip_desktop.core.viz.difference import KEY_PIXELS
    from gradflip_desktop.ui.widgets.views import KEY_REGION_TIP, KEY_TIP

    assert views.key_count is None and views.key_row.isHidden()
    views.set_key_pixels(total=10_000, found=400)
    assert not views.key_row.isHidden() and views.key_slider.value() == 200  # 1000·√(400/10,000)
    assert views.key_label.text() == "400 px" and views.key_answer.toolTip() == KEY_TIP
    assert views.key_slider.toolTip() == "400 of the 10,000 pixels the change touches (smallest flipping set)"
    with qtbot.waitSignal(views.key_count_changed) as moved:
        views.key_slider.setValue(500)
    assert moved.args == [2_500] and views.key_label.text() == "2,500 px" and views.key_moved
    assert views.key_slider.toolTip() == "2,500 of the 10,000 pixels the change touches"
    views.key_slider.setValue(1)  # 10,000·(1/1000)² rounds to 0: one pixel at least
    assert views.key_count == 1
    views.set_key_count(50_000)
    assert (views.key_count, views.key_slider.value()) == (10_000, 1000)
    views.set_key_answer(FOX)
    assert views.key_answer.text() == "<b>fox squirrel</b> (19.2&nbsp;%)"
    views.set_key_pixels(total=0, found=0)
    assert views.key_row.isHidden() and views.key_count is None
    views.set_key_pixels(total=20_000, found=100, title="Key region")
    assert views.mode_box.itemText(views.mode_box.findData(KEY_PIXELS)) == "Key region alone"
    assert views.key_set_is_region and views.key_answer.toolTip() == KEY_REGION_TIP
    assert views.key_slider.toolTip() == "100 of the image's 20,000 pixels (smallest flipping set)"
    views.name_key_set("Key pixels")
    assert views.mode_box.itemText(views.mode_box.findData(KEY_PIXELS)) == "Key-pixel outline"


def test_the_difference_caption_before_a_run_over_the_key_region_alone_and_its_tooltips(views):
    from gradflip_desktop.core.viz.difference import KEY_PIXELS, MAGNITUDE
    from gradflip_desktop.ui.widgets.views import SLIDER_NOTE

    views.set_mode(KEY_PIXELS)
    assert views.difference.caption.text() == ("<i>Key-pixel outline: shown once a run has found the key pixels. Until "
                                               "then this panel shows the change (Opacity applies).</i>")
    views.set_mode(MAGNITUDE)
    assert views.difference.caption.text() == ""
    views.set_change_caption("<b>change</b> 2 %", "its size")
    views.set_mode(KEY_PIXELS)
    assert (views.difference.caption.text(), views.difference.caption.toolTip()) == ("<b>change</b> 2 %", "its size")
    views.alone_caption = "the key region alone"
    views.show_difference(_diff(KEY_PIXELS, alone=True))
    assert views.difference.title.text() == "<b>Key region alone</b>" and not views.slider.isEnabled()
    views.set_change_caption("<b>another change</b>")
    assert views.difference.caption.text() == "the key region alone"
    views.set_alone_caption("<b>jigsaw puzzle</b> — 6.2 %<br>the key region alone")  # a new answer: shown at once
    assert views.difference.caption.text() == "<b>jigsaw puzzle</b> — 6.2 %<br>the key region alone"
    views.set_caption(views.adjusted, "x" * 81)
    assert views.adjusted.caption.toolTip() == "x" * 81
    views.set_caption(views.adjusted, "x" * 80)
    assert views.adjusted.caption.toolTip() == ""
    views.set_summary("s" * 121)
    assert views.summary.toolTip() == "s" * 121
    views.set_summary("The model sees espresso.")
    assert views.summary.toolTip() == ""
    views.set_key_pixels(total=100, found=10)
    views.set_key_count(20)  # off the run's set: the note, but not on an empty caption
    views.set_caption(views.original, "")
    assert views.original.caption.text() == ""
    views.set_caption(views.original, CAT)
    assert views.original.caption.text() == SLIDER_NOTE + CAT
    views.original.set_image(np.zeros((8, 8, 3), np.uint8))
    views.original.set_overlay(np.zeros((8, 8, 4), np.uint8))
    views.clear_result()
    assert views.original.overlay() is None and views.difference.title.text() == "<b>Difference</b>"


def test_the_colour_bar_its_levels_label_and_the_note_of_a_run_that_changed_nothing(views):
    from PySide6.QtGui import QColor

    from gradflip_desktop.core.viz.difference import MAGNITUDE

    views.show_difference(_diff(MAGNITUDE, _bar()))
    assert not views.colorbar_view.isHidden() and views._spacer.isHidden()
    assert tuple(views.colorbar.levels()) == (2.0, 85.0) and views.bar_label.text == "importance map (%)"
    views.set_no_map("nothing to flip")
    assert views.no_map.text() == "<i>No map: nothing to flip, so the photo was not changed.</i>"
    assert views.colorbar_view.isHidden() and not views.no_map.isHidden() and views._spacer.isHidden()
    views.show_difference(_diff(MAGNITUDE, _bar()))  # the note stays in the bar's place
    assert views.colorbar_view.isHidden()
    views.set_no_map(None)
    assert views.no_map.isHidden() and not views._spacer.isHidden()
    views.show_difference(_diff(MAGNITUDE, _bar()))
    views.clear_result()
    assert views.colorbar_view.isHidden() and not views._spacer.isHidden()
    views.set_background(QColor("white"), QColor("black"), bar_background=QColor(200, 10, 10))
    assert views.colorbar_view.backgroundBrush().color() == QColor(200, 10, 10)
    views.name_magnitude("importance map")
    assert views.mode_box.itemText(views.mode_box.findData(MAGNITUDE)) == "Importance map"
    views.name_magnitude(None)
    assert views.mode_box.itemText(views.mode_box.findData(MAGNITUDE)) == "Smoothed magnitude"


def _width(views):
    (x0, x1), _ = views.original.view.viewRange()
    return x1 - x0


def _shown(views, qtbot, shape) -> None:
    """``views`` at 900 x 500 px, every panel showing an image of ``shape`` (height, width), fitted."""
    views.resize(900, 500)
    views.show()
    for panel in (views.original, views.adjusted, views.difference):
        panel.set_image(np.zeros((*shape, 3), np.uint8))
    qtbot.wait(30)
    views.fit()


def test_a_zoom_keeps_its_scale_through_a_resize_and_fit_fits_again(views, qtbot):
    _shown(views, qtbot, (100, 100))
    whole = _width(views)
    views.zoom(0.5)  # the whole photo: no further out
    assert _width(views) == pytest.approx(whole)
    views.zoom(2.0)
    assert _width(views) == pytest.approx(whole / 2)
    vb = views.original.view
    scale = _width(views) / vb.width()  # image pixels per screen pixel
    views.resize(700, 500)
    # the zoom is set again once every linked view has its new size (a 0 ms timer after the resize's events): waited
    # for as such, not for 50 ms, which a loaded machine can spend before those events are all handled
    qtbot.waitUntil(lambda: _width(views) / vb.width() == pytest.approx(scale, rel=0.02))
    (x0, x1), (y0, y1) = vb.viewRange()
    assert (x1 - x0) / vb.width() == pytest.approx(scale, rel=0.02)
    assert (y1 - y0) / vb.height() == pytest.approx(scale, rel=0.02)
    views.fit()
    views.resize(900, 500)
    qtbot.waitUntil(vb.shows_whole_image)
    assert vb.shows_whole_image() and min(x1 - x0 for x0, x1 in vb.viewRange()) == pytest.approx(100, abs=1)


def test_a_zoomed_strip_drawn_stretched_keeps_its_zoom_through_a_resize(views, qtbot):
    """A 1,024 x 1 strip is drawn with pixels 64 times taller than wide (image_panel.shown_pixel_ratio); the zoom kept
    over a resize asked for a y range as if pixels were square, and the aspect lock zoomed it out 64 times."""
    _shown(views, qtbot, (1, 1024))
    views.zoom(2.0)
    vb = views.original.view
    (x0, x1), _ = vb.viewRange()
    scale = (x1 - x0) / vb.width()
    height = vb.height()
    views.resize(900, 450)
    # the refit follows the resize's events (a 0 ms timer): waited for as such
    qtbot.waitUntil(lambda: vb.height() < height and not views._refit_timer.isActive())
    (x0, x1), (y0, y1) = vb.viewRange()
    assert (x1 - x0) / vb.width() == pytest.approx(scale, rel=0.05)  # (it was 64 times this)
    assert (y1 - y0) / vb.height() == pytest.approx(scale / 64, rel=0.05)


def test_the_third_panel_is_titled_by_one_rule_in_every_mode(views):
    """A run's named map titles the panel ("Importance map"), in the magnitude mode and where the key-set mode shows the
    map for want of a key set; the change (the plain smoothed magnitude, signed, amplified) is "Difference"."""
    from gradflip_desktop.core.viz.difference import KEY_PIXELS, MAGNITUDE, SIGNED

    title = views.difference.title.text
    views.set_mode(MAGNITUDE)
    assert title() == "<b>Difference</b>"  # before a run: the change's smoothed magnitude
    views.name_magnitude("importance map")
    assert title() == "<b>Importance map</b>"
    views.set_mode(SIGNED)
    assert title() == "<b>Difference</b>"
    views.set_mode(KEY_PIXELS)
    views.show_no_key_set("No key region: the run stopped after the flip")
    assert title() == "<b>Importance map</b>"  # the map is what it shows
    views.name_magnitude(None)  # a textbook run that did not flip: its map is the change's smoothed magnitude
    views.show_no_key_set("No key pixels: the run did not flip")
    assert title() == "<b>Difference</b>"
