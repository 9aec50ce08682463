"""What a model file needs besides its weights: :class:`ModelSpec` (format, architecture, labels,
preprocessing, class groups, name) and the parsing of those settings from JSON-like values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from ...errors import ModelError
from ..classifier import Preprocessing
from ..prep_fields import CROPS
from ..labels import BackwardsRange, class_indices, parse_ranges

__all__ = ["FORMATS", "SIDECAR_KIND", "SIDECAR_SUFFIX", "SIDECAR_VERSION", "ModelSpec", "merge_preprocessing", "parse_groups",
           "scaled_resize_size", "whole_preprocessing_note"]

FORMATS = ("state_dict", "torchscript", "onnx", "huggingface")
SIDECAR_SUFFIX = ".gradflip.json"
SIDECAR_KIND = "gradflip-model"
SIDECAR_VERSION = 1


@dataclass
class ModelSpec:
    """Everything needed to load a model file without asking; what the "Load model…" dialog fills.

    ``path``: the model file. ``format``: one of :data:`FORMATS` or ``None`` (detect).
    ``arch``: torchvision architecture name for state dicts (``"resnet18"``), ``None`` to detect.
    ``labels``: class names (index order), or ``labels_path``: a text file (one per line) or JSON file.
    ``preprocessing``: ``None`` keeps what the file/torchvision metadata says (else defaults).
    ``groups``: class groups, name → class indices. ``name``: display name (default: from the file).
    It round-trips through the sidecar JSON (:func:`write_sidecar` / :func:`read_sidecar`).
    """

    path: str
    format: str | None = None
    arch: str | None = None
    labels: list[str] | None = None
    labels_path: str | None = None
    preprocessing: Preprocessing | None = None
    groups: dict[str, list[int]] = field(default_factory=dict)
    name: str | None = None

    def to_dict(self, base_dir: Path | None = None) -> dict:
        """Sidecar JSON object. ``labels_path`` is written relative to ``base_dir`` when given."""
        d: dict[str, Any] = {"kind": SIDECAR_KIND, "version": SIDECAR_VERSION}
        if self.name:
            d["name"] = self.name
        if self.format:
            d["format"] = self.format
        if self.arch:
            d["arch"] = self.arch
        if self.labels is not None:
            d["labels"] = list(self.labels)
        elif self.labels_path:
            lp = Path(self.labels_path)
            if base_dir is not None and lp.is_absolute():
                try:
                    lp = Path(os.path.relpath(lp, base_dir))
                except ValueError:  # other drive on Windows
                    pass
            d["labels_file"] = lp.as_posix()
        if self.preprocessing is not None:
            d["preprocessing"] = self.preprocessing.to_dict()
        if self.groups:
            d["groups"] = {k: sorted({int(i) for i in v}) for k, v in self.groups.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping, path: str | os.PathLike, base_dir: Path | None = None) -> "ModelSpec":
        """Inverse of :meth:`to_dict`; a relative ``labels_file`` is resolved against ``base_dir``."""
        if not isinstance(d, Mapping):
            raise ModelError("model settings must be a JSON object")
        for key in ("name", "arch", "labels_file"):
            if d.get(key) is not None and not isinstance(d[key], str):
                raise ModelError(f"'{key}' in the model settings must be a string, not {type(d[key]).__name__}")
        fmt = d.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise ModelError(f"unknown model format {fmt!r} in the model settings (use {', '.join(FORMATS)})")
        labels = d.get("labels")
        labels_path = None
        if isinstance(labels, str):  # "labels": "classes.txt" is accepted as a file name
            labels_path, labels = labels, None
        elif labels is not None:
            if not isinstance(labels, list) or not all(isinstance(x, (str, int, float)) for x in labels):
                raise ModelError("'labels' in the model settings must be a list of strings")
            labels = [str(x) for x in labels]
        if d.get("labels_file"):
            labels_path = str(d["labels_file"])
        if labels_path is not None and base_dir is not None and not Path(labels_path).is_absolute():
            labels_path = str(base_dir / labels_path)
        pre = d.get("preprocessing")
        return cls(
            path=str(path),
            format=fmt,
            arch=d.get("arch") or None,
            labels=labels,
            labels_path=labels_path,
            preprocessing=None if pre is None else merge_preprocessing(Preprocessing(), pre),
            groups=parse_groups(d.get("groups") or {}),
            name=d.get("name") or None,
        )


def _checked_pre_dict(pre: Any) -> dict:
    if not isinstance(pre, Mapping):
        raise ModelError("'preprocessing' in the model settings must be a JSON object")
    unknown = set(pre) - set(Preprocessing().to_dict())
    if unknown:
        raise ModelError(f"unknown preprocessing settings: {', '.join(sorted(unknown))}")
    return dict(pre)


def parse_groups(groups: Any) -> dict[str, list[int]]:
    """``{"cat": [0, 1], "vehicle": "3-5,9"}`` → name → sorted indices."""
    if not isinstance(groups, Mapping):
        raise ModelError("class groups must be a mapping of name → class indices")
    out: dict[str, list[int]] = {}
    for name, idx in groups.items():
        try:
            values = parse_ranges(idx) if isinstance(idx, str) else class_indices(idx)  # [true] was class 1
        except BackwardsRange as exc:  # "5-3": say so, it is a valid way to write a group otherwise
            raise ModelError(f"class group {name!r}: {exc}") from None
        except (TypeError, ValueError, ModelError):
            raise ModelError(f"class group {name!r}: {idx!r} is not a list of class indices") from None
        if not values:
            raise ModelError(f"class group {name!r} is empty")
        out[str(name)] = values
    return out


def checked_groups(groups: dict[str, list[int]], classes: int, name: str) -> dict[str, list[int]]:
    """``groups``, once every class they list is one of the model's ``classes`` (``name``: the model, for the error)."""
    for gname, idx in groups.items():
        bad = [i for i in idx if not 0 <= i < classes]
        if bad:
            raise ModelError(f"class group {gname!r} lists class {bad[0]}, but {name} has only {classes} classes "
                             f"(0–{classes - 1})")
    return groups


