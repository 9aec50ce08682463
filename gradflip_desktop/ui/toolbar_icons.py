"""The toolbar's Explain and Cancel icons, drawn for the window's palette: the style's play and stop are black
whatever the palette (black on a dark toolbar), and its stop, a plain square, greyed out on a dark toolbar read as
an empty checkbox."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap

STOP_RED = "#d93a32"  # Cancel while it can stop something: legible on a light and on a dark toolbar


def tinted_icon(icon: QIcon, color: QColor, side: int = 32) -> QIcon:
    """``icon``'s shape in one colour (its alpha kept); Qt derives the disabled look from it."""
    pixmap = icon.pixmap(side, side)
    painter = QPainter(pixmap)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(pixmap.rect(), color)
    painter.end()
    return QIcon(pixmap)


def stop_icon(palette: QPalette) -> QIcon:
    """Cancel's icon, a media player's stop in both themes: a white square on a red disc while it can stop something;
    disabled, the disc in the palette's disabled text colour with the square cut out (never a lone square)."""
    grey = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
    icon = QIcon()
    for side in (16, 24, 32, 48, 64):
        for mode, disc, square in ((QIcon.Mode.Normal, QColor(STOP_RED), QColor("white")), (QIcon.Mode.Disabled, grey, None)):
            pixmap = QPixmap(side, side)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(disc)
            margin, inner = side * 0.06, side * 0.36
            painter.drawEllipse(QRectF(margin, margin, side - 2 * margin, side - 2 * margin))
            if square is None:
                painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
            painter.setBrush(square if square is not None else QColor("black"))
            painter.drawRoundedRect(QRectF((side - inner) / 2, (side - inner) / 2, inner, inner), side * 0.04, side * 0.04)
            painter.end()
            icon.addPixmap(pixmap, mode)
    return icon


__all__ = ["STOP_RED", "stop_icon", "tinted_icon"]
