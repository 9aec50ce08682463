"""The probability plot as a newcomer sees it: legend labels beside their lines in a tall window, a fresh
scale for a new image, a group run's saved point of its best single class, and a live palette change."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from gradflip_desktop.ui.widgets.plot import ProbabilityPlot

pytestmark = pytest.mark.gui

LABELS = ["tabby", "tiger cat", "Egyptian cat", "lynx"] + [f"class {i}" for i in range(6)]
REST = [0.01] * 6


def _finished_single_run(plot: ProbabilityPlot) -> None:
    plot.start(LABELS, [2], "Egyptian cat", np.array([0.05, 0.25, 0.30, 0.04, *REST], np.float32))
    plot.add_steps([SimpleNamespace(index=1, probabilities=np.array([0.05, 0.28, 0.20, 0.04, *REST], np.float32),
                                    flipped=True, phase="search")])
    plot.saved = np.array([0.05, 0.27, 0.21, 0.04, *REST], np.float32)
    plot._legend_key = ()
    plot._redraw()


def test_in_a_tall_plot_each_legend_label_sits_beside_its_line_sample(qtbot, shown_plot):
    # a 1920x1200 window: the legend's cell is as tall as the plot; its rows stretched and each label's text
    # sat at the top of its row, ~18 px above its sample, nearer the entry above
    plot = shown_plot(1100, 600)
    _finished_single_run(plot)
    for _ in range(3):
        QApplication.processEvents()
    rows = []
    for sample, label in plot.legend.items:
        text = label.item.sceneBoundingRect()
        assert abs(text.center().y() - sample.sceneBoundingRect().center().y()) < 3, label.text
        rows.append(text.center().y())
    gaps = np.diff(rows)
    assert len(rows) == 5 and gaps.min() > 0 and gaps.max() < 40  # compact rows, not spread over 540 px


def test_a_new_image_starts_on_the_full_probability_scale(qtbot):
    # a run on a weak class (29 %) scaled the axis to 0-0.3; opening the next photo kept that empty 0-0.3 plot
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.show()
    _finished_single_run(plot)
    assert plot.plot.getPlotItem().vb.viewRange()[1][1] < 0.5
    plot.clear(LABELS)
    low, high = plot.plot.getPlotItem().vb.viewRange()[1]
    assert low <= 0.0 and high >= 1.0


def test_a_group_runs_saved_point_shows_its_best_single_class(qtbot):
    # "any cat" flipped to lynx (21 %) while the group's sum in the saved image was 53 %: without the best
    # single class at the saved point the plot seemed to say the cat still won
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.start(LABELS, [0, 1, 2], "cat", np.array([0.30, 0.25, 0.35, 0.04, *REST], np.float32))
    plot.add_steps([SimpleNamespace(index=1, probabilities=np.array([0.17, 0.16, 0.17, 0.44, *REST], np.float32),
                                    flipped=True, phase="search")])
    plot.saved = np.array([0.18, 0.17, 0.18, 0.21, *REST], np.float32)
    plot._redraw()
    x, y = plot.saved_best_curve.getData()
    np.testing.assert_allclose(x, [1, plot.saved_x])
    np.testing.assert_allclose(y, [0.17, 0.18], atol=1e-6)
    assert y[-1] < plot.saved[3] < plot.saved_values()[0]  # best cat < lynx < the group's sum
    text = plot.show_saved_readout()
    assert "any cat 53.0 %" in text and "its best, tabby 18.0 %" in text and "lynx 21.0 %" in text
    # a single-class run has no such point
    _finished_single_run(plot)
    assert len(plot.saved_best_curve.getData()[0] or []) == 0
    assert "its best" not in plot.show_saved_readout()


def test_a_palette_change_recolours_the_legend_labels_already_shown(qtbot):
    # the system switched to a dark theme while a result was shown: the legend kept its dark text on the
    # new dark background (unreadable) until the next run rebuilt it
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.set_colors(QColor("#ffffff"), QColor("#101010"))
    _finished_single_run(plot)
    assert all("#101010" in label.item.toHtml().lower() or "16, 16, 16" in label.item.toHtml()
               for _, label in plot.legend.items)
    plot.set_colors(QColor("#1e1e1e"), QColor("#e6e6e6"))
    for _, label in plot.legend.items:
        assert label.item.defaultTextColor() == QColor("#e6e6e6") or "#e6e6e6" in label.item.toHtml().lower(), label.text


def test_a_short_plot_keeps_its_legend_entries_and_its_step_axis_inside_the_widget(qtbot):
    # 1024x700 with Compare Methods on: the plot is ~100 px high. "saved image (8-bit)", the last of five
    # entries, fell below its bottom edge with one legend column; with two, the legend and the vertical
    # "probability" title still made the plot item taller than its widget and the step axis was cut off.
    # Three columns then took 70 % of the plot's width: now the runners-up give way (the read-out names them)
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.resize(700, 120)  # the plot widget 100 px high above its read-out, as in the window
    plot.show()
    _finished_single_run(plot)
    qtbot.wait(100)
    visible = plot.plot.mapToScene(plot.plot.viewport().rect()).boundingRect()
    item = plot.plot.getPlotItem()
    assert item.sceneBoundingRect().height() <= visible.height() + 1, (item.sceneBoundingRect(), visible)
    assert visible.contains(plot.step_axis.sceneBoundingRect()), (plot.step_axis.sceneBoundingRect(), visible)
    shown = [label.text for _, label in plot.legend.items]
    assert shown[:2] == ["explained: Egyptian cat", "flips to: tiger cat · +3 more"] and len(shown) < 5, shown
    assert "lynx" in plot.legend.toolTip() and "lynx" not in shown  # a runner-up gave way, and the tooltip says so
    assert "Hover over the plot" in plot.legend.toolTip()  # the line under it names every class only while hovering
    assert not plot.plot.getAxis("left").label.isVisible()
    for sample, label in plot.legend.items:
        text = label.item.sceneBoundingRect()
        assert visible.contains(text), (label.text, text, visible)
        assert abs(text.center().y() - sample.sceneBoundingRect().center().y()) < 3
    plot.resize(700, 400)  # room again: every entry, one column and the axis titles
    qtbot.wait(100)
    assert plot.legend.columnCount == 1 and len(plot.legend.items) == 5 and not plot.legend.toolTip()
    assert plot.plot.getAxis("left").label.isVisible() and plot.plot.getAxis("bottom").label.isVisible()


@pytest.mark.parametrize("height", [100, 120, 160])
def test_in_a_small_window_the_legend_leaves_the_curves_most_of_the_plot(qtbot, height):
    # an 820x560 window: the plot is 526 px wide and 100-120 px high; the legend took 2-3 columns, 63-80 % of the
    # width, and left the curves 80-170 px
    from gradflip_desktop.ui.widgets.legend import LEGEND_SHARE

    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.resize(526, height + 20)
    plot.show()
    _finished_single_run(plot)
    qtbot.wait(100)
    legend = plot.legend.sceneBoundingRect()
    view = plot.plot.getPlotItem().vb.sceneBoundingRect()
    assert legend.width() <= LEGEND_SHARE * plot.plot.width() + 2, (legend.width(), plot.plot.width())
    assert view.width() >= 0.45 * plot.plot.width(), (view.width(), plot.plot.width())
    shown = [label.text for _, label in plot.legend.items]
    assert "explained: Egyptian cat" in shown and any(t.startswith("flips to: tiger cat") for t in shown), shown
    visible = plot.plot.mapToScene(plot.plot.viewport().rect()).boundingRect()
    assert all(visible.contains(label.item.sceneBoundingRect()) for _, label in plot.legend.items)


def test_no_step_tick_label_runs_into_the_saved_label_in_a_narrow_plot(qtbot):
    """In a 1024 px window the plot is ~270 px wide: the ticks "9" and "saved" (flip at step 9) were drawn
    touching, "9saved". The step ticks stop short of the saved point by the room its label needs."""
    from gradflip_desktop.ui.widgets.plot import StepAxis

    room = 30.0  # px between a step's tick and "saved": half the word plus half a number and a space

    axis = StepAxis(orientation="bottom")
    axis.saved_x = 10.0
    lo, hi = -0.4, 10.4
    for size in (200, 270, 400, 700, 1200):
        per_unit = size / (hi - lo)
        ticks = [v for _spacing, values in axis.tickValues(lo, hi, size) for v in values]
        assert 10.0 in ticks and axis.tickStrings([10.0], 1, 1) == ["saved"]
        steps = [v for v in ticks if v != 10.0]
        assert steps and all((10.0 - v) * per_unit >= room for v in steps), (size, steps)
        if per_unit >= 2 * room:  # a wide plot still names the last step
            assert 9.0 in steps, (size, steps)


def test_when_the_saved_image_shows_another_class_than_the_flip_both_are_drawn_and_named(qtbot, shown_plot):
    """Grace Hopper: at the flip step "bow tie" overtook, the shortened saved change shows "bulletproof vest".
    The legend said "flips to: bulletproof vest" over an orange line that was not on top at the flip line, and bow
    tie was not drawn. Now the saved image's class is named as such, and the class on top at the flip is drawn."""
    plot = shown_plot(1100, 400)
    start = np.array([0.05, 0.04, 0.60, 0.03, 0.02, *REST[:5]], np.float32)
    at_flip = np.array([0.05, 0.09, 0.08, 0.03, 0.101, *REST[:5]], np.float32)  # "class 0" (index 4) on top
    plot.start(LABELS, [2], "Egyptian cat", start, flip_to=1)  # the final (saved) class: tiger cat
    plot.add_steps([SimpleNamespace(index=1, probabilities=at_flip, flipped=True, phase="search")])
    plot.saved = np.array([0.05, 0.098, 0.09, 0.03, 0.08, *REST[:5]], np.float32)
    plot._legend_key = ()
    plot._redraw()
    texts = [label.text for _, label in plot.legend.items]
    assert "saved image's class: tiger cat" in texts and "top at the flip: class 0" in texts
    assert not any(t.startswith("flips to") for t in texts)
    _finished_single_run(plot)  # the same class at the flip and in the saved image: "flips to", as before
    texts = [label.text for _, label in plot.legend.items]
    assert "flips to: tiger cat" in texts and not any("top at the flip" in t for t in texts)


