"""A folder run's results after another model is loaded (ui/controllers/folder_model.py, ui/widgets/gallery_mark.py):
marked as the other model's, never exported as the loaded model's, and explained again with the loaded model.

Before, the gallery kept "→ dog" on every tile with no word that "dog" was the earlier model's answer; its title,
Export All's status and the Continue button were the same as for the loaded model's own results."""

from __future__ import annotations

import csv
from dataclasses import replace
import json
from pathlib import Path

import pytest
import torch
from helpers import RUN_TIMEOUT_MS, TinyNet, answer_message_box, make_image_file, photo_folder
from PySide6.QtCore import Qt

from gradflip_desktop.ui.settings import RunSettings
from gradflip_desktop.ui.widgets.gallery import FLIPPED, NOT_FLIPPED
from gradflip_desktop.ui.widgets.gallery_mark import AGAIN, CONTINUE, MARKED_TEXT

pytestmark = pytest.mark.gui


def _spec(folder: Path, name: str, seed: int, labels: list[str]):
    """A TorchScript model file of the tiny network, with its settings as the Load model dialog fills them."""
    from gradflip_desktop.core.models import Preprocessing
    from gradflip_desktop.core.models import files as model_files

    path = folder / f"{name}.pt"
    torch.jit.save(torch.jit.script(TinyNet(len(labels), seed=seed).eval()), str(path))
    pre = Preprocessing(input_size=(16, 16), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    return model_files.ModelSpec(str(path), "torchscript", labels=labels, preprocessing=pre)


@pytest.fixture
def models(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    return (_spec(folder, "first", 1, ["ant", "bee", "cat", "dog"]), _spec(folder, "second", 7, ["elk", "fox", "gnu", "hen"]))


@pytest.fixture
def photos(tmp_path) -> Path:
    return photo_folder(tmp_path / "photos")


@pytest.fixture
def win(qtbot, settings, models):
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.controls.set_settings(RunSettings(style="free", max_steps=60))
    w.show()
    _load(qtbot, w, models[0])
    yield w
    w.close()
    assert not w.engine.thread.isRunning() and not w.background.thread.isRunning()


def _load(qtbot, w, spec) -> None:
    """Load ``spec``; with a photo shown, until the new model's classification of it has landed too (it writes the
    status line, and landing late it replaced what a test's next action wrote there)."""
    signals = [w.model_ready] + ([w.classified] if w.image is not None else [])
    with qtbot.waitSignals(signals, timeout=RUN_TIMEOUT_MS):
        w.models.load_spec(spec)


def _run(qtbot, c, photos) -> None:
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)


def _finished(c) -> list:
    return [t for t in c.panel.tiles.values() if t.state in (FLIPPED, NOT_FLIPPED)]


def _data(c, tile, role):
    return c.panel.model.index_of(tile.key).data(role)


def _models_in(folder) -> set[str]:
    return {json.loads(p.read_text())["model"]["name"] for p in Path(folder).glob("*.gradflip.json")}


def test_another_model_marks_the_results_exports_them_as_theirs_and_explains_them_again(qtbot, win, models, photos,
                                                                                        tmp_path):
    w, c = win, win.folders
    _run(qtbot, c, photos)
    first = w.model_info.name
    assert _models_in(c.out) == {first}
    before = {t.key: t.text for t in _finished(c)}
    assert len(before) == 3 and all(t.text.startswith("→ ") for t in _finished(c))  # "→ dog": the first model's class
    assert " · explained " not in c.panel.title.text() and c.panel.continue_button.text() == CONTINUE
    _load(qtbot, w, models[1])
    second = w.model_info.name
    assert second != first and "second.pt" in second
    # the title says whose results they are; each finished tile is dimmed, badged, grey and says so in its tooltip
    assert c.panel.title.text().startswith("3/3 done"), c.panel.title.text()
    assert c.panel.title.text().endswith(" · explained with first.pt, not the loaded second.pt"), c.panel.title.text()
    for tile in _finished(c):
        assert tile.text == before[tile.key]  # the record's answer stays as it was: it is marked, not rewritten
        shown = _data(c, tile, Qt.ItemDataRole.DecorationRole)
        assert shown.toImage() != c.panel.model.pixmap(tile.key).toImage()  # dimmed, with the badge
        assert _data(c, tile, Qt.ItemDataRole.ForegroundRole) == MARKED_TEXT
        assert f"Explained with {first}, not the loaded {second}" in _data(c, tile, Qt.ItemDataRole.ToolTipRole)
    assert c.panel.continue_button.text() == AGAIN and c.panel.continue_button.isEnabled()
    # Export All copies the run's results under their own model's name, and says whose they are
    out = tmp_path / "exported"
    out.mkdir()
    c.export_all(str(out))
    qtbot.waitUntil(lambda: c.exported is not None, timeout=RUN_TIMEOUT_MS)
    assert f"(explained with {first}, not the loaded {second})" in w.status_label.text()
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        assert {row["model"] for row in csv.DictReader(fh)} == {first}
    assert _models_in(out) == {first}
    # Explain Again (exported: nothing to ask): the folder with the loaded model, and the mark is gone
    c.panel.continue_button.click()
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    assert _models_in(c.out) == {second} and len(_finished(c)) == 3
    assert " · explained " not in c.panel.title.text() and c.panel.continue_button.text() == CONTINUE
    assert all(_data(c, t, Qt.ItemDataRole.ForegroundRole) != MARKED_TEXT for t in _finished(c))
    assert _models_in(out) == {first}  # the export is left as it was


def test_explain_again_asks_before_dropping_results_never_exported(qtbot, win, models, photos, monkeypatch):
    from gradflip_desktop.ui.controllers import folder_model

    w, c = win, win.folders
    _run(qtbot, c, photos)
    session = c.out
    _load(qtbot, w, models[1])
    asked, answers = [], [""]
    monkeypatch.setattr(folder_model, "ask_explain_again",
                        lambda panel, done, model, loaded: asked.append((done, model, loaded)) or answers.pop(0))
    c.panel.continue_button.click()  # Cancel: the results stay, still marked
    assert asked == [(3, "first.pt (TorchScript, 4 classes)", w.model_info.name)]
    assert c.out == session and not c.running and c.panel.continue_button.text() == AGAIN
    answers.append("drop")
    c.panel.continue_button.click()
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    assert c.out != session and _models_in(c.out) == {w.model_info.name}


def test_the_runs_own_model_loaded_again_takes_the_mark_away(qtbot, win, models, photos):
    w, c = win, win.folders
    _run(qtbot, c, photos)
    _load(qtbot, w, models[1])
    assert c.panel.continue_button.text() == AGAIN
    _load(qtbot, w, models[0])  # the same file and settings: the same model
    assert c.panel.continue_button.text() == CONTINUE and not c.panel.continue_button.isEnabled()
    assert c.panel.title.text().startswith("3/3 done")
    tile = _finished(c)[0]
    assert _data(c, tile, Qt.ItemDataRole.DecorationRole).cacheKey() == c.panel.model.pixmap(tile.key).cacheKey()  # not dimmed


def test_a_model_loaded_during_the_run_marks_its_results_and_offers_explain_again_once_it_ends(qtbot, win, models,
                                                                                                photos):
    w, c = win, win.folders
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: any(t.state in (FLIPPED, NOT_FLIPPED) for t in c.panel.tiles.values()), timeout=RUN_TIMEOUT_MS)
    seen = []
    w.model_ready.connect(lambda _info: seen.append((c.running, c.panel.continue_button.isEnabled())))
    _load(qtbot, w, models[1])
    assert seen and all(not enabled for running, enabled in seen if running)  # not while the run goes on
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    assert _models_in(c.out) == {"first.pt (TorchScript, 4 classes)"}  # the run kept its own model
    assert all(_data(c, t, Qt.ItemDataRole.ForegroundRole) == MARKED_TEXT for t in _finished(c))
    assert c.panel.continue_button.text() == AGAIN and c.panel.continue_button.isEnabled()


