"""A result that changed nothing (nothing to flip, no step taken) has no importance map: the Difference row says so in
a short text instead of the colour bar (ui/widgets/views.py, ui/controllers/difference.py)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import RUN_TIMEOUT_MS, make_tiny
from model_helpers import make_classifier

from gradflip_desktop.core.viz.difference import MAGNITUDE, SIGNED
from gradflip_desktop.ui.settings import RunSettings

pytestmark = pytest.mark.gui


def _use(qtbot, w, clf):
    from gradflip_desktop.ui.controllers.model_session import ModelInfo

    w.models.session.classifier = clf  # no engine task holds it between runs
    w.models._on_loaded(ModelInfo(clf.name, list(clf.labels), dict(clf.groups), ["cpu"], "cpu", {}, key=clf.name))
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(w.photo))


def _explain(qtbot, w, settings):
    w.controls.set_settings(settings)
    with qtbot.waitSignals([w.run_finished, w.difference_shown], timeout=RUN_TIMEOUT_MS):
        w.explain()
    return w.result


def test_nothing_to_flip_shows_no_colour_bar_but_says_there_is_no_map(qtbot, tiny_window):
    # the model already sees the chosen class: no step, an all-zero map, and the bar read 0–255 "smoothed magnitude
    # (8-bit levels)" with ticks 50 … 200 as if there were a map to read
    w, views = tiny_window, tiny_window.views
    _use(qtbot, w, make_tiny(seed=1))
    top = w.models.classification.top[0].label
    result = _explain(qtbot, w, RunSettings(style="free", max_steps=30, target_mode="class", target_class=top))
    assert str(result.status) == "nothing_to_flip"
    assert views.colorbar_view.isHidden() and views.no_map.isVisible()
    assert "No map: nothing to flip" in views.no_map.text()
    assert views.no_map.height() == views.colorbar_view.height() == 52  # the row keeps its height: the views stay
    with qtbot.waitSignal(w.difference_shown, timeout=RUN_TIMEOUT_MS):
        views.set_mode(SIGNED)  # its ±scale of a zero change is no scale either
    assert views.colorbar_view.isHidden() and views.no_map.isVisible()
    with qtbot.waitSignal(w.difference_shown, timeout=RUN_TIMEOUT_MS):
        views.set_mode(MAGNITUDE)
    # a run that changes the photo: its map and its colour bar again
    result = _explain(qtbot, w, RunSettings(style="free", max_steps=60))
    assert result.flipped
    assert views.colorbar_view.isVisible() and views.no_map.isHidden()


def test_a_model_that_ignores_the_image_shows_no_colour_bar(qtbot, tiny_window):
    """Scores that do not depend on the image: no step is taken, so there is no map, in light and in dark."""
    from PySide6.QtGui import QColor, QPalette

    w, views = tiny_window, tiny_window.views
    _use(qtbot, w, make_classifier([2.0, 0.5, 0.1]))
    result = _explain(qtbot, w, RunSettings(style="free", max_steps=30))
    assert not result.steps and not result.flipped
    assert views.colorbar_view.isHidden() and "No map: no step was taken" in views.no_map.text()
    dark = QPalette(w.palette())
    for role, color in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.WindowText, "#e8eaed")):
        dark.setColor(role, QColor(color))
    w.setPalette(dark)
    image = views.no_map.grab().toImage()
    pixels = np.array([[image.pixelColor(x, y).lightness() for x in range(image.width())]
                       for y in range(0, image.height(), 2)])
    assert pixels.max() > 150 and np.median(pixels) < 80  # light words on the dark window, not dark on dark
    assert views.colorbar_view.isHidden()
