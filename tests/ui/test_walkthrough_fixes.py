"""What a newcomer walking through the window met (Xvfb walk-through): the sentence's last clause follows the
Difference mode, the key-region explorer's answer and tooltips speak of a region of the whole image."""

from __future__ import annotations

import pytest
from helpers import RUN_TIMEOUT_MS

pytestmark = pytest.mark.gui


def test_the_summary_points_at_what_the_chosen_difference_mode_shows(qtbot, window):
    # "…: the bright areas show how much each part mattered." stayed under the signed map, where white (the
    # bright areas) is no change at all, and under the outline and amplified views
    from gradflip_desktop.core.summary import where_clause
    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings())
    window.views.set_mode("magnitude")
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as run:
        window.explain()
    result = run.args[0]
    summary = window.views.summary
    default = where_clause(result)
    assert f": {default}." in summary.text()
    for mode in ("signed", "key", "amplified"):
        window.views.set_mode(mode)
        text = summary.text()
        assert f": {where_clause(result, mode)}." in text and default not in text, (mode, text)
        assert "bright areas" not in text
        assert "Textbook&nbsp;change" in text and "&nbsp;%" in text  # links (never broken in two) and percents kept
    window.views.set_mode("magnitude")
    assert f": {default}." in summary.text()


def test_the_key_region_answer_keeps_numbers_with_percent_and_counts_the_whole_image(qtbot, window):
    # "flips it to candle (19.2" at a line's end and "%)" below it; the tooltips said "of 135,300 changed
    # pixels" / "the pixels the change touches" for a region ranked over all 135,300 pixels of the image
    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings())
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as run:
        window.explain()
    result = run.args[0]
    views = window.views
    assert views.key_row.isVisible() and views.key_title.text() == "<b>Key region</b>"
    answer = views.key_answer.text()
    assert answer.startswith("key region: ") and "&nbsp;%" in answer and " %" not in answer
    h, w = result.original_pixels.shape[:2]
    assert views.key_label.toolTip() == f"{views.key_count:,} of the image's {h * w:,} pixels"
    assert views.key_slider.toolTip().startswith(f"{views.key_count:,} of the image's {h * w:,} pixels")
    assert "changed" not in views.key_slider.toolTip() and "touches" not in views.key_label.toolTip()


def test_a_theme_switched_while_a_result_is_shown_recolours_the_summarys_links(qtbot, window):
    # the system turned dark with a result on screen: "Explain “any cat”" and "Textbook change" stayed the
    # light theme's dark blue on the dark window (a link's colour is fixed when its rich text is parsed)
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    window.views.set_summary("The model sees a cat.&nbsp;&nbsp;<a href='style:free'>Textbook change</a>")
    window.set_status("Exported 7 files to <a href='file:///tmp'>/tmp</a>")
    app = QApplication.instance()
    before = app.palette()

    def red_pixels(label) -> int:
        image = label.grab().toImage()
        return sum(1 for x in range(image.width()) for y in range(image.height())
                   if (c := image.pixelColor(x, y)).red() > 200 and c.green() < 60 and c.blue() < 60)

    try:
        assert red_pixels(window.views.summary) == 0
        palette = QPalette(before)
        palette.setColor(QPalette.ColorRole.Link, QColor("#ff0000"))
        app.setPalette(palette)
        qtbot.wait(50)
        assert red_pixels(window.views.summary) > 20  # the link is drawn in the new palette's link colour
        assert red_pixels(window.status_label) > 20
        assert "Textbook change" in window.views.summary.text()
    finally:
        app.setPalette(before)


def test_a_photo_with_transparency_says_the_model_sees_it_on_white(qtbot, window, tmp_path):
    # a PNG whose left half fades to transparent opened as a washed-out photo with no word on why: the core
    # composites alpha on white, so the model sees (and the run changes) the white-backed image
    import numpy as np
    from helpers import STARTUP_TIMEOUT_MS
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    alpha = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(tmp_path / "faded.png")
    Image.fromarray(rgb).save(tmp_path / "opaque.png")
    with qtbot.waitSignal(window.classified, timeout=STARTUP_TIMEOUT_MS):
        window.open_path(str(tmp_path / "faded.png"))
    assert "transparent areas were composited on white" in window.views.original.caption.text()
    assert "transparent areas were composited on white" in window.status_label.text()
    tip = window.views.original.caption.toolTip()
    assert "Large photos" not in tip and "The file: transparent areas were composited on white" in tip
    with qtbot.waitSignal(window.classified, timeout=STARTUP_TIMEOUT_MS):
        window.open_path(str(tmp_path / "opaque.png"))
    assert "transparent" not in window.views.original.caption.text() and "transparent" not in window.status_label.text()


def test_a_second_run_keeps_the_photo_filling_its_panel(qtbot, window):
    # a run hid the key-region row (the views grew 34 px taller and fitted the photo to that height); when the
    # row came back the views shrank and zoomed out: the photo sat in a margin of 28 px a side from then on
    from gradflip_desktop.ui.settings import RunSettings

    window.controls.set_settings(RunSettings())
    view = window.views.original.view
    width = window.image.size[0]
    for _ in range(2):
        with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
            window.explain()
        with qtbot.waitSignal(window.difference_shown, timeout=10_000):
            pass
        qtbot.wait(100)
        assert window.views.key_row.isVisible()
        (x0, x1), (y0, y1) = view.viewRange()
        # the sample (3:2) in a squarer panel: it fills the panel's width, exactly
        assert abs(x0) < 1 and abs(x1 - width) < 1, view.viewRange()


