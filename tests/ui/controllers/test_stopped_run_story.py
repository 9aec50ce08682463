"""A region run that ended without its map or key region (stopped after the flip, nothing to flip) tells one
story: the comparison, the status line and the colour bar do not contradict the summary above them."""

from __future__ import annotations

import dataclasses

import pytest

pytestmark = pytest.mark.gui


def test_a_region_run_stopped_after_its_flip_is_not_said_not_to_flip(qtbot, window):
    """Before (Esc after the flip, Compare Methods on): the summary said "Cancelled after 2 steps, after the
    decision flipped …", the comparison "the run did not flip: its map is not checked", the status line
    "the key region is found after the flip" (it never would be), and the colour bar and the GradFlip map
    "blur amount" although the style is the key region, which removes detail (the figure: "Where it changed")."""
    from helpers import RUN_TIMEOUT_MS

    from gradflip_desktop.core.options import Status
    from gradflip_desktop.core.viz.difference import KEY_PIXELS, MAGNITUDE
    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings())  # the default: key region
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as done:
        window.explain()
    result = done.args[0]
    assert result.flip_step is not None and result.blur_amount is not None
    # what Esc right after the flip leaves: cancelled, no map of the region search, no key region
    stopped = dataclasses.replace(result, status=Status.CANCELLED, region_map=None, key_region=None,
                                  message="cancelled after the decision flipped, before the final checks")
    views = window.views
    views.mode_box.setCurrentIndex(views.mode_box.findData(MAGNITUDE))
    compared = []
    window.comparison_shown.connect(compared.append)
    with qtbot.waitSignal(window.difference_shown, timeout=30_000) as shown:
        window.difference.set_compare_visible(True)
        window.runs._show_result(stopped)
    assert "blur amount" not in shown.args[0].colorbar.label
    assert shown.args[0].colorbar.label == "detail removed (%)"
    qtbot.waitUntil(lambda: bool(compared), timeout=60_000)
    comparison = compared[-1]
    assert "did not flip" not in comparison.check_note
    assert "blur amount" not in comparison.panels[0].caption
    with qtbot.waitSignal(window.difference_shown, timeout=30_000):
        views.mode_box.setCurrentIndex(views.mode_box.findData(KEY_PIXELS))
    status = window.status_label.text()
    assert "is found after the flip" not in status
    assert status.startswith("No key region: the run stopped after the flip")
    # the panel under the combo that now reads "Key region alone" says it too, above the change's caption
    change = views._change_text
    # titled by the map it shows (it said "Difference" over the map the colour bar names), as the magnitude mode's
    map_entry = views.mode_box.itemText(views.mode_box.findData(MAGNITUDE))
    assert change and views.difference.title.text() == f"<b>{map_entry}</b>" and map_entry != "Smoothed magnitude"
    assert window.views.bar_label.text.startswith(map_entry.lower())  # the colour bar names it too
    assert views.difference.caption.text() == "<i>No key region.</i> " + change  # why: the status line and the tooltip
    assert views.difference.caption.toolTip() == "No key region: the run stopped after the flip, before it was found."
    with qtbot.waitSignal(window.difference_shown, timeout=30_000):  # another mode: the change's caption alone again
        views.mode_box.setCurrentIndex(views.mode_box.findData(MAGNITUDE))
    assert views.difference.caption.text() == change and views.difference.title.text() == f"<b>{map_entry}</b>"


def test_nothing_to_flip_says_there_is_no_key_region():
    """Any cat on a photo without a cat: "the key region is found after the flip" was said of a run that
    had nothing to flip."""
    from types import SimpleNamespace

    from gradflip_desktop.ui.controllers.difference import no_key_set_note

    nothing = SimpleNamespace(flip_step=None, status="nothing_to_flip")
    assert no_key_set_note(nothing, True) == "No key region: the run did not flip (nothing to flip)"
    assert no_key_set_note(SimpleNamespace(flip_step=None, status="budget_exhausted"), False) == \
        "No key pixels: the run did not flip"
