"""torchvision architectures: state dicts fitted to an architecture, torchvision's weight metadata,
and weights already in the torch hub cache.

torchvision is imported only when a torchvision architecture is needed (optional extra
``torchvision``); nothing here downloads.
"""

from __future__ import annotations

import difflib
import math
import re
import sys
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ...errors import ModelError, ModelSettingError, install_hint
from ..classifier import Preprocessing
from .fitting import (build_and_load, headless_message, key_diff, mismatch_message, shared_prefixes,
                      strip_framework_prefix)
from .heads import (accepted, collapse, collapsed_for_guess, head_note, head_refusal, replaced_head,
                    stack_refusal)
from .safety import checkpoint_labels, extract_state_dict, load_weights
from .timm import names_the_weights_fit

__all__ = [
    "CachedWeights",
    "cached_torchvision_weights",
    "guess_architectures",
    "hub_checkpoint_dir",
    "load_torchvision_state_dict",
    "own_input_size",
    "pre_from_weights",
    "torchvision_architectures",
    "tv_models",
    "tv_weights_for_file",
    "weights_name",
]

_TV_EXTRA = install_hint("torchvision", "torchvision")


def tv_models():
    try:
        import torchvision.models as tvm  # noqa: PLC0415 - only when a torchvision model is used
    except ImportError:
        raise ModelError(f"this model needs torchvision, which is not installed: {_TV_EXTRA}") from None
    return tvm


def torchvision_architectures() -> list[str]:
    """Names of torchvision's classification architectures (``[]`` when torchvision is missing)."""
    try:
        tvm = tv_models()
    except ModelError:
        return []
    return sorted(tvm.list_models(module=tvm))


@lru_cache(maxsize=1)
def _tv_weight_files() -> dict[str, tuple[str, Any]]:
    """torchvision weight file name (``resnet18-f37072fd.pth``) → (architecture, weights enum member)."""
    tvm = tv_models()
    out: dict[str, tuple[str, Any]] = {}
    for arch in tvm.list_models(module=tvm):
        try:
            enum = tvm.get_model_weights(arch)
        except Exception:  # noqa: BLE001 - an architecture without weights
            continue
        for w in enum:
            out[w.url.rsplit("/", 1)[-1]] = (arch, w)
    return out


def tv_weights_for_file(name: str) -> tuple[str, Any] | None:
    try:
        return _tv_weight_files().get(name)
    except ModelError:
        return None


def weights_name(w: Any) -> str:
    return f"{type(w).__name__}.{w.name}"


def pre_from_weights(w: Any) -> Preprocessing:
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


def own_input_size(net: nn.Module, arch: str) -> Preprocessing | None:
    """The input size of a torchvision network whose weights name no preprocessing (a fine-tune): a ViT's fixed
    ``image_size``, else the crop of the architecture's own ImageNet weights when it is not 224 (inception_v3 takes
    299, efficientnet_b3 300; read from torchvision's metadata, nothing downloaded); None for the usual 224."""
    if isinstance(getattr(net, "image_size", None), int):
        return Preprocessing(input_size=(net.image_size, net.image_size))
    try:
        crop = list(getattr(tv_models().get_model_weights(arch).DEFAULT.transforms(), "crop_size", [224]))
    except Exception:  # noqa: BLE001 - an architecture without weights metadata: the usual default
        return None
    return Preprocessing(input_size=(int(crop[0]), int(crop[-1]))) if int(crop[0]) != 224 else None


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
        """The model name to load it by (the file name; it is looked up in the cache)."""
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
        if hit is None or not f.is_file() or not _looks_like_weights(f):
            continue
        arch, w = hit
        out.append(CachedWeights(f, arch, weights_name(w), len(w.meta.get("categories") or []), f.stat().st_size))
    return out


def _looks_like_weights(f: Path) -> bool:
    """A file in the hub cache with torchvision's name could be anything (an interrupted download is empty
    or cut short): listed as ready to use only when it is a whole zip (torch.save's format; a cut-off one
    has no central directory at its end) or starts like a legacy torch.save pickle."""
    try:
        with open(f, "rb") as fh:
            head = fh.read(4)
        if head.startswith(b"PK\x03\x04"):
            return zipfile.is_zipfile(f)
    except OSError:
        return False
    return head[:1] == b"\x80"


