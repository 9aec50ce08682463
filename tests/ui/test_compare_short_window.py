"""A window too short for the views, the Compare Methods maps and the plot scrolls them; nothing is drawn over its neighbour."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def _short_window_with_compare(qtbot, settings):
    """The window at its least size (820x560), shown, with View ▸ Compare Methods on."""
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(820, 560)
    w.show()
    w.set_compare_visible(True)
    qtbot.wait(50)
    return w


def test_a_short_window_with_compare_methods_scrolls_instead_of_drawing_widgets_over_each_other(qtbot, settings):
    # 820x560 with View ▸ Compare Methods on: views, comparison and plot need ~620 px and had ~470; squeezed below
    # their least heights, the summary lay under the Difference row and the photos under their own captions
    w = _short_window_with_compare(qtbot, settings)
    for i in range(w.splitter.count()):
        child = w.splitter.widget(i)
        assert child.height() >= child.minimumSizeHint().height(), (type(child).__name__, child.height())
    for panel in (w.views.original, w.compare.panels[0]):  # every photo above its caption, not under it
        assert panel.graphics.geometry().bottom() < panel.caption.geometry().top(), panel.title.text()
    w.close()


def test_compare_titles_end_with_an_ellipsis_where_a_panel_is_too_narrow(qtbot, settings):
    # 820x560 with RISE on: four panels, and the third title read "Gradient salier" (cut mid-word, no "…")
    from PySide6.QtWidgets import QLabel

    settings.setValue("view/compare_rise", True)
    w = _short_window_with_compare(qtbot, settings)
    title = w.compare.panel("Gradient saliency").title
    shown = QLabel.text(title)  # what is drawn (text() is the whole title)
    assert title.text() == "<b>Gradient saliency</b>"
    fits = title.fontMetrics().horizontalAdvance("Gradient saliency") * 1.1 <= title.contentsRect().width()
    assert fits or ("…" in shown and title.toolTip() == "Gradient saliency"), (title.width(), shown)
    assert not fits  # at 820 px with four panels it does not fit (what the test is about)
    w.close()


def test_a_panel_title_with_room_is_whole_and_has_no_tooltip(qtbot):
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.image_panel import PanelTitle

    title = PanelTitle("<b>Gradient saliency</b>")
    qtbot.addWidget(title)
    title.resize(400, 30)
    title.show()
    qtbot.waitUntil(lambda: "Gradient saliency" in QLabel.text(title), timeout=2000)
    assert "…" not in QLabel.text(title) and title.toolTip() == ""
    title.resize(70, 30)
    qtbot.waitUntil(lambda: "…" in QLabel.text(title), timeout=2000)
    assert title.toolTip() == "Gradient saliency" and title.text() == "<b>Gradient saliency</b>"


def test_compare_methods_is_a_tab_as_tall_as_the_views_and_a_run_or_photo_shows_the_views_again(qtbot, settings):
    """Below the views, Compare Methods left a 1366 x 768 laptop's photos 89 px tall and its maps 84 px (three 64 px
    maps under 185 px photos before it had a third of the column). It is a tab beside the views: its maps as tall as
    the photos were alone; hidden, the tab goes; a run (watched live) or a new photo shows the views' tab."""
    from PySide6.QtWidgets import QTabBar

    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1366, 740)
    w.show()
    qtbot.wait(50)
    bar = w.view_tabs.findChild(QTabBar)
    alone = w.views.original.graphics.height()
    assert w.view_tabs.count() == 1 and not bar.isVisible()  # Compare off: no tab bar
    w.set_compare_visible(True)
    qtbot.waitUntil(lambda: w.compare.isVisible() and w.compare.panels[0].graphics.height() > 0, timeout=2000)
    qtbot.wait(50)
    assert w.view_tabs.currentWidget() is w.compare and bar.isVisible() and w.view_tabs.count() == 2
    assert w.compare.panels[0].graphics.height() >= 0.8 * alone >= 150, (w.compare.panels[0].graphics.height(), alone)
    w.view_tabs.setCurrentWidget(w.views)
    qtbot.wait(50)
    assert w.views.original.graphics.height() >= alone - 30, (w.views.original.graphics.height(), alone)  # the bar
    w.view_tabs.setCurrentWidget(w.compare)
    w.run_started.emit(1)
    assert w.view_tabs.currentWidget() is w.views
    w.view_tabs.setCurrentWidget(w.compare)
    w.image_opened.emit("cat.png")
    assert w.view_tabs.currentWidget() is w.views
    w.folders.show_panel()  # browsing a folder's gallery with Compare in front: each photo's comparison, no extra click
    w.view_tabs.setCurrentWidget(w.compare)
    w.image_opened.emit("tile.png")
    assert w.view_tabs.currentWidget() is w.compare
    w.run_started.emit(2)
    assert w.view_tabs.currentWidget() is w.views
    w.set_compare_visible(False)
    qtbot.wait(20)
    assert w.view_tabs.count() == 1 and not w.compare.isVisible() and not bar.isVisible()
    assert not w.compare_action.isChecked() and str(settings.value("view/compare")).lower() == "false"
    w.close()


def test_compare_left_on_is_a_tab_at_the_next_start_with_the_photo_in_front(qtbot, settings):
    from gradflip_desktop.ui.main_window import MainWindow

    settings.setValue("view/compare", True)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    assert w.compare_action.isChecked() and w.view_tabs.count() == 2 and w.view_tabs.currentWidget() is w.views
    w.close()


def test_alt_e_opens_the_edit_menu_with_the_compare_tab_shown(qtbot, settings):
    """The tabs' "&Explanation" took Alt+E, the Edit menu's key: with Compare Methods on, Alt+E went to the tab
    (the menu opened only at the next press or the one after), and with Compare off it opened the menu."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QMenu

    w = _active_window(qtbot, settings)
    w.set_compare_visible(True)
    qtbot.wait(50)
    assert w.view_tabs.currentWidget() is w.compare
    QTest.keyClick(w, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.wait(100)
    shown = QApplication.activePopupWidget()
    edit = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Edit")
    assert isinstance(shown, QMenu) and shown is edit, shown
    assert w.view_tabs.currentWidget() is w.compare  # the tab stays
    shown.close()
    w.close()


def test_hiding_compare_with_its_rise_box_focused_leaves_the_keys_to_a_widget_on_screen(qtbot, settings):
    """View ▸ Compare Methods off (Ctrl+Shift+M) while "RISE too" had the focus left the focus on the hidden box: the
    next Space ticked it unseen, remembered, and RISE's 1,000 model calls started when Compare was shown again."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    w = _active_window(qtbot, settings)
    w.set_compare_visible(True)
    w.compare.rise_box.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(w.compare.rise_box.hasFocus, timeout=2000)
    w.set_compare_visible(False)
    qtbot.wait(50)
    focused = QApplication.focusWidget()
    assert focused is not None and focused.isVisible(), type(focused).__name__
    QTest.keyClick(focused, Qt.Key.Key_Space)
    assert not w.compare.rise_box.isChecked()
    assert str(settings.value("view/compare_rise", "false")).lower() == "false"
    w.close()


def _active_window(qtbot, settings):
    """A laptop-sized main window, shown and active (keys go to it)."""
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1366, 740)
    w.show()
    w.activateWindow()
    qtbot.waitActive(w)
    return w
