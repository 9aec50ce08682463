"""Linked image views copy each other's range: pyqtgraph's own links line up views that overlap on screen by a third
or more (made for plots stacked under each other), so the Compare Methods panel under the Original showed another
crop of the photo (shifted and zoomed), and feedback between the links could shrink the photo to a speck."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _rgb(h: int, w: int) -> np.ndarray:
    return (np.random.default_rng(0).random((h, w, 3)) * 255).astype(np.uint8)


def test_a_compare_panel_under_the_original_shows_the_same_part_of_the_photo_as_the_others(qtbot):
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from gradflip_desktop.ui.widgets.compare import CompareViews
    from gradflip_desktop.ui.widgets.views import ResultViews

    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    views = ResultViews()
    compare = CompareViews()
    layout.addWidget(views, 2)
    layout.addWidget(compare, 1)
    compare.link_to(views.original.view)
    host.resize(1400, 900)
    host.show()
    qtbot.waitExposed(host)
    photo = _rgb(300, 451)
    for panel in (views.original, views.adjusted, views.difference, *compare.panels[:3]):
        panel.set_image(photo)
    qtbot.wait(100)
    views.original.view.autoRange(padding=0.0)
    qtbot.wait(100)
    # the first compare panel lies under the Original (they overlap on screen): it must show what its neighbours show
    first = compare.panels[0].graphics.mapToGlobal(compare.panels[0].graphics.rect().topLeft()).x()
    orig = views.original.graphics.mapToGlobal(views.original.graphics.rect().topLeft()).x()
    assert abs(first - orig) < views.original.graphics.width() / 2
    centres = []
    for panel in compare.panels[:3]:
        (x0, x1), (y0, y1) = panel.view.viewRange()
        centres.append(((x0 + x1) / 2, (y0 + y1) / 2))
        # the whole photo is in view (aspect-locked: one axis may show more), not a crop and not a speck
        assert x0 <= 1 and x1 >= 450 and y0 <= 1 and y1 >= 299, (panel.title.text(), panel.view.viewRange())
        assert x1 - x0 == pytest.approx(451, abs=2) or y1 - y0 == pytest.approx(300, abs=2), panel.view.viewRange()
    for c in centres[1:]:
        assert c == pytest.approx(centres[0], abs=1.0)
    (x0, x1), (y0, y1) = views.original.view.viewRange()  # fitted: the whole photo, one axis exactly (no speck)
    assert x0 <= 1 and x1 >= 450 and y0 <= 1 and y1 >= 299
    assert x1 - x0 == pytest.approx(451, abs=2) or y1 - y0 == pytest.approx(300, abs=2)
    # a zoom in the main views is followed by every compare panel: the part of the photo the Original shows, whole
    views.original.view.setRange(xRange=(100, 200), yRange=(100, 170), padding=0.0)
    qtbot.wait(50)
    (mx0, mx1), (my0, my1) = views.original.view.viewRange()
    part = (max(mx0, 0), min(mx1, 451), max(my0, 0), min(my1, 300))
    for panel in compare.panels[:3]:
        (x0, x1), (y0, y1) = panel.view.viewRange()
        assert (x0 + x1) / 2 == pytest.approx((part[0] + part[1]) / 2, abs=1.0)
        assert (y0 + y1) / 2 == pytest.approx((part[2] + part[3]) / 2, abs=1.0)
        assert x0 <= part[0] + 1 and x1 >= part[1] - 1 and y0 <= part[2] + 1 and y1 >= part[3] - 1
        assert x1 - x0 < 451 or y1 - y0 < 300  # zoomed in, not the whole photo


def test_the_photo_fills_its_views_with_compare_methods_on_after_a_run_and_another_photo(qtbot, window, tmp_path):
    """With Compare Methods on, the lined-up links fed zoom back and forth: after a run the photo filled 60 % of the
    Original's height, after opening a smaller photo 45 % (a ~12 px speck in a walk-through)."""
    from helpers import RUN_TIMEOUT_MS, STARTUP_TIMEOUT_MS
    from PIL import Image

    def fitted(panel, h: int, w: int) -> bool:
        (x0, x1), (y0, y1) = panel.view.viewRange()
        whole = x0 <= 1 and x1 >= w - 1 and y0 <= 1 and y1 >= h - 1
        return whole and (abs((x1 - x0) - w) <= 2 or abs((y1 - y0) - h) <= 2)

    window.resize(1600, 1000)
    window.set_compare_visible(True)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.explain()
    with qtbot.waitSignal(window.comparison_shown, timeout=RUN_TIMEOUT_MS):  # made while its tab is shown
        window.view_tabs.setCurrentWidget(window.compare)
    qtbot.wait(300)
    h, w = window.views.original.image().shape[:2]
    for panel in (window.views.original, window.views.adjusted, *window.compare.panels[:3]):
        assert fitted(panel, h, w), (panel.title.text(), panel.view.viewRange(), (h, w))
    photo = tmp_path / "small.png"
    Image.fromarray((_rgb(149, 224))).save(photo)
    with qtbot.waitSignal(window.classified, timeout=STARTUP_TIMEOUT_MS):
        window.open_path(str(photo))
    qtbot.wait(300)
    assert fitted(window.views.original, 149, 224), window.views.original.view.viewRange()


