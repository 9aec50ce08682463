"""Help ▸ About (ui/help.py) describes what the app does by default, as the README's first sentence."""

from __future__ import annotations

import pytest

from gradflip_desktop.ui.help import about_html

pytestmark = pytest.mark.gui


def test_about_names_the_default_explanation_not_only_the_textbook_one():
    # it said "Explains an image classifier's decision by the smallest pixel change that flips it": the
    # textbook style, one click away since the key region became the default
    text = about_html(None)
    assert "smallest region whose detail removal alone flips the decision" in text
    assert "textbook smallest pixel change" in text


def test_how_it_works_explains_the_steps_after_the_flip():
    # "When another class wins, the search stops": the default style goes on (sharpen, flip-back search),
    # so the progress bar's "flipped at step 3 · 19 steps in all" had no explanation
    from gradflip_desktop.ui.help import HOW_IT_WORKS_HTML

    assert "the search stops" not in HOW_IT_WORKS_HTML
    assert "steps in all" in HOW_IT_WORKS_HTML


def test_how_it_works_opens_with_the_default_question_not_the_textbook_one():
    # it opened "GradFlip asks: what is the smallest change to this photo ...? The pixels that change are the
    # ones the decision depends on" (the textbook style) and said Difference "shows where the change is",
    # while the default answer is a key region and its Difference view is the region search's importance map
    from gradflip_desktop.ui.help import HOW_IT_WORKS_HTML

    intro = HOW_IT_WORKS_HTML.split("<ol>")[0]
    assert "smallest region whose detail removal alone flips the decision" in intro
    assert "The pixels that change are the ones" not in intro
    assert "importance" in HOW_IT_WORKS_HTML.split("<i>Difference</i>")[1].split("</li>")[0]


def test_f1_twice_brings_the_open_help_window_to_the_front_instead_of_opening_another(qtbot, window):
    # each F1 opened one more "How GradFlip Works" window, stacked exactly over the last (walk29, Xvfb)
    from PySide6.QtWidgets import QDialog

    for _ in range(3):
        window.how_action.trigger()
    assert [d.objectName() for d in window.findChildren(QDialog)].count("help-how-gradflip-works") == 1
    assert window.help_dialog.isVisible()
    window.help_dialog.close()
    window.how_action.trigger()  # closed, then asked again: shown again
    assert window.help_dialog.isVisible()
    window.shortcuts_action.trigger()  # the other help window is a window of its own
    assert [d.objectName() for d in window.findChildren(QDialog) if d.isVisible()] == [
        "help-how-gradflip-works", "help-keyboard-shortcuts"]


