"""One image panel (``ui/widgets/image_panel.py``) alone: the area an image covers, its overlay, what is drawn, the
caption's lines and the downsampling factor (mutation audit, mutD)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot):
    from gradflip_desktop.ui.widgets.image_panel import ImagePanel

    p = ImagePanel("Original")
    qtbot.addWidget(p)
    return p


def _area(item):
    rect = item.mapRectToParent(item.boundingRect())
    return rect.x(), rect.y(), rect.width(), rect.height()


def test_an_image_and_its_overlay_cover_the_image_s_width_and_height(panel, qtbot):
    panel.set_overlay(np.zeros((20, 40, 4), np.uint8))  # no image yet: nothing to lie over
    assert panel.overlay() is None
    with qtbot.waitSignal(panel.fitted):
        panel.set_image(np.zeros((20, 40, 3), np.uint8))  # 40 wide, 20 high
    assert _area(panel.image_item) == (0, 0, 40, 20)
    panel.set_overlay(np.zeros((10, 20, 4), np.uint8))  # a reduced layer stretches over the whole image
    assert _area(panel.overlay_item) == (0, 0, 40, 20)
    with qtbot.assertNotEmitted(panel.fitted):
        panel.set_image(np.ones((20, 40, 3), np.uint8))  # the same size: the user's zoom stays
    with qtbot.waitSignal(panel.fitted):
        panel.set_image(np.zeros((60, 30, 3), np.uint8))  # another size: fitted again
    assert _area(panel.image_item) == (0, 0, 30, 60)
    panel.set_image(np.zeros((6, 3, 3), np.uint8), extent=(30, 60))  # a live preview stands for the full image
    assert _area(panel.image_item) == (0, 0, 30, 60)


def test_the_photo_is_drawn_at_its_own_levels_with_the_overlay_on_top(panel, qtbot):
    panel.resize(300, 300)
    panel.show()
    panel.set_image(np.full((50, 50, 3), 100, np.uint8))
    qtbot.wait(30)
    graphics = panel.graphics
    centre = graphics.rect().center()
    colour = graphics.grab().toImage().pixelColor(centre)
    assert (colour.red(), colour.green(), colour.blue()) == (100, 100, 100)
    overlay = np.zeros((50, 50, 4), np.uint8)
    overlay[..., 0] = overlay[..., 3] = 255  # opaque red
    panel.set_overlay(overlay)
    qtbot.wait(30)
    colour = graphics.grab().toImage().pixelColor(centre)
    assert (colour.red(), colour.green(), colour.blue()) == (255, 0, 0)


def test_a_reduced_copy_reports_the_full_image_s_downsampling_factor(panel, qtbot):
    panel.resize(200, 200)
    panel.show()
    panel.set_image(np.zeros((1000, 1000, 3), np.uint8))
    qtbot.waitUntil(lambda: panel.display_factor() > 1)  # laid out at its size (not "after 30 ms": under load, later)
    full = panel.display_factor()
    assert full >= 4
    panel.set_image(np.zeros((100, 100, 3), np.uint8), extent=(1000, 1000))
    qtbot.wait(30)
    assert panel.display_factor() == 10  # each shown pixel stands for 10 × 10 of the full image


def test_a_caption_of_exactly_its_lines_is_not_cut_and_a_percent_stays_with_its_number(panel, qtbot):
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.image_panel import CAPTION_LINES

    assert CAPTION_LINES == 3
    panel.resize(400, 300)
    panel.show()
    qtbot.wait(10)
    panel.caption.setText("<b>one</b><br>two<br>three")
    assert QLabel.text(panel.caption) == "<b>one</b><br>two<br>three"
    panel.caption.setText("espresso — 88.2 %")
    assert QLabel.text(panel.caption) == "espresso — 88.2\u00a0%"


def test_a_cut_caption_keeps_every_word_that_fits_and_no_space_before_its_ellipsis(qtbot):
    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QLabel

    from gradflip_desktop.ui.widgets.image_panel import CAPTION_LINES, Caption

    whole = "flipped from tabby at step 3 then 12 more steps over 40 px and 7 areas of the photo in 2 runs of 5 tries"
    cuts = 0
    for width in range(110, 260, 12):
        caption = Caption()
        qtbot.addWidget(caption)
        caption.setWordWrap(True)
        caption.resize(width, 80)
        caption.setText(whole)
        shown = QLabel.text(caption)
        if not shown.endswith("…"):
            continue
        cuts += 1
        kept = shown[:-1]
        assert not kept.endswith(" ") and whole.startswith(kept), (width, shown)
        doc = QTextDocument()  # one word more (a number kept as it is: no unit follows it here) would not fit
        doc.setDefaultFont(caption.font())
        doc.setDocumentMargin(0)
        doc.setPlainText(kept + " " + whole[len(kept):].split()[0] + " …")  # as the cut measures it
        doc.setTextWidth(caption.contentsRect().width())
        assert Caption._lines(doc) > CAPTION_LINES, (width, shown)
    assert cuts >= 5


def test_shift_and_an_arrow_pan_half_of_what_is_shown(panel, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from gradflip_desktop.ui.widgets.image_panel import KeyboardPan

    KeyboardPan(panel.view, panel.graphics)
    panel.resize(300, 300)
    panel.show()
    panel.set_image(np.zeros((400, 400, 3), np.uint8))
    panel.view.setRange(xRange=(100, 200), yRange=(100, 200), padding=0)
    (x0, x1), _ = panel.view.viewRange()
    QTest.keyClick(panel.graphics, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    (a0, a1), _ = panel.view.viewRange()
    assert a0 - x0 == pytest.approx((x1 - x0) / 2)


def test_a_title_is_repeated_in_its_tooltip_only_when_it_is_cut(qtbot):
    from gradflip_desktop.ui.widgets.image_panel import PanelTitle

    title = PanelTitle("<b>Loading…</b>")  # its own "…": not a cut
    qtbot.addWidget(title)
    title.resize(300, 30)
    title.show()
    assert title.toolTip() == ""
    title.setText("<b>Gradient saliency of the explained class</b>")
    title.resize(60, 30)
    assert title.toolTip() == "Gradient saliency of the explained class"


def test_a_view_of_another_shape_follows_its_linked_view_panned_off_the_photo(qtbot):
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from gradflip_desktop.ui.widgets.image_panel import ImagePanel

    host = QWidget()
    qtbot.addWidget(host)
    row = QHBoxLayout(host)
    wide, tall = ImagePanel("Original"), ImagePanel("Compare")
    row.addWidget(wide, 2)
    row.addWidget(tall, 1)
    tall.view.setXLink(wide.view)
    tall.view.setYLink(wide.view)
    host.resize(600, 200)
    host.show()
    for p in (wide, tall):
        p.set_image(np.zeros((100, 100, 3), np.uint8))
    qtbot.wait(30)
    wide.view.setRange(xRange=(300, 400), yRange=(300, 350), padding=0)  # wholly past the photo's corner
    qtbot.wait(10)
    (x0, x1), (y0, y1) = tall.view.viewRange()
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((350, 325), abs=1)


def _drawn_size(panel) -> tuple[float, float]:
    """The image's width and height on screen, in device pixels."""
    rect = panel.view.mapViewToDevice(panel.image_item.mapRectToParent(panel.image_item.boundingRect())).boundingRect()
    return rect.width(), rect.height()


