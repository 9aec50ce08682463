"""timm architectures: ``arch="timm:NAME"`` builds ``timm.create_model(NAME, pretrained=False,
num_classes=…)`` and loads a checkpoint into it (``.pth``/``.bin``/``.safetensors``, plain or wrapped in
``state_dict``/``model``/``ema`` entries). The class count comes from the head's shape, the
preprocessing from the architecture's ``pretrained_cfg``. timm (optional extra ``timm``) is imported
only here and only when such a model is loaded; nothing is downloaded.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ...errors import ModelError, ModelSettingError, json_loads, install_hint
from ..classifier import Preprocessing
from ..prep_fields import INTERPOLATIONS, RESIZE_NOTE
from .fitting import build_and_load, headless_message, key_diff, mismatch_message, strip_framework_prefix
from .safety import checkpoint_labels, extract_state_dict, load_weights, short_reason

__all__ = ["TIMM_PREFIX", "is_timm_arch", "load_timm_state_dict", "pretrained_guess", "timm_folder", "timm_architectures",
           "timm_module", "timm_preprocessing"]

TIMM_PREFIX = "timm:"
TIMM_EXTRA = install_hint("timm safetensors", "timm")


def is_timm_arch(arch: str | None) -> bool:
    return bool(arch) and arch.strip().lower().startswith(TIMM_PREFIX)


def timm_module():
    try:
        import timm  # noqa: PLC0415 - optional extra, imported on demand
    except ImportError:
        raise ModelError(f"timm architectures need the timm package, which is not installed: {TIMM_EXTRA}") from None
    return timm


def timm_architectures() -> list[str]:
    """timm's architecture names (``[]`` when timm is not installed); for the GUI's completion."""
    try:
        return list(timm_module().list_models())
    except ModelError:
        return []


def _head_keys(cfg: Mapping[str, Any]) -> list[str]:
    heads = cfg.get("classifier") or []
    return [heads] if isinstance(heads, str) else list(heads)


def timm_preprocessing(cfg: Mapping[str, Any], notes: list[str] | None = None) -> Preprocessing:
    """Preprocessing of a timm ``pretrained_cfg``: input size, mean/std, crop (``crop_pct``) and interpolation (one
    GradFlip cannot take, e.g. ``nearest``: bilinear, said in ``notes``)."""
    c, h, w = tuple(cfg.get("input_size") or (3, 224, 224))
    crop_pct = cfg.get("crop_pct")
    mode = cfg.get("crop_mode") or "center"
    interp = str(cfg.get("interpolation") or "bilinear").lower()
    if interp not in INTERPOLATIONS and notes is not None:
        notes.append(f"the model was trained on images resized with {interp} interpolation{RESIZE_NOTE}")
    mean = tuple(float(v) for v in (cfg.get("mean") or (0.485, 0.456, 0.406)))
    std = tuple(float(v) for v in (cfg.get("std") or (0.229, 0.224, 0.225)))
    if c == 1:
        mean, std = mean[:1], std[:1]
    pre = dict(
        input_size=(int(h), int(w)),
        mean=mean,
        std=std,
        channels=1 if c == 1 else 3,
        interpolation=interp if interp in INTERPOLATIONS else "bilinear",
    )
    if crop_pct and mode != "squash" and (float(crop_pct) < 1.0 or (mode == "center" and float(crop_pct) == 1.0)):
        # timm: resize the short side to floor(size / crop_pct), then crop the centre; at crop_pct 1.0 (264 of timm's
        # architectures: caformer, efficientnetv2_s, *_384 fine-tunes) the crop still drops a wide photo's sides
        return Preprocessing(resize="center-crop", resize_size=int(math.floor(max(h, w) / float(crop_pct))), **pre)
    return Preprocessing(resize="squash", **pre)


def pretrained_guess(arch: str | None) -> Preprocessing | None:
    """The preprocessing timm's ``pretrained_cfg`` gives the architecture ``arch`` ("timm:name"), read without
    building the network (no download: the configs ship with timm); ``None`` for another name or without timm.
    The Load model dialog shows it for a checkpoint that names its timm architecture: a generic guess
    ("squash", ImageNet's mean) there was not what the model then ran with (timm's centre crop, bicubic)."""
    if not arch or not arch.startswith(TIMM_PREFIX):
        return None
    try:
        from timm.models import get_pretrained_cfg  # noqa: PLC0415 - optional extra

        cfg = get_pretrained_cfg(arch[len(TIMM_PREFIX):])
        return None if cfg is None else timm_preprocessing(cfg.to_dict())
    except Exception:  # noqa: BLE001 - an older timm or an odd config: the dialog keeps its generic guess
        return None


def _fit(timm, name: str, sd: Mapping[str, torch.Tensor]) -> str | None:
    """How the weights ``sd`` fit timm's ``name`` (built on the meta device; the head's class count aside): "built"
    as it is, "resized" built at the input and patch size a ViT's weights state (what ``--arch timm:NAME`` builds: a
    vit_tiny_patch16_224 trained at 32 px with 4 px patches was said to fit nothing, and loaded once named), or None."""
    try:
        with torch.device("meta"):
            net = timm.create_model(name, pretrained=False)
        ref = {k: tuple(v.shape) for k, v in net.state_dict().items()}
        # as the load does: a Lightning checkpoint's "model." keys fit once stripped (the load accepts them)
        bare = strip_framework_prefix(dict(sd), ref, [])
        if _fit_but_heads(net, ref, bare):
            return "built"
        geometry = _vit_geometry(net, ref, bare, {})
        if not geometry:
            return None
        with torch.device("meta"):
            net = timm.create_model(name, pretrained=False, **geometry)
        return "resized" if _fit_but_heads(net, {k: tuple(v.shape) for k, v in net.state_dict().items()}, bare) else None
    except Exception:  # noqa: BLE001 - a builder that cannot run on the meta device (or at that size): not claimed to fit
        return None


def _fit_but_heads(net: nn.Module, ref: Mapping[str, tuple[int, ...]], sd: Mapping[str, torch.Tensor]) -> bool:
    heads = {f"{h}.{p}" for h in _head_keys(dict(getattr(net, "pretrained_cfg", None) or {})) for p in ("weight", "bias")}
    missing, unexpected, mismatched = key_diff(ref, sd)
    return not missing and not unexpected and all(k in heads for k, _, _ in mismatched)


NAME_GUESSES = 12  # timm names close to a file's name tried against its weights (on the meta device, ~50 ms each)


def names_the_weights_fit(stem: str, sd: Mapping[str, torch.Tensor]) -> list[str]:
    """timm architectures named like the file (``vit_tiny_3.safetensors``: vit_tiny_patch16_224, …) that the weights
    ``sd`` fit, closest name first; ``[]`` without timm. For a state dict no torchvision architecture fits: it was
    refused with "the weights fit none of them" while a mistyped ``--arch timm:vit_tiny_patch16`` found the fit."""
    try:
        import timm  # noqa: PLC0415 - optional extra
    except ImportError:
        return []
    key = stem.strip().lower()
    if len(key) < 3:
        return []
    try:
        names = timm.list_models()
        parts = {n: set(re.split(r"[^a-z0-9]+", n)) for n in names}
        vocabulary = set().union(*parts.values()) if parts else set()
        words = {w for w in re.split(r"[^a-z0-9]+", key) if len(w) > 1 and not w.isdigit() and w in vocabulary}
        named = [n for n in names if words and words <= parts[n]]  # "vit", "tiny" (not "3", "finetuned") in the name
        named.sort(key=lambda n: -difflib.SequenceMatcher(None, key, n).ratio())
        close = difflib.get_close_matches(key, names, n=NAME_GUESSES, cutoff=0.3)
        tried = list(dict.fromkeys(named[:NAME_GUESSES] + close))[:NAME_GUESSES + 4]
        fits = {c: _fit(timm, c, sd) for c in tried}
        # names that fit as they are built; other input or patch sizes only when none does (a
        # vit_tiny_patch16_224 file also "fit" vit_tiny_patch16_384, whose settings differ)
        return [c for c in tried if fits[c] == "built"] or [c for c in tried if fits[c]]
    except Exception:  # noqa: BLE001 - a hint only: the refusal stands without it
        return []


def _unknown(timm, name: str, path: Path | None = None) -> ModelSettingError:
    """An unknown name: the close names, those the weights at ``path`` fit first (the first is the one suggested: the
    closest spelling, mobilenetv3_small_075 for "mobilenetv3_small_05", was offered for a small_050 file)."""
    names = timm.list_models()
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    fitting: list[str] = []
    if close and path is not None:
        try:
            sd, _ = extract_state_dict(load_weights(path), path.name)
            fitting = [c for c in close if _fit(timm, c, sd) is not None]
        except Exception:  # noqa: BLE001 - unreadable weights: their own error comes with the right name
            fitting = []
    if fitting:
        close = fitting + [c for c in close if c not in fitting]
        shown = ", ".join(f"{c} (the weights fit it)" if c in fitting else c for c in close)
        return ModelSettingError(f"unknown timm architecture {name!r}; did you mean {shown}?", setting="architecture",
                                 suggestions=[f"{TIMM_PREFIX}{c}" for c in fitting])
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    # none is known to fit: no suggestion to follow (the front ends would say "Use --arch X" / "X fits")
    return ModelSettingError(f"unknown timm architecture {name!r}{hint}", setting="architecture")


def load_timm_state_dict(path: Path, arch: str, notes: list[str], model_args: Mapping[str, Any] | None = None,
                         given: tuple = ()) -> tuple[nn.Module, int, Preprocessing, list[str] | None, str]:
    """Build timm's ``arch`` (``"timm:NAME"`` or ``"NAME"``) for the checkpoint at ``path``.

    Returns (net, class count, preprocessing from ``pretrained_cfg``, the checkpoint's own labels or
    ``None``, ``"timm:NAME"``). ``model_args``: more ``create_model`` arguments (a timm folder's, e.g. ``img_size``;
    the class count and input channels always come from the weights). ``given``: the sidecar's and the caller's
    preprocessing (a mapping or a :class:`Preprocessing`, either may be None): their input size builds a ViT whose
    position embeddings are for a non-square grid (160 × 224). Raises :class:`ModelError` naming what does not fit.
    """
    args = {k: v for k, v in (model_args or {}).items() if k not in ("num_classes", "in_chans", "pretrained")}
    timm = timm_module()
    name = arch.strip()[len(TIMM_PREFIX):] if is_timm_arch(arch) else arch.strip()
    if not name or not timm.is_model(name):
        raise _unknown(timm, name, path)
    obj = load_weights(path)
    labels = checkpoint_labels(obj, path)
    sd, more = extract_state_dict(obj, path.name)
    notes.extend(more)
    try:
        with torch.device("meta"):
            ref_net = timm.create_model(name, pretrained=False, **args)
    except Exception as exc:  # noqa: BLE001 - a timm builder that cannot run on the meta device
        try:
            ref_net = timm.create_model(name, pretrained=False, **args)
        except Exception:  # noqa: BLE001
            raise ModelError(f"cannot build the timm architecture {name}: {short_reason(exc)}") from None
    cfg = dict(getattr(ref_net, "pretrained_cfg", None) or {})
    ref = {k: tuple(v.shape) for k, v in ref_net.state_dict().items()}
    sd = strip_framework_prefix(sd, ref, notes)
    geometry = _vit_geometry(ref_net, ref, sd, args, _given_size(given), path.name)
    if geometry:  # a ViT trained at another input size (CIFAR's 32 px, 160 × 224): built at that size
        args = {**args, **geometry}
        h, w = (geometry["img_size"],) * 2 if isinstance(geometry["img_size"], int) else geometry["img_size"]
        cfg = {**cfg, "input_size": (3, h, w)}
        if max(h, w) < 224 or h != w:  # not cropped: a 32 px model would lose its border, a 160 × 224 one its sides
            cfg["crop_pct"], cfg["crop_mode"] = 1.0, "squash"
        notes.append(f"{path.name} is a {name} trained at {h}×{w} input (patch {geometry['patch_size']}): built "
                     "at that size")
        with torch.device("meta"):
            ref = {k: tuple(v.shape) for k, v in timm.create_model(name, pretrained=False, **args).state_dict().items()}
    classes = int(cfg.get("num_classes") or 1000)
    for head in _head_keys(cfg):
        w = sd.get(f"{head}.weight")
        if w is not None and w.ndim >= 1:
            classes = int(w.shape[0])
            break
    chans = _input_channels(cfg, sd)
    if chans not in (1, 3):
        raise ModelError(f"{path.name} takes {chans}-channel input; GradFlip feeds RGB (3) or grayscale (1) images")
    kwargs = {**args, "num_classes": classes, **({"in_chans": 1} if chans == 1 else {})}
    if classes != int(cfg.get("num_classes") or 1000) or chans != 3:
        with torch.device("meta"):
            ref = {k: tuple(v.shape) for k, v in timm.create_model(name, pretrained=False, **kwargs).state_dict().items()}
    missing, unexpected, mismatched = key_diff(ref, sd)
    headless = headless_message(path.name, f"{TIMM_PREFIX}{name}", ref, missing, unexpected, mismatched)
    if headless:
        raise ModelError(headless)
    if missing or unexpected or mismatched:
        # the architectures of the same family the weights do fit (--arch timm:resnet34 on a resnet18 file named none)
        family = re.sub(r"\d.*$", "", name) or name
        fits = [f for f in names_the_weights_fit(family, sd) if f != name]
        hint = f". The weights fit {', '.join(f'{TIMM_PREFIX}{f}' for f in fits[:3])}" if fits else ". Is the architecture right?"
        raise ModelSettingError(mismatch_message(path.name, name, missing, unexpected, mismatched, kind="timm") + hint,
                                setting="architecture", suggestions=[f"{TIMM_PREFIX}{f}" for f in fits[:3]])
    net = build_and_load(lambda: timm.create_model(name, pretrained=False, **kwargs), sd, path.name, name)
    if chans == 1:  # trained with in_chans=1: luma input, normalised by the average of the RGB mean/std
        _, h, w = tuple(cfg.get("input_size") or (3, 224, 224))
        mean, std = (tuple(cfg.get(k) or d) for k, d in (("mean", (0.485, 0.456, 0.406)), ("std", (0.229, 0.224, 0.225))))
        cfg = {**cfg, "input_size": (1, h, w), "mean": (sum(mean) / len(mean),), "std": (sum(std) / len(std),)}
        notes.append("the model takes 1-channel input: using grayscale (luma) input")
    return net, classes, timm_preprocessing(cfg, notes), labels, f"{TIMM_PREFIX}{name}"


def timm_folder(folder: Path) -> tuple[Path, str, list[str] | None, dict, dict] | None:
    """A model folder in timm's own Hub layout (``save_for_hf``/``push_to_hf_hub``: ``config.json`` naming the
    ``architecture``, no transformers ``model_type``): (weights file, architecture, label names or None,
    ``pretrained_cfg``, ``model_args``); ``None`` for any other folder."""
    try:
        cfg = json_loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("architecture"), str) or "model_type" in cfg:
        return None
    weights = next((folder / f for f in ("model.safetensors", "pytorch_model.bin") if (folder / f).is_file()), None)
    if weights is None:
        return None
    labels = cfg.get("label_names")
    labels = [str(v) for v in labels] if isinstance(labels, list) and labels else None
    pretrained = cfg.get("pretrained_cfg") if isinstance(cfg.get("pretrained_cfg"), dict) else {}
    args = cfg.get("model_args") if isinstance(cfg.get("model_args"), dict) else {}
    return weights, cfg["architecture"], labels, pretrained, args


def _given_size(given: tuple) -> tuple[int, int] | None:
    """The input size (height, width) the last of ``given`` (preprocessing mappings or objects) that names one names."""
    size = None
    for pre in given:
        value = pre.input_size if isinstance(pre, Preprocessing) else (pre or {}).get("input_size")
        if value is not None:
            try:
                size = Preprocessing(input_size=value).input_size
            except ModelError:  # a wrong value is refused with its own words when the preprocessing is read
                pass
    return size


def _vit_geometry(ref_net: nn.Module, ref: Mapping[str, tuple[int, ...]], sd: Mapping[str, torch.Tensor],
                  args: Mapping[str, Any], size: tuple[int, int] | None = None, file: str = "the file") -> dict:
    """``{"img_size", "patch_size"}`` for a timm ViT-style checkpoint (``pos_embed``, ``patch_embed.proj``) whose
    position embeddings are for another input size than the architecture's default (timm builds it at any size with
    ``img_size=``/``patch_size=``); ``{}`` when the sizes agree, were given, or cannot be read from the weights.
    A grid that is not square is read with the input ``size`` given (its patches must count the tokens), else
    refused asking for it (the token count alone does not tell 160 × 224 from 224 × 160)."""
    pos, proj = sd.get("pos_embed"), sd.get("patch_embed.proj.weight")
    if "img_size" in args or pos is None or proj is None or pos.ndim != 3 or proj.ndim != 4 or "pos_embed" not in ref:
        return {}
    if tuple(pos.shape) == ref["pos_embed"] and tuple(proj.shape) == ref.get("patch_embed.proj.weight"):
        return {}
    if proj.shape[-1] != proj.shape[-2]:
        return {}
    prefix = 0 if getattr(ref_net, "no_embed_class", False) else int(getattr(ref_net, "num_prefix_tokens", 1) or 0)
    tokens = int(pos.shape[1]) - prefix
    side, patch = math.isqrt(max(tokens, 0)), int(proj.shape[-1])
    if size is not None and not size[0] % patch and not size[1] % patch and size[0] * size[1] == tokens * patch * patch:
        return {"img_size": size if size[0] != size[1] else size[0], "patch_size": patch}
    if side < 1 or side * side != tokens:
        if tokens > 1 and size is None:  # e.g. 140 tokens of patch 16: 10 × 14, 160 × 224 (or 224 × 160) input
            rows = max(r for r in range(1, side + 1) if tokens % r == 0)
            raise ModelSettingError(
                f"{file}'s position embeddings are for {tokens} patches of {patch} px, not a square grid: its input size "
                f"is needed (height × width, e.g. {rows * patch}×{tokens // rows * patch})", setting="preprocessing")
        return {}
    return {"img_size": side * patch, "patch_size": patch}


def _input_channels(cfg: Mapping[str, Any], sd: Mapping[str, torch.Tensor]) -> int:
    """The input channels of the checkpoint's stem (``pretrained_cfg["first_conv"]``), 3 when it cannot tell."""
    first = cfg.get("first_conv") or []
    for key in [first] if isinstance(first, str) else list(first):
        w = sd.get(f"{key}.weight")
        if w is not None and w.ndim == 4:
            return int(w.shape[1])
    return 3
