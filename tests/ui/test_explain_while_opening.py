"""Explain pressed while another photo is still opening (walk, session 22).

A 4000×4700 JPEG takes about two seconds to decode; Ctrl+Return pressed meanwhile started a run on the photo
being replaced, and the new photo's arrival stopped that run: no explanation, no word why. Explain now waits
for the photo (disabled while it opens; its keys say why)."""

from __future__ import annotations

import pytest
from helpers import RUN_TIMEOUT_MS, make_image_file

from gradflip_desktop.ui.settings import RunSettings

pytestmark = pytest.mark.gui


def test_explain_waits_for_the_photo_being_opened(qtbot, window, tmp_path):
    path = make_image_file(tmp_path / "next.png", 160, 120)
    started = []
    window.run_started.connect(started.append)
    window.open_path(str(path))  # decoded in the background: the old photo is still shown
    assert window.images.loading
    assert not window.explain_action.isEnabled()
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.explain()  # as the toolbar, Ctrl+Return or a link in the sentence would
        assert "still opening" in window.status_label.text()
    assert not started and not window.runs.running  # no run on the photo being replaced
    assert window.windowTitle().startswith("next")
    assert window.explain_action.isEnabled()


def test_a_photo_that_fails_to_open_gives_explain_back(qtbot, window, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    with qtbot.waitSignal(window.image_failed, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(bad))
        assert not window.explain_action.isEnabled()
    assert window.image is not None and window.explain_action.isEnabled()  # the shown photo stays explainable


def test_a_photo_opened_during_a_run_says_the_run_was_stopped(qtbot, window, tmp_path):
    """A helper's long-session walk (session 43): opening a photo while the last one was being explained dropped
    that run without a word (changing the working size or the model said it)."""
    path = make_image_file(tmp_path / "next photo.png", 160, 120)
    window.controls.set_settings(RunSettings(style="free", mode="fixed", epsilon=1e-6, max_steps=5000))
    with qtbot.waitSignal(window.run_started, timeout=RUN_TIMEOUT_MS):
        window.explain()
    old = window.image.name
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(path))
    assert not window.runs.running
    text = window.status_label.text()
    assert text.startswith(f"The explanation of {old} was stopped to open this photo. next photo"), text
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):  # said once: not again for the next photo
        window.open_path(str(make_image_file(tmp_path / "third.png", 100, 90)))
    assert "was stopped" not in window.status_label.text()
