"""The status bar after a run names both classes even when a model's labels are sentences (ui/controllers/runs.py)."""

from __future__ import annotations

import pytest
from helpers import make_tiny, tiny_image_array

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions
from gradflip_desktop.ui.widgets.elision import LEGEND_CHARS

pytestmark = pytest.mark.gui

LONG = "Extremely long class name number {}: a small grey-and-white domestic short-haired cat sitting on a windowsill"


def test_long_class_names_are_cut_in_the_status_bar_and_whole_in_its_tooltip(qtbot, window):
    """Uncut, "Done: “<a sentence>” flipped to “dog”" pushed the class it flipped to off an 820 px window."""
    clf = make_tiny(seed=1)
    clf.labels[:] = [LONG.format(i) for i in range(len(clf.labels))]
    result = run(clf, tiny_image_array(), ExplainOptions(style="free"))
    assert result.flipped and LONG.format(result.final.index) in result.message
    window.runs._show_result(result)
    text, tip = window.status_label.text(), window.status_label.toolTip()
    assert text.startswith("Done: ") and LONG.format(result.final.index) not in text
    for index in (result.original.index, result.final.index):  # both named, each cut
        assert "“" + LONG.format(index)[: LEGEND_CHARS - 1].rstrip() + "…”" in text
    assert tip == result.message  # whole on hover
    window.set_status("Explaining …")
    assert window.status_label.toolTip() == "Explaining …"  # a later message does not keep the old tooltip: its own
    # text, whole (a long message was cut mid-word at the window's edge, with nothing to hover)


def test_the_window_names_the_smallest_change_style_without_the_command_lines_flag(qtbot, window):
    """A region run on a flat photo advises the "smallest change" style; the window said "(--style free)", a flag the
    window has no field for (its Style box says "Smallest change (textbook)"). The record keeps the flag."""
    import numpy as np

    flat = np.full((32, 32, 3), 0.5, np.float32)
    result = run(make_tiny(seed=1), flat, ExplainOptions())
    assert "--style free" in result.message  # the command line's words, kept in the record
    window.runs._show_result(result)
    shown = window.status_label.text() + window.status_label.toolTip() + window.views.summary.text()
    assert "“smallest change” style" in shown and "--" not in shown
