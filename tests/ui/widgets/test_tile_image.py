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
    from gradflip_desktop.ui.widgets.tile_image import ICON, Picture, unpack

    path = tmp_path / "wide.jpg"
    Image.new("RGB", (1200, 800), (200, 40, 40)).save(path, quality=90)

    class Task:
        cancelled = False

    [(key, picture)] = photo_thumbnails_task(Task(), [("k", str(path))], 2.0)
    assert isinstance(picture, Picture) and picture.ratio == 2.0  # packed in the worker: the GUI decodes what it shows
    image = unpack(picture)
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


def _photo(w: int, h: int, seed: int = 0) -> QImage:
    """A textured photo (noise over a gradient): it does not pack to nothing."""
    rng = np.random.default_rng(seed)
    rgb = np.clip(np.linspace(0, 255, w)[None, :, None] * 0.5 + rng.normal(100, 40, (h, w, 3)), 0, 255).astype(np.uint8)
    return QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_a_packed_picture_is_small_and_unpacks_to_the_fitted_image_pixel_for_pixel(qapp, ratio):
    # every tile kept a decoded 264 x 88 ARGB image (93 KB; 372 KB at 2x): 3,000 tiles held 270 MB (1.06 GB at 2x)
    from gradflip_desktop.ui.widgets.tile_image import ICON, Picture, fit_image, pack, unpack

    for source in (_photo(1000, 600), _photo(90, 60, 1), _image(1000, 600)):
        picture = pack(source, ratio)
        fitted = fit_image(source, ratio=ratio)
        assert isinstance(picture, Picture) and isinstance(picture.data, bytes) and picture.ratio == ratio
        assert len(picture.data) < fitted.sizeInBytes() // 2  # packed: at most half the decoded image
        out = unpack(picture)
        assert out.size() == fitted.size() and out.devicePixelRatio() == ratio
        assert out.deviceIndependentSize().toSize() == ICON
        assert out.convertToFormat(fitted.format()) == fitted  # lossless, transparent margins included


def test_an_unreadable_picture_unpacks_to_a_null_image(qapp):
    from gradflip_desktop.ui.widgets.tile_image import Picture, unpack

    assert unpack(Picture(b"not a png", 2.0)).isNull()


def test_a_16_bit_grey_photo_has_a_thumbnail_as_the_run_reads_it(qapp, tmp_path):
    """A 16-bit greyscale PNG (mode I;16) kept its grey placeholder until explained: Pillow's thumbnail() refused its
    mode, and converting it to RGB would have clipped it white."""
    import numpy as np

    from gradflip_desktop.ui.controllers.folder_tasks import photo_thumbnails_task
    from gradflip_desktop.ui.widgets.tile_image import unpack

    ramp = np.tile(np.linspace(0, 65535, 400).astype(np.uint16), (300, 1))  # dark left, bright right
    path = tmp_path / "ramp16.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")

    class Task:
        cancelled = False

    [(_, picture)] = photo_thumbnails_task(Task(), [("k", str(path))], 1.0)
    image = unpack(picture)
    assert not image.isNull()
    left, top = next((x, y) for y in range(image.height()) for x in range(image.width()) if image.pixelColor(x, y).alpha())
    w = _opaque_box(image)[0]
    y = top + 5
    dark, bright = image.pixelColor(left + 2, y), image.pixelColor(left + w - 3, y)
    assert dark.red() < 30 and bright.red() > 225 and dark.red() == dark.green() == dark.blue()


def test_a_small_image_is_centred_on_a_transparent_tile(qapp):
    from gradflip_desktop.ui.widgets.tile_image import fit_image

    out = fit_image(_image(40, 30))  # (264 - 40) / 2 = 112 across, (88 - 30) / 2 = 29 down
    alpha = [[out.pixelColor(x, y).alpha() for x in (0, 111, 112, 151, 152)] for y in (0, 28, 29, 58, 59)]
    assert alpha == [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 255, 255, 0], [0, 0, 255, 255, 0], [0, 0, 0, 0, 0]]


def test_an_image_only_taller_than_the_tile_is_fitted_too(qapp):
    from gradflip_desktop.ui.widgets.tile_image import fitted

    assert fitted(_image(100, 200)).size() == QSize(44, 88)
    assert fitted(_image(300, 50)).size() == QSize(264, 44)


def test_a_ratio_below_one_counts_as_one(qapp):
    from gradflip_desktop.ui.widgets.tile_image import ICON, device_size, fit_image, pack

    assert device_size(0.5) == ICON and device_size(1.5) == QSize(396, 132)
    out = fit_image(_image(1000, 600), ratio=0.5)
    assert out.size() == ICON and out.devicePixelRatio() == 1.0
    assert pack(_image(1000, 600), 0.5).ratio == 1.0
