"""The key region alone can give another class than the whole change (chelsea.png: the whole photo flips to tiger
cat, the key region alone to abaya). The sentence, the key-region line and the figure title name abaya; the plot
drew no curve for it, so the window told two stories."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from gradflip_desktop.ui.widgets.plot import ProbabilityPlot

pytestmark = pytest.mark.gui

LABELS = ["Egyptian cat", "tiger cat", "tabby", "lynx", "abaya"] + [f"class {i}" for i in range(5)]


def probs(cat, tiger, abaya=0.004):
    return np.array([cat, tiger, 0.07, 0.01, abaya, *[0.01] * 5], np.float32)


def result(key_class: int | None):
    steps = [SimpleNamespace(index=i, probabilities=probs(0.79 - 0.15 * i, 0.09 + 0.1 * i, 0.004 + 0.002 * i),
                             flipped=i == 3, phase="search") for i in (1, 2, 3)]
    key = None if key_class is None else SimpleNamespace(
        flips=True, prediction=SimpleNamespace(index=key_class, label=LABELS[key_class], probability=0.102))
    return SimpleNamespace(target=None, labels=LABELS, explained=[0], explained_name="Egyptian cat",
                           original_probabilities=probs(0.79, 0.09), final=SimpleNamespace(index=1),
                           final_probabilities=probs(0.38, 0.39, 0.01), flipped=True, steps=steps, key_region=key)


def test_the_key_regions_own_class_is_drawn_and_named(qtbot, shown_plot):
    plot = shown_plot(900, 300)
    plot.show_result(result(key_class=4))
    assert 4 in plot.shown, [plot.label(i) for i in plot.shown if i is not None]
    curve = plot.runner_curves[plot.shown.index(4) - 1]
    np.testing.assert_allclose(curve.getData()[1], [0.004, 0.006, 0.008, 0.010], atol=1e-6)
    legend = [label.text for _, label in plot.legend.items]
    assert "key region alone: abaya" in legend, legend
    # a star at the saved point: the key region alone's probability (the whole change's curve stays near 0)
    sx, sy = plot.key_point.getData()
    assert list(sx) == [plot.saved_x] and sy[0] == pytest.approx(0.102)
    # its legend sample is the star on the class's dashed curve (the curve had no entry of its own)
    pen, curve_pen = pg.mkPen(plot.key_point.opts["pen"]), curve.opts["pen"]
    assert pen.style() == Qt.PenStyle.DashLine and pen.color() == pg.mkPen(curve_pen).color()
    # the read-out: abaya over the whole change, then the key region alone's number (the key-region line's 10.2 %)
    assert "abaya 1.0 %; key region alone: 10.2 %" in plot.show_saved_readout()
    assert "key region alone" not in plot.show_readout(3)
    # no key region: nothing extra
    plot.show_result(result(key_class=None))
    assert 4 not in plot.shown and not any("key region" in label.text for _, label in plot.legend.items)
    assert len(plot.key_point.getData()[0] or []) == 0
    assert "key region alone" not in plot.show_saved_readout()


def test_a_key_region_of_the_whole_changes_class_is_starred_on_its_curve(qtbot, shown_plot):
    """Coffee: the whole photo and the key region alone both flip to eggnog, the sentence says "into eggnog (26 %;
    espresso now 21 %)", and the plot drew neither number (the star was drawn only for another class)."""
    plot = shown_plot(900, 300)
    res = result(key_class=1)
    res.key_region.explained_probability = 0.2098
    plot.show_result(res)
    assert plot.shown[0] == 1 and 4 not in plot.shown  # the flip's curve: no runner-up added for it
    sx, sy = plot.key_point.getData()
    assert list(sx) == [plot.saved_x] and sy[0] == pytest.approx(0.102)
    from gradflip_desktop.ui.widgets.plot import FLIP_COLOR

    assert plot.key_point.opts["symbolBrush"] == FLIP_COLOR
    assert pg.mkPen(plot.key_point.opts["pen"]).color() == pg.mkPen(plot.flip_curve.opts["pen"]).color()
    legend = [label.text for _, label in plot.legend.items]
    assert "flips to: tiger cat" in legend and "key region alone: tiger cat" in legend, legend
    assert plot.top >= 0.102
    saved = plot.show_saved_readout()  # both numbers of the key-region line, each beside its class
    assert "Egyptian cat 38.0 %; key region alone: 21.0 %" in saved, saved
    assert "tiger cat 39.0 %; key region alone: 10.2 %" in saved, saved
    assert "key region alone" not in plot.show_readout(3)


