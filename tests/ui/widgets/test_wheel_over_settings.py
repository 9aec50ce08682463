"""A wheel turn over a settings box that was not clicked into scrolls the panel; it no longer changes the value.
One notch over the model picker swapped the model, one over Working size reloaded the photo; either threw the
finished explanation away (and was saved) while the user only meant to scroll the settings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

pytestmark = pytest.mark.gui


def _wheel(widget, notches: int = -1) -> None:
    pos = QPointF(widget.rect().center())
    event = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_panel_over_boxes_not_clicked_into(qtbot):
    from gradflip_desktop.ui.widgets.controls import ControlsPanel

    panel = ControlsPanel()
    panel.set_model(["tabby", "tiger cat", "espresso"], ["cat"], ["cpu"], "cpu")
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.resize(320, 200)  # the panel is taller: it scrolls
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    size, budget, style = panel.working_size.value(), panel.settings().max_steps, panel.style.currentIndex()
    scroll = area.verticalScrollBar()
    assert scroll.maximum() > 0 and scroll.value() == 0
    for box in (panel.working_size, panel.style, panel.model_box):
        _wheel(box)
    assert panel.working_size.value() == size and panel.settings().max_steps == budget
    assert panel.style.currentIndex() == style
    assert scroll.value() > 0  # the turns scrolled the panel instead
    panel.working_size.setFocus()  # clicked into: the wheel is the box's
    qtbot.waitUntil(panel.working_size.hasFocus)
    _wheel(panel.working_size, 1)
    assert panel.working_size.value() == size + panel.working_size.singleStep()
