"""The GUI stage of --self-test: in the app's process, or in a child process for the command-line tool."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest

from helpers import fake_selftest_stages

from gradflip_desktop import app, selftest
from gradflip_desktop.ui import selfcheck

pytestmark = pytest.mark.gui

QT_LINE = re.compile(r"^Qt [\d.]+ \w+$")


def test_check_gui_in_process(qapp):
    assert QT_LINE.match(selfcheck.check_gui())


def test_the_child_process_entry_prints_one_line():
    out = subprocess.run([sys.executable, "-m", "gradflip_desktop.ui.selfcheck"], capture_output=True, text=True,
                         timeout=120, env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert QT_LINE.match(out.stdout.strip()), out.stdout
    assert QT_LINE.match(selftest._gui_in_subprocess())


def test_without_pyside6_the_gui_stage_is_skipped_and_said(monkeypatch):
    fake_selftest_stages(monkeypatch)
    monkeypatch.setattr(selftest, "gui_available", lambda: False)
    out = io.StringIO()
    assert selftest.run_self_test(out) == 0
    line = out.getvalue().strip()
    assert "export verified, GUI stage skipped (PySide6 is not installed)" in line and "GUI ok" not in line


def test_a_failing_gui_stage_names_the_stage(monkeypatch):
    fake_selftest_stages(monkeypatch)

    def broken():
        raise selfcheck.GuiCheckFailure("the application icon did not load")

    out = io.StringIO()
    assert selftest.run_self_test(out, gui_stage=broken) == 1
    assert out.getvalue().startswith("gradflip self-test: FAILED at gui — the application icon did not load, ")


def test_the_app_runs_the_gui_stage_in_its_own_process(monkeypatch):
    seen = {}
    monkeypatch.setattr(selftest, "run_self_test", lambda **kw: seen.update(kw) or 0)
    assert app.main(["--self-test"]) == 0
    assert seen["gui_stage"] is selfcheck.check_gui