def test_a_key_region_of_the_class_on_top_at_the_flip_keeps_its_top_at_the_flip_entry(qtbot, shown_plot):
    """The flip step's top class (tiger cat) is not the saved image's (tabby), and the key region alone gives tiger
    cat: its one legend entry said "key region alone: tiger cat" and the legend no longer said which class was on
    top at the flip. One entry says both."""
    plot = shown_plot(900, 300)
    res = result(key_class=1)
    res.final, res.final_probabilities = SimpleNamespace(index=2), np.array([0.3, 0.2, 0.4, *[0.01] * 7], np.float32)
    plot.show_result(res)
    legend = [label.text for _, label in plot.legend.items]
    assert "saved image's class: tabby" in legend, legend
    assert "top at the flip, key region alone: tiger cat" in legend, legend
    assert not any(t in ("tiger cat", "top at the flip: tiger cat", "key region alone: tiger cat") for t in legend)
    sx, sy = plot.key_point.getData()  # the star at the saved point, in the flip's class's colour
    assert list(sx) == [plot.saved_x] and sy[0] == pytest.approx(0.102)
    # a long class name is cut, the words before it are kept
    res.labels = [*LABELS[:1], "tiger cat with a very long name from a model of its own", *LABELS[2:]]
    plot.clear(res.labels)
    plot.show_result(res)
    entry = next(label.text for _, label in plot.legend.items if label.text.startswith("top at the flip"))
    assert entry.startswith("top at the flip, key region alone: tiger cat") and entry.endswith("…") and len(entry) < 52


def test_the_key_region_entry_gives_an_imagenet_class_name_whole(qtbot, shown_plot):
    """The sample cat's key region alone gives prairie chicken: the legend said "key region alone: prairie chick…"
    in a 1600 px window (the name had 14 letters after the words before it, so 121 of ImageNet's 1000 names were
    cut, "German shepherd" too), while the sentence and the key-region line named it whole."""
    plot = shown_plot(1200, 300)
    res = result(key_class=4)
    res.labels = [*LABELS[:4], "prairie chicken", *LABELS[5:]]
    plot.clear(res.labels)
    plot.show_result(res)
    legend = [label.text for _, label in plot.legend.items]
    assert "key region alone: prairie chicken" in legend, legend


def test_a_short_plot_keeps_the_key_regions_class_which_the_sentence_names_first(qtbot):
    """page.png with Compare Methods on (walk29): the sentence began "turns pill bottle (67 %) into menu (17.3 %)",
    the plot drew menu's star at saved, and the cramped legend kept "saved image (8-bit)" and hid menu under
    "+2 more"."""
    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 120)  # a short plot, as with Compare Methods on: three legend lines
    plot.show()
    plot.show_result(result(key_class=4))
    qtbot.wait(100)
    legend = [label.text for _, label in plot.legend.items]
    assert any(t.startswith("key region alone: abaya") for t in legend), legend
    assert len(legend) < 5  # still cramped: something else gave way (the tooltip names it)



def test_a_run_that_did_not_flip_says_when_rounding_undid_part_of_its_change(qtbot, shown_plot):
    """Budget 1 on coffee: espresso 59.8 % at step 1 and 76.8 % at *saved*, with nothing said there (a change of at
    most 2/255: rounding to 8 bits undid most of it); flipped runs had their notes."""
    plot = shown_plot(900, 300)
    res = result(key_class=None)
    res.flipped, res.final = False, SimpleNamespace(index=0)
    res.steps = res.steps[:1]  # step 1: the class at 64 %
    res.final_probabilities = probs(0.768, 0.09)
    plot.show_result(res)
    assert plot.show_saved_readout().startswith("<b>saved</b> (8-bit; rounding undid part of the change)")
    res.final_probabilities = probs(0.645, 0.09)  # rounding moved it by half a point: nothing to say
    plot.show_result(res)
    assert plot.show_saved_readout().startswith("<b>saved</b> (8-bit)")
    res.flipped, res.final_probabilities = True, probs(0.768, 0.09)  # a flipped run keeps its own notes
    plot.show_result(res)
    assert "rounding undid" not in plot.show_saved_readout()