def test_a_copy_of_the_weights_or_a_device_change_is_the_same_model():
    from types import SimpleNamespace

    from gradflip_desktop.ui.controllers.folder_model import same_model

    run = {"name": "r18 (3 classes, a.pth)", "classes": 3, "input_size": [224, 224], "labels_sha256": "ab",
           "file": "a.pth", "file_bytes": 10, "file_sha256": "123"}
    info = SimpleNamespace(name="x", identity=dict(run))
    assert same_model(run, info)
    info.identity = {**run, "name": "r18 (3 classes, b.pth)", "file": "b.pth"}  # `cp a.pth b.pth`
    assert same_model(run, info)
    info.identity = {**run, "file_sha256": "456"}  # trained again and saved over the file
    assert not same_model(run, info)
    info.identity = {**run, "input_size": (160, 160)}  # the same weights at another input size
    assert not same_model(run, info)
    assert same_model(run, SimpleNamespace(name=run["name"], identity={}))  # a ModelInfo made by hand: its name


def test_the_explain_again_question_reads_its_buttons(qtbot):
    from PySide6.QtCore import QTimer

    from gradflip_desktop.ui.widgets.gallery import GalleryPanel
    from gradflip_desktop.ui.widgets.gallery_mark import ask_explain_again

    panel = GalleryPanel()
    qtbot.addWidget(panel)
    seen = []

    def answer(button_text):
        answer_message_box(button_text, seen, title=True)

    for button, expected in (("Export All…", "export"), ("Explain Again Without Exporting", "drop"), ("Cancel", "")):
        QTimer.singleShot(100, lambda b=button: answer(b))
        assert ask_explain_again(panel, 4, "first.pt", "second.pt") == expected
    assert seen[0] == (AGAIN, "Explain the folder again with second.pt: the 4 explanations made with first.pt were "
                              "never exported and are dropped. Export them first?")


