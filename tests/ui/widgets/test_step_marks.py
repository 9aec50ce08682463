"""The plot's flip and 8-bit pass labels (``ui/widgets/step_marks.py``): two rows that share only their padding
(mutation audit, mutD)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_the_8_bit_label_s_row_starts_where_the_flip_label_s_text_ends(qtbot):
    import pyqtgraph as pg

    from gradflip_desktop.ui.widgets.step_marks import ROW_OVERLAP_PX, TOP_PAD_PX, mark_lines, place_mark_labels

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    flip, eight = mark_lines(plot)
    flip.show()
    eight.show()
    height = 300.0
    below = place_mark_labels(flip, eight, height)
    flip_h, eight_h = flip.label.boundingRect().height(), eight.label.boundingRect().height()
    flip_centre, eight_centre = ((1 - line.label.orthoPos) * height for line in (flip, eight))  # px from the top
    assert flip_centre - flip_h / 2 == pytest.approx(-TOP_PAD_PX)  # its top padding above the view
    assert (eight_centre - eight_h / 2) - (flip_centre + flip_h / 2) == pytest.approx(-ROW_OVERLAP_PX)
    assert eight.label.isVisible() and below == pytest.approx(1 - (flip_h - TOP_PAD_PX + 2) / height)
    place_mark_labels(flip, eight, flip_h)  # no room for a second row: the 8-bit label goes
    assert not eight.label.isVisible()