def test_a_class_above_the_explained_one_is_not_called_its_runner_up(qtbot):
    """"Explain any cat" on an espresso photo (nothing to flip): the legend called the 88 % espresso
    "runner-up: espresso" under "explained: any cat" at 2 %."""
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.show()
    probs = np.array([0.01, 0.005, 0.005, 0.02, 0.88, *REST[:5]], np.float32)
    plot.start(LABELS, [0, 1, 2], "cat", probs)
    plot.not_flipped = True
    plot._legend_key = ()
    plot._redraw()
    texts = [label.text for _, label in plot.legend.items]
    assert "top class: class 0" in texts and not any(t.startswith("runner-up") for t in texts)


def test_a_model_unsure_of_every_class_gets_a_scale_its_curves_fill(qtbot):
    """A model whose classes all stay below 1 % (an untrained ResNet): the axis ran 0-0.09 and every curve lay
    flat along its bottom."""
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.show()
    low = np.full(10, 0.004, np.float32)
    low[2] = 0.0104
    plot.start(LABELS, [2], "Egyptian cat", low)
    after = low.copy()
    after[2], after[1] = 0.0031, 0.0052
    plot.add_steps([SimpleNamespace(index=1, probabilities=after, flipped=True, phase="search")])
    top = plot.plot.getPlotItem().vb.viewRange()[1][1]
    assert 0.0104 <= top <= 0.013


