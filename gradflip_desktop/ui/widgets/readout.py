"""The line under the probability plot that reads out one point's probabilities, with the room it needs kept."""

from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

TIP = ("The probability of each class after each gradient step (step 0: the photo). \"saved\": the saved 8-bit image, "
       "which the captions and the export describe (\"step 3's change × 0.90\": the least share of the flip step's "
       "change that flips). A rejected step leaves the image as it was.")


class ReadOut(QLabel):
    """Rich text that wraps. :meth:`reserve` keeps the room of the tallest text a result can show here: a read-out that
    wrapped only under the mouse (the saved point's, a rejected step's note) shrank the plot above it there, its axis
    titles and legend entries went, and the next point, one line again, grew it back."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", parent)
        self.setToolTip(TIP)  # its own tooltip, not the plot's: the plot's covered this read-out while hovering
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self._ruler = QLabel()  # measures the texts: never shown, in no layout (setting them here relaid the window)
        self._ruler.setTextFormat(Qt.TextFormat.RichText)
        self._ruler.setWordWrap(True)

    def reserve(self, texts: Iterable[str], fresh: bool = False) -> None:
        """Room for the tallest of ``texts`` and the text shown, at this width; the room only grows, unless ``fresh``
        (another width, a new result)."""
        self._ruler.setFont(self.font())
        width, need = max(1, self.width()), 0
        for text in (self.text(), *texts):
            self._ruler.setText(text)
            need = max(need, self._ruler.heightForWidth(width))
        room = need if fresh else max(self.minimumHeight(), need)
        if room != self.minimumHeight():
            self.setMinimumHeight(room)
