"""The probability plot (ui/widgets/plot.py): the legend never hides the curves, the flip or the saved point."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from gradflip_desktop.ui.widgets.plot import ProbabilityPlot

pytestmark = pytest.mark.gui


def test_the_legend_lies_beside_the_view_not_over_the_saved_point(qtbot, shown_plot):
    # a one-step flip (moped -> motor scooter at ~40 %): the legend's box, in the view's top-right corner,
    # covered both saved points and the end of the curves
    plot = shown_plot(1000, 240)
    labels = ["moped", "motor scooter", "crash helmet", "disk brake"] + [f"class {i}" for i in range(6)]
    rest = [0.02, 0.01] + [0.02] * 6
    plot.start(labels, [0], "moped", np.array([0.50, 0.33, *rest], np.float32))
    plot.add_steps([SimpleNamespace(index=1, probabilities=np.array([0.38, 0.41, *rest], np.float32), flipped=True,
                                    phase="search")])
    plot.saved = np.array([0.39, 0.41, *rest], np.float32)
    plot._legend_key = ()
    plot._redraw()
    QApplication.processEvents()
    qtbot.wait(50)
    assert len(plot.legend.items) == 5  # explained, flips to, two runners-up, saved image
    vb = plot.plot.getPlotItem().vb
    legend = plot.legend.sceneBoundingRect()
    assert legend.width() > 0 and legend.height() > 0
    for y in plot.saved_values():
        point = vb.mapViewToScene(QPointF(plot.saved_x, y))
        assert vb.sceneBoundingRect().contains(point)  # the saved point is in view ...
        assert not legend.contains(point)  # ... and not under the legend
    assert legend.left() >= vb.sceneBoundingRect().right() - 1  # beside the view (a shared border at most)


def _two_step_run(plot) -> None:
    """A 10-class run that flips at step 2 of 2, with its saved image's point."""
    rest = [0.02] * 8
    plot.start([f"c{i}" for i in range(10)], [0], "c0", np.array([0.40, 0.08, *rest], np.float32))
    plot.add_steps([SimpleNamespace(index=i, probabilities=np.array([0.4 - 0.15 * i, 0.08 + 0.07 * i, *rest], np.float32),
                                    flipped=i == 2, phase="search") for i in (1, 2)])
    plot.saved = np.array([0.12, 0.17, *rest], np.float32)
    plot._redraw()


def test_the_saved_label_keeps_its_room_when_the_plot_narrows(qtbot):
    # beside the legend the view ends at the axis' end, and an axis hides a label that does not fit:
    # "saved" vanished in a 1024 px window
    from gradflip_desktop.ui.widgets.plot import SAVED_LABEL_ROOM_PX

    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.show()
    _two_step_run(plot)
    vb = plot.plot.getPlotItem().vb
    for width in (1000, 650, 420):
        plot.resize(width, 200)
        QApplication.processEvents()
        qtbot.wait(20)
        saved = vb.mapViewToScene(QPointF(plot.saved_x, 0.1)).x()
        assert saved + SAVED_LABEL_ROOM_PX <= vb.sceneBoundingRect().right() + 1, width
        assert vb.viewRange()[0][0] < 0  # step 0 is not on the left edge either


