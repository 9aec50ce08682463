"""The folder gallery (ui/widgets/gallery.py + ui/controllers/folders.py) on the real default model."""

from __future__ import annotations

import numpy as np
from PIL import Image

from helpers import RUN_TIMEOUT_MS, make_image_file


def _panel_widget_only(qtbot):
    from gradflip_desktop.ui.widgets.gallery import FLIPPED, NOT_FLIPPED, GalleryPanel

    p = GalleryPanel()
    qtbot.addWidget(p)
    p.start("t", [(f"k{i}", f"/x/{i}.png", f"img{i}") for i in range(4)])
    p.set_state("k0", FLIPPED, "→ a", label="zebra", size=0.9)
    p.set_state("k1", FLIPPED, "→ b", label="ant", size=0.2)
    p.set_state("k2", NOT_FLIPPED, "not flipped", label="cat", size=0.1)
    return p


def test_gallery_sorts_by_flip_size_and_by_class(qtbot):
    p = _panel_widget_only(qtbot)
    assert p.ordered_keys() == ["k0", "k1", "k2", "k3"]
    p.sort.setCurrentIndex(1)  # flip size: flipped ones, smallest change first
    assert p.ordered_keys()[:2] == ["k1", "k0"]
    assert [p.list.item(i).data(256) for i in range(4)][:2] == ["k1", "k0"]  # the list itself is reordered
    p.sort.setCurrentIndex(2)  # class
    assert p.ordered_keys()[:3] == ["k1", "k2", "k0"]


def test_gallery_click_asks_to_open_the_image(qtbot):
    p = _panel_widget_only(qtbot)
    with qtbot.waitSignal(p.open_requested) as sig:
        p.list.itemClicked.emit(p.items["k2"])
    assert sig.args == ["/x/2.png"]


def test_open_folder_explains_every_image_and_exports_all(window, qtbot, tmp_path):
    from gradflip_desktop.ui.controllers.folders import FoldersController
    from gradflip_desktop.ui.widgets.gallery import ERROR, FLIPPED, NOT_FLIPPED

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        make_image_file(folder / f"p{i}.png", 64, 48, seed=i)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff-cut-")
    (folder / "readme.txt").write_text("skip me")
    c = FoldersController(window)
    qtbot.addWidget(c.panel)
    c.open_folder(str(folder))
    qtbot.waitUntil(lambda: not c.running, timeout=RUN_TIMEOUT_MS * 2)
    states = {t.name: t.state for t in c.panel.tiles.values()}
    assert states["broken"] == ERROR and len(states) == 4
    assert all(states[f"p{i}"] in (FLIPPED, NOT_FLIPPED) for i in range(3))
    assert c.panel.progress.value() == 4 and c.panel.title.text().startswith("4/4 done: ")
    thumb = c.panel.tiles[str(folder / "p0.png")].thumbnail  # the tile shows the run's thumbnail strip
    assert thumb is not None and thumb.endswith("p0.jpg") and thumb.startswith(c.out)
    dest = c.export_all(str(tmp_path / "export"))
    assert (dest / "summary.csv").is_file() and (dest / "index.html").is_file() and (dest / "p0.gradflip.json").is_file()
    assert c.export_all(str(tmp_path / "export")) is None  # never overwrites
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        c.panel.list.itemClicked.emit(c.panel.items[str(folder / "p1.png")])
    assert window.image.name == "p1"
