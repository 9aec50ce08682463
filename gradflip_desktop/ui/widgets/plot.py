"""Probability per step: the explained class, the class it flips to and the next runners-up. After a run, one more
point on the right is the *saved* image (8-bit, what is exported), whose numbers the captions, the summary and the
record state. Dashed lines mark the flip and where the 8-bit pass took over (steps that make the flip survive rounding)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from gradflip_desktop.core.summary import START_TIE, any_of

from .elision import LEGEND_CHARS, LEGEND_ENTRY_CHARS, elide_end
from .legend import FittedLegend, plain
from .readout import ReadOut
from .saved_note import saved_note
from .step_axis import StepAxis
from .step_marks import mark_lines, place_mark_labels

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

# colour-blind-safe (Okabe–Ito) colours, readable on light and dark backgrounds
EXPLAINED_COLOR = "#0072B2"
FLIP_COLOR = "#E69F00"
RUNNER_COLORS, RUNNERS_UP = ("#009E73", "#CC79A7"), 2
EMPTY_HINT = "Press Explain (Ctrl+Return): the probabilities appear here, step by step."
HOVER_HINT = "Hover over the plot (or click it and press ← →) to read the probabilities of a step."
SYMBOLS_UP_TO = 60  # dots on the points of short runs; plain lines for long ones
SAVED_LABEL_ROOM_PX = 24.0  # right of the saved point: half the "saved" tick label fits
# the steps on the path to the saved image (the region style's "restore" search builds the map on other images)
PLOTTED_PHASES = ("search", "eight_bit")
AXIS_TITLES_MIN_PX = 150  # a plot shorter than this shows its axes without their titles (see _fit_legend)


class ProbabilityPlot(QWidget):
    """Curves over steps. Step 0 is the unchanged image; step k is the image after k gradient steps."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.step_axis = StepAxis(orientation="bottom")
        self.plot = pg.PlotWidget(axisItems={"bottom": self.step_axis})
        # the read-out follows the mouse, or the arrow keys when the plot has the focus (Tab or a click)
        self.plot.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.plot.setAccessibleName("Probability plot")
        self.plot.setAccessibleDescription("Left and Right step through the run's points, Home and End go to the "
                                           "photo and the last point; the line below reads them out.")
        self.plot.installEventFilter(self)
        self._cursor: int | None = None  # the point the keys read out (len(rows): the saved image)
        self.plot.setMinimumHeight(100)
        self.plot.setAcceptDrops(False)  # files dropped here go to the window
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)  # a drag or the wheel panned the steps out of view, and only
        self.plot.hideButtons()  # pyqtgraph's unlabelled "A" corner button brought them back; the window scrolls instead
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "probability")
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self.plot.enableAutoRange(axis="y", enable=False)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setXRange(0, 1, padding=0.05)
        self.plot.setLimits(yMin=-0.05, yMax=1.05, xMin=-1)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        # the legend beside the view box, not over it: inside, its corner hid the saved points and the flip mark
        self.legend = FittedLegend()  # in the window's font size (legend.text_size)
        self.plot.getPlotItem().layout.addItem(self.legend, 2, 3)
        self.explained_curve = self.plot.plot(
            pen=pg.mkPen(EXPLAINED_COLOR, width=2.5), symbol="o", symbolSize=5, symbolBrush=EXPLAINED_COLOR
        )
        self.flip_curve = self.plot.plot(pen=pg.mkPen(FLIP_COLOR, width=2.5), symbol="o", symbolSize=5, symbolBrush=FLIP_COLOR)
        # a group run: its most likely single class. The flip test compares classes, not the group's sum, so
        # the group ("any cat", ~50 %) can stay above the class it flipped to (18 %); this curve crosses it
        self.best_curve = self.plot.plot(pen=pg.mkPen(EXPLAINED_COLOR, width=1.5, style=Qt.PenStyle.DashDotLine))
        self.runner_curves = [
            self.plot.plot(pen=pg.mkPen(c, width=1.5, style=Qt.PenStyle.DashLine)) for c in RUNNER_COLORS[:RUNNERS_UP]
        ]
        self.flip_line, self.eight_bit_line = mark_lines(self.plot)  # labelled in rows (step_marks)
        # the saved (8-bit) image: a point per shown class, joined to the last step by a dotted line; the explained class's
        # a hollow square round the other's filled one: both show where they meet (one filled square hid the other)
        self.saved_curves = [self.plot.plot(pen=pg.mkPen(c, width=1.5, style=Qt.PenStyle.DotLine), symbol="s", symbolSize=size,
                                            symbolBrush=brush, symbolPen=pen)
                             for c, size, brush, pen in ((EXPLAINED_COLOR, 12, None, pg.mkPen(EXPLAINED_COLOR, width=2.5)),
                                                         (FLIP_COLOR, 8, FLIP_COLOR, pg.mkPen("w", width=1)))]
        # the key region alone's class (when the figure's title names another class than the whole change's): its
        # probability with only the key region's detail removed, a star at the saved point (its curve dashed, as its sample)
        self.key_point = self.plot.plot(pen=None, symbol="star", symbolSize=14, symbolPen=pg.mkPen("w", width=1))
        # a group run: the saved point of its best single class (the group's sum can stay above the class it
        # flipped to; this point shows the flip holds in the saved image)
        self.saved_best_curve = self.plot.plot(
            pen=pg.mkPen(EXPLAINED_COLOR, width=1.5, style=Qt.PenStyle.DotLine), symbol="d", symbolSize=9,
            symbolBrush=EXPLAINED_COLOR, symbolPen=pg.mkPen("w", width=1))
        self.hover_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((128, 128, 128, 120), width=1))
        self.hover_line.hide()
        self.plot.addItem(self.hover_line, ignoreBounds=True)
        self.readout = ReadOut()
        self._symbols = True
        # a focused plot looks focused: the same 2 px highlight as the focused buttons, on a frame around
        # it (a border on the view itself shrinks its viewport below the scene pyqtgraph lays out)
        self.frame = QFrame()
        self.frame.setObjectName("plotFrame")
        frame_layout = QVBoxLayout(self.frame)
        frame_layout.setContentsMargins(2, 2, 2, 2)
        frame_layout.addWidget(self.plot)
        self._show_focus(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.frame, 1)
        layout.addWidget(self.readout)
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self.clear()
        self.plot.getPlotItem().vb.sigResized.connect(self._fit_x)  # the label's room is in pixels
        self.plot.getPlotItem().vb.sigResized.connect(self._fit_legend)

    # -- data ------------------------------------------------------------------------------------------
    def clear(self, labels: Sequence[str] | None = None, keep_items: bool = False) -> None:
        """Forget the data. ``keep_items``: leave the curves and legend, a redraw follows at once and sets them all."""
        self.saved_note, self.labels, self.explained_name = "", list(labels or []), ""
        self.explained: list[int] = []
        self.flip_to: int | None = None
        self.fixed_flip_to = False
        self.targeted = False
        self.not_flipped = False  # a run that ended on its own class: its strongest other class is a runner-up
        self.key_class: int | None = None  # the class of the key region alone (its line and the sentence name it)
        self.key_p = 0.0  # its probability with only the key region's detail removed
        self.key_explained: float | None = None  # the explained class's (a group's sum) there, as the sentence says it
        self.x: list[int] = []
        self.rows: list[np.ndarray] = []
        self.flip_step: int | None = None
        self.eight_bit_step: int | None = None
        self.notes: dict[int, str] = {}  # row -> what kind of step it was, when not a plain one (the read-out)
        self.saved: np.ndarray | None = None  # probabilities of the saved 8-bit image
        self.saved_x: float | None = None  # and where it is drawn
        self.top: float | None = None  # the highest point drawn (_fit_x fits the y axis to it)
        self.step_axis.saved_x = None
        self._cursor = None
        self.hover_line.hide()
        self.readout.setText(EMPTY_HINT)
        self.readout.setMinimumHeight(0)  # a new result: the read-out's room is measured again (_reserve_readout)
        if keep_items:
            return
        self.shown: list[int] = []
        self._legend_key: tuple = ()
        for c in (self.explained_curve, self.best_curve, self.flip_curve, *self.runner_curves, *self.saved_curves,
                  self.saved_best_curve, self.key_point):
            c.setData([], [])
        for line in (self.flip_line, self.eight_bit_line): line.hide()  # noqa: E701
        self.legend.forget()
        # the axes of no run: a new image or model does not keep the last run's scale (0-0.3 for a weak class)
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self.plot.setXRange(0, 1, padding=0.05)

    def start(
        self,
        labels: Sequence[str],
        explained: Sequence[int],
        explained_name: str,
        original: np.ndarray,
        flip_to: int | None = None,
        targeted: bool = False,
        redraw: bool = True,
    ) -> None:
        """Begin a run: ``original`` are the probabilities of the unchanged image (step 0). ``flip_to``: the class
        drawn as "flips to" (a targeted run's target, a finished run's final class); None = the strongest class
        outside the explained set at the latest step."""
        self.clear(labels, keep_items=not redraw)
        self.targeted = targeted
        self.explained = list(explained)
        self.explained_name = explained_name
        self.flip_to = flip_to
        self.fixed_flip_to = flip_to is not None
        self.x = [0]
        self.rows = [np.asarray(original, dtype=np.float32)]
        self.readout.setText(HOVER_HINT)
        if redraw:
            self._redraw()

    def add_steps(self, steps: Sequence) -> None:
        """Append core ``Step`` records (index, probabilities, flipped, phase)."""
        for s in steps:
            if s.phase not in PLOTTED_PHASES:
                continue
            self.x.append(int(s.index))
            self.rows.append(s.probabilities)
            note = getattr(s, "note", lambda: "")()  # a core Step: a rejected step or a stalled search's even one
            if note:
                self.notes[len(self.rows) - 1] = note
            if s.flipped and self.flip_step is None and s.phase == "search":
                self.flip_step = int(s.index)
            if s.phase == "eight_bit" and self.eight_bit_step is None:
                self.eight_bit_step = int(s.index)
        self._redraw()

    def show_result(self, result) -> None:
        """Redraw from a finished (or cancelled) ExplainResult: every step, the class it flipped to."""
        targeted = result.target is not None
        flip_to = result.target.index if targeted else None
        if flip_to is None and result.final.index not in result.explained:
            flip_to = result.final.index
        self.start(result.labels, result.explained, result.explained_name, result.original_probabilities, flip_to, targeted,
                   redraw=False)
        # a run that ends on another class flipped, also when it was cancelled later (key-region phases)
        self.not_flipped = not result.flipped and result.final.index in result.explained
        key = getattr(result, "key_region", None)  # a region that flips alone: its class (the figure's title names it)
        key = key.prediction if key is not None and key.flips else None
        self.key_class, self.key_p = (None, 0.0) if key is None else (key.index, float(key.probability))
        there = getattr(result.key_region, "explained_probability", None) if key is not None else None
        self.key_explained = float(there) if there is not None else None
        self.saved = np.asarray(result.final_probabilities, dtype=np.float32)
        self.saved_note = saved_note(result, self.explained)  # what the saved change is (saved_note.py)
        self.add_steps(result.steps)

    def point_count(self) -> int:
        """Steps shown, step 0 included (the saved point is not a step)."""
        return len(self.x)

    def saved_values(self) -> tuple[float, float | None] | None:
        """(explained, flip-to) probabilities drawn at the saved point, or None."""
        if self.saved is None or not self.explained:
            return None
        flip_to = self.shown[0] if self.shown else None
        return (float(self.saved[self.explained].sum()),
                None if flip_to is None else float(self.saved[flip_to]))

    def label(self, i: int) -> str:
        return self.labels[i] if 0 <= i < len(self.labels) else f"class {i}"

    # -- drawing ---------------------------------------------------------------------------------------
    def _explained_series(self, rows: np.ndarray) -> np.ndarray:
        return rows[:, self.explained].sum(axis=1) if len(self.explained) > 1 else rows[:, self.explained[0]]

    def _choose_classes(self, last: np.ndarray) -> tuple[int | None, list[int]]:
        order = [int(i) for i in np.argsort(-last, kind="stable")[: len(self.explained) + RUNNERS_UP + 2]]
        others = [i for i in order if i not in self.explained]
        flip_to = self.flip_to if self.fixed_flip_to else (others[0] if others else None)
        runners = [i for i in others if i != flip_to][:RUNNERS_UP]
        return flip_to, runners

    def _top_at_flip(self, rows: np.ndarray) -> int | None:
        """The class outside the explained ones on top at the search's flip step (None before a flip)."""
        if self.flip_step is None or self.not_flipped or self.flip_step not in self.x:
            return None
        return next((int(i) for i in np.argsort(-rows[self.x.index(self.flip_step)], kind="stable")
                     if int(i) not in self.explained), None)

    def _redraw(self) -> None:
        if not self.rows or not self.explained:
            return
        rows = np.stack(self.rows)
        x = np.asarray(self.x, dtype=np.float64)
        flip_to, runners = self._choose_classes(rows[-1])
        at_flip = self._top_at_flip(rows)
        moved = at_flip is not None and flip_to is not None and at_flip != flip_to and not self.targeted
        # the class that overtook at the flip is drawn too, and named so (not only the saved image's)
        runners = [at_flip, *[i for i in runners if i != at_flip]][:RUNNERS_UP] if moved else runners
        # a near tie at the start, which the sentence names ("boxer (11.3 %, a near tie with bull mastiff at 11.1 %)")
        tie = next((int(i) for i in np.argsort(-rows[0], kind="stable") if int(i) not in self.explained), None)
        if tie not in (None, flip_to, *runners) and not self.targeted and self._explained_series(rows[:1])[0] - rows[0, tie] < START_TIE:
            runners = [tie, *runners][:RUNNERS_UP]
        key = self.key_class  # the key region alone's class, starred at *saved* (another class than the flip's: a runner-up)
        if key is not None and key not in (flip_to, *runners, *self.explained):
            runners = [*runners[:RUNNERS_UP - 1], key]
        shown = [flip_to, *runners]
        symbols = len(x) <= SYMBOLS_UP_TO
        if symbols != self._symbols:
            self._symbols = symbols
            for curve, color in ((self.explained_curve, EXPLAINED_COLOR), (self.flip_curve, FLIP_COLOR)):
                curve.setSymbol("o" if symbols else None)
        self.explained_curve.setData(x, self._explained_series(rows))
        group = len(self.explained) > 1
        self.best_curve.setData(*((x, rows[:, self.explained].max(axis=1)) if group else ([], [])))
        self.flip_curve.setData(*((x, rows[:, flip_to]) if flip_to is not None else ([], [])))
        for curve, idx in zip(self.runner_curves, runners + [None] * RUNNERS_UP):
            curve.setData([], []) if idx is None else curve.setData(x, rows[:, idx])
        # "flips to" once the search has flipped; before that (live, or a run that ended on its own class) a runner-up
        # ("top class": "any cat" on an espresso, nothing to flip: espresso leads, it is no runner-up)
        kind = ("target" if self.targeted else "flips to" if self.flip_step is not None and not self.not_flipped else
                "top class" if flip_to is not None and rows[0, flip_to] > self._explained_series(rows[:1])[0] else "runner-up")
        kind = "saved image's class" if moved and kind == "flips to" else kind  # shortening moved the top class on
        legend_key = (tuple(shown), self.saved is not None, kind, group, key)
        if shown != self.shown or legend_key != self._legend_key:
            self.shown = shown
            self._legend_key = legend_key
            name = self.explained_name if len(self.explained) == 1 else any_of(self.explained_name)
            # targeted: the chosen class is what is explained (as in the Compare panel), the photo's class is passed;
            # the rank: which entries give way first in a cramped plot (the runners-up, then the group's best class)
            entries = [(self.explained_curve, f"{'top class' if self.targeted else 'explained'}: {elide_end(name, LEGEND_CHARS)}", 0)]
            if group:
                entries.append((self.best_curve, "its best single class", 3))
            if flip_to is not None:
                entries.append((self.flip_curve, f"{kind}: {elide_end(self.label(flip_to), LEGEND_CHARS)}", 1))
                if key == flip_to and self.saved is not None:  # the sentence's "into eggnog (26 %)" had no point drawn
                    self.key_point.setPen(self.flip_curve.opts["pen"])
                    entries.append((self.key_point, elide_end(f"key region alone: {self.label(key)}", LEGEND_ENTRY_CHARS), 2))
            for k, (c, i) in enumerate(zip(self.runner_curves, runners)):  # one entry says both (the flip's was lost)
                what = ", ".join(w for w, on in (("top at the flip", moved and i == at_flip), ("key region alone", i == key)) if on)
                # the name's own budget after the words before it, within LEGEND_ENTRY_CHARS ("key region alone: " left
                # a name 14 letters: "prairie chick…", 121 of ImageNet's names cut)
                limit = max(LEGEND_CHARS, min(len(what) + 2 + LEGEND_CHARS, LEGEND_ENTRY_CHARS))
                text = elide_end(f"{what}: {self.label(i)}" if what else self.label(i), limit)
                self.key_point.setPen(c.opts["pen"]) if i == key else None  # its sample: the star on the dashed curve
                # the class on top at the flip line stays with the saved image's (a cramped plot left "+1 more" there:
                # the curve on top at the flip had no name, the status said "flipped to stole")
                entries.append((self.key_point if i == key else c, text, 2 if i == key or (i == at_flip and moved) else 4 + k))
            if self.saved is not None:  # its points are marked "saved" on the step axis: it gives way first of these
                entries.append((self.saved_curves[0], "saved image (8-bit)", 3))
            self.legend.set_entries(entries)
            self._fit_legend()
        top = max([float(self._explained_series(rows).max())] + [float(rows[:, i].max()) for i in runners])  # all drawn
        if flip_to is not None:
            top = max(top, float(rows[:, flip_to].max()))
        self.saved_x = None
        if self.saved is not None:
            self.saved_x = float(x[-1] + 1)
            sx = [float(x[-1]), self.saved_x]
            ys = [self._explained_series(rows[-1:])[0], float(self.saved[self.explained].sum())]
            self.saved_curves[0].setData(sx, ys)
            top = max(top, ys[1])
            self.saved_curves[1].setData(*((sx, [float(rows[-1, flip_to]), float(self.saved[flip_to])]) if flip_to is not None else ([], [])))
            if flip_to is not None:
                top = max(top, float(self.saved[flip_to]))
            star = key is not None and (key in runners or key == flip_to)  # the key region alone, in its class's colour
            self.key_point.setData([self.saved_x] if star else [], [self.key_p] if star else [],
                                   symbolBrush=FLIP_COLOR if key == flip_to else RUNNER_COLORS[shown.index(key) - 1 if star else 0])
            top = max(top, self.key_p) if star else top
            best = [float(rows[-1, self.explained].max()), float(self.saved[self.explained].max())]
            self.saved_best_curve.setData(*((sx, best) if group else ([], [])))
        else:
            for c in (*self.saved_curves, self.saved_best_curve, self.key_point):
                c.setData([], [])
        self.step_axis.saved_x = self.saved_x
        self.top = top
        self._fit_x()
        for line, where in ((self.flip_line, self.flip_step), (self.eight_bit_line, self.eight_bit_step)):
            line.setValue(where if where is not None else line.value())
            line.setVisible(where is not None)
        self._reserve_readout()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_legend()
        self._reserve_readout(fresh=True) if event.size().width() != event.oldSize().width() else None  # at this width

    def _fit_legend(self, *_) -> None:
        """The legend fitted to the plot's height and at most :data:`.legend.LEGEND_SHARE` of its width (:mod:`.legend`), and
        axis titles only on a plot tall enough for them ("probability" runs vertically). A 1024×700 window with Compare
        Methods on cut off the step axis: the plot item cannot be shorter than its legend or left axis title."""
        item = self.plot.getPlotItem()
        changed = False
        tall = self.plot.viewport().height() >= AXIS_TITLES_MIN_PX
        for side in ("left", "bottom"):
            if self.plot.getAxis(side).label.isVisible() != tall:
                self.plot.getAxis(side).showLabel(tall)
                changed = True
        # the view's height were the plot to fit its widget
        room = self.plot.viewport().height() - (item.size().height() - item.vb.height())
        changed = self.legend.fit(room, self.plot.viewport().width()) or changed
        if changed:
            # the view sizes its plot item only when the widget is resized: once the item's minimum has
            # shrunk, ask again, or an item stretched by the old legend stays taller than the widget
            QTimer.singleShot(0, self._fit_item)

    def _fit_item(self) -> None:
        self.plot.getPlotItem().setGeometry(self.plot.range)

    def _fit_x(self, *_) -> None:
        """Steps 0 .. the saved point, with room on the right for half the "saved" label (an axis hides a
        label that does not fit; the legend beside the view leaves it no other space)."""
        right = max(1.0, self.saved_x or float(self.x[-1] if self.x else 1))
        room = SAVED_LABEL_ROOM_PX if self.saved_x is not None else 0.0
        width = max(4.0 * SAVED_LABEL_ROOM_PX, float(self.plot.getPlotItem().vb.width()))
        pad = 0.04 * right
        lo, hi = -pad, right + pad + (right + 2 * pad) * room / (width - room)
        self.plot.setXRange(lo, hi, padding=0)
        below = place_mark_labels(self.flip_line, self.eight_bit_line, max(40.0, self.plot.getPlotItem().vb.height()),
                                  self.step_axis.unwritten(self.flip_step, lo, hi, width))  # "flip at 19" then
        if self.top is not None:  # y: the data (at least 0-0.01), its top under the "flip" label, whose box hid
            self.plot.setYRange(0.0, min(1.0, max(0.01, self.top / max(0.5, below))), padding=0.02)  # a targeted run's flip

    def set_colors(self, background: QColor, foreground: QColor) -> None:
        """The palette's colours: plot background, axes and legend text (on a box of the background colour)."""
        self.plot.setBackground(background)
        self.legend.setBrush(pg.mkBrush(background.red(), background.green(), background.blue(), 215))
        for line in (self.flip_line, self.eight_bit_line):  # "8-bit pass" a step after the flip: its line struck it
            line.label.fill = pg.mkBrush(background.red(), background.green(), background.blue(), 215)
        self.set_foreground(foreground)

    def set_foreground(self, color: QColor) -> None:
        for name in ("left", "bottom"):
            ax = self.plot.getAxis(name)
            ax.setPen(color)
            ax.setTextPen(color)
        self.legend.setLabelTextColor(color)
        for _, label in self.legend.items:  # setLabelTextColor only stores the colour: redraw the shown labels
            label.setText(label.text, color=color)

    # -- hover read-out --------------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self.plot:
            if event.type() == QEvent.Type.KeyPress and self.step_key(event.key()):
                return True
            if event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
                self._show_focus(event.type() == QEvent.Type.FocusIn)
        return super().eventFilter(obj, event)

    def _show_focus(self, focused: bool) -> None:
        color = "palette(highlight)" if focused else "transparent"
        self.frame.setStyleSheet(f"QFrame#plotFrame {{ border: 2px solid {color}; border-radius: 4px; }}")

    def has_focus_frame(self) -> bool:
        return "highlight" in self.frame.styleSheet()

    def step_key(self, key: int) -> bool:
        """Move the read-out one point (Left/Right), to the photo (Home) or the last point (End; the saved
        image where there is one). Returns whether the key was one of these."""
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Home: "first", Qt.Key.Key_End: "last"}
        move = moves.get(Qt.Key(key))
        if move is None:
            return False
        if not self.x:
            return True
        last = len(self.rows) - (0 if self.saved is not None and self.saved_x is not None else 1)
        if move == "first":
            cursor = 0
        elif move == "last":
            cursor = last
        elif self._cursor is None:
            cursor = 0 if move > 0 else last
        else:
            cursor = self._cursor + move
        self._cursor = max(0, min(cursor, last))
        if self._cursor == len(self.rows):
            self.show_saved_readout()
        else:
            self.show_readout(self._cursor)
        return True

    def _mouse_moved(self, pos: QPointF) -> None:
        vb = self.plot.getPlotItem().vb
        if not self.x or not self.plot.sceneBoundingRect().contains(pos):
            self.hover_line.hide()
            return
        xv = vb.mapSceneToView(pos).x()
        if self.saved_x is not None and xv > self.x[-1] + 0.5:
            self._cursor = len(self.rows)  # the keys go on from the point the mouse read
            self.show_saved_readout()
            return
        self._cursor = int(np.argmin(np.abs(np.asarray(self.x) - xv)))
        self.show_readout(self._cursor)

    def _saved_args(self) -> tuple:
        note = f"<b>saved</b> (8-bit{self.saved_note})"  # short: one line in a 1,280 px window (the tooltip says more)
        return self.saved, note, self.saved_x

    def _row_args(self, row: int) -> tuple:
        row = max(0, min(row, len(self.rows) - 1))
        step = self.x[row]
        eight = self.eight_bit_step is not None and step >= self.eight_bit_step
        what = ", ".join(w for w in ("the 8-bit pass" if eight else "", self.notes.get(row, "")) if w)
        return self.rows[row], f"<b>step {step}</b>" + (" (unchanged)" if step == 0 else f" ({what})" if what else ""), step

    def show_saved_readout(self) -> str:
        """Describe the saved (8-bit) image in the read-out; returns the text."""
        return "" if self.saved is None or self.saved_x is None else self._readout(*self._saved_args())

    def show_readout(self, row: int) -> str:
        """Describe point ``row`` (0 = unchanged image) in the read-out; returns the text."""
        return self._readout(*self._row_args(row))

    def _readout_text(self, p: np.ndarray, title: str, x: float) -> str:
        name = self.explained_name if len(self.explained) == 1 else any_of(self.explained_name)
        there = (f"; key region alone: {100 * self.key_explained:.1f} %" if self.key_class is not None
                 and self.key_explained is not None and x == self.saved_x else "")  # as the key region's line says it
        parts = [title, f"<span style='color:{EXPLAINED_COLOR}'>{plain(name)} {100 * float(p[self.explained].sum()):.1f} %{there}</span>"]
        if len(self.explained) > 1:  # the flip test compares single classes: the group's best one
            best = max(self.explained, key=lambda i: float(p[i]))
            parts.append(f"<span style='color:{EXPLAINED_COLOR}'>its best, {plain(self.label(best))} {100 * float(p[best]):.1f} %</span>")
        colors = [FLIP_COLOR, *RUNNER_COLORS]
        for c, idx in zip(colors, self.shown):
            if idx is not None:
                key = f"; key region alone: {100 * self.key_p:.1f} %" if idx == self.key_class and x == self.saved_x else ""
                parts.append(f"<span style='color:{c}'>{plain(self.label(idx))} {100 * float(p[idx]):.1f} %{key}</span>")
        return " · ".join(parts)

    def _readout(self, p: np.ndarray, title: str, x: float) -> str:
        self.hover_line.setValue(x)
        self.hover_line.show()
        text = self._readout_text(p, title, x)
        self.readout.setText(text)
        self.readout.reserve(())  # this text's room (the redraw reserved the result's tallest: not measured again here)
        return text

    def _reserve_readout(self, fresh: bool = False) -> None:
        """The read-out's room: the saved point's text, the last step's, and one step of each kind of note (a rejected
        step's, a stalled search's even one), at this width (:meth:`.readout.ReadOut.reserve`)."""
        if self.rows and self.explained:
            rows = {len(self.rows) - 1, *{note: row for row, note in self.notes.items()}.values()}
            saved = [self._saved_args()] if self.saved is not None and self.saved_x is not None else []
            self.readout.reserve([self._readout_text(*a) for a in saved + [self._row_args(r) for r in rows]], fresh)