def test_a_new_image_does_not_bring_back_the_last_runs_legend_on_a_resize(qtbot, shown_plot):
    # opening a photo after a run cleared the legend, but the gallery opening (a resize) refitted it from the
    # last run's entries: "explained: espresso, flips to: eggnog" beside the rocket's empty plot
    plot = shown_plot(900, 200)
    _finished_single_run(plot)
    QApplication.processEvents()
    assert plot.legend.items
    plot.clear(LABELS)
    for size in ((500, 120), (800, 180)):
        plot.resize(*size)
        QApplication.processEvents()
    assert [label.text for _, label in plot.legend.items] == []


def test_the_plot_has_no_tooltip_over_its_own_read_out(qtbot):
    # hovering a point showed the plot's fixed tooltip right over the read-out line the hover fills
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    assert plot.plot.toolTip() == "" and "saved 8-bit image" in plot.readout.toolTip()


@pytest.mark.parametrize("size", [(980, 120), (700, 120), (526, 140), (620, 100), (980, 400)])
def test_every_curve_drawn_is_in_the_legend_or_counted_on_it(qtbot, size):
    """A cramped legend says on itself how many curves it leaves out (1366x768 with Compare Methods on, rocket.png:
the dashed "space shuttle" curve was drawn but neither in the legend nor counted there; only a tooltip said so)."""
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.resize(*size)
    plot.show()
    _finished_single_run(plot)
    qtbot.wait(100)
    shown = [label.text for _, label in plot.legend.items]
    entries = [text for _, text, _ in plot.legend.entries]
    def names(s: str, t: str) -> bool:  # the entry, whole or cut with "…", alone or before " · +3 more"
        s = s.split(" · +")[0]
        return s == t or (s.endswith("…") and len(s) > 1 and t.startswith(s[:-1].rstrip()))

    named = [t for t in entries if any(names(s, t) for s in shown)]
    gone = len(entries) - len(named)
    if gone:  # the count, on a line of its own or after the last entry
        assert shown[-1].endswith((f"+{gone} more", f" · +{gone} more")), (size, shown)
    else:  # in the order of their ranks: what gives way first comes last (legend.FittedLegend._keep)
        assert shown == [t for _, t, _ in sorted(plot.legend.entries, key=lambda e: e[2])]
    visible = plot.plot.mapToScene(plot.plot.viewport().rect()).boundingRect()
    for sample, label in plot.legend.items:  # nothing clipped, each label beside its sample
        assert visible.contains(label.item.sceneBoundingRect()), (size, label.text, visible)
        assert abs(label.item.sceneBoundingRect().center().y() - sample.sceneBoundingRect().center().y()) < 3


