"""Issue 15: the window tells one consistent story. One test (at least) per point of the issue."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from gradflip_desktop.core.options import ExplainOptions, Status
from gradflip_desktop.core.summary import pct, pct1, summary_sentence
from gradflip_desktop.ui.main_window import MainWindow
from gradflip_desktop.ui.settings import RunSettings

from helpers import RUN_TIMEOUT_MS, make_image_file

pytestmark = pytest.mark.gui

FREE = RunSettings(style="free")  # the textbook style: a quick flip of chelsea with key pixels


def run_and_wait(qtbot, window, settings: RunSettings | None = None, signal=None):
    if settings is not None:
        window.controls.set_settings(settings)
    with qtbot.waitSignal(signal or window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.explain()
    return blocker.args[0]


def panel_heights(window) -> list[int]:
    return [p.graphics.height() for p in (window.views.original, window.views.adjusted, window.views.difference)]


def settle(qtbot, ms: int = 50) -> None:
    QApplication.processEvents()
    qtbot.wait(ms)


# 1 --------------------------------------------------------------------------------------------------------
def test_caption_updates_never_change_the_views_height(qtbot, window, tmp_path):
    """The caption ratchet: every caption update made captions taller (40 px -> 148 px after three images)."""
    window.resize(1024, 700)
    settle(qtbot)
    before = panel_heights(window)
    captions = [p.caption.height() for p in (window.views.original, window.views.adjusted, window.views.difference)]
    long = "<b>tiger cat</b> — 30.6 % in the saved image · flipped from Egyptian cat at step 54; " * 3
    for i in range(40):
        text = long if i % 2 else "short"
        for panel in (window.views.original, window.views.adjusted, window.views.difference):
            window.views.set_caption(panel, text)
        window.views.set_key_answer(text)
        window.views.set_change_caption(text)
        settle(qtbot, 1)
    settle(qtbot)
    assert panel_heights(window) == before
    assert [p.caption.height() for p in (window.views.original, window.views.adjusted, window.views.difference)] == captions
    for i in range(3):  # three images, as in the report
        path = make_image_file(tmp_path / f"img{i}.png", 120 + 40 * i, 90)
        with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
            window.open_path(str(path))
    settle(qtbot)
    assert panel_heights(window) == before
    # at 1024x700 with Compare on, the caption stays below its image, never across it
    window.set_compare_visible(True)
    settle(qtbot)
    for panel in (window.views.original, window.views.adjusted, window.views.difference):
        g, c = panel.graphics.geometry(), panel.caption.geometry()
        assert c.top() >= g.bottom(), (g, c)


# 2, 3 -----------------------------------------------------------------------------------------------------
def assert_numbers_agree(window, result) -> None:
    """Plot (saved point), captions, summary and the record state the same numbers for one run."""
    from gradflip_desktop.core.report import record

    final = result.final
    explained_saved, flip_saved = window.plot.saved_values()
    assert explained_saved == pytest.approx(float(result.final_probabilities[result.explained].sum()), abs=1e-6)
    if window.plot.shown and window.plot.shown[0] == final.index:
        assert flip_saved == pytest.approx(final.probability, abs=1e-6)
    caption = window.views.adjusted.caption.text()
    assert f"<b>{final.label}</b> — {100 * final.probability:.1f} % (saved image)" in caption
    summary = html.unescape(window.views.summary.text()).replace("\xa0", " ")  # "9.5&nbsp;%": kept on one line
    assert summary.startswith(summary_sentence(result))  # the core's sentence (also in the figure)
    if result.flipped:
        assert (f"{final.label} ({pct(final.probability)}" in summary or f"{final.label} ({pct1(final.probability)};" in summary
                or f"{final.label} ({100 * final.probability:.2f} %;" in summary)  # a near tie equal at one decimal
        # the other style is one click away, both ways
        other = "style:region" if result.options.style == "free" else "style:free"
        assert f"href='{other}'" in summary
    rec = record(result)
    assert rec["final"]["probability"] == pytest.approx(final.probability, abs=1e-5)
    flip = next((s.index for s in result.steps if s.flipped and s.phase == "search"), None)
    if flip is not None:
        assert window.plot.flip_line.isVisible() and window.plot.flip_line.value() == flip
        assert f"at step {flip}" in caption
    # the saved point is one step to the right of the last step, and the axis calls it "saved"
    assert window.plot.saved_x == window.plot.x[-1] + 1
    assert window.plot.step_axis.tickStrings([window.plot.saved_x], 1, 1) == ["saved"]


def test_numbers_agree_default_budget_one_and_cancelled(qtbot, window):
    result = run_and_wait(qtbot, window, FREE)
    assert result.flipped
    assert_numbers_agree(window, result)
    assert window.controls.progress.property("outcome") == ""  # a flip: the normal bar
    # budget 1: no flip; the bar shows 1 of 1 used, in the warning colour, and says "1 step"
    result = run_and_wait(qtbot, window, RunSettings(style="free", mode="fixed", epsilon=0.00001, max_steps=1))
    assert result.status == Status.BUDGET and len(result.steps) == 1
    assert_numbers_agree(window, result)
    bar = window.controls.progress
    assert bar.property("outcome") == "warning" and "chunk" in bar.styleSheet()
    assert "1 step ·" in bar.format() and "1 steps" not in bar.format()
    assert window.views.summary.text().startswith("No flip within the budget of 1 step")
    # cancelled: the state reached, the same numbers everywhere
    window.controls.set_settings(RunSettings(style="free", mode="fixed", epsilon=0.00001, max_steps=5000))
    window.explain()
    with qtbot.waitSignal(window.run_progress, timeout=RUN_TIMEOUT_MS):
        pass
    with qtbot.waitSignal(window.run_cancelled, timeout=RUN_TIMEOUT_MS) as blocker:
        window.cancel_action.trigger()
    result = blocker.args[0]
    assert result.status == Status.CANCELLED
    assert_numbers_agree(window, result)
    assert window.views.summary.text().startswith("Cancelled after")
    assert window.controls.progress.value() < window.controls.progress.maximum()


def test_a_run_extended_by_the_8bit_pass_is_marked(qtbot, window):
    """The plot marks the flip and where the 8-bit pass continued; the caption says both steps."""
    from helpers import make_tiny, tiny_image_array

    from gradflip_desktop.core.explain import run

    from dataclasses import replace

    result = run(make_tiny(seed=1), tiny_image_array(),
                 ExplainOptions(style="free", mode="fixed", epsilon=1e-4, minimise=False))
    assert result.flipped and len(result.steps) >= 4
    if all(s.phase == "search" for s in result.steps):
        # this run needed no 8-bit pass: mark its last two steps as one would (the window reads only the phases)
        steps = [replace(s, phase="eight_bit") if i >= len(result.steps) - 2 else s for i, s in enumerate(result.steps)]
        steps[-3] = replace(steps[-3], flipped=True)
        result = replace(result, steps=steps)
    window.runs._show_result(result)
    eight = next(s.index for s in result.steps if s.phase != "search")
    assert window.plot.eight_bit_line.isVisible() and window.plot.eight_bit_line.value() == eight
    assert f"Steps {eight}–{len(result.steps)} made the flip survive 8-bit saving" in window.views.adjusted.caption.toolTip()
    assert "8-bit pass" in window.plot.show_readout(len(result.steps))
    assert "<b>saved</b> (8-bit" in window.plot.show_saved_readout()
    assert_numbers_agree(window, result)


def test_a_single_8bit_step_is_not_called_a_range(qtbot, window):
    """coffee.png, default style: only step 5 was the 8-bit pass; the caption's tooltip read "Steps 5–5 made the
    flip survive 8-bit saving"."""
    from dataclasses import replace

    from helpers import make_tiny, tiny_image_array

    from gradflip_desktop.core.explain import run

    result = run(make_tiny(seed=1), tiny_image_array(),
                 ExplainOptions(style="free", mode="fixed", epsilon=1e-4, minimise=False))
    assert result.flipped and len(result.steps) >= 3
    last = len(result.steps) - 1
    steps = [replace(s, phase="eight_bit") if i == last else replace(s, phase="search") for i, s in enumerate(result.steps)]
    window.runs._show_result(replace(result, steps=steps))
    tip = window.views.adjusted.caption.toolTip()
    eight = steps[-1].index
    assert f"Step {eight} made the flip survive 8-bit saving" in tip
    assert f"{eight}–{eight}" not in tip


