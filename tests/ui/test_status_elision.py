"""A status message too long for the bar ends with "…" (a 12x12 icon at 1366x768: "… (a larger photo is better). P"
was cut mid-letter; the tooltip had the whole message), keeping its bold class name and its links."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import STARTUP_TIMEOUT_MS
from PIL import Image
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel

pytestmark = pytest.mark.gui


def shown(label) -> tuple[str, str]:
    """The label's displayed rich text (not ``text()``, the whole message) and its plain text."""
    rich = QLabel.text(label)
    doc = QTextDocument()
    doc.setHtml(rich)
    return rich, doc.toPlainText()


def test_a_long_status_message_is_elided_with_an_ellipsis(qtbot, window, tmp_path):
    window.resize(1366, 768)
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(
        tmp_path / "a_long_name_for_a_small_icon_photo.png")
    with qtbot.waitSignal(window.classified, timeout=STARTUP_TIMEOUT_MS):
        window.open_path(str(tmp_path / "a_long_name_for_a_small_icon_photo.png"))
    label = window.status_label
    qtbot.waitUntil(lambda: label.width() > 0, timeout=2000)
    full = label.text()
    assert full.endswith("Press Explain (Ctrl+Return).")  # text(): the whole message, as the tests and the tooltip read it
    rich, plain = shown(label)
    assert plain.endswith("…") and "Ctrl+Return" not in plain, plain
    assert plain.startswith("a_long_name_for_a_small_icon_photo: the model sees rock beauty"), plain
    assert "font-weight:700" in rich.replace(" ", "") or "<b>" in rich  # the class name still bold
    assert label.sizeHint().width() <= label.width(), (label.sizeHint().width(), label.width())
    assert "Press Explain" in label.toolTip()
    window.resize(1900, 768)  # room again: the whole message
    qtbot.waitUntil(lambda: not shown(label)[1].endswith("…"), timeout=2000)
    assert shown(label)[1].endswith("Press Explain (Ctrl+Return).")
    # a link keeps working in a cut message
    window.resize(1024, 700)
    window.set_status("Exported 4 files to <a href='file:///tmp/x'>" + "/a/very/long/folder" * 20 + "</a>.")
    qtbot.waitUntil(lambda: shown(label)[1].endswith("…"), timeout=2000)
    assert "href=\"file:///tmp/x\"" in shown(label)[0]


def test_a_cut_message_follows_a_new_font(qtbot):
    """The shortened text is HTML that names the label's font: a new font (a system font change) left the old
    size and the old cut until the next message."""
    from PySide6.QtGui import QFont

    from gradflip_desktop.ui.widgets.eliding_label import RichElidingLabel

    label = RichElidingLabel("<b>tiger cat</b> " + "and a long tail of words " * 20)
    qtbot.addWidget(label)
    label.resize(400, 40)
    label.show()
    qtbot.waitUntil(lambda: shown(label)[1].endswith("…"), timeout=2000)
    before = shown(label)[1]
    font = QFont(label.font())
    font.setPointSizeF(2 * font.pointSizeF())
    label.setFont(font)
    rich, plain = shown(label)
    assert plain.endswith("…") and len(plain) < 0.7 * len(before), (before, plain)
    assert f"font-size:{font.pointSizeF():g}pt" in rich.replace(" ", ""), rich


def test_a_right_to_left_file_name_leaves_the_line_left_to_right(qtbot):
    """A photo named in Arabic starts the status line: the whole English message was laid out right to left (its
    final "." at the left edge) and a cut one ended "…the model sees …" at the left, as if its start were cut."""
    from PySide6.QtCore import Qt

    from gradflip_desktop.ui.widgets.eliding_label import RichElidingLabel

    name = "صورة_القطة_الجميلة_في_الحديقة_مع_أصدقائها_الصغار"
    label = RichElidingLabel(f"{name}: the model sees <b>Egyptian cat</b> (78.1 %). Press Explain (Ctrl+Return).")
    qtbot.addWidget(label)
    for width, cut in ((1200, False), (400, True)):
        label.resize(width, 40)
        label.show()
        qtbot.waitUntil(lambda: shown(label)[1].endswith("…") == cut, timeout=2000)
        doc = QTextDocument()
        doc.setHtml(shown(label)[0])
        assert doc.firstBlock().textDirection() == Qt.LayoutDirection.LeftToRight, (width, shown(label)[1])



def test_a_cut_message_never_splits_a_letter(qtbot):
    """The status bar's cut fell inside a letter of several characters: "👍🏽" lost its skin tone (a bare 👍 then
    "…"), a family emoji ended in a joiner, a Devanagari syllable lost its vowel sign. It now ends between letters."""
    from PySide6.QtCore import QTextBoundaryFinder

    from gradflip_desktop.ui.widgets.eliding_label import RichElidingLabel

    for letter in ("👍🏽", "👨\u200d👩\u200d👧", "कि", "de\u0301"):
        label = RichElidingLabel(f"<b>{letter * 60}</b>: the model sees tiger cat")
        qtbot.addWidget(label)
        label.show()
        for width in range(60, 400, 5):
            label.resize(width, 40)
            plain = shown(label)[1]
            assert plain.endswith("…"), plain
            units = len(plain[:-1].encode("utf-16-le")) // 2  # Qt's positions
            finder = QTextBoundaryFinder(QTextBoundaryFinder.BoundaryType.Grapheme, letter * 60)
            finder.setPosition(units)
            assert finder.isAtBoundary(), (letter, width, plain)
