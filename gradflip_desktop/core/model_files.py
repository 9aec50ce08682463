"""Bring your own classifier: torchvision state dicts, cached torchvision weights, TorchScript and ONNX.

Every loader returns a :class:`~gradflip_desktop.core.models.Classifier` (a pixel-space module: resize,
channel conversion and mean/std inside the graph) and raises :class:`ModelError` with a message meant
for the user. Formats:

``state_dict``  a ``.pth``/``.pt`` file with the weights of a torchvision classification architecture,
    read with ``torch.load(weights_only=True)``. The architecture comes from torchvision's own weight
    file names (``resnet18-f37072fd.pth`` → ResNet18_Weights.IMAGENET1K_V1: its labels and
    preprocessing), from ``arch=``, from the sidecar, or, when exactly one architecture fits the
    tensors, from the weights themselves. Fine-tuned heads (class count from the final layer),
    ``module.`` prefixes (DataParallel), ``_orig_mod.`` (torch.compile) and checkpoints that wrap the
    weights under ``state_dict``/``model``/... are handled. A whole pickled ``nn.Module`` or any other
    pickled object is refused; nothing from the file is ever unpickled beyond tensors and containers.
``torchscript`` ``torch.jit.load``; runs code stored in the file: loaded with a warning (``trust_torchscript=False`` refuses it).
``onnx``        converted with onnx2torch (optional extra ``onnx``) so that gradients exist.

Labels, preprocessing and class groups come from (first wins): explicit arguments, the sidecar
``MODEL.gradflip.json`` next to the model file (see :class:`ModelSpec`), the torchvision weights'
metadata, then defaults (ImageNet mean/std, 224 × 224 squash, labels ``class 0``...).

torchvision is imported only when a torchvision architecture is needed; nothing here downloads.
"""

from __future__ import annotations

import io
import json
import math
import os
import pickletools
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from .models import (
    DEFAULT_MODEL,
    IMAGENET_GROUPS,
    Classifier,
    ModelError,
    PixelSpaceModel,
    Preprocessing,
    imagenet_labels,
    parse_ranges,
    resolve_device,
)

__all__ = [
    "FORMATS",
    "SIDECAR_SUFFIX",
    "CachedWeights",
    "ModelChoice",
    "ModelFileInfo",
    "ModelSpec",
    "add_model_arguments",
    "cached_torchvision_weights",
    "detect_format",
    "format_model_list",
    "inspect_model_file",
    "load_model_file",
    "load_model_spec",
    "model_choices",
    "model_options_from_args",
    "read_labels",
    "read_sidecar",
    "sidecar_path",
    "torchvision_architectures",
    "write_sidecar",
]

FORMATS = ("state_dict", "torchscript", "onnx")
SIDECAR_SUFFIX = ".gradflip.json"
SIDECAR_KIND = "gradflip-model"
SIDECAR_VERSION = 1

# checkpoint entries that may hold the state dict, in the order they are tried
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "network", "weights", "params", "module")
# prefixes that wrappers add to every key: DataParallel/DDP, torch.compile
ALWAYS_STRIP = ("module.", "_orig_mod.")
# prefixes that training frameworks add (Lightning's self.model ...); stripped only when that fits better
MAYBE_STRIP = ("model.", "net.", "network.")

_ONNX_EXTRA = "pip install 'gradflip-desktop[onnx]' (installs onnx and onnx2torch)"
_TV_EXTRA = "pip install 'gradflip-desktop[torchvision]'"


# --------------------------------------------------------------------------------------------------
# Model spec and sidecar
# --------------------------------------------------------------------------------------------------


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
            preprocessing=None if pre is None else _merge_pre(Preprocessing(), pre),
            groups=_parse_groups(d.get("groups") or {}),
            name=d.get("name") or None,
        )


def sidecar_path(model_path: str | os.PathLike) -> Path:
    """Where the settings of ``model_path`` live: ``net.pth`` → ``net.gradflip.json`` (same folder).

    When ``net.pth.gradflip.json`` exists (several models share a stem) that one is used.
    """
    p = Path(model_path)
    full = p.with_name(p.name + SIDECAR_SUFFIX)
    return full if full.exists() else p.with_name(p.stem + SIDECAR_SUFFIX)


