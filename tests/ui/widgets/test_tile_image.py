"""A gallery tile's picture is made with the screen's device pixels (sharp on a HiDPI screen), at the tile's size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage, QPixmap

pytestmark = pytest.mark.gui


def _image(w: int, h: int) -> QImage:
    im = QImage(w, h, QImage.Format.Format_RGB32)
    im.fill(QColor(10, 200, 30))
    return im


def _opaque_box(image: QImage) -> tuple[int, int]:
    a = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(a.constBits(), np.uint8, count=a.sizeInBytes()).reshape(a.height(), a.bytesPerLine())
    alpha = arr[:, 3: 4 * a.width(): 4] > 0
    return int(alpha.any(axis=0).sum()), int(alpha.any(axis=1).sum())


def test_fit_image_at_ratio_two_has_twice_the_pixels_and_the_tile_size(qapp):
    from gradflip_desktop.ui.widgets.tile_image import ICON, fit_image

    out = fit_image(_image(1000, 600), ratio=2.0)
    assert out.size() == QSize(528, 176) and out.devicePixelRatio() == 2.0
    assert out.deviceIndependentSize().toSize() == ICON
    assert _opaque_box(out) == (293, 176)  # 1000 x 600 fitted to 528 x 176, centred
    one = fit_image(_image(1000, 600))
    assert one.size() == ICON and one.devicePixelRatio() == 1.0 and _opaque_box(one)[1] == 88 and abs(_opaque_box(one)[0] - 147) <= 1
    small = fit_image(_image(40, 30), ratio=2.0)  # never scaled up
    assert _opaque_box(small) == (40, 30) and small.size() == QSize(528, 176)


def test_photo_thumbnails_are_decoded_at_the_screens_ratio(qapp, tmp_path):
    from gradflip_desktop.ui.controllers.folder_tasks import photo_thumbnails_task
    from gradflip_desktop.ui.widgets.tile_image import ICON

    path = tmp_path / "wide.jpg"
    Image.new("RGB", (1200, 800), (200, 40, 40)).save(path, quality=90)

    class Task:
        cancelled = False

    [(key, image)] = photo_thumbnails_task(Task(), [("k", str(path))], 2.0)
    assert key == "k" and image.devicePixelRatio() == 2.0 and image.deviceIndependentSize().toSize() == ICON
    assert _opaque_box(image) == (264, 176)  # 1200 x 800 at 176 px high: the JPEG drafted at the device size


def test_a_marked_hidpi_tile_keeps_its_ratio_and_size(qapp):
    from gradflip_desktop.ui.widgets.gallery_mark import marked_pixmap
    from gradflip_desktop.ui.widgets.tile_image import ICON, fit_image

    pixmap = QPixmap.fromImage(fit_image(_image(1000, 600), ratio=2.0))
    out = marked_pixmap(pixmap, "first.pt", nothing=True)
    assert out.devicePixelRatio() == 2.0 and out.size() == pixmap.size()
    assert out.deviceIndependentSize().toSize() == ICON
    # the centred badge sits in the middle of the tile (its device pixels' middle), not in its top left quarter
    image = out.toImage()
    assert image.pixelColor(image.width() // 2, image.height() // 2).red() < 80