def test_how_it_works_says_what_the_other_difference_modes_show():
    # the page said only "bright areas matter most", which is false in the signed map (white: no change)
    from gradflip_desktop.ui.help import HOW_IT_WORKS_HTML

    difference = HOW_IT_WORKS_HTML.split("<i>Difference</i>")[1].split("</li>")[0]
    assert "<i>Smoothed magnitude</i>" in difference and "<i>Signed</i>" in difference
    assert "white for no change" in difference and "<i>Amplified RGB</i>" in difference


def test_toggling_compare_methods_keeps_the_photo_fitted_but_a_users_zoom_stays(qtbot, window):
    # View ▸ Compare Methods on and off made the views shorter and taller again: the photo was left zoomed
    # out (x from -106 to 557 for a 451 px wide photo at 1024×700)
    window.resize(1024, 700)
    view = window.views.original.view
    width = window.image.size[0]
    window.views.fit()
    qtbot.wait(50)
    for visible in (True, False):
        window.set_compare_visible(visible)
        qtbot.wait(100)
        (x0, x1), (y0, y1) = view.viewRange()
        height = window.image.size[1]
        # fitted: the photo fills one dimension exactly and the other one at most
        assert (abs(x0) < 1 and abs(x1 - width) < 1) or (abs(y0) < 1 and abs(y1 - height) < 1), view.viewRange()
    window.zoom_in()  # the user's own zoom is kept through a resize
    span = view.viewRange()[0][1] - view.viewRange()[0][0]
    window.set_compare_visible(True)
    qtbot.wait(100)
    window.set_compare_visible(False)
    qtbot.wait(100)
    (x0, x1), _ = view.viewRange()
    assert abs((x1 - x0) - span) < 0.02 * span, (x1 - x0, span)  # the same zoom, not zoomed out to 2 x the photo
    assert abs((x0 + x1) / 2 - width / 2) < 2  # about the same centre


def test_a_tiny_photo_says_the_model_enlarges_it(qtbot, window, tmp_path):
    # a 12 x 12 icon was explained as if it were a photo: the model's 224 x 224 input sees blocks of its pixels
    import numpy as np
    from helpers import STARTUP_TIMEOUT_MS
    from PIL import Image

    rgb = np.random.default_rng(1).integers(0, 255, (12, 12, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "icon.png")
    with qtbot.waitSignal(window.classified, timeout=STARTUP_TIMEOUT_MS):
        window.open_path(str(tmp_path / "icon.png"))
    assert "the model enlarges it 19× along a side" in window.status_label.text()
    assert any("enlarges it 19×" in note for note in window.image.warnings)  # and the exported record says it
    Image.fromarray(np.zeros((100, 120, 3), np.uint8) + 90).save(tmp_path / "fine.png")
    with qtbot.waitSignal(window.classified, timeout=STARTUP_TIMEOUT_MS):
        window.open_path(str(tmp_path / "fine.png"))
    assert "enlarges" not in window.status_label.text()  # 2.2×: no note


def test_a_panoramas_squash_note_comes_before_its_size_note(qtbot, window, tmp_path):
    # a 3072 x 512 panorama: the caption's 3 lines and the status bar were cut inside "explained at 1024×171 px
    # (scaled from 3072×512)", and "the model squashes its shapes 6× narrower … crop the photo" was seen on hover only
    import numpy as np
    from helpers import STARTUP_TIMEOUT_MS
    from PIL import Image

    rgb = np.random.default_rng(2).integers(0, 255, (512, 3072, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "pano.png")
    with qtbot.waitSignal(window.classified, timeout=STARTUP_TIMEOUT_MS):
        window.open_path(str(tmp_path / "pano.png"))
    lines = window.views.original.caption.text().split("<br>")
    assert lines[1].startswith("the model squashes its shapes 6× narrower") and lines[2].startswith("explained at 1024×")
    status = window.status_label.text()
    assert status.index("squashes its shapes") < status.index("explained at 1024×")
    assert "The model's input: the model squashes" in window.views.original.caption.toolTip()


def test_a_tiny_photo_opened_while_the_model_loads_gets_its_note(qtbot, settings, tmp_path):
    # `gradflip icon.png`: the photo opened before the model had loaded, so neither the status nor the exported
    # record and figure (image.warnings) said that the model enlarges it
    import numpy as np
    from helpers import STARTUP_TIMEOUT_MS
    from PIL import Image

    from gradflip_desktop.ui.main_window import MainWindow

    Image.fromarray(np.random.default_rng(1).integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(tmp_path / "icon.png")
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.classified, timeout=STARTUP_TIMEOUT_MS):
        w.start(str(tmp_path / "icon.png"))
    try:
        assert sum("enlarges it 19×" in note for note in w.image.warnings) == 1
        assert "the model enlarges it 19× along a side" in w.status_label.text()
    finally:
        w.close()
