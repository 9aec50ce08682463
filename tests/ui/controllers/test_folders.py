"""A folder run (ui/controllers/folders.py): what a new folder, Export All during a run and Include subfolders after a
Cancel may never do — hear the old folder's image, copy a half-explained set, explain the images Cancel left."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from helpers import RUN_TIMEOUT_MS, make_image_file, photo_folder

import gradflip_desktop.ui.controllers.folders as folders_mod
from gradflip_desktop.ui.settings import RunSettings
from gradflip_desktop.ui.widgets.gallery import ERROR, FLIPPED, RUNNING, WAITING

pytestmark = pytest.mark.gui

SLOW = RunSettings(style="free", mode="fixed", epsilon=1e-6, max_steps=5000)  # never flips within a test


@pytest.fixture
def photos(tmp_path) -> Path:
    return photo_folder(tmp_path / "photos")


def _wait_done(qtbot, c):
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)


def test_a_new_folder_never_hears_the_old_folders_image(qtbot, folder_window, photos, tmp_path, monkeypatch):
    """The old folder's image ends (its answer sent) while the new folder is still being listed: it is not counted
    in the new run, nor does it end the new run before it starts."""
    c = folder_window.folders
    release, listed = threading.Event(), threading.Event()
    real_explain, real_list = folders_mod.explain_one_task, folders_mod.list_folder_task

    def held_explain(task, model, inp, *args):
        if Path(inp.path).parent == photos:
            release.wait(30)
            return folders_mod.ImageDone(str(inp.path), FLIPPED, "→ old folder's answer")
        return real_explain(task, model, inp, *args)

    def held_list(task, folder, *args):
        if Path(folder) != photos:
            listed.wait(30)
        return real_list(task, folder, *args)

    monkeypatch.setattr(folders_mod, "explain_one_task", held_explain)
    monkeypatch.setattr(folders_mod, "list_folder_task", held_list)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c._run.task is not None, timeout=RUN_TIMEOUT_MS)
    old, ended = c._run.task, []
    old.done.connect(lambda _task, value: ended.append(value))
    other = tmp_path / "other"
    other.mkdir()
    make_image_file(other / "only.png", 40, 30, seed=7)
    c.open_folder(str(other))
    release.set()
    qtbot.waitUntil(lambda: bool(ended), timeout=RUN_TIMEOUT_MS)  # the old answer was sent, and delivered
    assert not c.summary_written
    listed.set()
    _wait_done(qtbot, c)
    assert list(c.panel.tiles) == [str(other / "only.png")]
    assert sum(c.counts.values()) == 1 == len(c.inputs)


def test_export_all_during_a_run_copies_nothing(qtbot, folder_window, photos, tmp_path):
    """A set half explained is never copied (the File menu's Export All may be reached mid-run)."""
    c = folder_window.folders
    folder_window.controls.set_settings(SLOW)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: any(t.state == RUNNING for t in c.panel.tiles.values()), timeout=RUN_TIMEOUT_MS)
    dest = tmp_path / "exported"
    c.export_all(str(dest))
    assert not c._export.busy and c.exported is None
    c.cancel()
    _wait_done(qtbot, c)
    assert not dest.exists()


def test_include_subfolders_after_a_cancel_explains_only_the_subfolders_images(qtbot, folder_window, photos):
    """The images Cancel left stay "not run" (Continue is for them): ticking Include subfolders explains the new ones
    (here an unreadable one, done at once) and nothing else."""
    c = folder_window.folders
    (photos / "sub").mkdir()
    (photos / "sub" / "cut.jpg").write_bytes(b"\xff\xd8\xff-cut-")  # an image by its signature, unreadable
    folder_window.controls.set_settings(SLOW)
    c.open_folder(str(photos), False)
    qtbot.waitUntil(lambda: any(t.state == RUNNING for t in c.panel.tiles.values()), timeout=RUN_TIMEOUT_MS)
    c.cancel()
    _wait_done(qtbot, c)
    left = sorted(k for k, t in c.panel.tiles.items() if t.state == WAITING)
    assert len(left) >= 2  # cancelled within the first image
    c.panel.subfolders.click()  # ticked by the user
    added = str(photos / "sub" / "cut.jpg")
    qtbot.waitUntil(lambda: added in c.panel.tiles and c.panel.tiles[added].state == ERROR, timeout=20_000)
    _wait_done(qtbot, c)
    assert sorted(k for k, t in c.panel.tiles.items() if t.state == WAITING) == left  # Continue's, as they were
