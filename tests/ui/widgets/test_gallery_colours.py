"""A gallery tile's text is readable on a light and on a dark list (its state's colour, 4.5:1 at least)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from gradflip_desktop.ui.widgets.gallery import ERROR, FLIPPED, NOT_FLIPPED, RUNNING, GalleryPanel

pytestmark = pytest.mark.gui


def _luminance(c: QColor) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def _contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("base", ["#ffffff", "#1e1e1e"])  # a light list; tools/screenshots.py --dark's
def test_a_tile_s_state_colour_is_readable_on_a_light_and_a_dark_list(qtbot, base):
    # on the dark palette the flipped tiles' green was 3.5:1 and an error's red 3.1:1 on the list's #1e1e1e; on
    # white the not-flipped orange was 3.7:1 and the running blue 4.0:1
    app = QApplication.instance()
    before = app.palette()
    palette = QPalette(before)
    palette.setColor(QPalette.ColorRole.Base, QColor(base))
    app.setPalette(palette)
    try:
        p = GalleryPanel()
        qtbot.addWidget(p)
        p.start("t", [(f"k{i}", f"/x/{i}.png", f"{i}") for i in range(4)])
        for key, state in (("k0", FLIPPED), ("k1", NOT_FLIPPED), ("k2", ERROR), ("k3", RUNNING)):
            p.set_state(key, state, "→ x")
        model = p.list.model()
        for row in range(model.rowCount()):
            colour = model.index(row, 0).data(Qt.ItemDataRole.ForegroundRole)
            colour = colour.color() if hasattr(colour, "color") else QColor(colour)
            assert _contrast(colour, QColor(base)) >= 4.5, (row, colour.name(), base)
    finally:
        app.setPalette(before)
