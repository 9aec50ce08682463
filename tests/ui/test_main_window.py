"""The desktop app end to end: open, explain live on the real default model, cancel, export, errors."""

from __future__ import annotations

import os
import sys
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog

from gradflip_desktop.core.summary import share as summary_share
from gradflip_desktop.core.viz.difference import AMPLIFIED, KEY_PIXELS, MAGNITUDE, SIGNED
from gradflip_desktop.ui.main_window import IMAGE_FILTER, MainWindow
from gradflip_desktop.ui.qimages import array_to_qimage
from gradflip_desktop.ui.settings import TARGET_CLASS, TARGET_GROUP, RunSettings

from helpers import RUN_TIMEOUT_MS, STARTUP_TIMEOUT_MS, make_image_file

pytestmark = pytest.mark.gui

SAMPLE_SHAPE = (300, 451, 3)  # resources/samples/chelsea.png at working resolution
# the textbook style: its key pixels and its quick flip of chelsea (Egyptian cat -> tiger cat) are what
# these tests check; the default style is the key region (tests/ui/test_window_story.py)
FREE = RunSettings(style="free")


def slow_settings(budget: int = 5000) -> RunSettings:
    """A run that will not flip for many steps (tiny fixed steps): for cancel/close tests."""
    return RunSettings(mode="fixed", epsilon=0.00001, max_steps=budget)


def wait_first_step(qtbot, window):
    with qtbot.waitSignal(window.run_progress, timeout=RUN_TIMEOUT_MS):
        pass


def test_startup_shows_sample_with_top5(window):
    assert window.windowTitle() == "chelsea – GradFlip"
    assert window.views.original.image().shape == SAMPLE_SHAPE
    labels = window.controls.top5.labels()
    assert len(labels) == 5
    assert labels[0] == "Egyptian cat"
    assert "Egyptian cat" in window.views.original.caption.text()
    # actions enabled only when they make sense
    assert window.explain_action.isEnabled()
    assert not window.cancel_action.isEnabled()
    assert not window.export_action.isEnabled()
    assert not window.copy_figure_action.isEnabled()
    assert window.explain_action.shortcut().toString() == "Ctrl+Return"
    assert window.open_action.shortcut().toString() == "Ctrl+O"
    assert window.export_action.shortcut().toString() == "Ctrl+E"
    assert window.cancel_action.shortcut().toString() == "Esc"


def test_open_through_the_dialog_code_path(qtbot, window, tmp_path, monkeypatch):
    path = make_image_file(tmp_path / "PATTERN.PNG", 120, 80)
    assert "*.PNG" in IMAGE_FILTER and "*.JPG" in IMAGE_FILTER and "*.jpeg" in IMAGE_FILTER
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), IMAGE_FILTER)))
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_action.trigger()
    assert window.windowTitle() == "PATTERN – GradFlip"
    assert window.views.original.image().shape == (80, 120, 3)
    assert window.image.source == str(path)
    assert len(window.controls.top5.labels()) == 5
    # remembered in Open Recent
    window.images.fill_recent_menu()
    names = [a.text() for a in window.recent_menu.actions()]
    assert any("PATTERN.PNG" in n for n in names)


def test_a_relative_path_is_remembered_absolute(qtbot, window, tmp_path, monkeypatch):
    # `gradflip photo.jpg` from a shell: Open Recent and the Open dialog's folder must still work in a
    # session started from another folder (they used to keep "photo.jpg" and ".")
    from gradflip_desktop.ui.settings import recent_files

    make_image_file(tmp_path / "rel.png", 90, 60)
    monkeypatch.chdir(tmp_path)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path("rel.png")
    assert window.windowTitle() == "rel – GradFlip"
    assert recent_files(window.settings)[0] == str(tmp_path / "rel.png")
    assert window.settings.value("recent/folder") == str(tmp_path)


