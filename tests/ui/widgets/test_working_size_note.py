"""The Working size note under its spin box keeps the height of its wrapped text (a newcomer's walk at 1366×768)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from gradflip_desktop.ui.settings import TARGET_GROUP, TARGET_TOP

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("mode", [TARGET_TOP, TARGET_GROUP])
def test_the_working_size_note_is_never_squeezed_when_the_settings_grow_a_row(window, mode):
    """"Explain any cat" shows the Group row; in a 1280×740 window (a 1366×768 screen) the settings then scrolled
    but the note "≈ 9 MB per copy … (≈ 283 MB)" was squeezed from three lines to two, cut through its first and
    last line. It keeps the height its text needs at its width; the settings scroll instead."""
    window.resize(1280, 740)
    c = window.controls
    c.target_mode.setCurrentIndex(c.target_mode.findData(mode))
    for _ in range(3):
        QApplication.processEvents()
    note = c.working_size_note
    assert note.isVisible() and note.text()
    assert note.height() >= note.heightForWidth(note.width()) > note.fontMetrics().lineSpacing()