def test_explain_again_of_a_folder_gone_since_keeps_its_results(qtbot, win, models, photos):
    w, c = win, win.folders
    _run(qtbot, c, photos)
    _load(qtbot, w, models[1])
    session = c.out
    photos.rename(photos.with_name("moved"))
    c.panel.continue_button.click()
    assert "is no longer a folder: it cannot be explained again" in w.status_label.text()
    assert c.out == session and Path(session).is_dir() and c.panel.continue_button.text() == AGAIN


def test_weights_retrained_over_the_same_file_clear_the_shown_result_the_same_file_keeps_it(qtbot, win, models,
                                                                                           tmp_path):
    # the shown explanation was only cleared when the model's name or classes changed: weights retrained and saved
    # over the same file (same name, same classes) kept the old weights' explanation on screen as the new model's
    w = win
    photo = make_image_file(tmp_path / "one.png", 64, 48, seed=5)
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(photo))
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS):
        w.explain()
    assert w.result is not None
    _load(qtbot, w, replace(models[0]))  # loaded again: the same file, the same bytes, the same model; it stays
    assert w.result is not None
    torch.jit.save(torch.jit.script(TinyNet(4, seed=99).eval()), models[0].path)  # retrained, saved over it
    _load(qtbot, w, replace(models[0]))
    assert w.result is None


def test_the_same_file_with_other_settings_or_weights_is_not_named_as_the_loaded_one(qtbot, win, models, photos):
    # the same file loaded with other settings (or trained again) is another model, but its name is the same: the
    # mark read "Explained with first.pt (TorchScript, 4 cl…, not the loaded first.pt (TorchScript, 4 cl…"
    from types import SimpleNamespace

    from gradflip_desktop.core.models import Preprocessing

    w, c = win, win.folders
    _run(qtbot, c, photos)
    first = w.model_info.name
    _load(qtbot, w, replace(models[0], preprocessing=Preprocessing(input_size=(16, 16), mean=(0.4, 0.4, 0.4),
                                                                    std=(0.25, 0.25, 0.25))))
    assert w.model_info.name == first
    assert c.panel.title.text().startswith("3/3"), c.panel.title.text()
    assert c.panel.title.text().endswith(" · explained with other settings of first.pt, not the loaded first.pt")
    assert (f"Explained with other settings of {first}, not the loaded {first}"
            in _data(c, _finished(c)[0], Qt.ItemDataRole.ToolTipRole))
    result = SimpleNamespace(model_name=first, labels=list(w.model_info.labels))  # a tile's explanation, clicked
    assert c.mark.tile_note(result) == f"it was explained with other settings of {first}, not the loaded {first}"
    torch.jit.save(torch.jit.script(TinyNet(4, seed=99).eval()), models[0].path)  # trained again, saved over it
    _load(qtbot, w, replace(models[0]))
    assert c.panel.title.text().endswith(" · explained with earlier weights of first.pt, not the loaded first.pt")


def test_a_load_replaced_before_it_finished_explains_nothing(qtbot, win, models, photos, monkeypatch):
    # a model picked and replaced before it had loaded explained the folder's first image all the same (its load was
    # not undone), so the run came out marked with a model the window never showed, Explain Again enabled (and doing
    # nothing) during the rest of the run
    import time

    from gradflip_desktop.ui.controllers import models as model_tasks

    real = model_tasks.load_model_task

    def slow(task, *args):
        time.sleep(1.0)
        return real(task, *args)

    w, c = win, win.folders
    monkeypatch.setattr(model_tasks, "load_model_task", slow)
    c.open_folder(str(photos))
    w.models.load_spec(models[1])
    qtbot.waitUntil(lambda: c._run.busy, timeout=RUN_TIMEOUT_MS)  # the first image waits behind that load
    w.models.load_spec(replace(models[0]))  # the first model after all
    seen = set()

    def ended():
        seen.add((c.running, c.panel.continue_button.isEnabled()))
        return not c.running and c.summary_written and not w.models.loading

    qtbot.waitUntil(ended, timeout=RUN_TIMEOUT_MS)
    assert _models_in(c.out) == {"first.pt (TorchScript, 4 classes)"}  # every image: the model the window shows
    assert c.panel.continue_button.text() != AGAIN and "not the loaded" not in c.panel.title.text()
    assert (True, True) not in seen, seen