def _arch_kwargs(arch: str, sd: Mapping[str, torch.Tensor] | None, tv_weights: Any) -> dict:
    kw: dict[str, Any] = {}
    if arch in ("googlenet", "inception_v3"):
        kw["init_weights"] = False
        has_aux = sd is None or any("aux" in k.lower() for k in sd)
        kw["aux_logits"] = has_aux
        # as torchvision does for its own weights, and every fine-tune of them inherits (it is not in the state dict:
        # built without it, a renamed fine-tune saw its input at about twice the contrast); not for a 1-channel stem
        kw["transform_input"] = not _one_channel_input(sd)
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


def _one_channel_input(sd: Mapping[str, torch.Tensor] | None) -> bool:
    """A GoogLeNet or Inception-v3 state dict whose first convolution takes 1 channel (transform_input needs 3)."""
    stem = next((v for k, v in (sd or {}).items() if k.endswith(("conv1.conv.weight", "Conv2d_1a_3x3.conv.weight"))), None)
    return stem is not None and stem.ndim == 4 and int(stem.shape[1]) == 1


def _reference_shapes(arch: str, **kw) -> dict[str, tuple[int, ...]] | None:
    """Parameter/buffer shapes of ``arch`` (built on the meta device, no memory); None if that fails."""
    tvm = tv_models()
    try:
        with torch.device("meta"):
            net = tvm.get_model(arch, weights=None, **kw)
    except Exception:  # noqa: BLE001 - some builders compute with tensors (RegNet); build on CPU
        return None
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _shapes_of(arch: str, **kw) -> dict[str, tuple[int, ...]]:
    ref = _reference_shapes(arch, **kw)
    if ref is None:
        net = tv_models().get_model(arch, weights=None, **kw)
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


def _fit(arch: str, sd: Mapping[str, torch.Tensor], tv_weights: Any) -> tuple[dict, int, list, list, list]:
    """Architecture kwargs and class count for ``sd`` on ``arch``, and what still does not fit."""
    kw = _arch_kwargs(arch, sd, tv_weights)
    ref = _shapes_of(arch, **kw)
    classes = _head_classes(ref, sd, 1000) or 1000
    if classes != 1000:
        ref = _shapes_of(arch, num_classes=classes, **kw)
    missing, unexpected, mismatched = key_diff(ref, sd)
    return {**kw, "num_classes": classes}, classes, missing, unexpected, mismatched


# Prefilter for guess_architectures: (architectures, by full name match; a tensor name each of them has).
# An architecture is built only when the state dict has the tensors its rows name; an architecture no row
# covers is always built. A row gone stale with another torchvision costs time, not the answer: when no
# candidate fits, every architecture is built and compared (it could hide only an architecture with the same
# tensors as a candidate, and no two torchvision architectures have those). Both are checked, for the
# installed torchvision, by tests/core/models/test_torchvision_guess.py.
_SIGNATURES = tuple((re.compile(p), k) for p, k in (
    (r"resnet\d+|wide_resnet\d+_2|resnext\d+_\d+x\d+d", "layer1.0.conv1.weight"),
    (r"resnet(34|50|101|152)|wide_resnet\d+_2|resnext\d+_\d+x\d+d", "layer1.2.conv1.weight"),
    (r"resnet(50|101|152)|wide_resnet\d+_2|resnext\d+_\d+x\d+d", "layer1.0.conv3.weight"),
    (r"resnet(101|152)|wide_resnet101_2|resnext101_\d+x\d+d", "layer3.6.conv1.weight"),
    (r"efficientnet_b\d", "features.1.0.block.1.fc1.weight"),
    (r"efficientnet_b[1-7]", "features.2.2.block.0.0.weight"),
    (r"efficientnet_b[4-7]", "features.2.3.block.0.0.weight"),
    (r"efficientnet_v2_[sml]", "features.6.13.block.0.0.weight"),
    (r"densenet\d+", "features.denseblock1.denselayer1.conv1.weight"),
    (r"densenet(161|169|201)", "features.denseblock3.denselayer25.conv1.weight"),
    (r"vit_[bhl]_\d+", "encoder.layers.encoder_layer_0.self_attention.in_proj_weight"),
    (r"vit_[hl]_\d+", "encoder.layers.encoder_layer_12.ln_1.weight"),
    (r"convnext_(tiny|small|base|large)", "features.1.0.layer_scale"),
    (r"convnext_(small|base|large)", "features.5.9.layer_scale"),
    (r"swin_[tsb]", "features.1.0.attn.relative_position_bias_table"),
    (r"swin_v2_[tsb]", "features.1.0.attn.logit_scale"),
    (r"swin_(v2_)?[sb]", "features.5.6.norm1.weight"),
    (r"maxvit_t", "blocks.0.layers.0.layers.MBconv.proj.1.weight"),
    (r"mobilenet_v3_(small|large)", "features.1.block.0.0.weight"),
    (r"mobilenet_v2", "features.1.conv.0.0.weight"),
    (r"mnasnet\d_\d+", "layers.8.0.layers.0.weight"),
    (r"shufflenet_v2_x\d_\d", "stage2.0.branch1.0.weight"),
    (r"vgg\d+(_bn)?", "classifier.3.weight"),
    (r"vgg\d+_bn", "features.1.running_mean"),
    (r"squeezenet1_\d", "features.3.squeeze.weight"),
    (r"alexnet", "classifier.4.weight"),
    (r"googlenet", "inception3a.branch1.conv.weight"),
    (r"inception_v3", "Mixed_5b.branch1x1.conv.weight"),
))


