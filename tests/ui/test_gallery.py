"""The folder gallery (issue 14.6): ui/widgets/gallery.py + ui/controllers/folders.py, on the tiny model.

The window is built without the default model; the tiny seeded classifier (helpers.make_tiny) is put in
the model session, so each image is explained in well under a second.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from helpers import RUN_TIMEOUT_MS, answer_message_box, make_image_file, make_tiny, photo_folder
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

import gradflip_desktop.ui.controllers.folders as folders_mod
from gradflip_desktop.ui.settings import RunSettings
from gradflip_desktop.ui.widgets.gallery import (
    ERROR,
    FLIPPED,
    KEY_ROLE,
    NOT_FLIPPED,
    RUNNING,
    WAITING,
    GalleryPanel,
)

QUICK = RunSettings(style="free", max_steps=60)  # folder_window's own (tests/ui/conftest.py)
SLOW = RunSettings(style="free", mode="fixed", epsilon=1e-6, max_steps=5000)  # never flips within a test


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = photo_folder(tmp_path / "photos")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff-cut-")  # an image by its signature, unreadable
    (folder / "readme.txt").write_text("skip me")  # not an image: skipped, no tile
    return folder


def _view_keys(panel: GalleryPanel) -> list[str]:
    m = panel.list.model()
    return [m.index(r, 0).data(KEY_ROLE) for r in range(m.rowCount())]


def _wait_done(qtbot, c, timeout=RUN_TIMEOUT_MS):
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=timeout)


def test_sort_by_flip_size_and_by_class_reorders_the_view(qtbot):
    p = GalleryPanel()
    qtbot.addWidget(p)
    p.start("t", [(f"k{i}", f"/x/{i}.png", f"img{i}") for i in range(5)])
    p.set_state("k0", FLIPPED, "→ a", label="zebra", size=0.9)
    p.set_state("k1", FLIPPED, "→ b", label="ant", size=0.2)
    p.set_state("k2", NOT_FLIPPED, "not flipped", label="cat", size=0.01)  # not flipped: after every flip
    p.set_state("k3", FLIPPED, "→ c", label="cat", size=0.5)
    p.set_state("k4", ERROR, "cannot read")
    assert _view_keys(p) == ["k0", "k1", "k2", "k3", "k4"]
    p.sort.setCurrentIndex(1)  # flip size: the flipped ones, smallest change first
    assert _view_keys(p)[:3] == ["k1", "k3", "k0"] and set(_view_keys(p)[3:]) == {"k2", "k4"}
    p.sort.setCurrentIndex(2)  # class (alphabetical), then flip size; no class last
    assert _view_keys(p) == ["k1", "k3", "k2", "k0", "k4"]
    # a result arriving while sorted by flip size moves into place
    p.sort.setCurrentIndex(1)
    p.set_state("k4", FLIPPED, "→ d", label="eel", size=0.05)
    assert _view_keys(p)[0] == "k4"
    p.sort.setCurrentIndex(0)
    assert _view_keys(p) == ["k0", "k1", "k2", "k3", "k4"]


def test_click_on_a_tile_asks_to_open_that_image(qtbot):
    p = GalleryPanel()
    qtbot.addWidget(p)
    p.start("t", [(f"k{i}", f"/x/{i}.png", f"img{i}") for i in range(3)])
    p.sort.setCurrentIndex(1)
    p.set_state("k2", FLIPPED, "→ a", size=0.1)  # now first in the view
    with qtbot.waitSignal(p.open_requested) as sig:
        p.list.clicked.emit(p.list.model().index(0, 0))
    assert sig.args == ["/x/2.png"]


def test_open_folder_explains_every_image_shows_states_and_opens_a_click(qtbot, folder_window, photos):
    w, c = folder_window, folder_window.folders
    seen: set[str] = set()
    orig = c.panel.set_state
    c.panel.set_state = lambda key, state, *a, **k: (seen.add(state), orig(key, state, *a, **k))[1]
    c.open_folder(str(photos))
    assert w.gallery_dock.isVisible()
    _wait_done(qtbot, c)
    states = {t.name: t.state for t in c.panel.tiles.values()}
    assert set(states) == {"broken.jpg", "p0.png", "p1.png", "p2.png"}  # readme.txt skipped by content
    assert states["broken.jpg"] == ERROR and "broken.jpg" in c.panel.tiles[str(photos / "broken.jpg")].text
    assert all(states[f"p{i}.png"] in (FLIPPED, NOT_FLIPPED) for i in range(3))
    assert RUNNING in seen  # each tile went waiting -> running -> its outcome
    assert c.panel.progress.value() == 4 and c.panel.title.text().startswith("4/4 done: ")
    flipped = [t for t in c.panel.tiles.values() if t.state == FLIPPED]
    assert flipped, states  # the tiny model flips these photos
    for t in flipped:  # the tile shows "→ class" and the result's thumbnail strip
        rec = json.loads((Path(c.out) / f"{Path(t.path).stem}.gradflip.json").read_text())
        assert t.text.startswith(f"→ {rec['final']['label']}") and t.size == pytest.approx(rec["rms_saved"])
        assert t.strip and t.picture is not None and not c.panel.model.pixmap(t.key).isNull()
    summary = (Path(c.out) / "summary.csv").read_text()
    assert summary.count("\n") == 5 and "broken" in summary  # header + one row per input, failures included
    assert c.panel.export_button.isEnabled() and not c.panel.cancel_button.isEnabled()
    # a click opens that image in the main views (decoded in the background, classified by the engine)
    row = _view_keys(c.panel).index(str(photos / "p1.png"))
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        c.panel.list.clicked.emit(c.panel.list.model().index(row, 0))
    assert w.image.name == "p1" and w.views.original.image().shape == (48, 64, 3)


def test_explain_waits_while_a_clicked_tile_s_explanation_opens(qtbot, folder_window, photos):
    """Explain pressed right after a click on a finished tile started a run on the photo shown, which the tile's
    explanation then stopped and replaced without a word; as while any photo opens, Explain now waits for it."""
    w, c = folder_window, folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    done = next(t for t in c.panel.tiles.values() if t.state == FLIPPED)
    c._open(done.path)
    assert w.images.loading and not w.explain_action.isEnabled()
    w.why_not_explain()
    assert "still opening" in w.status_label.text()
    qtbot.waitUntil(lambda: not c.opening_tile and not w.images.loading, timeout=RUN_TIMEOUT_MS)
    assert w.result is not None and w.image.name == Path(done.path).stem


def test_photo_thumbnails_are_decoded_in_a_worker(qtbot, folder_window, photos):
    import threading

    from gradflip_desktop.ui.controllers import folders

    threads = []
    real = folders.photo_thumbnails_task

    def spy(task, items, *a):
        threads.append(threading.current_thread())
        return real(task, items, *a)

    folders.photo_thumbnails_task = spy
    try:
        folder_window.controls.set_settings(SLOW)  # the run stays on image 1; the photos' thumbnails arrive anyway
        c = folder_window.folders
        c.open_folder(str(photos))
        qtbot.waitUntil(lambda: len(c.panel.tiles) == 4 and all(
            t.picture is not None for t in c.panel.tiles.values() if t.name != "broken.jpg"), timeout=RUN_TIMEOUT_MS)
        assert threads and all(t is not threading.main_thread() for t in threads)
        assert c.panel.tiles[str(photos / "broken.jpg")].picture is None  # unreadable: the placeholder stays
        assert c.running
        c.cancel()
        _wait_done(qtbot, c)
    finally:
        folders.photo_thumbnails_task = real


def test_cancel_stops_within_the_current_image_and_writes_no_half_set(qtbot, folder_window, photos):
    c = folder_window.folders
    folder_window.controls.set_settings(SLOW)
    steps = []
    folder_window.models.session.classifier.module.register_forward_hook(lambda *a: steps.append(1))
    c.open_folder(str(photos))
    first = str(photos / "broken.jpg")  # sorted first; fails at once, then p0 runs for a long time
    qtbot.waitUntil(lambda: c.panel.tiles.get(str(photos / "p0.png")) is not None
                    and c.panel.tiles[str(photos / "p0.png")].state == RUNNING and len(steps) > 5, timeout=RUN_TIMEOUT_MS)
    t0 = time.perf_counter()
    c.cancel()
    _wait_done(qtbot, c)
    assert time.perf_counter() - t0 < 10  # stopped within the image, not after its 5000 steps
    tiles = c.panel.tiles
    assert tiles[first].state == ERROR
    assert all(tiles[str(photos / f"p{i}.png")].state == WAITING and tiles[str(photos / f"p{i}.png")].text == "not run"
               for i in range(3))
    assert not list(Path(c.out).glob("p*.*"))  # the cancelled run wrote nothing
    assert c.panel.title.text().endswith("(cancelled: Continue explains the rest)")
    assert c.panel.continue_button.isEnabled()
    rows = (Path(c.out) / "summary.csv").read_text()
    assert rows.count("not run") == 3  # the summary still lists every input


def test_esc_cancels_a_folder_run_as_it_cancels_an_explanation(qtbot, folder_window, photos):
    """The window's Cancel (Esc) is enabled while a folder runs and stops it; before, Esc did nothing there."""
    c = folder_window.folders
    folder_window.controls.set_settings(SLOW)
    assert not folder_window.cancel_action.isEnabled()
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c.panel.tiles.get(str(photos / "p0.png")) is not None
                    and c.panel.tiles[str(photos / "p0.png")].state == RUNNING, timeout=RUN_TIMEOUT_MS)
    assert folder_window.cancel_action.isEnabled() and not folder_window.runs.running
    t0 = time.perf_counter()
    qtbot.keyClick(folder_window, Qt.Key.Key_Escape)
    _wait_done(qtbot, c)
    assert time.perf_counter() - t0 < 10
    assert c.panel.title.text().endswith("(cancelled: Continue explains the rest)")
    assert not folder_window.cancel_action.isEnabled()  # nothing left to cancel


def test_export_all_copies_whole_sets_and_never_overwrites(qtbot, folder_window, photos, tmp_path, monkeypatch):
    c = folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    dest = tmp_path / "export"
    c.export_all(str(dest))
    qtbot.waitUntil(lambda: c.exported is not None or c.export_error is not None, timeout=RUN_TIMEOUT_MS)
    assert c.export_error is None
    assert (dest / "summary.csv").is_file() and (dest / "index.html").is_file()
    shown = [p for p in dest.rglob("*") if p.is_file() and not any(q.startswith(".") for q in p.relative_to(dest).parts)]
    assert f"Exported {len(shown)} files to" in folder_window.status_label.text()  # the thumbnails are not counted
    # the folder is a link, as a single export's is (it was plain text)
    assert f'<a href="{dest.as_uri()}">{dest}</a>' in folder_window.status_label.text()
    from gradflip_desktop.core.dataset import complete_record

    for i in range(3):
        assert complete_record(dest, f"p{i}") is not None
    assert not list(dest.glob(".gradflip-export-*"))  # the staging folder is gone
    before = {p: p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()}
    c.export_all(str(dest))  # again into the same folder: refused, nothing touched
    qtbot.waitUntil(lambda: c.export_error is not None, timeout=RUN_TIMEOUT_MS)
    assert "already exist" in c.export_error
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()} == before
    # the same from the dialog, answered Cancel: the status says nothing was exported (it said "Exporting …")

    asked = []
    monkeypatch.setattr(folders_mod, "choose_export_folder", (lambda *a, **k: str(dest)))
    monkeypatch.setattr(folder_window, "ask_overwrite",  # None: Cancel; the status while the question is open
                        lambda text: asked.append((text, folder_window.status_label.text())))
    c.export_error = None
    c.export_all()
    qtbot.waitUntil(lambda: bool(asked), timeout=RUN_TIMEOUT_MS)
    assert folder_window.status_label.text() == "Export All: nothing was exported"
    assert "nothing was exported" not in asked[0][1] and "overwrite them?" in asked[0][1]  # it said so while asking
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*") if p.is_file()} == before


