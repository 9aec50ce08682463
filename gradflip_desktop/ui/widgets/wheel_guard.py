"""The wheel over a settings box that was not clicked into scrolls the panel around it, not the box's value."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QAbstractScrollArea, QApplication


class WheelGuard(QObject):
    """A wheel turn over a combo box or spin box that the user did not click into scrolls the panel instead of
    changing the value: one notch over the model picker swapped the model, one over Working size reloaded the
    photo, and either threw the finished explanation away while the user only scrolled the settings."""

    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Wheel and not obj.hasFocus():
            area = obj.parentWidget()
            while area is not None and not isinstance(area, QAbstractScrollArea):
                area = area.parentWidget()
            if area is not None:  # the scroll area around the panel scrolls, as over any label
                QApplication.sendEvent(area.viewport(), event)
            return True
        return False