@pytest.mark.parametrize("shape", [(1, 1024), (1024, 3), (10, 2000)])
def test_a_strip_is_drawn_stretched_to_a_visible_band_and_a_photo_with_square_pixels(panel, qtbot, shape):
    """A 10,000 x 10 strip (1,024 x 1 at the working size) was drawn under one screen pixel tall in every panel; now
    its short side is stretched until it is drawn 16 times longer than wide. Its pixels keep their coordinates (the
    readout and the outline are in them), and an ordinary photo, even a 10:1 panorama, keeps square pixels."""
    from gradflip_desktop.ui.widgets.image_panel import MAX_SHOWN_ASPECT

    panel.resize(400, 400)
    panel.show()
    qtbot.waitExposed(panel)
    h, w = shape
    with qtbot.waitSignal(panel.fitted):
        panel.set_image(np.zeros((h, w, 3), np.uint8))
    assert _area(panel.image_item) == (0, 0, w, h)
    dw, dh = _drawn_size(panel)
    assert max(dw, dh) / min(dw, dh) == pytest.approx(MAX_SHOWN_ASPECT, rel=0.02)
    assert min(dw, dh) >= 300 / MAX_SHOWN_ASPECT
    with qtbot.waitSignal(panel.fitted):
        panel.set_image(np.zeros((30, 300, 3), np.uint8))  # a 10:1 panorama: as it is
    dw, dh = _drawn_size(panel)
    assert dw / dh == pytest.approx(10, rel=0.02)
