"""The status bar's link (the export folder) is opened by the desktop's program; in the bundle with the user's
environment, not the bundle's library and Qt plugin paths (a Qt file manager of another version failed to start)."""

from __future__ import annotations

import json
import os
import stat
import sys
import time

import pytest

from gradflip_desktop.ui import links
from gradflip_desktop.ui.widgets.eliding_label import RichElidingLabel


@pytest.fixture
def fake_opener(tmp_path, monkeypatch):
    """An ``xdg-open`` first on PATH that writes its arguments and environment to ``opened.json``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    out = tmp_path / "opened.json"
    for name in ("xdg-open",):
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                          f"open({str(out)!r} + '.tmp', 'w').write(json.dumps({{'args': sys.argv[1:], 'env': dict(os.environ)}}))\n"
                          f"os.replace({str(out)!r} + '.tmp', {str(out)!r})\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return out


def _wait_for(path, seconds=20.0):
    end = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < end:
        time.sleep(0.05)
    return json.loads(path.read_text())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="elsewhere the system opens links: nothing inherits")
def test_in_the_bundle_the_folder_opens_with_the_users_environment(qtbot, tmp_path, monkeypatch, fake_opener):
    inside = tmp_path / "bundle" / "_internal"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(inside), raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{inside}{os.pathsep}/home/me/lib")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/home/me/lib")
    monkeypatch.setenv("QT_PLUGIN_PATH", str(inside / "PySide6" / "Qt" / "plugins"))
    called = []
    monkeypatch.setattr(links.QDesktopServices, "openUrl", staticmethod(lambda url: called.append(url) or True))
    folder = tmp_path / "my results é"
    folder.mkdir()
    label = RichElidingLabel()
    qtbot.addWidget(label)
    label.setText(f'Exported 7 files to <a href="{folder.as_uri()}">{folder}</a>')
    label.linkActivated.emit(folder.as_uri())
    seen = _wait_for(fake_opener)
    assert seen["args"] == [str(folder)]  # the folder's own path, spaces and accents as they are
    assert seen["env"]["LD_LIBRARY_PATH"] == "/home/me/lib"
    assert "QT_PLUGIN_PATH" not in seen["env"] and "LD_LIBRARY_PATH_ORIG" not in seen["env"]
    assert called == []  # not Qt's own opening, which hands the program the app's environment


def test_outside_the_bundle_qt_opens_the_link(qtbot, tmp_path, monkeypatch, fake_opener):
    monkeypatch.delattr(sys, "frozen", raising=False)
    called = []
    monkeypatch.setattr(links.QDesktopServices, "openUrl", staticmethod(lambda url: called.append(url.toString()) or True))
    label = RichElidingLabel()
    qtbot.addWidget(label)
    label.setText(f'Exported 7 files to <a href="{tmp_path.as_uri()}">{tmp_path}</a>')
    label.linkActivated.emit(tmp_path.as_uri())
    assert called == [tmp_path.as_uri()]
    time.sleep(0.3)
    assert not fake_opener.exists()
