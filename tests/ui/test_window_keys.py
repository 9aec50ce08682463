"""The window's own keys work while the focus is in one of its text fields (ui/main_window.py)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QKeyCombination, Qt
from PySide6.QtWidgets import QApplication, QDoubleSpinBox

pytestmark = pytest.mark.gui

CTRL_E = QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_E).toCombined()


def test_ctrl_e_exports_while_a_field_has_the_focus(qtbot, settings, monkeypatch):
    """Before: on X11 a line edit claims Ctrl+E ("end of line"), so after typing a class name or an ε,
    Ctrl+E did nothing and the export folder typed next went into the field ("tabby/home/me/results").
    The offscreen platform has no such binding; the spin box is made to claim the key as X11's does."""
    from PySide6.QtTest import QTest

    from gradflip_desktop.ui.main_window import MainWindow
    from gradflip_desktop.ui.widgets.spinboxes import CheckedDoubleSpinBox

    def x11_event(self, event):
        if event.type() == QEvent.Type.ShortcutOverride and event.keyCombination().toCombined() == CTRL_E:
            event.accept()  # as QLineEdit does on X11: the key is the field's
            return True
        return QDoubleSpinBox.event(self, event)

    monkeypatch.setattr(CheckedDoubleSpinBox, "event", x11_event, raising=False)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    hits = []
    w.export_action.triggered.disconnect()
    w.export_action.triggered.connect(lambda *_: hits.append(1))
    w.export_action.setEnabled(True)  # (a result is shown; what is tested is who gets the key)
    field = w.controls.epsilon
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert hits == [1]
    w.close()