def test_export_all_creates_a_typed_new_folder_as_export_results_does(qtbot, folder_window, photos, tmp_path,
                                                                      monkeypatch):
    """walk29: Export All asked with Qt's own folder dialog, which answered a typed new folder with "Directory not
    found" (Export Results' dialog creates it). Both use the export folder dialog now."""
    from gradflip_desktop.ui.widgets import folder_dialog

    c = folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    dest = tmp_path / "exports" / "new"
    titles = []

    def typed(dialog):  # the user types a folder that does not exist yet and presses Enter
        titles.append(dialog.windowTitle())
        dialog.findChild(folder_dialog.QWidget, "fileNameEdit").setText(str(dest))
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(folder_dialog.ExportFolderDialog, "exec", typed)
    monkeypatch.setattr(folder_dialog.QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))  # Qt's own
    c.export_all()
    assert titles == ["Export All Results to Folder"]
    qtbot.waitUntil(lambda: c.exported is not None or c.export_error is not None, timeout=RUN_TIMEOUT_MS)
    assert c.export_error is None and (dest / "summary.csv").is_file() and (dest / "index.html").is_file()
    # remembered for the next Export All, apart from a single result's export folder
    assert folder_window.settings.value(folders_mod.ALL_KEY) == str(dest)
    assert folder_window.settings.value("export/folder") != str(dest)


def test_export_all_first_asks_in_the_explained_folder(qtbot, folder_window, photos, tmp_path, monkeypatch):
    """The first Export All dialog opened in the home folder, far from the photos; it now opens in the folder
    that was explained (later, where the last Export All went). A last export folder that is gone (deleted, a USB
    stick unplugged) opened Qt's dialog in the process's working directory: the explained folder instead. A single
    result's export folder is not where Export All starts (it started inside it, among that result's files)."""

    c = folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    folder_window.settings.remove(folders_mod.ALL_KEY)
    (tmp_path / "one").mkdir()
    folder_window.settings.setValue("export/folder", str(tmp_path / "one"))  # where a single result went
    starts = []
    monkeypatch.setattr(folders_mod, "choose_export_folder", (lambda parent, start, title: starts.append(start) or ""))
    c.export_all()
    (tmp_path / "elsewhere").mkdir()
    folder_window.settings.setValue(folders_mod.ALL_KEY, str(tmp_path / "elsewhere"))
    c.export_all()
    folder_window.settings.setValue(folders_mod.ALL_KEY, str(tmp_path / "unplugged" / "exports"))
    c.export_all()
    assert starts == [str(photos), str(tmp_path / "elsewhere"), str(photos)] and c.exported is None  # all: Cancel


def test_closing_after_a_folder_run_offers_to_export_its_results(qtbot, folder_window, photos, tmp_path, monkeypatch):
    """The results of a folder run live in a session folder that goes with the window: closing it dropped them
    without a word. Closing now asks (unless told not to): Cancel keeps the window; Export All… exports, then
    closes the window (it stayed open, and Ctrl+Q had to be pressed again), without asking again."""

    w, c = folder_window, folder_window.folders
    w.settings.setValue("folders/ask_on_close", True)
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    asked, answers = [], [("", False), ("export", False)]
    monkeypatch.setattr(c.panel, "ask_close", lambda done, running: asked.append((done, running)) or answers.pop(0))
    dest = tmp_path / "kept"
    monkeypatch.setattr(folders_mod, "choose_export_folder", (lambda *a, **k: str(dest)))
    out = c.out
    assert not w.close() and w.isVisible() and asked == [(3, False)]  # Cancel: nothing happens
    assert not w.close() and w.isVisible()  # Export All…: the dialog, then the copy
    qtbot.waitUntil(lambda: c.exported is not None, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=RUN_TIMEOUT_MS)  # then closed: exported, so not asked again
    assert (dest / "summary.csv").is_file() and len(asked) == 2 and not Path(out).exists()


def test_closing_when_the_export_folder_dialog_is_cancelled_keeps_the_window(qtbot, folder_window, photos, monkeypatch):

    w, c = folder_window, folder_window.folders
    w.settings.setValue("folders/ask_on_close", True)
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    monkeypatch.setattr(c.panel, "ask_close", lambda done, running: ("export", False))
    monkeypatch.setattr(folders_mod, "choose_export_folder", (lambda *a, **k: ""))
    assert not w.close() and w.isVisible() and c.exported is None and not c._export.busy
    qtbot.wait(50)
    assert w.isVisible() and c.out is not None and Path(c.out).is_dir()  # nothing exported, nothing dropped
    w.settings.setValue("folders/ask_on_close", False)


def _stall_after_p0(monkeypatch) -> None:
    """p0 (and broken.jpg) are explained as usual; p1 and p2 run until cancelled."""
    from gradflip_desktop.ui.controllers import folders

    real = folders.explain_one_task

    def first_only(task, session, inp, *args):
        if inp.path.name not in ("p1.png", "p2.png"):
            return real(task, session, inp, *args)
        while not task.cancelled:
            time.sleep(0.01)
        return folders.ImageDone(str(inp.path), folders.WAITING, "not run")

    monkeypatch.setattr(folders, "explain_one_task", first_only)


def test_closing_mid_run_can_stop_and_export_or_close_and_not_ask_again(qtbot, folder_window, photos, tmp_path, monkeypatch):

    w, c = folder_window, folder_window.folders
    w.settings.setValue("folders/ask_on_close", True)
    _stall_after_p0(monkeypatch)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c.counts[FLIPPED] + c.counts[NOT_FLIPPED] >= 1 and c.running, timeout=RUN_TIMEOUT_MS)
    asked = []
    monkeypatch.setattr(c.panel, "ask_close", lambda done, running: asked.append(running) or ("export", False))
    dest = tmp_path / "kept"
    monkeypatch.setattr(folders_mod, "choose_export_folder", (lambda *a, **k: str(dest)))
    assert not w.close() and asked == [True]  # "Stop and Export All…": the run stops, then the export, then it closes
    qtbot.waitUntil(lambda: c.exported is not None and not w.isVisible(), timeout=RUN_TIMEOUT_MS)
    assert not c.running and (dest / "summary.csv").is_file()


def test_continuing_after_an_export_asks_again_and_dont_ask_again_is_remembered(qtbot, folder_window, photos, tmp_path,
                                                                                  monkeypatch):
    w, c = folder_window, folder_window.folders
    w.settings.setValue("folders/ask_on_close", True)
    _stall_after_p0(monkeypatch)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c.counts[FLIPPED] + c.counts[NOT_FLIPPED] >= 1 and c.running, timeout=RUN_TIMEOUT_MS)
    c.cancel()
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    c.export_all(str(tmp_path / "kept"))  # the panel's Export All: the window stays
    qtbot.waitUntil(lambda: c.exported is not None, timeout=RUN_TIMEOUT_MS)
    asked = []
    from gradflip_desktop.ui.controllers import folder_tasks

    monkeypatch.setattr(folders_mod, "explain_one_task", folder_tasks.explain_one_task)  # p1 and p2 finish now
    c.resume()  # Continue after the export: its new results are not exported, so closing asks again, about them only
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    monkeypatch.setattr(c.panel, "ask_close", lambda done, running: asked.append(done) or ("close", True))
    assert w.close() and asked == [2] and not w.isVisible()
    assert str(w.settings.value("folders/ask_on_close")).lower() == "false"  # "Don't ask again" remembered
    assert not c.ask_close_action.isChecked()  # and shown in the File menu, where it can be taken back


def test_continue_waits_while_export_all_copies(qtbot, folder_window, photos, tmp_path, monkeypatch):
    """Continue while Export All was copying: the images it explained counted as exported once the copy (begun before
    them) ended, so closing did not ask about them."""
    import threading

    from gradflip_desktop.ui.controllers import folder_tasks

    w, c = folder_window, folder_window.folders
    _stall_after_p0(monkeypatch)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c.counts[FLIPPED] + c.counts[NOT_FLIPPED] >= 1 and c.running, timeout=RUN_TIMEOUT_MS)
    c.cancel()
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    monkeypatch.setattr(folders_mod, "explain_one_task", folder_tasks.explain_one_task)
    gate = threading.Event()

    def slow_export(task, *args):
        gate.wait(10)
        return folder_tasks.export_task(task, *args)

    monkeypatch.setattr(folders_mod, "export_task", slow_export)
    c.export_all(str(tmp_path / "kept"))
    qtbot.waitUntil(lambda: c._export.busy, timeout=RUN_TIMEOUT_MS)
    c.resume()
    assert not c.running and "still copying" in w.status_label.text()
    gate.set()
    qtbot.waitUntil(lambda: c.exported is not None, timeout=RUN_TIMEOUT_MS)
    c.resume()  # now it continues
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    assert c._unexported() == 2  # p1 and p2, explained after the export


def test_the_file_menu_takes_dont_ask_again_back(qtbot, folder_window, photos, monkeypatch):
    # "Don't ask again" could only be undone by editing GradFlip's settings file
    w, c = folder_window, folder_window.folders
    assert c.ask_close_action in w.menuBar().actions()[0].menu().actions()
    assert not c.ask_close_action.isChecked()  # the tests' settings say "don't ask" (conftest)
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    asked = []
    monkeypatch.setattr(c.panel, "ask_close", lambda done, running: asked.append(done) or ("", False))
    assert c.may_close() is True and asked == []  # not asked: would close
    c.ask_close_action.trigger()  # ask again
    assert c.ask_close_action.isChecked() and str(w.settings.value("folders/ask_on_close")).lower() == "true"
    assert c.may_close() is False and asked == [3]  # asked; Cancel keeps the window
    c.ask_close_action.trigger()  # and off again: the fixture's close does not ask
    assert str(w.settings.value("folders/ask_on_close")).lower() == "false"


def test_the_file_menus_close_question_says_it_is_about_folder_results(folder_window):
    # "Ask Before Closing With Unexported Results" (checked) read as covering the one photo's result too, but a
    # newcomer's unexported single Explain closed without a question: only a folder run's results are asked about
    action = folder_window.folders.ask_close_action
    assert action.text().replace("&", "") == "Ask Before Closing With Unexported Folder Results"
    assert "folder" in action.statusTip()