def test_explain_runs_live_and_shows_the_result(qtbot, window, tmp_path):
    steps_seen = []
    window.controls.set_settings(FREE)
    window.run_progress.connect(lambda batch: steps_seen.extend(batch.steps))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain_action.trigger()
        assert window.cancel_action.isEnabled()  # running
    result = blocker.args[0]
    assert result.flipped
    assert not window.running and not window.cancel_action.isEnabled()
    # views hold images of the right shape; the adjusted view is the saved 8-bit image
    assert window.views.original.image().shape == SAMPLE_SHAPE
    adjusted = window.views.adjusted.image()
    assert adjusted.shape == SAMPLE_SHAPE
    np.testing.assert_array_equal(adjusted, result.adjusted_uint8)
    # one plot point per step (plus step 0, the unchanged image), x = step index
    n = len(result.steps)
    assert n >= 1
    assert window.plot.point_count() == n + 1
    x, y = window.plot.explained_curve.getData()
    np.testing.assert_array_equal(x, np.arange(n + 1))
    assert y[0] == pytest.approx(result.original_probabilities[result.explained[0]], rel=1e-5)
    fx, fy = window.plot.flip_curve.getData()
    assert fy[-1] == pytest.approx(result.steps[-1].probabilities[result.final.index], rel=1e-5)
    assert window.plot.flip_line.isVisible()
    assert window.plot.flip_line.value() == next(s.index for s in result.steps if s.flipped)
    assert len(steps_seen) == n  # every step reached the window
    # captions show the flipped class and the size of the change
    assert result.final.label in window.views.adjusted.caption.text()
    assert "flipped from Egyptian cat" in window.views.adjusted.caption.text()
    assert "L2" in window.views.difference.caption.text()
    # each figure kept with its name: "· L2" ended a line and its value began the next
    assert all(f"{name}&nbsp;" in window.views.difference.caption.text() for name in ("at most", "RMS", "L2"))
    assert "key pixels" in window.views.key_answer.text()  # the key-pixel explorer, below the views
    # hover read-out
    text = window.plot.show_readout(n)
    assert f"step {n}" in text and "Egyptian cat" in text
    assert window.export_action.isEnabled() and window.copy_figure_action.isEnabled()
    assert "flipped" in window.controls.progress.format()

    # every Difference mode draws an image of the right shape
    for mode in (MAGNITUDE, SIGNED, KEY_PIXELS, AMPLIFIED):
        with qtbot.waitSignal(window.difference_shown, timeout=30_000, check_params_cb=lambda d, m=mode: d.mode == m) as b:
            window.views.set_mode(mode)
            if mode == MAGNITUDE:  # already the mode: move the slider to force a redraw
                window.views.slider.setValue(60)
        diff = b.args[0]
        assert diff.rgb.shape == SAMPLE_SHAPE and diff.rgb.dtype == np.uint8
        assert window.views.difference.image().shape == SAMPLE_SHAPE
        assert (diff.colorbar is not None) == (mode in (MAGNITUDE, SIGNED))
        assert window.views.colorbar_view.isVisible() == (mode in (MAGNITUDE, SIGNED))
        if mode == SIGNED:
            assert diff.colorbar.low == pytest.approx(-diff.colorbar.high)  # centred on zero
        if mode == AMPLIFIED:
            assert diff.gain > 1
            assert "Gain ×" in window.views.slider_label.text()


def test_export_and_copy_figure(qtbot, window, tmp_path, monkeypatch):
    window.controls.set_settings(FREE)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    out = tmp_path / "export"
    import gradflip_desktop.ui.controllers.export as export_mod

    monkeypatch.setattr(export_mod, "choose_export_folder", lambda *a, **k: str(out))
    with qtbot.waitSignal(window.exported, timeout=30_000) as blocker:
        window.export_action.trigger()
    paths = blocker.args[0]
    names = sorted(p.name for p in paths)
    assert "chelsea.adjusted.png" in names and "chelsea.gradflip.json" in names and "chelsea.figure.png" in names
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert "href=" in window.status_label.text() and str(out) in window.status_label.text()
    import hashlib
    import json

    rec = json.loads((out / "chelsea.gradflip.json").read_text(encoding="utf-8"))
    source = rec["image"]["source"]  # the photo's file, fingerprinted as in CLI sets (for --resume)
    assert rec["image"]["file"]["sha256"] == hashlib.sha256(open(source, "rb").read()).hexdigest()
    # exporting again asks before overwriting
    asked = []
    monkeypatch.setattr(window, "ask_overwrite", lambda msg: asked.append(msg) or True)
    with qtbot.waitSignal(window.exported, timeout=30_000):
        window.export_to(str(out))
    assert len(asked) == 1 and "exist" in asked[0]
    # Copy figure puts the annotated figure on the clipboard
    QGuiApplication.clipboard().clear()
    with qtbot.waitSignal(window.figure_copied, timeout=30_000):
        window.copy_figure_action.trigger()
    img = QGuiApplication.clipboard().image()
    assert not img.isNull() and img.width() > img.height() > 100


def test_cancel_mid_run_keeps_the_last_state(qtbot, window):
    window.controls.set_settings(slow_settings())
    counted = []
    window.run_progress.connect(lambda batch: counted.extend(batch.steps))
    window.explain()
    wait_first_step(qtbot, window)
    seen_at_cancel = len(counted)
    with qtbot.waitSignal(window.run_cancelled, timeout=RUN_TIMEOUT_MS) as blocker:
        window.cancel_action.trigger()
    result = blocker.args[0]
    assert result.status == "cancelled"
    assert len(result.steps) <= seen_at_cancel + 1  # stops within one step
    assert len(result.steps) < 5000
    assert window.views.adjusted.image().shape == SAMPLE_SHAPE
    np.testing.assert_array_equal(window.views.adjusted.image(), result.adjusted_uint8)
    assert window.plot.point_count() == len(result.steps) + 1
    assert "cancelled" in window.controls.progress.format()
    assert not window.running and window.explain_action.isEnabled() and not window.cancel_action.isEnabled()


