"""The questions over a folder run's explanations never exported (ui/controllers/folder_questions.py): they count
only the explanations the last Export All did not copy."""

from __future__ import annotations

import pytest
from helpers import RUN_TIMEOUT_MS, make_image_file, make_tiny, photo_folder

from gradflip_desktop.ui.settings import RunSettings

pytestmark = pytest.mark.gui


def test_include_subfolders_after_an_export_asks_only_about_the_new_explanations(qtbot, tiny_window, tmp_path,
                                                                                 monkeypatch):
    """Exported, then Include subfolders added 1 photo: Explain Again and closing said all 5 explanations were never
    exported (4 of them were in the export folder)."""
    w, c = tiny_window, tiny_window.folders
    w.models.session.classifier = make_tiny(seed=1)
    w.controls.set_settings(RunSettings(style="free", max_steps=60))
    folder = photo_folder(tmp_path / "photos")
    (folder / "sub").mkdir()
    make_image_file(folder / "sub" / "extra.png", 40, 30, seed=9)
    c.open_folder(str(folder), recursive=False)
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    first = c._unexported()
    assert w.status_label.text().endswith("; 1 subfolder not included")  # what the listing left out, said at the end
    assert first == len(list(folder.glob("*.png"))) >= 2
    c.export_all(str(tmp_path / "kept"))
    qtbot.waitUntil(lambda: c.exported is not None, timeout=RUN_TIMEOUT_MS)
    assert c._unexported() == 0
    c.panel.subfolders.click()
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    assert c.exported is None and c._unexported() == 1  # extra.png only
    assert "not included" not in w.status_label.text()  # it is included now
    asked: list[int] = []
    monkeypatch.setattr(c.panel, "ask_close", lambda done, running: asked.append(done) or ("", False))
    c.ask_close_action.trigger()  # the tests' settings say "don't ask": ask
    assert c.may_close() is False and asked == [1]
    c.ask_close_action.trigger()  # the fixture's close: no question
    c.open_folder(str(folder), recursive=True)  # a new run: nothing of it exported yet
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    assert c._unexported() == first + 1