def test_f1_again_keeps_the_reader_s_place_in_the_open_help_window(qtbot):
    # brought to the front by F1 (or the menu) again, the open window was also scrolled back to its top
    from PySide6.QtWidgets import QTextBrowser, QWidget

    from gradflip_desktop.ui.help import HOW_IT_WORKS_HTML, show_help

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    dialog = show_help(parent, "How GradFlip Works", HOW_IT_WORKS_HTML)
    bar = dialog.findChild(QTextBrowser).verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=2000)
    bar.setValue(bar.maximum() // 2)
    place = bar.value()
    assert show_help(parent, "How GradFlip Works", HOW_IT_WORKS_HTML) is dialog
    qtbot.wait(20)
    assert bar.value() == place > 0
    dialog.close()
    show_help(parent, "How GradFlip Works", HOW_IT_WORKS_HTML)  # closed, then asked again: from the top
    assert bar.value() == 0


def test_f1_again_brings_back_a_minimized_help_window(qtbot):
    # show(), raise_() and activateWindow() left it minimized: F1 seemed to do nothing
    from PySide6.QtWidgets import QWidget

    from gradflip_desktop.ui.help import HOW_IT_WORKS_HTML, show_help

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    dialog = show_help(parent, "How GradFlip Works", HOW_IT_WORKS_HTML)
    dialog.showMinimized()
    qtbot.waitUntil(dialog.isMinimized, timeout=2000)
    assert show_help(parent, "How GradFlip Works", HOW_IT_WORKS_HTML) is dialog
    assert not dialog.isMinimized() and dialog.isVisible()


def test_compare_methods_has_a_key_of_its_own_and_the_shortcut_list_names_every_key(qtbot, settings):
    """View ▸ Compare Methods had no key; Help ▸ Keyboard Shortcuts said nothing of the plot's ← → Home End, nor
    that Esc also stops RISE (its row read "Cancel")."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence
    from PySide6.QtTest import QTest

    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    key = w.compare_action.shortcut()
    assert key == QKeySequence("Ctrl+Shift+M")
    taken = [k for a in w.actions() if a is not w.compare_action for k in a.shortcuts()]
    assert key not in taken  # no other action's key
    rows = dict(w.shortcut_rows())
    assert rows["Ctrl+Shift+M"] == "Compare Methods"
    assert "RISE" in rows["Esc"] and rows["Esc"].startswith("Cancel")
    assert "Probability plot" in rows["← →"] and "Probability plot" in rows["Home / End"]
    QTest.keyClick(w.views, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert w.compare_action.isChecked() and w.compare.isVisible()
    QTest.keyClick(w.views, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not w.compare.isVisible()
    w.shortcuts_action.trigger()
    text = w.help_dialog.layout().itemAt(0).widget().toPlainText()
    assert "Ctrl+Shift+M" in text and "Home / End" in text and "RISE" in text
    w.help_dialog.close()
    w.close()


def test_the_plots_keys_in_the_shortcut_list_are_the_keys_it_takes(qtbot, shown_plot):
    """The rows of :data:`WIDGET_KEYS` name keys the plot answers to (ProbabilityPlot.step_key)."""
    from PySide6.QtCore import Qt

    from gradflip_desktop.ui.help import WIDGET_KEYS

    plot = shown_plot(400, 300)
    names = {"←": Qt.Key.Key_Left, "→": Qt.Key.Key_Right, "Home": Qt.Key.Key_Home, "End": Qt.Key.Key_End}
    listed = [names[k] for keys, what in WIDGET_KEYS if what.startswith("Probability plot")
              for k in keys.replace("/", " ").split()]
    assert sorted(listed) == sorted(names.values()) and all(plot.step_key(k) for k in listed)


def test_the_views_keys_in_the_shortcut_list_are_the_keys_they_take():
    """The Original view's row names the keys :class:`KeyboardPan` answers to."""
    from gradflip_desktop.ui.help import WIDGET_KEYS
    from gradflip_desktop.ui.widgets.image_panel import KeyboardPan
    from PySide6.QtCore import Qt

    names = {"←": Qt.Key.Key_Left, "→": Qt.Key.Key_Right, "↑": Qt.Key.Key_Up, "↓": Qt.Key.Key_Down}
    rows = [keys for keys, what in WIDGET_KEYS if what.startswith("Original view")]
    assert len(rows) == 1 and sorted(names[k] for k in rows[0].split()) == sorted(KeyboardPan.KEYS)


def test_a_help_window_opens_as_tall_as_its_text_where_the_screen_has_room(qtbot):
    # Keyboard Shortcuts opened at 560 x 520 with its last paragraph below the edge, behind a scroll bar
    from PySide6.QtWidgets import QTextBrowser, QWidget

    from gradflip_desktop.ui.help import show_help

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    room = int(0.85 * parent.screen().availableGeometry().height())
    text = "".join(f"<p>line {i} of the help</p>" for i in range(22))  # ~570 px of text: more than 520 px holds
    dialog = show_help(parent, "Tall Help", text)
    browser = dialog.findChild(QTextBrowser)
    assert 520 < dialog.height() <= room
    qtbot.wait(20)
    assert browser.verticalScrollBar().maximum() == 0  # all of it in sight
    taller = show_help(parent, "Taller Help", text * 4)  # more than the screen holds: 85 % of it, and a scroll bar
    assert taller.height() == room
    short = show_help(parent, "Short Help", "<p>one line</p>")
    assert short.height() == 520  # never smaller than before
