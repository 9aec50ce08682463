"""Export Results… (the result set, written in the background) and Copy Figure (to the clipboard).

When result files exist already, the window asks before overwriting: the core raises
:class:`~gradflip_desktop.core.errors.ResultExistsError` and the GUI phrases its own question.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QGuiApplication

from ..qimages import array_to_qimage
from ..widgets.folder_dialog import choose_export_folder
from ..worker import TaskSlot

if TYPE_CHECKING:
    from gradflip_desktop.core.results import ExplainResult

    from ..main_window import MainWindow


def export_task(task, result: "ExplainResult", folder: str, name: str, force: bool, info: dict | None) -> list[Path]:
    from gradflip_desktop.core.dataset.inputs import file_fingerprint
    from gradflip_desktop.core.report import write_result_set

    if info is not None and info.get("source") and "file" not in info:  # as a CLI set: --resume can tell an edited
        info = {**info, "file": file_fingerprint(info["source"])}  # photo (the window passes the one taken at loading)
    return write_result_set(result, folder, name, force=force, image_info=info)


def figure_task(task, result: "ExplainResult", notes: list | None = None) -> np.ndarray:
    from gradflip_desktop.core.figure import render_figure

    return render_figure(result, notes=notes)


CHOOSE_ANOTHER = "choose another folder"  # an answer of MainWindow.ask_overwrite


class ExportController(QObject):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.w = window
        self._pending: tuple[str, bool] | None = None  # folder, force of the export in progress
        self._request: tuple | None = None  # (result, name, info) of that export: an Overwrite answer rewrites this set
        self._export = TaskSlot(window.background, self._on_exported, on_error=self._on_export_failed, parent=self)
        self._figure = TaskSlot(window.background, self._on_figure, on_error=self._on_figure_failed, parent=self)

    def export_name(self) -> str:
        return self.w.image.name if self.w.image is not None else "image"

    def export_dialog(self) -> None:
        self._choose_folder(None)

    def _choose_folder(self, request: tuple | None) -> None:
        """Choose a folder and export the shown result (``request``: the (result, name, info) of a failed export)."""
        if self.w.result is None and request is None:
            return
        source = self.w.images.source[0] if self.w.images.source else None  # a path, or the pasted pixels
        own = source if isinstance(source, str) and not self.w.images.showing_sample() else None
        last = str(self.w.settings.value("export/folder", ""))  # gone since (unplugged): the photo's folder, not the cwd
        start = last if last and Path(last).is_dir() else str(Path(own).parent) if own else str(Path.home())
        folder = choose_export_folder(self.w, start)  # a typed new folder is created (first time: the photo's)
        if folder and request is not None:
            self._start(folder, False, request)
        elif folder:
            self.export_to(folder)

    def export_to(self, folder: str, force: bool = False) -> None:
        w = self.w
        if w.result is None:
            return
        info = w.image.to_dict() if w.image is not None else None
        if info is not None and info.get("source") and w.images.file is not None:
            info["file"] = w.images.file  # the file as it was when opened, not as it is now
        self._start(folder, force, (w.result, self.export_name(), info))

    def _start(self, folder: str, force: bool, request: tuple) -> None:
        self._pending, self._request = (folder, force), request  # the folder: the next dialog's start once written
        self.w.set_status(f"Exporting to {html.escape(folder)} …")
        result, name, info = request
        self._export.start(export_task, result, folder, name, force, info)

    def _on_exported(self, paths: list | None) -> None:
        if paths is None:
            return
        folder = Path(paths[0]).parent if paths else Path(self._pending[0] if self._pending else ".")
        if self._pending:  # a folder the export could not write (read-only) is not where the next dialog starts
            self.w.settings.setValue("export/folder", self._pending[0])
        url = QUrl.fromLocalFile(str(folder)).toString()
        moved = " (with the set the run found: the key-set slider's choice is not part of the result)" \
            if self.w.views.key_moved else ""
        self.w.set_status(
            f"Exported {len(paths)} files to <a href=\"{html.escape(url)}\">{html.escape(str(folder))}</a>{moved}"
        )
        self.w.exported.emit(list(paths))

    def _on_export_failed(self, exc: BaseException) -> None:
        from gradflip_desktop.core.errors import ExportError, ResultExistsError

        w = self.w
        if isinstance(exc, ExportError):
            message = str(exc)
        else:
            message = f"export failed: {type(exc).__name__}: {exc}"
        if isinstance(exc, ResultExistsError) and self._pending and not self._pending[1]:
            answer = w.ask_overwrite(f"{message}. Overwrite them?")
            if answer is True:  # the set asked about, not what the window shows now (another photo may have opened)
                self._start(self._pending[0], True, self._request)
                return
            if answer == CHOOSE_ANOTHER:
                w.set_status("Nothing was overwritten; choose another folder.")
                self._choose_folder(self._request)
                return
            w.set_status("Export cancelled; nothing was overwritten.")
            w.export_failed.emit(message)
            return
        w.show_error("Export failed", message)
        w.export_failed.emit(message)

    def copy_figure(self) -> None:
        if self.w.result is not None:
            self.w.set_status("Drawing the figure …")
            notes = list(self.w.image.warnings) if self.w.image is not None else None
            self._figure.start(figure_task, self.w.result, notes)

    def _on_figure_failed(self, exc: BaseException) -> None:
        self.w.show_error("Copy figure", f"could not draw the figure: {exc}")

    def _on_figure(self, rgb: np.ndarray | None) -> None:
        if rgb is None:
            return
        QGuiApplication.clipboard().setImage(array_to_qimage(rgb))
        self.w.set_status(f"Figure copied to the clipboard ({rgb.shape[1]}×{rgb.shape[0]} px).")
        self.w.figure_copied.emit()