# 5, 11 ----------------------------------------------------------------------------------------------------
def test_key_explorer_is_a_visible_control_whose_answer_neither_jumps_nor_is_cut(qtbot, window, tmp_path):
    result = run_and_wait(qtbot, window, FREE)
    kp = result.key_pixels
    assert window.views.mode == "magnitude"  # not the key-pixel mode: the explorer shows anyway
    assert window.views.key_row.isVisible() and window.views.key_count == kp.count
    slider = window.views.key_slider
    assert slider.value() == window.views._count_to_slider(kp.count)
    # the key pixels are outlined over the Original
    qtbot.waitUntil(lambda: window.views.original.overlay() is not None, timeout=30_000)
    overlay = window.views.original.overlay()
    assert overlay.shape[:2] == result.original_pixels.shape[:2] and (overlay[..., 3] == 255).any()
    answer = window.views.key_answer
    height = answer.height()
    for k in (0, 1, kp.count // 3, kp.count):
        with qtbot.waitSignal(window.key_answer_shown, timeout=30_000):
            window.views.set_key_count(k)
        # the panels below do not jump down and up with the slider, and no answer is cut off (a fixed two
        # lines cut "…flips it to fox squirrel (19.5 %)" in an 820 px window)
        assert answer.height() >= height and answer.height() >= answer.heightForWidth(answer.width())
        height = answer.height()
    assert "flip it to" in window.views.key_answer.text()
    assert "outlined on the Original" in window.views.key_answer.toolTip()
    # numbers explained: tooltips of the change caption and the adjusted caption
    tip = window.views.difference.caption.toolTip()
    assert "RMS" in tip and "L2" in tip and "255" in tip
    # a new image: the explorer's answer goes with the result
    path = make_image_file(tmp_path / "other.png", 80, 60)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(path))
    assert window.views.key_answer.text() == "" and not window.views.key_row.isVisible()
    assert window.views.original.overlay() is None


