"""The colours of a gallery tile's text by the run's state: on a light list and, lighter, on a dark one.

One set of colours was dim on a dark palette's list (#1e1e1e): flipped green 3.5:1, error red 3.1:1, under the
4.5:1 text needs; the not-flipped orange (3.7:1) and the running blue (4.0:1) were dim on white too. Each colour
now reaches 4.5:1 (the dark ones 5.6:1) on its list.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# state: (on a light list, on a dark list)
STATE_COLOURS = {
    "flipped": ("#1e8449", "#2ecc71"),
    "not flipped": ("#9c640c", "#f5b041"),
    "error": ("#c0392b", "#ec7063"),
    "running": ("#2471a3", "#5dade2"),
}


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the list's background (the palette's Base) is dark."""
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def state_colour(state: str, palette: QPalette | None = None) -> QColor | None:
    """The text colour of a tile in ``state`` (None: the palette's own text colour)."""
    pair = STATE_COLOURS.get(state)
    return QColor(pair[1] if is_dark(palette) else pair[0]) if pair else None


__all__ = ["STATE_COLOURS", "is_dark", "state_colour"]
