"""A window too short for the views, the Compare Methods maps and the plot scrolls them; nothing is drawn over its neighbour."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def _short_window_with_compare(qtbot, settings):
    """The window at its least size (820x560), shown, with View ▸ Compare Methods on."""
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(820, 560)
    w.show()
    w.set_compare_visible(True)
    qtbot.wait(50)
    return w


def test_a_short_window_with_compare_methods_scrolls_instead_of_drawing_widgets_over_each_other(qtbot, settings):
    # 820x560 with View ▸ Compare Methods on: views, comparison and plot need ~620 px and had ~470; squeezed below
    # their least heights, the summary lay under the Difference row and the photos under their own captions
    w = _short_window_with_compare(qtbot, settings)
    for i in range(w.splitter.count()):
        child = w.splitter.widget(i)
        assert child.height() >= child.minimumSizeHint().height(), (type(child).__name__, child.height())
    for panel in (w.views.original, w.compare.panels[0]):  # every photo above its caption, not under it
        assert panel.graphics.geometry().bottom() < panel.caption.geometry().top(), panel.title.text()
    w.close()


def test_compare_titles_end_with_an_ellipsis_where_a_panel_is_too_narrow(qtbot, settings):
    # 820x560 with RISE on: four panels, and the third title read "Gradient salier" (cut mid-word, no "…")
    from PySide6.QtWidgets import QLabel

    settings.setValue("view/compare_rise", True)
    w = _short_window_with_compare(qtbot, settings)
    title = w.compare.panel("Gradient saliency").title
    shown = QLabel.text(title)  # what is drawn (text() is the whole title)
    assert title.text() == "<b>Gradient saliency</b>"
    fits = title.fontMetrics().horizontalAdvance("Gradient saliency") * 1.1 <= title.contentsRect().width()
    assert fits or ("…" in shown and title.toolTip() == "Gradient saliency"), (title.width(), shown)
    assert not fits  # at 820 px with four panels it does not fit (what the test is about)
    w.close()


def test_a_panel_title_with_room_is_whole_and_has_no_tooltip(qtbot):
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.image_panel import PanelTitle

    title = PanelTitle("<b>Gradient saliency</b>")
    qtbot.addWidget(title)
    title.resize(400, 30)
    title.show()
    qtbot.waitUntil(lambda: "Gradient saliency" in QLabel.text(title), timeout=2000)
    assert "…" not in QLabel.text(title) and title.toolTip() == ""
    title.resize(70, 30)
    qtbot.waitUntil(lambda: "…" in QLabel.text(title), timeout=2000)
    assert title.toolTip() == "Gradient saliency" and title.text() == "<b>Gradient saliency</b>"


def test_compare_methods_shown_gets_a_third_of_the_column_and_its_maps_are_as_large_as_the_views(qtbot, settings):
    """Shown after the views had the column (a window left with Compare Methods off), it got its least height: three
    64 px maps under 185 px photos. Now about a third of the column, maps as large as the photos; a share the user
    set stays."""
    from gradflip_desktop.ui.controllers.difference import COMPARE_SHARE
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.wait(50)
    w.splitter.setSizes([600, 0, 150])
    qtbot.wait(20)
    w.set_compare_visible(True)
    qtbot.waitUntil(lambda: w.compare.height() > 0, timeout=2000)
    qtbot.wait(50)
    sizes = w.splitter.sizes()
    assert sizes[1] >= 0.9 * COMPARE_SHARE * sum(sizes), sizes
    photo, compared = w.views.original.graphics.height(), w.compare.panels[0].graphics.height()
    assert compared >= 0.8 * photo, (compared, photo)
    for share in (0.12, 0.5):  # a user's own share, smaller or larger than the first one, is given back
        total = sum(w.splitter.sizes())
        w.splitter.setSizes([int(total * (0.85 - share)), int(total * share), int(total * 0.15)])
        qtbot.wait(20)
        set_to = w.splitter.sizes()[1] / sum(w.splitter.sizes())
        w.set_compare_visible(False)
        qtbot.wait(20)
        w.set_compare_visible(True)
        qtbot.wait(50)
        assert abs(w.splitter.sizes()[1] / sum(w.splitter.sizes()) - set_to) < 0.03, (share, set_to, w.splitter.sizes())
    w.close()