def test_a_run_cancelled_after_its_flip_names_the_class_it_flipped_to(qtbot):
    # Cancel during the key-region phases: the summary says "after the decision flipped: the model now sees
    # tiger cat", the Adjusted caption says tiger cat, the flip line is drawn, but the legend called the
    # class "runner-up: tiger cat"
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    labels = ["Egyptian cat", "tiger cat", "tabby", "lynx"] + [f"class {i}" for i in range(6)]
    rest = [0.01] * 6

    def probs(a, b):
        return np.array([a, b, 0.05, 0.02, *rest], np.float32)

    steps = [SimpleNamespace(index=i, probabilities=probs(0.79 - 0.15 * i, 0.09 + 0.1 * i), flipped=i == 3,
                             phase="search") for i in (1, 2, 3)]
    steps.append(SimpleNamespace(index=4, probabilities=probs(0.6, 0.2), flipped=False, phase="restore"))

    def result(status, final):
        return SimpleNamespace(target=None, labels=labels, explained=[0], explained_name="Egyptian cat",
                               original_probabilities=probs(0.79, 0.09), final=SimpleNamespace(index=final),
                               final_probabilities=probs(0.37, 0.39) if final == 1 else probs(0.5, 0.3),
                               flipped=status == "flipped", steps=steps)

    plot.show_result(result("cancelled", final=1))
    legend = [label.text for _, label in plot.legend.items]
    assert "flips to: tiger cat" in legend and not any(t.startswith("runner-up") for t in legend), legend
    plot.show_result(result("cancelled", final=0))  # cancelled before any flip: the strongest other is a runner-up
    legend = [label.text for _, label in plot.legend.items]
    assert "runner-up: tiger cat" in legend and not any("flips to" in t for t in legend), legend
    # live, before the search has flipped: the strongest other class is a runner-up, not "flips to" yet
    plot.start(labels, [0], "Egyptian cat", probs(0.79, 0.09))
    plot.add_steps(steps[:2])
    legend = [label.text for _, label in plot.legend.items]
    assert "runner-up: tiger cat" in legend and not any("flips to" in t for t in legend), legend
    plot.add_steps(steps[2:3])  # the step that flips
    legend = [label.text for _, label in plot.legend.items]
    assert "flips to: tiger cat" in legend, legend


def test_a_group_run_shows_its_best_single_class_which_crosses_the_class_it_flips_to(qtbot):
    """"any cat": the group's sum stays above the class it flipped to (the flip test compares single
    classes), so the plot also draws the group's best single class, which crosses it at the flip."""
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    labels = ["tabby", "tiger cat", "Egyptian cat", "lynx"] + [f"class {i}" for i in range(6)]
    rest = [0.01] * 6
    plot.start(labels, [0, 1, 2], "cat", np.array([0.30, 0.25, 0.35, 0.04, *rest], np.float32))
    plot.add_steps([SimpleNamespace(index=1, probabilities=np.array([0.17, 0.16, 0.17, 0.44, *rest], np.float32),
                                    flipped=True, phase="search")])
    _, group = plot.explained_curve.getData()
    _, best = plot.best_curve.getData()
    _, flips_to = plot.flip_curve.getData()
    np.testing.assert_allclose(group, [0.90, 0.50], atol=1e-6)  # the group: still above the lynx
    np.testing.assert_allclose(best, [0.35, 0.17], atol=1e-6)
    assert best[0] > flips_to[0] and best[-1] < flips_to[-1] and group[-1] > flips_to[-1]
    names = [item[1].text for item in plot.legend.items]
    assert "explained: any cat" in names and "its best single class" in names
    # a single class has no such curve
    plot.start(labels, [2], "Egyptian cat", np.array([0.30, 0.25, 0.35, 0.04, *rest], np.float32))
    plot.add_steps([SimpleNamespace(index=1, probabilities=np.array([0.17, 0.16, 0.17, 0.44, *rest], np.float32),
                                    flipped=True, phase="search")])
    assert plot.best_curve.getData()[0] is None or len(plot.best_curve.getData()[0]) == 0
    assert "its best single class" not in [item[1].text for item in plot.legend.items]