@lru_cache(maxsize=None)
def _guess_reference(arch: str, aux: bool = True) -> tuple[frozenset[str], dict[str, tuple[int, ...]], frozenset[str]] | None:
    """``arch``'s tensor names (without ``num_batches_tracked``), shapes and head tensors (first dim 1000),
    built once per process on the meta device; None when it cannot be built there (RegNets). ``aux``: GoogLeNet's and
    Inception-v3's auxiliary heads (torchvision's own weights drop GoogLeNet's: its fine-tunes have none)."""
    ref = _reference_shapes(arch, **_arch_kwargs(arch, None if aux else {}, None))
    if ref is None:
        return None
    keys = frozenset(k for k in ref if not k.endswith("num_batches_tracked"))
    return keys, ref, frozenset(k for k, s in ref.items() if s and s[0] == 1000)


def _fits(arch: str, sd: Mapping[str, torch.Tensor], keys: frozenset[str]) -> bool:
    got = _guess_reference(arch)
    if got is not None and got[0] != keys and arch in ("googlenet", "inception_v3"):
        got = _guess_reference(arch, aux=False)  # without the auxiliary heads
    if got is None or got[0] != keys:
        return False
    _, ref, heads = got
    off = [k for k in keys if tuple(sd[k].shape) != ref[k] and not (k in heads and tuple(sd[k].shape)[1:] == ref[k][1:])]
    # one convolution taking 1 channel where the architecture takes 3: the grayscale fine-tune the load accepts
    # (`model.conv1 = nn.Conv2d(1, 64, ...)`); guessed, not only with --arch
    return not off or _one_channel_stem([(k, tuple(sd[k].shape), ref[k]) for k in off]) is not None


def _could_fit(arch: str, keys: frozenset[str]) -> bool:
    return all(k in keys for p, k in _SIGNATURES if p.fullmatch(arch))


def guess_architectures(sd: Mapping[str, torch.Tensor]) -> list[str]:
    """torchvision architectures whose tensors match ``sd`` (names and shapes, the head's class count aside).

    Builds (on the meta device, once per process) only the architectures whose characteristic tensors
    ``sd`` has (``_SIGNATURES``); when none of those fits, every architecture, so the answer is that of
    the full comparison. RegNets are not tried (they cannot be built on the meta device).
    """
    keys = frozenset(k for k in sd if not k.endswith("num_batches_tracked"))
    archs = torchvision_architectures()
    hits = [a for a in archs if _could_fit(a, keys) and _fits(a, sd, keys)]
    if not hits and not _signatures_checked():  # another torchvision: a row may be stale, so the full check
        hits = [a for a in archs if _fits(a, sd, keys)]
    return hits


