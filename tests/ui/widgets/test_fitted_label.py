"""FittedLabel (``ui/widgets/fitted_label.py``): at least its lines, taller for a longer text, never shorter at the
same width (mutation audit, mutD)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui

LONG = " ".join(["Removing detail in the outlined 42&nbsp;% of the image turns Egyptian cat into fox squirrel."] * 3)


def test_the_label_is_its_lines_tall_grows_for_a_long_text_and_keeps_that_height_at_its_width(qtbot):
    from gradflip_desktop.ui.widgets.fitted_label import FittedLabel

    label = FittedLabel(min_lines=3)
    qtbot.addWidget(label)
    least = 3 * label.fontMetrics().lineSpacing() + 4
    assert label.height() == least
    label.resize(200, least)
    label.show()
    label.setText(LONG)
    tall = label.height()
    assert tall == label.heightForWidth(200) > least
    label.setText("espresso")  # the same width: no jump back
    assert label.height() == tall


def test_a_label_grown_in_a_narrow_window_shrinks_back_when_the_window_widens(qtbot):
    """Qt's ``heightForWidth`` never answers less than the label's minimum height, which ``fit`` had fixed: a summary
    grown to six lines at 200 px kept six lines' room at 800 px, where two hold it (the views stayed pushed down)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.fitted_label import FittedLabel

    label = FittedLabel(min_lines=3)
    qtbot.addWidget(label)
    least = 3 * label.fontMetrics().lineSpacing() + 4
    label.resize(200, least)
    label.show()
    label.setText(LONG)
    assert label.height() > least
    ruler = QLabel()  # the same text's height at 800 px, measured with no minimum height
    ruler.setWordWrap(True)
    ruler.setTextFormat(Qt.TextFormat.RichText)
    ruler.setFont(label.font())
    ruler.setText(LONG)
    label.resize(800, label.height())
    assert label.height() == max(least, ruler.heightForWidth(800)) < 3 * ruler.heightForWidth(800)