def test_summary_offers_the_whole_group_when_the_flip_stays_in_it(qtbot, window, tmp_path):
    result = run_and_wait(qtbot, window, FREE)
    assert result.original.label == "Egyptian cat" and result.final.index in range(281, 286)
    summary = window.views.summary.text()
    assert "href='group:cat'" in summary and "any&nbsp;cat" in summary  # the link never breaks in two
    assert "href='style:region'" in summary and "href='style:free'" not in summary  # the way back to the default
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.views.summary.linkActivated.emit("group:cat")
    group_run = blocker.args[0]
    assert sorted(group_run.explained) == [281, 282, 283, 284, 285]
    assert window.controls.settings().target_mode == "group" and window.controls.settings().group == "cat"
    # for this photo only: the saved target stays the top class, and another photo starts from it again (before, an
    # espresso opened next was explained as "any cat": nothing to flip)
    assert window.settings.value("run/target_mode") == "top"
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(make_image_file(tmp_path / "next.png", 80, 60)))
    assert window.controls.settings().target_mode == "top" and window.controls.settings().style == FREE.style


def test_a_group_run_that_cannot_flip_offers_the_way_back_to_the_top_class(qtbot, window, tmp_path):
    # a group chosen in the panel stays chosen: on the next photo, not a cat, the run said "not in the group;
    # nothing to flip" and offered no way back but the settings panel
    window.controls.set_settings(RunSettings(style="free", target_mode="group", group="cat"))
    path = make_image_file(tmp_path / "other.png", 80, 60)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(path))
    result = run_and_wait(qtbot, window)
    assert not result.flipped
    assert "href='target:top'" in window.views.summary.text()
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.views.summary.linkActivated.emit("target:top")
    assert window.controls.settings().target_mode == "top" and len(blocker.args[0].explained) == 1


def test_a_chosen_class_the_model_already_sees_offers_the_top_class_not_another_style(qtbot, window):
    """Before: "nothing to flip" (the chosen class is already on top) offered "Key region" or "Textbook change",
    which change nothing; now the link explains why the model sees the class."""
    window.controls.set_settings(RunSettings(target_mode="class", target_class="Egyptian cat"))
    result = run_and_wait(qtbot, window)
    assert str(result.status) == "nothing_to_flip" and result.target is not None
    summary = window.views.summary.text()
    assert "href='target:top'" in summary and "style:" not in summary
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.views.summary.linkActivated.emit("target:top")
    assert window.controls.settings().target_mode == "top" and blocker.args[0].flipped


