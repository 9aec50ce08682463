"""Tab stops of rich-text labels with links (the answer's "Explain any cat" and "Textbook change", the status bar's
export folder): a label is a tab stop only while it shows a link, and Tab into it lands on the link.

Qt gives a label whose links the keyboard may follow a tab stop of its own, before its first link, whether it has
a link or not: Tab from Explain went through two stops that showed nothing (the status bar, "Done: …", and the
answer above the views) before the first link lit up."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QLabel


def has_link(text: str) -> bool:
    return "<a " in text.lower() or "<a>" in text.lower()


def set_tab_stop(label: QLabel, text: str) -> None:
    """A tab stop while ``text`` has a link the keyboard may follow; none otherwise."""
    if label.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByKeyboard:
        label.setFocusPolicy(Qt.FocusPolicy.StrongFocus if has_link(text) else Qt.FocusPolicy.ClickFocus)


def land_on_link(label: QLabel, event: QFocusEvent) -> None:
    """Tab (Shift+Tab) into ``label``: its first (last) link takes the focus, as the next Tab takes the next one."""
    if not label.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByKeyboard:
        return
    if event.reason() == Qt.FocusReason.TabFocusReason:
        label.focusNextPrevChild(True)
    elif event.reason() == Qt.FocusReason.BacktabFocusReason:
        label.focusNextPrevChild(False)
