"""The arrow keys pan a zoomed-in photo (the Original view is a tab stop; the linked views follow); never past the
photo's edge, and not at all while the whole photo is shown (the arrows are then the window's)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gradflip_desktop.ui.widgets.image_panel import _pan
from gradflip_desktop.ui.widgets.views import ResultViews


def test_pan_steps_stop_at_the_edge_and_never_push_back():
    assert _pan(100, 200, (0, 400), 0.125) == 12.5
    assert _pan(100, 200, (0, 400), -0.5) == -50
    assert _pan(350, 395, (0, 400), 0.5) == 5  # the rest of the way to the edge
    assert _pan(0, 100, (0, 400), -0.125) == 0  # at the edge
    assert _pan(-30, 70, (0, 400), -0.125) == 0  # already past it (a mouse drag): not pushed the other way
    assert _pan(-30, 70, (0, 400), 0.125) == 12.5
    assert _pan(-10, 500, (0, 400), 0.125) == 0  # the whole axis is shown
    assert _pan(0, 100, None, 0.125) == 0


def test_arrow_keys_pan_all_three_views_when_zoomed(qtbot):
    views = ResultViews()
    qtbot.addWidget(views)
    views.resize(900, 400)
    views.show()
    qtbot.waitExposed(views)
    photo = (np.random.default_rng(0).random((300, 450, 3)) * 255).astype(np.uint8)
    for panel in (views.original, views.adjusted, views.difference):
        panel.set_image(photo)
    graphics = views.original.graphics
    assert graphics.focusPolicy() == Qt.FocusPolicy.StrongFocus
    assert views.adjusted.graphics.focusPolicy() == Qt.FocusPolicy.NoFocus  # one tab stop for the three
    graphics.setFocus()
    whole = views.original.view.viewRange()
    QTest.keyClick(graphics, Qt.Key.Key_Right)
    assert np.allclose(views.original.view.viewRange(), whole)  # the whole photo: nothing to pan
    for _ in range(3):
        views.zoom(1.25)
    (x0, x1), (y0, y1) = views.original.view.viewRange()
    QTest.keyClick(graphics, Qt.Key.Key_Right)
    (a0, a1), (b0, b1) = views.original.view.viewRange()
    assert np.isclose(a0 - x0, (x1 - x0) / 8) and np.isclose(b0, y0)
    assert np.allclose(views.difference.view.viewRange(), views.original.view.viewRange(), atol=0.5)
    for _ in range(20):
        QTest.keyClick(graphics, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    (_, _), (c0, c1) = views.original.view.viewRange()
    assert np.isclose(c1, 300, atol=0.01) and np.isclose(c1 - c0, y1 - y0)  # stopped at the photo's bottom edge
    QTest.keyClick(graphics, Qt.Key.Key_Up)
    assert views.original.view.viewRange()[1][1] < 300
    assert views._user_view is not None and not views._fit_on_resize  # kept over a resize, as a drag is