def test_the_read_out_follows_the_arrow_keys_as_well_as_the_mouse(qtbot, shown_plot):
    # the step read-out was mouse-only: the plot could not take the focus and no key moved the read-out
    from PySide6.QtCore import Qt

    plot = shown_plot(800, 240)
    labels = ["tabby", "tiger cat", "lynx"] + [f"class {i}" for i in range(5)]
    rest = [0.01] * 5
    plot.start(labels, [0], "tabby", np.array([0.70, 0.20, 0.05, *rest], np.float32))
    rows = [(0.55, 0.30), (0.40, 0.45)]
    plot.add_steps([SimpleNamespace(index=i + 1, probabilities=np.array([a, b, 0.05, *rest], np.float32),
                                    flipped=b > a, phase="search") for i, (a, b) in enumerate(rows)])
    plot.saved = np.array([0.41, 0.44, 0.05, *rest], np.float32)
    plot.saved_x = 3.0
    plot._redraw()
    assert plot.plot.focusPolicy() != Qt.FocusPolicy.NoFocus and plot.plot.accessibleName()
    plot.plot.setFocus()
    qtbot.keyClick(plot.plot, Qt.Key.Key_Right)  # the first key starts at the photo
    assert "step 0" in plot.readout.text() and "tabby 70.0 %" in plot.readout.text()
    qtbot.keyClick(plot.plot, Qt.Key.Key_Right)
    assert "step 1" in plot.readout.text() and "tabby 55.0 %" in plot.readout.text()
    qtbot.keyClick(plot.plot, Qt.Key.Key_End)  # the saved image is the last point
    assert "<b>saved</b> (8-bit)" in plot.readout.text() and "tiger cat 44.0 %" in plot.readout.text()
    qtbot.keyClick(plot.plot, Qt.Key.Key_Right)  # stays there
    assert "<b>saved</b> (8-bit)" in plot.readout.text()
    qtbot.keyClick(plot.plot, Qt.Key.Key_Left)
    assert "step 2" in plot.readout.text() and "tabby 40.0 %" in plot.readout.text()
    qtbot.keyClick(plot.plot, Qt.Key.Key_Home)
    assert "step 0" in plot.readout.text()
    assert plot.hover_line.isVisible() and plot.hover_line.value() == 0
    plot.clear()  # a new run starts again at the photo, not at the old run's point
    plot.start(labels, [0], "tabby", np.array([0.60, 0.30, 0.05, *rest], np.float32))
    qtbot.keyClick(plot.plot, Qt.Key.Key_Left)
    assert "step 0" in plot.readout.text() and "tabby 60.0 %" in plot.readout.text()


def test_a_targeted_run_names_the_photos_class_as_the_top_class_not_the_explained_one(qtbot):
    """A targeted run (reach goldfish) read "explained: Egyptian cat" while the Compare panel said "explanations
    of goldfish": the photo's class is what the run pushes past; the chosen class is the target."""
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    labels = ["Egyptian cat", "goldfish", "tabby"] + [f"class {i}" for i in range(5)]
    probs = np.array([0.7, 0.05, 0.1, *[0.03] * 5], np.float32)
    plot.start(labels, [0], "Egyptian cat", probs, 1, True)
    names = [item[1].text for item in plot.legend.items]
    assert "top class: Egyptian cat" in names and "target: goldfish" in names, names
    assert not any(n.startswith("explained:") for n in names)
    plot.start(labels, [0], "Egyptian cat", probs)  # untargeted: the class is what is explained
    assert "explained: Egyptian cat" in [item[1].text for item in plot.legend.items]


def test_the_read_out_says_which_steps_were_rejected_or_evenly_faded(qtbot):
    # a rejected step leaves the image as it was (a flat stretch of curve) and a stalled search's even steps toward
    # the fully detail-removed image have ε 0: both read as plain gradient steps before
    from gradflip_desktop.core.results import Step

    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    rest = [0.02] * 8
    row = lambda a, b: np.array([a, b, *rest], np.float32)  # noqa: E731
    plot.start([f"c{i}" for i in range(10)], [0], "c0", row(0.6, 0.2))
    kw = dict(score=0.0, l2=0.1, linf=0.1)
    plot.add_steps([Step(index=1, epsilon=2e-4, probabilities=row(0.5, 0.3), flipped=False, **kw),
                    Step(index=2, epsilon=4e-4, probabilities=row(0.5, 0.3), flipped=False, accepted=False, **kw),
                    Step(index=3, epsilon=0.0, probabilities=row(0.3, 0.5), flipped=True, **kw)])
    assert "rejected" not in plot.show_readout(1) and "evenly" not in plot.show_readout(1)
    assert "rejected: the score did not fall" in plot.show_readout(2)
    assert "evenly toward the fully detail-removed image" in plot.show_readout(3)
    plot.start([f"c{i}" for i in range(10)], [0], "c0", row(0.6, 0.2))  # a new run forgets them
    plot.add_steps([Step(index=1, epsilon=2e-4, probabilities=row(0.5, 0.3), flipped=False, **kw)])
    assert "rejected" not in plot.show_readout(1)


