"""The Compare panel's RISE box (ui/widgets/compare.py, controllers/difference.py): RISE's map beside the other
three, measured in the same check, remembered, and not made twice for one result."""

from __future__ import annotations

import numpy as np
from helpers import RUN_TIMEOUT_MS

from gradflip_desktop.ui.settings import RunSettings


STOPPABLE = 240  # RISE's masks where a test stops it: its first progress caption comes at 112 (7 calls of 16 masks),
# and 128 masks (~3 s) are left to stop it in; 400 made each test that lets it finish 4 s longer


def _hold_rise(monkeypatch):
    """RISE of STOPPABLE masks whose first run, once past 100 masks, waits until it is stopped (30 s at most): a test
    stops it mid-way for sure, not within the ~3 s of masks left, which a loaded machine's GUI thread could miss (its
    later captions, or the whole map, arrived in one pass of events). Wraps ``rise_steps`` as the test left it."""
    import time

    from gradflip_desktop.core import attributions

    monkeypatch.setattr(attributions, "RISE_MASKS", STOPPABLE)
    inner, held = attributions.rise_steps, []

    def steps(*a, **k):
        stop, gen = k.get("stop"), inner(*a, **k)
        try:
            while True:
                step = next(gen)
                yield step
                if not held and stop is not None and step[0] >= 100:
                    held.append(step[0])
                    end = time.monotonic() + 30
                    while not stop() and time.monotonic() < end:
                        time.sleep(0.01)
        except StopIteration as end_:
            return end_.value

    monkeypatch.setattr(attributions, "rise_steps", steps)
    return held


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
    assert rise.values.min() > 0  # a squashing model's map: all of it seen
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
    from gradflip_desktop.ui.main_window import MainWindow

    for saved in (True, False):
        settings.setValue("view/compare_rise", saved)
        w = MainWindow(settings=settings)
        qtbot.addWidget(w)
        assert w.compare.rise_box.isChecked() is saved and w.compare.panel("RISE").isHidden() is not saved
        w.close()


def _rise_caption(comparison) -> str:
    return next(p.caption for p in comparison.panels if p.title == "RISE")


def _explain(qtbot, window, settings):
    window.controls.set_settings(settings)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as done:
        window.explain()
    return done.args[0]


def _rise_under_way(qtbot, window):
    """Show the panel with RISE ticked; back when its caption counts masks."""
    window.compare.set_rise_shown(True)
    with qtbot.waitSignal(window.comparison_shown, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda c: _rise_caption(c).startswith("computing: ")
                          and "masks" in _rise_caption(c) and "its masks" not in _rise_caption(c)):
        window.compare_action.trigger()


def test_a_targeted_runs_rise_panel_does_not_say_computing_forever(qtbot, window):
    from gradflip_desktop.ui.settings import TARGET_CLASS

    window.compare.set_rise_shown(True)
    _explain(qtbot, window, RunSettings(style="free", target_mode=TARGET_CLASS, target_class="tabby"))
    _checked(qtbot, window, window.compare_action.trigger)
    caption = window.compare.panel("RISE").caption.text()
    assert not caption.startswith("computing") and "not checked" in caption
    assert "Four explanations" not in window.compare.heading.text()  # RISE has no map here: three are shown


