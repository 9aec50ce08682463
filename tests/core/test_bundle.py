"""The environment of a program the desktop bundle starts: the user's, not the bundle's library and plugin paths."""

from __future__ import annotations

import os
import sys

from gradflip_desktop.core import bundle
from gradflip_desktop.core.bundle import child_environment

B = "/opt/GradFlip/_internal"


def test_outside_a_bundle_the_program_inherits_the_app_environment(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert bundle.bundle_folder() is None
    assert child_environment({"LD_LIBRARY_PATH": f"{B}:/usr/lib"}) is None


def test_the_library_path_gets_the_value_from_before_the_launch():
    env = {"LD_LIBRARY_PATH": f"{B}:/home/me/lib", "LD_LIBRARY_PATH_ORIG": "/home/me/lib", "HOME": "/home/me"}
    out = child_environment(env, folder=B)
    assert out == {"LD_LIBRARY_PATH": "/home/me/lib", "HOME": "/home/me"}
    assert env["LD_LIBRARY_PATH"] == f"{B}:/home/me/lib"  # the app's own mapping is left alone


def test_a_library_path_the_bootloader_alone_set_goes():
    assert child_environment({"LD_LIBRARY_PATH": B, "PATH": "/usr/bin"}, folder=B) == {"PATH": "/usr/bin"}
    # without the copy, the entries outside the bundle stay
    assert child_environment({"LD_LIBRARY_PATH": f"{B}{os.pathsep}/x/lib"}, folder=B) == {"LD_LIBRARY_PATH": "/x/lib"}


def test_the_qt_hook_paths_lose_the_bundle_entries():
    env = {"QT_PLUGIN_PATH": f"{B}/PySide6/Qt/plugins", "QML2_IMPORT_PATH": f"/usr/qml{os.pathsep}{B}/PySide6/Qt/qml",
           "XDG_CURRENT_DESKTOP": "KDE"}
    assert child_environment(env, folder=B) == {"QML2_IMPORT_PATH": "/usr/qml", "XDG_CURRENT_DESKTOP": "KDE"}


def test_a_folder_beside_the_bundle_with_a_common_prefix_stays():
    env = {"QT_PLUGIN_PATH": f"{B}-plugins", "LD_LIBRARY_PATH": "relative/lib"}
    assert child_environment(env, folder=B) == env


def test_a_frozen_process_reports_its_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG", raising=False)
    assert bundle.bundle_folder() == str(tmp_path)
    out = child_environment()
    assert "LD_LIBRARY_PATH" not in out and out["PATH"] == os.environ["PATH"]