def test_side_by_side_views_stay_in_step_when_the_photo_is_panned_past_its_edge(qtbot):
    """Clipping the linked rectangle to the photo made the Adjusted and Difference views lag behind an Original
    dragged past the photo's edge, and a drag in one of them then zoomed all three in (100 -> 31 px wide)."""
    from gradflip_desktop.ui.widgets.views import ResultViews

    views = ResultViews()
    qtbot.addWidget(views)
    views.resize(1400, 700)
    views.show()
    qtbot.waitExposed(views)
    photo = _rgb(300, 451)
    for panel in (views.original, views.adjusted, views.difference):
        panel.set_image(photo)
    qtbot.wait(50)
    views.original.view.setRange(xRange=(300, 400), yRange=(100, 170), padding=0.0)
    qtbot.wait(50)
    width = views.original.view.viewRange()[0][1] - views.original.view.viewRange()[0][0]
    for _ in range(8):
        views.original.view.translateBy(x=15)
        qtbot.wait(10)
    views.difference.view.translateBy(x=-15)
    qtbot.wait(50)
    (x0, x1), (y0, y1) = views.original.view.viewRange()
    assert x1 - x0 == pytest.approx(width, abs=1.0)  # not zoomed in by the drag
    for panel in (views.adjusted, views.difference):
        (a0, a1), (b0, b1) = panel.view.viewRange()
        assert (a0, a1, b0, b1) == pytest.approx((x0, x1, y0, y1), abs=1.0), panel.title.text()


def _wheel_over(widget, notches: int) -> None:
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    target = widget.viewport() if hasattr(widget, "viewport") else widget
    pos = QPointF(target.rect().center())
    event = QWheelEvent(pos, QPointF(target.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(target, event)


def test_zooming_out_stops_at_the_whole_photo_and_the_wheel_then_scrolls_the_page(qtbot):
    """A walk-through at 1024 x 700: eight wheel notches over the Original, meant to scroll the window, shrank the
    photo and its linked views to a 3 px speck (and Ctrl+- could do the same); the page did not move."""
    from PySide6.QtWidgets import QScrollArea

    from gradflip_desktop.ui.widgets.views import ResultViews

    views = ResultViews()
    area = QScrollArea()
    area.setWidget(views)
    area.setWidgetResizable(True)
    views.setMinimumHeight(900)  # taller than the area: the page scrolls
    area.resize(900, 500)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    photo = _rgb(300, 451)
    for panel in (views.original, views.adjusted, views.difference):
        panel.set_image(photo)
    views.fit()
    qtbot.wait(50)
    fitted = views.original.view.viewRange()
    scroll = area.verticalScrollBar()
    assert scroll.maximum() > 0 and scroll.value() == 0
    for _ in range(8):
        _wheel_over(views.original.graphics, -1)
    qtbot.wait(50)
    # not zoomed out past the photo
    assert sum(views.original.view.viewRange(), []) == pytest.approx(sum(fitted, []), abs=1.0)
    assert scroll.value() > 0  # the turns scrolled the page instead
    views.zoom(0.8)  # Ctrl+-: the same stop
    assert sum(views.original.view.viewRange(), []) == pytest.approx(sum(fitted, []), abs=1.0)
    _wheel_over(views.original.graphics, 2)  # zooming in still works, and out again back to the whole photo
    qtbot.wait(50)
    (x0, x1), _ = views.original.view.viewRange()
    assert x1 - x0 < fitted[0][1] - fitted[0][0] - 5
    _wheel_over(views.original.graphics, -2)
    qtbot.wait(50)
    assert views.original.view.shows_whole_image()
