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


@pytest.mark.parametrize("width", [150, 600])
def test_an_escaped_caption_without_tags_shows_its_apostrophe(qtbot, width):
    # Compare with a TorchScript model: Grad-CAM's caption read "cannot hook a TorchScript model&#x27;s layers" (the
    # message html-escaped, with no tag in it, was shown as plain text)
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.image_panel import ImagePanel

    panel = ImagePanel("Grad-CAM")
    qtbot.addWidget(panel)
    panel.resize(width, 200)
    panel.show()
    panel.caption.setText("not available: Grad-CAM cannot hook a TorchScript model&#x27;s layers; a state dict or "
                          "ONNX file of it can be compared")
    QApplication.processEvents()
    shown = QLabel.text(panel.caption)
    doc = QTextDocument()
    fmt = panel.caption.textFormat()  # as QLabel decides it
    rich = fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText and Qt.mightBeRichText(shown))
    doc.setHtml(shown) if rich else doc.setPlainText(shown)
    assert "model's" in doc.toPlainText() and "&#x27;" not in doc.toPlainText(), doc.toPlainText()
    panel.caption.setText("cats & dogs.png")  # a plain text with an ampersand stays plain
    QApplication.processEvents()
    assert panel.caption.textFormat() == Qt.TextFormat.PlainText


def test_a_caption_cut_after_a_number_takes_its_unit_or_neither(qtbot):
    """"espresso — 88.2 …": the caption's last line dropped the "%" of the photo's probability and kept the number,
    which reads as a whole value. At every width the number keeps its unit, or both go."""
    import re

    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.image_panel import Caption

    texts = [("<i>outlined: the slider's set, not the run's</i><br><b>espresso</b> — 88.2 % · 1024×768 px (scaled from "
              "4000×3000: explained at this size)"),
             ("<i>outlined: the slider's set, not the run's</i><br><b>Egyptian cat</b> — 79.0 %<br>explained at 224×149 px "
              "(scaled from 451×300)"),
             "step 12: <b>American Staffordshire terrier, pit bull</b> — 45.2 % (flipped) · L2 0.564 · max 12.3/255 so far",
             "tabby 45.2 % · n02123045 n02123159 n02123394 n02124075 0.1234 and the rest of a long note"]
    cut = []
    for width, text in ((w, t) for t in texts for w in range(100, 420, 4)):
        caption = Caption()
        qtbot.addWidget(caption)
        caption.setWordWrap(True)
        caption.resize(width, 60)
        caption.show()
        caption.setFixedHeight(caption.fontMetrics().lineSpacing() * 3 + 6)
        caption.setText(text)
        QApplication.processEvents()
        doc = QTextDocument()
        doc.setHtml(QLabel.text(caption))
        shown = doc.toPlainText()
        whole = QTextDocument()
        whole.setHtml(text.replace(" %", "\u00a0%"))
        kept = shown[:-1] if shown.endswith("…") else shown
        goes_on = whole.toPlainText()[len(kept):]
        # a number right before "…" where the text went on with its digits or its unit ("88.2 …", "79.…", "12.…")
        assert not (shown.endswith("…") and re.search(r"\d[\d.,]*\s*$", kept) and re.match(r"[\d.,]|\s?%|/", goes_on)), \
            (width, shown)
        assert len(shown) > 10, (width, shown)  # a cut that goes on removing words left nothing
        cut.append(shown.endswith("…"))
    assert any(cut) and not all(cut)  # the widths tried cut it, and some show it whole
