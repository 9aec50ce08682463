"""Classifiers as pixel-space modules: preprocessing inside the graph, labels and class groups with them.

A :class:`Classifier` takes images as float RGB in [0, 1] with shape ``N x 3 x H x W`` at any size and
returns logits ``N x C``. Resizing to the network's input size and mean/std normalisation happen inside
the differentiable module, so gradients reach the user's own pixels at their working resolution.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelError, PixelsError
from ..images.pixels import ROUNDING
from .devices import full_float32, resolve_device
from .input_notes import ENLARGED, ENLARGED_START, SQUASHED, SQUASHED_START
from .labels import BackwardsRange, class_indices, format_ranges, parse_ranges
from .prep_fields import CROPS, checked_fields
from .weights_file import weights_file

__all__ = ["Classifier", "PixelSpaceModel", "Prediction", "Preprocessing"]


@dataclass(frozen=True)
class Preprocessing:
    """How pixels in [0, 1] become network input.

    ``resize``: ``"squash"`` resizes the whole image to ``input_size`` (aspect not kept);
    ``"center-crop"`` resizes the shorter side to ``resize_size`` then crops ``input_size`` from the centre;
    ``"squash-crop"`` resizes the whole image to ``resize_size`` x ``resize_size`` (aspect not kept), then crops
    ``input_size`` from the centre (Hugging Face's DeiT processors: 256 x 256, then 224 x 224).
    ``channels``: 3 (RGB) or 1 (luma, ITU-R BT.601 weights).
    """

    input_size: tuple[int, int] = (224, 224)  # (height, width)
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    resize: str = "squash"
    resize_size: int | None = None
    channels: int = 3
    interpolation: str = "bilinear"
    antialias: bool = True

    def __post_init__(self) -> None:  # one ModelError per wrong value; lists, numpy and torch values made tuples
        for key, value in checked_fields(self).items():
            object.__setattr__(self, key, value)

    def crop(self, h: int, w: int) -> tuple[int, int, int, int, int, int]:
        """Where ``"center-crop"`` takes its input from an h x w image: (resized h, resized w, top, left) of the
        crop in the resized image, and the crop's (height, width). The forward pass and :meth:`visible_box` share it."""
        ih, iw = self.input_size
        short = self.resize_size or max(self.input_size)
        if self.resize == "squash-crop":
            nh, nw = max(ih, short), max(iw, short)
        else:
            scale = short / min(h, w)
            nh, nw = max(ih, round(h * scale)), max(iw, round(w * scale))
        return nh, nw, (nh - ih) // 2, (nw - iw) // 2, ih, iw

    def visible_box(self, h: int, w: int) -> tuple[int, int, int, int] | None:
        """The part of an h x w image the network sees, as (top, left, bottom, right) pixel bounds (bottom and
        right exclusive; a pixel the crop's edge cuts counts as seen), or None when it sees the whole image
        (``"squash"``, or a crop that takes it all). A centre crop of a wide photo leaves its sides unseen: the
        importance map is zero there (it showed bright areas the model never saw)."""
        if self.resize not in CROPS:
            return None
        nh, nw = self.crop(h, w)[:2]
        # the resize's kernel reaches past the crop's edge: one pixel (bilinear, bicubic's two) when enlarging,
        # one output pixel's width (h / nh input pixels) more when an antialiased resize shrinks
        reach_y = 2 + (math.ceil(h / nh) if nh < h and self.antialias else 0)
        reach_x = 2 + (math.ceil(w / nw) if nw < w and self.antialias else 0)
        top, left, bottom, right = self.crop_bounds(h, w)
        box = (max(0, math.floor(top) - reach_y), max(0, math.floor(left) - reach_x),
               min(h, math.ceil(bottom) + reach_y), min(w, math.ceil(right) + reach_x))
        return None if box == (0, 0, h, w) else box

    def crop_bounds(self, h: int, w: int) -> tuple[float, float, float, float]:
        """Where the centre crop lies in an h x w image, in its pixels: (top, left, bottom, right), fractional (the
        network's input covers exactly this; :meth:`visible_box` widens it by the resize's reach, Grad-CAM's grid is
        placed on it)."""
        nh, nw, top, left, ih, iw = self.crop(h, w)
        return top * h / nh, left * w / nw, (top + ih) * h / nh, (left + iw) * w / nw

    def enlarged_note(self, h: int, w: int) -> str | None:
        """A note when the network's input enlarges an h x w image 4x or more along a side (a 10 x 10 icon, a
        300 x 1 line): it sees the photo's pixels as blocks, and its answer says little about what they show."""
        ih, iw = self.input_size
        factor = self.enlargement(h, w)
        if factor < ENLARGED:
            return None
        return (f"{ENLARGED_START}{factor:.0f}× along a side to see its {iw}×{ih} input: each pixel becomes a "
                "block, so its answer says little (a larger photo is better)")

    def squashed_note(self, h: int, w: int) -> str | None:
        """A note when the ``"squash"`` resize (or ``"squash-crop"``'s) changes an h x w image's shape 2x or more (a
        panorama into a square input): the network sees its shapes that much narrower (or flatter), and may answer
        for that."""
        if self.resize == "center-crop":
            return None
        factor = self.squash(h, w)
        much = max(factor, 1 / factor)
        if much < SQUASHED:
            return None
        times = f"{much:.{0 if much >= 10 else 1}f}".removesuffix(".0")
        return (f"{SQUASHED_START}{times}× {'narrower' if factor > 1 else 'flatter'} to fit its "
                f"{self.input_size[1]}×{self.input_size[0]} input: crop the photo to the part that matters")

    def squash(self, h: int, w: int) -> float:
        """How much the network's input narrows an h x w image's shapes (> 1; < 1: flattens); 1 keeps its shape."""
        ih, iw = self.crop(h, w)[:2] if self.resize == "squash-crop" else self.input_size
        return (w / max(1, h)) / (iw / ih)

    def enlargement(self, h: int, w: int) -> float:
        """How much the network's input enlarges an h x w image along its most enlarged side (< 1: reduces)."""
        ih, iw = self.input_size
        nh, nw = self.crop(h, w)[:2] if self.resize in CROPS else (ih, iw)
        return max(nh / max(1, h), nw / max(1, w))

    def to_dict(self) -> dict:
        return {
            "input_size": list(self.input_size),
            "mean": list(self.mean),
            "std": list(self.std),
            "resize": self.resize,
            "resize_size": self.resize_size,
            "channels": self.channels,
            "interpolation": self.interpolation,
            "antialias": self.antialias,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocessing":
        """A settings file's preprocessing; a value of the wrong kind is named with the form it needs (it read
        "invalid literal for int() with base 10: 'a'" for ``"input_size": "abc"``)."""
        def read(key, default, convert, form):
            value = d.get(key, default)
            try:  # true is 1 to Python: "input_size": true was a 1×1 input, "channels": true one channel
                if convert is not flag and any(isinstance(v, bool) for v in (value if isinstance(value, list) else [value])):
                    raise TypeError
                return convert(value)
            except (TypeError, ValueError, IndexError, KeyError, OverflowError):
                raise ModelError(f"invalid preprocessing setting {key}: {value!r} is not {form}") from None

        def whole(v):  # "64" is read as 64, but 224.5 was 224: int("224.5") raises ValueError
            return int(v) if not isinstance(v, float) or v.is_integer() else int(str(v))

        def size(v):
            v = (v, v) if isinstance(v, (int, float)) else v
            if isinstance(v, str) or len(v) != 2:
                raise ValueError
            return whole(v[0]), whole(v[1])

        def floats(v):
            return tuple(float(x) for x in ([v] if isinstance(v, (int, float)) else v))

        def flag(v):  # "false" as text was True; 2 is not a flag (true and false are 1 and 0 to a dict)
            return {"true": True, "false": False}[v.strip().lower()] if isinstance(v, str) else {0: False, 1: True}[v]

        return cls(
            input_size=read("input_size", (224, 224), size, "a whole number or [height, width]"),
            mean=read("mean", cls.mean, floats, "a number or a list of numbers"),
            std=read("std", cls.std, floats, "a number or a list of numbers"),
            resize=str(d.get("resize", "squash")),
            resize_size=read("resize_size", None, lambda v: None if v is None else whole(v), "a whole number"),
            channels=read("channels", 3, whole, "a whole number"),
            interpolation=str(d.get("interpolation", "bilinear")),
            antialias=read("antialias", True, flag, "true or false"),
        )


class PixelSpaceModel(nn.Module):
    """Wraps a network so that it takes ``N x 3 x H x W`` pixels in [0, 1] at any size.

    Resize, channel conversion and normalisation are part of the differentiable graph.
    The network's output is unwrapped (first item of a tuple/list, ``"logits"`` of a dict or a Hugging
    Face output object) and must then have shape ``[N, C]``; anything else is a :class:`ModelError`.
    A network with a single output logit (binary classifier) is presented as two classes,
    logits ``[0, z]``, so that softmax gives ``[1 - sigmoid(z), sigmoid(z)]``. A network that outputs
    probabilities (``probabilities=True``: it ends in softmax) gives their logarithm, whose softmax is them;
    a single output that is a sigmoid's probability p (``single_logit`` and ``probabilities``) gives
    ``[log(1 - p), log p]``.
    """

    def __init__(self, net: nn.Module, pre: Preprocessing, single_logit: bool = False, probabilities: bool = False):
        super().__init__()
        self.net = net
        self.pre = pre
        self.single_logit = single_logit
        self.probabilities = probabilities  # the network ends in softmax: log-probabilities are its logits
        self.register_buffer("mean", torch.tensor(pre.mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(pre.std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.pre
        mode = pre.interpolation if pre.interpolation in ("bilinear", "bicubic") else "bilinear"
        h, w = x.shape[-2:]
        if pre.resize in CROPS:
            nh, nw, top, left, ih, iw = pre.crop(h, w)
            if (nh, nw) != (h, w):
                x = F.interpolate(x, size=(nh, nw), mode=mode, antialias=pre.antialias, align_corners=False)
            x = x[..., top : top + ih, left : left + iw]
        elif (h, w) != tuple(pre.input_size):
            x = F.interpolate(x, size=pre.input_size, mode=mode, antialias=pre.antialias, align_corners=False)
        if pre.channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
            x = (x * weights).sum(1, keepdim=True)
        x = (x - self.mean) / self.std
        # in the N x C x H x W layout networks are written for: an image tensor is a permuted H x W x 3 array, and a
        # network that flattens with .view (the PyTorch tutorials' x.view(-1, 16 * 5 * 5)) fails on other strides
        out = self.net(x if getattr(self.net, "takes_any_layout", False) else x.contiguous())
        if isinstance(out, (tuple, list)):
            out = out[0]
        if isinstance(out, dict):  # also Hugging Face ModelOutput (an OrderedDict): its "logits"
            if "logits" not in out and len(out) != 1:  # never guess: the first entry may be features
                keys = ", ".join(map(str, list(out)[:6])) + (", …" if len(out) > 6 else "")
                raise ModelError(f"the model returned a dict with the entries {keys} and none named 'logits'; "
                                 "GradFlip needs class scores of shape [N, C] (return them, or name them 'logits')")
            out = out["logits"] if "logits" in out else next(iter(out.values()))
        elif not isinstance(out, torch.Tensor) and isinstance(getattr(out, "logits", None), torch.Tensor):
            out = out.logits
        if not isinstance(out, torch.Tensor):
            raise ModelError(f"the model returned {type(out).__name__}, not a tensor of logits")
        if out.ndim == 1 and out.shape[0] == x.shape[0] and out.shape[0] > 0:  # one score per image, squeezed
            out = out[:, None]  # (a binary model's logit, `.squeeze(1)`): the [N, 1] it stands for
        if out.ndim > 2 and out.shape[0] == x.shape[0] and all(d == 1 for d in out.shape[2:]):
            out = out.flatten(1)  # a convolutional head's [N, C, 1, 1] (SqueezeNet, Caffe2 exports): class scores
        if out.ndim != 2:  # e.g. a segmentation map (1, 10, 7, 7): never flattened into "490 classes"
            raise ModelError(
                f"the model returned shape {tuple(out.shape)}; GradFlip needs class scores of shape [N, C]"
            )
        if self.probabilities and self.single_logit:  # a sigmoid's p(class 1): [log(1 - p), log p]
            tiny = torch.finfo(out.dtype).tiny
            return torch.cat([torch.log((1.0 - out).clamp_min(tiny)), torch.log(out.clamp_min(tiny))], dim=1)
        if self.probabilities:
            out = torch.log(out.clamp_min(torch.finfo(out.dtype).tiny))
        if self.single_logit:
            out = torch.cat([torch.zeros_like(out), out], dim=1)
        return out


@dataclass(frozen=True)
class Prediction:
    """One class with its probability."""

    index: int
    label: str
    probability: float

    def to_dict(self) -> dict:
        return {"index": self.index, "label": self.label, "probability": self.probability}


def repeated_labels(labels: list[str]) -> dict[str, list[int]]:
    """Labels given to more than one class (a labels file may name two classes alike) → their indices."""
    where: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        where.setdefault(lab, []).append(i)
    return {lab: idx for lab, idx in where.items() if len(idx) > 1}


def _indices(idx: list[int], most: int = 6) -> str:
    """"0, 1, 2" or, for many, "0, 1, 2, 3, 4, … 999 (1000 classes)": one label on 1,000 classes was a 5,000-character
    line."""
    if len(idx) <= most:
        return ", ".join(map(str, idx))
    return f"{', '.join(map(str, idx[:most - 1]))}, … {idx[-1]} ({len(idx)} classes)"


@dataclass
class Classifier:
    """A pixel-space classifier with its labels and class groups.

    ``module(x)`` takes ``N x 3 x H x W`` float pixels in [0, 1] (any H, W) and returns ``N x C`` logits.
    """

    module: nn.Module = field(repr=False)  # one line in a notebook: the network's tree and 1,000 labels were 24,000
    labels: list[str] = field(repr=False)  # characters; the name, source, preprocessing and device say which model it is
    name: str
    groups: dict[str, list[int]] = field(default_factory=dict, repr=False)
    source: str = ""
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the weights file, read now: the record names the weights that were loaded (a model's name can be your own;
        # weights trained again and saved over the file keep its name and size, and --resume kept their old sets)
        self.weights_file = weights_file(self.source)
        # a network left in train() mode gives another answer on every call (dropout, batch statistics)
        if any(m.training for m in self.module.modules() if m is not self.module):
            self.warnings.append("the model was in training mode: switched to evaluation mode (no dropout, batch-norm "
                                 "running statistics), as for inference")
        self.module.eval()
        # a label with a lone surrogate (a JSON labels file's "\ud800", a checkpoint's) is not text: `classify` stopped
        # mid-list ("'utf-8' codec can't encode character '\ud800'", exit 2; with --json nothing printed) while the
        # record wrote U+FFFD. The label has U+FFFD there, in every output alike
        # so has a control character (a labels file's, a checkpoint's, a Hugging Face config's "\x1b]0;…\x07"): printed
        # as it stood, it drove the terminal of `gradflip classify` (colours, the window's title)
        self.labels = [re.sub("[\ud800-\udfff\x00-\x1f\x7f-\x9f]", "\ufffd", lab) if isinstance(lab, str) else lab
                       for lab in self.labels]
        repeated = repeated_labels(self.labels)
        if repeated:  # a flip between two of them would read "“a” flipped to “a”"
            shown = "; ".join(f"{lab!r}: classes {_indices(idx)}" for lab, idx in list(repeated.items())[:5])
            more = f"; {len(repeated) - 5} more" if len(repeated) > 5 else ""
            self.warnings.append(f"some labels name more than one class ({shown}{more}): a flip between two of them names them "
                                 "by index too, and #N picks a class by its index")

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def settings(self) -> dict:
        """What besides the weights decides this classifier's answers, as plain types (the record's ``model``
        entry; ``--resume`` keeps a result set only when these match): classes, input size [h, w], channels,
        mean, std, resize rule, the resize's interpolation (antialias) and a digest of the labels."""
        pre = self.preprocessing
        return {
            "classes": self.num_classes,
            "input_size": [int(v) for v in pre.input_size],
            "channels": int(pre.channels),
            "mean": [round(float(v), 6) for v in pre.mean],
            "std": [round(float(v), 6) for v in pre.std],
            "resize": str(pre.resize) + ("" if pre.resize_size is None else f" {int(pre.resize_size)}"),
            "interpolation": (pre.interpolation if pre.interpolation == "bicubic" else "bilinear") + ("" if pre.antialias else ", no antialias"),
            "labels_sha256": hashlib.sha256("\n".join(self.labels).encode("utf-8", "replace")).hexdigest()[:16],
            **self.weights_file,
        }

    def to(self, device: str | torch.device) -> "Classifier":
        """Move the model to ``device`` (:func:`~.devices.resolve_device`); on CUDA this turns TF32 off in cuDNN
        for the whole process (:func:`~.devices.full_float32`)."""
        dev = resolve_device(device)
        full_float32(dev)
        self.module.to(dev)
        self.device = dev
        return self

    def label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else f"class {index}"

    def image_tensor(self, pixels: np.ndarray) -> torch.Tensor:
        """H x W x 3 float32 [0, 1] numpy image -> 1 x 3 x H x W tensor on this classifier's device.

        Anything else is one readable PixelsError (a ValueError): a grayscale H x W array (was torch's
        "permute(sparse_coo)"), and 8-bit values (uint8, or floats up to 255), which the model read silently as a very
        bright photo and answered with another class."""
        raw = np.asarray(pixels)
        if raw.ndim != 3 or raw.shape[2] != 3:
            raise PixelsError(f"pixels must be H x W x 3 (RGB), got shape {raw.shape}"
                             + (": np.dstack([a] * 3) makes RGB of a grayscale array" if raw.ndim == 2 else ""))
        if raw.shape[0] == 0 or raw.shape[1] == 0:  # was torch's "Input and output sizes should be greater than 0"
            raise PixelsError(f"pixels must be H x W x 3 with at least one pixel, got shape {raw.shape}")
        if raw.dtype.kind not in "biuf":  # complex: numpy dropped the imaginary part with a warning
            raise PixelsError(f"pixels must be floats in [0, 1], got {raw.dtype} values")
        a = np.ascontiguousarray(raw, dtype=np.float32)
        low, high = float(a.min()), float(a.max())  # NaN and infinity reach these: one pass each, not three
        if not (np.isfinite(low) and np.isfinite(high)):  # was "the model produced non-finite outputs", blaming the model
            raise PixelsError("pixels must be finite floats in [0, 1], got NaN or infinity")
        if raw.dtype.kind in "iu" or high > 1.0 + ROUNDING:
            values = f"{raw.dtype} values up to {high:g}" if high > 1.0 else f"{raw.dtype} values"  # "up to 0"
            raise PixelsError(f"pixels must be floats in [0, 1], got {values}: "
                             f"{'divide by 255' if raw.dtype.kind in 'iu' or 20 < high <= 255 else 'scale them to [0, 1]'}, or use "
                             "gradflip_desktop.core.images.from_array")
        if low < -ROUNDING:  # -1 .. 1 (a model's normalised input) was classified as it stood
            raise PixelsError(f"pixels must be floats in [0, 1], got values down to {low:g}: "
                             "give the photo before normalisation, or use gradflip_desktop.core.images.from_array")
        return torch.from_numpy(a).permute(2, 0, 1)[None].to(self.device)

    @torch.no_grad()
    def logits(self, pixels: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Scores of one image: H x W x 3 in [0, 1] (numpy or torch) or a 1 x 3 x H x W tensor, checked alike."""
        if isinstance(pixels, torch.Tensor):  # an H x W x 3 one failed in torch's resize; 1 x 3 x H x W of 0-255 went on
            if pixels.ndim == 4 and pixels.shape[0] != 1:
                raise PixelsError(f"pixels must be one image (H x W x 3, or 1 x 3 x H x W), got shape {tuple(pixels.shape)}")
            pixels = (pixels.detach()[0].permute(1, 2, 0) if pixels.ndim == 4 else pixels.detach()).cpu().numpy()
        return self.module(self.image_tensor(pixels))

    def probabilities(self, pixels: np.ndarray | torch.Tensor) -> np.ndarray:
        """Softmax probabilities of one image, a float64 vector of length C."""
        return torch.softmax(self.logits(pixels)[0].double(), 0).cpu().numpy()

    def top(self, probabilities: np.ndarray, k: int = 5) -> list[Prediction]:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:  # k=-1 gave all classes but one
            raise ValueError(f"k must be a whole number of classes, 1 or more, not {k!r}")
        order = np.argsort(-probabilities, kind="stable")[:k]
        return [Prediction(int(i), self.label(int(i)), float(probabilities[i])) for i in order]

    def classify(self, pixels: np.ndarray, k: int = 5) -> list[Prediction]:
        """Top-k classes of an H x W x 3 float image in [0, 1]."""
        probs = self.probabilities(pixels)
        if not np.all(np.isfinite(probs)):
            raise ModelError("the model produced non-finite outputs (NaN or infinity) for this image")
        return self.top(probs, k)

    def find_class(self, query: str | int) -> int:
        """Class index from an index or a label (exact, then case-insensitive, then unique prefix)."""
        if isinstance(query, (bool, np.bool_)):
            raise ModelError(f"a class is an index or a label, not {query!r}")
        if isinstance(query, str) and query.strip().startswith("#") and query.strip()[1:].strip().isdigit():
            query = int(query.strip()[1:])  # "#3": the index, whatever the labels are
        if isinstance(query, (int, np.integer)) or (isinstance(query, str) and query.strip().isdigit()):
            i = int(query)
            # labels that are numbers themselves (star ratings "1"…"5", dice faces): "3" may mean either
            named = [j for j, lab in enumerate(self.labels) if lab.strip() == str(query).strip()] if isinstance(query, str) else []
            if named and named != [i]:
                if len(named) == 1 and not 0 <= i < self.num_classes:
                    return named[0]
                inside = f"class index {i} (labelled {self.labels[i]!r})" if 0 <= i < self.num_classes else f"no index {i}"
                raise ModelError(f"class {query.strip()!r} is ambiguous: the label of class {named[0]}, and {inside}; "
                                 f"write #{named[0]} for the class labelled {query.strip()!r}"
                                 + (f" or #{i} for index {i}" if 0 <= i < self.num_classes else ""))
            if not 0 <= i < self.num_classes:
                raise ModelError(f"class index {i} out of range (0–{self.num_classes - 1})")
            return i
        q = str(query).strip()
        if not q:
            raise ModelError("the class name is empty; give a class label or index")
        hits = [i for i, lab in enumerate(self.labels) if lab == q]  # a labels file may name two classes alike
        if len(hits) == 1:
            return hits[0]
        low = [lab.lower() for lab in self.labels]
        if not hits:
            hits = [i for i, lab in enumerate(low) if lab == q.lower()]
        if not hits:
            hits = [i for i, lab in enumerate(low) if lab.startswith(q.lower())]
        if len(hits) == 1:
            return hits[0]
        if hits:
            shown = ", ".join(f"{self.labels[i]} ({i})" for i in hits[:5])
            if len({self.labels[i] for i in hits}) == 1:  # the labels file names these classes alike: only #N tells them apart
                raise ModelError(f"class {q!r} is ambiguous: the labels name classes {', '.join(map(str, hits[:5]))} alike; "
                                 f"write {' or '.join(f'#{i}' for i in hits[:5])} to pick one by its index")
            raise ModelError(
                f"class {q!r} is ambiguous: {shown}{' …' if len(hits) > 5 else ''}; give the exact label or the index"
            )
        near = self._near(q)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise ModelError(f"no class named {q!r} in model {self.name}{hint}")

    def _near(self, q: str, n: int = 3) -> list[str]:
        """Up to ``n`` labels close to a query that matched none (a typo, or a word inside a label), as
        "label (index)"."""
        low = [lab.lower() for lab in self.labels]
        key = q.lower()
        inside = [i for i, lab in enumerate(low) if key in lab.replace(",", " ").split()]
        close = [low.index(m) for m in difflib.get_close_matches(key, low, n=n, cutoff=0.75)]
        picked = list(dict.fromkeys(inside + close))[:n]
        return [f"{self.labels[i]} ({i})" for i in picked]

    def find_group(self, spec: str | Sequence[int]) -> tuple[str, list[int]]:
        """A class group from a name (``"cat"``) or index ranges (``"281-285,290"``) or a list of indices."""
        if not isinstance(spec, str):
            idx = class_indices(spec)  # ModelError for [True], [2.5], 5.5 (they were classes 1, 2 and a TypeError)
            name = f"classes {format_ranges(idx)}"
        else:
            key = spec.strip()
            if key.lower().startswith("any ") and key[4:].strip().lower() in {k.lower() for k in self.groups}:
                key = key[4:].strip()  # "any cat", as the figure and the window name the group
            if key.lower() in {k.lower() for k in self.groups}:
                name = next(k for k in self.groups if k.lower() == key.lower())
                idx = sorted(set(self.groups[name]))
            else:
                try:
                    idx = parse_ranges(key, limit=self.num_classes)
                except BackwardsRange as exc:
                    raise ModelError(f"class group {key!r}: {exc}") from None
                except ValueError:
                    known = ", ".join(sorted(self.groups)) or "none"
                    example = "281-285" if self.num_classes > 285 else f"0-{min(2, self.num_classes - 1)}"
                    close = difflib.get_close_matches(key.lower(), sorted(k.lower() for k in self.groups), n=1, cutoff=0.6)
                    meant = next((f"did you mean {k!r}? " for k in sorted(self.groups) if close and k.lower() == close[0]), "")
                    raise ModelError(  # "--group kat": as "--target espreso" gets its "did you mean"
                        f"unknown class group {key!r}; {meant}known groups: {known}; or give index ranges like {example}"
                    ) from None
                name = f"classes {format_ranges(idx)}"
        if not idx:
            raise ModelError("a class group needs at least one class")
        bad = [i for i in idx if not 0 <= i < self.num_classes]
        if bad:
            shown = spec.strip() if isinstance(spec, str) else format_ranges(idx)  # as typed: not the clipped ranges
            raise ModelError(f"class group {shown!r} has indices outside 0–{self.num_classes - 1} (e.g. {bad[-1]})")
        if len(idx) == self.num_classes:
            raise ModelError("a class group cannot contain every class")
        return name, idx
