"""The probability plot's legend: beside the view, in the fewest columns that fit, never wider than a share of
the plot; an entry too wide for it is cut with "…", and in a cramped plot the least needed entries give way and the
legend counts them (the read-out below the plot names every class while hovering)."""

from __future__ import annotations

import math
from html import escape

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from .elision import elide_end, graphemes

# at most this share of the plot's width: at 820×560 the legend took 63 % (80 % with Compare Methods on) and left
# the curves 170 (80) px
LEGEND_SHARE = 0.45
SAMPLE_PX = 20.0  # a line sample's width (pyqtgraph's ItemSample)
# the count of the entries that gave way, on a line of its own or after the last entry (only the tooltip, which names
# them, said so: 1366x768 with Compare on drew a curve the legend did not have); the read-out under the plot says to hover
MORE, MORE_AFTER = "+{} more", " · +{} more"
# a one-column legend cuts an entry wider than its share to this many px at least ("key region alone: jigsaw puzzle"
# at 195 px in a 502 px plot: it gave way with two narrower entries after it, while three lines of room stayed empty)
MIN_CUT_PX = 80.0
CUT_STEP_PX = 16.0  # the cut width moves in steps: a resize rebuilt the legend (and measured its texts) at every pixel


def text_size(font: QFont | None = None) -> str:
    """The legend's text size: the window's (the application font's) point size. A fixed 9 pt left the legend the
    smallest text in a window with a 14 pt system font, half the size of the read-out under it."""
    points = (font or QApplication.font()).pointSizeF()
    return f"{points:g}pt" if points > 0 else "9pt"  # a font sized in pixels: the former size


def plain(text: str) -> str:
    """``text`` for a rich-text label, shown as written: a model's label "<unknown>" was an unknown tag and vanished."""
    return escape(text, quote=False)


