"""A long file name does not push the status bar's message off the window: the bar leads with the name."""

from __future__ import annotations

from helpers import STARTUP_TIMEOUT_MS, make_image_file

from gradflip_desktop.ui.controllers.images import status_name


def test_status_name_keeps_short_names_and_shortens_long_ones_in_the_middle():
    assert status_name("日本語 猫") == "日本語 猫"
    assert status_name("a<b") == "a&lt;b"
    long = "a_really_long_file_name_for_a_cat_photo_" * 4 + "END"
    short = status_name(long)
    assert len(short) <= 60 and short.startswith("a_really") and short.endswith("END") and "…" in short


def test_a_long_file_name_leaves_the_status_message_readable(qtbot, window, tmp_path):
    window.resize(1024, 700)
    name = "a_really_long_file_name_for_a_cat_photo_" * 4  # 160 characters
    path = make_image_file(tmp_path / f"{name}.png")
    with qtbot.waitSignal(window.classified, timeout=STARTUP_TIMEOUT_MS):
        window.open_path(str(path))
    label = window.status_label
    assert "the model sees" in label.text()
    qtbot.waitUntil(lambda: label.width() > 0, timeout=2000)
    # the whole line fits the label (it was 2,962 px wide in a 1,024 px window, its message cut off)
    assert label.sizeHint().width() <= label.width(), (label.sizeHint().width(), label.width())
    assert name in window.windowTitle()  # the full name stays in the title