def test_a_near_tie_at_the_start_is_drawn_although_the_last_step_ranks_others_higher(qtbot):
    # boxer 11.3 % beside bull mastiff 11.1 %: the sentence names the tie, the plot drew hyena, kite and llama only
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    labels = ["boxer", "bull mastiff", "hyena", "kite", "llama"] + [f"c{i}" for i in range(5)]
    start = np.array([0.113, 0.111, 0.05, 0.04, 0.03, *[0.0] * 5], np.float32)
    last = np.array([0.05, 0.02, 0.09, 0.08, 0.07, *[0.0] * 5], np.float32)
    plot.start(labels, [0], "boxer", start)
    plot.add_steps([SimpleNamespace(index=1, probabilities=last, flipped=True, phase="search")])
    assert "bull mastiff" in [plot.label(i) for i in plot.shown if i is not None]
    wide = start.copy()
    wide[1] = 0.05  # no tie: the runners-up are the last step's
    plot.start(labels, [0], "boxer", wide)
    plot.add_steps([SimpleNamespace(index=1, probabilities=last, flipped=True, phase="search")])
    assert "bull mastiff" not in [plot.label(i) for i in plot.shown if i is not None]


def test_the_saved_read_out_says_the_saved_change_is_a_shrunk_copy_of_the_flipping_step(qtbot):
    # astronaut: step 2 read bobsled 2.3 % / barbell 14.6 %, the saved point 9.0 % / 9.2 %, "8-bit, as exported":
    # it read as an 8-bit rounding effect, but the minimise pass kept 0.38 of step 2's change
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    labels = ["bobsled", "barbell", "shield"] + [f"class {i}" for i in range(7)]

    def probs(a, b):
        return np.array([a, b, 0.05, *([0.01] * 7)], np.float32)

    steps = [SimpleNamespace(index=i, probabilities=probs(0.3 - 0.14 * i, 0.04 + 0.05 * i), flipped=i == 2,
                             phase="search") for i in (1, 2)]
    res = SimpleNamespace(target=None, labels=labels, explained=[0], explained_name="bobsled", alpha=0.378,
                          flip_step=2, original_probabilities=probs(0.3, 0.04), final=SimpleNamespace(index=1),
                          final_probabilities=probs(0.09, 0.092), flipped=True, steps=steps)
    plot.show_result(res)
    assert "step 2's change × 0.38" in plot.show_saved_readout()
    plot.show_result(SimpleNamespace(**{**vars(res), "alpha": 1.0}))
    assert "<b>saved</b> (8-bit) ·" in plot.show_saved_readout() and "×" not in plot.show_saved_readout()
    # the textbook change is refined off that line (boundary walk, 8-bit lattice): no "× alpha" to tell
    # ... and shortened to the boundary: the explained class back near the new one (13 % at the flip, 37 % saved)
    # read as if the flip nearly failed
    free = SimpleNamespace(**{**vars(res), "options": SimpleNamespace(style="free")})
    plot.show_result(free)
    text = plot.show_saved_readout()
    assert "<b>saved</b> (8-bit; the smallest change that flips: a near tie) ·" in text and "×" not in text, text
    plot.show_result(SimpleNamespace(**{**vars(free), "flipped": False}))  # not flipped: no near tie, and its saved
    # image's 9.0 % against 2.0 % at its last step is what rounding to 8 bits took back (saved_note.py)
    assert "<b>saved</b> (8-bit; rounding undid part of the change) ·" in plot.show_saved_readout()


