"""The gallery's keyboard focus is visible: tabbing into the list lands on a tile, and that tile is framed; a click
into a scrolled gallery opens the tile under the pointer."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette

pytestmark = pytest.mark.gui


def _filled(panel, n: int):
    """``panel`` with ``n`` grey tiles p0.jpg … (a folder run's)."""
    panel.start("folder", [(f"k{i}", f"/photos/p{i}.jpg", f"p{i}.jpg") for i in range(n)])
    grey = QImage(120, 80, QImage.Format.Format_RGB32)
    grey.fill(QColor(128, 128, 128))
    panel.set_thumbnails([(f"k{i}", grey) for i in range(n)])
    return panel


def _shown(qtbot, widget):
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=2000)


def _panel(qtbot, n=6):
    from gradflip_desktop.ui.widgets.gallery import GalleryPanel

    panel = GalleryPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 420)
    _shown(qtbot, _filled(panel, n))
    return panel


def _rgb(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    return np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(
        image.height(), image.bytesPerLine())[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).copy()


def _frame_pixels(panel, row: int) -> np.ndarray:
    """The pixels on the left edge of ``row``'s tile (where the frame goes), in the list's viewport."""
    from gradflip_desktop.ui.widgets.gallery_delegate import FOCUS_FRAME

    rect = panel.list.visualRect(panel.model.index(row, 0))
    pixels = _rgb(panel.list.viewport())
    x = rect.left() + FOCUS_FRAME // 2
    return pixels[rect.top() + 8: rect.bottom() - 8, x]


def test_tabbing_back_into_the_list_lands_on_a_tile_without_opening_it(qtbot):
    # Qt makes a tile current on the list's first focus only: once an image was opened elsewhere (the selection
    # and the current tile cleared), tabbing back in showed no tile, and the first arrow key picked one
    panel = _panel(qtbot)
    opened = []
    panel.open_requested.connect(opened.append)
    panel.list.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(panel.list.hasFocus, timeout=2000)
    panel.sort.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(panel.sort.hasFocus, timeout=2000)
    panel.clear_selection()  # another image opened in the views
    assert not panel.list.currentIndex().isValid()
    panel.list.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(panel.list.hasFocus, timeout=2000)
    assert panel.list.currentIndex().row() == 0
    assert panel.list.selectedIndexes() == []  # current, not selected: arriving opens nothing
    assert opened == []
    qtbot.keyClick(panel.list, Qt.Key.Key_Right)
    assert panel.list.currentIndex().row() == 1
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    assert opened == ["/photos/p1.jpg"]


def test_the_focused_tile_is_framed_in_the_highlight_colour_only_while_the_list_has_focus(qtbot):
    panel = _panel(qtbot)
    highlight = panel.list.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    want = np.array([highlight.red(), highlight.green(), highlight.blue()])

    def framed(row: int) -> bool:
        edge = _frame_pixels(panel, row).astype(int)
        return bool((np.abs(edge - want).sum(axis=1) <= 30).mean() > 0.8)

    panel.list.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(panel.list.hasFocus, timeout=2000)
    panel.clear_selection()  # another image opened: no tile is selected, the keyboard is still on the list
    panel.list.setCurrentIndex(panel.model.index(2, 0))
    panel.list.clearSelection()
    qtbot.wait(20)
    assert framed(2) and not framed(1) and not framed(3)
    panel.sort.setFocus()
    qtbot.waitUntil(panel.sort.hasFocus, timeout=2000)
    qtbot.wait(20)
    assert not framed(2)


def test_a_tile_is_its_grid_cell_less_a_small_gap_and_a_list_without_a_grid_keeps_qt_s_size(qtbot):
    from PySide6.QtCore import QSize, QStringListModel
    from PySide6.QtWidgets import QListView, QStyleOptionViewItem

    from gradflip_desktop.ui.widgets.gallery_delegate import GridSizeDelegate

    view = QListView()
    qtbot.addWidget(view)
    model = QStringListModel(["a photo"])
    view.setModel(model)
    delegate = GridSizeDelegate(view)
    view.setGridSize(QSize(280, 130))
    assert delegate.sizeHint(QStyleOptionViewItem(), model.index(0)) == QSize(276, 126)
    view.setGridSize(QSize())  # no grid: Qt's own size for the text, not a negative one
    hint = delegate.sizeHint(QStyleOptionViewItem(), model.index(0))
    assert hint.width() > 0 and hint.height() > 0


def _scrolled_in_a_window(qtbot, n=30):
    """A gallery below a text field (which has the focus), scrolled to its last row, no tile current."""
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    from gradflip_desktop.ui.widgets.gallery import GalleryPanel

    host = QWidget()
    lay = QVBoxLayout(host)
    field, panel = QLineEdit(), GalleryPanel()
    lay.addWidget(field)
    lay.addWidget(panel)
    qtbot.addWidget(host)
    host.resize(700, 330)
    _filled(panel, n)
    _shown(qtbot, host)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    panel.clear_selection()
    panel.list.scrollToBottom()
    qtbot.wait(20)
    top = panel.list.visualRect(panel.model.index(0, 0))
    assert not panel.list.viewport().rect().intersects(top)  # the first row is out of sight
    return host, panel  # the host too: qtbot holds it weakly


def test_the_first_click_into_a_scrolled_gallery_opens_the_tile_under_the_pointer(qtbot):
    # the click's focus made the first tile current, which scrolled the list back to the top under the pointer, and the
    # press then landed on (and opened) the tile lying there: a user scrolled to rocket.png and got astronaut.png
    _host, panel = _scrolled_in_a_window(qtbot)
    opened = []
    panel.open_requested.connect(opened.append)
    last = panel.model.index(panel.model.rowCount() - 1, 0)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=panel.list.visualRect(last).center())
    assert opened == [f"/photos/p{last.row()}.jpg"]
    assert panel.list.viewport().rect().contains(panel.list.visualRect(last).center())  # and the list stayed put


def test_tabbing_into_a_scrolled_gallery_lands_on_a_tile_in_sight(qtbot):
    _host, panel = _scrolled_in_a_window(qtbot)
    scrolled = panel.list.verticalScrollBar().value()
    panel.list.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(panel.list.hasFocus, timeout=2000)
    current = panel.list.currentIndex()
    assert current.isValid() and current.row() > 0
    assert panel.list.viewport().rect().contains(panel.list.visualRect(current).center())
    assert panel.list.verticalScrollBar().value() == scrolled
    assert panel.list.selectedIndexes() == []  # current, not selected: arriving opens nothing


def test_tabbing_back_to_a_current_tile_out_of_sight_scrolls_it_into_sight(qtbot):
    # a tile opened in the last row, the gallery wheeled back to the top, Tab from the settings: the keyboard's tile
    # lay out of sight and nothing in view showed where Enter would go
    _host, panel = _scrolled_in_a_window(qtbot)
    last = panel.model.index(panel.model.rowCount() - 1, 0)
    panel.list.setCurrentIndex(last)
    panel.list.scrollToTop()
    qtbot.wait(20)
    assert not panel.list.viewport().rect().intersects(panel.list.visualRect(last))
    panel.list.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(panel.list.hasFocus, timeout=2000)
    assert panel.list.currentIndex() == last
    assert panel.list.viewport().rect().contains(panel.list.visualRect(last).center())
