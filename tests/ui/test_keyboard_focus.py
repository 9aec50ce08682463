"""Keyboard users see where the focus is: every button a Tab reaches looks different when focused, and the
window has no tab stop that shows nothing (the settings' scroll area took one)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QScrollArea


def _pixels(widget) -> np.ndarray:
    image = widget.grab().toImage()
    ptr = image.constBits()
    return np.frombuffer(ptr, np.uint8, count=image.sizeInBytes()).reshape(image.height(), -1).copy()


def test_explain_and_cancel_look_focused(qtbot, window):
    """The run bar (Explain, Cancel, progress) is moved by the window out of the settings panel, whose style
    sheet drew the focus frame: a focused Explain button looked exactly like an unfocused one."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    c = window.controls
    c.cancel_button.setEnabled(True)  # (enabled during a run; the look is what is tested)
    for button in (c.explain_button, c.cancel_button, c.reset_button):
        c.load_model_button.setFocus()
        qtbot.waitUntil(lambda: c.load_model_button.hasFocus(), timeout=2000)
        plain = _pixels(button)
        button.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(button.hasFocus, timeout=2000)
        focused = _pixels(button)
        assert plain.shape != focused.shape or (plain != focused).any(), f"{button.text()}: focus not visible"


def test_the_settings_scroll_area_takes_no_tab_stop(qtbot, window):
    scroll = next(s for s in window.findChildren(QScrollArea) if s.widget() is window.controls)
    assert scroll.focusPolicy() == Qt.FocusPolicy.NoFocus


def test_what_a_screen_reader_and_a_keyboard_user_get(window):
    """A screen reader named the three image views, the colour bar and the Opacity slider nothing; Tab never
    reached the top-5 table (the model's answer); the side panel's Explain and Cancel had no tooltip; View ▸
    Folder had no mnemonic."""
    from PySide6.QtWidgets import QTableWidget

    views = window.views
    assert [p.graphics.accessibleName() for p in (views.original, views.adjusted, views.difference)] == [
        "Original image", "Adjusted image", "Difference image"]
    assert views.colorbar_view.accessibleName() == "Colour scale of the map"
    assert views.slider.accessibleName() == "Opacity"
    table = next(t for t in window.controls.findChildren(QTableWidget))
    assert table.focusPolicy() & Qt.FocusPolicy.TabFocus and table.accessibleName() == "Top classes"
    c = window.controls
    assert "Ctrl+Return" in c.explain_button.toolTip() and "Esc" in c.cancel_button.toolTip()
    assert window.gallery_dock.toggleViewAction().text() == "Fol&der"


def test_a_field_focused_from_outside_the_settings_panel_is_scrolled_into_view(qtbot, window):
    """Tab from the gallery or the sentence's links onto the Model box left the panel scrolled down: QScrollArea
    scrolls only for Tab from one of its own fields."""
    scroll = next(s for s in window.findChildren(QScrollArea) if s.widget() is window.controls)
    window.resize(1000, 420)
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0, timeout=3000)
    bar = scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    window.views.mode_box.setFocus(Qt.FocusReason.TabFocusReason)  # outside the panel
    qtbot.waitUntil(window.views.mode_box.hasFocus, timeout=2000)
    window.controls.model_box.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: bar.value() == 0, timeout=2000)  # the box is at the panel's top
    # focus given back (the window active again, a dialog closed) leaves the user's scroll position alone
    window.views.mode_box.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.views.mode_box.hasFocus, timeout=2000)
    bar.setValue(bar.maximum())
    window.controls.model_box.setFocus(Qt.FocusReason.ActiveWindowFocusReason)
    qtbot.waitUntil(window.controls.model_box.hasFocus, timeout=2000)
    assert bar.value() == bar.maximum()


def test_tab_goes_into_the_top_classes_and_out_again(qtbot, window):
    """The table took Tab focus but kept Qt's tab key navigation: Tab went round its 10 cells and never out."""
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    table = window.controls.top5
    table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(table.hasFocus, timeout=2000)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: not table.hasFocus(), timeout=2000)


def test_the_load_button_keeps_its_text_when_focused_in_a_narrow_panel(window):
    button = window.controls.load_model_button
    assert button.minimumWidth() >= button.fontMetrics().horizontalAdvance("Load…") + 2 * 8 + 2 * 2


def test_tab_from_explain_goes_round_the_window_and_back(qtbot, window):
    """Tab from Explain (the last stop) went nowhere: the view tabs' widget, its bar hidden while Compare is off,
    took the wrap-around focus and kept none; Space then started another run. Tab goes round every stop."""
    from PySide6.QtTest import QTest

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    explain = window.controls.explain_button
    explain.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(explain.hasFocus, timeout=2000)
    seen = []
    for _ in range(60):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
        if seen[-1] is explain:
            break
    assert seen[0] is not explain, "Tab from Explain stayed on Explain"
    assert seen[-1] is explain and len(set(map(id, seen))) >= 10  # round the window: the views' stops, the settings


def test_ctrl_tab_switches_the_view_tabs_and_help_lists_it(qtbot, window):
    """Ctrl+Tab switched between Explanation and Compare, but Help ▸ Keyboard Shortcuts did not say so."""
    from PySide6.QtTest import QTest

    from gradflip_desktop.ui.help import WIDGET_KEYS

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.set_compare_visible(True)
    window.view_tabs.setCurrentWidget(window.views)
    window.views.mode_box.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.views.mode_box.hasFocus, timeout=2000)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.view_tabs.currentWidget() is window.compare
    assert any(keys.startswith("Ctrl+Tab") and "Compare" in what for keys, what in WIDGET_KEYS)
    window.set_compare_visible(False)