class FittedLegend(pg.LegendItem):
    """A legend of ranked entries: ``(curve, text, rank)``, rank 0 the last to give way."""

    def __init__(self, **kwargs):
        kwargs.setdefault("labelTextSize", text_size())
        super().__init__(**kwargs)
        self.entries: list[tuple[object, str, int]] = []
        self._sizes: list[tuple[float, float]] = []  # each entry's label (width, height), measured when set
        self._shown = (0, 1, False, None)  # entries shown, columns, whether the count of the others ends the last one,
        # the width a label is cut to (None: whole)
        self._cuts: dict[tuple, str] = {}  # (text, width, text size) -> the text cut to it

    def set_entries(self, entries) -> None:
        """Show every entry in one column (:meth:`fit` then fits them to the plot)."""
        self.entries = list(entries)
        self._show(len(self.entries), 1)
        self._sizes = [(label.item.boundingRect().width(), label.item.boundingRect().height()) for _, label in self.items]
        # the count's widths, on its own line and after the last entry (each label kept: its text item dies with it)
        more = [pg.LabelItem(t.format(len(self.entries)), size=self.opts["labelTextSize"]) for t in (MORE, MORE_AFTER)]
        self._more_px = [label.item.boundingRect().width() for label in more]

    def forget(self) -> None:
        """No entries: a new photo or model. ``clear`` alone removes the shown items but keeps :attr:`entries`, and
        the next :meth:`fit` (any resize: the gallery opening, a splitter) would show the last run's classes again."""
        self.entries = []
        self._sizes = []
        self._shown = (0, 1, False, None)
        self.clear()
        self.setToolTip("")

    def _show(self, n: int, columns: int, inline: bool = False, cut: float | None = None) -> None:
        """The first ``n`` entries; the count of the others on a line of its own or, ``inline``, after the last one;
        a label wider than ``cut`` px cut to it with "…" (the tooltip names it whole)."""
        keep = self._keep(n)
        gone = [self.entries[i][1] for i in range(len(self.entries)) if i not in keep]
        limits = self._limits(keep, inline and bool(gone), cut)
        cuts = [self.entries[i][1] for i in keep if cut is not None and self._sizes[i][0] > limits[i]]
        self.clear()
        self.setColumnCount(columns)
        for i in keep:
            after = MORE_AFTER.format(len(gone)) if inline and gone and i == keep[-1] else ""
            text = self.entries[i][1]
            self.addItem(self.entries[i][0], plain(self._cut(text, limits[i]) if text in cuts else text) + after)
        if gone and not inline:  # a line without a sample (an item that draws nothing)
            self.addItem(pg.PlotDataItem(pen=None), MORE.format(len(gone)))
        tip = [f"Not in this legend, for want of room: {plain(', '.join(gone))}." if gone else "",
               f"Shortened: {plain(', '.join(cuts))}." if cuts else ""]
        self.setToolTip(f"<p>{' '.join(t for t in tip if t)} Hover over the plot: the line under it then names every "
                        "class in its colour.</p>" if gone or cuts else "")
        self._shown = (n, columns, inline, cut)
        self.compact()

    def _limits(self, keep: list[int], inline: bool, cut: float | None) -> dict[int, float]:
        """Each kept entry's widest label: ``cut`` (None: whole), the last one less the count after it when ``inline``
        ("key region alone: jig… · +2 more" rather than "+3 more" over the star's entry), never under half of
        :data:`MIN_CUT_PX` (then whole: that legend is too wide, and another is chosen)."""
        limits = {i: math.inf if cut is None else cut for i in keep}
        if inline and cut is not None and keep:
            room = cut - self._more_px[1]
            limits[keep[-1]] = room if room >= MIN_CUT_PX / 2 else math.inf
        return limits

    def _keep(self, n: int) -> list[int]:
        """The indices of the ``n`` entries of lowest rank, in the order of their ranks (entries of one rank in their
        own order): those that give way first come last, so the count of the others takes their place ("+1 more"
        had a row of its own in two columns, where "tabby", given way among the others, would have fit)."""
        return sorted(range(len(self.entries)), key=lambda i: self.entries[i][2])[:n]

    def _cut(self, text: str, px: float) -> str:
        """``text`` cut at its end to at most ``px`` wide as a label of this legend, with "…" (at least one letter);
        remembered per text and width (the legend is shown again on every resize that changes it)."""
        key = (text, px, self.opts["labelTextSize"])
        if key not in self._cuts:
            measure = pg.LabelItem("", size=self.opts["labelTextSize"])
            fits = lambda t: measure.setText(plain(t)) or measure.item.boundingRect().width() <= px  # noqa: E731
            low, high = 2, len(graphemes(text))  # elide_end's letters: low (one letter and "…") fits or is the least
            while low + 1 < high:
                mid = (low + high) // 2
                low, high = (mid, high) if fits(elide_end(text, mid)) else (low, mid)
            if len(self._cuts) >= 64:  # a long session's widths and texts: forgotten now and then
                self._cuts.clear()
            self._cuts[key] = elide_end(text, low)
        return self._cuts[key]

    def compact(self) -> None:
        """Each label next to its line sample: the legend's cell is as tall as the plot, and stretched rows put
        the label at the top of its row and the sample in its middle (a 1200 px window: 18 px apart)."""
        for _, label in self.items:
            label.setMaximumHeight(label.item.boundingRect().height())
            self.layout.setAlignment(label, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        self.layout.invalidate()

    def width_of(self, n: int, columns: int, inline: bool = False, cut: float | None = None) -> float:
        """The legend's width with the first ``n`` entries it keeps in ``columns`` columns (filled row by row) and,
        when others give way, their count on a line of its own or, ``inline``, after the last entry; labels cut to
        ``cut`` px."""
        keep = self._keep(n)
        limits = self._limits(keep, inline and n < len(self.entries), cut)
        widths = [min(self._sizes[i][0], limits[i]) for i in keep]
        if n < len(self.entries) and inline:
            widths[-1] += self._more_px[1]
        elif n < len(self.entries):
            widths.append(self._more_px[0])
        left, _, right, _ = self.layout.getContentsMargins()
        cols = [max(widths[j::columns], default=0.0) for j in range(columns)]
        return sum(SAMPLE_PX + w for w in cols) + self.layout.horizontalSpacing() * (2 * columns - 1) + left + right

    def fit(self, height: float, plot_width: float) -> bool:
        """The most entries, in the fewest columns (at most three), whose rows fit ``height`` and whose width is at
        most :data:`LEGEND_SHARE` of ``plot_width``; at least the explained class and the one it flips to. When some
        give way, their count takes a line of its own or, where that would cost an entry, follows the last one; where
        neither fits, one more entry gives way to the count (a cramped plot never hides curves without saying so).
        Returns whether the legend changed."""
        if not self.entries:
            return False
        row = max(h for _, h in self._sizes)
        _, top, _, bottom = self.layout.getContentsMargins()
        lines = lambda n, inline: n + (n < len(self.entries) and not inline)  # noqa: E731 - with the count's line
        rows_fit = lambda n, c: math.ceil(n / c) * row + top + bottom <= height + 1  # noqa: E731
        least = min(2, len(self.entries))
        left, _, right, _ = self.layout.getContentsMargins()
        # one column: a label wider than the share is cut to it rather than give way while lines of room stay empty
        cut = LEGEND_SHARE * plot_width - SAMPLE_PX - self.layout.horizontalSpacing() - left - right
        cut = math.floor(cut / CUT_STEP_PX) * CUT_STEP_PX
        cuts = {1: cut if cut >= MIN_CUT_PX else None}
        choice = next(((n, c, inline, cuts.get(c)) for n in range(len(self.entries), least - 1, -1)
                       for inline in (False, True) for c in (1, 2, 3) if rows_fit(lines(n, inline), c)
                       and self.width_of(n, c, inline, cuts.get(c)) <= LEGEND_SHARE * plot_width), None)
        if choice is None:  # not even two entries fit: those two, in the columns the height needs, the count after them
            choice = (least, next((c for c in (1, 2) if rows_fit(least, c)), least), True, None)
        keep = self._keep(choice[0])
        limits = self._limits(keep, choice[2] and choice[0] < len(self.entries), choice[3])
        if choice[3] is not None and all(self._sizes[i][0] <= limits[i] for i in keep):
            choice = (*choice[:3], None)  # nothing to cut: the same legend as before (no needless redraw)
        if choice == self._shown:
            return False
        self._show(*choice)
        return True
