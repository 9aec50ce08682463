"""The probability plot's legend (``ui/widgets/legend.py``) alone: in a cramped plot it keeps the explained class
and the one it flips to, counting the others, and a new photo forgets their tooltip (mutation audit, mutD)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_cramped_legend_keeps_its_two_first_entries_and_counts_the_rest_and_forgets_them(qtbot):
    import pyqtgraph as pg

    from gradflip_desktop.ui.widgets.legend import FittedLegend

    legend = FittedLegend()
    curves = [pg.PlotDataItem() for _ in range(4)]
    legend.set_entries([(curves[0], "explained: tabby", 0), (curves[1], "flips to: lynx", 1),
                        (curves[2], "tiger cat", 4), (curves[3], "saved image (8-bit)", 3)])
    assert legend.fit(1.0, 10.0)  # room for nothing: the two that matter, the count after them
    assert [label.text for _, label in legend.items] == ["explained: tabby", "flips to: lynx · +2 more"]
    assert legend.toolTip().startswith("<p>Not in this legend, for want of room: tiger cat, saved image (8-bit).")
    legend.forget()
    assert legend.items == [] and legend.toolTip() == ""
