"""The Compare panel's RISE box (ui/widgets/compare.py, controllers/difference.py): RISE's map beside the other
three, measured in the same check, remembered, and not made twice for one result."""

from __future__ import annotations

import numpy as np
from helpers import RUN_TIMEOUT_MS

from gradflip_desktop.ui.settings import RunSettings


def _checked(qtbot, window, action):
    with qtbot.waitSignal(window.faithfulness_shown, timeout=RUN_TIMEOUT_MS) as got:
        action()
    return got.args[0]


def test_rise_is_shown_and_measured_beside_the_other_maps_when_ticked(qtbot, window, monkeypatch):
    from gradflip_desktop.core import attributions

    monkeypatch.setattr(attributions, "RISE_MASKS", 48)  # the published 1,000 take half a minute: same code, fewer masks
    made = []
    real = attributions.rise_steps
    monkeypatch.setattr(attributions, "rise_steps", lambda *a, **k: made.append(1) or (yield from real(*a, **k)))
    window.controls.set_settings(RunSettings(style="free"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as done:
        window.explain()
    result = done.args[0]
    box, panel = window.compare.rise_box, window.compare.panel("RISE")
    plain = _checked(qtbot, window, window.compare_action.trigger)
    assert not box.isChecked() and panel.isHidden() and "RISE" not in [c.name for c in plain.check.curves]
    assert not made

    comparison = _checked(qtbot, window, lambda: box.setChecked(True))
    assert panel.isVisible() and str(window.settings.value("view/compare_rise")).lower() == "true"
    assert [c.name for c in comparison.check.curves] == ["GradFlip", "Grad-CAM", "Gradient saliency", "RISE"]
    assert made == [1]
    rise = next(p for p in comparison.panels if p.title == "RISE")
    made.clear()  # rise_map below goes through rise_steps too
    expected = attributions.rise_map(window.models.classifier, result.original_pixels, list(result.explained), masks=48)
    np.testing.assert_allclose(rise.values, expected, rtol=1e-5, atol=1e-6)
    # shown from its lowest value up: scaled from 0, its values (probabilities near the class's mean) were one colour
    from gradflip_desktop.core.viz.display import display_uint8
    from gradflip_desktop.core.viz.maps import heat_overlay

    assert np.array_equal(rise.rgb, display_uint8(heat_overlay(result.original_pixels, rise.values - rise.values.min())))
    assert panel.image().shape == result.original_pixels.shape and "48 random 7×7 masks" in panel.caption.text()
    assert "Four explanations" in window.compare.heading.text()
    shown = window.compare.check.text()
    assert "RISE" in shown and f"{comparison.check.curve('RISE').deletion_auc:.3f}" in shown
    made.clear()

    # unticked: its panel goes, the check is of three maps again; ticked again: the same map, not made twice
    again = _checked(qtbot, window, lambda: box.setChecked(False))
    assert panel.isHidden() and [c.name for c in again.check.curves] == ["GradFlip", "Grad-CAM", "Gradient saliency"]
    assert "Three explanations" in window.compare.heading.text()
    back = _checked(qtbot, window, lambda: box.setChecked(True))
    assert made == [] and back.check.curve("RISE").deletion_auc == comparison.check.curve("RISE").deletion_auc


def test_the_rise_box_is_remembered(qtbot, settings):
    from helpers import STARTUP_TIMEOUT_MS

    from gradflip_desktop.ui.main_window import MainWindow

    settings.setValue("view/compare_rise", True)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    assert w.compare.rise_box.isChecked() and not w.compare.panel("RISE").isHidden()
    w.close()
    assert STARTUP_TIMEOUT_MS > 0