def test_ctrl_c_or_sigterm_closes_without_the_question(qtbot, folder_window, photos, monkeypatch):
    """SIGTERM (a session ending) or Ctrl+C in the terminal closes the window as its close button does, but it
    opened the modal "Export them first?", which would hold a logout until someone answered."""
    import signal

    from gradflip_desktop import app

    w, c = folder_window, folder_window.folders
    w.settings.setValue("folders/ask_on_close", True)
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    asked = []
    monkeypatch.setattr(c.panel, "ask_close", lambda done, running: asked.append(done) or ("", False))
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        stopped = app._close_on_signals(w)
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=RUN_TIMEOUT_MS)
    assert stopped == [signal.SIGTERM] and asked == []


def test_sigterm_while_the_close_question_is_open_still_closes(qtbot, folder_window, photos):
    """The question already open (the window inside closeEvent, where a second close() is ignored): SIGTERM set
    "do not ask" and queued a close that never came; the app never exited."""
    import signal

    from PySide6.QtCore import QTimer

    from gradflip_desktop import app

    w, c = folder_window, folder_window.folders
    w.settings.setValue("folders/ask_on_close", True)
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    seen = []
    try:
        stopped = app._close_on_signals(w)
        handler = signal.getsignal(signal.SIGTERM)

        def terminate():
            seen.append(type(QApplication.activeModalWidget()).__name__)
            handler(signal.SIGTERM, None)

        QTimer.singleShot(200, terminate)
        closed = w.close()  # opens the real question; SIGTERM arrives while it waits
    finally:
        for sig, h in before.items():
            signal.signal(sig, h)
    assert seen == ["QMessageBox"] and stopped == [signal.SIGTERM]
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=RUN_TIMEOUT_MS)
    assert closed or not w.isVisible()


def test_opening_another_folder_asks_before_dropping_a_run_never_exported(qtbot, folder_window, photos, tmp_path,
                                                                           monkeypatch):
    """File ▸ Open Folder (or a dropped folder) over a finished run deleted its session folder without a word,
    the loss the close question and the Include-subfolders question guard against."""
    from gradflip_desktop.ui.controllers import folders

    c = folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    out = c.out
    other = tmp_path / "other"
    other.mkdir()
    make_image_file(other / "q.png", 64, 48, seed=5)
    asked = []
    monkeypatch.setattr(c.panel, "ask_drop", lambda done, running: asked.append((done, running)) or "")
    monkeypatch.setattr(folders, "choose_folder_to_explain", lambda *a: (str(other), False))
    c.open_dialog()
    assert asked == [(3, False)] and Path(out).exists() and c.folder == str(photos)  # Cancel: kept
    c.exported = [Path(out)]  # once exported, another folder opens without a question
    c.open_dialog()
    _wait_done(qtbot, c)
    assert len(asked) == 1 and c.folder == str(other) and not Path(out).exists()


def test_another_folder_can_export_the_run_first_then_opens(qtbot, folder_window, photos, tmp_path, monkeypatch):
    """The question over a run never exported had only Go on / Cancel: keeping the results meant Cancel, Export
    All, then opening the folder again. "Export All…" now exports and then opens the other folder; when the
    export's folder dialog is cancelled, nothing is dropped and the other folder does not open."""

    from gradflip_desktop.core.dataset import complete_record
    from gradflip_desktop.ui.controllers import folders

    c = folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    out, other, dest = c.out, tmp_path / "other", tmp_path / "kept"
    other.mkdir()
    make_image_file(other / "q.png", 64, 48, seed=5)
    monkeypatch.setattr(c.panel, "ask_drop", lambda done, running: "export")
    monkeypatch.setattr(folders, "choose_folder_to_explain", lambda *a: (str(other), False))
    monkeypatch.setattr(folders_mod, "choose_export_folder", (lambda *a, **k: ""))
    c.open_dialog()  # Export All…, then the export's folder dialog cancelled
    assert c.folder == str(photos) and Path(out).is_dir() and c._after_export is None
    monkeypatch.setattr(folders_mod, "choose_export_folder", (lambda *a, **k: str(dest)))
    c.open_dialog()
    qtbot.waitUntil(lambda: c.folder == str(other), timeout=RUN_TIMEOUT_MS)
    _wait_done(qtbot, c)
    assert (dest / "summary.csv").is_file() and all(complete_record(dest, f"p{i}") is not None for i in range(3))
    assert not Path(out).exists() and c.counts[FLIPPED] + c.counts[NOT_FLIPPED] == 1


def test_following_the_run_never_replaces_a_photo_still_loading(qtbot, folder_window, photos, tmp_path, monkeypatch):
    """`gradflip FOLDER`, then File ▸ Open while nothing is shown yet: the first explanation, done while the photo
    was still decoding, replaced it once both had arrived."""
    import threading

    from gradflip_desktop.ui.controllers import folders, images

    w, c = folder_window, folder_window.folders
    own = tmp_path / "own.png"
    make_image_file(own, 64, 48, seed=9)
    real_explain, real_load = folders.explain_one_task, images.load_image_task
    opened = threading.Event()

    def explain(task, session, inp, *a):
        if inp.path.name == "p0.png":
            opened.wait(10)  # the first explanation ends while the user's photo is still decoding
        return real_explain(task, session, inp, *a)

    def load(task, source, *a):
        if str(source).endswith("own.png"):
            time.sleep(0.8)
        return real_load(task, source, *a)

    monkeypatch.setattr(folders, "explain_one_task", explain)
    monkeypatch.setattr(images, "load_image_task", load)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c._run.busy, timeout=RUN_TIMEOUT_MS)
    w.open_path(str(own))
    opened.set()
    _wait_done(qtbot, c)
    qtbot.wait(1500)
    assert w.windowTitle() == "own – GradFlip" and w.result is None


def test_a_run_that_explained_nothing_takes_back_its_promise(qtbot, folder_window, tmp_path, monkeypatch):
    w, c = folder_window, folder_window.folders
    folder = tmp_path / "bad"
    folder.mkdir()
    for i in range(2):
        (folder / f"b{i}.jpg").write_bytes(b"\xff\xd8\xff-cut-")
    said = []
    real = w.views.set_summary
    monkeypatch.setattr(w.views, "set_summary", lambda text, *a, **k: (said.append(text), real(text, *a, **k)))
    c.open_folder(str(folder))
    _wait_done(qtbot, c)
    assert "the first explanation opens here" in said[0]  # while it ran
    assert said[-1].startswith("No image of this folder was explained")  # not a promise left standing


def test_the_close_question_reads_its_buttons_and_box(qtbot):
    from PySide6.QtCore import QTimer

    panel = GalleryPanel()
    qtbot.addWidget(panel)
    seen = []

    def answer(button_text, tick):
        answer_message_box(button_text, seen, tick)

    QTimer.singleShot(100, lambda: answer("Close Without Exporting", True))
    assert panel.ask_close(4, running=False) == ("close", True)
    QTimer.singleShot(100, lambda: answer("Stop and Export All…", False))
    assert panel.ask_close(2, running=True) == ("export", False)
    QTimer.singleShot(100, lambda: answer("Cancel", True))
    assert panel.ask_close(2, running=False) == ("", True)
    assert "4 explanations of the folder run never exported are kept only until GradFlip closes" in seen[0]
    assert "done so far" in seen[1] and "the run stops" in seen[1]


def test_the_questions_count_one_explanation_in_the_singular(qtbot):
    """They read "the 1 explanation(s) … were never exported and are dropped. Export them first?"."""
    from PySide6.QtCore import QTimer

    from gradflip_desktop.ui.widgets.gallery_mark import ask_explain_again

    panel = GalleryPanel()
    qtbot.addWidget(panel)
    seen = []
    for ask in (lambda: panel.ask_close(1, running=True), lambda: panel.ask_drop(1, False),
                lambda: ask_explain_again(panel, 1, "first.pt", "second.pt")):
        QTimer.singleShot(100, lambda: answer_message_box("Cancel", seen))
        ask()
    assert seen[0].startswith("1 explanation of the folder run done so far and never exported is kept only until"), seen
    assert seen[0].endswith("Export it first?")
    assert "the 1 explanation of this folder run was never exported and is dropped. Export it first?" in seen[1]
    assert "the 1 explanation made with first.pt was never exported and is dropped. Export it first?" in seen[2]
    assert not any("(s)" in text for text in seen)


def test_the_another_folder_question_reads_its_buttons(qtbot):
    from PySide6.QtCore import QTimer

    panel = GalleryPanel()
    qtbot.addWidget(panel)
    seen = []

    def answer(button_text):
        answer_message_box(button_text, seen)

    for button, running, expected in (("Export All…", False, "export"), ("Open Without Exporting", False, "drop"),
                                      ("Stop and Export All…", True, "export"), ("Cancel", True, "")):
        QTimer.singleShot(100, lambda b=button: answer(b))
        assert panel.ask_drop(5, running) == expected
    assert "the 5 explanations of this folder run were never exported" in seen[0] and "run stops" not in seen[0]
    assert "done so far" in seen[2] and "the run stops" in seen[2]
    # asked too when the same folder is opened again (to re-run it with other settings): not "Another folder"
    assert all(t.startswith("Opening a folder (another, or this one again): ") for t in seen), seen


def test_the_close_question_mid_run_counts_on_while_the_run_goes_on(qtbot):
    """It read "3 explanation(s) … done so far" over a run that had reached 9 by the time the user answered."""
    from PySide6.QtCore import QTimer

    panel = GalleryPanel()
    qtbot.addWidget(panel)
    done = [3]
    panel.count_unexported = lambda: done[0]
    seen = []

    def later():
        done[0] = 9

    def answer():
        answer_message_box("Cancel", seen)

    QTimer.singleShot(100, later)
    QTimer.singleShot(900, answer)
    assert panel.ask_close(3, running=True) == ("", False)
    assert seen and seen[0].startswith("9 explanations of the folder run done so far"), seen


def test_an_interrupted_export_leaves_no_half_written_set(qtbot, folder_window, photos, tmp_path, monkeypatch):
    from gradflip_desktop.core.dataset import complete_record
    from gradflip_desktop.core.dataset import copy as copy_mod
    from gradflip_desktop.ui.controllers import folders

    c = folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    moves = []
    real = copy_mod.os.replace

    def failing(a, b):  # the disk fills up when the first record is moved in
        if Path(b).name.endswith(".gradflip.json"):
            raise OSError(28, "No space left on device")
        moves.append(Path(b).name)
        return real(a, b)

    monkeypatch.setattr(copy_mod.os, "replace", failing)
    dest = tmp_path / "export"
    with pytest.raises(OSError):
        folders.export_task(None, c.out, str(dest), False)
    thumbs = sorted(p.name for p in (Path(c.out) / ".thumbs").glob("*.jpg"))
    p0 = sorted(p.name for p in Path(c.out).glob("p0.*") if not p.name.endswith(".gradflip.json"))
    # files of no set (the thumbnails) first, then set by set, each record after its set's files: the first record
    # failed, so only p0's other files went in (moved by kind, a kill scattered pieces of every set)
    assert sorted(moves) == sorted(thumbs + p0) and len(p0) > 3
    assert all(complete_record(dest, f"p{i}") is None for i in range(3))  # so no set looks complete
    assert not (dest / "summary.csv").exists() and not list(dest.glob(".gradflip-export-*"))


