"""The folder gallery's top row fits an 820 px window: no button of it is cut off."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_the_gallery_row_fits_the_least_window_width(qtbot):
    # the dock spans the window: at 820 px the row (title, progress, sort, Include subfolders, Cancel, Continue,
    # Export All…) needed 843 px, and "Export All…" was drawn as "Export A" at the window's edge
    from gradflip_desktop.ui.main_window import MIN_SIZE
    from gradflip_desktop.ui.widgets.gallery import GalleryPanel

    panel = GalleryPanel()
    qtbot.addWidget(panel)
    assert panel.minimumSizeHint().width() <= MIN_SIZE[0] - 20, panel.minimumSizeHint()
    panel.resize(MIN_SIZE[0] - 20, 300)
    panel.show()
    qtbot.wait(20)
    assert panel.export_button.geometry().right() < panel.width()
