"""The window's own keys in its text fields: a field must not swallow a window shortcut (Ctrl+E on X11)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QWidget


class WindowKeysFirst(QObject):
    """Lets the window's own keys through its text fields. On X11 (and with KDE's or GNOME's key scheme) a
    line edit claims Ctrl+E as "end of line" (End does the same), so Export's Ctrl+E did nothing while the
    focus sat in the class field or a spin box, and the folder typed next went into that field."""

    def __init__(self, keys, parent: QObject) -> None:
        super().__init__(parent)
        self.keys = {QKeySequence(k)[0].toCombined() for k in keys}

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.ShortcutOverride and event.keyCombination().toCombined() in self.keys:
            event.ignore()  # not claimed: the shortcut map runs the window's action
            return True
        return False

    @classmethod
    def install(cls, window: QWidget, keys) -> "WindowKeysFirst":
        """The filter on every text field, spin box and combo box of ``window`` (as built now)."""
        keys_first = cls(keys, window)
        for field in window.findChildren(QLineEdit) + window.findChildren(QAbstractSpinBox) + window.findChildren(QComboBox):
            field.installEventFilter(keys_first)
        return keys_first


__all__ = ["WindowKeysFirst"]
