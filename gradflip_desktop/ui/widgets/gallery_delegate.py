"""How a gallery tile is drawn: as large as its view's grid cell, and with a frame round the tile the keyboard is on.

Qt's own look marks the current item only by the selection's highlight behind its text, and that highlight is gone
once the selection is cleared (another image opened, a new run) or before the first arrow key: a keyboard user
could not see which tile Enter would open. The tile with the keyboard's focus now gets a frame in the palette's
highlight colour, drawn only while the list itself has the focus.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QPoint, QSize, Qt
from PySide6.QtGui import QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

FOCUS_FRAME = 2  # px, the width of the focused tile's frame


class GridSizeDelegate(QStyledItemDelegate):
    """Tiles as large as their view's grid cell (less a small gap), so the text has the room the grid gives;
    the focused tile framed (the module's docstring)."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 - Qt API
        grid = self.parent().gridSize()
        return QSize(grid.width() - 4, grid.height() - 4) if grid.isValid() else super().sizeHint(option, index)

    def paint(self, painter, option, index) -> None:
        super().paint(painter, option, index)
        view = self.parent()
        if not (option.state & QStyle.StateFlag.State_HasFocus) or not view.hasFocus():
            return
        painter.save()
        pen = QPen(option.palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight), FOCUS_FRAME)
        painter.setPen(pen)
        half = FOCUS_FRAME // 2
        painter.drawRoundedRect(option.rect.adjusted(half, half, -half - 1, -half - 1), 4, 4)
        painter.restore()


__all__ = ["FOCUS_FRAME", "GridSizeDelegate"]


def land_keyboard(view, reason: Qt.FocusReason) -> None:
    """Focus arriving by keyboard on a list without a current tile makes the first tile in sight current (unselected,
    framed); with one, that tile is scrolled into sight. Not a click's focus (its own tile becomes current): the first
    tile made current scrolled the list back to the top under the pointer, and the first click into a scrolled gallery
    opened the tile that then lay there."""
    model = view.model()
    if reason == Qt.FocusReason.MouseFocusReason or not model.rowCount():
        return
    if view.currentIndex().isValid():  # the keyboard's tile scrolled out of sight: brought back into it
        view.scrollTo(view.currentIndex())
        return
    grid = view.gridSize()
    first = view.indexAt(QPoint(grid.width() // 2, grid.height() // 2))  # the top-left tile in sight
    below = view.indexAt(QPoint(grid.width() // 2, grid.height() * 3 // 2))
    if first.isValid() and view.visualRect(first).top() < 0 and below.isValid():  # cut at the top: making it
        first = below  # current would scroll it into sight, so the next row's, whole in sight, is taken
    view.selectionModel().setCurrentIndex(first if first.isValid() else model.index(0, 0),
                                          QItemSelectionModel.SelectionFlag.NoUpdate)