# 6 --------------------------------------------------------------------------------------------------------
def test_units_without_si_prefixes_whole_steps_and_a_fitted_y_axis(qtbot, window):
    assert window.views.colorbar.axis.autoSIPrefix is False
    axis = window.plot.step_axis
    assert axis.autoSIPrefix is False
    for lo, hi in ((0, 1), (0, 0.5), (0, 3), (0, 250)):
        for _spacing, values in axis.tickValues(lo, hi, 600):
            assert all(float(v).is_integer() for v in values), (lo, hi, values)
    assert axis.tickStrings([0.0, 2.0], 1, 1) == ["0", "2"]
    result = run_and_wait(qtbot, window, FREE)
    top = window.plot.plot.getPlotItem().vb.viewRange()[1][1]
    highest = max(float(result.original_probabilities[result.explained].sum()), result.final.probability)
    assert highest <= top <= min(1.05, 1.2 * highest + 0.05)  # fitted to the data, not fixed at 1


# 7 --------------------------------------------------------------------------------------------------------
def test_downscaling_is_said(qtbot, window, tmp_path):
    path = make_image_file(tmp_path / "panorama.png", 2400, 300)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(path))
    w, h = window.image.size
    assert max(w, h) < 2400 and window.image.scaled
    # a 2400×300 panorama at 1,024 px: the model's 224 px input enlarges the 128 px strip, and that note names the
    # reduction, so it is said once (it said "explained at 1024×128 px (scaled from 2400×300)" before it too)
    said = f"after the working size reduced it from 2400×300 to {w}×{h}"
    assert said in window.status_label.text() and "scaled from" not in window.status_label.text()
    caption = window.views.original.caption.text()
    assert said in caption and "(scaled from 2400×300)" not in caption, caption
    square = make_image_file(tmp_path / "square.png", 2400, 1800)  # scaled without a note of the model's: said so
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(square))
    w, h = window.image.size
    assert f"explained at {w}×{h} px (scaled from 2400×1800)" in window.views.original.caption.text()


def test_working_size_is_a_setting_with_its_memory_cost(qtbot, window, settings):
    from gradflip_desktop.core import options

    c = window.controls
    assert c.working_size.value() == options.WORKING_SIZE_DEFAULT
    assert (c.working_size.minimum(), c.working_size.maximum()) == (options.WORKING_SIZE_MIN, options.WORKING_SIZE_MAX)
    assert "MB" in c.working_size_note.text() and "memory" in c.working_size.toolTip()
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        c.working_size.setValue(256)  # the sample photo (451×300) is decoded again at 256 px
    assert window.image.size == (256, 170) and window.image.scaled
    assert "explained at 256×170 px (scaled from 451×300)" in window.views.original.caption.text()
    assert RunSettings.load(settings).working_size == 256
    # a run when the size changes: cancelled and said (it vanished without a word) ...
    window.controls.set_settings(RunSettings(mode="fixed", epsilon=0.00001, max_steps=5000))  # runs long
    window.explain()
    qtbot.waitUntil(lambda: window.runs.running, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        c.working_size.setValue(300)
        assert window.status_label.text() == "Cancelled the run to load the photo again at 300 px …"
        assert not window.runs.running
    assert window.status_label.text().startswith("The explanation was stopped: the working size is now 300 px. ")
    # a finished result at the old size: cleared, and said with the new classification (it vanished without a word)
    window.controls.set_settings(RunSettings(style="free", max_steps=3, working_size=300))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    assert window.result is not None
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        c.working_size.setValue(280)
    assert window.result is None
    assert window.status_label.text().startswith(  # first: a long line is cut at its end ("… --max-si…")
        "The explanation made at the previous working size was cleared: Explain makes one at 280 px. "), \
        window.status_label.text()
    # ... unless the photo is whole at both sizes: 451×300 at 512 and 1,024 px, the run goes on
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        c.working_size.setValue(512)
    window.explain()
    qtbot.waitUntil(lambda: window.runs.running, timeout=RUN_TIMEOUT_MS)
    c.working_size.setValue(1024)
    assert window.runs.running and window.image.size == (451, 300)
    assert "is explained whole at either size, unchanged" in window.status_label.text()
    window.close()
    assert RunSettings.load(settings).working_size == 1024


def test_a_working_size_reload_that_fails_leaves_no_note_for_the_next_photo(qtbot, window, tmp_path):
    """The shown photo's file deleted, then the working size changed: the reload fails and the result stays; the
    next photo said "The explanation made at the previous working size was cleared" with its classification."""
    first, second = make_image_file(tmp_path / "first.png", 300, 200), make_image_file(tmp_path / "second.png", 200, 300)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(first))
    window.controls.set_settings(RunSettings(style="free", max_steps=3, working_size=window.controls.settings().working_size))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    first.unlink()
    with qtbot.waitSignal(window.image_failed, timeout=RUN_TIMEOUT_MS):
        window.controls.working_size.setValue(150)
    assert window.result is not None  # the photo shown stays with its result
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(second))
    assert "previous working size" not in window.status_label.text(), window.status_label.text()


