"""What the Load model dialog can prefill from a model file and its sidecar, without building the network."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ...errors import ModelError
from ..classifier import Preprocessing
from .checkpoint_arch import named_architecture
from .huggingface import hf_folder_facts
from .load import _resolve_model_path, detect_format
from .onnx import input_guess
from .safety import refuse_pickled
from .sidecar import read_sidecar, read_sidecar_raw
from .spec import ModelSpec, merge_preprocessing
from .timm import pretrained_guess
from .torchvision import pre_from_weights, tv_weights_for_file, weights_name

__all__ = ["ModelFileInfo", "inspect_model_file"]


@dataclass
class ModelFileInfo:
    """What the "Load model…" dialog can prefill before asking anything (cheap: no network built).

    ``needs_arch``: a state dict whose architecture is not known from its name or sidecar.
    ``runs_code``: TorchScript (ask for trust). ``weights``: torchvision weights name when recognised.
    ``guess``: where the file names no settings, those of its timm architecture (``pretrained_cfg``) or those an
    ONNX graph's input fixes (its height, width, channels; 8-bit input): shown, not forced (the loader finds the
    network's own, the same).
    """

    path: Path
    format: str
    arch: str | None = None
    weights: str | None = None
    needs_arch: bool = False
    runs_code: bool = False
    sidecar: ModelSpec | None = None
    preprocessing: Preprocessing | None = None
    labels: list[str] | None = None
    guess: Preprocessing | None = None


def inspect_model_file(path: str | os.PathLike, unsaved: ModelSpec | None = None) -> ModelFileInfo:
    """Format, recognised torchvision weights and sidecar of a model file, without building the model.

    ``unsaved``: the app's last attempt to load it this session, which failed and so was not saved: used
    before the sidecar (it is newer: a model loaded before has one), so that a retry starts from what was typed."""
    p = _resolve_model_path(path)
    spec = unsaved or read_sidecar(p)
    found = _detected(p)
    if spec is not None and spec is not unsaved and spec.format and found not in (None, spec.format):
        spec = None  # the file saved again in another form since: the dialog starts from the file (its Load saves anew)
    fmt = (spec.format if spec else None) or found or detect_format(p)  # (detect_format: why it cannot tell)
    info = ModelFileInfo(path=p, format=fmt, sidecar=spec, runs_code=fmt == "torchscript")
    if fmt == "state_dict":
        refuse_pickled(p)  # a whole pickled model is refused now, not after the Load model dialog's Load
        hit = tv_weights_for_file(p.name)
        if hit is not None:
            info.arch, w = hit
            info.weights = weights_name(w)
            info.preprocessing = pre_from_weights(w)
            info.labels = list(w.meta.get("categories") or [])
        elif spec and spec.arch:
            info.arch = spec.arch
        info.arch = info.arch or named_architecture(p, [])  # a timm training checkpoint's own (the dialog shows it)
        info.needs_arch = info.arch is None
        info.guess = None if info.preprocessing is not None else pretrained_guess(info.arch)
    elif fmt == "onnx":  # a 32 x 32 ONNX model's dialog showed 224 x 224 (the loader used 32 x 32)
        info.guess = input_guess(p)
    elif fmt == "huggingface":  # read the JSON files only: transformers is imported when the model loads
        info.labels, info.preprocessing = hf_folder_facts(p)
    if spec and spec.preprocessing is not None:
        info.preprocessing = spec.preprocessing if unsaved else _over_own(info, p)
    return info


def _detected(p: Path) -> str | None:
    """``p``'s format as its bytes tell it, None when they cannot (an ONNX file named ``.bin``: the sidecar says)."""
    try:
        return detect_format(p)
    except ModelError:
        return None


def _over_own(info: ModelFileInfo, p: Path) -> Preprocessing:
    """The sidecar's preprocessing over the file's own, as loading reads it: a sidecar naming only some settings
    (``{"input_size": [160, 160]}`` for a timm architecture) was filled with the generic defaults (ImageNet mean,
    squash, bilinear), which the dialog showed and saved, so the app computed otherwise than the command line."""
    raw = read_sidecar_raw(p)
    given = raw[0].get("preprocessing") if raw else None
    own = info.preprocessing or info.guess or Preprocessing()
    return merge_preprocessing(own, given if isinstance(given, Mapping) else None)