def _read_sidecar_raw(model_path: Path) -> tuple[dict, Path] | None:
    sc = sidecar_path(Path(model_path).resolve())
    if not sc.is_file():
        return None
    try:
        d = json.loads(sc.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read the model settings {sc.name}: {exc}") from None
    if not isinstance(d, dict):
        raise ModelError(f"the model settings {sc.name} must hold a JSON object")
    if d.get("kind", SIDECAR_KIND) != SIDECAR_KIND or str(d.get("format", "")).startswith("gradflip-result"):
        return None  # another GradFlip file (a result record) that happens to share the name
    return d, sc


def read_sidecar(model_path: str | os.PathLike) -> ModelSpec | None:
    """The :class:`ModelSpec` stored next to ``model_path``, or ``None`` when there is no sidecar."""
    raw = _read_sidecar_raw(Path(model_path))
    if raw is None:
        return None
    d, sc = raw
    return ModelSpec.from_dict(d, model_path, base_dir=sc.parent)


def write_sidecar(spec: ModelSpec, path: str | os.PathLike | None = None) -> Path:
    """Write ``spec`` as JSON next to its model file (or to ``path``); returns the file written."""
    target = Path(path) if path is not None else sidecar_path(spec.path)
    data = json.dumps(spec.to_dict(base_dir=target.parent.resolve()), indent=2, ensure_ascii=False) + "\n"
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise ModelError(f"cannot write the model settings {target}: {exc}") from None
    return target


def _checked_pre_dict(pre: Any) -> dict:
    if not isinstance(pre, Mapping):
        raise ModelError("'preprocessing' in the model settings must be a JSON object")
    unknown = set(pre) - set(Preprocessing().to_dict())
    if unknown:
        raise ModelError(f"unknown preprocessing settings: {', '.join(sorted(unknown))}")
    return dict(pre)


def _parse_groups(groups: Any) -> dict[str, list[int]]:
    """``{"cat": [0, 1], "vehicle": "3-5,9"}`` → name → sorted indices."""
    if not isinstance(groups, Mapping):
        raise ModelError("class groups must be a mapping of name → class indices")
    out: dict[str, list[int]] = {}
    for name, idx in groups.items():
        try:
            if isinstance(idx, str):
                values = parse_ranges(idx)
            elif isinstance(idx, int):
                values = [idx]
            else:
                values = sorted({int(i) for i in idx})
        except (TypeError, ValueError):
            raise ModelError(f"class group {name!r}: {idx!r} is not a list of class indices") from None
        if not values:
            raise ModelError(f"class group {name!r} is empty")
        out[str(name)] = values
    return out


# --------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------


def read_labels(path: str | os.PathLike) -> list[str]:
    """Class names from a text file (one per line) or a JSON file.

    JSON may be a list of names, ``{"labels": [...]}``, or an index → name mapping
    (``{"0": "cat", ...}``; Keras-style ``{"0": ["n02123045", "tabby"]}`` takes the last item).
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"labels file {p} not found")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read labels file {p.name}: {exc}") from None
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"labels file {p.name} is not valid JSON: {exc}") from None
        labels = _labels_from_json(data, p.name)
    else:
        labels = [line.strip() for line in text.splitlines()]
        while labels and not labels[-1]:
            labels.pop()
        if any(not lab for lab in labels):
            blank = labels.index("") + 1
            raise ModelError(f"labels file {p.name} has an empty line {blank}; give one label per line")
    if not labels:
        raise ModelError(f"labels file {p.name} has no labels")
    return labels


def _labels_from_json(data: Any, name: str) -> list[str]:
    if isinstance(data, dict) and "labels" in data:
        data = data["labels"]
    if isinstance(data, list):
        return [_label_item(x, name) for x in data]
    if isinstance(data, dict):
        try:
            items = sorted((int(k), v) for k, v in data.items())
        except ValueError:
            raise ModelError(f"labels file {name}: keys must be class indices (\"0\", \"1\", ...)") from None
        idx = [k for k, _ in items]
        if idx != list(range(len(idx))):
            raise ModelError(f"labels file {name}: class indices must run 0…{len(idx) - 1} without gaps")
        return [_label_item(v, name) for _, v in items]
    raise ModelError(f"labels file {name} must hold a list of labels or an index → label mapping")


def _label_item(x: Any, name: str) -> str:
    if isinstance(x, (list, tuple)) and x:
        x = x[-1]
    if not isinstance(x, (str, int, float)):
        raise ModelError(f"labels file {name}: {x!r} is not a label")
    return str(x)


# --------------------------------------------------------------------------------------------------
# torchvision (imported lazily)
# --------------------------------------------------------------------------------------------------


def _tv_models():
    try:
        import torchvision.models as tvm  # noqa: PLC0415 - only when a torchvision model is used
    except ImportError:
        raise ModelError(f"this model needs torchvision, which is not installed: {_TV_EXTRA}") from None
    return tvm


def torchvision_architectures() -> list[str]:
    """Names of torchvision's classification architectures (``[]`` when torchvision is missing)."""
    try:
        tvm = _tv_models()
    except ModelError:
        return []
    return sorted(tvm.list_models(module=tvm))


@lru_cache(maxsize=1)
def _tv_weight_files() -> dict[str, tuple[str, Any]]:
    """torchvision weight file name (``resnet18-f37072fd.pth``) → (architecture, weights enum member)."""
    tvm = _tv_models()
    out: dict[str, tuple[str, Any]] = {}
    for arch in tvm.list_models(module=tvm):
        try:
            enum = tvm.get_model_weights(arch)
        except Exception:  # noqa: BLE001 - an architecture without weights
            continue
        for w in enum:
            out[w.url.rsplit("/", 1)[-1]] = (arch, w)
    return out


def _tv_weights_for_file(name: str) -> tuple[str, Any] | None:
    try:
        return _tv_weight_files().get(name)
    except ModelError:
        return None


def _weights_name(w: Any) -> str:
    return f"{type(w).__name__}.{w.name}"


def _pre_from_weights(w: Any) -> Preprocessing:
    """Preprocessing of a torchvision weights entry, from its ``transforms()`` metadata."""
    t = w.transforms()
    crop = list(getattr(t, "crop_size", [224]))
    resize = list(getattr(t, "resize_size", crop))
    interp = str(getattr(getattr(t, "interpolation", None), "value", "bilinear")).lower()
    return Preprocessing(
        input_size=(int(crop[0]), int(crop[-1])),
        mean=tuple(float(v) for v in t.mean),
        std=tuple(float(v) for v in t.std),
        resize="center-crop",
        resize_size=int(resize[0]),
        interpolation=interp if interp in ("bilinear", "bicubic") else "bilinear",
        antialias=bool(getattr(t, "antialias", True) if getattr(t, "antialias", True) is not None else True),
    )


@dataclass(frozen=True)
class CachedWeights:
    """torchvision weights found in the torch hub cache (never downloaded by GradFlip)."""

    path: Path
    arch: str
    weights: str  # e.g. "ResNet18_Weights.IMAGENET1K_V1"
    num_classes: int
    size_bytes: int

    @property
    def key(self) -> str:
        """What to pass as ``--model`` (the file name; it is looked up in the cache)."""
        return self.path.name


def hub_checkpoint_dir() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` (default ``~/.cache/torch/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_torchvision_weights() -> list[CachedWeights]:
    """torchvision classification weights already in the torch hub cache, as ready-to-use models.

    Reads the directory only; never downloads. ``[]`` when the cache or torchvision is missing.
    """
    d = hub_checkpoint_dir()
    if not d.is_dir():
        return []
    try:
        known = _tv_weight_files()
    except ModelError:
        return []
    out = []
    for f in sorted(d.iterdir()):
        hit = known.get(f.name)
        if hit is None or not f.is_file():
            continue
        arch, w = hit
        out.append(CachedWeights(f, arch, _weights_name(w), len(w.meta.get("categories") or []), f.stat().st_size))
    return out


@dataclass(frozen=True)
class ModelChoice:
    """One entry of a model picker: ``key`` is what ``load_classifier`` / ``--model`` takes."""

    key: str
    title: str
    description: str


def model_choices() -> list[ModelChoice]:
    """The default model followed by cached torchvision weights (for the GUI picker and ``gradflip models``)."""
    out = [ModelChoice(DEFAULT_MODEL, "EfficientNet-Lite0 (ImageNet)", "default model, bundled")]
    for c in cached_torchvision_weights():
        out.append(
            ModelChoice(c.key, f"{c.arch} ({c.weights.split('.', 1)[-1]})", f"torchvision {c.weights}, {c.num_classes} classes, cached at {c.path}")
        )
    return out


def format_model_list() -> str:
    """Text for ``gradflip models``."""
    lines = ["Models (pass the first column to --model):"]
    choices = model_choices()
    width = max(len(c.key) for c in choices)
    for c in choices:
        lines.append(f"  {c.key.ljust(width)}  {c.title} – {c.description}")
    if len(choices) == 1:
        lines.append(f"  (no torchvision weights in {hub_checkpoint_dir()}; GradFlip never downloads)")
    lines.append("Any .pth/.pt state dict (with --arch), TorchScript or .onnx file works too.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Reading files safely
# --------------------------------------------------------------------------------------------------


def detect_format(path: str | os.PathLike) -> str:
    """``"state_dict"``, ``"torchscript"`` or ``"onnx"`` from the file's name and first bytes."""
    p = Path(path)
    if p.suffix.lower() == ".onnx":
        return "onnx"
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {p}: {exc.strerror or exc}") from None
    if not head:
        raise ModelError(f"{p.name} is empty (0 bytes)")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(p) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise ModelError(f"{p.name} is a damaged zip archive: {exc}") from None
        if any("/code/" in n or n.endswith("/constants.pkl") for n in names):
            return "torchscript"
        if any(n.endswith("data.pkl") for n in names):
            return "state_dict"
        raise ModelError(f"{p.name} is a zip archive but not a PyTorch file")
    if head[:1] == b"\x80":  # pickle protocol 2+ (the legacy torch.save format)
        return "state_dict"
    if p.suffix.lower() == ".safetensors":
        raise ModelError(f"{p.name}: safetensors files are not supported; save a .pth state dict (torch.save(model.state_dict(), ...))")
    raise ModelError(
        f"cannot tell the format of {p.name}: expected a PyTorch state dict (.pth/.pt), "
        "a TorchScript file or an ONNX file (.onnx)"
    )


def _pickle_streams(path: Path) -> list[bytes]:
    """The raw pickles inside a torch file (zip ``data.pkl`` or the legacy concatenated pickles)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return [zf.read(n) for n in zf.namelist() if n.endswith(".pkl")]
    return [path.read_bytes()]


def _pickle_globals(path: Path) -> tuple[list[str], set[str]]:
    """Globals (``module.name``) a pickle would import, and its short strings, read WITHOUT unpickling."""
    found: list[str] = []
    strings: set[str] = set()
    for data in _pickle_streams(path):
        bio = io.BytesIO(data)
        while bio.tell() < len(data):
            recent: list[str] = []
            memo: dict[int, Any] = {}
            last = None
            try:
                for op, arg, _pos in pickletools.genops(bio):
                    name = op.name
                    if name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8", "SHORT_BINSTRING", "BINSTRING", "STRING"):
                        last = str(arg)
                        recent.append(last)
                        if len(last) < 80:
                            strings.add(last)
                    elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                        memo[int(arg)] = last
                    elif name == "MEMOIZE":
                        memo[len(memo)] = last
                    elif name in ("BINGET", "LONG_BINGET", "GET"):
                        last = memo.get(int(arg))
                        if isinstance(last, str):
                            recent.append(last)
                    elif name in ("GLOBAL", "INST"):
                        found.append(str(arg).replace(" ", "."))
                        last = None
                    elif name == "STACK_GLOBAL":
                        if len(recent) >= 2:
                            found.append(f"{recent[-2]}.{recent[-1]}")
                        last = None
                    else:
                        last = None
                    if name == "STOP":
                        break
            except Exception:  # noqa: BLE001 - a damaged stream: keep what was found
                break
    return list(dict.fromkeys(found)), strings


_SAFE_GLOBAL_PREFIXES = ("torch.", "collections.OrderedDict", "_codecs.encode", "builtins.set", "builtins.frozenset")


def _refusal(path: Path, exc: Exception) -> ModelError:
    """Explain why ``torch.load(weights_only=True)`` refused ``path``."""
    try:
        globals_, strings = _pickle_globals(path)
    except Exception:  # noqa: BLE001
        globals_, strings = [], set()
    is_module = any(g.startswith("torch.nn.modules.") for g in globals_) or "_modules" in strings and "_parameters" in strings
    if is_module:
        own = [g for g in globals_ if not g.startswith(("torch.", "collections.", "builtins.", "_codecs."))]
        cls = own[0] if own else next((g for g in globals_ if g.startswith("torch.nn.modules.")), "nn.Module")
        return ModelError(
            f"{path.name} holds a whole pickled model ({cls}), not a state dict. Loading it would run code "
            "from the file, which GradFlip never does. Save the weights instead, "
            f"torch.save(model.state_dict(), '{path.stem}.state_dict.pth'), and load that file with --arch "
            "(for a torchvision architecture), or export the model to TorchScript or ONNX."
        )
    unsafe = [g for g in globals_ if not g.startswith(_SAFE_GLOBAL_PREFIXES)]
    if unsafe:
        shown = ", ".join(unsafe[:5]) + (" …" if len(unsafe) > 5 else "")
        return ModelError(
            f"refused to load {path.name}: it contains pickled Python objects that are not tensors ({shown}). "
            "GradFlip never unpickles arbitrary objects, because unpickling can run code. "
            "Save only the weights: torch.save(model.state_dict(), PATH)."
        )
    return ModelError(f"cannot read {path.name} as PyTorch weights: {_short(exc)}")


def _short(exc: Exception, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _load_weights(path: Path) -> Any:
    """``torch.load(weights_only=True)`` with user-facing errors; never unpickles arbitrary objects."""
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": noise for users
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - UnpicklingError, RuntimeError, EOFError ...
        raise _refusal(path, exc) from None


def _is_tensor_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def _extract_state_dict(obj: Any, name: str) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The tensors of a state dict or of a checkpoint that wraps one (``{"state_dict": ..., "epoch": 3}``)."""
    notes: list[str] = []
    for _depth in range(3):
        if _is_tensor_dict(obj):
            break
        if isinstance(obj, Mapping):
            key = next((k for k in WRAPPER_KEYS if k in obj and isinstance(obj[k], Mapping)), None)
            if key is not None:
                notes.append(f"weights taken from the checkpoint entry '{key}'")
                obj = obj[key]
                continue
            # a state dict with a few non-tensor extras (e.g. a saved "epoch" next to the tensors)
            tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
            if tensors and len(tensors) >= 0.9 * len(obj) and all(isinstance(k, str) for k in tensors):
                obj = tensors
                break
            keys = ", ".join(map(str, list(obj)[:8]))
            raise ModelError(
                f"{name} holds a checkpoint with entries ({keys}) but none of them is a state dict of tensors; "
                f"expected the weights themselves or an entry named {', '.join(WRAPPER_KEYS[:3])}"
            )
        what = type(obj).__name__
        raise ModelError(f"{name} holds a {what}, not a state dict (a mapping of parameter names to tensors)")
    if not _is_tensor_dict(obj):
        raise ModelError(f"{name} does not hold a state dict (a mapping of parameter names to tensors)")
    sd = dict(obj)
    for prefix in ALWAYS_STRIP:
        if all(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix):]: v for k, v in sd.items()}
            notes.append(f"removed the '{prefix}' prefix of the weight names")
    return sd, notes


# --------------------------------------------------------------------------------------------------
# torchvision state dicts
# --------------------------------------------------------------------------------------------------


def _arch_kwargs(arch: str, sd: Mapping[str, torch.Tensor] | None, tv_weights: Any) -> dict:
    kw: dict[str, Any] = {}
    if arch in ("googlenet", "inception_v3"):
        kw["init_weights"] = False
        has_aux = sd is None or any("aux" in k.lower() for k in sd)
        kw["aux_logits"] = has_aux
        if tv_weights is not None:
            kw["transform_input"] = True  # as torchvision does for its own weights
    if arch.startswith("vit_"):
        size = None
        if tv_weights is not None and tv_weights.meta.get("min_size"):
            size = int(tv_weights.meta["min_size"][0])
        elif sd is not None and "encoder.pos_embedding" in sd:
            m = re.search(r"_(\d+)$", arch)
            seq = int(sd["encoder.pos_embedding"].shape[1]) - 1
            side = int(round(math.sqrt(seq)))
            if m and side * side == seq:
                size = side * int(m.group(1))
        if size:
            kw["image_size"] = size
    return kw


def _reference_shapes(arch: str, **kw) -> dict[str, tuple[int, ...]] | None:
    """Parameter/buffer shapes of ``arch`` (built on the meta device, no memory); None if that fails."""
    tvm = _tv_models()
    try:
        with torch.device("meta"):
            net = tvm.get_model(arch, weights=None, **kw)
    except Exception:  # noqa: BLE001 - some builders compute with tensors (RegNet); build on CPU
        return None
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _shapes_of(arch: str, **kw) -> dict[str, tuple[int, ...]]:
    ref = _reference_shapes(arch, **kw)
    if ref is None:
        net = _tv_models().get_model(arch, weights=None, **kw)
        ref = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    return ref


def _head_classes(ref: Mapping[str, tuple[int, ...]], sd: Mapping[str, torch.Tensor], default: int) -> int | None:
    """Class count of the checkpoint's final layer(s): tensors whose first dim is ``default`` in ``ref``."""
    heads = [k for k, s in ref.items() if s and s[0] == default and k in sd and not k.endswith("num_batches_tracked")]
    # classification heads are the last parameters with the class count as their first dimension
    counts = {int(sd[k].shape[0]) for k in heads if sd[k].ndim >= 1}
    if len(counts) == 1:
        return counts.pop()
    return None


def _diff(ref: Mapping[str, tuple[int, ...]], sd: Mapping[str, torch.Tensor]):
    missing = [k for k in ref if k not in sd and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in sd if k not in ref]
    mismatched = [(k, tuple(sd[k].shape), ref[k]) for k in ref if k in sd and tuple(sd[k].shape) != ref[k]]
    return missing, unexpected, mismatched


def _keys_text(keys: Sequence[str], n: int = 4) -> str:
    return ", ".join(keys[:n]) + (", …" if len(keys) > n else "")


def _mismatch_message(name: str, arch: str, missing, unexpected, mismatched) -> str:
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys ({_keys_text(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys ({_keys_text(unexpected)})")
    if mismatched:
        shown = "; ".join(f"{k}: file {list(a)} vs {arch} {list(b)}" for k, a, b in mismatched[:3])
        parts.append(f"{len(mismatched)} shape mismatches ({shown}{'; …' if len(mismatched) > 3 else ''})")
    return f"the weights in {name} do not fit the torchvision architecture {arch}: " + ", ".join(parts)


def _strip_framework_prefix(sd: dict[str, torch.Tensor], ref: Mapping[str, Any], notes: list[str]) -> dict[str, torch.Tensor]:
    """Strip ``model.``/``net.`` when every key has it and the rest fits the architecture better."""
    for prefix in MAYBE_STRIP:
        if sd and all(k.startswith(prefix) for k in sd):
            stripped = {k[len(prefix):]: v for k, v in sd.items()}
            if len(set(stripped) & set(ref)) > len(set(sd) & set(ref)):
                notes.append(f"removed the '{prefix}' prefix of the weight names")
                return stripped
    return sd


def _fit(arch: str, sd: Mapping[str, torch.Tensor], tv_weights: Any) -> tuple[dict, int, list, list, list]:
    """Architecture kwargs and class count for ``sd`` on ``arch``, and what still does not fit."""
    kw = _arch_kwargs(arch, sd, tv_weights)
    ref = _shapes_of(arch, **kw)
    classes = _head_classes(ref, sd, 1000) or 1000
    if classes != 1000:
        ref = _shapes_of(arch, num_classes=classes, **kw)
    missing, unexpected, mismatched = _diff(ref, sd)
    return {**kw, "num_classes": classes}, classes, missing, unexpected, mismatched


@lru_cache(maxsize=1)
def _all_reference_shapes() -> tuple[tuple[str, dict], ...]:
    out = []
    for arch in torchvision_architectures():
        ref = _reference_shapes(arch, **_arch_kwargs(arch, None, None))
        if ref is not None:
            out.append((arch, ref))
    return tuple(out)


def guess_architectures(sd: Mapping[str, torch.Tensor]) -> list[str]:
    """torchvision architectures whose tensors match ``sd`` (names and shapes, the head's class count aside).

    Builds every architecture on the meta device once (a few seconds, cached); RegNets are not tried.
    """
    keys = {k for k in sd if not k.endswith("num_batches_tracked")}
    hits = []
    for arch, ref in _all_reference_shapes():
        rkeys = {k for k in ref if not k.endswith("num_batches_tracked")}
        if rkeys != keys:
            continue
        heads = {k for k, s in ref.items() if s and s[0] == 1000}
        if all(tuple(sd[k].shape) == ref[k] or (k in heads and tuple(sd[k].shape)[1:] == ref[k][1:]) for k in rkeys):
            hits.append(arch)
    return hits


def _load_torchvision_state_dict(path: Path, arch: str | None, notes: list[str]) -> tuple[nn.Module, int, Any, str]:
    """Build the torchvision network for ``path``; returns (net, class count, weights entry or None, arch)."""
    name = path.name
    hit = _tv_weights_for_file(name)
    tv_weights = None
    if hit is not None and (arch is None or arch == hit[0]):
        arch, tv_weights = hit
    obj = _load_weights(path)
    sd, more = _extract_state_dict(obj, name)
    notes.extend(more)
    tvm = _tv_models()
    if arch is None:
        stem = path.name.split(".", 1)[0]
        for candidate in (stem, stem.split("-", 1)[0]):
            if candidate in tvm.list_models(module=tvm):
                arch = candidate
                break
    if arch is None:
        guesses = guess_architectures(sd)
        if len(guesses) == 1:
            arch = guesses[0]
            notes.append(f"architecture {arch} recognised from the weights")
        else:
            hint = f"; the weights fit: {', '.join(guesses)}" if guesses else ""
            raise ModelError(
                f"cannot tell which architecture {name} is for: choose one with --arch "
                f"(a torchvision classification model such as resnet18, efficientnet_b0, vit_b_16){hint}"
            )
    known = tvm.list_models(module=tvm)
    if arch not in known:
        close = [a for a in known if a.startswith(arch[:4])][:6]
        raise ModelError(
            f"unknown torchvision architecture {arch!r}" + (f"; did you mean {', '.join(close)}?" if close else "")
        )
    # prefixes added by training frameworks
    ref0 = _shapes_of(arch, **_arch_kwargs(arch, sd, tv_weights))
    sd = _strip_framework_prefix(sd, ref0, notes)
    kw, classes, missing, unexpected, mismatched = _fit(arch, sd, tv_weights)
    if missing or unexpected or mismatched:
        msg = _mismatch_message(name, arch, missing, unexpected, mismatched)
        guesses = [g for g in guess_architectures(sd) if g != arch]
        if guesses:
            msg += f". The weights fit {', '.join(guesses[:5])}: use --arch {guesses[0]}"
        else:
            msg += ". Is the architecture right?"
        raise ModelError(msg)
    net = _build_and_load(arch, kw, sd, name)
    return net, classes, tv_weights, arch


def _build_and_load(arch: str, kw: dict, sd: Mapping[str, torch.Tensor], name: str) -> nn.Module:
    tvm = _tv_models()
    net = None
    try:
        with torch.device("meta"):
            meta_net = tvm.get_model(arch, weights=None, **kw)
        meta_net.load_state_dict(sd, strict=True, assign=True)
        if not any(t.is_meta for t in list(meta_net.parameters()) + list(meta_net.buffers())):
            net = meta_net
    except Exception:  # noqa: BLE001 - fall back to building on the CPU
        net = None
    if net is None:
        net = tvm.get_model(arch, weights=None, **kw)
        try:
            net.load_state_dict(sd, strict=True)
        except RuntimeError as exc:
            raise ModelError(f"the weights in {name} do not fit {arch}: {_short(exc, 500)}") from None
    return net.float()


# --------------------------------------------------------------------------------------------------
# TorchScript and ONNX
# --------------------------------------------------------------------------------------------------


def _load_torchscript(path: Path, trust: bool, notes: list[str]) -> nn.Module:
    if not trust:
        raise ModelError(
            f"{path.name} is a TorchScript file. Loading TorchScript runs code stored in the file, so load it "
            "only if you trust where it came from (it was refused because trust_torchscript=False)."
        )
    try:
        with warnings.catch_warnings():  # "torch.jit.load is deprecated": noise for users
            warnings.simplefilter("ignore", FutureWarning)
            net = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot load TorchScript file {path.name}: {_short(exc)}") from None
    notes.append(f"{path.name} is TorchScript: loading it runs code stored in the file; use only model files you trust")
    return net


def _onnx_modules():
    try:
        import onnx  # noqa: PLC0415 - optional extra
        import onnx2torch  # noqa: PLC0415
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "onnx2torch"
        raise ModelError(f"loading ONNX files needs the optional extra 'onnx' ({missing} is not installed): {_ONNX_EXTRA}") from None
    return onnx, onnx2torch


def _onnx_input_shape(model) -> tuple[int, ...] | None:
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        raise ModelError(f"the ONNX model has {len(inputs)} inputs; GradFlip needs exactly one image input")
    dims = inputs[0].type.tensor_type.shape.dim
    return tuple(int(d.dim_value) if d.HasField("dim_value") else 0 for d in dims)


def _load_onnx(path: Path) -> tuple[nn.Module, tuple[int, ...] | None]:
    onnx, onnx2torch = _onnx_modules()
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot read ONNX file {path.name}: {_short(exc)}") from None
    shape = _onnx_input_shape(model)
    try:
        net = onnx2torch.convert(model)
    except NotImplementedError as exc:
        m = re.search(r"operation_type='([^']+)'.*?version=(\d+)", str(exc))
        what = f"the ONNX operator {m.group(1)} (opset {m.group(2)})" if m else "an ONNX operator"
        raise ModelError(
            f"{path.name} uses {what}, which onnx2torch cannot convert to PyTorch, so GradFlip cannot take "
            f"gradients through it. Re-export the model without it or with another opset ({_short(exc, 200)})"
        ) from None
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot convert ONNX file {path.name} to PyTorch: {_short(exc)}") from None
    return net, shape


# --------------------------------------------------------------------------------------------------
# Public loading API
# --------------------------------------------------------------------------------------------------


def _resolve_model_path(spec: str | os.PathLike) -> Path:
    """An existing file, or a bare name looked up in the torch hub cache (file name, weights name, arch)."""
    p = Path(spec).expanduser()
    if p.is_file():
        return p
    if p.exists():
        raise ModelError(f"{p} is not a model file")
    text = str(spec)
    if os.sep not in text and "/" not in text:
        cache = hub_checkpoint_dir()
        if (cache / text).is_file():
            return cache / text
        cached = cached_torchvision_weights()
        by_weights = [c for c in cached if c.weights.lower() == text.lower() or c.weights.split(".")[-1].lower() == text.lower()]
        by_arch = [c for c in cached if c.arch == text.lower()]
        if by_weights:
            return by_weights[0].path
        if by_arch:
            try:
                default = _weights_name(_tv_models().get_model_weights(text.lower()).DEFAULT)
            except Exception:  # noqa: BLE001
                default = ""
            best = next((c for c in by_arch if c.weights == default), by_arch[0])
            return best.path
        if text.lower() in torchvision_architectures():
            raise ModelError(
                f"no cached weights for {text} in {cache}; GradFlip never downloads. Fetch them once with "
                f"torchvision.models.get_model('{text.lower()}', weights='DEFAULT') or pass a weights file"
            )
    raise ModelError(f"model file {spec} not found (and it is not a known model name; see 'gradflip models')")


def _merge_pre(base: Preprocessing, over: Preprocessing | Mapping | None) -> Preprocessing:
    if over is None:
        return base
    if isinstance(over, Preprocessing):
        return over
    over = {k: v for k, v in _checked_pre_dict(over).items() if v is not None}
    d = base.to_dict()
    d.update(over)
    channels = int(d.get("channels", 3))
    for key in ("mean", "std"):  # switching to 1 channel: one value (the average) unless given
        if key not in over and channels == 1 and len(d[key]) != 1:
            d[key] = [sum(d[key]) / len(d[key])]
    return Preprocessing.from_dict(d)


def _labels_from(value: Any, base_dir: Path | None = None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        p = Path(value)
        if base_dir is not None and not p.is_absolute():
            p = base_dir / p  # relative to the sidecar
        return read_labels(p)
    labels = [str(x) for x in value]
    if not labels:
        raise ModelError("the label list is empty")
    return labels


def _probe(net: nn.Module, pre: Preprocessing, name: str) -> int:
    """Class count (outputs) of ``net`` under ``pre``; ModelError when it cannot run such input."""
    module = PixelSpaceModel(net, pre).eval()
    h, w = pre.input_size
    x = torch.full((1, 3, h, w), 0.5)
    try:
        with torch.no_grad():
            out = module(x)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        reason = lines[-1] if lines else type(exc).__name__  # TorchScript puts the real error last
        raise ModelError(
            f"{name} failed on a 1×{pre.channels}×{h}×{w} input ({_short(Exception(reason), 200)}); "
            "check the input size and channel count (--input-size, --channels)"
        ) from None
    return int(out.shape[1])


def load_model_file(
    path: str | os.PathLike,
    device: str | torch.device = "cpu",
    arch: str | None = None,
    labels: str | os.PathLike | Sequence[str] | None = None,
    preprocessing: Preprocessing | Mapping | None = None,
    groups: Mapping[str, Any] | None = None,
    trust_torchscript: bool = True,
    format: str | None = None,  # noqa: A002 - the user-facing word
    name: str | None = None,
    use_sidecar: bool = True,
) -> Classifier:
    """Load a model file as a pixel-space :class:`Classifier` on ``device``.

    ``path``: a file, or a bare name of torchvision weights in the torch hub cache
    (``resnet18-f37072fd.pth``, ``ResNet18_Weights.IMAGENET1K_V1`` or ``resnet18``).
    ``arch``: torchvision architecture of a state dict (detected from torchvision's file names or the
    weights when omitted). ``labels``: a labels file (text, one per line, or JSON) or a list of names.
    ``preprocessing``: a :class:`Preprocessing`, or a mapping of settings that override the file's
    (``{"input_size": [28, 28], "channels": 1}``). ``groups``: name → class indices (or ``"3-5,9"``).
    ``trust_torchscript``: TorchScript runs code from the file; it loads with a warning, or is refused when False.
    ``format``: force ``"state_dict"``, ``"torchscript"`` or ``"onnx"``. ``use_sidecar``: read
    ``MODEL.gradflip.json`` next to the file (explicit arguments win over it).
    Raises :class:`ModelError` with a message naming the problem.
    """
    dev = resolve_device(device)  # fail early with a clear message
    p = _resolve_model_path(path)
    raw = _read_sidecar_raw(p) if use_sidecar else None
    side: dict = raw[0] if raw else {}
    side_dir = raw[1].parent if raw else None
    if raw:
        ModelSpec.from_dict(side, p, side_dir)  # validate the whole sidecar up front
    fmt = format or side.get("format") or detect_format(p)
    if fmt not in FORMATS:
        raise ModelError(f"unknown model format {fmt!r} (use {', '.join(FORMATS)})")
    notes: list[str] = []
    if raw:
        notes.append(f"settings read from {raw[1].name}")

    tv_weights = None
    used_arch = None
    fixed_classes = None
    base_pre = Preprocessing()
    pre_known = False
    if fmt == "state_dict":
        net, fixed_classes, tv_weights, used_arch = _load_torchvision_state_dict(p, arch or side.get("arch"), notes)
        if tv_weights is None and fixed_classes == 1000:
            try:  # the same architecture's ImageNet weights tell the labels and preprocessing
                tv_weights = _tv_models().get_model_weights(used_arch).DEFAULT
                notes.append(f"1000 classes: assuming ImageNet-1k labels and the preprocessing of {_weights_name(tv_weights)}")
            except Exception:  # noqa: BLE001
                tv_weights = None
        if tv_weights is not None:
            base_pre, pre_known = _pre_from_weights(tv_weights), True
        elif isinstance(getattr(net, "image_size", None), int):  # ViT: fixed input size
            base_pre = Preprocessing(input_size=(net.image_size, net.image_size))
    elif fmt == "torchscript":
        net = _load_torchscript(p, trust_torchscript, notes)
    else:
        net, shape = _load_onnx(p)
        if shape is not None and len(shape) == 4:
            c, h, w = shape[1], shape[2], shape[3]
            base_pre = Preprocessing(
                input_size=(h, w) if h > 0 and w > 0 else (224, 224),
                channels=c if c in (1, 3) else 3,
                mean=(0.485, 0.456, 0.406) if c != 1 else (0.5,),
                std=(0.229, 0.224, 0.225) if c != 1 else (0.5,),
            )
    net.eval()
    for prm in net.parameters():
        prm.requires_grad_(False)

    explicit_pre = preprocessing is not None
    pre = _merge_pre(base_pre, side.get("preprocessing"))
    pre = _merge_pre(pre, preprocessing)
    if not (explicit_pre or "preprocessing" in side or pre_known):
        notes.append(
            f"no preprocessing settings for {p.name}: assuming {pre.input_size[0]}×{pre.input_size[1]} input, "
            f"{'grayscale' if pre.channels == 1 else 'RGB'}, mean {list(pre.mean)}, std {list(pre.std)} "
            "(set them with --input-size/--mean/--std/--channels or in the sidecar)"
        )

    # how many outputs: known for torchvision, measured for TorchScript/ONNX
    if fixed_classes is None:
        try:
            outputs = _probe(net, pre, p.name)
        except ModelError:
            side_pre = side.get("preprocessing") or {}
            channels_given = isinstance(preprocessing, Preprocessing) or "channels" in (preprocessing or {}) or "channels" in side_pre
            if channels_given or pre.channels == 1:
                raise
            gray = _merge_pre(pre, {"channels": 1})
            try:
                outputs = _probe(net, gray, p.name)
            except ModelError:
                _probe(net, pre, p.name)  # raise the RGB error, the one the user expects
                raise
            pre = gray
            notes.append("the model takes 1-channel input: using grayscale (luma) input")
    else:
        outputs = fixed_classes
    if outputs < 1:
        raise ModelError(f"{p.name} returns no outputs")
    single = outputs == 1
    num_classes = 2 if single else outputs
    if single:
        notes.append("single-logit binary classifier: shown as two classes, p(class 1) = sigmoid(logit)")

    # labels: explicit > sidecar > torchvision metadata > generic
    lab = _labels_from(labels)
    if lab is None and side:
        lab = _labels_from(side.get("labels_file") or side.get("labels"), side_dir)
    imagenet = False
    if lab is None and tv_weights is not None:
        cats = list(tv_weights.meta.get("categories") or [])
        if len(cats) == num_classes:
            lab = cats
            imagenet = num_classes == 1000
    if lab is None and num_classes == 1000 and fmt != "state_dict":
        notes.append("1000 outputs and no labels: assuming ImageNet-1k labels")
        lab, imagenet = imagenet_labels(), True
    if lab is None:
        lab = [f"class {i}" for i in range(num_classes)]
        notes.append(f"no labels for {p.name}: classes are named 'class 0' … 'class {num_classes - 1}' (give a labels file)")
    if len(lab) != num_classes:
        extra = " (a single-logit binary classifier needs 2 labels: negative, then positive)" if single else ""
        raise ModelError(f"{len(lab)} labels were given but {p.name} has {num_classes} classes{extra}")

    # groups: built-in ImageNet groups, then sidecar, then explicit
    grp: dict[str, list[int]] = {}
    if imagenet:
        grp.update({k: list(v) for k, v in IMAGENET_GROUPS.items()})
    grp.update(_parse_groups(side.get("groups") or {}))
    grp.update(_parse_groups(groups or {}))
    for gname, idx in grp.items():
        bad = [i for i in idx if not 0 <= i < num_classes]
        if bad:
            raise ModelError(f"class group {gname!r} lists class {bad[0]}, but {p.name} has only {num_classes} classes (0–{num_classes - 1})")

    module = PixelSpaceModel(net, pre, single_logit=single).eval()
    if name is None:
        name = side.get("name")
    if name is None:
        if fmt == "state_dict":
            what = _weights_name(tv_weights) if tv_weights is not None and _tv_weights_for_file(p.name) else f"{num_classes} classes"
            name = f"{used_arch} ({what}, {p.name})"
        else:
            name = f"{p.name} ({'TorchScript' if fmt == 'torchscript' else 'ONNX'}, {num_classes} classes)"
    clf = Classifier(
        module=module,
        labels=lab,
        name=name,
        groups=grp,
        source=str(p),
        preprocessing=pre,
        warnings=notes,
    )
    try:
        return clf.to(dev)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. an operator the device lacks
        raise ModelError(f"cannot move {p.name} to {dev}: {_short(exc)}") from None


def load_model_spec(spec: ModelSpec, device: str | torch.device = "cpu", trust_torchscript: bool = True) -> Classifier:
    """Load what a :class:`ModelSpec` describes (the GUI's dialog result); the sidecar is not read."""
    return load_model_file(
        spec.path,
        device=device,
        arch=spec.arch,
        labels=spec.labels if spec.labels is not None else spec.labels_path,
        preprocessing=spec.preprocessing,
        groups=spec.groups or None,
        trust_torchscript=trust_torchscript,
        format=spec.format,
        name=spec.name,
        use_sidecar=False,
    )


@dataclass
class ModelFileInfo:
    """What the "Load model…" dialog can prefill before asking anything (cheap: no network built).

    ``needs_arch``: a state dict whose architecture is not known from its name or sidecar.
    ``runs_code``: TorchScript (ask for trust). ``weights``: torchvision weights name when recognised.
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


def inspect_model_file(path: str | os.PathLike) -> ModelFileInfo:
    """Format, recognised torchvision weights and sidecar of a model file, without building the model."""
    p = _resolve_model_path(path)
    spec = read_sidecar(p)
    fmt = (spec.format if spec else None) or detect_format(p)
    info = ModelFileInfo(path=p, format=fmt, sidecar=spec, runs_code=fmt == "torchscript")
    if fmt == "state_dict":
        hit = _tv_weights_for_file(p.name)
        if hit is not None:
            info.arch, w = hit
            info.weights = _weights_name(w)
            info.preprocessing = _pre_from_weights(w)
            info.labels = list(w.meta.get("categories") or [])
        elif spec and spec.arch:
            info.arch = spec.arch
        info.needs_arch = info.arch is None
    if spec and spec.preprocessing is not None:
        info.preprocessing = spec.preprocessing
    return info


# --------------------------------------------------------------------------------------------------
# CLI options (wired by gradflip_desktop.cli)
# --------------------------------------------------------------------------------------------------


def _floats(text: str) -> list[float]:
    import argparse  # noqa: PLC0415

    try:
        return [float(v) for v in re.split(r"[,\s]+", text.strip()) if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, not {text!r}") from None


def _size(text: str) -> list[int]:
    import argparse  # noqa: PLC0415

    parts = [v for v in re.split(r"[x×,\s]+", text.strip().lower()) if v]
    try:
        vals = [int(v) for v in parts]
    except ValueError:
        vals = []
    if len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2 or min(vals) < 1:
        raise argparse.ArgumentTypeError(f"expected a size like 224 or 224x224 (height x width), not {text!r}")
    return vals


def add_model_arguments(parser) -> None:
    """Options for models loaded from files (``--model FILE``); see :func:`model_options_from_args`."""
    g = parser.add_argument_group("model file options (for --model FILE; saved settings in FILE's .gradflip.json are used too)")
    g.add_argument("--arch", default=None, help="torchvision architecture of a state dict, e.g. resnet18 (detected from torchvision file names)")
    g.add_argument("--labels", default=None, metavar="FILE", help="class labels: text file (one per line) or JSON")
    g.add_argument("--input-size", type=_size, default=None, metavar="HxW", help="network input size, e.g. 224 or 28x28")
    g.add_argument("--resize", choices=("squash", "center-crop"), default=None, help="how the image reaches the input size")
    g.add_argument("--mean", type=_floats, default=None, metavar="M", help="normalisation mean, e.g. 0.485,0.456,0.406")
    g.add_argument("--std", type=_floats, default=None, metavar="S", help="normalisation std, e.g. 0.229,0.224,0.225")
    g.add_argument("--channels", type=int, choices=(1, 3), default=None, help="1 for grayscale models (MNIST-style), 3 for RGB")


def model_options_from_args(args) -> dict:
    """Keyword arguments for ``load_classifier``/``load_model_file`` from the options above (only those set)."""
    out: dict[str, Any] = {}
    if getattr(args, "arch", None):
        out["arch"] = args.arch
    if getattr(args, "labels", None):
        out["labels"] = args.labels
    pre = {}
    for key in ("input_size", "resize", "mean", "std", "channels"):
        val = getattr(args, key, None)
        if val is not None:
            pre[key] = val
    if pre:
        out["preprocessing"] = pre
    return out
