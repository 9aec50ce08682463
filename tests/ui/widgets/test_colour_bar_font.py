"""The Difference colour bar's row grows with the font: a fixed 52 px cut its label in half with a large one."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gradflip_desktop.core.viz import maps
from gradflip_desktop.core.viz.difference import ColorBar


@pytest.fixture
def font_scale():
    app = QApplication.instance()
    old = app.font()

    def scale(factor: float) -> None:
        font = app.font()
        font.setPointSizeF(old.pointSizeF() * factor)
        app.setFont(font)

    yield scale
    app.setFont(old)


def _views_with_bar(qtbot):
    from gradflip_desktop.ui.widgets.views import ResultViews

    views = ResultViews()
    qtbot.addWidget(views)
    views.resize(900, 600)
    views.show()
    views._set_colorbar(ColorBar(maps.INFERNO_LUT, 0.0, 90.0, "importance map (%)"))
    qtbot.wait(50)  # the label is placed after the layout's resize (BarLabel's timer)
    return views


@pytest.mark.parametrize("factor", [1.0, 1.5, 2.0, 2.5])
def test_the_colour_bar_and_its_label_fit_their_row_at_any_font_size(qtbot, font_scale, factor):
    font_scale(factor)
    views = _views_with_bar(qtbot)
    view, bar = views.colorbar_view, views.colorbar
    need = bar.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
    label = bar.axis.label
    bottom = label.mapRectToScene(label.boundingRect()).bottom() - label.document().documentMargin()  # the text's
    assert need <= view.height() and bottom <= view.height(), (factor, need, bottom, view.height())
    # the row keeps its height whichever of the three shows (the views below never move)
    assert views.no_map.height() == views._spacer.height() == view.height()


def test_the_colour_bar_row_keeps_its_height_at_the_usual_font(qtbot):
    from gradflip_desktop.ui.widgets.bar_label import ROW_HEIGHT

    views = _views_with_bar(qtbot)
    if views.fontMetrics().height() <= 15:  # Qt's default 9 pt font at 96 dpi
        assert views.colorbar_view.height() == ROW_HEIGHT
