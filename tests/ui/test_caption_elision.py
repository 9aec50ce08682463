"""An image panel's caption keeps its fixed height: a longer text ends with an ellipsis on its last line, never half a line."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("width", [150, 172, 400])
def test_a_long_caption_ends_with_an_ellipsis_on_its_last_line_not_half_a_line(qtbot, width):
    # an 820x560 window: "tiger cat — 38.5 % (saved image) · flipped from Egyptian cat at step 3" took four lines
    # in a 150 px panel, and the caption's fixed three-line height cut the fourth through its middle
    from PySide6.QtGui import QTextDocument

    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.image_panel import CAPTION_LINES, ImagePanel

    panel = ImagePanel("Adjusted")
    qtbot.addWidget(panel)
    panel.resize(width, 200)
    panel.show()
    text = "<b>tiger cat</b> — 38.5 % (saved image) · flipped from Egyptian cat at step 3 and a longer note after it"
    panel.caption.setText(text)
    QApplication.processEvents()
    assert panel.caption.text() == text  # the whole text for whoever reads it (tests, the tooltip)
    doc = QTextDocument()
    doc.setDefaultFont(panel.caption.font())
    doc.setDocumentMargin(0)
    doc.setHtml(QLabel.text(panel.caption))  # what the label shows (text() is the whole text)
    doc.setTextWidth(panel.caption.contentsRect().width())
    doc.size()
    lines = sum(doc.findBlockByNumber(i).layout().lineCount() for i in range(doc.blockCount()))
    assert lines <= CAPTION_LINES, (width, lines, doc.toPlainText())
    shown = doc.toPlainText()
    assert shown.startswith("tiger cat — 38.5 %")
    assert "38.5\u00a0%" in doc.toRawText()  # a number keeps its percent sign on its line
    assert shown == text.replace("<b>", "").replace("</b>", "") or shown.endswith("…"), shown
