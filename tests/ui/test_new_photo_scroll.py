"""Another photo opened while the views' column was scrolled down (a short window with the gallery open): its
sentence and the top of the views stayed out of sight, and the wheel over a view zooms instead of scrolling back."""

from __future__ import annotations

from helpers import STARTUP_TIMEOUT_MS, make_image_file


def test_a_new_photo_scrolls_the_column_back_to_its_sentence(qtbot, window, tmp_path):
    window.resize(1024, 560)
    window.folders.show_panel()  # the gallery's dock below: the column needs more than the window has, it scrolls
    bar = window.views_scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=5000)
    bar.setValue(bar.maximum())
    assert bar.value() > 0
    with qtbot.waitSignal(window.classified, timeout=STARTUP_TIMEOUT_MS):
        window.open_path(str(make_image_file(tmp_path / "next.png", 96, 64)))
    assert bar.value() == 0
