"""The probability plot's step axis: whole steps only, plain numbers, and "saved" at the saved image's point."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

SAVED_TICK = "saved"
SAVED_TICK_GAP_PX = 32.0  # no step tick this close left of "saved": in a narrow plot "9" and "saved" read "9saved"


class StepAxis(pg.AxisItem):
    """The step axis: whole steps only, plain numbers (no SI prefix), and "saved" at the saved point."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.saved_x: float | None = None
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph API
        out = []
        gap = SAVED_TICK_GAP_PX * max(0.0, float(maxVal) - float(minVal)) / max(float(size), 1.0)
        shown = lambda v: self.saved_x is None or v < self.saved_x - gap  # noqa: E731 - room for "saved"
        for spacing, values in super().tickValues(minVal, maxVal, size):
            if spacing < 1:
                continue
            values = [v for v in values if float(v).is_integer() and shown(v)]
            out.append((spacing, values))
        if not out:
            out = [(1.0, [float(v) for v in range(max(0, int(np.ceil(minVal))), int(np.floor(maxVal)) + 1)
                          if shown(v)])]
        if self.saved_x is not None and minVal <= self.saved_x <= maxVal:
            out[0] = (out[0][0], list(out[0][1]) + [self.saved_x])
        return out

    def unwritten(self, step: int | None, low: float, high: float, size: float) -> int | None:
        """``step`` when the axis over ``low`` .. ``high`` drawn ``size`` px long writes no number under it (left of
        "saved" in a narrow plot, or between ticks 5 apart): the flip's step was then nowhere on the plot."""
        if step is None or any(float(step) in map(float, values) for _, values in self.tickValues(low, high, size)):
            return None
        return int(step)

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [SAVED_TICK if self.saved_x is not None and v == self.saved_x else f"{int(round(v))}" for v in values]