def test_an_interrupted_overwriting_export_never_leaves_an_old_record_over_new_files(qtbot, folder_window, photos,
                                                                                    tmp_path, monkeypatch):
    """Export All with Overwrite into a folder holding an earlier export: the disk fills up when the records
    are moved in. An old record must not be left listing the new files (a set that looks complete but mixes
    two runs); the replaced sets are incomplete instead (``--resume`` recomputes them)."""
    from gradflip_desktop.core.dataset import complete_record
    from gradflip_desktop.core.dataset import copy as copy_mod
    from gradflip_desktop.ui.controllers import folders

    c = folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    dest = tmp_path / "export"
    folders.export_task(None, c.out, str(dest), False)  # an earlier export of the same names
    assert all(complete_record(dest, f"p{i}") is not None for i in range(3))
    real = copy_mod.os.replace

    def failing(a, b):
        if Path(b).name.endswith(".gradflip.json"):
            raise OSError(28, "No space left on device")
        return real(a, b)

    monkeypatch.setattr(copy_mod.os, "replace", failing)
    with pytest.raises(OSError):
        folders.export_task(None, c.out, str(dest), True)
    assert all(complete_record(dest, f"p{i}") is None for i in range(3))
    assert not list(dest.glob(".gradflip-export-*"))


def test_export_all_to_a_file_or_a_read_only_folder_says_so_in_words(qtbot, folder_window, photos, tmp_path,
                                                                     monkeypatch):
    from gradflip_desktop.core import report

    c = folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    (tmp_path / "afile").write_text("x")
    c.export_all(str(tmp_path / "afile"))
    qtbot.waitUntil(lambda: c.export_error is not None, timeout=RUN_TIMEOUT_MS)
    assert c.export_error == f"cannot create the folder {tmp_path / 'afile'}: a file of that name exists (not a folder)"
    assert (tmp_path / "afile").read_text() == "x"

    def read_only(path, data):  # chmod does not stop root, who runs the tests here
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(report, "stage_bytes", read_only)
    c.export_all(str(tmp_path / "ro"))
    qtbot.waitUntil(lambda: c.export_error is not None, timeout=RUN_TIMEOUT_MS)  # reset by export_all
    assert c.export_error == f"cannot write the results to {tmp_path / 'ro'}: the folder is read-only or you lack permission"
    assert list((tmp_path / "ro").iterdir()) == []


def test_a_new_folder_drops_the_old_run(qtbot, folder_window, photos, tmp_path):
    c = folder_window.folders
    folder_window.controls.set_settings(SLOW)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: any(t.state == RUNNING for t in c.panel.tiles.values()), timeout=RUN_TIMEOUT_MS)
    old_out = c.out
    other = tmp_path / "other"
    other.mkdir()
    make_image_file(other / "only.png", 40, 30, seed=7)
    folder_window.controls.set_settings(QUICK)
    c.open_folder(str(other))
    _wait_done(qtbot, c)
    assert [t.name for t in c.panel.tiles.values()] == ["only.png"]  # nothing of the old run arrived
    assert c.panel.tiles[str(other / "only.png")].state in (FLIPPED, NOT_FLIPPED)
    assert not Path(old_out).exists()


def test_a_folder_on_the_command_line_opens_the_gallery(qtbot, folder_window, photos, monkeypatch):
    # `gradflip photos/` used to answer "“photos” is a folder, not an image file" and show nothing
    w = folder_window
    monkeypatch.setattr(w.models, "load", lambda source, device=None: None)  # keep the tiny model
    errors = []
    w.error_shown.connect(lambda title, message: errors.append(message))
    said = []
    real = w.views.set_summary
    monkeypatch.setattr(w.views, "set_summary", lambda text, *a, **k: (said.append((text, w.image)), real(text, *a, **k)))
    w.start(str(photos))
    assert w.folders.folder == str(photos) and w.gallery_dock.isVisible()
    # the views showed the bundled cat ("Press Explain") beside the folder's run until a tile was clicked; they
    # now wait for the run, say so, and show its first explanation (opened as a click on its tile would)
    qtbot.waitUntil(lambda: bool(said), timeout=RUN_TIMEOUT_MS)
    assert "Explaining the 4 images of <b>photos</b>" in said[0][0] and said[0][1] is None
    _wait_done(qtbot, w.folders)
    assert len(w.folders.panel.tiles) == 4
    qtbot.waitUntil(lambda: w.result is not None, timeout=RUN_TIMEOUT_MS)
    assert w.windowTitle() == "p0 – GradFlip" and errors == []
    assert w.folders.panel.list.currentIndex().data(KEY_ROLE) == str(photos / "p0.png")  # its tile is selected


def test_the_unexplained_sample_gives_way_to_the_folders_first_explanation(qtbot, folder_window, photos):
    w = folder_window
    w.images.open_sample()
    qtbot.waitUntil(lambda: w.image is not None and w.models.classification is not None, timeout=RUN_TIMEOUT_MS)
    assert w.images.showing_sample()
    w.folders.open_folder(str(photos))
    _wait_done(qtbot, w.folders)
    qtbot.waitUntil(lambda: w.result is not None, timeout=RUN_TIMEOUT_MS)
    assert w.windowTitle() == "p0 – GradFlip" and not w.images.showing_sample()


def test_a_photo_the_user_opened_stays_in_the_views_during_a_folder_run(qtbot, folder_window, photos, tmp_path):
    """Only views that show nothing of the user's follow a folder run: a photo opened before it (or while it
    runs) stays, as does the explanation of one."""
    w = folder_window
    own = tmp_path / "own.png"
    make_image_file(own, 64, 48, seed=9)
    w.open_path(str(own))
    qtbot.waitUntil(lambda: w.image is not None and w.models.classification is not None, timeout=RUN_TIMEOUT_MS)
    w.folders.open_folder(str(photos))
    _wait_done(qtbot, w.folders)
    qtbot.wait(200)
    assert w.windowTitle() == "own – GradFlip" and w.result is None
    assert not w.folders.panel.list.currentIndex().isValid()


def test_a_dropped_folder_opens_the_gallery(qtbot, folder_window, photos):
    w = folder_window
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photos))])
    pos = w.rect().center()
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, drop)
    assert w.folders.folder == str(photos) and w.gallery_dock.isVisible()
    _wait_done(qtbot, w.folders)
    assert len(w.folders.panel.tiles) == 4
    assert w.open_folder_action in w.menuBar().actions()[0].menu().actions()


def test_a_pasted_folder_path_opens_the_gallery(qtbot, folder_window, photos):
    # pasting a folder's path said "The clipboard holds no image", while dropping the folder opened it
    from PySide6.QtGui import QGuiApplication

    w = folder_window
    QGuiApplication.clipboard().setText(str(photos))
    w.paste_action.trigger()
    assert w.folders.folder == str(photos) and w.gallery_dock.isVisible()
    _wait_done(qtbot, w.folders)
    assert len(w.folders.panel.tiles) == 4


def test_strip_never_replaced_by_the_photo_thumbnail(qtbot):
    p = GalleryPanel()
    qtbot.addWidget(p)
    p.start("t", [("k", "/x/k.png", "k")])
    strip = QImage(300, 96, QImage.Format.Format_RGB888)
    strip.fill(Qt.GlobalColor.red)
    photo = QImage(120, 90, QImage.Format.Format_RGB888)
    photo.fill(Qt.GlobalColor.blue)
    p.set_thumbnails([("k", strip)], strip=True)
    p.set_thumbnails([("k", photo)])  # a late photo thumbnail
    tile, pixmap = p.tiles["k"], p.model.pixmap("k")
    assert tile.strip and pixmap.toImage().pixelColor(pixmap.width() // 2, pixmap.height() // 2) == Qt.GlobalColor.red


def test_closing_the_window_mid_folder_run_is_clean(qtbot, folder_window, photos):
    c = folder_window.folders
    folder_window.controls.set_settings(SLOW)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: any(t.state == RUNNING for t in c.panel.tiles.values()), timeout=RUN_TIMEOUT_MS)
    out = c.out
    t0 = time.perf_counter()
    folder_window.close()
    assert time.perf_counter() - t0 < 10  # the running image stops at its next step
    assert not folder_window.engine.thread.isRunning() and not folder_window.background.thread.isRunning()
    assert not Path(out).exists()  # the session folder is removed


def test_two_images_with_one_result_name_never_overwrite_each_other(qtbot, folder_window, tmp_path):
    folder = tmp_path / "clash"
    folder.mkdir()
    make_image_file(folder / "Cat.png", 40, 30, seed=1)
    make_image_file(folder / "cat.jpg", 40, 30, seed=2)  # results would also be named "cat" (case-insensitive)
    c = folder_window.folders
    c.open_folder(str(folder))
    _wait_done(qtbot, c)
    states = {t.name: t for t in c.panel.tiles.values()}
    assert all(states[n].state in (FLIPPED, NOT_FLIPPED) for n in ("Cat.png", "cat.jpg"))  # before: cat.jpg refused
    rec = json.loads((Path(c.out) / "Cat.gradflip.json").read_text())
    assert str(rec["image"]["source"]).endswith("Cat.png")  # the set is Cat.png's, not overwritten
    rec = json.loads((Path(c.out) / "cat_jpg.gradflip.json").read_text())
    assert str(rec["image"]["source"]).endswith("cat.jpg")  # the second gets its extension in its name
    assert c.panel.title.text().startswith("2/2 done") and "error" not in c.panel.title.text()


