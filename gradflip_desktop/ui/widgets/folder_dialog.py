"""Choosing folders: the export folder (a folder that does not exist yet is created, not refused) and the
folder to explain (File ▸ Open Folder…: its images listed too, an "Include subfolders" choice)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QDialog, QFileDialog, QGridLayout, QHeaderView, QTreeView, QWidget

ROOMY = (900, 560)  # the dialogs' least size: at Qt's own, sizes and types read "414...KiB", "PN...ge"


def roomy(dialog: QFileDialog) -> None:
    """Qt's own (non-native) file dialog at :data:`ROOMY` or larger, its detail view's size, type and date columns as
    wide as what they hold (the name column takes the rest)."""
    dialog.resize(max(dialog.width(), ROOMY[0]), max(dialog.height(), ROOMY[1]))
    tree = dialog.findChild(QTreeView, "treeView")
    if tree is not None:
        header = tree.header()
        for column in range(1, header.count()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)


class ExportFolderDialog(QFileDialog):
    """A folder chooser whose typed, new folder name is created (Qt's own says "Directory not found")."""

    def __init__(self, parent: QWidget | None, start: str, title: str = "Export Results to Folder"):
        super().__init__(parent, title, start)
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # the native one cannot create on accept
        self.setLabelText(QFileDialog.DialogLabel.Accept, "Export Here")
        roomy(self)
        self.created: Path | None = None
        self.chosen: str | None = None
        self.error = ""

    def typed_path(self) -> Path | None:
        """The folder the user typed or chose (relative names are in the shown folder)."""
        edit = self.findChild(QWidget, "fileNameEdit")
        text = edit.text().strip() if edit is not None and hasattr(edit, "text") else ""
        if text:
            return Path(self.directory().absolutePath()) / os.path.expanduser(text)
        files = self.selectedFiles()
        return Path(files[0]) if files else None

    def accept(self) -> None:  # noqa: D401 - Qt API
        """Accept the chosen folder; a typed folder that does not exist yet is created first."""
        path = self.typed_path()
        if path is None:
            return
        if not path.exists():
            try:
                path.mkdir(parents=True)
            except OSError as exc:
                self.error = f"cannot create the folder {path}: {exc.strerror or exc}"
                self.setLabelText(QFileDialog.DialogLabel.FileName, "Cannot create it:")
                return
            self.created = path
        elif not path.is_dir():
            self.error = f"{path} is a file, not a folder"
            return
        self.chosen = str(path)
        QDialog.accept(self)


def choose_export_folder(parent: QWidget | None, start: str, title: str = "Export Results to Folder") -> str | None:
    """Ask for the export folder (modal; Export Results and Export All alike); a typed new folder is created. None: cancelled."""
    dialog = ExportFolderDialog(parent, start, title)
    if dialog.exec() != QFileDialog.DialogCode.Accepted:
        return None
    return dialog.chosen


class OpenFolderDialog(QFileDialog):
    """Choose a folder to explain, with an "Include subfolders" check box (the command line's --recursive).

    The folders' images are listed as well (``name_filter``; Qt's folder chooser shows folders only), so the
    user sees what the folder holds before explaining it; an image chosen stands for the folder it is in.
    """

    def __init__(self, parent: QWidget | None, start: str, recursive: bool = False, name_filter: str = ""):
        super().__init__(parent, "Open Folder", start)
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # a native dialog takes no extra widget
        if name_filter:
            self.setNameFilter(name_filter)
        self.setLabelText(QFileDialog.DialogLabel.Accept, "Explain Images")
        roomy(self)
        self.subfolders = QCheckBox("Include subfolders")
        self.subfolders.setToolTip("Also explain the images in the folder's subfolders, at any depth")
        self.subfolders.setChecked(bool(recursive))
        self.chosen: str | None = None
        grid = self.layout()
        if isinstance(grid, QGridLayout):
            grid.addWidget(self.subfolders, grid.rowCount(), 0, 1, grid.columnCount())
        else:  # pragma: no cover - Qt's own dialog is a grid
            grid.addWidget(self.subfolders)

    def accept(self) -> None:  # noqa: D401 - Qt API
        """Accept the chosen folder, or the folder of the file chosen (Qt's would do nothing on a file)."""
        files = self.selectedFiles()
        path = Path(files[0]) if files else None
        if path is not None and path.is_file():
            path = path.parent
        if path is None or not path.is_dir():
            super().accept()  # Qt's own answer: "Directory not found" for a name that does not exist
            return
        self.chosen = str(path)
        QDialog.accept(self)


def choose_folder_to_explain(
    parent: QWidget | None, start: str, recursive: bool, name_filter: str = ""
) -> tuple[str, bool] | None:
    """Ask for a folder to explain (modal): (folder, include subfolders), or None when cancelled."""
    dialog = OpenFolderDialog(parent, start, recursive, name_filter)
    if dialog.exec() != QFileDialog.DialogCode.Accepted or dialog.chosen is None:
        return None
    return dialog.chosen, dialog.subfolders.isChecked()