def guess_headless(sd: Mapping[str, torch.Tensor]) -> list[tuple[str, list[str]]]:
    """(architecture, its head tensors) for each torchvision architecture that ``sd`` fits but for the head: a feature
    extractor (``model.fc = nn.Identity()``), refused as such with ``--arch`` and by this guess without it (it read
    "the weights fit none of them"). The architectures ``_SIGNATURES`` allows only."""
    keys = frozenset(k for k in sd if not k.endswith("num_batches_tracked"))
    hits = []
    for arch in torchvision_architectures():
        got = _guess_reference(arch) if _could_fit(arch, keys) else None
        if got is None or not got[2] or got[0] - got[2] != keys:
            continue
        if all(tuple(sd[k].shape) == got[1][k] for k in keys):
            hits.append((arch, [k for k in got[1] if k in got[2]]))
    return hits


SIGNATURES_CHECKED = ("0.29",)  # torchvision releases whose architectures the rows were checked against


def _signatures_checked() -> bool:
    """Whether the installed torchvision is one ``_SIGNATURES`` was checked against (the tests check every row
    against the installed one): then no architecture the rows exclude can fit, and the full comparison, which
    builds all ~80 architectures (18 s for a custom network's weights, only to say "name the architecture"),
    is skipped."""
    tv_models()  # imports torchvision
    version = str(getattr(sys.modules.get("torchvision"), "__version__", "")).split("+")[0]  # "0.29.1+cpu"
    return any(version == v or version.startswith(v + ".") for v in SIGNATURES_CHECKED)


_DENSENET_LEGACY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$")


def _densenet_legacy_keys(sd: dict[str, torch.Tensor], notes: list[str]) -> dict[str, torch.Tensor]:
    """torchvision's own DenseNet files name layers ``denselayer1.norm.1.weight``; its loader renames them to
    ``norm1.weight`` (torchvision.models.densenet._load_state_dict), and so does this."""
    if not any(_DENSENET_LEGACY.match(k) for k in sd):
        return sd
    notes.append("DenseNet weights with torchvision's legacy layer names (norm.1 → norm1): renamed as torchvision does")
    return {(lambda m: m.group(1) + m.group(2) if m else k)(_DENSENET_LEGACY.match(k)): v for k, v in sd.items()}