def test_cancel_at_once_never_says_a_state_is_shown_when_no_step_was_taken(qtbot, window):
    # Esc right after Explain: "Cancelled after 0 steps; the state reached is shown." with nothing new shown
    window.controls.set_settings(slow_settings())
    with qtbot.waitSignal(window.run_cancelled, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
        window.cancel_action.trigger()
    result = blocker.args[0]
    status = window.status_label.text()
    assert ("the state reached is shown" in status) == bool(result is not None and result.steps), status
    from gradflip_desktop.ui.controllers.runs import cancelled_status

    assert cancelled_status(0) == "Cancelled before the first step; the photo is unchanged."
    assert cancelled_status(3) == "Cancelled after 3 steps; the state reached is shown."
    assert cancelled_status(1) == "Cancelled after 1 step; the state reached is shown."  # not "1 steps"


def test_a_run_cancelled_while_it_waits_for_the_model_says_so_above_the_views(qtbot, window):
    """walk38: Explain during a folder run waits for the folder's image; Esc then cancelled it before it started, and
    the line above the views kept saying "Explaining … (Esc cancels)" (the status bar said "Cancelled.")."""
    import threading

    from gradflip_desktop.ui.worker import TaskSlot

    release = threading.Event()
    TaskSlot(window.engine).start(lambda task: release.wait(10))  # the model is busy (another image's run)
    with qtbot.waitSignal(window.run_cancelled, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
        assert "Explaining" in window.views.summary.text()
        window.cancel_action.trigger()
        release.set()
    assert blocker.args[0] is None  # it never started
    assert window.views.summary.text() == "Cancelled before the first step; the photo is unchanged."
    assert window.status_label.text() == "Cancelled."


def test_start_while_running_cancels_then_starts(qtbot, window):
    window.controls.set_settings(slow_settings())
    window.explain()
    first = window.runs.task
    wait_first_step(qtbot, window)
    cancelled = []
    window.run_cancelled.connect(cancelled.append)
    window.controls.set_settings(FREE)  # the textbook settings flip chelsea quickly
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain_action.trigger()
        assert window.run_id != first.id
        assert first.cancelled
    result = blocker.args[0]
    assert result.flipped and result.options.mode == "adaptive"
    assert cancelled == []  # the superseded run's late signals are ignored
    assert window.plot.point_count() == len(result.steps) + 1


def test_open_image_while_running_cancels_the_run(qtbot, window, tmp_path):
    window.controls.set_settings(slow_settings())
    window.explain()
    first = window.runs.task
    wait_first_step(qtbot, window)
    path = make_image_file(tmp_path / "other.png", 64, 48)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(path))
    assert first.cancelled
    assert not window.running and window.result is None
    assert window.windowTitle() == "other – GradFlip"
    assert window.views.adjusted.image() is None
    assert window.plot.point_count() == 0


def test_close_mid_run_is_clean(qtbot, qtlog, settings):
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.start()
    w.controls.set_settings(slow_settings())
    w.explain()
    wait_first_step(qtbot, w)
    assert w.engine.thread.isRunning()
    w.close()
    assert w.engine.thread.isFinished() and w.background.thread.isFinished()
    messages = [r.message for r in qtlog.records]
    assert not any("QThread" in m and "Destroyed" in m for m in messages), messages
    # the window remembers the settings it closed with
    assert RunSettings.load(settings).mode == "fixed"


def test_closing_leaves_the_screen_before_waiting_for_the_workers(qtbot, settings, monkeypatch):
    """Closing waits for the run's current step and an export's last file (never half-written); that wait
    (0.8-5.8 s during an export) showed a window that no longer answered. It is hidden first."""
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    seen = []
    real = w.background.shutdown
    monkeypatch.setattr(w.background, "shutdown", lambda *a, **k: (seen.append(w.isVisible()), real(*a, **k))[1])
    w.close()
    assert seen == [False] and not w.background.thread.isRunning()


def test_drag_and_drop_of_a_file(qtbot, window, tmp_path):
    path = make_image_file(tmp_path / "dropped.JPG", 90, 70)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = window.rect().center()
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        QApplication.sendEvent(window, drop)
    assert drop.isAccepted()
    assert window.windowTitle() == "dropped – GradFlip"
    assert window.views.original.image().shape == (70, 90, 3)
    # something that is not a file is refused
    text = QMimeData()
    text.setText("hello")
    enter2 = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, text, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter2)
    assert not enter2.isAccepted()
    # a path dropped as text (from a terminal or an editor) opens, as pasting it does; it was refused silently
    other = make_image_file(tmp_path / "as text.png", 60, 40)
    for written in (str(other), QUrl.fromLocalFile(str(other)).toString()):
        text = QMimeData()
        text.setText(written)
        enter3 = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, text, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(window, enter3)
        assert enter3.isAccepted(), written
        drop3 = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, text, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
            QApplication.sendEvent(window, drop3)
        assert window.windowTitle() == "as text – GradFlip"
        window.open_path(str(path))
        qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS).wait()


def test_a_drop_of_several_files_says_that_only_the_first_was_opened(qtbot, window, tmp_path):
    # "2 files dropped; opening the first." was replaced at once by the load's and the classification's
    # status lines: the second file was ignored without a word the user could read
    first, second = make_image_file(tmp_path / "rocket.png", 90, 70), make_image_file(tmp_path / "horse.png", 80, 60)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(first)), QUrl.fromLocalFile(str(second))])
    pos = window.rect().center()
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        QApplication.sendEvent(window, drop)
    assert window.windowTitle() == "rocket – GradFlip"
    said = window.views.original.caption.text() + window.views.original.caption.toolTip()
    assert "2 files dropped; opened only rocket.png" in said, said
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):  # said once, not for the next image
        window.open_path(str(second))
    assert "files dropped" not in window.views.original.caption.text()
    # a drop whose first file cannot be read: its note is not said later about another image
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(broken)), QUrl.fromLocalFile(str(second))])
    QApplication.sendEvent(window, QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                                   Qt.KeyboardModifier.NoModifier))
    with qtbot.waitSignal(window.image_failed, timeout=RUN_TIMEOUT_MS):
        QApplication.sendEvent(window, QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                                  Qt.KeyboardModifier.NoModifier))
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(first))
    assert "files dropped" not in window.views.original.caption.text() + window.views.original.caption.toolTip()


