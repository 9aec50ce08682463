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