def merge_preprocessing(base: Preprocessing, over: Preprocessing | Mapping | None) -> Preprocessing:
    if over is None:
        return base
    if isinstance(over, Preprocessing):
        return over
    over = {k: v for k, v in _checked_pre_dict(over).items() if v is not None}
    d = base.to_dict()
    d.update(over)
    try:
        channels = int(d.get("channels", 3))
    except (TypeError, ValueError):  # "two": said in words, as Preprocessing.from_dict says the other settings
        raise ModelError(f"invalid preprocessing setting channels: {d.get('channels')!r} is not a whole number") from None
    for key in ("mean", "std"):  # switching to 1 channel: one value (the average) unless given
        if key not in over and channels == 1 and len(d[key]) != 1:
            d[key] = [sum(d[key]) / len(d[key])]
    pre = Preprocessing.from_dict(d)
    if "resize_size" not in over:  # another input size keeps the crop's share of the short side, not its pixels
        pre = replace(pre, resize_size=scaled_resize_size(base, pre.input_size) if pre.resize in CROPS else None)
    return pre


def whole_preprocessing_note(own: Preprocessing, given: Preprocessing | Mapping | None, name: str) -> list[str]:
    """A note when a whole :class:`Preprocessing` given to load ``name`` replaced its own settings (``own``: the
    file's, its sidecar's) by the dataclass's defaults: ``Preprocessing(input_size=(64, 64))`` also says ImageNet's
    mean and std, squash and bilinear, so a timm model's centre crop and a sidecar's mean and std went without a
    word, while ``--input-size 64`` (a mapping, ``{"input_size": [64, 64]}``) changes the size alone."""
    if not isinstance(given, Preprocessing):
        return []

    def shown(pre: Preprocessing) -> dict:
        d = pre.to_dict()
        d["resize"] = f"{pre.resize} {pre.resize_size}" if pre.resize in CROPS and pre.resize_size else pre.resize
        return d

    # the defaults for the channels given: Preprocessing(channels=1)'s mean and std are ImageNet's averaged
    default, mine, theirs = shown(Preprocessing(channels=given.channels)), shown(own), shown(given)
    lost = [f"{k} {mine[k]} → {theirs[k]}" for k in ("mean", "std", "resize", "channels", "interpolation", "antialias")
            if theirs[k] == default[k] and mine[k] != theirs[k]]
    if not lost:
        return []
    return [f"preprocessing=Preprocessing(...) gives every setting: its defaults replaced {name}'s own "
            f"({'; '.join(lost)}); pass a dict, e.g. preprocessing={{'input_size': {list(given.input_size)}}}, "
            "to change only the settings it names"]


def scaled_resize_size(base: Preprocessing, input_size: tuple[int, int]) -> int | None:
    """``base``'s resize size for a centre crop of ``input_size``: the same share of the short side (timm's
    ``crop_pct``, torchvision's 224 of 256). Kept in pixels, ``--input-size 160`` on a model that resizes to 256
    showed the network the middle 62 % of the photo instead of 87.5 %, and 320 made the crop larger than the
    resized photo (the resize then squashed the photo's aspect)."""
    if base.resize_size is None or tuple(input_size) == tuple(base.input_size):
        return base.resize_size
    return max(1, round(base.resize_size * max(input_size) / max(base.input_size)))
