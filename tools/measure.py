"""Measure the desktop app's targets (not a test): start-up times and the longest GUI-thread stall.

    python tools/measure.py                # 3 cold starts of `gradflip` + heartbeat during runs
    python tools/measure.py --stall-only --style free     # the runs in the textbook style

Start-up: `gradflip` is launched offscreen with GRADFLIP_TIMING=1; it prints timestamps when the window
has been shown and painted and when the top-5 are on screen. Stall: a 5 ms QTimer heartbeat runs on the
GUI thread during Explain (the sample photo, and a 1024 px image with a 40-step fixed-ε run, the
worst case for previews); the longest gap between beats minus 5 ms is the longest stall.
"""

from __future__ import annotations

import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def timed_handler(record: dict[str, float], name: str, fn):
    """``fn`` (a method) wrapped so that its longest call, in ms, is kept in ``record[name]``."""

    @functools.wraps(fn)
    def wrapper(self, *a):
        t = time.perf_counter()
        try:
            return fn(self, *a)
        finally:
            record[name] = max(record.get(name, 0.0), (time.perf_counter() - t) * 1000)

    return wrapper


def heartbeat(period_ms: int = 5):
    """A precise QTimer on the GUI thread that appends the QElapsedTimer's nanoseconds to ``beats`` on each
    tick: the longest gap between beats minus the period is the longest stall. Returns (clock, timer, beats);
    start both (``clock.start(); timer.start()``) to measure."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    clock = QElapsedTimer()
    beats: list[int] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(period_ms)
    timer.timeout.connect(lambda: beats.append(clock.nsecsElapsed()))
    return clock, timer, beats


def startup(runs: int = 3) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GRADFLIP_TIMING="1", GRADFLIP_TIMING_QUIT="1")
    shown, top5 = [], []
    for _ in range(runs):
        t0 = time.time()
        proc = subprocess.run([sys.executable, "-m", "gradflip_desktop"], env=env, capture_output=True, text=True, timeout=120)
        stamps = {}
        for line in proc.stderr.splitlines():
            if line.startswith("gradflip-timing"):
                _, event, t = line.split()
                stamps[event] = float(t) - t0
        shown.append(stamps.get("painted", float("nan")))
        top5.append(stamps.get("top5", float("nan")))
        print(f"  run: window painted {shown[-1]:.2f} s, top-5 shown {top5[-1]:.2f} s")
    print(f"window visible: median {statistics.median(shown):.2f} s (max {max(shown):.2f}); "
          f"top-5 shown: median {statistics.median(top5):.2f} s (max {max(top5):.2f})")


def stall() -> None:
    import numpy as np
    from PIL import Image
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gradflip_desktop.core.resources import sample_image_path
    from gradflip_desktop.ui.controllers.difference import DifferenceController
    from gradflip_desktop.ui.controllers.images import ImagesController
    from gradflip_desktop.ui.controllers.models import ModelsController
    from gradflip_desktop.ui.controllers.runs import RunsController
    from gradflip_desktop.ui.main_window import MainWindow
    from gradflip_desktop.ui.settings import RunSettings

    app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive for the run
    handler_ms: dict[str, float] = {}

    def timed(name, fn):
        return timed_handler(handler_ms, name, fn)

    # the GUI-thread handlers of the controllers (patched before the window binds them)
    for cls, names in ((RunsController, ("_on_steps", "_on_done", "_on_started", "explain")),
                       (DifferenceController, ("_on_rendered",)), (ModelsController, ("_on_classified",)),
                       (ImagesController, ("_on_loaded",))):
        for name in names:
            setattr(cls, name, timed(name, getattr(cls, name)))
    tmp = Path(tempfile.mkdtemp())
    w = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    w.resize(1360, 860)
    w.show()

    def wait(signal, ms=180_000):
        loop = QEventLoop()
        got = []
        signal.connect(lambda *a: (got.extend(a), loop.quit()))
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        return got

    QTimer.singleShot(0, w.start)
    wait(w.classified)
    big = tmp / "big.png"
    im = Image.open(sample_image_path()).convert("RGB")
    im.resize((1024, round(1024 * im.height / im.width)), Image.Resampling.LANCZOS).save(big)

    clock, timer, beats = heartbeat()

    def measured_run(label: str, settings: RunSettings) -> None:
        w.controls.set_settings(settings)
        beats.clear()
        clock.start()
        timer.start()
        w.explain()
        res = wait(w.run_finished)
        wait(w.difference_shown, 5000)
        timer.stop()
        gaps = np.diff(np.asarray(beats, dtype=np.float64)) / 1e6
        r = res[0] if res else None
        print(f"{label}: {len(r.steps) if r else '?'} steps in {r.seconds if r else float('nan'):.1f} s; heartbeat gaps: "
              f"max {gaps.max():.1f} ms, 99th pct {np.percentile(gaps, 99):.1f} ms, median {np.median(gaps):.1f} ms "
              f"→ longest stall {max(0.0, gaps.max() - 5):.1f} ms")
        print("  slowest GUI-thread handlers (ms):", {k: round(v, 1) for k, v in sorted(handler_ms.items())})
        handler_ms.clear()

    # --style NAME: runs of that style (e.g. "free", the textbook one, to compare with an older version)
    style = {"style": sys.argv[sys.argv.index("--style") + 1]} if "--style" in sys.argv else {}
    measured_run(f"sample 451x300, default settings {style}", RunSettings(**style))
    w.open_path(str(big))
    wait(w.classified)
    measured_run("1024x682, fixed eps 0.0002, 40 steps", RunSettings(mode="fixed", epsilon=0.0002, max_steps=40, **style))
    w.close()


if __name__ == "__main__":
    if any(a in ("-h", "--help") for a in sys.argv[1:]):  # (it ran the whole measurement)
        print(__doc__.strip())
        raise SystemExit(0)
    if "--stall-only" not in sys.argv:
        startup()
    if "--startup-only" not in sys.argv:
        stall()