# 8 --------------------------------------------------------------------------------------------------------
def test_keyboard_mnemonics_zoom_and_focus(qtbot, window):
    menus = {a.text().split("&")[1][0].lower() for a in window.menuBar().actions() if "&" in a.text()}
    assert menus >= {"f", "e", "r", "v", "h"}
    from PySide6.QtWidgets import QLabel

    settings_keys = set()
    for label in window.controls.findChildren(QLabel):
        m = re.search(r"&(\w)", label.text())
        if m and label.buddy() is not None:
            settings_keys.add(m.group(1).lower())
    assert settings_keys and not (settings_keys & menus), settings_keys & menus
    # keyboard zoom on the linked views
    assert "Ctrl++" in [k.toString() for k in window.zoom_in_action.shortcuts()]
    assert window.zoom_out_action.shortcut().toString() == "Ctrl+-"
    before = window.views.original.view.viewRange()[0]
    window.zoom_in_action.trigger()
    after = window.views.original.view.viewRange()[0]
    assert after[1] - after[0] < before[1] - before[0]
    linked = window.views.adjusted.view.viewRange()[0]
    assert linked[1] - linked[0] == pytest.approx(after[1] - after[0], rel=0.05)  # linked (panels differ by a few px)
    # the image views take no tab stop they cannot show, but the Original, whose arrow keys pan all three when
    # zoomed in, and which is framed in the highlight colour while focused; a focused button looks focused; the
    # plot takes one (its arrow keys move the read-out) and looks focused
    for w in (window.views.difference.graphics, window.views.adjusted.graphics, window.views.colorbar_view):
        assert w.focusPolicy() == Qt.FocusPolicy.NoFocus
    original = window.views.original.graphics
    assert original.focusPolicy() == Qt.FocusPolicy.StrongFocus
    original.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(original.hasFocus, timeout=2000)
    from PySide6.QtGui import QPalette

    highlight = original.palette().color(QPalette.ColorRole.Highlight)
    qtbot.waitUntil(lambda: original.grab().toImage().pixelColor(0, original.height() // 2) == highlight, timeout=2000)
    assert window.plot.plot.focusPolicy() == Qt.FocusPolicy.StrongFocus
    window.plot.plot.setFocus()
    qtbot.waitUntil(window.plot.has_focus_frame, timeout=2000)
    assert ":focus" in window.controls.styleSheet()



def test_the_explain_action_does_not_promise_the_textbook_answer(qtbot, window):
    """The default style answers with a key region, not "the smallest change" (the textbook style's answer):
    the toolbar's tooltip said "Find the smallest change that flips the decision" whatever the style."""
    tip = window.explain_action.toolTip()
    assert window.controls.style.currentData() == "region"
    assert "smallest change" not in tip and "Ctrl+Return" in tip

# 9 --------------------------------------------------------------------------------------------------------
def test_defaults_at_once_and_a_refused_value_is_said(qtbot, settings):
    w = MainWindow(settings=settings)  # no model yet: the settings are the core's at once
    qtbot.addWidget(w)
    w.show()
    o = ExplainOptions()
    shown = w.controls.settings()
    assert (shown.epsilon, shown.max_steps, shown.mode, shown.style) == (o.epsilon, o.max_steps, o.mode, o.style)
    box = w.controls.epsilon
    box.setFocus()
    box.lineEdit().selectAll()
    QTest.keyClicks(box.lineEdit(), "0")
    QTest.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert box.value() == o.epsilon
    status = w.status_label.text()
    assert "ε" in status and "outside" in status and f"kept {o.epsilon:g}" in status
    w.close()


# 10 -------------------------------------------------------------------------------------------------------
def test_export_creates_a_typed_folder_and_asks_with_three_choices(qtbot, window, tmp_path):
    from gradflip_desktop.ui.controllers.export import CHOOSE_ANOTHER
    from gradflip_desktop.ui.widgets.folder_dialog import ExportFolderDialog

    dlg = ExportFolderDialog(window, str(tmp_path))
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.findChild(QWidget, "fileNameEdit").setText("results/cat")
    dlg.accept()
    assert dlg.result() == 1 and (tmp_path / "results" / "cat").is_dir() and dlg.chosen == str(tmp_path / "results" / "cat")

    seen = []

    def answer():
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        seen.extend(b.text() for b in box.buttons())
        next(b for b in box.buttons() if b.text().startswith("Choose Another")).click()

    QTimer.singleShot(200, answer)
    assert window.ask_overwrite("3 result file(s) already exist. Overwrite them?") == CHOOSE_ANOTHER
    assert "Overwrite" in seen and "Choose Another Folder…" in seen and len(seen) == 3


def test_paste_without_image_is_only_a_status_message_and_help_has_pages(qtbot, window):
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.clipboard().setText("no image here")
    with qtbot.waitSignal(window.error_shown, timeout=5000):
        window.paste()
    assert window.last_error_box is None or not window.last_error_box.isVisible()
    assert "no image" in window.status_label.text()
    help_items = [a.text() for a in window.menuBar().actions()[-1].menu().actions()]
    assert "&Keyboard Shortcuts" in help_items and "&How GradFlip Works" in help_items
    window.shortcuts_action.trigger()
    text = window.help_dialog.layout().itemAt(0).widget().toPlainText()
    assert "Ctrl+Return" in text and "Explain" in text and "Ctrl+E" in text
    window.help_dialog.close()
    window.how_action.trigger()
    how = window.help_dialog.layout().itemAt(0).widget().toPlainText()
    assert "smallest change" in how and "saved" in how and "key region" in how.lower() and "key pixels" in how.lower()
    window.help_dialog.close()


# 12 -------------------------------------------------------------------------------------------------------
def test_missing_x11_libraries_are_named_with_the_install_line(monkeypatch, capsys):
    from gradflip_desktop import app

    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    missing = {"libxcb-cursor.so.0", "libxcb-icccm.so.4"}
    monkeypatch.setattr(app, "_library_loads", lambda soname: soname not in missing)
    assert app.run_gui(None) == 2  # before any QApplication: no abort, no core dump
    err = capsys.readouterr().err
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4" in err
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4\n" in err
    assert "sudo dnf install xcb-util-cursor xcb-util-wm" in err and "sudo pacman -S xcb-util-cursor xcb-util-wm" in err
    # offscreen or Wayland: nothing to check
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.missing_xcb_libraries() == []
    # with the real loader: exactly the libraries that do not load on this machine are named (none on a
    # desktop with Qt's X11 dependencies; a bare container may lack some)
    import ctypes

    def loads(soname):
        try:
            ctypes.CDLL(soname)
        except OSError:
            return False
        return True

    monkeypatch.undo()
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert app.missing_xcb_libraries() == [row for row in app.XCB_LIBRARIES if not loads(row[0])]
    assert {row[0] for row in app.XCB_LIBRARIES} >= {"libxcb-cursor.so.0", "libxcb-icccm.so.4"}


def test_the_default_result_shows_its_key_set_outlined(qtbot, window):
    """The default (region) style names a key region; the explorer and the outline follow whichever key
    set the result has."""
    from gradflip_desktop.ui.controllers.difference import key_set

    result = run_and_wait(qtbot, window, RunSettings(), signal=None)
    keys = key_set(result)
    if keys is None:
        assert not window.views.key_row.isVisible()
        return
    title = "Key region" if keys.kind == "region" else "Key pixels"
    assert window.views.key_row.isVisible() and title in window.views.key_title.text()
    assert window.views.key_slider.accessibleName() == title  # screen readers name the same set
    assert window.views.key_answer.toolTip().startswith(f"{title}:")
    mode_texts = [window.views.mode_box.itemText(i) for i in range(window.views.mode_box.count())]
    # the Difference mode names the same set as the explorer (a region's shows the region alone)
    assert ("Key region alone" if keys.kind == "region" else "Key-pixel outline") in mode_texts
    assert window.views.key_count == keys.found
    qtbot.waitUntil(lambda: window.views.original.overlay() is not None, timeout=30_000)
    assert ("key region:" if keys.kind == "region" else "key pixels:") in window.views.key_answer.text()
    if keys.kind == "region":  # drawn over the Original as the exported figure draws it
        from gradflip_desktop.core.viz.maps import key_region_layer

        assert np.array_equal(window.views.original.overlay(), key_region_layer(keys.mask_for(keys.found)))
    with qtbot.waitSignal(window.key_answer_shown, timeout=30_000) as answer:
        window.views.set_key_count(keys.found)
    assert answer.args[0].top[0].index == keys.prediction.index  # the core's own image for that set
    if keys.kind == "region":  # the Key region alone panel names the class it shows, as the other two captions do
        from gradflip_desktop.core.viz.difference import KEY_PIXELS

        window.views.set_mode(KEY_PIXELS)
        qtbot.waitUntil(lambda: "Key region alone" in window.views.difference.title.text(), timeout=10_000)
        assert window.views.difference.caption.text().startswith(f"<b>{answer.args[0].top[0].label}</b> — ")


def test_readme_lists_every_x11_library_the_check_knows():
    from pathlib import Path

    from gradflip_desktop import app

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    apt = re.search(r"sudo apt install (.*?)# Debian/Ubuntu", readme, re.S).group(1).replace("\\", "").split()
    assert set(apt) == {row[1] for row in app.XCB_LIBRARIES}
    dnf = re.search(r"sudo dnf install (.*?)# Fedora", readme, re.S).group(1).replace("\\", "").split()
    assert set(dnf) == {row[2] for row in app.XCB_LIBRARIES}


def test_the_hint_before_a_run_names_what_the_chosen_style_finds(qtbot, window, tmp_path):
    """Before Explain, the summary and the Adjusted caption say what the run will find: for the default
    (region) style where the decision's detail lies, for the textbook style the smallest change."""
    assert window.controls.style.currentData() == "region"
    summary = window.views.summary.text()
    assert "regions whose detail the decision depends on" in summary and "smallest change" not in summary
    window.controls.set_settings(FREE)
    path = make_image_file(tmp_path / "photo.png")
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(path))
    assert "the smallest change that makes it see something else" in window.views.summary.text()


def test_progress_bar_names_the_flip_step_the_plot_and_caption_show(tiny, tiny_image):
    # the region style goes on after its flip (sharpen, flip-back search): "flipped · 19 steps" next to a plot
    # whose flip line is at step 3 and a caption "flipped ... at step 3" told two stories
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.ui.controllers.runs import progress_text

    result = run(tiny, tiny_image, ExplainOptions())
    flip = next(s.index for s in result.steps if s.flipped and s.phase == "search")
    n = len(result.steps)
    assert result.flipped and flip < n
    assert progress_text(result, flip) == f"flipped at step {flip} · {n} steps in all · {result.seconds:.1f} s"
    from gradflip_desktop.ui.controllers.runs import progress_tip

    tip = progress_tip(result, flip)  # the steps past the flip are not plotted: the tooltip says what they did
    assert tip.startswith(f"Steps 1–{flip} searched for the flip (the plot's curves); steps {flip + 1}–{n} ")
    assert "rank the areas" in tip
    free = run(tiny, tiny_image, ExplainOptions(style="free", key_pixels=False))
    last = len(free.steps)
    assert progress_text(free, last) == f"flipped · {last} step{'s' if last != 1 else ''} · {free.seconds:.1f} s"


def test_the_explain_and_cancel_icons_follow_a_dark_palette(qtbot, window):
    # the style's play/stop icons stayed black on a dark toolbar (hard to see in dark mode)
    from PySide6.QtGui import QColor, QPalette

    dark = QPalette(window.palette())
    for role, color in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.WindowText, "#e8eaed"),
                        (QPalette.ColorRole.Button, "#303134"), (QPalette.ColorRole.ButtonText, "#e8eaed"),
                        (QPalette.ColorRole.Base, "#171717")):
        dark.setColor(role, QColor(color))
    window.setPalette(dark)
    image = window.explain_action.icon().pixmap(32, 32).toImage()
    opaque = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())
              if image.pixelColor(x, y).alpha() > 200]
    assert opaque and min(c.lightness() for c in opaque) > 150  # light on dark, not black
    # Cancel: a white square on a red disc in both themes (tests/ui/test_toolbar_icons.py), never black
    image = window.cancel_action.icon().pixmap(32, 32).toImage()
    assert image.pixelColor(16, 16).lightness() > 240 and image.pixelColor(16, 4).red() > 180


