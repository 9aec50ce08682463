"""The Compare Methods panel alone (ui/widgets/compare.py): its heading, each map's caption and tooltip, the RISE
panel and its box, and the line of deletion and insertion areas under the maps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor

from gradflip_desktop.core.faithfulness import Curve, FaithfulnessCheck
from gradflip_desktop.ui.controllers.comparison import ComparePanel, Comparison
from gradflip_desktop.ui.widgets.compare import COMPARE_TIPS, RISE_STOP, SCALE, CompareViews

pytestmark = pytest.mark.gui

RGB = np.full((4, 6, 3), 90, np.uint8)
VALUES = np.ones((4, 6), np.float32)
STOP_TIP = "Esc or unticking “RISE too” stops it: the masks so far are kept, and ticking it again goes on from them"


def _views(qtbot) -> CompareViews:
    views = CompareViews()
    qtbot.addWidget(views)
    return views


def _maps(rise: ComparePanel | None = None, saliency: bool = True) -> Comparison:
    panels = [ComparePanel("GradFlip", RGB, "flipped at step 3", VALUES),
              ComparePanel("Grad-CAM", RGB, "layer4", VALUES),
              ComparePanel("Gradient saliency", RGB if saliency else None, "|∂z/∂x|" if saliency else "no gradient",
                           VALUES if saliency else None)]
    return Comparison(target=0, panels=panels + ([rise] if rise else []))


COMPUTING = ComparePanel("RISE", None, "computing: 300 of 1,000 masks")


def test_the_rise_panel_follows_its_box_without_a_signal(qtbot):
    views = _views(qtbot)
    rise = views.panel("RISE")
    assert rise.isHidden() and not views.rise_box.isChecked()
    toggled = []
    views.rise_box.toggled.connect(toggled.append)
    views.set_rise_shown(True)
    assert not rise.isHidden() and views.rise_box.isChecked()
    views.set_rise_shown(False)
    assert rise.isHidden() and not views.rise_box.isChecked()
    assert toggled == []  # the controller's own call: no new comparison asked for


def test_a_missing_map_says_not_available_and_the_heading_counts_the_maps_shown(qtbot):
    views = _views(qtbot)
    comparison = _maps(saliency=False)
    comparison.measured = "2 of 3 maps"
    views.show_comparison(comparison, "tabby")
    assert views.heading.text() == "Two explanations of <b>tabby</b> on the same image " + SCALE
    assert "own top 0.5 %" in SCALE  # each map's own scale: no colour bar says it
    gradflip, saliency = views.panel("GradFlip"), views.panel("Gradient saliency")
    assert gradflip.caption.text() == "flipped at step 3" and gradflip.image() is not None
    assert gradflip.caption.toolTip() == COMPARE_TIPS["GradFlip"]
    assert saliency.caption.text() == "not available: no gradient" and saliency.image() is None
    assert views.check.text() == ("Measuring how fast each map's top pixels remove the class and bring it back … "
                                  "(2 of 3 maps done)")
    assert not views.check.isHidden()
    comparison.measured = ""
    views.show_comparison(comparison, "tabby")
    assert views.check.text() == "Measuring how fast each map's top pixels remove the class and bring it back …"


def test_rise_under_way_counts_as_a_map_and_says_how_to_stop_it(qtbot):
    views = _views(qtbot)
    views.show_comparison(_maps(COMPUTING), "tabby")
    assert views.heading.text() == "Four explanations of <b>tabby</b> on the same image " + SCALE
    rise = views.panel("RISE")
    assert rise.caption.text() == "computing: 300 of 1,000 masks" + RISE_STOP and rise.image() is None
    assert rise.caption.toolTip() == COMPARE_TIPS["RISE"] + "\n\n" + STOP_TIP
    assert views.check.text() == ("RISE's map first (computing: 300 of 1,000 masks), then how fast each map's top "
                                  "pixels remove the class and bring it back …")
    views.show_comparison(_maps(ComparePanel("RISE", RGB, "1,000 masks", VALUES)), "tabby")  # RISE done
    assert rise.caption.text() == "1,000 masks" and rise.caption.toolTip() == COMPARE_TIPS["RISE"]
    assert rise.image() is not None
    assert views.check.text() == "Measuring how fast each map's top pixels remove the class and bring it back …"
    views.show_comparison(_maps(), "tabby")  # RISE unticked: its old map and caption go
    assert rise.image() is None and rise.caption.text() == ""
    assert views.heading.text() == "Three explanations of <b>tabby</b> on the same image " + SCALE


def test_the_heading_names_the_one_question_every_map_answers(qtbot):
    # a group run's maps are all of the group since Grad-CAM and saliency explain it too (controllers.comparison): the
    # heading named "GradFlip's map of any cat next to Grad-CAM and gradient saliency of tabby, the top class"
    views = _views(qtbot)
    views.show_comparison(_maps(), "any cat")
    assert views.heading.text() == "Three explanations of <b>any cat</b> on the same image " + SCALE
    views.show_comparison(_maps(COMPUTING), "any cat")
    assert views.heading.text().startswith("Four explanations of <b>any cat</b>")


def test_clear_removes_every_map_caption_and_the_check_line(qtbot):
    views = _views(qtbot)
    views.show_comparison(_maps(ComparePanel("RISE", RGB, "1,000 masks", VALUES)), "tabby")
    views.clear()
    assert views.heading.text() == "Press Explain: the maps of the methods appear here after the run."
    assert all(p.image() is None and p.caption.text() == "" for p in views.panels)
    assert views.check.isHidden() and views.check.text() == ""


def _curve(name: str, deletion: tuple, insertion: tuple) -> Curve:
    return Curve(name, (0.0, 1.0), deletion, insertion)


def test_the_check_line_bolds_the_best_area_of_each_curve_and_its_ties(qtbot):
    views = _views(qtbot)
    check = FaithfulnessCheck("blur", "tabby", (_curve("GradFlip", (0.8, 0.1), (0.2, 0.9)),  # 0.450 / 0.550
                                                _curve("Grad-CAM", (0.8, 0.3), (0.4, 0.9)),  # 0.550 / 0.650
                                                _curve("Gradient saliency", (0.7, 0.2), (0.1, 0.9))))  # 0.450 / 0.500
    views.show_check(check)
    assert views.check.text() == (
        "On this photo, GradFlip and Gradient saliency tie on deletion, Grad-CAM's brings it back fastest. Deletion "
        "↓ / insertion ↑ area (under each curve: lower / higher is better): GradFlip <b>0.450</b> / 0.550 · "
        "Grad-CAM 0.550 / <b>0.650</b> · Gradient saliency <b>0.450</b> / 0.500 (2 points, the blurred photo as fill-in, which removes detail as GradFlip does; gradflip check also "
        "measures the mean colour and black)")
    assert not views.check.isHidden()


def test_a_check_that_cannot_tell_the_maps_apart_bolds_nothing(qtbot):
    views = _views(qtbot)
    check = FaithfulnessCheck("mean", "tabby", (_curve("GradFlip", (0.5, 0.48), (0.48, 0.5)),
                                                _curve("Grad-CAM", (0.5, 0.486), (0.486, 0.5))))
    views.show_check(check)
    assert views.check.text() == (
        "On this photo, tabby barely moves under this fill-in (48.0–50.0 %): the curves cannot tell the maps apart. "
        "Deletion ↓ / insertion ↑ area (under each curve: lower / higher is better): GradFlip 0.490 / 0.490 · "
        "Grad-CAM 0.493 / 0.493 (2 points, the mean colour as fill-in)")


def test_one_map_alone_has_no_verdict(qtbot):
    views = _views(qtbot)
    views.show_check(FaithfulnessCheck("black", "tabby", (_curve("GradFlip", (0.8, 0.1), (0.2, 0.9)),)))
    assert views.check.text() == ("On this photo: deletion ↓ / insertion ↑ area (under each curve: lower / higher is "
                                  "better): GradFlip <b>0.450</b> / <b>0.550</b> (2 points, black as fill-in)")


def test_no_check_shows_its_note_as_text_and_no_note_hides_the_line(qtbot):
    views = _views(qtbot)
    views.show_check(None, "the run did not flip: <its> map is not checked")
    assert views.check.text() == "the run did not flip: &lt;its&gt; map is not checked" and not views.check.isHidden()
    views.show_check(None, "")
    assert views.check.isHidden()


def test_the_background_colour_reaches_every_panel(qtbot):
    views = _views(qtbot)
    views.set_background(QColor(12, 34, 56))
    assert [p.graphics.backgroundBrush().color().name() for p in views.panels] == ["#0c2238"] * 4

