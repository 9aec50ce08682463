"""The plot's step axis (``ui/widgets/step_axis.py``): plain whole steps, and "saved" only where it is in view
(mutation audit, mutD)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def _ticks(axis, lo, hi, size):
    return sorted(v for _spacing, values in axis.tickValues(lo, hi, size) for v in values)


def test_steps_read_as_whole_numbers_and_saved_only_at_its_point(qtbot):
    from gradflip_desktop.ui.widgets.step_axis import StepAxis

    axis = StepAxis(orientation="bottom")
    assert axis.tickStrings([0.0, 3.0, 12.0], 1, 1) == ["0", "3", "12"]
    assert _ticks(axis, -0.05, 1.05, 400) == [0.0, 1.0]  # a run of one step: both ends named
    axis.saved_x = 10.0
    assert 10.0 not in _ticks(axis, -0.2, 5.2, 400)  # the saved point beyond the range shown: no "saved" tick
    assert axis.tickStrings([9.0, 10.0], 1, 1) == ["9", "saved"]


@pytest.mark.parametrize("flip_at, width, numbered", [(3, 700, True), (19, 700, False), (19, 330, False)])
def test_the_flip_mark_names_its_step_where_the_axis_writes_no_number_under_it(qtbot, shown_plot, flip_at, width,
                                                                                numbered):
    """An "any cat" run flipped at step 19: the axis read 0 5 10 15 saved (or 0 … 18 saved, 19 too near "saved"),
    so the flip's step was nowhere on the plot. The mark then reads "flip at 19"; a run whose step is written, "flip"."""
    from types import SimpleNamespace

    import numpy as np
    from PySide6.QtWidgets import QApplication

    plot = shown_plot(width, 260)
    rest = [0.01] * 6
    plot.start([f"class {i}" for i in range(8)], [0], "class 0", np.array([0.6, 0.2, *rest], np.float32))
    steps = [SimpleNamespace(index=i, probabilities=np.array([0.6 - 0.02 * i, 0.2 + 0.02 * i, *rest], np.float32),
                             flipped=i == flip_at, phase="search") for i in range(1, flip_at + 1)]
    plot.add_steps(steps)
    plot.saved = np.array([0.2, 0.6, *rest], np.float32)
    plot._legend_key = ()
    plot._redraw()
    QApplication.processEvents()
    axis = plot.step_axis
    (lo, hi), size = plot.plot.getPlotItem().vb.viewRange()[0], plot.plot.getPlotItem().vb.width()
    written = any(float(flip_at) in values for _, values in axis.tickValues(lo, hi, size))
    assert written is numbered
    assert plot.flip_line.label.format == ("flip" if numbered else f"flip at {flip_at}")