def load_torchvision_state_dict(path: Path, arch: str | None, notes: list[str]) -> tuple[nn.Module, int, Any, str, list[str] | None]:
    """Build the torchvision network for ``path``; returns (net, class count, weights entry or None, arch,
    the labels the checkpoint carries or None)."""
    name = path.name
    hit = tv_weights_for_file(name)
    tv_weights = None
    if hit is not None and (arch is None or arch == hit[0]):
        arch, tv_weights = hit
    obj = load_weights(path)
    labels = checkpoint_labels(obj, path)
    sd, more = extract_state_dict(obj, name)
    notes.extend(more)
    sd = _densenet_legacy_keys(sd, notes)
    tvm = tv_models()
    if arch is None:
        stem = path.name.split(".", 1)[0]
        for candidate in (stem, stem.split("-", 1)[0]):
            if candidate in tvm.list_models(module=tvm):
                arch = candidate
                break
    if arch is None:
        # a Lightning module's self.model, a wrapper's backbone.: every name starts so (no torchvision architecture's do)
        for prefix in ("", *shared_prefixes(sd)):
            bare = {k[len(prefix):]: v for k, v in sd.items()}
            guesses = guess_architectures(bare)
            if not guesses:  # a fine-tune whose head was replaced by a Sequential (fc.1.* where resnet18 has fc.*)
                guesses = next((g for g in map(guess_architectures, collapsed_for_guess(bare)) if g), [])
            if guesses:
                break
        if len(guesses) == 1:
            arch = guesses[0]
            notes.append(f"architecture {arch} recognised from the weights")
        else:
            headless = guess_headless(bare) if not guesses else []
            if len(headless) == 1:
                arch, head = headless[0]
                raise ModelError(headless_message(name, arch, _shapes_of(arch), head, [], []))
            timm_fits = [] if guesses else [f"timm:{n}" for n in names_the_weights_fit(stem, sd)]
            regnet = not guesses and any(k.startswith("trunk_output.block1.block1-0.") for k in bare)
            hint = (f"; the weights fit: {', '.join(guesses)}" if guesses else
                    "; the weights look like a torchvision RegNet, which is not recognised from its weights: name it, "
                    "e.g. --arch regnet_y_400mf" if regnet else
                    f"; the weights fit no torchvision architecture; they fit {', '.join(timm_fits)}" if timm_fits else
                    "; the weights fit none of them: a model of your own class loads as TorchScript (torch.jit.script "
                    "or torch.jit.trace, then .save) or ONNX (torch.onnx.export) instead, a timm model by its architecture's name")
            raise ModelSettingError(
                f"cannot tell which architecture {name} is for "
                f"(a torchvision classification model such as resnet18, efficientnet_b0, vit_b_16, or a timm "
                f"architecture named timm:NAME){hint}",
                setting="architecture", suggestions=timm_fits,
            )
    known = tvm.list_models(module=tvm)
    if arch not in known:
        # closest spelling first ("resnt18": resnet18, not resnet101, resnet152, … in alphabetical order)
        close = difflib.get_close_matches(arch, known, n=6, cutoff=0.6) or [a for a in known if a.startswith(arch[:4])][:6]
        raise ModelError(
            f"unknown torchvision architecture {arch!r}" + (f"; did you mean {', '.join(close)}?" if close else "")
        )
    if arch in ("googlenet", "inception_v3") and tv_weights is None and not _one_channel_input(sd):
        notes.append(f"{arch} built with transform_input=True, as torchvision builds it for its ImageNet weights and "
                     "every fine-tune of them has it (a state dict does not say; one trained from scratch without it: "
                     "save it as TorchScript or ONNX)")
    # prefixes added by training frameworks
    ref0 = _shapes_of(arch, **_arch_kwargs(arch, sd, tv_weights))
    sd = strip_framework_prefix(sd, ref0, notes)
    kw, classes, missing, unexpected, mismatched = _fit(arch, sd, tv_weights)
    head = replaced_head(ref0, sd, missing, unexpected) if missing and unexpected else None
    if head is not None:  # model.fc = nn.Sequential(nn.Dropout(p), nn.Linear(...)): fc.1.* where resnet18 has fc.*
        if not accepted(head):
            raise ModelError(head_refusal(name, arch, head))
        sd = collapse(sd, head)
        kw, classes, missing, unexpected, mismatched = _fit(arch, sd, tv_weights)
        notes.append(head_note(name, arch, head))
    gray_stem = _one_channel_stem(mismatched) if not (missing or unexpected) else None
    if gray_stem is not None:  # conv1 replaced by a 1-channel one (MNIST, X-rays): the rest is the architecture's
        mismatched = []
        notes.append(f"{name} was trained on 1-channel input (its {gray_stem} takes 1 channel): built that way, fed "
                     "grayscale (luma)")
    headless = headless_message(name, arch, _shapes_of(arch, **kw), missing, unexpected, mismatched)
    if headless:
        raise ModelError(headless)
    if missing or unexpected or mismatched:
        stack = stack_refusal(name, arch, missing, unexpected) if not mismatched else None
        if stack is not None:
            raise ModelError(stack)
        msg = mismatch_message(name, arch, missing, unexpected, mismatched)
        guesses = [g for g in guess_architectures(sd) if g != arch]
        if guesses:
            msg += f". The weights fit {', '.join(guesses[:5])}"
        else:
            msg += ". Is the architecture right?"
        raise ModelSettingError(msg, setting="architecture", suggestions=guesses[:5])
    def build() -> nn.Module:
        net = tvm.get_model(arch, weights=None, **kw)
        if gray_stem is not None:
            parent_name, _, attr = gray_stem.rpartition(".")
            parent = net.get_submodule(parent_name) if parent_name else net
            old = getattr(parent, attr)
            setattr(parent, attr, nn.Conv2d(1, old.out_channels, old.kernel_size, old.stride, old.padding, old.dilation,
                                            old.groups, old.bias is not None, old.padding_mode))
        return net

    net = build_and_load(build, sd, name, arch)
    return net, classes, tv_weights, arch, labels


def _one_channel_stem(mismatched) -> str | None:
    """The name of the first convolution when the only thing that does not fit is its input channels, 1 in the
    file where the architecture has 3 (``model.conv1 = nn.Conv2d(1, 64, ...)``, the usual grayscale fine-tune)."""
    if len(mismatched) != 1:
        return None
    key, file_shape, arch_shape = mismatched[0]
    if (key.endswith(".weight") and len(file_shape) == 4 and len(arch_shape) == 4 and file_shape[1] == 1
            and arch_shape[1] == 3 and file_shape[0] == arch_shape[0] and file_shape[2:] == arch_shape[2:]):
        return key[: -len(".weight")]
    return None
