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
