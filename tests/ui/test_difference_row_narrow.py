"""The Difference row (mode, opacity, colour bar) fits the views of a small window: the colour bar is never cut off."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def test_the_difference_colour_bar_stays_inside_a_narrow_window(qtbot):
    # an 820x560 window leaves the views ~515-534 px: the Difference row (mode, opacity, slider, colour bar) needed
    # 615 px and ran past the view, cutting off the colour bar's right end, its largest value
    import numpy as np
    from PySide6.QtWidgets import QWidget

    from gradflip_desktop.core.viz.difference import ColorBar
    from gradflip_desktop.ui.widgets.views import ResultViews

    holder = QWidget()
    qtbot.addWidget(holder)
    holder.resize(1000, 400)
    views = ResultViews(holder)
    holder.show()
    views._set_colorbar(ColorBar(np.stack([np.linspace(0, 1, 16)] * 3, axis=1), 0.0, 85.0, "importance map (%)"))
    for width in (500, 534, 700):
        views.setGeometry(0, 0, width, 330)
        QApplication.processEvents()
        bar = views.colorbar_view.geometry()
        assert bar.right() < width and bar.width() >= 120, (width, bar)


def test_the_colour_bar_label_stays_whole_and_under_the_bar_when_it_changes(qtbot):
    # after a run the label went from "smoothed magnitude (8-bit levels)" to "importance map (%)": pyqtgraph kept
    # the longer label's place, left of the bar, and the window showed "ortance map (%)" (QT_SCALE_FACTOR=1.5 on
    # 1280x720, 2 on 1600x1000); a label wider than the bar was cut at both ends
    import numpy as np
    from PySide6.QtWidgets import QWidget

    from gradflip_desktop.core.viz.difference import ColorBar
    from gradflip_desktop.ui.widgets.views import ResultViews

    holder = QWidget()
    qtbot.addWidget(holder)
    holder.resize(1000, 400)
    views = ResultViews(holder)
    views.setGeometry(0, 0, 534, 330)
    holder.show()
    lut = np.stack([np.linspace(0, 1, 16)] * 3, axis=1)
    long = "smoothed magnitude of the change, blurred (8-bit levels)"
    for label in (long, "importance map (%)"):
        views._set_colorbar(ColorBar(lut, 0.0, 85.0, label))
        for _ in range(3):
            QApplication.processEvents()
        axis = views.colorbar.axis
        shown = axis.label.mapRectToScene(axis.label.boundingRect())
        assert shown.left() >= 0 and shown.right() <= views.colorbar_view.width(), (label, shown)
        assert label in views.colorbar_view.toolTip()  # whole in the tooltip, also when elided
    assert views.colorbar.axis.labelText == "importance map (%)"  # a short label is never elided
