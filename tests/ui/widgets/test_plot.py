"""The probability plot (``ui/widgets/plot.py``) alone: which step is the flip, where the saved point lies and the
scale that shows it, the dots on short runs, a targeted run's legend, and the read-out (mutation audit, mutD)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

pytestmark = pytest.mark.gui

LABELS = [f"c{i}" for i in range(6)]


def _row(*head):
    return np.array([*head, *[0.01] * (6 - len(head))], np.float32)


def _step(i, probs, flipped=False, phase="search"):
    return SimpleNamespace(index=i, probabilities=probs, flipped=flipped, phase=phase)


@pytest.fixture
def plot(qtbot):
    from gradflip_desktop.ui.widgets.plot import ProbabilityPlot

    p = ProbabilityPlot()
    qtbot.addWidget(p)
    return p


def test_a_flip_in_the_8_bit_pass_is_not_the_search_s_flip_and_the_first_8_bit_step_marks_the_pass(plot):
    plot.start(LABELS, [0], "c0", _row(0.6, 0.3))
    plot.add_steps([_step(1, _row(0.5, 0.4)), _step(2, _row(0.4, 0.5), True, "eight_bit"),
                    _step(3, _row(0.3, 0.6), True, "eight_bit")])
    assert plot.flip_step is None and not plot.flip_line.isVisible()
    assert plot.eight_bit_line.isVisible() and plot.eight_bit_line.value() == 2
    assert plot.show_readout(2).startswith("<b>step 2</b> (the 8-bit pass)")
    assert plot.show_readout(0).startswith("<b>step 0</b> (unchanged) · ")


def test_the_saved_point_lies_one_step_right_and_the_scale_reaches_it(plot):
    plot.start(LABELS, [0], "c0", _row(0.3, 0.2))
    plot.add_steps([_step(1, _row(0.25, 0.28), True), _step(2, _row(0.2, 0.3), True)])
    assert plot.top == pytest.approx(0.3)
    plot.saved = _row(0.6, 0.1)  # the saved image's class far above every step's
    plot._redraw()
    assert plot.saved_x == 3.0 and plot.step_axis.saved_x == 3.0
    assert plot.top == pytest.approx(0.6)
    assert plot.saved_curves[0].getData()[0].tolist() == [2.0, 3.0]
    # the explained class's saved point is a hollow square round the other's filled one: where the two meet (espresso 7.9 %
    # beside eggnog 9.0 %) one filled square hid the other
    explained, flipped = (c.opts for c in plot.saved_curves)
    assert explained["symbolBrush"] is None and explained["symbolSize"] > flipped["symbolSize"] + 2
    assert flipped["symbolBrush"] is not None


def test_short_runs_have_dots_on_their_points_and_long_ones_plain_lines(plot):
    plot.start(LABELS, [0], "c0", _row(0.6, 0.3))
    plot.add_steps([_step(i, _row(0.6 - 0.005 * i, 0.3)) for i in range(1, 60)])  # 60 points
    assert plot.explained_curve.opts["symbol"] == "o" and plot.flip_curve.opts["symbol"] == "o"
    plot.add_steps([_step(60, _row(0.3, 0.3))])
    assert plot.explained_curve.opts["symbol"] is None and plot.flip_curve.opts["symbol"] is None


def test_a_targeted_run_does_not_call_another_class_top_at_the_flip(plot):
    # the target (c2) is the class drawn; the class on top of the others at the flip (c3) is no "top at the flip"
    plot.start(LABELS, [0], "c0", _row(0.6, 0.2, 0.1), flip_to=2, targeted=True)
    plot.add_steps([_step(1, _row(0.3, 0.05, 0.25, 0.35), True), _step(2, _row(0.2, 0.3, 0.45, 0.02), True)])
    names = [text for _, text, _ in plot.legend.entries]
    assert names == ["top class: c0", "target: c2", "c1", "c3"], names


def test_the_mouse_reads_the_saved_point_from_half_a_step_past_the_last(shown_plot, qtbot):
    from PySide6.QtCore import QPointF

    plot = shown_plot(700, 300)
    plot.start(LABELS, [0], "c0", _row(0.6, 0.3))
    plot.add_steps([_step(1, _row(0.5, 0.4)), _step(2, _row(0.4, 0.5), True)])
    plot.saved = _row(0.41, 0.49)
    plot._redraw()
    qtbot.wait(20)
    vb = plot.plot.getPlotItem().vb
    for x, start in ((2.4, "<b>step 2</b>"), (2.75, "<b>saved</b> (8-bit)")):
        plot._mouse_moved(vb.mapViewToScene(QPointF(x, 0.5)))
        assert plot.readout.text().startswith(start), (x, plot.readout.text())


def test_the_plot_is_framed_in_the_highlight_colour_only_while_it_has_the_focus(plot):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QFocusEvent
    from PySide6.QtWidgets import QApplication

    assert not plot.has_focus_frame()
    QApplication.sendEvent(plot.plot, QFocusEvent(QEvent.Type.FocusIn))
    assert plot.frame.styleSheet() == "QFrame#plotFrame { border: 2px solid palette(highlight); border-radius: 4px; }"
    QApplication.sendEvent(plot.plot, QFocusEvent(QEvent.Type.FocusOut))
    assert not plot.has_focus_frame()


def test_the_key_region_s_star_has_its_class_s_colour(plot):
    from gradflip_desktop.ui.widgets.plot import RUNNER_COLORS

    plot.start(LABELS, [0], "c0", _row(0.6, 0.3, 0.05, 0.04))
    plot.key_class, plot.key_p = 4, 0.25  # the key region alone gives c4, not a runner-up of the whole change
    plot.saved = _row(0.2, 0.5, 0.1, 0.08)
    plot.add_steps([_step(1, _row(0.2, 0.5, 0.1, 0.08), True)])
    assert plot.shown == [1, 2, 4]  # c4 takes the second runner-up's place, in its colour
    assert plot.key_point.opts["symbolBrush"] == RUNNER_COLORS[1] and plot.key_point.getData()[0].tolist() == [2.0]


def test_the_legend_cuts_a_long_class_name_and_gives_the_key_region_s_its_own_budget(plot):
    long = "American Staffordshire terrier, pit bull"  # 40 letters
    key = "Sealyham terrier, Sealyham dog"  # 30 letters
    plot.start([*LABELS[:4], key, long], [0], "c0", _row(0.6, 0.3))
    plot.key_class, plot.key_p = 4, 0.2
    plot.saved = _row(0.2, 0.05, 0.03, 0.02, 0.01, 0.5)
    plot.add_steps([_step(1, _row(0.2, 0.05, 0.03, 0.02, 0.01, 0.5), True)])
    names = [text for _, text, _ in plot.legend.entries]
    assert "flips to: American Staffordshire terrier,…" in names, names
    assert f"key region alone: {key}" in names, names
