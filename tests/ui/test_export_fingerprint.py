"""Export Results… records the photo's file as it was when opened (``image.file``), as a folder run does.

Taken at Export, a photo edited or replaced on disk after it was opened got the new file's fingerprint, so
``gradflip explain PHOTO --out DIR --resume`` kept the exported answer (224 × 224 espresso) for the new
photo (an 8 × 8 fox squirrel): the working-size check compares the record with itself.
"""

from __future__ import annotations

import hashlib
import json

from helpers import RUN_TIMEOUT_MS, make_image_file

from gradflip_desktop.ui.settings import RunSettings


def _explained(qtbot, w, path, size_seed, settings):
    """A photo made at ``path`` (width, height, seed), opened in the window ``w`` and explained with ``settings``."""
    w.controls.set_settings(settings)
    photo = make_image_file(path, *size_seed[:2], seed=size_seed[2])
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(photo))
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS):
        w.explain()
    return photo


def test_export_fingerprints_the_photo_as_it_was_opened(qtbot, window, tmp_path):
    w = window
    w.controls.set_settings(RunSettings(style="free"))
    photo = make_image_file(tmp_path / "p.png", 64, 48, seed=3)
    opened = hashlib.sha256(photo.read_bytes()).hexdigest()
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(photo))
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS):
        w.explain()
    make_image_file(photo, 32, 32, seed=9)  # edited on disk after it was explained, before the export
    assert hashlib.sha256(photo.read_bytes()).hexdigest() != opened
    out = tmp_path / "out"
    with qtbot.waitSignal(w.exported, timeout=30_000):
        w.export_to(str(out))
    rec = json.loads((out / "p.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["file"]["sha256"] == opened  # the photo the arrays were made from
    assert rec["image"]["working_size"] == [64, 48]


def test_the_first_export_dialog_opens_in_the_photos_folder(qtbot, window, tmp_path, monkeypatch):
    """Export Results… first asked in the home folder; it now starts in the folder of the photo (the bundled
    sample's lives inside the installed package: home), and later where the last export went."""
    import gradflip_desktop.ui.controllers.export as export_mod

    w = window
    starts = []
    monkeypatch.setattr(export_mod, "choose_export_folder", lambda parent, start: starts.append(start))  # Cancel
    w.settings.remove("export/folder")
    w.result = object()  # the dialog only asks whether there is a result to export
    w.export.export_dialog()
    (tmp_path / "shots").mkdir()
    photo = make_image_file(tmp_path / "shots" / "p.png", 64, 48, seed=3)
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(photo))
    w.result = object()
    w.export.export_dialog()
    w.settings.setValue("export/folder", str(tmp_path / "unplugged"))  # the last export's folder, gone since
    w.result = object()
    w.export.export_dialog()
    (tmp_path / "kept").mkdir()
    w.settings.setValue("export/folder", str(tmp_path / "kept"))  # still there: it is where the dialog starts
    w.export.export_dialog()
    w.result = None
    from pathlib import Path

    assert starts == [str(Path.home()), str(tmp_path / "shots"), str(tmp_path / "shots"), str(tmp_path / "kept")]


def test_a_photo_opened_by_a_relative_path_is_recorded_by_its_absolute_one(qtbot, window, tmp_path, monkeypatch):
    # `gradflip photos/p.png` recorded "photos/p.png": relative to the folder GradFlip was started in, not to the export
    w = window
    w.controls.set_settings(RunSettings(style="free", max_steps=5))
    (tmp_path / "photos").mkdir()
    make_image_file(tmp_path / "photos" / "p.png", 40, 30, seed=4)
    monkeypatch.chdir(tmp_path)
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.open_path("photos/p.png")
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS):
        w.explain()
    with qtbot.waitSignal(w.exported, timeout=30_000):
        w.export_to(str(tmp_path / "out"))
    rec = json.loads((tmp_path / "out" / "p.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["source"] == str(tmp_path / "photos" / "p.png")


def test_a_failed_export_is_not_where_the_next_dialog_starts(qtbot, window, tmp_path):
    # Export Results… to a read-only folder failed, yet that folder was remembered: the next Ctrl+E and the
    # gallery's Export All… dialogs opened in it (walk of session 28)
    w = window
    _explained(qtbot, w, tmp_path / "p.png", (40, 30, 4), RunSettings(style="free", max_steps=5))
    good = tmp_path / "good"
    with qtbot.waitSignal(w.exported, timeout=30_000):
        w.export_to(str(good))
    assert w.settings.value("export/folder") == str(good)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, so no folder can be made under it (root ignores read-only modes)")
    with qtbot.waitSignal(w.export_failed, timeout=30_000):
        w.export_to(str(blocker / "out"))
    assert w.settings.value("export/folder") == str(good)


def test_an_export_after_moving_the_key_set_slider_says_it_keeps_the_runs_set(qtbot, window, tmp_path):
    # a newcomer moved the slider, exported, and found the run's region in the figure: nothing had said so
    w = window
    _explained(qtbot, w, tmp_path / "p.png", (64, 48, 3), RunSettings(style="free"))
    with qtbot.waitSignal(w.exported, timeout=30_000):
        w.export_to(str(tmp_path / "a"))
    assert "slider" not in w.status_label.toolTip()
    assert not w.views.key_moved
    w.views.set_key_count(max(1, (w.views.key_count or 2) // 2))
    assert w.views.key_moved
    with qtbot.waitSignal(w.exported, timeout=30_000):
        w.export_to(str(tmp_path / "b"))
    assert "with the set the run found: the key-set slider's choice is not part of the result" in w.status_label.toolTip()


def test_overwrite_answer_exports_the_set_it_was_asked_about(qtbot, window, tmp_path, monkeypatch):
    """The "Overwrite?" question is about the result whose export failed. Answered after another photo opened
    (Export stays enabled while a photo decodes; the export waits behind the decode), Overwrite re-exported
    ``w.result`` as it was then: None, so nothing was written and nothing said it."""
    w = window
    _explained(qtbot, w, tmp_path / "a.png", (64, 48, 3), RunSettings(style="free"))
    out = tmp_path / "out"
    with qtbot.waitSignal(w.exported, timeout=30_000):
        w.export_to(str(out))
    asked = []
    monkeypatch.setattr(w, "ask_overwrite", lambda msg: asked.append(msg) or True)
    other = make_image_file(tmp_path / "b.png", 40, 40, seed=5)
    w.open_path(str(other))  # decoding in the background ...
    w.export_to(str(out))  # ... when Export is pressed: the export of a.png waits behind it
    with qtbot.waitSignal(w.exported, timeout=10_000) as blocker:
        qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert len(asked) == 1 and str(out) in asked[0]
    assert sorted(p.name for p in blocker.args[0])[0].startswith("a.")  # the set asked about, overwritten


def test_choose_another_folder_exports_the_set_there_and_overwrites_nothing(qtbot, window, tmp_path, monkeypatch):
    """The "Overwrite?" question's third answer: the folder dialog again, and the same set written where chosen."""
    from gradflip_desktop.ui.controllers import export
    from gradflip_desktop.ui.controllers.export import CHOOSE_ANOTHER

    w = window
    _explained(qtbot, w, tmp_path / "a.png", (64, 48, 3), RunSettings(style="free", max_steps=5))
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    with qtbot.waitSignal(w.exported, timeout=30_000):
        w.export_to(str(out))
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    monkeypatch.setattr(w, "ask_overwrite", lambda msg: CHOOSE_ANOTHER)
    monkeypatch.setattr(export, "choose_export_folder", lambda parent, start: str(elsewhere))
    with qtbot.waitSignal(w.exported, timeout=30_000) as blocker:
        w.export_to(str(out))
    assert {p.parent for p in blocker.args[0]} == {elsewhere}
    assert sorted(p.name for p in elsewhere.iterdir()) == sorted(before)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before  # nothing overwritten