def test_a_run_with_no_finished_image_is_not_marked(qtbot, win, models, photos):
    # a run cancelled before its first image finished, then another model: the title said "Explained with first.pt,
    # not the loaded second.pt" over nothing explained, and Continue became Explain Again
    from gradflip_desktop.ui.widgets.gallery import WAITING

    w, c = win, win.folders
    _run(qtbot, c, photos)
    _load(qtbot, w, models[1])
    assert " · explained with " in c.panel.title.text()
    for tile in c.panel.tiles.values():  # as a run stopped before any image finished leaves them
        tile.state, tile.text = WAITING, "not run"
    c.mark.refresh()
    assert " · explained " not in c.panel.title.text() and c.panel.continue_button.text() == CONTINUE


def test_a_link_of_one_photos_answer_leaves_the_folder_runs_mark_alone(qtbot, win, photos):
    """"Explain 'any cat'" (or "Key region") on one photo after a folder run marked the whole run "explained … not …
    as now chosen" and turned Continue into Explain Again, while README says a link is for that photo only."""
    w, c = win, win.folders
    _run(qtbot, c, photos)
    with qtbot.waitSignal(w.run_finished, timeout=RUN_TIMEOUT_MS):
        w.runs.follow_link("style:region")  # the run's style is free: the link chose another for this photo
    assert w.controls.settings().style == "region"
    assert " · explained " not in c.panel.title.text() and c.panel.continue_button.text() == CONTINUE
    w.controls.style.setCurrentIndex(w.controls.style.findData("blur"))  # the user's own choice marks it, as before
    assert " · explained with the smallest change style, not " in c.panel.title.text(), c.panel.title.text()


def _styles_in(folder) -> set[str]:
    return {json.loads(p.read_text())["options"]["style"] for p in Path(folder).glob("*.gradflip.json")}


def test_other_settings_chosen_after_a_run_mark_it_and_explain_again_uses_them(qtbot, win, photos, monkeypatch):
    """Choosing another style (or target, or group) after a folder run left its title and Continue as they were:
    nothing said the tiles were made with other settings, and the folder had to be opened again to use the new ones."""
    from gradflip_desktop.ui.controllers import folder_model

    w, c = win, win.folders
    _run(qtbot, c, photos)
    assert _styles_in(c.out) == {"free"} and c.panel.continue_button.text() == CONTINUE
    finished = {t.key: (t.text, _data(c, t, Qt.ItemDataRole.ForegroundRole)) for t in _finished(c)}
    style = w.controls.style
    style.setCurrentIndex(style.findData("region"))
    title = c.panel.title.text()
    assert title.startswith("3/3 done"), title
    assert title.endswith(" · explained with the smallest change style, not with the key region style as now chosen"), title
    assert c.panel.continue_button.text() == AGAIN and c.panel.continue_button.isEnabled()
    # the tiles are the run's answers, with the run's settings: not dimmed, not rewritten (another model's would be)
    assert {t.key: (t.text, _data(c, t, Qt.ItemDataRole.ForegroundRole)) for t in _finished(c)} == finished
    style.setCurrentIndex(style.findData("free"))  # back to the run's: no mark
    assert c.panel.title.text().startswith("3/3 done") and c.panel.continue_button.text() == CONTINUE
    w.controls.target_mode.setCurrentIndex(w.controls.target_mode.findData("class"))
    w.controls.target_class.setCurrentText("dog")
    assert "explained without a target, not toward dog as now chosen" in c.panel.title.text(), c.panel.title.text()
    w.controls.target_mode.setCurrentIndex(w.controls.target_mode.findData("top"))
    style.setCurrentIndex(style.findData("region"))
    asked = []
    monkeypatch.setattr(folder_model, "ask_explain_again",
                        lambda panel, done, model, loaded: asked.append((done, model, loaded)) or "drop")
    c.panel.continue_button.click()  # never exported: asked first, then the folder with the settings chosen now
    assert asked == [(3, "the run's settings (with the smallest change style)",
                      "the settings chosen now (with the key region style)")]
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    assert _styles_in(c.out) == {"region"} and c.panel.continue_button.text() == CONTINUE, c.panel.title.text()
    assert " · explained " not in c.panel.title.text()
