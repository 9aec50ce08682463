"""Background jobs that must not stall the GUI thread: Difference maps, export, the figure, model-file inspection.

The maps (:mod:`gradflip_desktop.core.maps`) take tens of milliseconds on a 1024 px image, so they are
rendered in a second worker thread. Render requests are coalesced: only the newest one is drawn, so a
fast-moving slider or a stream of live previews never builds a queue.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

if TYPE_CHECKING:
    from gradflip_desktop.core.explain import ExplainResult

MAGNITUDE = "magnitude"
SIGNED = "signed"
KEY_PIXELS = "key"
AMPLIFIED = "amplified"
DIFF_MODES = {
    MAGNITUDE: "Smoothed magnitude",
    SIGNED: "Signed (diverging)",
    KEY_PIXELS: "Key-pixel outline",
    AMPLIFIED: "Amplified RGB",
}


@dataclass
class DiffRequest:
    """What to draw in the Difference panel.

    original, delta: H x W x 3 float32; mask: H x W bool key pixels (or None);
    opacity in [0, 1]; gain: amplification for ``amplified`` (None = automatic).
    """

    token: int
    mode: str
    original: np.ndarray
    delta: np.ndarray | None  # None: computed here as adjusted - original
    mask: np.ndarray | None = None
    opacity: float = 0.75
    gain: float | None = None
    adjusted: np.ndarray | None = None
    key_pixels: object | None = None  # KeyPixels; with key_count the mask is key_pixels.mask_for(key_count)
    key_count: int | None = None
    blur_amount: np.ndarray | None = None  # H x W importance of a "blur"-style result (shown instead of |Δ|)
    # live previews only (no mask, key pixels or blur amount): draw at 1/reduce of the size, about the
    # size the panel shows (the same maps, computed on block means; the final result is full size)
    reduce: int = 1


@dataclass
class LoadedImage:
    image: object  # ImageData
    rgb: np.ndarray  # its pixels as H x W x 3 uint8, ready to show


@dataclass
class ModelFileFacts:
    """What the Load model dialog is pre-filled with: ``inspect_model_file`` and the architectures."""

    info: object  # ModelFileInfo
    architectures: list[str]


@dataclass
class ColorBar:
    lut: np.ndarray  # N x 3 float in [0, 1]
    low: float
    high: float
    label: str


@dataclass
class DiffImage:
    token: int
    mode: str
    rgb: np.ndarray  # H x W x 3 uint8
    colorbar: ColorBar | None
    gain: float | None
    note: str = ""
    extent: tuple[int, int] | None = None  # (width, height) of the full image when rgb is reduced


WORKER_NICE = 5  # how much lower the worker threads' CPU priority is than the GUI thread's (Linux)


def lower_thread_priority() -> None:
    """Run the calling worker thread (and the threads it starts later, e.g. torch's) at a lower CPU
    priority than the GUI thread, so that on a machine with few cores painting is not starved.

    Linux: nice values are per thread (``setpriority`` with the thread's id). Elsewhere QThread's
    priority does this (``QThread.start(priority)``); this is then a no-op.
    """
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICE))
    except (AttributeError, OSError):
        pass


def display_uint8(pixels: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 for display, in float32 (4-5x faster than the float64 rounding of
    :func:`gradflip_desktop.core.images.to_uint8`, which defines what is saved; a few values per million
    land on the neighbouring level, invisible on screen)."""
    return np.clip(np.rint(np.asarray(pixels, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def worker_thread(worker: QObject, name: str) -> QThread:
    """A QThread named ``name`` that ``worker`` lives in, at lower CPU priority, deleting it when done."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.finished.connect(worker.deleteLater)
    thread.started.connect(lower_thread_priority, Qt.ConnectionType.DirectConnection)
    return thread


def box_downsample(image: np.ndarray, fx: int, fy: int | None = None) -> np.ndarray:
    """The mean of each ``fy`` x ``fx`` block of an H x W or H x W x C image; the last partial blocks
    are dropped (as pyqtgraph's automatic downsampling does).

    uint8 in, uint8 out (rounded, integer arithmetic: ~2 ms for a 1024 px RGB image, where pyqtgraph's
    float mean takes 15–30 ms); any other type gives float32.
    """
    fx = max(1, int(fx))
    fy = fx if fy is None else max(1, int(fy))
    if fx == 1 and fy == 1:
        return image
    h, w = image.shape[0] // fy * fy, image.shape[1] // fx * fx
    n = fx * fy
    integer = image.dtype == np.uint8
    acc_type = (np.uint16 if n <= 256 else np.uint32) if integer else np.float32
    acc = np.zeros((h // fy, w // fx) + image.shape[2:], dtype=acc_type)
    if acc.size == 0:
        return acc.astype(np.uint8 if integer else np.float32)
    for dy in range(fy):
        for dx in range(fx):
            acc += image[dy:h:fy, dx:w:fx]
    if integer:
        acc += n // 2
        acc //= n
        return acc.astype(np.uint8)
    acc *= np.float32(1.0 / n)
    return acc


def render_difference(req: DiffRequest) -> DiffImage:
    """Draw one Difference mode with the core's maps (the same ones the exported figure uses)."""
    from gradflip_desktop.core import maps

    orig, o = req.original, float(np.clip(req.opacity, 0.0, 1.0))
    delta = req.delta if req.delta is not None else (req.adjusted - orig).astype(np.float32)
    f = max(1, int(req.reduce))
    if req.mask is not None or req.key_pixels is not None or req.blur_amount is not None:
        f = 1  # a finished result: always full size
    if req.mode not in (MAGNITUDE, KEY_PIXELS) or min(orig.shape[:2]) // f < 8:
        f = 1  # the per-pixel modes are cheap and would look different as block means
    extent = magnitude = sigma = None
    if f > 1:
        # the smoothed-magnitude map (the expensive one) from block means of the full-size |δ|
        # (block means of δ itself would cancel); smoothing scaled to match
        extent = (orig.shape[1], orig.shape[0])
        magnitude = box_downsample(maps.pixel_magnitude(delta), f)
        sigma = maps.default_sigma(*orig.shape[:2]) / f
        orig = box_downsample(orig, f)
    gain = float(req.gain) if req.gain else None
    if req.mode == SIGNED:
        rgb, lim = maps.signed_overlay(delta)
        base = (0.25 + 0.5 * maps.grayscale(orig))[..., None]
        out = base * (1 - o) + rgb * o
        bar = ColorBar(maps.DIVERGING_LUT, -lim * 255, lim * 255, "mean Δ (8-bit levels)")
        return DiffImage(req.token, req.mode, display_uint8(out), bar, None)
    if req.mode == AMPLIFIED:
        gain = gain or maps.auto_gain(delta)
        return DiffImage(req.token, req.mode, display_uint8(maps.amplified(delta, gain)), None, gain)
    mask = req.mask
    if req.key_pixels is not None and req.key_count is not None:
        mask = req.key_pixels.mask_for(req.key_count)
    if req.mode == KEY_PIXELS and mask is not None:
        over = maps.key_pixel_overlay(orig, mask)
        out = orig * (1 - o) + over * o
        return DiffImage(req.token, req.mode, display_uint8(out), None, None)
    # magnitude (also the key-pixel view until the key pixels are known)
    if req.blur_amount is not None:  # smoothed exactly as ExplainResult.importance_map() does
        imp, scale, what = maps.smoothed(req.blur_amount), 100.0, "blur amount (%)"
    elif magnitude is not None:
        imp, scale, what = maps.smoothed(magnitude, sigma), 255.0, "smoothed |Δ| (8-bit levels)"
    else:
        imp, scale, what = maps.magnitude_map(delta), 255.0, "smoothed |Δ| (8-bit levels)"
    top = maps.heat_top(imp)
    out = maps.heat_overlay(orig, imp, o, top=top)
    bar = ColorBar(maps.INFERNO_LUT, 0.0, max(top, 1e-12) * scale, what)
    note = "key pixels are found after the flip" if req.mode == KEY_PIXELS else ""
    return DiffImage(req.token, req.mode, display_uint8(out), bar, None, note, extent)


class BackgroundWorker(QObject):
    rendered = Signal(object)  # DiffImage
    render_failed = Signal(str)
    exported = Signal(object)  # list[Path]
    export_failed = Signal(str, bool)  # message, files exist (ask to overwrite)
    figure_ready = Signal(object)  # uint8 H x W x 3
    figure_failed = Signal(str)
    image_loaded = Signal(int, object)  # token, LoadedImage
    image_failed = Signal(int, str)  # token, message
    model_inspected = Signal(int, object)  # token, ModelFileFacts
    model_inspect_failed = Signal(int, str)  # token, message

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pending: DiffRequest | None = None

    def submit(self, req: DiffRequest) -> None:
        """Store the newest request (any thread); the queued ``kick`` draws whatever is newest."""
        with self._lock:
            self._pending = req

    @Slot()
    def kick(self) -> None:
        with self._lock:
            req, self._pending = self._pending, None
        if req is None:
            return
        try:
            self.rendered.emit(render_difference(req))
        except Exception as exc:  # noqa: BLE001
            self.render_failed.emit(f"could not draw the difference: {exc}")

    @Slot(object, str, str, bool, object)
    def export(self, result: "ExplainResult", folder: str, name: str, force: bool, info: dict) -> None:
        try:
            from gradflip_desktop.core.report import ReportError, write_result_set

            paths = write_result_set(result, folder, name, force=force, image_info=info)
        except FileExistsError as exc:
            self.export_failed.emit(str(exc), True)
            return
        except ReportError as exc:
            self.export_failed.emit(str(exc), False)
            return
        except Exception as exc:  # noqa: BLE001
            self.export_failed.emit(f"export failed: {type(exc).__name__}: {exc}", False)
            return
        self.exported.emit(paths)

    @Slot(int, object, str)
    def load_image(self, token: int, source, name: str) -> None:
        """Decode a file (path), file bytes or an H x W x C array into ImageData."""
        from gradflip_desktop.core.images import ImageError, from_array, load_image

        try:
            if isinstance(source, np.ndarray):
                image = from_array(source, name=name or "pasted image")
            else:
                image = load_image(source, name=name or None)
        except ImageError as exc:
            self.image_failed.emit(token, str(exc))
            return
        except MemoryError:
            self.image_failed.emit(token, "the image is too large for the available memory")
            return
        except Exception as exc:  # noqa: BLE001
            self.image_failed.emit(token, f"the image could not be read: {type(exc).__name__}: {exc}")
            return
        self.image_loaded.emit(token, LoadedImage(image, display_uint8(image.pixels)))

    @Slot(int, str)
    def inspect_model(self, token: int, path: str) -> None:
        """Read a model file's format, recognised weights and sidecar (no network is built)."""
        try:
            from gradflip_desktop.core.model_files import inspect_model_file, torchvision_architectures

            info = inspect_model_file(path)
            archs = torchvision_architectures() if info.format == "state_dict" else []
        except Exception as exc:  # noqa: BLE001 - ModelError and friends: a message for the user
            text = str(exc) if type(exc).__name__ == "ModelError" else f"{type(exc).__name__}: {exc}"
            self.model_inspect_failed.emit(token, text)
            return
        self.model_inspected.emit(token, ModelFileFacts(info, archs))

    @Slot(object)
    def figure(self, result: "ExplainResult") -> None:
        try:
            from gradflip_desktop.core.report import render_figure

            self.figure_ready.emit(render_figure(result))
        except Exception as exc:  # noqa: BLE001
            self.figure_failed.emit(f"could not draw the figure: {exc}")


class BackgroundHost(QObject):
    _kick = Signal()
    _export = Signal(object, str, str, bool, object)
    _figure = Signal(object)
    _load = Signal(int, object, str)
    _inspect = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = BackgroundWorker()
        self.thread = worker_thread(self.worker, "gradflip-background")
        self._kick.connect(self.worker.kick)
        self._export.connect(self.worker.export)
        self._figure.connect(self.worker.figure)
        self._load.connect(self.worker.load_image)
        self._inspect.connect(self.worker.inspect_model)

    def _start(self) -> None:
        if not self.thread.isRunning():
            self.thread.start(QThread.Priority.LowPriority)

    def render(self, req: DiffRequest) -> None:
        self._start()
        self.worker.submit(req)
        self._kick.emit()

    def export(self, result, folder: str, name: str, force: bool, info: dict) -> None:
        self._start()
        self._export.emit(result, folder, name, force, info)

    def figure(self, result) -> None:
        self._start()
        self._figure.emit(result)

    def load_image(self, token: int, source, name: str = "") -> None:
        self._start()
        self._load.emit(token, source, name)

    def inspect_model(self, token: int, path: str) -> None:
        self._start()
        self._inspect.emit(token, path)

    def shutdown(self) -> None:
        if self.thread.isRunning():
            self.thread.quit()
            self.thread.wait()
