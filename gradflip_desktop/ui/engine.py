"""The GUI's link to the core: a worker QObject on its own QThread that owns the classifier.

Everything that touches torch runs here: loading the model (torch is imported in this thread, so the
window appears before torch is loaded), classifying an image and iterating the
:func:`gradflip_desktop.core.explain.explain` generator. The window only sends requests (queued
signals), receives results (signals) and sets the cancel mark (:meth:`Engine.cancel`, thread-safe).

Requests carry an id; a cancelled run's late signals carry its old id and are ignored by the window.
"""

from __future__ import annotations

import html
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from .background import box_downsample, display_uint8, worker_thread
from .settings import RunSettings

if TYPE_CHECKING:  # torch-importing modules are never imported on the GUI thread at start-up
    from gradflip_desktop.core.explain import ExplainResult, Step
    from gradflip_desktop.core.model_files import ModelSpec
    from gradflip_desktop.core.models import Classifier

PREVIEW_INTERVAL_S = 0.1  # adjusted-image previews: about 10 per second
BATCH_INTERVAL_S = 0.05  # step records are sent in batches at most 20 times per second

# The default model by device: a second window (or test) reuses it instead of reloading. Model files
# are not cached (the file or its settings may have changed since).
_CLASSIFIERS: dict[tuple[str, str], "Classifier"] = {}


@dataclass
class ModelInfo:
    """What the window needs to know about the loaded model (plain Python, no torch objects).

    ``source``: what was loaded: ``None`` (the default model), a picker key / file path, or the
    :class:`~gradflip_desktop.core.model_files.ModelSpec` the Load model dialog filled.
    ``choices``: the model picker's entries (key, title, description) from ``model_choices()``.
    ``defaults``: the core's ``ExplainOptions()`` values (the one place the defaults live).
    """

    name: str
    labels: list[str]
    groups: dict[str, list[int]]
    devices: list[str]
    device: str
    versions: dict[str, str]
    seconds: float = 0.0
    source: "str | ModelSpec | None" = None
    key: str = ""  # the picker key of this model: the registry name or the model file's path
    choices: list[tuple[str, str, str]] = field(default_factory=list)
    defaults: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class StepBatch:
    """Steps reached since the last batch, and (at most ~10/s) the current adjusted image."""

    steps: list["Step"]
    preview: np.ndarray | None  # H x W x 3 float32 in [0, 1], or None
    budget: int
    phase: str = "search"
    preview_uint8: np.ndarray | None = None  # the same preview as 8-bit, ready to show
    # preview_uint8 reduced to about the size the Adjusted panel shows, by (x, y) factor (so the GUI
    # thread need not downsample it when painting); the full-size preview_uint8 stays what is shown
    preview_reduced: dict[tuple[int, int], np.ndarray] | None = None


@dataclass
class RunOutcome:
    """A finished (or cancelled) run and the text the window shows about it, computed off the GUI thread."""

    result: "ExplainResult"
    change: str  # size of the change, e.g. "L2 1.078 · max 6.6/255 · RMS 0.43/255"


@dataclass
class Classification:
    """Top-5 predictions and the full probability vector of one image."""

    top: list  # list[Prediction]
    probabilities: np.ndarray  # float32, length C


@dataclass
class RunStart:
    """Sent when a run starts: which classes are explained and which class is the target."""

    explained: list[int]  # empty: the top class of the image
    explained_name: str
    target: int | None
    budget: int


@dataclass
class KeyPixelQuery:
    """Classify the image with only the ``count`` top-|δ| pixels changed (the key-pixel explorer):
    ``result.key_pixel_image(count)``, the image the core's key-pixel search classifies."""

    token: int
    result: "ExplainResult"
    count: int


@dataclass
class CompareQuery:
    """Attribution maps of ``result``'s original image for class ``target`` (the comparison panel)."""

    token: int
    result: "ExplainResult"
    target: int


@dataclass
class ComparePanel:
    """One map of the comparison panel: H x W x 3 uint8 heat overlay (None: not available) and caption."""

    title: str
    rgb: np.ndarray | None
    caption: str
    values: np.ndarray | None = None  # the H x W float32 map


@dataclass
class Comparison:
    token: int
    target: int
    panels: list[ComparePanel]


@dataclass
class KeyPixelAnswer:
    token: int
    count: int
    top: list  # list[Prediction], top-3