def test_a_new_title_never_relayouts_the_window(qtbot, folder_window):
    # the progress text changes after every image; if the panel's size followed it, the views (pyqtgraph)
    # were resized and repainted each time: 18 ms per title here, stalls of 50-140 ms during a run
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QWidget

    w = folder_window
    w.folders.show_panel()
    qtbot.waitUntil(lambda: w.gallery_dock.isVisible())
    QApplication.processEvents()
    resized = []

    class Spy(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Resize:
                resized.append(type(obj).__name__)
            return False

    spy = Spy()
    for widget in [w, *w.findChildren(QWidget)]:
        widget.installEventFilter(spy)

    def settled():  # the dock's own layout may still arrive late on a loaded machine (CI beside benchmarks)
        before = len(resized)
        qtbot.wait(150)
        return len(resized) == before
    qtbot.waitUntil(settled, timeout=5000)
    resized.clear()
    for i in range(6):
        w.folders.panel.set_title(f"{i}/500 done: {i} flipped, 0 not flipped, 0 errors" + " (cancelled)" * 8 * (i % 2))
        QApplication.processEvents()
    assert resized == []
    assert w.folders.panel.title.toolTip().startswith("5/500 done")  # the whole text, when the label cuts it
    from PySide6.QtWidgets import QLabel

    shown = QLabel.text(w.folders.panel.title)  # cut with "…", not mid-word ("(cancelled: Continue explains")
    assert shown.endswith("…") and len(shown) < len(w.folders.panel.title.text())


def test_a_click_on_a_finished_tile_shows_its_explanation_in_the_main_views(qtbot, folder_window, photos):
    import numpy as np
    from PIL import Image

    w, c = folder_window, folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    done = [t for t in c.panel.tiles.values() if t.state in (FLIPPED, NOT_FLIPPED)]
    assert len(done) == 3 and set(c.stored) == {t.key for t in done}
    for tile in done:
        row = _view_keys(c.panel).index(tile.key)
        with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
            c.panel.list.clicked.emit(c.panel.list.model().index(row, 0))
        qtbot.waitUntil(lambda t=tile: w.result is not None and w.image.name == Path(t.path).stem
                        and w.views.difference.image() is not None, timeout=RUN_TIMEOUT_MS)  # drawn in the background
        stem = Path(tile.path).stem
        rec = json.loads((Path(c.out) / f"{stem}.gradflip.json").read_text())
        res = w.result
        # the saved explanation, not a new run: the record's classes, its saved image, its steps
        assert res.status == rec["status"] and res.final.label == rec["final"]["label"]
        assert res.original.label == rec["original"]["label"] and len(res.steps) == rec["steps"] > 0
        saved = np.asarray(Image.open(Path(c.out) / f"{stem}.adjusted.png").convert("RGB"))
        np.testing.assert_array_equal(w.views.adjusted.image(), saved)  # Adjusted shows the saved image
        np.testing.assert_array_equal(w.views.original.image(), res.original_pixels.__mul__(255).round().astype(np.uint8))
        assert res.l2_saved == pytest.approx(rec["l2_saved"], abs=1e-5)
        assert res.key_pixels is not None and res.key_pixels.count == rec["key_pixels"]["count"]
        assert w.views.difference.image() is not None  # the Difference view shows this result
        assert w.export_action.isEnabled()  # and it can be exported like a result computed in the window
    from gradflip_desktop.ui.settings import recent_files

    assert not any(Path(f).parent == photos for f in recent_files(w.settings))  # a tile is not a recent file


def test_a_click_on_a_tile_not_yet_explained_opens_the_photo(qtbot, folder_window, photos):
    w, c = folder_window, folder_window.folders
    w.controls.set_settings(SLOW)  # p0 runs for a long time; p2 waits
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c.panel.tiles.get(str(photos / "p0.png")) is not None
                    and c.panel.tiles[str(photos / "p0.png")].state == RUNNING, timeout=RUN_TIMEOUT_MS)
    key = str(photos / "p2.png")
    assert c.panel.tiles[key].state == WAITING and key not in c.stored
    opened = []
    w.image_opened.connect(opened.append)
    c.panel.list.clicked.emit(c.panel.list.model().index(_view_keys(c.panel).index(key), 0))
    qtbot.waitUntil(lambda: opened == ["p2"], timeout=RUN_TIMEOUT_MS)
    assert w.result is None and w.image.name == "p2"  # the photo, no explanation
    from gradflip_desktop.ui.settings import recent_files

    assert str(photos / "p2.png") not in recent_files(w.settings)  # clicking through a folder floods no menu
    c.cancel()
    _wait_done(qtbot, c)


@pytest.fixture
def nested(photos) -> Path:
    (photos / "sub" / "deeper").mkdir(parents=True)
    make_image_file(photos / "sub" / "deeper" / "d0.png", 40, 30, seed=7)
    return photos


def test_include_subfolders_in_the_panel_adds_their_images_and_keeps_the_finished_ones(qtbot, folder_window, nested,
                                                                                          monkeypatch):
    """Ticking Include subfolders over an explained folder listed it again and explained every image again (in a new
    session folder, after a question that said the finished explanations are dropped). Now only the subfolders'
    images are added and explained; the finished tiles and their result sets stay."""
    from gradflip_desktop.ui.controllers import folders

    w, c = folder_window, folder_window.folders
    (nested / "a_sub").mkdir()
    make_image_file(nested / "a_sub" / "a0.png", 40, 30, seed=8)  # sorts before the folder's own images
    titles, ran, asked = [], [], []
    real_title, real_explain = c.panel.set_title, folders.explain_one_task
    c.panel.set_title = lambda text: (titles.append(text), real_title(text))[1]
    monkeypatch.setattr(folders, "explain_one_task", lambda task, model, inp, *a: (ran.append(inp.path.name),
                                                                                      real_explain(task, model, inp, *a))[1])
    c.panel.confirm = lambda question, *a, **k: asked.append(question) is None and False  # "no", were it asked
    c.open_folder(str(nested), recursive=False)
    _wait_done(qtbot, c)
    # the folder by its name: its whole path cut the title short at 1,280 px (the status bar gives the path)
    assert f"{nested.name}: 4 images; 1 other file skipped; 2 subfolders not included" in titles, titles
    assert sorted(ran) == ["broken.jpg", "p0.png", "p1.png", "p2.png"] and not c.panel.subfolders.isChecked()
    out, done = c.out, {k: (t.state, t.text, t.strip, id(t.picture)) for k, t in c.panel.tiles.items()}
    records = {p.name: p.stat().st_mtime_ns for p in Path(out).glob("*.gradflip.json")}
    assert len(records) == 3
    ran.clear()
    c.panel.subfolders.click()  # nothing is dropped: no question
    _wait_done(qtbot, c)
    assert not asked and sorted(ran) == ["a0.png", "d0.png"], ran  # the new images only, once each
    assert c.recursive and str(w.settings.value("folders/recursive")).lower() == "true"
    assert c.out == out and done == {
        k: (t.state, t.text, t.strip, id(t.picture)) for k, t in c.panel.tiles.items() if k in done}
    assert {p.name: p.stat().st_mtime_ns for p in Path(out).glob("*.gradflip.json") if p.name in records} == records
    sub = [str(nested / "a_sub" / "a0.png"), str(nested / "sub" / "deeper" / "d0.png")]
    assert all(c.panel.tiles[k].state in (FLIPPED, NOT_FLIPPED) for k in sub)
    assert _view_keys(c.panel) == [str(i.path) for i in c.inputs] and _view_keys(c.panel)[0] == sub[0]  # input order
    assert c.panel.title.text().startswith("6/6 done") and c.panel.export_button.isEnabled() and c.exported is None
    rows = (Path(out) / "summary.csv").read_text(encoding="utf-8")
    assert all(name in rows for name in ("a0", "d0", "p0", "p1", "p2", "broken")), rows
    # leaving them out again lists and explains the folder again: asked first, "no" keeps everything as it was
    c.panel.subfolders.click()
    assert len(asked) == 1 and "Leave out subfolders" in asked[0] and "the 5 explanations done so far are dropped" in asked[0]  # broken.png's error is none
    assert c.panel.subfolders.isChecked() and c.recursive and c.out == out


def test_include_subfolders_during_a_run_queues_their_images_after_the_rest(qtbot, folder_window, nested, monkeypatch):
    """Ticked while the folder runs: the subfolder's image is explained after the folder's own, each image once."""
    from gradflip_desktop.ui.controllers import folders

    c, ran = folder_window.folders, []
    real = folders.explain_one_task
    monkeypatch.setattr(folders, "explain_one_task", lambda task, model, inp, *a: (ran.append(inp.path.name),
                                                                                      real(task, model, inp, *a))[1])
    c.panel.confirm = lambda question, *a, **k: True  # were it asked (all explained again, the finished ones dropped)
    c.open_folder(str(nested), recursive=False)
    qtbot.waitUntil(lambda: c._run.busy, timeout=RUN_TIMEOUT_MS)
    c.panel.subfolders.click()
    _wait_done(qtbot, c)
    assert sorted(ran) == ["broken.jpg", "d0.png", "p0.png", "p1.png", "p2.png"] and ran[-1] == "d0.png", ran
    assert all(t.state in (FLIPPED, NOT_FLIPPED, ERROR) for t in c.panel.tiles.values()) and len(c.panel.tiles) == 5
    assert c.panel.title.text().startswith("5/5 done")


def test_a_dropped_folder_and_open_folder_follow_the_remembered_choice(qtbot, folder_window, nested, monkeypatch):
    from gradflip_desktop.ui.controllers import folders

    w, c = folder_window, folder_window.folders
    # File > Open Folder: the dialog offers "Include subfolders", pre-set to the last choice
    asked = []
    monkeypatch.setattr(folders, "choose_folder_to_explain",
                        lambda parent, start, recursive, *_: (asked.append(recursive), (str(nested), True))[1])
    c.open_dialog()
    assert asked == [False] and c.recursive and c.panel.subfolders.isChecked()
    _wait_done(qtbot, c)
    assert str(nested / "sub" / "deeper" / "d0.png") in c.panel.tiles
    # a dropped folder uses the same, remembered, choice (over the finished run: "drop its results?" answered yes)
    monkeypatch.setattr(c.panel, "ask_drop", lambda done, running: "drop")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(nested / "sub"))])
    pos = w.rect().center()
    QApplication.sendEvent(w, QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                              Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(w, QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                         Qt.KeyboardModifier.NoModifier))
    assert c.folder == str(nested / "sub") and c.recursive
    _wait_done(qtbot, c)
    assert [t.name for t in c.panel.tiles.values()] == [str(Path("deeper") / "d0.png")]


def test_open_folder_dialog_has_the_include_subfolders_choice(qtbot, tmp_path):
    from gradflip_desktop.ui.widgets.folder_dialog import OpenFolderDialog

    dlg = OpenFolderDialog(None, str(tmp_path), recursive=True)
    qtbot.addWidget(dlg)
    assert dlg.subfolders.isChecked() and dlg.subfolders.text() == "Include subfolders"
    assert dlg.isAncestorOf(dlg.subfolders)
    assert not OpenFolderDialog(None, str(tmp_path), recursive=False).subfolders.isChecked()


def test_an_empty_folder_reads_0_of_0_images_not_0_of_1(qtbot):
    """The bar's range is kept at least 1 (a 0..0 bar is a busy indicator), but its words name the real
    total: an empty folder said "no images found" next to "0 / 1 images"."""
    p = GalleryPanel()
    qtbot.addWidget(p)
    p.start("empty: 0 images", [])
    p.finish("empty: no images found", exportable=False)
    assert p.progress.text() == "0 / 0 images"
    p.start("two", [("a", "/x/a.png", "a.png"), ("b", "/x/b.png", "b.png")])
    p.set_progress(1, 2)
    assert p.progress.text() == "1 / 2 images"


def test_the_status_bar_says_the_folder_is_being_explained_not_still_opened(qtbot, folder_window, photos):
    """The status bar read "Opening the folder … …" for the whole run (3 of 16 images done, and on); once the
    folder is listed it says that its images are being explained, and at the end how the run went."""
    c = folder_window.folders
    folder_window.controls.set_settings(SLOW)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c.panel.tiles.get(str(photos / "p0.png")) is not None
                    and c.panel.tiles[str(photos / "p0.png")].state == RUNNING, timeout=RUN_TIMEOUT_MS)
    text = folder_window.status_label.text()
    assert "Opening the folder" not in text and "explaining 4 images" in text, text  # broken.jpg too: it fails when run
    c.cancel()
    _wait_done(qtbot, c)
    # and what the listing left out, whose title line the run replaced (readme.txt vanished without a word)
    assert folder_window.status_label.text().endswith("(cancelled: Continue explains the rest); 1 other file skipped")


