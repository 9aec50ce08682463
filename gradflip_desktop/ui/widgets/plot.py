"""Probability per step: the explained class, the class it flips to and the next runners-up."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

# colour-blind-safe (Okabe–Ito) colours, readable on light and dark backgrounds
EXPLAINED_COLOR = "#0072B2"
FLIP_COLOR = "#E69F00"
RUNNER_COLORS = ("#009E73", "#CC79A7")
RUNNERS_UP = 2
EMPTY_HINT = "Press Explain (Ctrl+Return): the probabilities appear here, step by step."
HOVER_HINT = "Hover over the plot to read the probabilities of a step."
SYMBOLS_UP_TO = 60  # dots on the points of short runs; plain lines for long ones


class ProbabilityPlot(QWidget):
    """Curves over steps. Step 0 is the unchanged image; step k is the image after k gradient steps."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(150)
        self.plot.setAcceptDrops(False)  # files dropped here go to the window
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "probability")
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self.plot.enableAutoRange(axis="y", enable=False)
        self.plot.getAxis("left").setTicks([[(v / 5, f"{v / 5:.1f}") for v in range(6)]])
        self.plot.setLimits(yMin=-0.05, yMax=1.05, xMin=-1)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextSize="9pt")
        self.explained_curve = self.plot.plot(
            pen=pg.mkPen(EXPLAINED_COLOR, width=2.5), symbol="o", symbolSize=5, symbolBrush=EXPLAINED_COLOR
        )
        self.flip_curve = self.plot.plot(pen=pg.mkPen(FLIP_COLOR, width=2.5), symbol="o", symbolSize=5, symbolBrush=FLIP_COLOR)
        self.runner_curves = [
            self.plot.plot(pen=pg.mkPen(c, width=1.5, style=Qt.PenStyle.DashLine)) for c in RUNNER_COLORS[:RUNNERS_UP]
        ]
        self.flip_line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen("#D55E00", width=1.5, style=Qt.PenStyle.DashLine),
            label="flip", labelOpts={"position": 0.92, "color": "#D55E00"},
        )
        self.flip_line.hide()
        self.plot.addItem(self.flip_line, ignoreBounds=True)
        self.hover_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((128, 128, 128, 120), width=1))
        self.hover_line.hide()
        self.plot.addItem(self.hover_line, ignoreBounds=True)
        self.readout = QLabel("")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setWordWrap(True)
        self._symbols = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self.clear()

    # -- data ------------------------------------------------------------------------------------------
    def clear(self, labels: Sequence[str] | None = None) -> None:
        self.labels = list(labels or [])
        self.explained: list[int] = []
        self.explained_name = ""
        self.flip_to: int | None = None
        self.fixed_flip_to = False
        self.targeted = False
        self.x: list[int] = []
        self.rows: list[np.ndarray] = []
        self.flip_step: int | None = None
        self.shown: list[int] = []
        for c in (self.explained_curve, self.flip_curve, *self.runner_curves):
            c.setData([], [])
        self.flip_line.hide()
        self.hover_line.hide()
        self.legend.clear()
        self.readout.setText(EMPTY_HINT)

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
        """Begin a run: ``original`` are the probabilities of the unchanged image (step 0).

        ``flip_to``: the class to draw as "flips to" (the target of a targeted run, or the final class of a
        finished run); None = the strongest class outside the explained set at the latest step.
        """
        self.clear(labels)
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
            self.x.append(int(s.index))
            self.rows.append(s.probabilities)
            if s.flipped and self.flip_step is None and s.phase == "search":
                self.flip_step = int(s.index)
        self._redraw()

    def show_result(self, result) -> None:
        """Redraw from a finished (or cancelled) ExplainResult: every step, the class it flipped to."""
        targeted = result.target is not None
        flip_to = result.target.index if targeted else None
        if flip_to is None and result.final.index not in result.explained:
            flip_to = result.final.index
        self.start(
            result.labels, result.explained, result.explained_name, result.original_probabilities, flip_to, targeted,
            redraw=False,
        )
        self.add_steps(result.steps)

    def point_count(self) -> int:
        return len(self.x)

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

    def _redraw(self) -> None:
        if not self.rows or not self.explained:
            return
        rows = np.stack(self.rows)
        x = np.asarray(self.x, dtype=np.float64)
        flip_to, runners = self._choose_classes(rows[-1])
        shown = [flip_to, *runners]
        symbols = len(x) <= SYMBOLS_UP_TO
        if symbols != self._symbols:
            self._symbols = symbols
            for curve, color in ((self.explained_curve, EXPLAINED_COLOR), (self.flip_curve, FLIP_COLOR)):
                curve.setSymbol("o" if symbols else None)
        self.explained_curve.setData(x, self._explained_series(rows))
        if flip_to is not None:
            self.flip_curve.setData(x, rows[:, flip_to])
        else:
            self.flip_curve.setData([], [])
        for curve, idx in zip(self.runner_curves, runners + [None] * RUNNERS_UP):
            curve.setData([], []) if idx is None else curve.setData(x, rows[:, idx])
        if shown != self.shown:
            self.shown = shown
            self.legend.clear()
            name = self.explained_name if len(self.explained) == 1 else f"any {self.explained_name}"
            self.legend.addItem(self.explained_curve, f"explained: {name}")
            if flip_to is not None:
                kind = "target" if self.targeted else "flips to"
                self.legend.addItem(self.flip_curve, f"{kind}: {self.label(flip_to)}")
            for curve, idx in zip(self.runner_curves, runners):
                self.legend.addItem(curve, self.label(idx))
        axis = self.plot.getAxis("bottom")
        if x[-1] <= 12:
            axis.setTickSpacing(1, 1)  # whole steps only
        else:
            axis.setTickSpacing()
        if self.flip_step is not None:
            self.flip_line.setValue(self.flip_step)
            self.flip_line.show()
        else:
            self.flip_line.hide()

    def set_colors(self, background: QColor, foreground: QColor) -> None:
        """The palette's colours: plot background, axes and legend text."""
        self.plot.setBackground(background)
        self.set_foreground(foreground)

    def set_foreground(self, color: QColor) -> None:
        for name in ("left", "bottom"):
            ax = self.plot.getAxis(name)
            ax.setPen(color)
            ax.setTextPen(color)
        self.legend.setLabelTextColor(color)

    # -- hover read-out --------------------------------------------------------------------------------
    def _mouse_moved(self, pos: QPointF) -> None:
        vb = self.plot.getPlotItem().vb
        if not self.x or not self.plot.sceneBoundingRect().contains(pos):
            self.hover_line.hide()
            return
        xv = vb.mapSceneToView(pos).x()
        self.show_readout(int(np.argmin(np.abs(np.asarray(self.x) - xv))))

    def show_readout(self, row: int) -> str:
        """Describe point ``row`` (0 = unchanged image) in the read-out; returns the text."""
        row = max(0, min(row, len(self.rows) - 1))
        p = self.rows[row]
        step = self.x[row]
        name = self.explained_name if len(self.explained) == 1 else f"any {self.explained_name}"
        parts = [f"<b>step {step}</b>" + (" (unchanged)" if step == 0 else "")]
        parts.append(f"<span style='color:{EXPLAINED_COLOR}'>{name} {100 * float(p[self.explained].sum()):.1f} %</span>")
        colors = [FLIP_COLOR, *RUNNER_COLORS]
        for c, idx in zip(colors, self.shown):
            if idx is not None:
                parts.append(f"<span style='color:{c}'>{self.label(idx)} {100 * float(p[idx]):.1f} %</span>")
        self.hover_line.setValue(step)
        self.hover_line.show()
        text = " · ".join(parts)
        self.readout.setText(text)
        return text
