"""A window too short for the views, the Compare Methods maps and the plot scrolls them; nothing is drawn over its neighbour."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_short_window_with_compare_methods_scrolls_instead_of_drawing_widgets_over_each_other(qtbot, settings):
    # 820x560 with View ▸ Compare Methods on: views, comparison and plot need ~620 px and had ~470; squeezed below
    # their least heights, the summary lay under the Difference row and the photos under their own captions
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(820, 560)
    w.show()
    w.set_compare_visible(True)
    qtbot.wait(50)
    for i in range(w.splitter.count()):
        child = w.splitter.widget(i)
        assert child.height() >= child.minimumSizeHint().height(), (type(child).__name__, child.height())
    for panel in (w.views.original, w.compare.panels[0]):  # every photo above its caption, not under it
        assert panel.graphics.geometry().bottom() < panel.caption.geometry().top(), panel.title.text()
    w.close()