def test_continue_after_cancel_explains_only_the_images_left(qtbot, folder_window, photos):
    """A cancelled folder run could only be run again from the start (a new session folder, every image
    explained again); Continue explains the images it did not reach and keeps the finished ones."""
    from gradflip_desktop.ui.settings import RunSettings

    c = folder_window.folders
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c.panel.tiles.get(str(photos / "p1.png")) is not None
                    and c.panel.tiles[str(photos / "p1.png")].state == RUNNING, timeout=RUN_TIMEOUT_MS)
    c._options = SLOW.to_options()  # p1 (already started) ran at the run's settings; from here on it would not end
    c.cancel()
    _wait_done(qtbot, c)
    tiles = c.panel.tiles
    first = tiles[str(photos / "p0.png")]
    assert first.state in (FLIPPED, NOT_FLIPPED) and tiles[str(photos / "p2.png")].text == "not run"
    assert c.panel.continue_button.isEnabled() and not c.panel.cancel_button.isEnabled()
    out, kept = c.out, (Path(c.out) / "p0.gradflip.json").stat().st_mtime_ns
    c._options = RunSettings(style="free").to_options()  # the rest may end quickly in a test
    c.panel.continue_button.click()
    assert c.panel.cancel_button.isEnabled() and not c.panel.continue_button.isEnabled()
    assert not [t for t in tiles.values() if t.text == "not run"]  # queued again: waiting, no longer "not run"
    _wait_done(qtbot, c)
    assert all(t.state in (FLIPPED, NOT_FLIPPED, ERROR) for t in tiles.values())  # every image ran once
    assert c.out == out and (Path(out) / "p0.gradflip.json").stat().st_mtime_ns == kept  # p0 kept, not redone
    assert c.panel.title.text().startswith("4/4 done") and "cancelled" not in c.panel.title.text()
    assert not c.panel.continue_button.isEnabled()
    rows = (Path(out) / "summary.csv").read_text()
    assert "not run" not in rows


def _click_tile_of_a_run(qtbot, c, path, signal) -> str:
    """Explain the folder of ``path``, then click its tile (selected, then clicked, as a click does) and wait for
    ``signal``; returns the tile's key."""
    c.open_folder(str(path.parent))
    _wait_done(qtbot, c)
    key = str(path)
    index = c.panel.list.model().index(_view_keys(c.panel).index(key), 0)
    with qtbot.waitSignal(signal, timeout=RUN_TIMEOUT_MS):
        c.panel.list.setCurrentIndex(index)
        c.panel.list.clicked.emit(index)
    return key


def test_a_tile_made_with_another_budget_says_so_when_it_opens(qtbot, folder_window, photos):
    """A tile's result made with a budget of 60 opened under a panel set to 61: no word that the views came from other
    settings (the note was said only when a setting changed while a result was shown)."""
    w, c = folder_window, folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    w.controls.max_steps.setValue(QUICK.max_steps + 1)
    key = str(photos / "p1.png")
    index = c.panel.list.model().index(_view_keys(c.panel).index(key), 0)
    c.panel.list.setCurrentIndex(index)
    c.panel.list.clicked.emit(index)
    qtbot.waitUntil(lambda: w.result is not None and w.image is not None and w.image.name == "p1", timeout=RUN_TIMEOUT_MS)
    text = w.status_label.text()
    assert text.startswith(f"Settings changed: the result shown was made with a budget of {QUICK.max_steps} steps"), text


def test_a_photo_opened_otherwise_clears_the_tile_selection(qtbot, folder_window, photos, tmp_path):
    """Before: after a click on a tile, File ▸ Open of another photo (or Open Recent, a drop) left that tile
    highlighted under the other photo's views and explanation, as if they were the tile's."""
    w, c = folder_window, folder_window.folders
    key = _click_tile_of_a_run(qtbot, c, photos / "p1.png", w.classified)
    qtbot.waitUntil(lambda: w.image is not None and w.image.name == "p1", timeout=RUN_TIMEOUT_MS)
    assert [i.data(KEY_ROLE) for i in c.panel.list.selectedIndexes()] == [key]  # the tile shown stays selected
    other = make_image_file(tmp_path / "elsewhere.png", 50, 40, seed=9)
    with qtbot.waitSignal(w.image_opened, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(other))
    assert c.panel.list.selectedIndexes() == []


def test_a_tile_whose_photo_fails_to_open_does_not_keep_the_next_photo_selected(qtbot, folder_window, photos, tmp_path):
    """A click on a tile whose photo cannot be opened (broken.jpg) never emits image_opened: the next photo opened
    otherwise must still clear the tile selection (the flag set by the click must not outlive that click)."""
    w, c = folder_window, folder_window.folders
    _click_tile_of_a_run(qtbot, c, photos / "broken.jpg", w.image_failed)
    other = make_image_file(tmp_path / "elsewhere.png", 50, 40, seed=9)
    with qtbot.waitSignal(w.image_opened, timeout=RUN_TIMEOUT_MS):
        w.open_path(str(other))
    assert c.panel.list.selectedIndexes() == []


def test_a_tile_click_overtaken_by_another_open_does_not_keep_the_tile_selected(qtbot, folder_window, photos, tmp_path):
    """A click on a tile (its photo loads) then, before it has loaded, File ▸ Open of another photo: the other
    photo is shown and the tile's load is dropped; the tile must not stay highlighted under the other photo."""
    w, c = folder_window, folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    c.stored = {}  # the tile opens its photo (no stored explanation)
    key = str(photos / "p1.png")
    index = c.panel.list.model().index(_view_keys(c.panel).index(key), 0)
    other = make_image_file(tmp_path / "elsewhere.png", 50, 40, seed=9)
    with qtbot.waitSignal(w.image_opened, timeout=RUN_TIMEOUT_MS):
        c.panel.list.setCurrentIndex(index)
        c.panel.list.clicked.emit(index)
        w.open_path(str(other))  # File ▸ Open at once: the tile's load is cancelled
    qtbot.wait(200)
    assert w.image.name == "elsewhere"
    assert c.panel.list.selectedIndexes() == []


def test_a_tile_explained_with_another_model_opens_its_photo_not_the_old_explanation(qtbot, folder_window, photos):
    """After File ▸ Load Model, a click on a tile of the folder run (made with the earlier model) showed the old
    explanation beside the new model's classification: "class 2 — 60.0 %" over "espresso — 90.2 % (saved image)"."""
    from gradflip_desktop.ui.controllers.model_session import ModelInfo

    w, c = folder_window, folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    tile = next(t for t in c.panel.tiles.values() if t.state in (FLIPPED, NOT_FLIPPED))
    labels = list(w.models.session.classifier.labels)  # as after loading another model
    w.models.info = ModelInfo("Another net", labels, {}, ["cpu"], "cpu", {})
    row = _view_keys(c.panel).index(tile.key)
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        c.panel.list.clicked.emit(c.panel.list.model().index(row, 0))
    qtbot.waitUntil(lambda: w.image is not None and w.image.name == Path(tile.path).stem, timeout=RUN_TIMEOUT_MS)
    qtbot.wait(200)
    assert w.result is None  # the photo, classified by the loaded model; no explanation of the other model's
    assert "; it was explained with tiny, not the loaded Another net. Press Explain" in w.status_label.text()


def test_a_waiting_tile_opened_during_the_run_says_its_classes_wait_for_the_runs_current_image(qtbot, folder_window,
                                                                                                photos):
    """A helper's long-session walk (session 43): a tile not yet explained, clicked while the run explains another
    photo, showed "classifying …", an empty class list and no sentence until the run's current image was done (its
    classification queues behind it on the engine thread): the caption and the class list now say so."""
    w, c = folder_window, folder_window.folders
    w.controls.set_settings(SLOW)
    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c.panel.tiles.get(str(photos / "p0.png")) is not None
                    and c.panel.tiles[str(photos / "p0.png")].state == RUNNING, timeout=RUN_TIMEOUT_MS)
    key = str(photos / "p2.png")
    c.panel.list.clicked.emit(c.panel.list.model().index(_view_keys(c.panel).index(key), 0))
    qtbot.waitUntil(lambda: w.image is not None and w.image.name == "p2", timeout=RUN_TIMEOUT_MS)
    waiting = "classifying after the folder run's current photo …"
    assert w.views.original.caption.text() == waiting
    assert w.controls.top5.item(0, 0).text() == waiting and w.models.classification is None
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        c.cancel()  # the current image stops: the photo's classification runs
    assert w.controls.top5.item(0, 0).text() != waiting
    assert "classifying" not in w.views.original.caption.text()
    _wait_done(qtbot, c)


def test_a_finished_tile_opens_with_its_classes_at_once_not_after_the_runs_current_image(qtbot, folder_window, photos,
                                                                                         monkeypatch):
    """The photo's classes come with its result (same model, same pixels): classified again on the engine, behind
    the run's current image, the views showed the explanation beside "classifying …" for a whole image's time."""
    import numpy as np

    w, c = folder_window, folder_window.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    seen = []
    show = w.runs._show_result
    monkeypatch.setattr(w.runs, "_show_result", lambda result, outcome: (seen.append(w.models.classification),
                                                                         show(result, outcome)))
    key = str(photos / "p1.png")
    c.panel.list.clicked.emit(c.panel.list.model().index(_view_keys(c.panel).index(key), 0))
    qtbot.waitUntil(lambda: w.result is not None and w.image.name == "p1", timeout=RUN_TIMEOUT_MS)
    assert seen and seen[0] is not None  # known when the explanation is shown, not later
    np.testing.assert_allclose(seen[0].probabilities, w.result.original_probabilities)
    assert seen[0].top[0].label == w.result.original.label
    qtbot.wait(300)  # nothing classifies it again afterwards with other numbers
    np.testing.assert_allclose(w.models.classification.probabilities, w.result.original_probabilities, atol=1e-6)


def test_include_subfolders_question_counts_the_explanations_the_run_finishes_while_it_is_open(qtbot):
    # asked with 6 done, the run went on under the question (22/22 done when it was answered): "Yes" dropped 19
    p = GalleryPanel()
    qtbot.addWidget(p)
    p.start("t", [(f"k{i}", f"/x/{i}.png", f"img{i}") for i in range(4)])  # a run: its Cancel is enabled
    p.set_state("k0", FLIPPED, "→ a", label="a", size=0.5)
    seen = []

    def confirm(question, title="", live=None):
        p.set_state("k1", FLIPPED, "→ b", label="b", size=0.5)  # finished while the question is open
        p.set_state("k2", ERROR, "could not explain")  # an error has no explanation to drop (the Close question's count)
        seen.append((question, live() if live is not None else question))
        return False

    p.confirm = confirm
    p.subfolders.setChecked(True)  # leaving them out asks (ticking it adds images and drops nothing)
    p.subfolders.click()
    assert "the 1 explanation done so far is dropped (Export All keeps it first)" in seen[0][0]
    assert "the 2 explanations done so far are dropped (Export All keeps them first)" in seen[0][1]
    assert p.subfolders.isChecked()


def test_a_model_chosen_during_a_folder_run_does_not_explain_the_rest_of_it(qtbot, folder_window, photos, monkeypatch):
    # the picker switched EfficientNet-Lite0 to another model at image 13 of 22: images 14-22 were explained with
    # it, into the same gallery and summary, with no word (the command line's --resume refuses another model's sets)
    from gradflip_desktop.ui.controllers import folders

    w, c = folder_window, folder_window.folders
    first, other = w.models.session.classifier, make_tiny(seed=2)
    real, used = folders.explain_one_task, []

    def explain(task, session, inp, *a):
        if w.models.session.classifier is None:
            w.models.session.classifier = first  # the model load queued before the first image ends
        used.append(session.classifier)
        w.models.session.classifier = other  # the user loads another model while the run goes on
        return real(task, session, inp, *a)

    monkeypatch.setattr(folders, "explain_one_task", explain)
    w.models.session.classifier = None  # `gradflip FOLDER`: the folder is listed before the default model is loaded
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    assert len(used) == 4 and all(m is first for m in used)  # p0-p2 and broken.jpg: the run's own model


