"""Hugging Face model folders (what ``save_pretrained`` writes): ``config.json`` + ``model.safetensors``
or ``pytorch_model.bin`` (+ ``preprocessor_config.json``), loaded with ``transformers``'
``AutoModelForImageClassification.from_pretrained(DIR, local_files_only=True)`` (optional extra ``hf``).

Labels come from the config's ``id2label``; input size, mean and std from ``preprocessor_config.json``;
the logits are taken from the output object. Never downloads, never runs code from the folder
(``trust_remote_code=False``); a pickled ``pytorch_model.bin`` is checked with the same weights-only
reader as every other weights file before transformers reads it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn

from ...errors import ModelError, json_loads, install_hint
from ..classifier import Preprocessing
from ..prep_fields import RESIZE_NOTE
from .safety import torch_reason, load_weights, refuse_pickled, short_reason

__all__ = ["HFLogits", "hf_folder_facts", "hf_folder_of", "hf_preprocessing", "is_hf_folder", "load_hf_folder"]

HF_EXTRA = install_hint("transformers safetensors", "hf")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
# PIL resampling codes used in preprocessor configs
_RESAMPLE = {2: "bilinear", 3: "bicubic"}


def is_hf_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


def hf_folder_of(path: Path) -> Path | None:
    """The model folder ``path`` is part of, when it is the folder's ``config.json`` or its weights file (a file
    dialog shows the files: ``model.safetensors`` alone was read as a torchvision/timm state dict, and refused as
    fitting no architecture); a weights file counts only next to a config that names a model (``model_type``,
    or timm's ``architecture``), not next to any training config. ``None`` otherwise."""
    if not is_hf_folder(path.parent) or path.name not in ("config.json", *WEIGHT_FILES):
        return None
    if path.name == "config.json":
        return path.parent
    from .sidecar import sidecar_path  # noqa: PLC0415

    if sidecar_path(path).is_file():  # the weights file's own settings (the Load model dialog saved them): the file
        return None
    try:
        cfg = json.loads((path.parent / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return path.parent if isinstance(cfg, dict) and ("model_type" in cfg or "architecture" in cfg) else None


class HFLogits(nn.Module):
    """A transformers image classifier as ``x -> logits`` (``N x C``). A multi-label one (``problem_type``
    ``multi_label_classification``: one sigmoid per class) gives ``log sigmoid(logits)``, so the softmax the
    classifier takes shows p / sum(p), as for a TorchScript or ONNX multi-label model."""

    def __init__(self, model: nn.Module, multi_label: bool = False, bgr: bool = False):
        super().__init__()
        self.model = model
        self.multi_label = multi_label
        self.bgr = bgr  # the preprocessor flips the channel order (MobileViT's): the network takes BGR

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(pixel_values=x.flip(1) if self.bgr else x).logits
        return torch.nn.functional.logsigmoid(logits) if self.multi_label else logits


def _transformers():
    try:
        import transformers  # noqa: PLC0415 - optional extra, imported on demand
    except ImportError:
        raise ModelError(f"Hugging Face model folders need the transformers package, which is not installed: {HF_EXTRA}") from None
    return transformers


def _read_json(path: Path) -> dict:
    try:
        data = json_loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {path.parent.name}/{path.name}: {short_reason(exc)}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path.parent.name}/{path.name} must hold a JSON object")
    return data


def _size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int):
        return value, value
    if isinstance(value, dict):
        if "height" in value and "width" in value:
            return int(value["height"]), int(value["width"])
        if "shortest_edge" in value:
            return int(value["shortest_edge"]), int(value["shortest_edge"])
    return None


def _crop_pct_crop(d: dict) -> tuple[int, int] | None:
    """(resize size, crop size) of a ``ConvNextImageProcessor`` config (``size: {"shortest_edge": S}``,
    ``crop_pct``): below 384 px it resizes the shorter side to ``int(S / crop_pct)`` and crops S × S from the
    centre (at 384 px and more it warps the image to S × S, as squash does); ``None`` for other configs."""
    size, crop_pct = d.get("size"), d.get("crop_pct")
    if not (isinstance(size, dict) and isinstance(size.get("shortest_edge"), int) and isinstance(crop_pct, (int, float))):
        return None
    edge = int(size["shortest_edge"])
    if edge >= 384 or not 0 < crop_pct < 1:
        return None
    return int(edge / crop_pct), edge


def hf_preprocessing(folder: Path, config: Any, notes: list[str]) -> tuple[Preprocessing, bool]:
    """Preprocessing from ``preprocessor_config.json`` (size, crop, mean, std, resample); the second value
    says whether the file was there. Without it: the config's image size, mean = std = 0.5."""
    channels = int(getattr(config, "num_channels", 3) or 3)
    image_size = getattr(config, "image_size", 224)
    size = _size(image_size) or (224, 224)
    pp = folder / "preprocessor_config.json"
    if not pp.is_file():
        pre = Preprocessing(input_size=size, mean=(0.5,) * channels, std=(0.5,) * channels, channels=1 if channels == 1 else 3)
        return pre, False
    d = _read_json(pp)
    resize = "squash"
    resize_size = None
    out_size = _size(d.get("size")) or size
    if d.get("do_center_crop") and _size(d.get("crop_size")):
        crop, given = _size(d.get("crop_size")), d.get("size")
        # {"height", "width"}: warped to that size, then cropped (DeiT's 256 x 256, then 224: a 3:2 photo keeps its
        # sides, squashed); {"shortest_edge"} or a number: the short side resized, then cropped
        warped = isinstance(given, dict) and "height" in given and out_size[0] == out_size[1]
        resize, resize_size, out_size = "squash-crop" if warped else "center-crop", int(min(out_size)), crop
    elif _crop_pct_crop(d) is not None:  # ConvNextImageProcessor (ConvNeXt, ResNet, ...): shortest edge / crop_pct, crop
        resize_size, edge = _crop_pct_crop(d)
        resize, out_size = "center-crop", (edge, edge)
    kind = str(d.get("image_processor_type") or d.get("feature_extractor_type") or "")
    # MobileViT's processor has no normalisation step (its saved image_mean is not used): pixels in [0, 1]
    if d.get("do_normalize", not kind.startswith("MobileViT")):
        mean = tuple(float(v) for v in (d.get("image_mean") or (0.5,) * channels))
        std = tuple(float(v) for v in (d.get("image_std") or (0.5,) * channels))
    else:
        mean, std = (0.0,) * channels, (1.0,) * channels
    if not d.get("do_rescale", True):
        notes.append("the model's preprocessor does not rescale pixels to [0, 1]; GradFlip feeds [0, 1] pixels anyway")
    if d.get("resample") is not None and d.get("resample") not in _RESAMPLE:  # Pillow's 0 nearest, 1 Lanczos, 4 box, 5 Hamming
        notes.append(f"the model's preprocessor resizes with Pillow's resample={d.get('resample')!r}{RESIZE_NOTE}")
    pre = Preprocessing(
        input_size=out_size,
        mean=mean,
        std=std,
        resize=resize,
        resize_size=resize_size,
        channels=1 if channels == 1 else 3,
        interpolation=_RESAMPLE.get(d.get("resample"), "bilinear"),
    )
    return pre, True


def _labels(config: Any, num_classes: int) -> list[str] | None:
    id2label = getattr(config, "id2label", None) or {}
    try:
        labels = [str(id2label[i] if i in id2label else id2label[str(i)]) for i in range(num_classes)]
    except KeyError:
        return None
    if all(re.fullmatch(r"LABEL_\d+", lab) for lab in labels):
        return None  # transformers' placeholder names: no labels were saved
    return labels


def hf_folder_facts(folder: Path) -> tuple[list[str] | None, Preprocessing | None]:
    """Labels and preprocessing of a Hugging Face folder from its JSON files alone (no transformers import),
    for the Load Model dialog; ``None`` for what cannot be read."""
    try:
        d = _read_json(folder / "config.json")
        config = SimpleNamespace(num_channels=d.get("num_channels", 3), image_size=d.get("image_size", 224),
                                 id2label={int(k): v for k, v in (d.get("id2label") or {}).items()})
        n = len(config.id2label)
        labels = _labels(config, n) if n else None
        pre, known = hf_preprocessing(folder, config, [])
    except (ModelError, TypeError, ValueError):
        return None, None
    return labels, pre if known else None


def _bin_shards(folder: Path) -> list[Path]:
    """The pickled shards that ``pytorch_model.bin.index.json`` names inside ``folder`` (transformers reads each
    with ``torch.load``; its refusal of a pickled object advised ``weights_only=False``)."""
    try:
        index = json_loads((folder / "pytorch_model.bin.index.json").read_text(encoding="utf-8"))
        names = set((index.get("weight_map") or {}).values())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError, TypeError):
        return []
    root = folder.resolve()
    shards = [(folder / str(n)).resolve() for n in sorted(names, key=str)]
    return [p for p in shards if p.is_relative_to(root) and p.is_file()]


