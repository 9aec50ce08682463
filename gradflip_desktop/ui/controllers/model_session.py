"""The engine-thread side of the window's classifier: :class:`ModelSession` (the loaded classifier, touched only by
engine-thread tasks), the tasks that load, classify and inspect, and what they tell the window (:class:`ModelInfo`,
:class:`Classification`, :class:`ModelFileFacts`: plain Python, no torch objects). Qt-free; torch is imported inside
the tasks, so the window appears before torch is loaded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gradflip_desktop.core.models import Classifier
    from gradflip_desktop.core.models.files import ModelSpec


# The default model by device: a second window (or test) reuses it instead of reloading. Model files
# are not cached (the file or its settings may have changed since).
_CLASSIFIERS: dict[tuple[str, str], "Classifier"] = {}


@dataclass
class ModelInfo:
    """What the window needs to know about the loaded model (plain Python, no torch objects).

    ``source``: what was loaded: ``None`` (the default model), a picker key / file path, or the
    :class:`~gradflip_desktop.core.models.files.ModelSpec` the Load model dialog filled.
    ``choices``: the model picker's entries (key, title, description) from ``model_choices()``.
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
    warnings: list[str] = field(default_factory=list)
    preprocessing: object = None  # the classifier's Preprocessing (what the Load model dialog's sidecar saves)
    identity: dict = field(default_factory=dict)  # the records' "model" entry: its name, settings, weights' digest


@dataclass
class Classification:
    """Top-5 predictions and the full probability vector of one image."""

    top: list  # list[Prediction]
    probabilities: np.ndarray  # float32, length C


@dataclass
class ModelFileFacts:
    """What the Load model dialog is pre-filled with: ``inspect_model_file`` and the architectures."""

    info: object  # ModelFileInfo
    architectures: list[str]


class ModelSession:
    """The engine thread's classifier and where it came from. Only engine-thread tasks touch it."""

    def __init__(self) -> None:
        self.classifier: Classifier | None = None
        self.source: "str | ModelSpec | None" = None
        self.choices: list[tuple[str, str, str]] | None = None


# ---- tasks (engine thread) ------------------------------------------------------------------------------

def load_model_task(task, session: ModelSession, source: "str | ModelSpec | None", device: str) -> ModelInfo | None:
    """Load ``source`` (None/registry name/file path, or a ModelSpec) on ``device``. On failure the previous model
    stays loaded, and the exception's ``still_loaded`` describes it: the window may not know it (a load it replaced
    before it reported). Asking for the model that is loaded already on another device moves it (a device change);
    the first load falls back to the CPU when the remembered device is not there."""
    try:
        return _load_model(task, session, source, device)
    except Exception as exc:
        if session.classifier is not None:
            try:
                exc.still_loaded = _describe(session, 0.0)
            except Exception:  # noqa: BLE001 - an exception that takes no attributes: the window keeps its own
                pass
        raise


def _load_model(task, session: ModelSession, source, device: str) -> ModelInfo | None:
    from gradflip_desktop.core.errors import ModelError
    from gradflip_desktop.core.models import resolve_device

    t0 = time.perf_counter()
    device = device or "cpu"
    first = session.classifier is None
    try:
        dev = resolve_device(device)
    except ModelError as exc:
        if not first:
            raise
        dev = resolve_device("cpu")  # a remembered device that vanished: the CPU, and say so
        notes = [f"{exc}; using the CPU instead"]
    else:
        notes = []
    same = session.classifier is not None and _same_source(source, session.source)
    if same and not (source is None or isinstance(source, str)):
        clf = session.classifier.to(dev)  # a device change of a model file: move it, do not re-read it
    else:
        clf = _load(source, dev)
    clf.warnings.extend(n for n in notes if n not in clf.warnings)
    if task.cancelled and clf is not session.classifier:
        return None  # replaced by a newer load: the window never hears of it, so the engine does not keep it either
    session.classifier = clf
    session.source = source
    return _describe(session, time.perf_counter() - t0)


def _describe(session: ModelSession, seconds: float) -> ModelInfo:
    from gradflip_desktop.core.dataset.job import model_description
    from gradflip_desktop.core.models import available_devices, model_versions

    clf, source = session.classifier, session.source
    if session.choices is None:
        session.choices = _model_choices()
    return ModelInfo(
        name=clf.name,
        labels=list(clf.labels),
        groups={k: list(v) for k, v in clf.groups.items()},
        devices=available_devices(),
        device=str(clf.device),
        versions=model_versions(),
        seconds=seconds,
        source=source,
        key=_source_key(source),
        choices=list(session.choices),
        warnings=list(clf.warnings),
        preprocessing=replace(clf.preprocessing),
        identity=model_description(clf) or {},  # as a result's record names it (folder_model.py compares)
    )


def classify_task(task, session: ModelSession, pixels: np.ndarray) -> Classification:
    if session.classifier is None:
        raise ValueError("no model is loaded")
    probs = session.classifier.probabilities(pixels)
    if not np.all(np.isfinite(probs)):
        raise ValueError("the model produced non-finite outputs (NaN or infinity) for this image")
    return Classification(session.classifier.top(probs, 5), probs.astype(np.float32))


def inspect_model_task(task, path: str, unsaved=None) -> ModelFileFacts:
    """Read a model file's format, recognised weights and sidecar (no network is built); ``unsaved``: the
    settings of this session's failed attempt, used where there is no sidecar. Background thread."""
    from gradflip_desktop.core.models.files import TIMM_PREFIX, inspect_model_file, timm_architectures, torchvision_architectures

    info = inspect_model_file(path, unsaved)
    if info.format != "state_dict":
        return ModelFileFacts(info, [])
    return ModelFileFacts(info, torchvision_architectures() + [TIMM_PREFIX + n for n in timm_architectures()])


def _load(source: "str | ModelSpec | None", dev) -> "Classifier":
    from gradflip_desktop.core.models import DEFAULT_MODEL, load_classifier
    from gradflip_desktop.core.models.files import ModelSpec, load_model_spec

    if isinstance(source, ModelSpec):
        return load_model_spec(source, dev)
    key = (source or DEFAULT_MODEL).strip()
    if key.lower() == DEFAULT_MODEL:
        cached = _CLASSIFIERS.get((DEFAULT_MODEL, str(dev)))
        if cached is None:
            cached = _CLASSIFIERS[(DEFAULT_MODEL, str(dev))] = load_classifier(None, device=dev)
        return cached
    return load_classifier(key, device=dev)


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
    from gradflip_desktop.core.models import DEFAULT_MODEL
    from gradflip_desktop.core.models.files import ModelSpec

    if isinstance(source, ModelSpec):
        return str(source.path)
    return (source or DEFAULT_MODEL).strip()


def _model_choices() -> list[tuple[str, str, str]]:
    try:
        from gradflip_desktop.core.models.registry import model_choices
        return [(c.key, c.title, c.description) for c in model_choices()]
    except Exception:  # noqa: BLE001 - the picker then lists the default only
        from gradflip_desktop.core.models import DEFAULT_MODEL
        return [(DEFAULT_MODEL, "EfficientNet-Lite0 (ImageNet)", "default model, bundled")]
