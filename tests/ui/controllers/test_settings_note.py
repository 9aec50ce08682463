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
    c.max_steps.setValue(200)  # as the result was made: the status the note replaced is back
    assert window.status_label.text().startswith("Done: "), window.status_label.text()
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    assert window.status_label.text().startswith("Done: "), window.status_label.text()  # nothing changed: no note
    c.max_steps.lineEdit().selectAll()  # retyped: "2", "20", "200" pass by; the note goes with the last
    for text in ("2", "20", "200"):
        c.max_steps.lineEdit().setText(text)
        c.max_steps.interpretText()
    assert window.status_label.text().startswith("Done: "), window.status_label.text()


def test_a_changed_target_is_named_not_the_unchanged_style(window):
    """The note named the style ("made with the blur per pixel style") when the target was what had changed."""
    from types import SimpleNamespace

    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings(style="blur", target_mode="class", target_class="school bus"))
    result = SimpleNamespace(options=ExplainOptions(style="blur"), explained_name="Egyptian cat")
    window.models.settings_note(result)
    text = window.status_label.text()
    assert "made with the top class." in text and "style" not in text, text


def test_a_target_given_by_its_index_is_the_class_the_panel_names(window):
    """A result made with `--target 282` (opened from a folder's results) got "made with target 282" under a panel
    set to tiger cat, the same class."""
    from types import SimpleNamespace

    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings(target_mode="class", target_class="tiger cat"))
    window.set_status("shown")
    for given in ("282", "#282", "tiger cat"):
        result = SimpleNamespace(options=ExplainOptions(target=given), explained_name="Egyptian cat",
                                 target=SimpleNamespace(label="tiger cat", index=282))
        window.models.settings_note(result)
        assert window.status_label.text() == "shown", (given, window.status_label.text())
    result = SimpleNamespace(options=ExplainOptions(target="281"), explained_name="Egyptian cat",
                             target=SimpleNamespace(label="tabby", index=281))
    window.models.settings_note(result)
    assert "made with target tabby." in window.status_label.text()
