"""Helpers shared by the tests (plain functions and constants; fixtures stay in the conftest.py files).

Import as ``from helpers import make_tiny`` (``tests/`` is on ``pythonpath`` in pyproject's pytest config).
Never ``from conftest import ...``: conftest modules are pytest's, not importable API.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

# --- GUI timing ---------------------------------------------------------------------------------
# the first window imports torch and loads the model; later ones reuse the loaded model
STARTUP_TIMEOUT_MS = 90_000
RUN_TIMEOUT_MS = 90_000


# --- tiny deterministic pixel-space classifier --------------------------------------------------
class TinyNet(nn.Module):
    """3 -> 6 conv (3x3), tanh, global average pool, linear to ``classes`` logits. Seeded weights."""

    def __init__(self, classes: int = 4, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6, classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.8)

    def forward(self, x):
        return self.fc(torch.tanh(self.conv(x)).mean((2, 3)))


def make_tiny(classes: int = 4, seed: int = 0, size: int = 16):
    """A tiny seeded Classifier (``classes`` labels ``class0..``, group ``low`` = classes 0 and 1)."""
    from gradflip_desktop.core.models import Classifier, PixelSpaceModel, Preprocessing

    pre = Preprocessing(input_size=(size, size), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    module = PixelSpaceModel(TinyNet(classes, seed), pre).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    labels = [f"class{i}" for i in range(classes)]
    return Classifier(module=module, labels=labels, name="tiny", groups={"low": [0, 1]}, preprocessing=pre)


def planted_weight(size: int, region: tuple[slice, slice]) -> torch.Tensor:
    """A size x size weight that is 1 in ``region`` and 0 elsewhere: where a planted test model looks."""
    w = torch.zeros(size, size)
    w[region] = 1.0
    return w


def region_mask(size: int, region: tuple[slice, slice]) -> np.ndarray:
    """The same region as a boolean size x size mask."""
    return planted_weight(size, region).numpy() > 0


def tiny_image_array() -> np.ndarray:
    """A smooth 24 x 32 RGB image with values inside (0.2, 0.8), so no step is clipped at first."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.7, size=(6, 8, 3)).astype(np.float32)
    return np.kron(base, np.ones((4, 4, 1), dtype=np.float32))


# --- image files --------------------------------------------------------------------------------
def make_image_file(path: Path, width: int = 96, height: int = 64, seed: int = 0) -> Path:
    """A smooth colour pattern with some texture, saved as PNG/JPEG by extension."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([x / width, y / height, 0.5 + 0.4 * np.sin(x / 5.0) * np.cos(y / 7.0)], axis=2)
    img = np.clip(img + rng.normal(0, 0.03, img.shape), 0, 1)
    fmt = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    Image.fromarray((img * 255).round().astype(np.uint8)).save(path, format=fmt)
    return path


# --- real photos (end-to-end tests) -------------------------------------------------------------
# skimage.data photos used by the e2e tests: natural RGB photos of ImageNet-like subjects.
E2E_PHOTOS = ("chelsea", "coffee", "astronaut")


def skimage_photo(name: str) -> np.ndarray:
    """A photo from ``skimage.data`` as uint8 RGB (H, W, 3). Raises if it is missing: never skipped."""
    import skimage.data

    img = np.asarray(getattr(skimage.data, name)())
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"skimage.data.{name} is not an 8-bit RGB photo: {img.shape} {img.dtype}")
    return img


def answer_message_box(button_text: str, seen: list | None = None, tick: bool | None = None, title: bool = False) -> None:
    """Click ``button_text`` in the modal QMessageBox open now (a test schedules it with ``QTimer.singleShot`` before
    the call that opens the box); ``seen`` gets its text (``(title, text)`` with ``title``); ``tick`` sets its check box."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox), box
    if seen is not None:
        seen.append((box.windowTitle(), box.text()) if title else box.text())
    if tick is not None:
        box.checkBox().setChecked(tick)
    next(b for b in box.buttons() if b.text() == button_text).click()


def photo_folder(folder: Path, count: int = 3) -> Path:
    """``folder`` made with ``count`` small photos p0.png, p1.png, … (64 x 48, each its own pattern)."""
    folder.mkdir()
    for i in range(count):
        make_image_file(folder / f"p{i}.png", 64, 48, seed=i)
    return folder


# --- named pipes --------------------------------------------------------------------------------
class PipeWatch:
    """``with PipeWatch(fifo) as waited:`` runs the block while a thread checks, every ``period`` seconds, whether
    something waits to read the named pipe ``fifo``; if so it lets it go (opens and closes the writing end: the
    reader sees an empty file) and records it in ``waited``. A test asserts ``not waited`` after the block: code
    that waits on a pipe fails the test instead of hanging the suite."""

    def __init__(self, fifo, period: float = 2.0):
        import threading

        self.fifo, self.period, self.waited = fifo, period, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        import os

        while not self._stop.wait(self.period):
            try:  # ENXIO while no reader has the pipe open: nothing waits on it
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue
            self.waited.append(self.fifo)
            os.close(fd)

    def __enter__(self) -> list:
        self._thread.start()
        return self.waited

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def watch_run(window) -> tuple[list, list]:
    """Explain on ``window``, watched: (what its run signals said, how the run's task ended), lists that fill as it
    happens; for tests of what may interrupt a run (its result must never arrive after)."""
    heard: list = []
    for signal in (window.run_finished, window.run_cancelled, window.run_failed):
        signal.connect(heard.append)
    window.explain()
    task = window.runs.task
    assert task is not None and window.runs.running
    ended: list = []
    task.done.connect(lambda _task, value: ended.append(value))
    task.failed.connect(lambda _task, exc: ended.append(exc))
    return heard, ended


def fail_replace_at(monkeypatch, n: int, exc: BaseException) -> list:
    """Make the ``n``-th ``os.replace`` of GradFlip's atomic writes raise ``exc`` (a locked file, a Ctrl+C among the
    renames of a set); returns the destinations asked for, in order."""
    import os

    from gradflip_desktop.core import images

    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == n:
            raise exc
        return real(src, dst)

    monkeypatch.setattr(images.writing.os, "replace", replace)
    return calls



def fake_selftest_stages(monkeypatch) -> None:
    """``gradflip --self-test``'s core stages replaced by quick stand-ins: the sample, "Egyptian cat (79.04 %)", flipped
    to tiger cat at step 1 of 3 (the real stages: tests/test_selftest.py's end-to-end test)."""
    from types import SimpleNamespace

    from gradflip_desktop import selftest
    from gradflip_desktop.core.models import Prediction

    pred = Prediction(285, "Egyptian cat", 0.7904)
    result = SimpleNamespace(original=pred, final=Prediction(282, "tiger cat", 0.5), steps=[1, 2, 3], flip_step=1, timings={})
    monkeypatch.setattr(selftest, "_stage_model", lambda: object())
    monkeypatch.setattr(selftest, "_stage_sample", lambda clf: (object(), pred))
    monkeypatch.setattr(selftest, "_stage_explain", lambda clf, img: result)
    monkeypatch.setattr(selftest, "_stage_export", lambda clf, img, result: None)
