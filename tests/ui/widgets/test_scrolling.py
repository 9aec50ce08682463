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