def test_a_read_out_that_wraps_does_not_make_the_plot_jump_under_the_mouse(qtbot, shown_plot):
    # Grace Hopper in a 1400 px window: the saved point's read-out ("…; key region alone: 19.7 %") wrapped to two
    # lines, the plot shrank under the mouse and its legend dropped the key region's entry; back on step 1 (one
    # line) it grew again, so the points moved up and down as the mouse went along them
    plot = shown_plot(860, 240)
    labels = ["military uniform", "bulletproof vest", "bow tie", "mortarboard"] + [f"class {i}" for i in range(6)]
    rest = [0.01] * 6
    plot.start(labels, [0], "military uniform", np.array([0.39, 0.08, 0.03, 0.02, *rest], np.float32))
    plot.add_steps([SimpleNamespace(index=1, probabilities=np.array([0.10, 0.11, 0.09, 0.04, *rest], np.float32),
                                    flipped=True, phase="search")])
    plot.saved = np.array([0.10, 0.10, 0.09, 0.04, *rest], np.float32)
    plot.saved_note = "; step 1's change × 0.92"
    plot.key_class, plot.key_p = 3, 0.197
    plot._legend_key = ()
    plot._redraw()
    qtbot.wait(50)
    line = plot.readout.fontMetrics().lineSpacing()

    def text_height():  # the shown text's own height (heightForWidth counts the label's minimum height in)
        room = plot.readout.minimumHeight()
        plot.readout.setMinimumHeight(0)
        height = plot.readout.heightForWidth(plot.readout.width())
        plot.readout.setMinimumHeight(room)
        return height

    plot.show_readout(0)
    qtbot.wait(50)
    assert text_height() < 2 * line  # its text: one line
    wrapped, frame = plot.readout.height(), plot.frame.height()
    assert wrapped >= 2 * line  # but the room of the saved point's two lines, before the mouse gets there
    plot.show_saved_readout()
    qtbot.wait(50)
    assert text_height() >= 2 * line  # two lines or more
    assert plot.readout.height() == wrapped and plot.frame.height() == frame  # nothing moved
    plot.show_readout(1)
    qtbot.wait(50)
    assert plot.readout.height() == wrapped and plot.frame.height() == frame  # nothing moved
    plot.start(labels, [0], "military uniform", np.array([0.39, 0.08, 0.03, 0.02, *rest], np.float32))
    assert plot.readout.minimumHeight() < wrapped  # a new result (no saved point yet) measures again: one line


def test_labels_that_look_like_markup_are_shown_as_written(qtbot, shown_plot):
    """The legend and the read-out under the plot are rich text: a model's label "<unknown>" was an unknown tag
    and vanished ("explained: "), "<b>x</b>" was drawn bold and "R&amp;D" as "R&D". They read as written."""
    labels = ["<unknown>", "<b>x</b>", "R&amp;D", "dog"]
    plot = shown_plot(900, 300)
    plot.start(labels, [0], labels[0], np.array([0.4, 0.3, 0.2, 0.1], np.float32))
    plot.add_steps([SimpleNamespace(index=i, probabilities=np.array([0.4 - 0.1 * i, 0.3 + 0.1 * i, 0.2, 0.1], np.float32),
                                    flipped=i == 2, phase="search") for i in (1, 2)])
    QApplication.processEvents()
    shown = [label.item.toPlainText() for _, label in plot.legend.items]
    assert "explained: <unknown>" in shown and "flips to: <b>x</b>" in shown and "R&amp;D" in shown, shown
    text = plot.show_readout(1)
    assert "&lt;unknown&gt; 30.0 %" in text and "&lt;b&gt;x&lt;/b&gt; 40.0 %" in text and "R&amp;amp;D" in text


def test_the_8_bit_label_a_step_after_the_flip_is_not_struck_through_by_its_line(qtbot):
    """On a blur-style run the "8-bit pass" label (left of its line) lay across the flip line a step before it:
    the labels sit on a box of the plot's background, as the legend does, dark or light."""
    from PySide6.QtGui import QColor

    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    for background in (QColor(255, 255, 255), QColor(30, 30, 30)):
        plot.set_colors(background, QColor(128, 128, 128))
        for line in (plot.flip_line, plot.eight_bit_line):
            fill = line.label.fill.color()
            assert (fill.red(), fill.green(), fill.blue(), fill.alpha()) == (*background.getRgb()[:3], 215)