def test_a_key_set_answer_mid_rise_lets_rise_go_on_not_start_again(qtbot, window, monkeypatch):
    from gradflip_desktop.core import attributions
    from gradflip_desktop.core.viz.difference import KEY_PIXELS

    firsts = []  # the first count each RISE run reports
    real = attributions.rise_steps

    def steps(*a, **k):
        gen, first = real(*a, **k), True
        try:
            while True:
                step = next(gen)
                if first:
                    firsts.append(step[0])
                    first = False
                yield step
        except StopIteration as end:
            return end.value

    monkeypatch.setattr(attributions, "rise_steps", steps)
    _hold_rise(monkeypatch)
    result = _explain(qtbot, window, RunSettings(style="free"))
    _rise_under_way(qtbot, window)
    # its caption says how to stop it and that the masks so far are kept (nothing did)
    caption = window.compare.panel("RISE").caption.text()
    assert caption.startswith("computing: ") and "Esc or unticking “RISE too” stops it: the masks so far are kept" in caption
    tip = window.compare.panel("RISE").caption.toolTip()  # whole, where a narrow panel cuts the caption
    assert tip.endswith("Esc or unticking “RISE too” stops it: the masks so far are kept, and ticking it again goes on from them")
    window.views.set_mode(KEY_PIXELS)
    with qtbot.waitSignal(window.key_answer_shown, timeout=30_000):
        window.views.set_key_count(max(1, result.key_pixels.count // 2))
    comparison = _checked(qtbot, window, lambda: None)
    assert len(firsts) == 2 and firsts[1] > 100, f"RISE started again from mask 0: {firsts}"
    assert comparison.check.curve("RISE") is not None


def test_a_model_load_mid_rise_does_not_wait_for_rise(qtbot, window, monkeypatch):
    import time

    from gradflip_desktop.core import attributions

    monkeypatch.setattr(attributions, "RISE_MASKS", 5_000)  # minutes: far longer than a model load
    _explain(qtbot, window, RunSettings(style="free"))
    _rise_under_way(qtbot, window)
    t = time.perf_counter()
    with qtbot.waitSignal(window.model_ready, timeout=60_000):  # a device change or another model: the same queue
        window.models.load(None)
    waited = time.perf_counter() - t
    # the comparison goes on after the load (the same model: the result stays)
    with qtbot.waitSignal(window.comparison_shown, timeout=RUN_TIMEOUT_MS):
        pass
    window.set_compare_visible(False)
    assert waited < 20, f"the model load waited {waited:.0f} s behind RISE"


def test_esc_stops_rise_as_unticking_its_box_does_and_ticking_again_goes_on(qtbot, window, monkeypatch):
    """Esc (Cancel) stopped runs and folder runs only: RISE held the engine for a minute with Cancel greyed out."""
    from gradflip_desktop.core import attributions

    starts = []
    real = attributions.rise_steps

    def steps(*a, **k):
        gen = real(*a, **k)
        first = next(gen)
        starts.append(first[0])
        yield first
        return (yield from gen)

    monkeypatch.setattr(attributions, "rise_steps", steps)
    _hold_rise(monkeypatch)
    _explain(qtbot, window, RunSettings(style="free"))
    assert not window.runs.running and not window.folders.running
    _rise_under_way(qtbot, window)
    assert window.cancel_action.isEnabled()  # greyed out before: nothing to cancel but RISE
    window.cancel_action.trigger()
    assert not window.compare.rise_box.isChecked()  # stopped as its box stops it
    qtbot.waitUntil(lambda: not window.cancel_action.isEnabled(), timeout=30_000)
    window.compare.rise_box.setChecked(True)
    comparison = _checked(qtbot, window, lambda: None)
    assert len(starts) == 2 and starts[1] > 100, f"RISE started again from mask 0: {starts}"
    assert comparison.check.curve("RISE") is not None
    assert not window.cancel_action.isEnabled()  # RISE done: Esc has nothing to stop


def test_the_panels_cancel_button_stops_rise_as_esc_does(qtbot, window, monkeypatch):
    """While RISE computed, the Cancel button under Explain was greyed out (only Esc and the toolbar stopped it):
    with the mouse there was no way to stop a minute-long job."""
    _hold_rise(monkeypatch)
    _explain(qtbot, window, RunSettings(style="free"))
    button = window.controls.cancel_button
    assert not button.isEnabled()  # nothing to stop
    _rise_under_way(qtbot, window)
    assert button.isEnabled()
    button.click()
    assert not window.compare.rise_box.isChecked()  # stopped as Esc stops it
    qtbot.waitUntil(lambda: not button.isEnabled(), timeout=30_000)


def test_stopping_rise_says_so_in_the_status_bar(qtbot, window, monkeypatch):
    """Esc took RISE's panel away and left the status bar at "Done: …": nothing said that RISE had stopped, how far
    it got, or that ticking the box again goes on."""
    _hold_rise(monkeypatch)
    _explain(qtbot, window, RunSettings(style="free"))
    _rise_under_way(qtbot, window)
    window.cancel_action.trigger()
    status = window.status_label.text()
    assert status.startswith("RISE stopped after ") and f"of {STOPPABLE} masks" in status and "goes on from them" in status
    done = int(status.split("after ")[1].split(" of")[0].replace(",", ""))
    assert 100 <= done < STOPPABLE, status
    qtbot.waitUntil(lambda: not window.cancel_action.isEnabled(), timeout=30_000)
    window.compare.rise_box.setChecked(True)  # ticked and unticked again once RISE is made: nothing was stopped
    _checked(qtbot, window, lambda: None)
    window.set_status("Done.")
    window.compare.rise_box.setChecked(False)
    assert window.status_label.text() == "Done."


def test_stopping_rise_does_not_measure_the_other_maps_again(qtbot, window, monkeypatch):
    """RISE stopped (Esc, or its box), the check measured the three maps it had measured already once more (~20 s on
    two cores); each map's check is kept for its result and model, and never used for another result."""
    from gradflip_desktop.core import faithfulness

    _hold_rise(monkeypatch)
    measured = []
    real = faithfulness.check_maps
    monkeypatch.setattr(faithfulness, "check_maps", lambda clf, px, maps, *a, **k: measured.extend(maps) or real(clf, px, maps, *a, **k))
    _explain(qtbot, window, RunSettings(style="free"))
    plain = _checked(qtbot, window, window.compare_action.trigger)
    assert measured == ["GradFlip", "Grad-CAM", "Gradient saliency"]
    measured.clear()
    with qtbot.waitSignal(window.comparison_shown, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda c: _rise_caption(c).startswith("computing: ") and "its masks" not in _rise_caption(c)):
        window.compare.rise_box.setChecked(True)
    stopped = _checked(qtbot, window, window.cancel_action.trigger)
    assert measured == [], f"measured again after RISE stopped: {measured}"
    assert stopped.check.curves == plain.check.curves and "GradFlip" in window.compare.check.text()
    window.set_compare_visible(False)
    _checked(qtbot, window, lambda: window.set_compare_visible(True))  # hidden and shown again: nothing either
    assert measured == []
    _explain(qtbot, window, RunSettings(style="free"))  # a new result: measured anew, once its tab is shown
    assert measured == []
    _checked(qtbot, window, lambda: window.view_tabs.setCurrentWidget(window.compare))
    assert measured == ["GradFlip", "Grad-CAM", "Gradient saliency"]


def test_the_comparison_and_rise_are_made_only_while_their_tab_is_shown(qtbot, window, monkeypatch):
    """With Compare Methods open and "RISE too" ticked, each run (which shows the Explanation tab) was followed by up
    to a minute of RISE behind that tab: the status bar said "Done", Cancel stayed on, no progress anywhere. The
    comparison is now made while its tab is shown; left mid-RISE, it stops (its masks kept) and goes on when shown."""
    from gradflip_desktop.core import attributions

    made = []
    real = attributions.rise_steps
    monkeypatch.setattr(attributions, "rise_steps", lambda *a, **k: made.append(1) or (yield from real(*a, **k)))
    _hold_rise(monkeypatch)
    _explain(qtbot, window, RunSettings(style="free"))
    _rise_under_way(qtbot, window)  # the tab shown, RISE under way
    assert window.difference.rise_running and window.cancel_action.isEnabled()
    window.view_tabs.setCurrentWidget(window.views)  # left: stopped, Cancel greyed
    assert not window.difference.rise_running and not window.cancel_action.isEnabled()
    _explain(qtbot, window, RunSettings(style="free"))  # a run behind the Explanation tab: nothing after it
    qtbot.wait(300)
    assert window.view_tabs.currentWidget() is window.views
    assert not window.difference._compare.busy and not window.cancel_action.isEnabled()
    made.clear()
    comparison = _checked(qtbot, window, lambda: window.view_tabs.setCurrentWidget(window.compare))  # shown: made
    assert made == [1] and comparison.check.curve("RISE") is not None


def test_a_cropping_models_rise_is_shown_from_the_lowest_value_of_its_crop():
    """RISE of a centre-cropping model is 0 outside its crop: shown from 0 up, the crop's values (0.56-0.76) were all
    near the top of the scale, one colour. It is shown from the crop's lowest value up, the sides dark."""
    from gradflip_desktop.ui.controllers.comparison import rise_shown

    cam = np.zeros((4, 6), np.float32)
    cam[:, 2:4] = np.array([[0.56, 0.76]] * 4, np.float32)
    shown = rise_shown(cam)
    np.testing.assert_allclose(shown[:, 2:4], [[0.0, 0.2]] * 4, atol=1e-6)
    assert np.all(shown[:, :2] == 0) and np.all(shown[:, 4:] == 0)
    whole = np.array([[0.5, 0.7], [0.6, 0.55]], np.float32)  # all of it seen: from its minimum, as before
    np.testing.assert_allclose(rise_shown(whole), whole - 0.5, atol=1e-7)
    assert np.all(rise_shown(np.zeros((2, 2), np.float32)) == 0)


def test_hiding_compare_mid_rise_greys_cancel_and_keeps_the_rise_setting(qtbot, window, monkeypatch):
    """Hidden while RISE computed, the comparison stopped but Cancel and Esc stayed enabled with nothing running, and
    pressing them then unticked the hidden, remembered "RISE too" box: RISE was off when Compare was shown again."""
    from gradflip_desktop.core import attributions

    monkeypatch.setattr(attributions, "RISE_MASKS", 5_000)  # minutes: still computing when hidden
    _explain(qtbot, window, RunSettings(style="free"))
    _rise_under_way(qtbot, window)
    assert window.cancel_action.isEnabled() and window.controls.cancel_button.isEnabled()
    window.set_compare_visible(False)
    assert not window.difference.rise_running
    assert not window.cancel_action.isEnabled() and not window.controls.cancel_button.isEnabled()
    remembered = window.settings.value("view/compare_rise")
    window.cancel_action.trigger()  # Esc: nothing to stop, and the setting stays
    assert window.compare.rise_box.isChecked() and window.settings.value("view/compare_rise") == remembered
    window.set_compare_visible(True)  # shown again: RISE goes on, stoppable again
    assert window.difference.rise_running and window.cancel_action.isEnabled()
    window.set_compare_visible(False)