def test_a_linked_photo_is_explained_once_as_on_the_command_line(qtbot, folder_window, photos):
    """A link to a photo of the folder made a second tile and a second explanation of the same file (the command
    line explains it once, and says so)."""
    (photos / "link.png").symlink_to(photos / "p0.png")
    c, titles = folder_window.folders, []
    real = c.panel.start
    c.panel.start = lambda title, entries: (titles.append(title), real(title, entries))[1]
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    names = sorted(Path(k).name for k in c.panel.tiles)
    assert names == ["broken.jpg", "link.png", "p1.png", "p2.png"] or names == ["broken.jpg", "p0.png", "p1.png", "p2.png"]
    assert c.counts[FLIPPED] + c.counts[NOT_FLIPPED] == 3
    assert "1 listed twice (a link), explained once" in titles[-1]


def test_opening_a_folder_while_export_all_runs_does_not_drop_the_export(qtbot, folder_window, photos, tmp_path, monkeypatch):
    # Another folder's "Export All…" started the export; opening that folder again while the export still runs
    # (nothing visible happened yet) asked nothing: the export was discarded and the session folder deleted under it.
    from gradflip_desktop.core.dataset import complete_record
    from gradflip_desktop.ui.controllers import folders

    c = folder_window.folders
    real_export = folders.export_task

    def slow_export(task, *a):
        time.sleep(1.0)  # a large folder's copy
        return real_export(task, *a)

    monkeypatch.setattr(folders, "export_task", slow_export)
    other, dest = tmp_path / "other", tmp_path / "kept"
    other.mkdir()
    make_image_file(other / "q.png", 64, 48, seed=5)
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    monkeypatch.setattr(c.panel, "ask_drop", lambda done, running: "export")
    monkeypatch.setattr(folders, "choose_folder_to_explain", lambda *a: (str(other), False))
    monkeypatch.setattr(folders_mod, "choose_export_folder", (lambda *a, **k: str(dest)))
    c.open_dialog()  # "Export All…": the export runs
    assert c._export.busy and c.folder == str(photos)
    c.open_dialog()  # nothing happened yet: the user asks again
    qtbot.waitUntil(lambda: c.folder == str(other), timeout=RUN_TIMEOUT_MS)
    _wait_done(qtbot, c)
    assert (dest / "summary.csv").is_file() and all(complete_record(dest, f"p{i}") is not None for i in range(3))


def test_a_failed_summary_forgets_the_other_folder(qtbot, folder_window, photos, tmp_path, monkeypatch):
    # 'Stop and Export All…' before another folder, and the run's summary cannot be written: nothing is exported, yet
    # the other folder stays pending; a later Continue exports by itself and then opens that folder.
    from gradflip_desktop.ui.controllers import folders

    c = folder_window.folders
    real_explain, real_summary = folders.explain_one_task, folders.summary_task

    def slow(task, *a, **k):
        time.sleep(0.4)
        return real_explain(task, *a, **k)

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(folders, "explain_one_task", slow)
    monkeypatch.setattr(folders, "summary_task", broken)
    monkeypatch.setattr(c.panel, "ask_drop", lambda done, running: "export")
    dialogs = []
    monkeypatch.setattr(folders_mod, "choose_export_folder", lambda *a, **k: dialogs.append(1) or str(tmp_path / "kept"))
    monkeypatch.setattr(folder_window, "show_error", lambda *a, **k: None)
    other = tmp_path / "other"
    other.mkdir()
    make_image_file(other / "q.png", 64, 48, seed=5)

    c.open_folder(str(photos))
    qtbot.waitUntil(lambda: c.counts[folders.FLIPPED] + c.counts[folders.NOT_FLIPPED] >= 1, timeout=RUN_TIMEOUT_MS)
    assert c.running
    assert c.may_drop_run(lambda: c.open_folder(str(other))) is False  # "Stop and Export All…"
    qtbot.waitUntil(lambda: not c.running, timeout=RUN_TIMEOUT_MS)  # stopped; the summary failed: no export
    assert not dialogs
    assert c._after_export is None, "the other folder is still pending after the export was given up"
    assert not c._export_when_stopped, "a later Continue exports by itself"

    # the harm: Continue, to the end; the summary is written now
    monkeypatch.setattr(folders, "summary_task", real_summary)
    c.resume()
    _wait_done(qtbot, c)
    qtbot.wait(500)
    assert not dialogs and c.folder == str(photos)


def test_include_subfolders_waits_for_an_export_still_copying(qtbot, folder_window, nested, tmp_path, monkeypatch):
    # listing the folder again removed the session folder Export All was copying from: a half export, no word
    from gradflip_desktop.core.dataset import complete_record
    from gradflip_desktop.ui.controllers import folders

    c, real_export = folder_window.folders, folders.export_task

    def slow_export(task, *a):
        time.sleep(1.0)  # a large folder's copy
        return real_export(task, *a)

    monkeypatch.setattr(folders, "export_task", slow_export)
    c.open_folder(str(nested), recursive=False)
    _wait_done(qtbot, c)
    out, dest = c.out, tmp_path / "kept"
    c.export_all(str(dest))
    assert c._export.busy
    c._subfolders_toggled(True)  # as the panel's checkbox says after its question
    assert not c.recursive and not c.panel.subfolders.isChecked() and c.out == out
    assert "still copying" in folder_window.status_label.text()
    qtbot.waitUntil(lambda: c.exported is not None, timeout=RUN_TIMEOUT_MS)
    assert all(complete_record(dest, f"p{i}") is not None for i in range(3)) and Path(out).is_dir()


def test_closing_while_export_all_copies_asks_first(qtbot, folder_window, photos, tmp_path, monkeypatch):
    # the window closed at once and the copy stopped half done, with no word
    from gradflip_desktop.ui.controllers import folders

    c, real_export = folder_window.folders, folders.export_task

    def slow_export(task, *a):
        time.sleep(1.0)
        return real_export(task, *a)

    monkeypatch.setattr(folders, "export_task", slow_export)
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    c.export_all(str(tmp_path / "kept"))
    asked, lives = [], []
    monkeypatch.setattr(c.panel, "confirm", lambda question, title="", live=None: asked.append((question, title))
                        or lives.append(live) or False)
    assert not c.may_close() and asked and "still copying" in asked[0][0] and asked[0][1] == "Close GradFlip"
    assert lives[0]() == asked[0][0]
    qtbot.waitUntil(lambda: c.exported is not None, timeout=RUN_TIMEOUT_MS)
    # the copy ended while the question was open: it says so (it said "still copying" under "Exported 10 files")
    assert lives[0]() == f"Export All has finished: the results are in {tmp_path / 'kept'}. Close GradFlip?"
    assert c.may_close() and len(asked) == 1  # exported: closes without a question


def _slow_subfolder_listing(qtbot, w, nested, monkeypatch) -> list[str]:
    """``nested`` run without subfolders, then Include subfolders ticked with a listing that takes a second: the
    names of the photos explained from then on (the list fills as they run)."""
    from gradflip_desktop.ui.controllers import folders

    c, ran = w.folders, []
    real_list, real_explain = folders.list_folder_task, folders.explain_one_task
    monkeypatch.setattr(folders, "list_folder_task", lambda task, *a: (time.sleep(1.0 if len(a) > 3 else 0),
                                                                          real_list(task, *a))[1])
    monkeypatch.setattr(folders, "explain_one_task", lambda task, model, inp, *a: (ran.append(inp.path.name),
                                                                                      real_explain(task, model, inp, *a))[1])
    c.open_folder(str(nested), recursive=False)
    _wait_done(qtbot, c)
    ran.clear()
    c.panel.subfolders.click()
    assert c._list.busy
    return ran


def test_esc_while_include_subfolders_lists_them_adds_none(qtbot, folder_window, nested, monkeypatch):
    """Include subfolders ticked over an ended run lists the subfolders in the background; Esc (Cancel) was enabled
    then but did nothing (the run had ended), and once listed, the subfolders' images were explained anyway."""
    w, c, ran = folder_window, folder_window.folders, _slow_subfolder_listing(qtbot, folder_window, nested, monkeypatch)
    assert w.cancel_action.isEnabled()
    w.cancel_action.trigger()  # Esc
    qtbot.wait(1500)
    qtbot.waitUntil(lambda: not c.running, timeout=RUN_TIMEOUT_MS)
    assert ran == [] and len(c.panel.tiles) == 4 and not c.panel.subfolders.isChecked() and not c.recursive
    assert c.panel.title.text().startswith("4/4 done")
    c.panel.subfolders.click()  # ticked again: they are listed and explained
    _wait_done(qtbot, c)
    assert ran == ["d0.png"] and len(c.panel.tiles) == 5


def test_closing_while_include_subfolders_lists_them_stops_and_exports(qtbot, folder_window, nested, tmp_path, monkeypatch):
    """Closing (or another folder) while the subfolders are listed, answered "Stop and Export All…": the listing
    stops (none of them is added) and the finished results are exported; the run did not stop (it had ended), so
    the subfolders' images were explained first."""

    w, c = folder_window, folder_window.folders
    w.settings.setValue("folders/ask_on_close", True)
    ran = _slow_subfolder_listing(qtbot, w, nested, monkeypatch)
    monkeypatch.setattr(c.panel, "ask_close", lambda done, running: ("export", False))
    dest = tmp_path / "kept"
    monkeypatch.setattr(folders_mod, "choose_export_folder", (lambda *a, **k: str(dest)))
    assert not w.close()
    qtbot.waitUntil(lambda: c.exported is not None, timeout=RUN_TIMEOUT_MS)
    qtbot.wait(1500)
    assert ran == [] and not c.running and len(list(dest.glob("*.gradflip.json"))) == 3


def test_include_subfolders_never_explains_a_photo_the_run_explained_through_a_link_again(qtbot, folder_window, tmp_path,
                                                                                          monkeypatch):
    """The folder's l.png is a link to sub/b.png: the run explained it as l. Ticking Include subfolders listed
    sub/b.png as a new photo and explained the same file again (a second set, tile and summary row: 4 of 3 photos;
    the command line and a folder opened with its subfolders explain it once)."""
    import os

    from gradflip_desktop.ui.controllers import folders

    c, ran, real = folder_window.folders, [], folders.explain_one_task
    monkeypatch.setattr(folders, "explain_one_task", lambda task, model, inp, *a: (ran.append(inp.path.name),
                                                                                      real(task, model, inp, *a))[1])
    f = tmp_path / "ph"
    (f / "sub").mkdir(parents=True)
    make_image_file(f / "sub" / "b.png", 40, 30, seed=3)
    make_image_file(f / "sub" / "d0.png", 40, 30, seed=1)
    make_image_file(f / "p.png", 40, 30, seed=2)
    os.symlink(Path("sub") / "b.png", f / "l.png")
    c.open_folder(str(f), recursive=False)
    _wait_done(qtbot, c)
    assert sorted(ran) == ["l.png", "p.png"]
    c.panel.subfolders.click()
    _wait_done(qtbot, c)
    assert sorted(ran) == ["d0.png", "l.png", "p.png"], ran  # sub/b.png is l.png's file: explained once
    assert len(c.panel.tiles) == 3 and c.panel.title.text().startswith("3/3 done")
    assert sorted(p.name for p in Path(c.out).glob("*.gradflip.json")) == ["l.gradflip.json", "p.gradflip.json",
                                                                           "sub_d0.gradflip.json"]


