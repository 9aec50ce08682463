"""A gallery tile of a photo with nothing to flip is marked on its picture (ui/widgets/gallery.py, gallery_mark.py): its
strip is the photo beside two grey copies (no change, no map), which looked like a result's strip."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import RUN_TIMEOUT_MS, make_tiny, photo_folder
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from gradflip_desktop.ui.settings import RunSettings
from gradflip_desktop.ui.widgets.gallery import FLIPPED, ICON, NOT_FLIPPED, GalleryPanel

pytestmark = pytest.mark.gui


def _dark_in_middle(pixmap) -> int:
    """How many near-black pixels (the badge's) lie in the middle third of the tile's picture."""
    img = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    return sum(QColor(img.pixel(x, y)).lightness() < 80 for x in range(w // 3, 2 * w // 3) for y in range(h // 3, 2 * h // 3))


def _picture(panel, key):
    """The tile's picture as a paint gets it, once decoded: a paint decodes 8 ms' worth per turn of the event loop and
    shows a placeholder for the rest (ui/widgets/tile_cache.py), so on a slow machine (a loaded CI run) the first ask
    got the placeholder."""
    from PySide6.QtTest import QTest

    for _ in range(100):
        picture = panel.model.index_of(key).data(Qt.ItemDataRole.DecorationRole)
        if picture.cacheKey() != panel.model._placeholder.cacheKey():  # (data() hands back copies)
            return picture
        QTest.qWait(5)  # turns of the event loop: a new budget, the pictures put off decoded
    return picture


def test_a_tile_with_nothing_to_flip_carries_a_badge_a_result_does_not(qtbot):
    panel = GalleryPanel()
    qtbot.addWidget(panel)
    keys = ["nothing", "already", "flipped", "budget"]
    panel.start("t", [(k, f"/x/{k}.png", f"{k}.png") for k in keys])
    white = QImage(ICON, QImage.Format.Format_ARGB32_Premultiplied)
    white.fill(QColor(235, 235, 235))
    panel.set_thumbnails([(k, white) for k in keys], strip=True)
    panel.set_state("nothing", NOT_FLIPPED, "not any cat: espresso (nothing to flip)")
    panel.set_state("already", NOT_FLIPPED, "already tabby (nothing to flip)")
    panel.set_state("flipped", FLIPPED, "→ tabby (RMS 1.20/255)")
    panel.set_state("budget", NOT_FLIPPED, "not flipped (budget exhausted)")  # a search that ran: its map is real
    for key in ("nothing", "already"):
        assert _dark_in_middle(_picture(panel, key)) > 50, key
    for key in ("flipped", "budget"):
        assert _picture(panel, key).cacheKey() == panel.model.pixmap(key).cacheKey()  # the strip as it is
    # with another model loaded it keeps its badge beside the model's (dimmed, top left)
    panel.mark_other_model("resnet50 (ImageNet)", "tiny")
    marked = _picture(panel, "nothing")
    assert _dark_in_middle(marked) > 50 and QColor(marked.toImage().pixel(6, 6)).lightness() < 80
    assert _dark_in_middle(_picture(panel, "flipped")) == 0


def test_a_folder_runs_photo_with_nothing_to_flip_is_marked_in_the_gallery(qtbot, settings, tmp_path):
    """A group run ("any low"): the red photo's class is not in the group, nothing to flip; the others flip."""
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.models.session.classifier = make_tiny(seed=1)  # before any engine task: no other thread holds it
    w.controls.set_settings(RunSettings(style="free", max_steps=60, target_mode="group", group="low"))
    folder = photo_folder(tmp_path / "photos", 2)
    red = np.clip(np.tile([0.9, 0.1, 0.1], (48, 64, 1)) + 0.1 * np.random.default_rng(0).standard_normal((48, 64, 3)), 0, 1)
    red[10:30, 20:40] = (0.95, 0.9, 0.2)
    Image.fromarray((red * 255).astype(np.uint8)).save(folder / "red.png")
    w.show()
    c = w.folders
    c.open_folder(str(folder))
    qtbot.waitUntil(lambda: not c.running and c.summary_written, timeout=RUN_TIMEOUT_MS)
    tiles = {t.name: t for t in c.panel.tiles.values()}
    assert tiles["red.png"].text.endswith("(nothing to flip)") and tiles["red.png"].strip
    assert _dark_in_middle(_picture(c.panel, tiles["red.png"].key)) > 50
    for name in ("p0.png", "p1.png"):
        assert tiles[name].state == FLIPPED and _picture(c.panel, tiles[name].key).cacheKey() == c.panel.model.pixmap(tiles[name].key).cacheKey()
    w.close()
