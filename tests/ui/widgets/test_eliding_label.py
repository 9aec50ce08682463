"""One-line eliding labels (``ui/widgets/eliding_label.py``): the tooltip repeats a cut text only, and a cut rich
text never leaves a space before its "…" (mutation audit, mutD)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_plain_label_repeats_its_text_in_the_tooltip_only_when_it_is_cut(qtbot):
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.eliding_label import ElidingLabel

    label = ElidingLabel("tabby (cancelled: Continue explains)")
    qtbot.addWidget(label)
    label.resize(400, 20)
    label.show()
    assert (QLabel.text(label), label.toolTip()) == ("tabby (cancelled: Continue explains)", "")
    label.resize(60, 20)
    assert QLabel.text(label).endswith("…") and label.toolTip() == "tabby (cancelled: Continue explains)"


def test_a_cut_rich_text_ends_on_a_word_not_a_space_before_its_ellipsis(qtbot):
    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.eliding_label import RichElidingLabel

    label = RichElidingLabel()
    qtbot.addWidget(label)
    label.show()
    label.setText("<b>a b c d e f g h i j k l m n o p q r s t</b>")
    cut = 0
    for width in range(30, 90, 2):
        label.resize(width, 20)
        doc = QTextDocument()
        doc.setHtml(QLabel.text(label))
        shown = doc.toPlainText()
        cut += shown.endswith("…")
        assert not shown.endswith(" …"), (width, shown)
    assert cut >= 20
