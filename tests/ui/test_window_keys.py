"""The window's own keys work while the focus is in one of its text fields (ui/main_window.py)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QKeyCombination, Qt
from PySide6.QtWidgets import QApplication, QDoubleSpinBox

pytestmark = pytest.mark.gui

CTRL_E = QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_E).toCombined()


def _active_window(qtbot, settings):
    """The main window, shown and active (a window shortcut works only in the active window)."""
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    return w


def test_ctrl_e_exports_while_a_field_has_the_focus(qtbot, settings, monkeypatch):
    """Before: on X11 a line edit claims Ctrl+E ("end of line"), so after typing a class name or an ε,
    Ctrl+E did nothing and the export folder typed next went into the field ("tabby/home/me/results").
    The offscreen platform has no such binding; the spin box is made to claim the key as X11's does."""
    from PySide6.QtTest import QTest

    from gradflip_desktop.ui.widgets.spinboxes import CheckedDoubleSpinBox

    def x11_event(self, event):
        if event.type() == QEvent.Type.ShortcutOverride and event.keyCombination().toCombined() == CTRL_E:
            event.accept()  # as QLineEdit does on X11: the key is the field's
            return True
        return QDoubleSpinBox.event(self, event)

    monkeypatch.setattr(CheckedDoubleSpinBox, "event", x11_event, raising=False)
    w = _active_window(qtbot, settings)
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


def test_window_shortcuts_work_again_after_a_dialog_closes(qtbot, window):
    """Without a window manager (Xvfb) nothing made the window active again once a modal dialog (Open,
    Export, a message) closed, and a window shortcut works only in the active window: Ctrl+Q, Ctrl+Shift+C,
    Esc, … did nothing until a click in the window, while the menus still worked. (Offscreen is the same.)"""
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QMessageBox

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    box = QMessageBox(QMessageBox.Icon.Information, "Test", "A dialog", QMessageBox.StandardButton.Ok, window)
    QTimer.singleShot(200, box.reject)
    box.exec()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    with qtbot.waitSignal(window.fit_action.triggered, timeout=2000):
        QTest.keyClick(window.views, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)


def test_export_and_copy_figure_keys_say_why_they_do_nothing_yet(qtbot, window):
    """Before the first result Export and Copy Figure are disabled, and a disabled action's shortcut does
    nothing at all: Ctrl+E and Ctrl+Shift+C looked broken. Now the status bar says why; with a result the
    actions own the keys again (never two enabled shortcuts on one key: Qt runs neither)."""
    from PySide6.QtTest import QTest

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    assert not window.export_action.isEnabled() and not window.copy_figure_action.isEnabled()
    for key, mods in ((Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier),
                      (Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)):
        window.set_status("")
        QTest.keyClick(window.views, key, mods)
        assert "Explain (Ctrl+Return) first" in window.status_label.text()
    window.export_action.setEnabled(True)  # (a result enables it)
    assert not any(s.isEnabled() for s in window.export_why if window.export_action.shortcuts()[0] == s.key())


def test_window_shortcuts_work_again_after_a_help_window_closes(qtbot, window):
    # Xvfb without a window manager: F1, Esc (the help window closed), then Ctrl+Q did nothing
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.how_action.trigger()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window.help_dialog, timeout=2000)
    QTest.keyClick(window.help_dialog, Qt.Key.Key_Escape)  # Esc closes it (it is the active window)
    assert not window.help_dialog.isVisible()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    with qtbot.waitSignal(window.fit_action.triggered, timeout=2000):
        QTest.keyClick(window.views, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)


def test_export_key_during_a_folder_run_does_not_ask_for_explain(qtbot, settings, tmp_path):
    # during a folder run, before any of its images is shown, Ctrl+E said "Nothing to export or copy yet:
    # Explain (Ctrl+Return) first.": the folder run was not "an explanation running" (runs.running is one image's)
    from helpers import make_tiny, photo_folder
    from PySide6.QtTest import QTest

    from gradflip_desktop.ui.main_window import MainWindow
    from gradflip_desktop.ui.settings import RunSettings

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.models.session.classifier = make_tiny(seed=1)
    w.controls.set_settings(RunSettings(style="free", mode="fixed", epsilon=1e-6, max_steps=5000))  # never ends
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    w.folders.open_folder(str(photo_folder(tmp_path / "photos")))
    qtbot.waitUntil(lambda: w.folders.running, timeout=5000)
    assert w.result is None and not w.export_action.isEnabled()
    QTest.keyClick(w.views, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    text = w.status_label.text()
    w.folders.cancel()
    qtbot.waitUntil(lambda: not w.folders.running, timeout=20000)
    w.close()
    assert "Explain (Ctrl+Return) first" not in text and "folder run" in text, text


def test_ctrl_v_in_a_settings_box_opens_a_copied_photo_and_leaves_the_box_alone(qtbot, settings, monkeypatch):
    """Tab goes through the settings first: with the focus in Step budget, Ctrl+V pasted a copied image into the box,
    which went blank (Explain then ran with the saved 200 while it showed nothing), and no photo opened. A number
    still pastes into the box, and text still pastes into a text field."""
    from PySide6.QtGui import QGuiApplication, QImage
    from PySide6.QtTest import QTest

    w = _active_window(qtbot, settings)
    pasted = []
    monkeypatch.setattr(w.images, "paste", lambda: pasted.append(1))
    w.paste_action.triggered.disconnect()
    w.paste_action.triggered.connect(lambda *_: w.images.paste())
    box = w.controls.max_steps
    before = box.text()
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(0xFF3366AA)
    QGuiApplication.clipboard().setImage(image)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert pasted == [1] and box.text() == before
    QGuiApplication.clipboard().setText("/tmp/holiday.png")  # a path copied as text: opened, not typed into the box
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert pasted == [1, 1] and box.text() == before
    QGuiApplication.clipboard().setText("75")  # a number: the box's own paste
    box.lineEdit().selectAll()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert pasted == [1, 1] and box.text() == "75"
    size = w.controls.working_size  # a box with a unit: "512 px" copied from it pastes back into it
    size.setFocus()
    qtbot.waitUntil(size.hasFocus, timeout=2000)
    QGuiApplication.clipboard().setText(f"512{size.suffix()}")
    size.lineEdit().selectAll()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert pasted == [1, 1] and size.text().startswith("512")
    w.close()
