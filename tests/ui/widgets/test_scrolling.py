"""A scroll area that scrolls only up and down is never narrower than its widget's least width, also when that
least width grows while the window is open."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QHBoxLayout, QSplitter, QWidget

from gradflip_desktop.ui.widgets.scrolling import ScrollArea

pytestmark = pytest.mark.gui


def test_a_pane_grows_when_its_widget_s_least_width_grows(qtbot):
    # the views' least width grew from 325 to 495 px when the colour bar appeared after a run: the pane stayed 475 px
    # wide and cut the sentence and the colour bar off on the right (QT_SCALE_FACTOR=1.5 on a 1280x720 screen)
    inner = QWidget()
    row = QHBoxLayout(inner)
    grows = QWidget()
    grows.setMinimumWidth(100)
    row.addWidget(grows)
    scroll = ScrollArea(inner, horizontal=False)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    qtbot.addWidget(splitter)
    splitter.addWidget(scroll)
    splitter.addWidget(QWidget())
    splitter.setChildrenCollapsible(False)
    splitter.resize(900, 300)
    splitter.show()
    splitter.setSizes([250, 650])
    QApplication.processEvents()
    grows.setMinimumWidth(400)
    for _ in range(3):
        QApplication.processEvents()
    assert inner.width() <= scroll.viewport().width(), (inner.width(), scroll.viewport().width())
    assert scroll.width() >= scroll.minimumSizeHint().width()


def _fields(qtbot, n: int = 30, **kwargs):
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout

    inner = QWidget()
    column = QVBoxLayout(inner)
    fields = [QLineEdit(f"field {i}") for i in range(n)]
    for field in fields:
        column.addWidget(field)
    scroll = ScrollArea(inner, **kwargs)
    qtbot.addWidget(scroll)
    return scroll, inner, fields


def test_the_area_takes_no_tab_stop_and_scrolls_only_up_and_down_when_asked(qtbot):
    scroll, _, _ = _fields(qtbot, 2)
    assert scroll.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert scroll.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded
    upright, _, _ = _fields(qtbot, 2, horizontal=False)
    assert upright.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def test_tab_onto_a_field_out_of_view_scrolls_it_in_and_other_focus_leaves_the_scroll_alone(qtbot):
    scroll, _, fields = _fields(qtbot)
    scroll.resize(200, 120)
    scroll.show()
    scroll.activateWindow()
    qtbot.waitUntil(scroll.isActiveWindow, timeout=2000)
    bar = scroll.verticalScrollBar()
    fields[-1].setFocus(Qt.FocusReason.TabFocusReason)  # Tab from outside the area (the gallery, a link)
    qtbot.waitUntil(fields[-1].hasFocus, timeout=2000)
    assert bar.value() == bar.maximum() > 0
    fields[0].setFocus(Qt.FocusReason.BacktabFocusReason)
    qtbot.waitUntil(fields[0].hasFocus, timeout=2000)
    assert bar.value() == 0
    fields[-1].setFocus(Qt.FocusReason.ActiveWindowFocusReason)  # the window activated again: the user's scroll kept
    qtbot.waitUntil(fields[-1].hasFocus, timeout=2000)
    assert bar.value() == 0


def _least(width: int, height: int) -> QWidget:
    """A widget whose least size (its layout's) is ``width`` x ``height``."""
    inner, block = QWidget(), QWidget()
    block.setMinimumSize(width, height)
    row = QHBoxLayout(inner)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(block)
    return inner


def test_the_least_size_leaves_room_for_the_scroll_bar_and_keeps_least_height_in_view(qtbot):
    inner = _least(300, 500)
    scroll = ScrollArea(inner, horizontal=False, least_height=120)
    qtbot.addWidget(scroll)
    hint = scroll.minimumSizeHint()
    assert hint.width() == 300 + scroll.verticalScrollBar().sizeHint().width() and hint.height() == 120
    short = ScrollArea(_least(300, 80), least_height=120)  # shorter than least_height: all of it
    qtbot.addWidget(short)
    assert short.minimumSizeHint().height() == 80
