"""The gallery keeps its tiles' pictures packed and decodes only those it shows: a few screens of them at most
(ui/widgets/tile_cache.py, tile_image.py, gallery.py). Every tile kept a decoded 264 x 88 ARGB image: a 3,000-photo
folder held 270 MB more (1.06 GB on a 2x screen) until the window closed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def _photo(i: int, w: int = 120, h: int = 80) -> QImage:
    """A textured photo, different for each ``i``."""
    rgb = np.random.default_rng(i).integers(0, 255, (h, w, 3), dtype=np.uint8)
    rgb[:, :, 0] = i % 256  # a colour per photo
    return QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _panel(qtbot, n: int, size=(900, 600), ratio: float = 1.0, packed: bool = True):
    from gradflip_desktop.ui.widgets.gallery import GalleryPanel

    panel = GalleryPanel()
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.start("folder", [(f"k{i}", f"/photos/p{i}.jpg", f"p{i}.jpg") for i in range(n)])
    if packed:  # as the worker hands them over
        from gradflip_desktop.ui.widgets.tile_image import pack

        panel.set_thumbnails([(f"k{i}", pack(_photo(i), ratio)) for i in range(n)])
    else:  # images, as a caller may hand them over
        panel.set_thumbnails([(f"k{i}", _photo(i)) for i in range(n)])
    panel.show()
    qtbot.waitExposed(panel)
    last = panel.model.index(n - 1)
    qtbot.waitUntil(lambda: panel.list.visualRect(last).isValid(), timeout=5000)  # laid out (in batches)
    if packed:
        cache = panel.model.cache
        qtbot.waitUntil(lambda: cache.decoded > 0 and not cache._later, timeout=5000)  # its first screen painted
    return panel


def _decoration(panel, key: str) -> QPixmap:
    return panel.model.index_of(key).data(Qt.ItemDataRole.DecorationRole)


def _scroll_through(panel) -> None:
    bar = panel.list.verticalScrollBar()
    for value in range(0, bar.maximum() + bar.pageStep(), bar.pageStep()):
        bar.setValue(min(value, bar.maximum()))
        panel.list.viewport().repaint()
        QApplication.processEvents()


def test_a_tile_keeps_its_picture_packed_not_decoded(qtbot):
    panel = _panel(qtbot, 3, packed=False)
    for tile in panel.tiles.values():
        assert not any(isinstance(v, (QImage, QPixmap)) for v in vars(tile).values())  # no decoded copy on the tile
        held = [v for v in vars(tile).values() if hasattr(v, "data") and isinstance(v.data, bytes)]
        assert len(held) == 1 and len(held[0].data) < 264 * 88 * 4 // 2  # packed: at most half a decoded tile


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_the_painted_picture_is_the_photo_fitted_to_the_tile_pixel_for_pixel(qtbot, ratio):
    from gradflip_desktop.ui.widgets.tile_image import ICON, fit_image

    panel = _panel(qtbot, 4, ratio=ratio)
    for i in range(4):
        shown = _decoration(panel, f"k{i}")
        want = fit_image(_photo(i), ratio=ratio)
        assert shown.devicePixelRatio() == ratio and shown.deviceIndependentSize().toSize() == ICON
        assert shown.toImage().convertToFormat(want.format()) == want  # no quality lost
    panel.start("next", [("w", "/photos/w.jpg", "w.jpg")])  # a waiting tile without its photo: the placeholder
    assert _decoration(panel, "w").size() == ICON and panel.model.pixmap("w") is None


def test_scrolling_through_a_large_folder_keeps_a_few_screens_of_decoded_pictures(qtbot):
    from gradflip_desktop.ui.widgets.tile_cache import SCREENS

    panel = _panel(qtbot, 400)
    cache = panel.model.cache
    grid, view = panel.list.gridSize(), panel.list.size()
    on_screen = max(1, view.width() // grid.width()) * (view.height() // grid.height() + 2)
    assert cache.limit == max(48, SCREENS * on_screen) < 400
    first = cache.decoded  # the first screen painted (those put off by the paint's budget decoded after it)
    assert 0 < first <= on_screen  # painting a screen decodes its tiles only
    panel.list.viewport().repaint()
    QApplication.processEvents()
    assert cache.decoded == first  # painted again: nothing decoded again
    _scroll_through(panel)
    assert len(cache) <= cache.limit
    assert cache.decoded <= 400 + on_screen  # each tile about once on the way down
    # another model loaded: the badged pictures are kept with the rest, not beside them for every tile
    panel.mark_other_model("first.pt", "second.pt")
    for key in panel.tiles:
        panel.set_state(key, "flipped", "→ cat (RMS 1.00/255)")
    _scroll_through(panel)
    assert len(cache) <= cache.limit


def test_a_paint_decodes_a_few_milliseconds_worth_and_the_rest_in_the_next_turns(qtbot, monkeypatch):
    # a screen of new tiles (a jump to the end; 3 ms a strip on a 2x screen) held the event loop for all of them
    from gradflip_desktop.ui.widgets import tile_cache

    panel = _panel(qtbot, 60)
    cache = panel.model.cache
    real = tile_cache.unpack

    def slow(picture):  # 5 ms a picture
        time.sleep(0.005)
        return real(picture)

    monkeypatch.setattr(tile_cache, "unpack", slow)
    bar = panel.list.verticalScrollBar()
    bar.setValue(bar.maximum())  # the last screen: none of its tiles decoded yet
    cache._spent = 0.0  # a turn of its own
    decoded, start = cache.decoded, time.perf_counter()
    panel.list.viewport().repaint()
    took = time.perf_counter() - start
    shown = [i for i in range(60) if panel.list.visualRect(panel.model.index(i)).intersects(panel.list.viewport().rect())]
    assert len(shown) > 3
    assert 1 <= cache.decoded - decoded <= 2 and took < 0.05  # 8 ms of decoding, not all of the screen's
    placeholder = panel.model._placeholder.cacheKey()
    waiting = [i for i in shown if _decoration(panel, panel.model.rows[i]).cacheKey() == placeholder]
    assert waiting  # the rest wait a turn or two, the placeholder in their place
    changed = []
    panel.model.dataChanged.connect(lambda first, last, roles=(): changed.extend(range(first.row(), last.row() + 1)))
    qtbot.waitUntil(lambda: not cache._later, timeout=5000)
    assert set(waiting) <= set(changed)  # each told to the view, which paints it again
    assert all(_decoration(panel, panel.model.rows[i]).cacheKey() != placeholder for i in shown)


def test_a_larger_view_keeps_more_a_smaller_one_fewer(qtbot):
    panel = _panel(qtbot, 50, size=(600, 300))
    small = panel.model.cache.limit
    panel.resize(1600, 1200)
    qtbot.waitUntil(lambda: panel.model.cache.limit > small, timeout=2000)
    panel.resize(600, 300)
    qtbot.waitUntil(lambda: panel.model.cache.limit == small, timeout=2000)


def test_the_cache_drops_the_least_recently_shown_and_decodes_a_new_picture_again(qapp):
    from gradflip_desktop.ui.widgets.tile_cache import TileCache
    from gradflip_desktop.ui.widgets.tile_image import pack

    cache = TileCache(limit=3)
    pictures = {f"k{i}": pack(_photo(i)) for i in range(4)}
    shown = {k: cache.pixmap(k, p) for k, p in list(pictures.items())[:3]}
    assert cache.decoded == 3 and cache.pixmap("k0", pictures["k0"]).cacheKey() == shown["k0"].cacheKey()  # kept
    cache.pixmap("k3", pictures["k3"])  # k1 was shown least recently: dropped
    assert len(cache) == 3 and cache.decoded == 4
    cache.pixmap("k0", pictures["k0"])
    assert cache.decoded == 4
    cache.pixmap("k1", pictures["k1"])
    assert cache.decoded == 5
    strip = pack(_photo(9))  # the result's strip replaces the photo: decoded anew, not the photo's pixmap
    assert cache.pixmap("k1", strip).toImage() != shown["k1"].toImage() and cache.decoded == 6
    badged = cache.pixmap("k1", strip, "marked", lambda pm: QPixmap(pm.size()))  # another look: made from the plain
    assert badged.cacheKey() != cache.pixmap("k1", strip).cacheKey() and cache.decoded == 6
    cache.clear()
    assert len(cache) == 0


def test_a_picture_that_cannot_be_read_shows_the_placeholder(qtbot):
    from gradflip_desktop.ui.widgets.tile_image import ICON, Picture

    panel = _panel(qtbot, 2)
    panel.set_thumbnails([("k0", Picture(b"broken", 1.0))], strip=True)
    shown = _decoration(panel, "k0")
    assert not shown.isNull() and shown.size() == ICON and shown.cacheKey() == panel.model._placeholder.cacheKey()
    panel.list.viewport().repaint()  # painted without an exception


def _over_budget(qtbot, limit: int = 2):
    from gradflip_desktop.ui.widgets.tile_cache import TileCache
    from gradflip_desktop.ui.widgets.tile_image import pack

    cache = TileCache(limit=limit)
    cache._spent = 1.0  # this turn's budget spent: a paint's pictures are put off
    ready = []
    cache.ready.connect(ready.extend)
    return cache, ready, {f"k{i}": pack(_photo(i, 20, 10)) for i in range(4)}


def test_pictures_put_off_are_decoded_newest_first_and_the_oldest_beyond_the_limit_dropped(qtbot):
    cache, ready, pictures = _over_budget(qtbot)
    assert [cache.pixmap(k, p, wait=False) for k, p in pictures.items()] == [None] * 4
    qtbot.waitUntil(lambda: not cache._later, timeout=5000)
    assert ready == ["k3", "k2"] and cache.decoded == 2  # the tiles shown last; k0 and k1 scrolled away


def test_clearing_the_cache_forgets_the_pictures_put_off(qtbot):
    cache, ready, pictures = _over_budget(qtbot)
    cache.pixmap("k0", pictures["k0"], wait=False)
    cache.clear()  # another folder
    cache.pixmap("k1", pictures["k1"], wait=False)
    qtbot.waitUntil(lambda: not cache._later, timeout=5000)
    assert ready == ["k1"] and len(cache) == 1


def test_another_look_is_made_from_the_plain_picture(qapp):
    from gradflip_desktop.ui.widgets.tile_cache import TileCache
    from gradflip_desktop.ui.widgets.tile_image import pack

    cache = TileCache()
    made = []

    def badge(plain: QPixmap) -> QPixmap:
        made.append(plain.size())
        return QPixmap(7, 5)

    assert cache.pixmap("k", pack(_photo(1)), "marked", badge).size().toTuple() == (7, 5)
    assert [s.toTuple() for s in made] == [(264, 88)] and len(cache) == 2  # the plain one kept too


def test_the_limit_is_three_screens_of_tiles_counting_the_rows_cut_at_the_top_and_bottom(qtbot):
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QListView

    from gradflip_desktop.ui.widgets.tile_cache import TileCache

    view = QListView()
    qtbot.addWidget(view)
    view.setGridSize(QSize(100, 50))
    view.resize(400, 300)  # 4 columns, 6 rows and the 2 cut: 32 tiles a screen
    cache = TileCache()
    cache.fit(view)
    assert cache.limit == 96
    view.resize(150, 60)  # 1 column, 1 + 2 rows: 9 tiles, never fewer than 48 kept
    cache.fit(view)
    assert cache.limit == 48
