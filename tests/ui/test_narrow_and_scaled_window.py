"""A window on a small or scaled screen: it fits the screen, and the answer's sentence and the key-set answer
are never cut off (a helper's walk-through at 820 px and at QT_SCALE_FACTOR=2)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from gradflip_desktop.ui.widgets.fitted_label import FittedLabel

pytestmark = pytest.mark.gui

SENTENCE = ("Removing detail in the outlined 42 % of the image (6 areas) turns Egyptian cat (79 %) into fox squirrel "
            "(20 %); over the whole photo (Adjusted) it becomes tiger cat (38.6 %; Egyptian cat now 38.0 %): the "
            "bright areas show how much each part mattered. <a href='group:cat'>Explain “any cat”</a> · "
            "<a href='style:free'>Textbook change</a>")


def test_a_fitted_label_shows_all_its_text_at_any_width_and_keeps_its_least_height(qtbot):
    label = FittedLabel(min_lines=3)
    qtbot.addWidget(label)
    label.resize(900, 10)
    label.show()
    least = label.least_height()
    label.setText("short")
    assert label.height() == least
    label.setText(SENTENCE)
    label.resize(300, label.height())  # a narrow window wraps the sentence into many more lines
    QApplication.processEvents()
    assert label.height() >= label.heightForWidth(300) > least
    label.resize(2000, label.height())  # wide again: back to its least height, the panels below move up
    QApplication.processEvents()
    assert label.height() == max(least, label.heightForWidth(2000))
    tall = label.height()
    label.setText("short")  # the same width, a shorter text: it does not jump (the key slider's answers)
    assert label.height() == tall


def test_the_window_never_starts_larger_than_the_screen(qtbot, settings):
    # QT_SCALE_FACTOR=2 on a 1600x1000 screen is 800x500 logical pixels: the first size 1280x820 and even the
    # minimum 820x560 put Explain, the settings and the status bar off screen (the offscreen screen: 800x800)
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    avail = w.screen().availableGeometry()
    assert w.width() <= avail.width() and w.height() <= avail.height(), (w.size(), avail)
    assert w.minimumWidth() <= avail.width() and w.minimumHeight() <= avail.height()
    w.close()


@pytest.mark.parametrize("stored", ["garbage", "@ByteArray(\\x1\\xd9\\xd0", "@Size(100000 100000)", "@ByteArray(\\xff\\xfe)"])
def test_a_damaged_window_geometry_in_the_settings_file_never_stops_the_window_from_opening(qtbot, tmp_path, stored):
    """~/.config/GradFlip/GradFlip.conf edited by hand or cut short: ``window/geometry`` read back as a string or
    a QSize made ``restoreGeometry`` raise TypeError in MainWindow(), a traceback at every start until the file
    was deleted. The window starts at its first size instead."""
    from PySide6.QtCore import QSettings

    from gradflip_desktop.ui.main_window import MainWindow

    path = tmp_path / "GradFlip.conf"
    path.write_text(f"[window]\ngeometry={stored}\n", encoding="utf-8")
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    assert settings.value("window/geometry") is not None
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    avail = w.screen().availableGeometry()
    assert 0 < w.width() <= avail.width() and 0 < w.height() <= avail.height()
    w.close()


def test_a_window_put_back_lower_than_the_screen_allows_is_moved_up_into_it(qtbot, settings):
    # a geometry kept on a larger screen and restored on 1280x720 at QT_SCALE_FACTOR=1.5 (853x480): Qt put the window
    # a title bar lower (y=25) and _fit_screen shrank it to 480 px without moving it: the status bar and the progress
    # bar under Explain were below the screen's edge
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    avail = w.screen().availableGeometry()
    w.resize(avail.width(), avail.height())
    w.move(avail.left() + 1, avail.top() + 25)
    w._fit_screen()
    assert avail.contains(w.geometry()), (w.geometry(), avail)
    w.close()
