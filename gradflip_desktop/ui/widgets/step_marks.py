"""The probability plot's two step marks: a dashed line at the flip and a dotted one where the 8-bit pass took
over, each labelled left of its line. The labels lie in two rows measured in pixels from the view's top: at fixed
fractions of its height (92 % and 80 %) they were 6 px apart on a short plot (a 1024×700 window with Compare
Methods on), and the "8-bit pass" box, a step right of the flip, covered the "flip" label."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

MARK_COLOR = "#D55E00"
EIGHT_BIT_COLOR = "#7F7F7F"
ROW_OVERLAP_PX = 6.0  # two label boxes may share this much of their padding (their text stays clear)
TOP_PAD_PX = 4.0  # the "flip" box's top padding may lie above the view (its text does not)


def mark_lines(plot: pg.PlotWidget) -> tuple[pg.InfiniteLine, pg.InfiniteLine]:
    """The flip line and the 8-bit pass line, hidden, in ``plot``. The 8-bit line and its label are drawn over the
    flip line: its label, left of its line a step after the flip, lies across the flip line (which struck "8-bit"
    through), while the flip's label, left of the flip line, never meets the 8-bit line."""
    lines = []
    for text, color, width, style in (("flip", MARK_COLOR, 1.5, Qt.PenStyle.DashLine),
                                      ("8-bit pass", EIGHT_BIT_COLOR, 1.2, Qt.PenStyle.DotLine)):
        line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(color, width=width, style=style),
                               label=text, labelOpts={"position": 0.92, "color": color})
        line.hide()
        plot.addItem(line, ignoreBounds=True)
        lines.append(line)
    lines[1].setZValue(lines[0].zValue() + 1)
    return lines[0], lines[1]


def place_mark_labels(flip_line: pg.InfiniteLine, eight_bit_line: pg.InfiniteLine, view_height: float,
                      unnumbered: int | None = None) -> float:
    """The "flip" label in the top row of a view ``view_height`` px high, "8-bit pass" in the row below it, or
    hidden when the view has no room for that row (its line and the read-out still say where the pass began).
    ``unnumbered``: the flip's step, when the step axis writes no number under the line: the label says it ("flip at
    19"). Returns the fraction of the view's height under the "flip" label's box (the curves stay below it)."""
    flip_line.label.setFormat("flip" if unnumbered is None else f"flip at {unnumbered}")
    height = max(1.0, float(view_height))
    flip_h = flip_line.label.boundingRect().height()
    eight_h = eight_bit_line.label.boundingRect().height()
    flip_line.label.setPosition(1.0 - (flip_h / 2 - TOP_PAD_PX) / height)  # the label's centre: text at the top
    eight_centre = flip_h - TOP_PAD_PX - ROW_OVERLAP_PX + eight_h / 2  # px down from the top
    fits = eight_centre + eight_h / 2 <= height - 2
    eight_bit_line.label.setPosition(1.0 - eight_centre / height if fits else 0.5)
    eight_bit_line.label.setVisible(fits)
    return 1.0 - (flip_h - TOP_PAD_PX + 2) / height
