"""Save docs/screenshot-gallery.png: the window with File ▸ Open Folder… on a few photos (the default model).

    python tools/screenshot_gallery.py [OUT_DIR]        (offscreen by default; a few minutes on 2 CPU cores)

The folder holds photos from scikit-image's sample data (never downloaded) and one broken file, so
every tile state shows; the gallery is sorted by flip size and its first tile's explanation is opened in the
views.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication


def spin(ms: int, until=None) -> None:
    loop = QEventLoop()
    poll = QTimer()
    left = [ms]

    def tick():
        left[0] -= 50
        if left[0] <= 0 or (until is not None and until()):
            loop.quit()

    poll.timeout.connect(tick)
    poll.start(50)
    loop.exec()
    poll.stop()


def make_folder(folder: Path) -> None:
    import numpy as np
    import skimage.data
    from PIL import Image

    photos = {"chelsea": skimage.data.chelsea(), "coffee": skimage.data.coffee(), "astronaut": skimage.data.astronaut(),
              "rocket": skimage.data.rocket()}
    photos["chelsea-mirrored"] = photos["chelsea"][:, ::-1]
    photos["coffee-crop"] = photos["coffee"][60:340, 120:520]
    for name, arr in photos.items():
        im = Image.fromarray(np.ascontiguousarray(arr))
        im.thumbnail((320, 320))
        im.save(folder / f"{name}.jpg", quality=90)
    (folder / "damaged.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (folder / "notes.txt").write_text("not an image: skipped")


def main() -> int:
    argv = sys.argv[1:]
    if any(a.startswith("-") for a in argv) or len(argv) > 1:  # --help (it started a run that took minutes)
        print(__doc__.strip(), file=sys.stderr)
        return 0 if any(a in ("-h", "--help") for a in argv) else 2
    out_dir = Path(argv[0]) if argv else Path("docs")
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    from gradflip_desktop.ui.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp())
    folder = tmp / "holiday photos"
    folder.mkdir()
    make_folder(folder)
    w = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    w.settings.setValue("folders/ask_on_close", False)  # closing would ask to export
    w.resize(1360, 980)
    w.show()
    w.start()
    spin(180_000, until=lambda: w.models.info is not None)
    c = w.folders
    c.open_folder(str(folder))
    spin(900_000, until=lambda: bool(c.panel.tiles) and not c.running and c.summary_written)
    c.panel.sort.setCurrentIndex(1)
    first = c.panel.list.model().index(0, 0)
    c.panel.list.setCurrentIndex(first)
    c.panel.list.clicked.emit(first)
    spin(120_000, until=lambda: w.image is not None and w.image.name == Path(c.panel.tiles[first.data(256)].path).stem
         and w.models.classification is not None and w.result is not None)
    spin(1500)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "screenshot-gallery.png"
    w.grab().save(str(path))
    print(f"wrote {path}: {c.panel.title.text()}")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