def test_include_subfolders_of_a_folder_gone_since_keeps_the_run_exportable(qtbot, folder_window, nested, monkeypatch):
    """The explained folder moved (or its drive unplugged), then Include subfolders ticked: the listing failed and
    finished the panel with "… is not a folder", its Export All button disabled over the finished explanations, the
    box left ticked. Now the run stays as it was, exportable, the box cleared, and the status bar says why."""
    c, errors = folder_window.folders, []
    monkeypatch.setattr(folder_window, "show_error", lambda *a, **k: errors.append(a))
    c.open_folder(str(nested), recursive=False)
    _wait_done(qtbot, c)
    title = c.panel.title.text()
    nested.rename(nested.with_name("moved"))
    c.panel.subfolders.click()
    qtbot.wait(200)
    assert not c.running and not errors and c.panel.title.text() == title and c.panel.export_button.isEnabled()
    assert not c.panel.subfolders.isChecked() and not c.recursive
    assert "no longer a folder" in folder_window.status_label.text()


def test_include_subfolders_that_add_nothing_keep_the_export(qtbot, folder_window, photos, tmp_path):
    """Exported, then Include subfolders over subfolders without photos: nothing was added, yet the run was marked
    never exported, so closing asked to export the same results again."""
    c = folder_window.folders
    (photos / "notes").mkdir()
    (photos / "notes" / "todo.txt").write_text("no photo here")
    c.open_folder(str(photos), recursive=False)
    _wait_done(qtbot, c)
    c.export_all(str(tmp_path / "kept"))
    qtbot.waitUntil(lambda: c.exported is not None, timeout=RUN_TIMEOUT_MS)
    c.panel.subfolders.click()
    qtbot.waitUntil(lambda: not c.running, timeout=RUN_TIMEOUT_MS)
    assert c.recursive and c.exported is not None and c._unexported() == 0 and not folder_window.cancel_action.isEnabled()
    assert "hold no other image" in folder_window.status_label.text()


def test_a_folder_run_with_a_group_target_says_so_in_its_title(qtbot, folder_window, photos):
    """The "Explain any cat" link keeps the group chosen (it is saved): a folder opened later explained "any low"
    in every photo and said "not in the group; nothing to flip" on most tiles without saying why; the run's title
    names the Target whenever it is not the top class."""
    from gradflip_desktop.ui.settings import TARGET_GROUP

    w, c = folder_window, folder_window.folders
    w.controls.set_settings(dataclasses.replace(QUICK, target_mode=TARGET_GROUP, group="low"))
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    assert c.panel.title.text().startswith("4/4 done: ") and c.panel.title.text().endswith(" · explaining “any low” (Target)")
    w.controls.set_settings(QUICK)  # the top class: nothing said
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    assert "explaining" not in c.panel.title.text() and "Target" not in c.panel.title.text()


def test_on_a_hidpi_screen_the_tiles_are_made_with_its_device_pixels(qtbot, folder_window, photos, monkeypatch):
    # a 2x screen drew the 264 x 88 tiles upscaled from 264 x 88 pictures (soft): photos and strips are now made
    # with the screen's pixels and drawn at the tile's size
    from gradflip_desktop.ui.widgets.tile_image import ICON

    c = folder_window.folders
    monkeypatch.setattr(c.panel, "devicePixelRatioF", lambda: 2.0)
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    done = [t for t in c.panel.tiles.values() if t.strip]
    assert done, "no finished tile"
    for tile in done:
        pixmap = c.panel.model.pixmap(tile.key)
        assert tile.picture.ratio == 2.0 and pixmap.devicePixelRatio() == 2.0
        assert pixmap.deviceIndependentSize().toSize() == ICON
        assert pixmap.size() == ICON * 2
        image = pixmap.toImage()
        alpha = [image.pixelColor(image.width() // 2, y).alpha() for y in range(image.height())]
        assert sum(a > 0 for a in alpha) > ICON.height() + 10  # the strip fills the device pixels' height, not 88


def test_subfolders_skipped_with_include_subfolders_ticked_are_not_called_not_included(qtbot, folder_window, photos):
    """With Include subfolders ticked, a link to a folder (never followed) or a folder that cannot be read was counted
    as "1 subfolder not included": the hint of a box already ticked. It is skipped, and the title says so."""
    import os

    c = folder_window.folders
    (photos / "sub").mkdir()
    make_image_file(photos / "sub" / "s0.png", 40, 30, seed=3)
    os.symlink(photos / "sub", photos / "link_to_sub")  # never followed: one skipped entry
    titles, real_title = [], c.panel.set_title
    c.panel.set_title = lambda text: (titles.append(text), real_title(text))[1]
    c.open_folder(str(photos), recursive=True)
    _wait_done(qtbot, c)
    listed = [t for t in titles if t.startswith(f"{photos.name}: ")]
    assert listed and "1 subfolder skipped" in listed[0] and "not included" not in listed[0], titles
    c.open_folder(str(photos), recursive=False)  # left out: the box offers them
    _wait_done(qtbot, c)
    assert any("2 subfolders not included" in t for t in titles), titles


def test_the_folder_title_says_how_long_the_rest_takes_and_stops_saying_it_at_the_end(qtbot, folder_window, tmp_path):
    """A 3,000-photo folder showed "12/3000 done: …" and no word of the hours left; now the title says "about N min
    left" (or "under a minute left") once an image was explained, and nothing once the run has ended (in the
    title, which cuts itself short with its whole text as the tooltip: in the bar it wrapped in a narrow window)."""
    folder = photo_folder(tmp_path / "many", count=4)
    c = folder_window.folders
    shown = []
    real = c.panel.set_title
    c.panel.set_title = lambda text: (real(text), shown.append(text))[0]
    c.open_folder(str(folder))
    _wait_done(qtbot, c)
    during = [t for t in shown if t.startswith(("1/4 done", "2/4 done", "3/4 done"))]
    assert len(during) == 3 and all(t.endswith(" · under a minute left") for t in during), shown
    assert shown[-1].startswith("4/4 done: ") and "left" not in shown[-1] and "left" not in c.panel.title.text()
    assert c.panel.progress.text() == "4 / 4 images"


def test_include_subfolders_after_a_run_ended_times_the_new_images_from_their_own_start(qtbot, folder_window, nested):
    """Ticking Include subfolders an hour after a run ended explained the subfolders' images with the ended run's
    clock: the hour in between counted as time spent on images, and the title said "about 15 min left" of a
    run that takes seconds."""
    from gradflip_desktop.core.dataset.eta import RunClock

    c, now = folder_window.folders, [0.0]
    (nested / "a_sub").mkdir()
    make_image_file(nested / "a_sub" / "a0.png", 40, 30, seed=8)
    c.clock = RunClock(lambda: now[0])
    c.open_folder(str(nested), recursive=False)
    _wait_done(qtbot, c)
    now[0] = 3600.0  # the run ended an hour ago; the images take no time on this clock
    shown = []
    real = c.panel.set_title
    c.panel.set_title = lambda text: (real(text), shown.append(text))[0]
    c.panel.subfolders.click()
    _wait_done(qtbot, c)
    assert c.panel.title.text().startswith("6/6 done")
    assert not [t for t in shown if " left" in t], shown


def test_an_empty_folder_leaves_no_cancel_to_press(qtbot, folder_window, tmp_path):
    """walk38: after "emptydir: no images found" the toolbar's Cancel stayed red and enabled (for the listing, long
    over), and pressing it did nothing, until the next folder run."""
    empty = tmp_path / "emptydir"
    empty.mkdir()
    c = folder_window.folders
    c.open_folder(str(empty))
    qtbot.waitUntil(lambda: "no images found" in c.panel.title.text(), timeout=RUN_TIMEOUT_MS)
    assert not c.running and not folder_window.cancel_action.isEnabled()


def test_export_all_is_in_the_file_menu_too(qtbot, folder_window, photos, tmp_path, monkeypatch):
    """walk38: Export All was only the Folder panel's button: with the panel closed, a user had to know View ▸ Folder."""
    w = folder_window
    file_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&File")
    assert w.export_all_action in file_menu.actions() and w.export_all_action.shortcut().toString() == "Ctrl+Shift+E"
    w.export_all_action.trigger()  # no folder run yet: said, nothing asked
    assert "no folder results to export now" in w.status_label.text()
    assert w.export_all_action.isEnabled()  # a disabled action's shortcut says nothing: it stays on and says why
    c = w.folders
    c.open_folder(str(photos))
    _wait_done(qtbot, c)
    w.gallery_dock.hide()
    dest = tmp_path / "menu-export"
    monkeypatch.setattr(folders_mod, "choose_export_folder", lambda *a, **k: str(dest))
    w.export_all_action.trigger()
    qtbot.waitUntil(lambda: c.exported is not None or c.export_error is not None, timeout=RUN_TIMEOUT_MS)
    assert c.export_error is None and (dest / "summary.csv").is_file() and w.gallery_dock.isVisible()


def test_a_photo_opened_from_its_waiting_tile_shows_its_explanation_when_the_run_reaches_it(qtbot, folder_window, photos,
                                                                                            monkeypatch):
    """walk38: a click on a waiting tile opened its photo; when the folder run had explained it, the views still said
    "Press Explain", and Explain computed it a second time beside the run."""
    import threading

    w, c = folder_window, folder_window.folders
    release, real = threading.Event(), folders_mod.explain_one_task

    def gated(task, session, inp, *args, **kwargs):  # p0 holds the engine until the photo is open
        if inp.path.name == "p0.png":
            release.wait(30)
        return real(task, session, inp, *args, **kwargs)

    monkeypatch.setattr(folders_mod, "explain_one_task", gated)
    c.open_folder(str(photos))
    key = str(photos / "p2.png")
    qtbot.waitUntil(lambda: c.panel.tiles.get(key) is not None and c.panel.tiles[key].state == WAITING,
                    timeout=RUN_TIMEOUT_MS)
    opened = []
    w.image_opened.connect(opened.append)
    c.panel.list.clicked.emit(c.panel.list.model().index(_view_keys(c.panel).index(key), 0))
    qtbot.waitUntil(lambda: opened == ["p2"], timeout=RUN_TIMEOUT_MS)
    assert w.result is None
    release.set()
    _wait_done(qtbot, c)
    qtbot.waitUntil(lambda: w.result is not None, timeout=RUN_TIMEOUT_MS)
    rec = json.loads((Path(c.out) / "p2.gradflip.json").read_text())
    assert w.image.name == "p2" and w.result.final.label == rec["final"]["label"] and len(w.result.steps) == rec["steps"]
