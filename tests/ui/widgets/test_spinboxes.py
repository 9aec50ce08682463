"""The settings' spin boxes (ui/widgets/spinboxes.py): what they show and when they say a typed value was refused.
Found by a hand-made mutation audit (2026-12-06): each test fails on a single-point mutation the other tests let
through."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gradflip_desktop.ui.widgets.spinboxes import CheckedDoubleSpinBox, CheckedSpinBox

pytestmark = pytest.mark.gui


def _typed(qtbot, box, text: str) -> list[str]:
    """``text`` typed over the value (between the prefix and the suffix, as a user's selection), then Return."""
    said = []
    box.refused.connect(said.append)
    box.selectAll()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    return said


def test_the_ends_of_the_range_and_a_value_with_its_prefix_and_suffix_are_taken(qtbot):
    box = CheckedSpinBox()
    qtbot.addWidget(box)
    box.setRange(1, 64)
    box.setPrefix("× ")
    box.setSuffix(" blocks")
    box.setValue(5)
    assert _typed(qtbot, box, "1") == [] and _typed(qtbot, box, "64") == []  # read as "× 1 blocks", "× 64 blocks"
    assert box.value() == 64


def test_a_refusal_names_the_range_low_to_high_and_the_value_kept(qtbot):
    box = CheckedSpinBox()
    qtbot.addWidget(box)
    box.setRange(1, 64)
    box.setValue(5)
    assert _typed(qtbot, box, "0") == ["'0' is outside 1–64; kept 5"]


def test_a_whole_decimal_value_is_shown_without_its_point(qtbot):
    box = CheckedDoubleSpinBox()
    qtbot.addWidget(box)
    box.setDecimals(1)
    box.setRange(0, 100)
    box.setSuffix(" px")
    box.setValue(2.0)
    assert box.text() == "2 px"
    box.setValue(2.5)
    assert box.text() == "2.5 px"