def test_a_class_the_model_does_not_have_is_a_status_message_with_the_field_focused(qtbot, window):
    """A typo in the class name (or an empty field) opened a modal box on Explain; now the status bar says it and
    the Class field gets the focus, its text selected, ready to be retyped."""
    window.activateWindow()
    for typed, words in (("goldfi", "ambiguous"), ("zebrafishy", "no class named"), ("", "")):
        window.controls.set_settings(RunSettings(target_mode="class", target_class=typed))
        with qtbot.waitSignal(window.error_shown, timeout=5000) as shown:
            window.explain()
        assert shown.args[0] == "Cannot explain" and words in shown.args[1]
        assert window.last_error_box is None or not window.last_error_box.isVisible()
        assert "Cannot explain" in window.status_label.text() and not window.runs.running
        edit = window.controls.target_class.lineEdit()
        qtbot.waitUntil(lambda: window.controls.target_class.hasFocus() or edit.hasFocus(), timeout=2000)
        assert edit.selectedText() == edit.text()


def test_changing_the_style_after_a_result_says_the_views_show_the_earlier_settings(qtbot, window):
    """The views kept a key-region result after the style was switched to the smallest change, with nothing
    saying they came from other settings."""
    run_and_wait(qtbot, window)
    window.set_status("")
    window.controls.style.setCurrentIndex(window.controls.style.findData("free"))
    text = window.status_label.text()
    assert text.startswith("Settings changed: the result shown was made with the key region style"), text
    assert "Explain (Ctrl+Return) applies the new ones" in text
    window.set_status("")
    window.controls.style.setCurrentIndex(window.controls.style.findData("region"))  # back as it was: no note
    assert window.status_label.text() == ""