def test_a_pasted_file_goes_where_a_dropped_one_goes_and_a_web_address_is_explained(qtbot, window, tmp_path,
                                                                                       monkeypatch):
    # pasting a model file's path (or a file copied in a file manager) tried to open it as an image, while
    # dropping it opened Load Model; a web address was refused in silence (drop) or called "no image" (paste)
    opened = []
    monkeypatch.setattr(window.models, "open_file", opened.append)
    model = tmp_path / "net.pth"
    model.write_bytes(b"x")
    for holder in ("text", "urls"):
        mime = QMimeData()
        if holder == "text":
            mime.setText(str(model))
        else:
            mime.setUrls([QUrl.fromLocalFile(str(model))])
        QGuiApplication.clipboard().setMimeData(mime)
        window.paste()
        assert opened[-1] == str(model), holder
    assert len(opened) == 2
    assert window.windowTitle() == "chelsea – GradFlip"

    url = "https://example.com/photos/cat.jpg"
    QGuiApplication.clipboard().setText(url)
    with qtbot.waitSignal(window.error_shown, timeout=5000) as blocker:
        window.paste()
    assert "offline" in blocker.args[1] and url in blocker.args[1]
    mime = QMimeData()
    mime.setUrls([QUrl(url)])
    pos = window.rect().center()
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.error_shown, timeout=5000) as blocker:
        QApplication.sendEvent(window, drop)
    assert blocker.args[0] == "Drop" and "does not download" in blocker.args[1]
    assert window.windowTitle() == "chelsea – GradFlip" and not opened[2:]


def test_paste_image_from_clipboard(qtbot, window):
    rgb = np.zeros((60, 80, 3), np.uint8)
    rgb[..., 0] = np.linspace(0, 255, 80, dtype=np.uint8)[None, :]
    rgb[..., 1] = 128
    rgb[10:20, 10:30, 2] = 255
    QGuiApplication.clipboard().setImage(array_to_qimage(rgb))
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.paste_action.trigger()
    assert window.windowTitle() == "pasted image – GradFlip"
    np.testing.assert_array_equal(window.views.original.image(), rgb)
    assert len(window.controls.top5.labels()) == 5


def test_a_pasted_image_with_transparency_says_so_under_the_original(qtbot, window):
    """The Original's caption names how the photo became what the model sees; for a pasted image with
    transparency it said nothing (the same PNG opened as a file: "transparent areas were composited on white")."""
    from PySide6.QtGui import QImage

    rgba = np.zeros((60, 80, 4), np.uint8)
    rgba[..., 1] = 160
    rgba[..., 3] = 255
    rgba[:, :20, 3] = 0
    qimage = QImage(rgba.data, 80, 60, 80 * 4, QImage.Format.Format_RGBA8888).copy()
    QGuiApplication.clipboard().setImage(qimage)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.paste_action.trigger()
    assert "composited on white" in window.views.original.caption.text()


def test_paste_without_image_is_a_message(qtbot, window):
    QGuiApplication.clipboard().setText("just some words")
    with qtbot.waitSignal(window.error_shown, timeout=5000) as blocker:
        window.paste()
    assert "no image" in blocker.args[1]
    assert window.windowTitle() == "chelsea – GradFlip"


