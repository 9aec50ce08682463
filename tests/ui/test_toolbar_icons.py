"""The toolbar's Cancel icon (ui/toolbar_icons.py) reads as "stop" on a light and on a dark toolbar."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def _dark():
    from PySide6.QtGui import QColor, QPalette

    dark = QPalette()
    for role, color in ((QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
                        (QPalette.ColorRole.Button, "#353535"), (QPalette.ColorRole.ButtonText, "#e6e6e6")):
        dark.setColor(role, QColor(color))
    dark.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#7a7a7a"))
    return dark


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_cancel_is_a_stop_sign_not_an_empty_checkbox_in_either_theme(qtbot, settings, theme):
    # tools/screenshots.py --dark: greyed out, the style's stop (a plain square tinted light grey, its edge darker)
    # looked like an empty checkbox beside Explain
    from PySide6.QtGui import QIcon, QPalette

    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    if theme == "dark":
        w.setPalette(_dark())
    icon = w.cancel_action.icon()
    on = icon.pixmap(32, 32, QIcon.Mode.Normal).toImage()
    off = icon.pixmap(32, 32, QIcon.Mode.Disabled).toImage()
    for image in (on, off):
        assert image.pixelColor(1, 1).alpha() == 0  # a disc: its corners are empty, as a square's are not
    centre, ring = on.pixelColor(16, 16), on.pixelColor(16, 4)
    assert centre.lightness() > 240 and ring.red() > 180 and ring.green() < 90  # a white square on a red disc
    assert off.pixelColor(16, 16).alpha() == 0 and off.pixelColor(16, 4).alpha() > 200  # greyed: the square cut out
    grey = w.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
    assert abs(off.pixelColor(16, 4).lightness() - grey.lightness()) < 30
    w.close()