def test_a_group_result_is_named_as_the_window_names_it_when_the_settings_change(window):
    """The note said ", group cat" (the record's key) where the window, its links and sentence say "any cat"."""
    from types import SimpleNamespace

    from gradflip_desktop.core.options import ExplainOptions

    result = SimpleNamespace(options=ExplainOptions(group="cat"), explained_name="cat")
    window.controls.style.setCurrentIndex(window.controls.style.findData("free"))
    window.models.settings_note(result)
    text = window.status_label.text()
    assert ", the group any cat." in text and "group cat." not in text, text


def test_a_display_that_cannot_be_reached_is_named_instead_of_qts_abort(monkeypatch, capsys):
    # DISPLAY set but no X server there (a stale DISPLAY after SSH, `sudo gradflip`): Qt aborted (exit 134)
    # asking to install libxcb-cursor0, which was installed
    from gradflip_desktop import app

    if not app._library_loads("libxcb.so.1"):
        pytest.skip("no libxcb here")
    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":4711")
    monkeypatch.setenv("XAUTHORITY", "/nonexistent/gradflip-test-Xauthority")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(app, "missing_xcb_libraries", lambda: [])
    assert app.run_gui(None) == 2  # before any QApplication
    assert "the X display ':4711' (DISPLAY) cannot be reached" in capsys.readouterr().err
