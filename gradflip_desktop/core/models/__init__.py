"""Classifiers: pixel-space models with labels and class groups, the built-in default model, devices,
and model files (:mod:`.files`).

Layout (dependencies point downwards only; no import cycles):

    registry.py        DEFAULT_MODEL, load_default_model, load_classifier, model_choices, model_versions
    files/             model files: ModelSpec, sidecar, safety (pickle scan), torchvision, TorchScript, ONNX, load
    efficientnet_lite.py  the default model's network
    network.py         classifier_from_module: an in-memory nn.Module (a notebook's) as a Classifier
    classifier.py      Preprocessing, PixelSpaceModel, Prediction, Classifier
    weights_file.py    the record's {file, file_bytes, file_sha256} of a weights file or a Hugging Face folder
    devices.py         resolve_device, available_devices, full_float32 (no TF32 on CUDA)
    labels.py          ImageNet labels and groups, index ranges, labels files (torch-free)

Errors are :class:`gradflip_desktop.core.errors.ModelError` (and its :class:`ModelSettingError`).
"""

from __future__ import annotations

from .classifier import Classifier, PixelSpaceModel, Prediction, Preprocessing
from .devices import available_devices, resolve_device
from .labels import IMAGENET_GROUPS, format_ranges, imagenet_labels, parse_ranges, read_labels
from .network import classifier_from_module
from .registry import DEFAULT_MODEL, load_classifier, load_default_model, model_versions

__all__ = [
    "DEFAULT_MODEL",
    "IMAGENET_GROUPS",
    "Classifier",
    "PixelSpaceModel",
    "Prediction",
    "Preprocessing",
    "available_devices",
    "classifier_from_module",
    "format_ranges",
    "imagenet_labels",
    "load_classifier",
    "load_default_model",
    "model_versions",
    "parse_ranges",
    "read_labels",
    "resolve_device",
]