@pytest.mark.parametrize("content", [b"this is not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_unreadable_file_shows_error_and_keeps_the_image(qtbot, window, tmp_path, content):
    bad = tmp_path / "broken.png"
    bad.write_bytes(content)
    before = window.views.original.image().copy()
    with qtbot.waitSignal(window.error_shown, timeout=10_000) as blocker:
        window.open_path(str(bad))
    title, message = blocker.args
    assert title == "Cannot open the image"
    assert "broken.png" in message
    assert window.last_error_box.isVisible() and "broken.png" in window.last_error_box.text()
    assert window.windowTitle() == "chelsea – GradFlip"
    np.testing.assert_array_equal(window.views.original.image(), before)
    assert window.explain_action.isEnabled()  # still usable
    window.last_error_box.close()


def test_unreadable_file_at_start_opens_the_sample(qtbot, settings, tmp_path):
    # `gradflip notes.png` (a text file): the message, then the sample photo; the window used to stay empty
    # with "classifying …" in the class list and Explain disabled for good
    bad = tmp_path / "notes.png"
    bad.write_text("not an image\n")
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    try:
        with qtbot.waitSignals([w.error_shown, w.classified], timeout=STARTUP_TIMEOUT_MS):
            w.start(str(bad))
        assert "notes.png" in w.last_error_box.text()
        assert w.windowTitle() == "chelsea – GradFlip"
        assert w.controls.top5.labels()[0] == "Egyptian cat"
        # after the dialog's OK the window said nothing of the file asked for: the status line starts with it
        status = w.status_label.toolTip() or w.status_label.text()
        assert status.startswith("Not opened: ") and "notes.png" in status, status
        assert "The bundled sample is shown instead. chelsea: the model sees" in status, status
        assert w.explain_action.isEnabled()
        w.last_error_box.close()
    finally:
        w.close()


def test_a_broken_sample_is_reported_once_not_retried_forever(qtbot, settings, tmp_path, monkeypatch):
    # a broken installation: the bundled sample itself cannot be read; the fallback to the sample must not
    # try it again and again
    from gradflip_desktop.core import resources

    bad = tmp_path / "chelsea.png"
    bad.write_text("not an image\n")
    monkeypatch.setattr(resources, "sample_image_path", lambda: bad)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    errors = []
    w.error_shown.connect(lambda *a: errors.append(a))
    try:
        with qtbot.waitSignal(w.error_shown, timeout=STARTUP_TIMEOUT_MS):
            w.start(None)
        qtbot.wait(1500)
        assert len(errors) == 1 and w.image is None
        assert not w.images._load.busy
    finally:
        w.close()


def test_a_run_that_does_not_flip_names_no_flips_to_class(qtbot, window, tmp_path):
    # a flat photo: the default style stalls at step 0; the plot's legend used to say "flips to: velvet"
    from PIL import Image

    flat = tmp_path / "flat.png"
    Image.new("RGB", (64, 48), (128, 0, 0)).save(flat)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(flat))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
    assert not blocker.args[0].flipped
    legend = [label.text for _, label in window.plot.legend.items]
    assert not any("flips to" in text for text in legend), legend
    assert any(text.startswith("runner-up: ") for text in legend), legend
    # the next run that flips says "flips to" again
    window.controls.set_settings(FREE)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.images.open_sample()
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
    assert blocker.args[0].flipped
    assert "flips to: tiger cat" in [label.text for _, label in window.plot.legend.items]


def test_run_failure_is_reported_and_the_app_stays_usable(qtbot, window):
    window.controls.set_settings(RunSettings(target_mode=TARGET_CLASS, target_class="no such class zzz"))
    with qtbot.waitSignal(window.run_failed, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
    assert "no such class zzz" in blocker.args[0]
    assert "no such class zzz" in window.status_label.text()  # said in the status bar, the Class field focused
    assert window.last_error_box is None or not window.last_error_box.isVisible()
    assert not window.running and window.explain_action.isEnabled()
    # refused before any run starts: the result shown stays (it used to be cleared for a photo without a caption)
    window.controls.set_settings(RunSettings(max_steps=3))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    shown, caption = window.result, window.views.adjusted.caption.text()
    window.controls.set_settings(RunSettings(target_mode=TARGET_CLASS, target_class="no such class zzz"))
    with qtbot.waitSignal(window.run_failed, timeout=RUN_TIMEOUT_MS):
        window.explain()
    assert window.result is shown and window.views.adjusted.caption.text() == caption


def test_a_unique_beginning_of_a_class_fills_in_its_class_in_the_box(qtbot, window):
    """walk29: "cowboy h" explained "cowboy hat", but the box, the folder gallery's title ("explaining “cowboy h”")
    and the saved setting kept "cowboy h", and the next start dropped it (no label is "cowboy h")."""
    window.controls.set_settings(RunSettings(target_mode=TARGET_CLASS, target_class="tiger c", max_steps=3))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    assert window.controls.target_class.currentText() == "tiger cat"
    assert RunSettings.load(window.settings).target_class == "tiger cat"
    window.controls.set_settings(RunSettings(target_mode=TARGET_CLASS, target_class="#3", max_steps=3))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    assert window.controls.target_class.currentText() == "#3"  # an index stays as typed


def core_defaults() -> RunSettings:
    from gradflip_desktop.core.options import ExplainOptions

    o = ExplainOptions()
    return RunSettings(style=o.style, mode=o.mode, epsilon=o.epsilon, max_steps=o.max_steps, smoothing=o.smoothing,
                       coarse=o.coarse)


def test_panel_shows_the_core_defaults(window):
    """Every explanation default comes from ExplainOptions(): one place for each fact."""
    c = window.controls
    expected = core_defaults()
    shown = c.settings()
    assert (shown.style, shown.mode, shown.epsilon, shown.max_steps, shown.smoothing, shown.coarse) == (
        expected.style, expected.mode, expected.epsilon, expected.max_steps, expected.smoothing, expected.coarse)
    assert c.epsilon.value() == pytest.approx(expected.epsilon)
    assert c.coarse.value() == expected.coarse and c.coarse.text() == "off"
    # the tooltips explain the trade-off of the readable styles
    for box in (c.smoothing, c.coarse):
        tip = box.toolTip()
        assert "L2" in tip and "smooth" in tip.lower()
    assert "blurred copy" in c.style.toolTip() and "L2" in c.style.toolTip()
    assert "block" in c.coarse.toolTip()


def test_settings_persist_and_reset(qtbot, window, settings):
    c = window.controls
    assert c.group.count() >= 2 and c.group.findData("cat") >= 0  # groups from the model
    assert c.target_class.count() == 1000
    chosen = RunSettings(target_mode=TARGET_GROUP, group="dog", style="blur", mode="fixed", epsilon=0.002,
                         max_steps=77, smoothing=2.5, coarse=8)
    c.set_settings(chosen)
    assert c.settings() == chosen
    assert not c.group.isHidden() and c.target_class.isHidden()
    window.close()
    # the next session explains the top class again, the group still chosen in its box ("Explain any vehicle" had
    # left the next photo with "nothing to flip" before any question was asked)
    assert RunSettings.load(settings) == replace(chosen, target_mode="top")
    # an old value in the settings file is kept as it is (0.001 was the panel's old ε)
    settings.setValue("run/epsilon", 0.001)
    w2 = MainWindow(settings=settings)
    qtbot.addWidget(w2)
    with qtbot.waitSignal(w2.model_ready, timeout=RUN_TIMEOUT_MS):
        w2.start()
    s2 = w2.controls.settings()
    assert s2.max_steps == 77 and s2.mode == "fixed" and s2.coarse == 8 and s2.epsilon == pytest.approx(0.001)
    # Reset gives the core's defaults, not a copy kept in the GUI
    w2.controls.reset_button.click()
    assert w2.controls.settings() == core_defaults()
    w2.close()


def test_run_settings_without_values_use_the_core_defaults():
    from gradflip_desktop.core.options import ExplainOptions

    assert RunSettings().to_options() == ExplainOptions()
    opts = RunSettings(coarse=8, smoothing=3.0).to_options()
    assert opts.coarse == 8 and opts.smoothing == 3.0 and opts.epsilon == ExplainOptions().epsilon


def test_about_lists_versions(window):
    import torch
    from PySide6.QtCore import qVersion

    from gradflip_desktop import __version__

    text = window.about_text()
    assert __version__ in text and torch.__version__ in text and qVersion() in text
    assert "EfficientNet-Lite0" in text


def test_key_pixel_explorer(qtbot, window):
    window.controls.set_settings(FREE)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
    result = blocker.args[0]
    kp = result.key_pixels
    assert kp is not None and kp.flips
    with qtbot.waitSignal(window.difference_shown, timeout=30_000, check_params_cb=lambda d: d.mode == KEY_PIXELS):
        window.views.set_mode(KEY_PIXELS)
    assert window.views.key_row.isVisible()
    assert window.views.key_count == kp.count
    assert window.views.key_label.text() == f"{kp.count:,} px"
    caption = window.views.key_answer.text()
    n = SAMPLE_SHAPE[0] * SAMPLE_SHAPE[1]
    share = summary_share(kp.count / n).replace(" %", "&nbsp;%")  # as the sentence and the figure; never wrapped before its "%"
    # reads like "412 pixels, 0.3 % of the image, flip it to tiger cat"
    assert f"key pixels: {kp.count:,} pixels, {share} of the image, flip it to <b>{kp.prediction.label}</b>" in caption
    # no pixel changed: the model sees the original class again
    with qtbot.waitSignal(window.key_answer_shown, timeout=30_000) as b0:
        window.views.set_key_count(0)
    assert b0.args[0].count == 0 and b0.args[0].top[0].index == result.original.index
    assert "0 pixels, 0&nbsp;% of the image, do not flip it" in window.views.key_answer.text()
    # the smallest flipping set found by the core flips again, to the same class
    with qtbot.waitSignal(window.key_answer_shown, timeout=30_000) as b1:
        window.views.set_key_count(kp.count)
    assert b1.args[0].top[0].index == kp.prediction.index
    assert "flip it to" in window.views.key_answer.text()
    # the outline follows k: fewer key pixels, fewer highlighted pixels
    with qtbot.waitSignal(window.difference_shown, timeout=30_000) as d_small:
        window.views.set_key_count(max(1, kp.count // 20))
    with qtbot.waitSignal(window.difference_shown, timeout=30_000) as d_big:
        window.views.set_key_count(kp.count)
    assert not np.array_equal(d_small.args[0].rgb, d_big.args[0].rgb)
    # the slider uses the core's KeyPixels.mask_for / key_pixel_image, not a copy of the mask
    calls = []
    original = type(kp).mask_for

    def spy(self, k):
        calls.append(k)
        return original(self, k)

    import gradflip_desktop.core.results as explain_mod

    monkey = pytest.MonkeyPatch()
    monkey.setattr(explain_mod.KeyPixels, "mask_for", spy)
    try:
        with qtbot.waitSignal(window.key_answer_shown, timeout=30_000) as b2:
            window.views.set_key_count(kp.count // 2)
        assert kp.count // 2 in calls
    finally:
        monkey.undo()
    expected = window.models.classifier.classify(result.key_pixel_image(kp.count // 2), 3)
    assert [p.index for p in b2.args[0].top] == [p.index for p in expected]


def test_window_starts_without_importing_torch():
    """The window is built and shown before torch is imported (it loads in the engine thread)."""
    import subprocess
    import sys

    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtCore import QStandardPaths; QStandardPaths.setTestModeEnabled(True)\n"
        "from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
        "from gradflip_desktop.ui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_entry_point_delegates_to_the_cli(monkeypatch, capsys, tmp_path):
    import sys
    import types

    from gradflip_desktop import app

    calls = []
    fake = types.ModuleType("gradflip_desktop.cli")
    fake.main = lambda argv: calls.append(list(argv)) or 3
    monkeypatch.setitem(sys.modules, "gradflip_desktop.cli", fake)
    import gradflip_desktop

    monkeypatch.setattr(gradflip_desktop, "cli", fake, raising=False)  # when the real cli was imported before
    monkeypatch.setattr(app, "run_gui", lambda path=None: calls.append(("gui", path)) or 0)
    assert app.main(["classify", "x.png"]) == 3
    assert app.main(["explain", "x.png", "--out", "o"]) == 3
    assert app.main(["--version"]) == 3
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"")
    assert app.main([str(photo)]) == 0
    assert app.main([]) == 0
    assert calls == [["classify", "x.png"], ["explain", "x.png", "--out", "o"], ["--version"], ("gui", str(photo)), ("gui", None)]
    assert app.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: gradflip [IMAGE]" in out and "--self-test" in out  # every flag the README names
    assert app.main(["--bogus"]) == 2
    capsys.readouterr()
    # a name that is not there: one line, before any window or display question (a helper's CLI audit, session 43)
    assert app.main([str(tmp_path / "nonexist.png")]) == 2
    assert capsys.readouterr().err == f"gradflip: no such file or folder: {tmp_path / 'nonexist.png'}\n"
    assert app.main(["info", "x"]) == 2  # it said "give at most one image"
    assert capsys.readouterr().err.startswith("gradflip: unknown command 'info' (the commands: classify, explain")
    assert len(calls) == 5  # no window for either


def test_signals_cannot_exhaust_the_refcount_of_true():
    """PySide6 6.12.0's emit() drops a reference to True per call (Python < 3.12 then aborts in bool_dealloc).

    Whatever PySide6 is installed: 20,000 emits never bring True's count near zero (either emit keeps its
    reference, or the ui package's guard made True effectively immortal), the guard is applied exactly
    when the bug is present, and pyproject refuses the broken release on Python < 3.12.
    """
    import sys
    import tomllib
    from pathlib import Path

    import PySide6
    from PySide6.QtCore import QObject, Signal

    import gradflip_desktop.ui as ui

    class Probe(QObject):
        ping = Signal()

    probe = Probe()
    before = sys.getrefcount(True)
    for _ in range(20_000):  # more than True's own reference count would survive without the guard
        probe.ping.emit()
    after = sys.getrefcount(True)
    leaks = after < before - 10_000
    buggy = PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12)
    assert leaks == buggy  # only that release leaks
    assert ui.BOOL_REFCOUNT_GUARD == buggy  # the guard is applied exactly where it is needed
    assert after > (1 << 39 if buggy else 1_000)  # never near zero
    deps = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "PySide6-Essentials>=6.6,!=6.12.0; python_version < '3.12'" in deps


def test_fast_8bit_downsampling_is_pyqtgraphs_mean_rounded():
    """The fast 8-bit downsampling of the image panels is pyqtgraph's mean, rounded (the live Difference
    map drawn at the panel's size: tests/core/viz/test_difference.py)."""
    import pyqtgraph.functions as pgfn

    from gradflip_desktop.core.viz.display import box_downsample

    rng = np.random.default_rng(1)
    u8 = rng.integers(0, 256, (61, 95, 3), dtype=np.uint8)
    ref = pgfn.downsample(pgfn.downsample(u8, 3, axis=1), 2, axis=0)
    got = box_downsample(u8, 3, 2)
    assert got.dtype == np.uint8 and got.shape == ref.shape
    assert np.abs(got.astype(np.float64) - ref).max() <= 0.5


def test_no_display_is_a_clear_message_not_a_qt_abort(monkeypatch, capsys):
    import sys as _sys

    from gradflip_desktop import app

    monkeypatch.setattr(_sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert app.run_gui(None) == 2
    err = capsys.readouterr().err
    assert "no display" in err and "gradflip explain" in err
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app._display_problem() is None
    # a Wayland socket that is not there, and no X display to fall back on: Qt aborted (exit 134) asking to
    # install libxcb-cursor0; with DISPLAY set it falls back to X11
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-9")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/nonexistent-runtime")
    assert app.run_gui(None) == 2
    assert "the Wayland display 'wayland-9' (WAYLAND_DISPLAY) cannot be reached" in capsys.readouterr().err
    monkeypatch.setenv("DISPLAY", ":0")
    assert app._display_problem() is None


def test_settings_from_before_the_key_region_default_start_from_the_new_default(settings):
    """A settings file without the format mark holds the old default style ("free"), which the user never
    chose: it is not kept. The user's other choices are; a saved file keeps its style."""
    from gradflip_desktop.core.options import ExplainOptions

    settings.setValue("run/style", "free")
    settings.setValue("run/max_steps", 77)
    old = RunSettings.load(settings)
    assert old.style == ExplainOptions().style and old.max_steps == 77
    RunSettings(style="free", max_steps=77).save(settings)
    assert RunSettings.load(settings).style == "free"


def test_explain_cancel_and_progress_stay_in_view_in_a_small_window(qtbot, window):
    # a 1,024 x 700 window (a small laptop): the settings scroll, the run bar below them does not
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QApplication

    window.resize(1024, 700)
    QApplication.processEvents()
    inside = QRect(QPoint(0, 0), window.size())
    for widget in (window.controls.explain_button, window.controls.cancel_button, window.controls.progress):
        top_left = widget.mapTo(window, QPoint(0, 0))
        assert inside.contains(QRect(top_left, widget.size())), (widget, top_left, widget.size())
        assert widget.visibleRegion().boundingRect().size() == widget.size()  # not clipped by a scroll area


def test_ctrl_return_while_explain_is_disabled_says_why(qtbot, window):
    """Before: Ctrl+Return during a model load (or a run) did nothing at all, without a word."""
    from PySide6.QtTest import QTest

    window.activateWindow()
    qtbot.waitUntil(lambda: window.explain_action.isEnabled(), timeout=STARTUP_TIMEOUT_MS)
    assert not any(s.isEnabled() for s in window.explain_why)  # enabled Explain owns the keys: never ambiguous
    window.models.loading = True  # as while a model file loads
    window.update_actions()
    assert not window.explain_action.isEnabled() and all(s.isEnabled() for s in window.explain_why)
    window.set_status("")
    for s in window.explain_why:
        s.activated.emit()
        assert window.status_label.text() == "The model is still loading; Explain (Ctrl+Return) works once it is ready."
    QTest.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not window.runs.running  # the key said why; it started nothing
    window.models.loading = False
    window.update_actions()
    assert window.explain_action.isEnabled() and not any(s.isEnabled() for s in window.explain_why)


def test_error_dialogs_start_as_sentences(window):
    """Before: "cannot write the results to …" in a dialog of its own, lower case."""
    from gradflip_desktop.ui.main_window import sentence_case

    assert sentence_case("cannot write the results to /x: the disk is full") == \
        "Cannot write the results to /x: the disk is full"
    for kept in ("“cat.jpg” does not exist", "cat.png is a text file", "--out is a file", "/tmp/x is read-only",
                 "Already a sentence", ""):
        assert sentence_case(kept) == kept
    window.show_error("Open Folder", "the folder run failed")
    assert window.last_error_box.text() == "The folder run failed"
    assert window.status_label.text().endswith(" the folder run failed")  # after "Open Folder:" it reads on
    window.last_error_box.close()


@pytest.mark.parametrize("kind", ["file", "hf folder"])
def test_a_model_given_at_start_opens_load_model_not_an_image(qtbot, settings, tmp_path, monkeypatch, kind):
    """`gradflip model.pt` said "is a ZIP archive, not an image"; dropping the same file opened Load Model."""
    if kind == "file":
        path = tmp_path / "model.pt"
        path.write_bytes(b"PK\x03\x04 not really a model")
    else:
        path = tmp_path / "vit-finetuned"
        path.mkdir()
        (path / "config.json").write_text("{}")
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    opened = []
    monkeypatch.setattr(w.models, "open_file", lambda p: opened.append(p) or 0)
    w.show()
    try:
        with qtbot.waitSignal(w.classified, timeout=STARTUP_TIMEOUT_MS):
            w.start(str(path))
        assert opened == [str(path)]  # to Load Model, as a drop
        assert w.windowTitle() == "chelsea – GradFlip"  # on the sample photo, no error
        assert w.last_error_box is None or not w.last_error_box.isVisible()
    finally:
        w.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_closes_the_app_like_its_close_button(tmp_path, signame):
    """Ctrl+C in the terminal that started `gradflip` did nothing until the next Qt handler written in Python ran
    (a mouse move over the plot), which then printed a KeyboardInterrupt traceback and the app went on; SIGTERM
    killed it without saving its settings. Both now close the window (settings saved), exit 128 + the signal."""
    import signal
    import subprocess

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GRADFLIP_TIMING="1", XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", "from gradflip_desktop import app; raise SystemExit(app.main([]))"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    try:
        lines = []
        for line in proc.stderr:  # the window is up and its first paint done
            lines.append(line)
            if line.startswith("gradflip-timing painted"):
                break
        sig = getattr(signal, signame)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig, "".join(lines) + err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert (tmp_path / "GradFlip" / "GradFlip.conf").is_file()  # saved as on close


def test_a_huge_error_message_keeps_its_box_on_the_screen(qtbot, settings):
    """A model sidecar whose "arch" is 100,000 characters: "unknown torchvision architecture 'xxx…'" made a
    message box 800 × 4,676 px, its OK button far below the screen. The box shows the message's beginning."""
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    w.show_error("The model could not be loaded", "unknown torchvision architecture '" + "x" * 100_000 + "'")
    box = w.last_error_box
    assert box.text().endswith("…") and len(box.text()) <= 1500
    assert box.sizeHint().height() < 1000
    box.close()
    w.close()


def test_an_empty_folder_at_start_leaves_no_classifying_in_the_class_list(qtbot, settings, tmp_path):
    """`gradflip emptydir/`: "No images in this folder", and the class list said "classifying …" for good, though
    nothing was shown or being classified."""
    empty = tmp_path / "empty"
    empty.mkdir()
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    try:
        w.start(str(empty))
        qtbot.waitUntil(lambda: "No images in" in w.status_label.text() and not w.models.loading, timeout=STARTUP_TIMEOUT_MS)
        qtbot.wait(300)
        assert w.image is None
        assert "classifying" not in w.controls.top5.item(0, 0).text()
    finally:
        w.close()
