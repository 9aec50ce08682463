"""The sentence names the set the run found ("the outlined 42 % of the image"); when the key-set slider outlines
another set (33.5 %), the sentence said "the outlined 42 %" beside an outline of 33.5 %."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_the_original_says_when_the_outline_is_the_sliders_choice(qtbot):
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.views import SLIDER_NOTE, ResultViews

    views = ResultViews()
    qtbot.addWidget(views)
    views.resize(1000, 600)
    views.show()
    sentence = "Removing detail in the outlined 42&nbsp;% of the image (6 areas) turns Egyptian cat into fox squirrel"
    links = "&nbsp;&nbsp;<a href='group:cat'>Explain “any cat”</a>"
    views.set_summary(sentence + links)
    views.set_caption(views.original, "<b>Egyptian cat</b> — 79.0 %")
    views.set_key_pixels(total=10_000, found=4_200, title="Key region")
    assert views.original.caption.text() == "<b>Egyptian cat</b> — 79.0 %"
    qtbot.wait(20)
    top = views.original.geometry().top()
    views.set_key_count(3_350)  # the slider moved: the outline is no longer the run's region
    assert views.original.caption.text() == SLIDER_NOTE + "<b>Egyptian cat</b> — 79.0 %"
    assert "the slider's set, not the run's" in SLIDER_NOTE
    # the sentence stays as it was: its note there took a line more and pushed the views (and the slider) down
    assert views.summary.text() == sentence + links
    qtbot.wait(20)
    assert views.original.geometry().top() == top
    views.set_key_count(3_000)  # once
    assert views.original.caption.text().count(SLIDER_NOTE) == 1
    # the caption set again while the slider is off (a device change classifies again): the note stays, and first, so
    # a full caption (size and loading notes) cuts its last line, never the note
    long = "<b>Egyptian cat</b> — 79.0 % · 451×300 px · " + "an embedded colour profile was applied; " * 6
    views.set_caption(views.original, long)
    assert views.original.caption.text() == SLIDER_NOTE + long
    shown = QLabel.text(views.original.caption)  # what is drawn (``text()`` is the whole text)
    assert "outlined: the slider" in shown and "…" in shown and "colour profile was applied; " * 6 not in shown
    views.set_key_count(4_200)  # back at the found set
    assert views.original.caption.text() == long
    views.set_key_count(5_000)
    views.clear_result()  # a new photo: no slider, no note
    views.set_caption(views.original, "<b>espresso</b> — 90.0 %")
    views.set_summary("The model sees espresso (90 %).")
    assert views.original.caption.text() == "<b>espresso</b> — 90.0 %"


def test_a_cleared_result_gives_the_opacity_slider_back(qtbot):
    """Over the key region alone the Opacity slider is greyed out; a new photo, model or run cleared the panel's
    title but left the slider greyed out until the next difference image was drawn."""
    import numpy as np

    from gradflip_desktop.core.viz.difference import DiffImage
    from gradflip_desktop.ui.widgets.views import ResultViews

    views = ResultViews()
    qtbot.addWidget(views)
    rgb = np.zeros((8, 8, 3), np.uint8)
    views.show_difference(DiffImage("key", rgb, None, None, alone=True))
    assert not views.slider.isEnabled()
    views.clear_result()  # a new photo, a model change, a new run
    assert views.difference.title.text() == "<b>Difference</b>"
    assert views.slider.isEnabled() and views.slider_label.isEnabled()


def test_the_key_set_slider_crosses_its_range_in_a_few_key_presses(qtbot):
    """Qt's steps of 1 and 10 of the slider's 1,000: Page Up twice from the empty set outlined 54 of the sample
    cat's 135,300 pixels, and the found set (51 %) was 72 Page Ups away; now 20 Page Ups cross the whole range."""
    from PySide6.QtCore import Qt

    from gradflip_desktop.ui.widgets.views import ResultViews

    views = ResultViews()
    qtbot.addWidget(views)
    views.set_key_pixels(total=135_300, found=68_291, title="Key region")
    slider = views.key_slider
    assert (slider.maximum() - slider.minimum()) / slider.pageStep() <= 20
    slider.setValue(0)
    for _ in range(2):
        qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    assert views.key_count >= 1_000, views.key_count
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert slider.value() > 2 * slider.pageStep()
