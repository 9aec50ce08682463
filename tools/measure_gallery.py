"""Measure the folder gallery's GUI-thread stalls with many photos (not a test; issue 14.6 target < 50 ms).

    python tools/measure_gallery.py                 # 500 photos of 640x480, 40 s of the run
    python tools/measure_gallery.py --photos 200 --seconds 20 --size 1600x1200

As tools/measure.py: a 5 ms QTimer heartbeat runs on the GUI thread; the longest gap between beats
minus 5 ms is the longest stall. Measured while the folder is listed, all thumbnails are decoded and
shown, images are explained (the tiny seeded model from tests/helpers.py, so results arrive as fast as
possible: the worst case for the GUI), the view is re-sorted and scrolled, and the run is cancelled.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def make_photos(folder: Path, n: int, w: int, h: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in range(n):
        a, b = rng.uniform(3, 40, 2)
        img = np.stack([np.sin(x / a + i) * 0.5 + 0.5, np.cos(y / b) * 0.5 + 0.5, (x + y) / (w + h)], axis=2)
        Image.fromarray((img * 255).astype(np.uint8)).save(folder / f"photo{i:04d}.jpg", quality=85)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=40.0, help="how long to let the run go before sorting and cancelling")
    ap.add_argument("--size", default="640x480")
    args = ap.parse_args()
    w_px, h_px = (int(v) for v in args.size.split("x"))

    import numpy as np
    from helpers import make_tiny
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gradflip_desktop.ui.controllers.folders import FoldersController
    from gradflip_desktop.ui.main_window import MainWindow
    from gradflip_desktop.ui.settings import RunSettings

    app = QApplication.instance() or QApplication([])  # noqa: F841
    handler_ms: dict[str, float] = {}

    from measure import heartbeat, timed_handler  # tools/measure.py, beside this script

    def timed(name, fn):
        return timed_handler(handler_ms, name, fn)

    import gc

    gc_ms: dict[int, float] = {}
    gc_start: list[float] = [0.0]

    def gc_watch(phase, info):  # cyclic garbage collection holds the GIL: a stall in any thread
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            g = info["generation"]
            gc_ms[g] = max(gc_ms.get(g, 0.0), (time.perf_counter() - gc_start[0]) * 1000)

    gc.callbacks.append(gc_watch)

    for name in ("_on_listed", "_on_thumbnails", "_on_image_done", "_on_summary"):
        setattr(FoldersController, name, timed(name, getattr(FoldersController, name)))

    tmp = Path(tempfile.mkdtemp())
    folder = tmp / "photos"
    folder.mkdir()
    t = time.perf_counter()
    make_photos(folder, args.photos, w_px, h_px)
    print(f"{args.photos} photos of {w_px}x{h_px} written in {time.perf_counter() - t:.1f} s")

    win = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    win.settings.setValue("folders/ask_on_close", False)  # closing would ask to export
    win.models.session.classifier = make_tiny(seed=1)
    win.controls.set_settings(RunSettings(style="free", max_steps=60))
    win.resize(1360, 900)
    win.show()
    c = win.folders

    clock, timer, beats = heartbeat()

    def spin(ms: int, until=None) -> None:
        loop = QEventLoop()
        end = time.perf_counter() + ms / 1000
        poll = QTimer()
        poll.timeout.connect(lambda: loop.quit() if time.perf_counter() > end or (until and until()) else None)
        poll.start(20)
        loop.exec()
        poll.stop()

    def report(label: str) -> None:
        gaps = np.diff(np.asarray(beats, dtype=np.float64)) / 1e6
        print(f"{label}: {len(beats)} beats; gaps max {gaps.max():.1f} ms, 99th pct {np.percentile(gaps, 99):.1f} ms, "
              f"median {np.median(gaps):.1f} ms -> longest stall {max(0.0, gaps.max() - 5):.1f} ms")
        print(f"  longest garbage collection per generation (ms): { {g: round(v, 1) for g, v in sorted(gc_ms.items())} }")
        gc_ms.clear()
        beats.clear()

    clock.start()
    timer.start()
    spin(3000)
    report("idle window, nothing running (this machine's noise floor)")
    win.gallery_dock.show()  # the window's relayout when the dock appears, measured on its own
    spin(1000)
    report("the gallery dock appears (window relayout)")
    t0 = time.perf_counter()
    c.open_folder(str(folder))
    spin(120_000, until=lambda: len(c.panel.tiles) == args.photos)
    listed = time.perf_counter() - t0
    spin(300_000, until=lambda: all(t.picture is not None for t in c.panel.tiles.values()))
    thumbs = time.perf_counter() - t0
    print(f"listed {len(c.panel.tiles)} images in {listed:.1f} s; all thumbnails shown after {thumbs:.1f} s")
    report("listing + thumbnails (+ the run)")
    spin(int(args.seconds * 1000))
    done = sum(c.counts.values())
    print(f"{done} images explained after {time.perf_counter() - t0:.1f} s")
    report(f"run, {args.seconds:.0f} s")
    for mode in (1, 2, 0):
        c.panel.sort.setCurrentIndex(mode)
        spin(300)
    bar = c.panel.list.verticalScrollBar()
    for v in np.linspace(0, bar.maximum(), 20):
        bar.setValue(int(v))
        spin(50)
    report("sort x3 + scroll through 500 tiles (during the run)")
    c.cancel()
    spin(60_000, until=lambda: not c.running)
    report("cancel + summary")
    timer.stop()
    print("slowest GUI-thread handlers (ms):", {k: round(v, 1) for k, v in sorted(handler_ms.items())})
    win.grab().save(str(tmp / "gallery.png"))
    print(f"screenshot: {tmp / 'gallery.png'}")
    win.close()


if __name__ == "__main__":
    main()