def test_a_drag_or_the_wheel_over_the_plot_keeps_its_steps_in_view(qtbot, shown_plot):
    # a drag panned the curves out of view and the wheel zoomed into an empty corner; with the plot's menu off,
    # the only way back was pyqtgraph's unlabelled "A" button in the corner (walk29, colorwheel.png)
    from PySide6.QtCore import QPoint, Qt

    plot = shown_plot(900, 240)
    _two_step_run(plot)
    qtbot.wait(100)  # the legend settles and the steps fit the view
    vb = plot.plot.getPlotItem().vb
    before = vb.viewRange()
    centre = plot.plot.mapFromScene(vb.sceneBoundingRect().center())
    qtbot.mousePress(plot.plot.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    for dx in (10, 40, 90):
        qtbot.mouseMove(plot.plot.viewport(), centre + QPoint(dx, dx // 3))
    qtbot.mouseRelease(plot.plot.viewport(), Qt.MouseButton.LeftButton, pos=centre + QPoint(90, 30))
    vb.wheelEvent(SimpleNamespace(delta=lambda: 360, pos=lambda: vb.boundingRect().center(), ignore=lambda: None,
                                  accept=lambda: None))
    qtbot.wait(50)
    assert np.allclose(vb.viewRange(), before)  # neither panned nor zoomed
    assert not plot.plot.getPlotItem().autoBtn.isVisible()  # no unlabelled "A" button to find the curves again


@pytest.mark.parametrize("height", [130, 200, 400])
def test_the_flip_label_does_not_hide_a_targeted_runs_flip_point(qtbot, shown_plot, height):
    # hopper_crop.jpg, target "cowboy hat" (walk29): the target peaks at the flip step, and the y axis put that peak
    # right under the "flip" label's opaque box (92 % up the view): both curves' flip points were hidden
    plot = shown_plot(900, height)
    labels = ["sombrero", "cowboy hat", "bow tie", "mask"] + [f"class {i}" for i in range(6)]
    rows = [[0.13, 0.04], [0.21, 0.10], [0.32, 0.17], [0.25, 0.24], [0.30, 0.31]]
    rest = [0.03, 0.02] + [0.01] * 6
    plot.start(labels, [0], "sombrero", np.array([*rows[0], *rest], np.float32), flip_to=1, targeted=True)
    plot.add_steps([SimpleNamespace(index=i, probabilities=np.array([*rows[i], *rest], np.float32), flipped=i == 4,
                                    phase="search") for i in range(1, 5)])
    plot.saved = np.array([0.31, 0.32, *rest], np.float32)
    plot._redraw()
    qtbot.wait(100)
    vb = plot.plot.getPlotItem().vb
    label = plot.flip_line.label.sceneBoundingRect()
    assert plot.flip_line.isVisible() and label.height() > 0
    for y in rows[4]:  # each curve's point at the flip step lies below the label's box, in view
        point = vb.mapViewToScene(QPointF(4, y))
        assert vb.sceneBoundingRect().contains(point)
        assert point.y() > label.bottom(), (y, point, label)


@pytest.mark.parametrize("height", [112, 130, 200])
def test_the_8_bit_label_leaves_the_flip_label_readable_on_a_short_plot(qtbot, shown_plot, height):
    # coffee.png, blur style, a 1024×700 window with Compare Methods and RISE (walk29): the labels sat 92 % and
    # 80 % up a 78 px view, 6 px apart, and the "8-bit pass" box, a step right of the flip, covered "flip"
    from gradflip_desktop.ui.widgets.step_marks import ROW_OVERLAP_PX, TOP_PAD_PX

    plot = shown_plot(640, height)
    rest = [0.02] * 8
    rows = [[0.88 - 0.07 * i, 0.02 + 0.012 * i] for i in range(12)]  # flips at step 10, the 8-bit pass at 11
    plot.start([f"c{i}" for i in range(10)], [0], "c0", np.array([*rows[0], *rest], np.float32))
    plot.add_steps([SimpleNamespace(index=i, probabilities=np.array([*rows[i], *rest], np.float32), flipped=i >= 10,
                                    phase="search" if i < 11 else "eight_bit") for i in range(1, 12)])
    plot.saved = np.array([0.1, 0.15, *rest], np.float32)
    plot._redraw()
    qtbot.wait(100)
    view = plot.plot.getPlotItem().vb.sceneBoundingRect()
    flip, eight = (line.label.sceneBoundingRect() for line in (plot.flip_line, plot.eight_bit_line))
    assert flip.right() > eight.left() + 10  # the boxes share columns: only rows keep them apart
    assert plot.eight_bit_line.label.isVisible()
    assert eight.top() >= flip.bottom() - ROW_OVERLAP_PX - 0.5 and eight.bottom() <= view.bottom() + 1, (flip, eight, view)
    assert plot.flip_line.label.isVisible() and flip.top() >= view.top() - TOP_PAD_PX - 1, (flip, view)  # "flip" whole
    # and the flip line, which the "8-bit pass" box lies across, runs under that box, not through its text
    from PySide6.QtGui import QColor

    from gradflip_desktop.ui.widgets.step_marks import MARK_COLOR

    plot.set_colors(QColor(255, 255, 255), QColor(60, 60, 60))  # the window's palette: the boxes are filled
    qtbot.wait(50)
    image = plot.plot.grab().toImage()
    ratio = image.devicePixelRatio()
    x = plot.plot.mapFromScene(plot.flip_line.scenePos()).x()
    box = plot.plot.mapFromScene(eight).boundingRect().adjusted(0, 3, 0, -3)
    mark = QColor(MARK_COLOR)

    def orange(px, py):
        c = image.pixelColor(int(px * ratio), int(py * ratio))
        return abs(c.red() - mark.red()) + abs(c.green() - mark.green()) + abs(c.blue() - mark.blue()) < 60

    assert box.left() < x < box.right()
    assert not any(orange(px, py) for px in range(int(x) - 1, int(x) + 2) for py in range(box.top(), box.bottom()))
    low = int(plot.plot.mapFromScene(view.bottomLeft()).y()) - 5  # below the labels the line shows (the check sees it)
    assert any(orange(px, py) for px in range(int(x) - 1, int(x) + 2) for py in range(low - 12, low))


def test_the_8_bit_label_yields_to_the_flip_label_when_a_second_row_does_not_fit(qtbot):
    from gradflip_desktop.ui.widgets.step_marks import place_mark_labels

    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    below = place_mark_labels(plot.flip_line, plot.eight_bit_line, 30.0)
    assert not plot.eight_bit_line.label.isVisibleTo(plot.eight_bit_line) and 0 < below < 1
    place_mark_labels(plot.flip_line, plot.eight_bit_line, 78.0)
    assert plot.eight_bit_line.label.isVisibleTo(plot.eight_bit_line)


def test_a_rejected_steps_longer_read_out_has_its_room_from_the_start(qtbot, shown_plot):
    """A rejected step's read-out carries its note ("rejected: …") and wrapped to two lines: the plot bounced at
    every rejected step the mouse passed (the room was measured for the saved point and the last step only)."""
    plot = shown_plot(860, 240)
    rest = [0.01] * 6
    labels = ["military uniform", "bulletproof vest", "bow tie", "mortarboard"] + [f"class {i}" for i in range(6)]
    plot.start(labels, [0], "military uniform", np.array([0.39, 0.08, 0.03, 0.02, *rest], np.float32))
    note = "rejected: the score did not fall, so the image stays and ε halves; " * 2
    plot.add_steps([SimpleNamespace(index=i, probabilities=np.array([0.39 - 0.05 * i, 0.08 + 0.01 * i, 0.03, 0.02, *rest],
                                                                    np.float32), flipped=False, phase="search",
                                    note=(lambda: note) if i == 2 else (lambda: "")) for i in (1, 2, 3, 4)])
    qtbot.wait(50)
    frame = plot.frame.height()
    for row in (1, 2, 3, 4, 2, 0):
        text = plot.show_readout(row)
        qtbot.wait(30)
        assert plot.frame.height() == frame, (row, text)
    assert "rejected" in plot.show_readout(2)
