"""The colour bar's label (its unit) kept whole and in view.

pyqtgraph places an axis label only when the axis is resized: a new, shorter label (Smoothed magnitude →
Importance map after a run) kept the old, longer one's place, left of the bar, and showed "ortance map (%)";
a label wider than a narrow bar (a small window, QT_SCALE_FACTOR=1.5 on 1280×720) was cut at both ends. The
label is elided to the bar's width (the tooltip has it whole) and placed again whenever it or the bar changes.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QWidget

MARGIN = 20  # the label's document margins and the layout's side margins, in pixels
ROW_HEIGHT = 52  # the colour bar's row at the usual font sizes: the bar, its tick labels and its label


def bar_row_height(widget: QWidget) -> int:
    """The colour bar row's height for ``widget``'s font: two lines of text (tick labels, label) under the 10 px bar.
    A fixed 52 px cut the label in half with a large font (QT_FONT_DPI=192, or an 18 pt desktop font: "impo…(%)")."""
    return max(ROW_HEIGHT, 2 * widget.fontMetrics().height() + 22)


class BarLabel(QObject):
    """The label of ``bar`` (a horizontal ColorBarItem) in ``view`` (its GraphicsLayoutWidget)."""

    def __init__(self, view: pg.GraphicsLayoutWidget, bar: pg.ColorBarItem, tooltip: str):
        super().__init__(view)
        self.view, self.bar, self.tooltip, self.text = view, bar, tooltip, ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.fit)
        view.installEventFilter(self)

    def set_text(self, text: str) -> None:
        self.text = text
        self.view.setToolTip(f"{self.tooltip}\n{text}" if text else self.tooltip)
        self.fit()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if obj is self.view and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self._timer.start()  # after the layout has given the axis its new width
        return False

    def shown(self) -> str:
        """The text the label shows: the whole label, or elided to the bar's width."""
        room = max(40.0, self.view.width() - MARGIN)
        return QFontMetricsF(self.bar.axis.label.font()).elidedText(self.text, Qt.TextElideMode.ElideMiddle, room)

    def fit(self) -> None:
        axis = self.bar.axis
        shown = self.shown()
        if axis.labelText != shown:
            axis.setLabel(shown)
        axis.resizeEvent()  # the label centred under the bar again


__all__ = ["BarLabel", "bar_row_height"]
