"""Tab reaches a rich-text label only while it shows a link, and lands on the link (ui/widgets/link_focus.py): Tab
from Explain went through two stops that showed nothing, the status bar's "Done: …" and the answer above the views,
before "Explain “any cat”" lit up."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from gradflip_desktop.ui.widgets.eliding_label import RichElidingLabel
from gradflip_desktop.ui.widgets.fitted_label import FittedLabel

LINKS = 'It flips. <a href="group:cat">Explain “any cat”</a> · <a href="style:free">Textbook change</a>'


def _summary() -> FittedLabel:
    label = FittedLabel(min_lines=3)  # as the views' summary is made
    label.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse
        | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
    )
    return label


def test_the_status_bar_is_a_tab_stop_only_with_a_link(qtbot):
    label = RichElidingLabel()
    qtbot.addWidget(label)
    label.setText("Done: “Egyptian cat” flipped to “tiger cat” (5.4 s). Export with Ctrl+E.")
    assert not label.focusPolicy() & Qt.FocusPolicy.TabFocus
    label.setText('Exported 8 files to <a href="file:///tmp/out">/tmp/out</a>')
    assert label.focusPolicy() & Qt.FocusPolicy.TabFocus
    label.setText("Export cancelled; nothing was overwritten.")
    assert not label.focusPolicy() & Qt.FocusPolicy.TabFocus


def test_the_summary_is_a_tab_stop_only_with_a_link(qtbot):
    label = _summary()
    qtbot.addWidget(label)
    label.setText("The model sees <b>Egyptian cat</b> (79.0 %). Press <b>Explain</b> (Ctrl+Return).")
    assert not label.focusPolicy() & Qt.FocusPolicy.TabFocus
    label.setText(LINKS)
    assert label.focusPolicy() & Qt.FocusPolicy.TabFocus
    plain = FittedLabel(min_lines=2)  # the key-set answer: no links the keyboard follows, never a tab stop
    qtbot.addWidget(plain)
    plain.setText(LINKS)
    assert plain.focusPolicy() == Qt.FocusPolicy.NoFocus


def test_tab_into_the_summary_lands_on_its_first_link_and_shift_tab_on_its_last(qtbot):
    box = QWidget()
    qtbot.addWidget(box)
    layout = QVBoxLayout(box)
    before, label, after = QPushButton("Explain"), _summary(), QPushButton("Difference")
    for widget in (before, label, after):
        layout.addWidget(widget)
    label.setText(LINKS)
    box.show()
    qtbot.waitExposed(box)
    box.activateWindow()
    before.setFocus()
    qtbot.waitUntil(before.hasFocus, timeout=2000)
    qtbot.keyClick(before, Qt.Key.Key_Tab)
    assert label.hasFocus() and label.selectedText() == "Explain “any cat”"
    qtbot.keyClick(label, Qt.Key.Key_Tab)
    assert label.hasFocus() and label.selectedText() == "Textbook change"
    qtbot.keyClick(label, Qt.Key.Key_Tab)
    assert after.hasFocus()
    qtbot.keyClick(after, Qt.Key.Key_Backtab)
    assert label.hasFocus() and label.selectedText() == "Textbook change"


def test_a_link_in_capitals_is_a_link_and_a_label_without_one_still_takes_a_click(qtbot):
    from gradflip_desktop.ui.widgets.link_focus import has_link

    assert has_link('Saved to <A HREF="file:///tmp/out">/tmp/out</A>') and has_link("<a>anchor</a>")
    assert not has_link("a <b>bold</b> answer") and not has_link("<abbr>RMS</abbr>")
    label = _summary()
    qtbot.addWidget(label)
    label.setText('It flips. <A HREF="group:cat">Explain “any cat”</A>')
    assert label.focusPolicy() == Qt.FocusPolicy.StrongFocus
    label.setText("The model sees <b>Egyptian cat</b>.")
    assert label.focusPolicy() == Qt.FocusPolicy.ClickFocus  # its text is still selected with the mouse and copied
