"""The decimal spin boxes read the "." they show in every locale (LANG=de_DE.UTF-8: Qt reads "," there)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QLocale, Qt


@pytest.fixture
def german():
    old = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    yield
    QLocale.setDefault(old)


def _epsilon_box(qtbot):
    from gradflip_desktop.ui.widgets.spinboxes import CheckedDoubleSpinBox

    box = CheckedDoubleSpinBox()
    qtbot.addWidget(box)
    box.setDecimals(7)
    box.setRange(1e-7, 0.25)
    box.setValue(0.0005)
    refused = []
    box.refused.connect(refused.append)
    box.show()
    box.setFocus()
    return box, refused


def test_a_typed_point_decimal_is_taken_under_a_comma_locale(qtbot, german):
    box, refused = _epsilon_box(qtbot)
    assert box.text() == "0.0005"
    box.selectAll()
    qtbot.keyClicks(box, "0.0003")
    assert box.text() == "0.0003"
    box.editingFinished.emit()
    assert box.value() == pytest.approx(0.0003) and refused == []


def test_the_shown_value_can_be_edited_in_place_under_a_comma_locale(qtbot, german):
    box, refused = _epsilon_box(qtbot)
    box.lineEdit().end(False)
    qtbot.keyClick(box, Qt.Key.Key_Backspace)  # "0.000"
    qtbot.keyClicks(box, "7")
    box.editingFinished.emit()
    assert box.text() == "0.0007" and box.value() == pytest.approx(0.0007) and refused == []


@pytest.mark.parametrize("locale_name", ["de_DE", "en_US"])
def test_a_typed_comma_decimal_is_taken_and_shown_as_a_point(qtbot, locale_name):
    old = QLocale()
    QLocale.setDefault(QLocale(locale_name))
    try:
        box, refused = _epsilon_box(qtbot)
        box.selectAll()
        qtbot.keyClicks(box, "0,0004")
        box.editingFinished.emit()
        assert box.text() == "0.0004" and box.value() == pytest.approx(0.0004) and refused == []
    finally:
        QLocale.setDefault(old)


def test_whole_number_boxes_show_the_window_s_digits_in_any_locale(qtbot):
    """LANG=ar_EG.UTF-8 showed the step budget as "٢٠٠" and the working size as "١٠٢٤ px" next to ε "0.0002"."""
    from gradflip_desktop.ui.widgets.spinboxes import CheckedSpinBox

    old = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.Arabic, QLocale.Country.Egypt))
    try:
        box = CheckedSpinBox()
        qtbot.addWidget(box)
        box.setRange(1, 5000)
        box.setSuffix(" px")
        box.setValue(1024)
        assert box.text() == "1024 px"
    finally:
        QLocale.setDefault(old)


def test_a_whole_number_with_a_group_separator_is_taken_without_a_refusal(qtbot):
    """The working size box took "1,024" as 1024 and then said "'1,024 px' is outside 64–4096; kept 1024 px"."""
    from gradflip_desktop.ui.widgets.spinboxes import CheckedSpinBox

    box = CheckedSpinBox()
    qtbot.addWidget(box)
    box.setRange(64, 4096)
    box.setSuffix(" px")
    box.setValue(512)
    refused = []
    box.refused.connect(refused.append)
    box.show()
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "1,024")
    box.editingFinished.emit()
    assert box.value() == 1024 and refused == []
    box.selectAll()
    qtbot.keyClicks(box, "40")  # out of range: still said
    box.editingFinished.emit()
    assert box.value() == 1024 and refused == ["'40 px' is outside 64–4096; kept 1024"]