class Engine(QObject):
    """Lives in the engine thread. Slots are called through queued signals from :class:`EngineHost`."""

    model_loaded = Signal(object)  # ModelInfo
    model_failed = Signal(str)
    classified = Signal(int, object)  # image token, Classification
    classify_failed = Signal(int, str)
    step = Signal(int, object)  # run id, StepBatch
    finished = Signal(int, object)  # run id, RunOutcome (any status except cancelled)
    cancelled = Signal(int, object)  # run id, RunOutcome with the state reached (None: never started)
    failed = Signal(int, str)  # run id, readable message
    started = Signal(int, object)  # run id, RunStart
    key_evaluated = Signal(object)  # KeyPixelAnswer
    key_failed = Signal(str)
    compared = Signal(object)  # Comparison

    def __init__(self) -> None:
        super().__init__()
        self.classifier: Classifier | None = None
        self._cancelled_upto = 0  # every run id <= this is cancelled (int writes are atomic under the GIL)
        self._source: "str | ModelSpec | None" = None
        self._choices: list[tuple[str, str, str]] | None = None
        self._key_lock = threading.Lock()
        self._key_pending: KeyPixelQuery | None = None
        self.preview_factor = 1  # set by the window (any thread): the Adjusted panel's display factor

    def submit_key_query(self, query: KeyPixelQuery) -> None:
        """Store the newest key-pixel query (any thread); ``evaluate_key_pixels`` answers the newest only."""
        with self._key_lock:
            self._key_pending = query

    # -- called from any thread ----------------------------------------------------------------------
    def cancel(self, run_id: int) -> None:
        """Ask run ``run_id`` (and every older one) to stop at its next step. Thread-safe."""
        if run_id > self._cancelled_upto:
            self._cancelled_upto = run_id

    def is_cancelled(self, run_id: int) -> bool:
        return run_id <= self._cancelled_upto

    # -- slots (engine thread) ---------------------------------------------------------------------
    @Slot(object, str)
    def load_model(self, source: "str | ModelSpec | None", device: str) -> None:
        """Load ``source`` (None/registry name/file path, or a ModelSpec) on ``device``.

        On failure the previous model stays loaded and ``model_failed`` says why. Asking for the model
        that is loaded already on another device moves it (a device change); the first load falls back
        to the CPU when the remembered device is not there.
        """
        t0 = time.perf_counter()
        try:
            from gradflip_desktop.core.models import ModelError, available_devices, load_classifier, model_versions, resolve_device

            device = device or "cpu"
            first = self.classifier is None
            try:
                dev = resolve_device(device)
            except ModelError as exc:
                if not first:
                    raise
                dev = resolve_device("cpu")  # a remembered device that vanished: the CPU, and say so
                notes = [f"{exc}; using the CPU instead"]
            else:
                notes = []
            same = self.classifier is not None and _same_source(source, self._source)
            if same and not (source is None or isinstance(source, str)):
                clf = self.classifier.to(dev)  # a device change of a model file: move it, do not re-read it
            else:
                clf = self._load(source, dev)
            clf.warnings.extend(n for n in notes if n not in clf.warnings)
            self.classifier = clf
            self._source = source
            if self._choices is None:
                self._choices = _model_choices()
            info = ModelInfo(
                name=clf.name,
                labels=list(clf.labels),
                groups={k: list(v) for k, v in clf.groups.items()},
                devices=available_devices(),
                device=str(clf.device),
                versions=model_versions(),
                seconds=time.perf_counter() - t0,
                source=source,
                key=_source_key(source),
                choices=list(self._choices),
                defaults=_core_defaults(),
                warnings=list(clf.warnings),
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message for the user
            self.model_failed.emit(_message(exc, "the model could not be loaded"))
            return
        self.model_loaded.emit(info)

    @staticmethod
    def _load(source: "str | ModelSpec | None", dev) -> "Classifier":
        from gradflip_desktop.core.model_files import ModelSpec, load_model_spec
        from gradflip_desktop.core.models import DEFAULT_MODEL, load_classifier

        if isinstance(source, ModelSpec):
            return load_model_spec(source, dev)
        key = (source or DEFAULT_MODEL).strip()
        if key.lower() == DEFAULT_MODEL:
            cached = _CLASSIFIERS.get((DEFAULT_MODEL, str(dev)))
            if cached is None:
                cached = _CLASSIFIERS[(DEFAULT_MODEL, str(dev))] = load_classifier(None, device=dev)
            return cached
        return load_classifier(key, device=dev)

    @Slot(int, object)
    def classify(self, token: int, pixels: np.ndarray) -> None:
        if self.classifier is None:
            self.classify_failed.emit(token, "no model is loaded")
            return
        try:
            probs = self.classifier.probabilities(pixels)
            if not np.all(np.isfinite(probs)):
                raise ValueError("the model produced non-finite outputs (NaN or infinity) for this image")
            preds = self.classifier.top(probs, 5)
        except Exception as exc:  # noqa: BLE001
            self.classify_failed.emit(token, _message(exc, "the model failed on this image"))
            return
        self.classified.emit(token, Classification(preds, probs.astype(np.float32)))

    @Slot()
    def evaluate_key_pixels(self) -> None:
        with self._key_lock:
            q, self._key_pending = self._key_pending, None
        if q is None or self.classifier is None:
            return
        try:
            top = self.classifier.classify(q.result.key_pixel_image(q.count), 3)
        except Exception as exc:  # noqa: BLE001
            self.key_failed.emit(_message(exc, "the key-pixel check failed"))
            return
        self.key_evaluated.emit(KeyPixelAnswer(q.token, q.count, top))

    @Slot(object)
    def compare(self, q: CompareQuery) -> None:
        """GradFlip's importance map, Grad-CAM and gradient saliency of the same image and class.

        Runs here, not in the background thread: Grad-CAM hooks a layer of the classifier this thread
        owns, and a hook must never see the forward passes of a running explanation.
        """
        from gradflip_desktop.core import maps
        from gradflip_desktop.core.attributions import feature_layer, gradcam_map, saliency_map
        from gradflip_desktop.core.report import difference_overlay

        result, clf = q.result, self.classifier
        original = result.original_pixels
        label = result.label(q.target)
        panels = [
            ComparePanel(
                "GradFlip",
                display_uint8(difference_overlay(result)),  # as in the exported figure
                f"where the flipping change concentrates ({'blur amount' if result.blur_amount is not None else 'smoothed |Δ|'}, L2 {result.l2:.3f})",
            )
        ]
        if clf is None or clf.labels != result.labels:
            note = "the model that made this result is no longer loaded"
            panels += [ComparePanel("Grad-CAM", None, note), ComparePanel("Gradient saliency", None, note)]
            self.compared.emit(Comparison(q.token, q.target, panels))
            return
        try:
            name, _ = feature_layer(clf.module)
            cam = gradcam_map(clf, original, q.target)
            panels.append(ComparePanel(
                "Grad-CAM", display_uint8(maps.heat_overlay(original, cam)),
                f"of <b>{html.escape(label)}</b> at layer {html.escape(name)} (coarse: the layer's grid, upsampled)", cam,
            ))
        except Exception as exc:  # noqa: BLE001
            panels.append(ComparePanel("Grad-CAM", None, html.escape(_message(exc, "Grad-CAM failed"))))
        try:
            sal = saliency_map(clf, original, q.target)
            panels.append(ComparePanel(
                "Gradient saliency", display_uint8(maps.heat_overlay(original, maps.magnitude_map(sal[..., None]))),
                f"|∂z/∂x| of <b>{html.escape(label)}</b> (smoothed like GradFlip's map)", sal,
            ))
        except Exception as exc:  # noqa: BLE001
            panels.append(ComparePanel("Gradient saliency", None, html.escape(_message(exc, "saliency failed"))))
        self.compared.emit(Comparison(q.token, q.target, panels))

    @Slot(int, object, object)
    def explain(self, run_id: int, pixels: np.ndarray, settings: RunSettings) -> None:
        if self.is_cancelled(run_id):  # cancelled (or superseded) while waiting in the queue
            self.cancelled.emit(run_id, None)
            return
        if self.classifier is None:
            self.failed.emit(run_id, "no model is loaded")
            return
        try:
            from gradflip_desktop.core.explain import CANCELLED, explain

            if settings.device and settings.device != str(self.classifier.device):
                self.classifier.to(settings.device)
            options = settings.to_options()
            gen = explain(self.classifier, pixels, options, should_stop=lambda: self.is_cancelled(run_id))
            budget = int(options.max_steps)
            clf = self.classifier
            target = None if options.target is None else clf.find_class(options.target)
            # a group is resolved here; otherwise the explained class is the top class, which the
            # window already knows from classifying the image (explained stays empty)
            name, explained = clf.find_group(options.group) if options.group is not None else ("", [])
            self.started.emit(run_id, RunStart(list(explained), name, target, budget))
            batch: list[Step] = []
            last_preview = last_emit = 0.0
            while True:
                try:
                    step = next(gen)
                except StopIteration as done:
                    result = done.value
                    break
                now = time.perf_counter()
                preview = None
                # step.image() is only valid now, before the generator resumes
                if step.flipped or now - last_preview >= PREVIEW_INTERVAL_S:
                    preview = step.image()
                    last_preview = now
                batch.append(step)
                if preview is not None or now - last_emit >= BATCH_INTERVAL_S:
                    u8 = None if preview is None else display_uint8(preview)
                    f = self.preview_factor
                    reduced = {(f, f): box_downsample(u8, f)} if u8 is not None and f > 1 else None
                    self.step.emit(run_id, StepBatch(batch, preview, budget, step.phase, u8, reduced))
                    batch, last_emit = [], now
            if batch:
                self.step.emit(run_id, StepBatch(batch, None, budget, batch[-1].phase))
            from gradflip_desktop.core.report import describe_change

            outcome = RunOutcome(result, describe_change(result))
        except Exception as exc:  # noqa: BLE001
            self.failed.emit(run_id, _message(exc, "the explanation failed"))
            return
        if result.status == CANCELLED:
            self.cancelled.emit(run_id, outcome)
        else:
            self.finished.emit(run_id, outcome)


def _same_source(a, b) -> bool:
    """Is ``a`` the model ``b`` (so a load only moves it to another device)? A new ModelSpec object is always (re)loaded."""
    from gradflip_desktop.core.models import DEFAULT_MODEL

    if a is b and a is not None:
        return True
    if (a is None or isinstance(a, str)) and (b is None or isinstance(b, str)):
        ka, kb = (a or DEFAULT_MODEL).strip(), (b or DEFAULT_MODEL).strip()
        return ka == kb or ka.lower() == kb.lower() == DEFAULT_MODEL
    return False


def _source_key(source) -> str:
    from gradflip_desktop.core.model_files import ModelSpec
    from gradflip_desktop.core.models import DEFAULT_MODEL

    if isinstance(source, ModelSpec):
        return str(source.path)
    return (source or DEFAULT_MODEL).strip()


def _model_choices() -> list[tuple[str, str, str]]:
    try:
        from gradflip_desktop.core.model_files import model_choices

        return [(c.key, c.title, c.description) for c in model_choices()]
    except Exception:  # noqa: BLE001 - the picker then lists the default only
        from gradflip_desktop.core.models import DEFAULT_MODEL

        return [(DEFAULT_MODEL, "EfficientNet-Lite0 (ImageNet)", "default model, bundled")]


def _core_defaults() -> dict:
    from gradflip_desktop.core.explain import ExplainOptions

    return ExplainOptions().to_dict()


def _message(exc: BaseException, context: str) -> str:
    from gradflip_desktop.core.images import ImageError

    known = (ValueError, ImageError)
    try:
        from gradflip_desktop.core.models import ModelError

        known = known + (ModelError,)
    except Exception:  # noqa: BLE001 - torch itself may be what failed to import
        pass
    if isinstance(exc, known):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"{context}: a required package is missing or broken ({exc})"
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"{context}: {detail}"


class EngineHost(QObject):
    """Owns the engine thread; lives in the GUI thread. Send requests with the methods below."""

    _load = Signal(object, str)
    _classify = Signal(int, object)
    _explain = Signal(int, object, object)
    _key = Signal()
    _compare = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = Engine()
        self.thread = worker_thread(self.engine, "gradflip-engine")
        self._load.connect(self.engine.load_model)
        self._classify.connect(self.engine.classify)
        self._explain.connect(self.engine.explain)
        self._key.connect(self.engine.evaluate_key_pixels)
        self._compare.connect(self.engine.compare)
        self._next_id = 0
        self._running = False

    def start(self) -> None:
        if not self.thread.isRunning():
            self.thread.start()

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def load_model(self, source: "str | ModelSpec | None" = None, device: str = "cpu") -> None:
        """Queue a model load (cancel runs first: the load waits for the running one to end)."""
        self.start()
        self._load.emit(source, device)

    def compare(self, query: CompareQuery) -> None:
        self.start()
        self._compare.emit(query)

    def classify(self, token: int, pixels: np.ndarray) -> None:
        self.start()
        self._classify.emit(token, pixels)

    def explain(self, pixels: np.ndarray, settings: RunSettings) -> int:
        """Queue a run; returns its id. Cancel older runs first (the window does)."""
        self.start()
        run_id = self.new_id()
        self._explain.emit(run_id, pixels, settings)
        return run_id

    def query_key_pixels(self, query: KeyPixelQuery) -> None:
        self.start()
        self.engine.submit_key_query(query)
        self._key.emit()

    def cancel(self, run_id: int) -> None:
        self.engine.cancel(run_id)

    def set_preview_factor(self, factor: int) -> None:
        """The Adjusted panel's display factor: live previews come with a copy reduced by it."""
        self.engine.preview_factor = max(1, int(factor))

    def shutdown(self) -> None:
        """Cancel everything, let the thread finish its current step, and wait. Never terminates."""
        self.engine.cancel(1 << 62)
        if self.thread.isRunning():
            self.thread.quit()
            self.thread.wait()
