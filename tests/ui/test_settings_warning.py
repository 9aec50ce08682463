"""A settings store that cannot be written is announced in the status bar (ui/settings.py ``settings_warning``):
QSettings fails silently, so a user's style, model and recent files were lost at every close without a word."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from gradflip_desktop.ui.settings import settings_warning, unwritable


def _warning(window) -> QLabel | None:
    return window.statusBar().findChild(QLabel, "settings-warning")


def test_a_writable_store_gets_no_warning_and_no_scratch_file_is_left(tmp_path):
    s = QSettings(str(tmp_path / "conf" / "GradFlip.conf"), QSettings.Format.IniFormat)
    assert unwritable(s) == "" and settings_warning(s) is None
    assert list((tmp_path / "conf").iterdir()) == []  # the folder is made (as saving would), the test file is gone


def test_a_store_whose_folder_cannot_be_made_is_announced(qtbot, tmp_path):
    from gradflip_desktop.ui.main_window import MainWindow

    (tmp_path / "config").write_text("a file where the settings folder should be")
    s = QSettings(str(tmp_path / "config" / "GradFlip" / "GradFlip.conf"), QSettings.Format.IniFormat)
    why = unwritable(s)
    assert why.startswith(str(tmp_path / "config")) and why.split(": ", 1)[1]
    w = MainWindow(settings=s)
    qtbot.addWidget(w)
    w.show()
    label = _warning(w)
    assert label is not None and label.isVisible() and "not saved" in label.text()
    assert why in label.toolTip() and "lost when it closes" in label.toolTip()
    w.close()


def test_the_usual_window_has_no_warning(window):
    assert _warning(window) is None


def test_the_windows_registry_is_not_probed_as_a_folder(monkeypatch, tmp_path):
    """On Windows the app's QSettings are the registry: fileName() is "\\HKEY_CURRENT_USER\\Software\\GradFlip\\
    GradFlip", whose "folder" would be made at the drive's root (or, where that is refused, a false warning)."""
    import sys
    import tempfile

    class Registry:
        def fileName(self):
            return "\\HKEY_CURRENT_USER\\Software\\GradFlip\\GradFlip"

        def format(self):
            return QSettings.Format.NativeFormat

    def no_probe(*a, **k):
        raise AssertionError("a scratch file was written for a registry store")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_probe)
    assert unwritable(Registry()) == ""
    assert list(tmp_path.iterdir()) == []


def test_a_settings_file_that_exists_and_can_be_written_gets_no_warning(tmp_path):
    """The next start, with the file written by the last session: nothing to announce."""
    s = QSettings(str(tmp_path / "GradFlip.conf"), QSettings.Format.IniFormat)
    s.setValue("run/max_steps", 77)
    s.sync()
    assert (tmp_path / "GradFlip.conf").is_file()
    assert unwritable(s) == "" and settings_warning(s) is None


def test_a_read_only_settings_file_is_announced(tmp_path, monkeypatch):
    import os

    path = tmp_path / "GradFlip.conf"
    path.write_text("[run]\nmax_steps=77\n")
    path.chmod(0o444)
    if os.geteuid() == 0:  # root may write it anyway: the answer a user gets, asked of the permission bits
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **k: False if str(p) == str(path) and mode == os.W_OK
                            else real(p, mode, **k))
    assert unwritable(QSettings(str(path), QSettings.Format.IniFormat)) == f"{path}: read-only"
