"""One name for what the Difference panel's magnitude mode shows: its box entry, its colour bar and the exported
figure's heading of that map (core/viz/difference.py ``map_name``, ui/widgets/views.py, ui/controllers/difference.py,
core/report.py). The box said "Smoothed magnitude" over a bar "importance (%)" (or "smoothed |Δ| (8-bit levels)"
during the run) and the figure "Where it mattered"."""

from __future__ import annotations

import pytest
from helpers import RUN_TIMEOUT_MS, make_image_file, make_tiny
from PIL import ImageDraw

from gradflip_desktop.core.figure import render_figure
from gradflip_desktop.core.viz.difference import DIFF_MODES, MAGNITUDE, SIGNED
from gradflip_desktop.ui.controllers.difference import LIVE_DIFF_INTERVAL_S
from gradflip_desktop.ui.settings import RunSettings

pytestmark = pytest.mark.gui


@pytest.fixture
def tiny_window(qtbot, settings, tmp_path):
    from gradflip_desktop.ui.main_window import MainWindow

    from gradflip_desktop.ui.controllers.model_session import ModelInfo

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    clf = w.models.session.classifier = make_tiny(seed=1)  # before any engine task: no other thread holds it
    w.models._on_loaded(ModelInfo(clf.name, list(clf.labels), dict(clf.groups), ["cpu"], "cpu", {}, key=clf.name))
    w.resize(1100, 800)
    w.show()
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(make_image_file(tmp_path / "photo.png", 96, 64)))
    yield w
    w.close()


def _headings(monkeypatch, result) -> list[str]:
    drawn: list[str] = []
    real = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text", lambda self, xy, t, *a, **k: (drawn.append(t), real(self, xy, t, *a, **k))[1])
    render_figure(result)
    monkeypatch.setattr(ImageDraw.ImageDraw, "text", real)
    return drawn


def _box_and_bar(views) -> tuple[str, str]:
    box = views.mode_box.itemText(views.mode_box.findData(MAGNITUDE))
    return box, views.bar_label.text  # the whole label (the bar shows it elided where it is narrower)


@pytest.mark.parametrize("style, name, unit", [
    ("region", "Importance map", "%"),  # the default style: the key-region search's importance map
    ("free", "Smoothed magnitude", "8-bit levels"),  # the textbook change: its smoothed |change|
    ("blur", "Blur amount", "%"),
])
def test_the_box_the_colour_bar_and_the_figure_name_the_map_alike(qtbot, tiny_window, monkeypatch, style, name, unit):
    w, views = tiny_window, tiny_window.views
    assert views.mode == MAGNITUDE
    during, after, done = [], [], []  # (box entry, bar label) of every map drawn during the run, and of the result's
    w.run_finished.connect(lambda _: done.append(1))  # the result is shown: every map drawn from here on is its own
    w.difference_shown.connect(lambda _: (after if done else during).append(_box_and_bar(views)))
    w.controls.set_settings(RunSettings(style=style, max_steps=60))
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS):
        w.explain()
    qtbot.waitUntil(lambda: bool(after), timeout=RUN_TIMEOUT_MS)
    result = w.result
    assert result.steps  # a map to name (the blur style need not flip within 60 steps)
    assert after[0] == _box_and_bar(views) == (name, f"{name.lower()} ({unit})")
    headings = _headings(monkeypatch, result)
    if style == "free":  # the window's panel is titled "Difference" over it, and so is the figure's; its caption names it
        assert views.difference.title.text() == "<b>Difference</b>" and "Difference" in headings
        assert any(h.startswith(f"{name.lower()}: bright = changed most") for h in headings) and name not in headings
    else:
        assert name in headings  # the figure heads the same map with the same name
    # during the run the map is the change so far: the box said so with every map drawn, as its bar did
    assert set(during) <= {("Smoothed magnitude", "smoothed magnitude (8-bit levels)")}
    # a live map drawn as the run draws it (on a loaded machine a run can end before its first live map is drawn:
    # the result's replaces the pending one, so the run above need not draw any) renames the result's entry
    pixels = w.image.pixels
    qtbot.wait(int(LIVE_DIFF_INTERVAL_S * 1000) + 50)  # live maps are drawn at most this often
    with qtbot.waitSignal(w.difference_shown, timeout=RUN_TIMEOUT_MS):
        w.difference.show_live(pixels, (pixels * 0.5).astype(pixels.dtype))
    assert _box_and_bar(views) == ("Smoothed magnitude", "smoothed magnitude (8-bit levels)")
    with qtbot.waitSignal(w.difference_shown, timeout=RUN_TIMEOUT_MS):
        w.difference.set_result(result)  # the result's map again
    assert _box_and_bar(views) == (name, f"{name.lower()} ({unit})")
    # another mode leaves the entry as the result's map; a new photo gives the entry its own name back
    with qtbot.waitSignal(w.difference_shown, timeout=RUN_TIMEOUT_MS):
        views.set_mode(SIGNED)
    assert _box_and_bar(views)[0] == name
    w.difference.clear()
    assert _box_and_bar(views)[0] == DIFF_MODES[MAGNITUDE] == "Smoothed magnitude"


def test_a_run_cancelled_past_its_flip_names_its_map_unfinished(monkeypatch):
    """Cancelled while the map was being made, the sentence said "the explanation was not finished" and Compare "the
    map is not checked", while the box, the colour bar and the figure called it the "Importance map"."""
    from helpers import tiny_image_array

    from gradflip_desktop.core import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.core.viz.difference import DiffRequest, map_name, render_difference

    calls: list[int] = []
    result = run(make_tiny(), tiny_image_array(), ExplainOptions(), should_stop=lambda: calls.append(1) or len(calls) > 20)
    assert result.status.value == "cancelled" and result.flip_step is not None and result.region_map is not None
    assert map_name(result) == "unfinished importance map"
    assert "Unfinished importance map" in _headings(monkeypatch, result)
    bar = render_difference(DiffRequest(MAGNITUDE, result.original_pixels, result.delta,
                                        importance=result.region_map, name=map_name(result))).colorbar
    assert bar.label == "unfinished importance map (%)"
    done = run(make_tiny(), tiny_image_array(), ExplainOptions())
    assert map_name(done) == "importance map"