def test_the_class_on_top_at_the_flip_is_not_cut_off_by_the_y_axis(qtbot, shown_plot):
    """hopper_alpha.png (walk29): at the flip "bathing cap" overtook and the saved image shows "academic gown"; the y
    axis followed the explained class, the saved image's class and the saved points only, so the line of the class
    on top at the flip ran out of the plot's top edge."""
    plot = shown_plot(1100, 400)
    start = np.array([0.05, 0.04, 0.30, 0.03, 0.02, *REST[:5]], np.float32)
    at_flip = np.array([0.05, 0.09, 0.08, 0.03, 0.55, *REST[:5]], np.float32)  # "class 0" (index 4) far on top
    plot.start(LABELS, [2], "Egyptian cat", start, flip_to=1)  # the final (saved) class: tiger cat
    plot.add_steps([SimpleNamespace(index=1, probabilities=at_flip, flipped=True, phase="search")])
    plot.saved = np.array([0.05, 0.20, 0.09, 0.03, 0.15, *REST[:5]], np.float32)
    plot._legend_key = ()
    plot._redraw()
    assert any(label.text.startswith("top at the flip: class 0") for _, label in plot.legend.items)
    (_, _), (_, top) = plot.plot.getPlotItem().vb.viewRange()
    assert top >= 0.55, top  # the line of the class on top at the flip ends inside the plot


def test_the_legend_is_written_in_the_window_s_font_size(qtbot, shown_plot):
    # a 14 pt system font (QApplication font): the legend stayed at a fixed 9 pt, the smallest text in the window
    app = QApplication.instance()
    before = app.font()
    font = app.font()
    font.setPointSizeF(14)
    app.setFont(font)
    try:
        plot = shown_plot(900, 320)
        _finished_single_run(plot)
        QApplication.processEvents()
        assert plot.legend.opts["labelTextSize"] == "14pt"
        label = plot.legend.items[0][1]
        assert label.item.font().pointSizeF() == 14 or "14pt" in label.item.toHtml()
    finally:
        app.setFont(before)


@pytest.mark.parametrize("size", [(700, 150), (800, 160), (1100, 400)])
def test_the_class_on_top_at_the_flip_keeps_its_name_before_the_saved_image_entry(qtbot, size):
    """A panorama at the default window size: the dashed curve on top at the flip line (Windsor tie) was left out as
    "+1 more" while "saved image (8-bit)", whose points the step axis marks "saved", kept its place."""
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.resize(*size)
    plot.show()
    start = np.array([0.05, 0.04, 0.60, 0.03, 0.02, *REST[:5]], np.float32)
    at_flip = np.array([0.05, 0.09, 0.08, 0.03, 0.101, *REST[:5]], np.float32)  # "class 0" (index 4) on top
    plot.start(LABELS, [2], "Egyptian cat", start, flip_to=1)
    plot.add_steps([SimpleNamespace(index=1, probabilities=at_flip, flipped=True, phase="search")])
    plot.saved = np.array([0.05, 0.098, 0.09, 0.03, 0.08, *REST[:5]], np.float32)
    plot._legend_key = ()
    plot._redraw()
    qtbot.wait(50)
    shown = " | ".join(label.text for _, label in plot.legend.items)
    assert "saved image's class: tiger cat" in shown and "top at the flip: class 0" in shown, (size, shown)
    if "saved image (8-bit)" in shown:  # room for it too
        return
    assert "more" in shown, shown  # it gave way, and the legend counts it
