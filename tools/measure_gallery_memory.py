"""Measure the folder gallery's memory with many tiles, and the time to paint them while scrolling (not a test).

    python tools/measure_gallery_memory.py --folder PHOTOS      # the photos of PHOTOS (3,000 of them, say)
    python tools/measure_gallery_memory.py --photos 3000        # made up here (640x480, textured)
    QT_SCALE_FACTOR=2 python tools/measure_gallery_memory.py ... # a 2x (HiDPI) screen

Offscreen. The folder is opened in the window (the tiny seeded model of tests/helpers.py on a search that does not
end, so the run stays on its first image while every photo's tile gets its thumbnail), then cancelled; every tile
then gets a result's strip (strips of real runs on the first photos, as the run hands them over, one copy per
tile). The process's resident memory (VmRSS) is printed after each step; the gallery is scrolled through, page by
page, each page painted at once (its time) while a 5 ms heartbeat measures the GUI thread's longest stall.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package beside it, not one installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def rss_mb() -> float:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # freed memory back to the system: what stays is held
    except OSError:
        pass
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", help="a folder of photos (else --photos are made up)")
    ap.add_argument("--photos", type=int, default=3000)
    ap.add_argument("--strips", type=int, default=12, help="photos explained for real, their strips given to all tiles")
    ap.add_argument("--png", help="save the window here once every tile has its strip")
    args = ap.parse_args()

    import numpy as np
    from helpers import make_tiny
    from measure import heartbeat
    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from gradflip_desktop.ui.controllers.folders import FoldersController
    from gradflip_desktop.ui.main_window import MainWindow
    from gradflip_desktop.ui.settings import RunSettings

    app = QApplication.instance() or QApplication([])  # noqa: F841
    tmp = Path(tempfile.mkdtemp())
    folder = Path(args.folder) if args.folder else tmp / "photos"
    if not args.folder:
        from measure_gallery import make_photos

        folder.mkdir()
        make_photos(folder, args.photos, 640, 480)

    def spin(ms: int, until=None) -> None:
        loop, end, poll = QEventLoop(), time.perf_counter() + ms / 1000, QTimer()
        poll.timeout.connect(lambda: loop.quit() if time.perf_counter() > end or (until and until()) else None)
        poll.start(20)
        loop.exec()
        poll.stop()

    def shown(t) -> bool:  # the tile has its picture (kept packed, or decoded as before)
        return getattr(t, "picture", getattr(t, "pixmap", None)) is not None

    strips = []  # the strips of real runs, as the worker hands them to the GUI thread
    real = FoldersController._on_image_done

    def keep(self, done):
        if done is not None and done.strip is not None:
            strips.append(done.strip)
        return real(self, done)

    FoldersController._on_image_done = keep
    win = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    win.settings.setValue("folders/ask_on_close", False)
    win.models.session.classifier = make_tiny(seed=1)
    win.resize(1360, 900)
    win.show()
    c = win.folders
    few = tmp / "few"
    few.mkdir()
    for p in sorted(folder.iterdir())[: args.strips]:
        (few / p.name).symlink_to(p)
    win.controls.set_settings(RunSettings(style="free", max_steps=60))
    c.open_folder(str(few))
    spin(300_000, until=lambda: not c.running and c.summary_written)
    print(f"{len(strips)} strips made by real runs; {win.devicePixelRatioF():g}x screen")
    win.controls.set_settings(RunSettings(style="free", mode="fixed", epsilon=1e-6, max_steps=100_000))
    c.open_folder(str(tmp / "few"))  # a new small run: the first one's results are dropped before measuring
    spin(300_000, until=lambda: not c.running or all(shown(t) for t in c.panel.tiles.values()))
    c.cancel()
    spin(60_000, until=lambda: not c.running)
    before = rss_mb()
    print(f"RSS before the folder: {before:.0f} MB")
    t0 = time.perf_counter()
    c.open_folder(str(folder))
    spin(600_000, until=lambda: len(c.panel.tiles) >= 2 and all(shown(t) for t in c.panel.tiles.values()))
    n = len(c.panel.tiles)
    print(f"{n} tiles, all photos shown after {time.perf_counter() - t0:.1f} s")
    c.cancel()
    spin(60_000, until=lambda: not c.running)
    photos = rss_mb()
    print(f"RSS with {n} photo tiles: {photos:.0f} MB (+{photos - before:.0f} MB)")
    keys = list(c.panel.tiles)
    for i in range(0, n, 50):  # one copy per tile, as each run hands over its own
        c.panel.set_thumbnails([(k, copy(strips[j % len(strips)])) for j, k in enumerate(keys[i:i + 50], i)], strip=True)
        app.processEvents()
    stripped = rss_mb()
    packed = [t.picture.data for t in c.panel.tiles.values() if getattr(t, "picture", None) is not None]
    print(f"RSS with {n} strip tiles: {stripped:.0f} MB (+{stripped - before:.0f} MB)"
          + (f"; packed strips {sum(map(len, packed)) / 2**20:.0f} MB, {np.mean(list(map(len, packed))) / 1024:.0f} KB each"
             if packed else ""))
    win.resizeDocks([win.gallery_dock], [600], Qt.Orientation.Vertical)
    spin(500)
    view = c.panel.list
    bar, clock_timer = view.verticalScrollBar(), heartbeat()
    clock, timer, beats = clock_timer
    times = []
    clock.start()
    timer.start()
    t0 = time.perf_counter()
    for v in list(range(0, bar.maximum() + 1, max(1, bar.pageStep()))) + [bar.maximum()]:
        bar.setValue(v)
        t = time.perf_counter()
        view.viewport().repaint()
        times.append((time.perf_counter() - t) * 1000)
        spin(10)
    total = time.perf_counter() - t0
    timer.stop()
    gaps = np.diff(np.asarray(beats, dtype=np.float64)) / 1e6
    cache = getattr(c.panel.model, "cache", None)
    print(f"scrolled {n} tiles in {len(times)} pages ({view.viewport().width()}x{view.viewport().height()} px): "
          f"{total:.1f} s; paint per page median {np.median(times):.1f} ms, max {max(times):.1f} ms; "
          f"longest stall {max(0.0, gaps.max() - 5):.1f} ms"
          + (f"; {len(cache)} pictures decoded at a time (at most {cache.limit}), {cache.decoded} decodes" if cache else ""))
    scrolled = rss_mb()
    print(f"RSS after scrolling through: {scrolled:.0f} MB (+{scrolled - before:.0f} MB)")
    if args.png:
        bar.setValue(bar.maximum() // 2)
        spin(300)
        win.grab().save(args.png)
        print(f"screenshot: {args.png}")
    win.close()


def copy(picture):
    """Another copy of a strip as a run hands it over (a QImage before, a packed picture now)."""
    from PySide6.QtGui import QImage

    if isinstance(picture, QImage):
        return picture.copy()
    return type(picture)(bytes(bytearray(picture.data)), picture.ratio)


if __name__ == "__main__":
    main()