def load_hf_folder(folder: Path, notes: list[str]) -> tuple[nn.Module, int, Preprocessing, bool, list[str] | None]:
    """(net returning logits, class count, preprocessing, whether the preprocessing was given, labels or None)."""
    weights = [folder / f for f in WEIGHT_FILES if (folder / f).is_file()]
    if not weights:
        raise ModelError(
            f"{folder.name} holds config.json but no weights (model.safetensors or pytorch_model.bin); "
            "save the model with save_pretrained"
        )
    transformers = _transformers()
    if not any(w.name.startswith("model.safetensors") for w in weights):
        if (folder / "pytorch_model.bin").is_file():
            load_weights(folder / "pytorch_model.bin", extras=False)  # refuses pickled objects before transformers reads it
        for shard in _bin_shards(folder):  # a sharded checkpoint: each shard's pickle is scanned (never unpickled)
            refuse_pickled(shard)
    hf_logging = transformers.utils.logging
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # no "Loading weights" progress bars or notices on the user's terminal
    hf_logging.disable_progress_bar()
    try:
        config = transformers.AutoConfig.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
        model, info = transformers.AutoModelForImageClassification.from_pretrained(
            str(folder), config=config, local_files_only=True, trust_remote_code=False, output_loading_info=True
        )
    except Exception as exc:  # noqa: BLE001 - ValueError (not an image classifier), OSError, ...
        # torch_reason: without torch's weights-only boilerplate, which advises weights_only=False (running the file's code)
        raise ModelError(f"cannot load the Hugging Face model in {folder.name}: {torch_reason(exc)}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    missing = sorted(info.get("missing_keys") or []) if isinstance(info, dict) else []
    if missing:  # a backbone without its head, or other weights missing: never explain randomly initialised layers
        shown = ", ".join(missing[:4]) + (", …" if len(missing) > 4 else "")
        raise ModelError(
            f"the weights in {folder.name} lack {len(missing)} tensors of the image classifier ({shown}): transformers "
            "would initialise them at random. Save the fine-tuned classifier (…ForImageClassification) with save_pretrained"
        )
    model = model.float().eval()
    num_classes = int(getattr(model.config, "num_labels", 0) or 0)
    if num_classes < 1:
        raise ModelError(f"the Hugging Face model in {folder.name} has no classification head (num_labels is 0)")
    pre, known = hf_preprocessing(folder, model.config, notes)
    multi = getattr(model.config, "problem_type", None) == "multi_label_classification" and num_classes > 1
    if multi:  # a softmax of independent sigmoid logits would rank fine but show shares that mean nothing
        notes.append(f"{folder.name} is a multi-label classifier (problem_type multi_label_classification): each "
                     "class has its own sigmoid probability p; log(p) is used as the class scores, so the shares "
                     "shown are p / sum(p)")
    pp = folder / "preprocessor_config.json"
    bgr = bool(pp.is_file() and _read_json(pp).get("do_flip_channel_order"))
    if bgr:
        notes.append(f"{folder.name} takes its channels in BGR order (its preprocessor flips them, as MobileViT's "
                     "does): fed so")
    return HFLogits(model, multi, bgr), num_classes, pre, known, _labels(model.config, num_classes)
