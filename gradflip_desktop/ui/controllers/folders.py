"""File ▸ Open Folder…: explain every image of a folder in the engine thread, shown in the gallery.

The run is the command line's (:func:`gradflip_desktop.core.dataset.job.explain_inputs`): result sets,
thumbnails, ``summary.csv`` and ``index.html`` go to a session folder; Export All copies them to a folder
the user picks. Each finished image is sent to the GUI as a partial result; Cancel stops the run at the
next model evaluation (the images done so far stay).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from ..widgets.gallery import ERROR, FLIPPED, NOT_FLIPPED, RUNNING, GalleryPanel
from ..worker import TaskSlot, error_message

if TYPE_CHECKING:
    from ..main_window import MainWindow


@dataclass
class FolderInputs:
    folder: str
    out: str
    entries: list[tuple[str, str, str]]  # key, path, name
    skipped: int


@dataclass
class FolderItem:
    key: str
    state: str
    text: str
    thumbnail: str | None
    label: str
    size: float | None
    done: int
    total: int


def folder_run_task(task, session, folder: str, out: str, options, recursive: bool = False):
    """Engine thread: list the folder's images, then explain them; yields FolderInputs, then FolderItems."""
    from gradflip_desktop.core.dataset import collect_inputs
    from gradflip_desktop.core.dataset.gallery import THUMB_DIR
    from gradflip_desktop.core.dataset.job import ERROR as JOB_ERROR, JobSettings, explain_inputs

    if session.classifier is None:
        raise ValueError("no model is loaded")
    inputs, skipped = collect_inputs([folder], recursive=recursive)
    yield FolderInputs(folder, out, [(str(i.path), str(i.path), i.name) for i in inputs], len(skipped))
    if not inputs:
        return 0

    def on_outcome(o, done, total):
        rec = o.record or {}
        if o.status == JOB_ERROR:
            item = FolderItem(str(o.input.path), ERROR, error_message(o.error, "could not explain"), None, "", None, done, total)
        else:
            flipped = bool(rec.get("flipped"))
            text = (f"→ {rec['final']['label']} (L2 {rec.get('l2_saved', 0):.2f})" if flipped
                    else f"not flipped: {rec.get('status')}")
            thumb = Path(out) / THUMB_DIR / f"{Path(o.written[0]).name.split('.')[0]}.jpg" if o.written else None
            item = FolderItem(str(o.input.path), FLIPPED if flipped else NOT_FLIPPED, text,
                              str(thumb) if thumb and thumb.is_file() else None,
                              (rec.get("original") or {}).get("label", ""), rec.get("l2_saved"), done, total)
        task.partial.emit(task, item)  # queued to the GUI thread

    outcomes = explain_inputs(session.classifier, inputs, options, JobSettings(out=out, force=True), on_outcome=on_outcome,
                              should_stop=lambda: task.cancelled)
    return len(outcomes)


class FoldersController(QObject):
    """Owns the gallery panel and the folder run (one at a time)."""

    def __init__(self, window: "MainWindow", panel: GalleryPanel | None = None) -> None:
        super().__init__(window)
        self.w = window
        self.panel = panel or GalleryPanel()
        self.out: str | None = None
        self.counts = {FLIPPED: 0, NOT_FLIPPED: 0, ERROR: 0}
        self._slot = TaskSlot(window.engine, self._on_done, self._on_partial, self._on_error, parent=self)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.export_requested.connect(self.export_all)
        self.panel.open_requested.connect(lambda path: self.w.open_path(path))

    @property
    def running(self) -> bool:
        return self._slot.busy

    def open_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.w, "Open Folder")
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str, recursive: bool = False) -> None:
        self.out = tempfile.mkdtemp(prefix="gradflip-folder-")
        self.counts = dict.fromkeys(self.counts, 0)
        options = self.w.controls.settings().to_options()
        self.panel.start(f"Listing {folder} …", [])
        self.panel.show()
        self._slot.start(folder_run_task, self.w.models.session, folder, self.out, options, recursive)

    def cancel(self) -> None:
        self._slot.cancel()

    def _on_partial(self, value) -> None:
        if isinstance(value, FolderInputs):
            skipped = f", {value.skipped} other files skipped" if value.skipped else ""
            self.panel.start(f"{value.folder}: {len(value.entries)} images{skipped}", value.entries)
            if value.entries:
                self.panel.set_state(value.entries[0][0], RUNNING)
            return
        self.counts[value.state] = self.counts.get(value.state, 0) + 1
        self.panel.set_state(value.key, value.state, value.text, value.thumbnail, value.label, value.size)
        self.panel.set_progress(value.done, value.total, self._summary(value.done, value.total))

    def _summary(self, done: int, total: int) -> str:
        c = self.counts
        return f"{done}/{total} done: {c[FLIPPED]} flipped, {c[NOT_FLIPPED]} not flipped, {c[ERROR]} errors"

    def _on_done(self, value) -> None:
        total = len(self.panel.tiles)
        done = sum(self.counts.values())
        self.panel.finish(self._summary(done, total) + ("" if done == total else " (cancelled)"))

    def _on_error(self, exc: BaseException) -> None:
        self.panel.finish(error_message(exc, "the folder run failed"))

    def export_all(self, folder: str | None = None) -> Path | None:
        """Copy the run's result sets, summary.csv and index.html to ``folder`` (asked for when None)."""
        if self.out is None:
            return None
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self.w, "Export All Results to Folder")
            if not folder:
                return None
        dest = Path(folder)
        clash = [p.name for p in Path(self.out).iterdir() if (dest / p.name).exists()]
        if clash:
            self.w.show_error("Export All", f"{len(clash)} result file(s) already exist in {dest} (e.g. {clash[0]})")
            return None
        shutil.copytree(self.out, dest, dirs_exist_ok=True)
        return dest
