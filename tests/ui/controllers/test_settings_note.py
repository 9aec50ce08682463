"""The note over a result made with other settings (ui/controllers/models.py): it names what the result was made
with where the settings now differ, also once a run ends that they were changed during."""

from __future__ import annotations

import pytest
from helpers import RUN_TIMEOUT_MS

pytestmark = pytest.mark.gui


def test_settings_changed_during_a_run_are_said_when_it_ends(qtbot, window):
    """Style and budget changed while the run went on: the window showed its result under the new settings, the
    status bar saying only "Done: …"."""
    c = window.controls
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
        assert window.runs.running
        c.max_steps.setValue(150)
        c.style.setCurrentIndex(c.style.findData("blur"))
    text = window.status_label.text()
    assert text == ("Settings changed during the run: the result shown was made with the key region style, a budget of "
                    "200 steps. Explain (Ctrl+Return) applies the new ones."), text
    c.style.setCurrentIndex(c.style.findData("region"))  # the style back: only the budget differs now
    assert "made with a budget of 200 steps." in window.status_label.text()
    c.max_steps.setValue(200)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    assert window.status_label.text().startswith("Done: "), window.status_label.text()  # nothing changed: no note


def test_a_changed_target_is_named_not_the_unchanged_style(window):
    """The note named the style ("made with the blur per pixel style") when the target was what had changed."""
    from types import SimpleNamespace

    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings(style="blur", target_mode="class", target_class="school bus"))
    result = SimpleNamespace(options=ExplainOptions(style="blur"), explained_name="Egyptian cat")
    window.models._settings_changed_note(result)
    text = window.status_label.text()
    assert "made with the top class." in text and "style" not in text, text
