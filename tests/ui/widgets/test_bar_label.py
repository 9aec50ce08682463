"""The colour bar's label (``ui/widgets/bar_label.py``): a label wider than the bar keeps its start and its unit
(mutation audit, mutD)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_label_wider_than_the_bar_is_cut_in_its_middle_keeping_its_unit(qtbot):
    import pyqtgraph as pg

    from gradflip_desktop.ui.widgets.bar_label import BarLabel

    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    bar = pg.ColorBarItem(values=(0, 1), width=10, interactive=False, colorMapMenu=False, orientation="horizontal")
    view.addItem(bar)
    view.resize(160, 52)
    label = BarLabel(view, bar, "the scale")
    label.set_text("smoothed magnitude of the change, blurred (8-bit levels)")
    shown = label.shown()
    assert "…" in shown and shown.startswith("smoothed") and shown.endswith("levels)"), shown
    assert bar.axis.labelText == shown
    assert view.toolTip() == "the scale\nsmoothed magnitude of the change, blurred (8-bit levels)"
