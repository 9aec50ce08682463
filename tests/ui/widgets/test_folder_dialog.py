"""The export folder dialog creates a typed new folder (Qt's own said "Directory not found"), refuses a file and
says why it cannot create one; the Open Folder dialog hands back its "Include subfolders" choice
(ui/widgets/folder_dialog.py). The dialogs are accepted here as a click on their button accepts them."""

from __future__ import annotations

import errno
import os

import pytest
from PySide6.QtWidgets import QFileDialog, QListView, QWidget

from gradflip_desktop.ui.widgets import folder_dialog
from gradflip_desktop.ui.widgets.folder_dialog import ExportFolderDialog, OpenFolderDialog

pytestmark = pytest.mark.gui
ACCEPTED = QFileDialog.DialogCode.Accepted


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """The working folder is not the dialog's: a name typed is made in the folder the dialog shows."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")


def _typed(qtbot, start, text: str) -> ExportFolderDialog:
    dialog = ExportFolderDialog(None, str(start))
    qtbot.addWidget(dialog)
    dialog.findChild(QWidget, "fileNameEdit").setText(text)
    dialog.accept()
    return dialog


def test_a_typed_new_folder_is_made_in_the_shown_folder_with_its_parents(qtbot, tmp_path):
    dialog = _typed(qtbot, tmp_path, " new/deeper ")
    made = tmp_path / "new" / "deeper"
    assert made.is_dir() and dialog.created == made and dialog.chosen == str(made)
    assert dialog.result() == ACCEPTED and dialog.error == ""


def test_a_typed_existing_folder_is_chosen_as_it_is(qtbot, tmp_path):
    (tmp_path / "old").mkdir()
    dialog = _typed(qtbot, tmp_path, "old")
    assert dialog.chosen == str(tmp_path / "old") and dialog.created is None and dialog.result() == ACCEPTED


def test_a_typed_home_folder_is_the_user_s_home(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    dialog = _typed(qtbot, tmp_path / "elsewhere", "~/exports")
    assert dialog.chosen == str(tmp_path / "home" / "exports") and (tmp_path / "home" / "exports").is_dir()


def test_a_file_is_refused(qtbot, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    dialog = _typed(qtbot, tmp_path, "notes.txt")
    assert dialog.error == f"{tmp_path / 'notes.txt'} is a file, not a folder"
    assert dialog.chosen is None and dialog.result() != ACCEPTED


def test_a_folder_that_cannot_be_made_is_refused_and_says_why(qtbot, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    dialog = _typed(qtbot, tmp_path, "notes.txt/sub")
    target = tmp_path / "notes.txt" / "sub"
    assert dialog.error == f"cannot create the folder {target}: {os.strerror(errno.ENOTDIR)}"
    assert dialog.labelText(QFileDialog.DialogLabel.FileName) == "Cannot create it:"
    assert dialog.chosen is None and dialog.created is None and dialog.result() != ACCEPTED


def test_choose_export_folder_answers_the_folder_or_none(qtbot, tmp_path, monkeypatch):
    def typed(dialog):
        dialog.findChild(QWidget, "fileNameEdit").setText("out")
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(ExportFolderDialog, "exec", typed)
    assert folder_dialog.choose_export_folder(None, str(tmp_path)) == str(tmp_path / "out")
    monkeypatch.setattr(ExportFolderDialog, "exec", lambda dialog: QFileDialog.DialogCode.Rejected)
    assert folder_dialog.choose_export_folder(None, str(tmp_path)) is None


def test_choose_folder_to_explain_answers_the_folder_and_the_subfolders_choice(qtbot, tmp_path, monkeypatch):
    def ticked(dialog):  # the user ticks "Include subfolders" and opens the folder
        dialog.subfolders.setChecked(True)
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(OpenFolderDialog, "exec", ticked)
    monkeypatch.setattr(OpenFolderDialog, "selectedFiles", lambda dialog: [str(tmp_path)])
    assert folder_dialog.choose_folder_to_explain(None, str(tmp_path), False) == (str(tmp_path), True)
    monkeypatch.setattr(OpenFolderDialog, "exec", lambda dialog: QFileDialog.DialogCode.Rejected)
    assert folder_dialog.choose_folder_to_explain(None, str(tmp_path), True) is None


def _folder_with_photos(tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    for name in ("b.jpg", "a.png"):
        (folder / name).write_bytes(b"not read by the dialog")
    (folder / "notes.txt").write_text("x")
    return folder


def _listed(qtbot, dialog) -> list[str]:
    """The names the dialog's list shows, once Qt's file system model has read the folder."""
    view = dialog.findChild(QListView, "listView")
    model = view.model()

    def names():
        root = view.rootIndex()
        return sorted(model.data(model.index(r, 0, root)) for r in range(model.rowCount(root)))

    qtbot.waitUntil(lambda: len(names()) >= 3, timeout=5000)
    return names()


def test_the_open_folder_dialog_lists_the_folder_s_images_not_only_its_folders(qtbot, tmp_path):
    folder = _folder_with_photos(tmp_path)
    dialog = OpenFolderDialog(None, str(folder), name_filter="Images (*.png *.jpg);;All files (*)")
    qtbot.addWidget(dialog)
    dialog.show()
    assert _listed(qtbot, dialog) == ["a.png", "b.jpg", "sub"]  # the images and the subfolder, not the notes
    assert dialog.labelText(QFileDialog.DialogLabel.Accept) == "Explain Images"


def test_an_image_chosen_in_the_open_folder_dialog_opens_its_folder(qtbot, tmp_path):
    folder = _folder_with_photos(tmp_path)
    dialog = OpenFolderDialog(None, str(folder), name_filter="Images (*.png *.jpg)")
    qtbot.addWidget(dialog)
    dialog.selectFile(str(folder / "a.png"))
    assert dialog.selectedFiles() == [str(folder / "a.png")]
    dialog.accept()
    assert dialog.result() == ACCEPTED and dialog.chosen == str(folder)


def test_a_folder_chosen_in_the_open_folder_dialog_is_opened_and_a_missing_one_is_not(qtbot, tmp_path, monkeypatch):
    folder = _folder_with_photos(tmp_path)
    dialog = OpenFolderDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    monkeypatch.setattr(OpenFolderDialog, "selectedFiles", lambda d: [str(folder / "sub")])
    dialog.accept()
    assert dialog.result() == ACCEPTED and dialog.chosen == str(folder / "sub")
    missing = OpenFolderDialog(None, str(tmp_path))
    qtbot.addWidget(missing)
    monkeypatch.setattr(OpenFolderDialog, "selectedFiles", lambda d: [str(tmp_path / "gone")])
    monkeypatch.setattr(QFileDialog, "accept", lambda d: None)  # Qt's own would show "Directory not found"
    missing.accept()
    assert missing.result() != ACCEPTED and missing.chosen is None


def test_the_window_s_open_folder_dialog_filters_on_the_image_types_the_open_image_dialog_takes(window, monkeypatch):
    from gradflip_desktop.ui.controllers import folders
    from gradflip_desktop.ui.controllers.images import IMAGE_FILTER

    seen = []
    monkeypatch.setattr(folders, "choose_folder_to_explain", lambda *a: seen.append(a) or None)
    window.folders.open_dialog()
    assert len(seen) == 1 and seen[0][3] == IMAGE_FILTER and "*.png" in IMAGE_FILTER


def test_the_open_folder_dialog_shows_sizes_and_types_whole(qtbot, tmp_path):
    # at Qt's own size the detail view read "414...KiB" and "PN...ge" beside a wide, mostly empty name column
    from PySide6.QtWidgets import QTreeView

    for i in range(3):
        (tmp_path / f"photo{i}.png").write_bytes(b"\x89PNG" + bytes(424_000 + i))
    dialog = OpenFolderDialog(None, str(tmp_path), name_filter="Images (*.png)")
    qtbot.addWidget(dialog)
    dialog.setViewMode(QFileDialog.ViewMode.Detail)
    dialog.show()
    tree = dialog.findChild(QTreeView, "treeView")
    qtbot.waitUntil(lambda: tree.model().rowCount(tree.rootIndex()) == 4, timeout=5000)  # and the folder cwd
    qtbot.wait(100)
    assert dialog.width() >= folder_dialog.ROOMY[0] and dialog.height() >= folder_dialog.ROOMY[1]
    model, metrics = tree.model(), tree.fontMetrics()
    for column in (1, 2):  # size, type: each cell's text fits its column
        for row in range(4):
            text = model.index(row, column, tree.rootIndex()).data()
            assert metrics.horizontalAdvance(text) < tree.columnWidth(column), (column, text, tree.columnWidth(column))
    export = ExportFolderDialog(None, str(tmp_path))
    qtbot.addWidget(export)
    assert export.width() >= folder_dialog.ROOMY[0]
