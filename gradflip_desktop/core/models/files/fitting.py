"""Fitting a state dict to an architecture (torchvision or timm): key prefixes, what does not fit, and
building the network without allocating it twice."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from ...errors import ModelError
from .safety import short_reason

__all__ = ["build_and_load", "headless_message", "key_diff", "mismatch_message", "shared_prefixes", "strip_framework_prefix"]


def key_diff(ref: Mapping[str, tuple[int, ...]], sd: Mapping[str, torch.Tensor]):
    """(missing keys, unexpected keys, [(key, file shape, architecture shape)]) of ``sd`` against ``ref``."""
    missing = [k for k in ref if k not in sd and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in sd if k not in ref]
    mismatched = [(k, tuple(sd[k].shape), ref[k]) for k in ref if k in sd and tuple(sd[k].shape) != ref[k]]
    return missing, unexpected, mismatched


def _keys_text(keys: Sequence[str], n: int = 4) -> str:
    return ", ".join(keys[:n]) + (", …" if len(keys) > n else "")


def mismatch_message(name: str, arch: str, missing, unexpected, mismatched, kind: str = "torchvision") -> str:
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys ({_keys_text(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys ({_keys_text(unexpected)})")
    if mismatched:
        shown = "; ".join(f"{k}: file {list(a)} vs {arch} {list(b)}" for k, a, b in mismatched[:3])
        parts.append(f"{len(mismatched)} shape mismatches ({shown}{'; …' if len(mismatched) > 3 else ''})")
    return f"the weights in {name} do not fit the {kind} architecture {arch}: " + ", ".join(parts)


def headless_message(name: str, arch: str, ref: Mapping[str, tuple[int, ...]], missing, unexpected,
                     mismatched) -> str | None:
    """The refusal of a feature extractor: every tensor fits ``arch`` but its last layer, the classifier head, is
    missing (``model.fc = nn.Identity()``, timm's ``num_classes=0``); None for any other misfit. It read "2 missing
    keys (fc.weight, fc.bias). Is the architecture right?", though the architecture was right."""
    params = [k for k in ref if not k.endswith("num_batches_tracked")]
    if unexpected or mismatched or not missing or len(missing) > 2 or sorted(missing) != sorted(params[-len(missing):]):
        return None
    if len(ref[missing[0]]) < 2 and len(ref.get(missing[-1], ())) < 2:  # the head's weight: a matrix or a 1×1 conv
        return None
    return (f"{name} is a {arch} without its classifier head ({', '.join(missing)} missing): a feature extractor "
            "(its head replaced by nn.Identity(), or timm's num_classes=0) gives no class scores to explain. Save "
            "the model with its trained head, or export the backbone and your own head together to TorchScript or ONNX")


def shared_prefixes(sd: Mapping[str, Any]) -> list[str]:
    """The dotted prefixes every key shares, shortest first: ``["backbone.", "backbone.model."]`` for keys
    ``backbone.model.conv1.weight``, … (what a training framework or a wrapper puts around a network: Lightning's
    ``model.``, a feature extractor's ``backbone.`` or ``encoder.``, both)."""
    out: list[str] = []
    prefix = ""
    while sd:
        head = next(iter(sd))[len(prefix):].split(".", 1)
        if len(head) < 2:
            break
        longer = prefix + head[0] + "."
        if not all(k.startswith(longer) and len(k) > len(longer) for k in sd):
            break
        out.append(longer)
        prefix = longer
    return out


def strip_framework_prefix(sd: dict[str, torch.Tensor], ref: Mapping[str, Any], notes: list[str]) -> dict[str, torch.Tensor]:
    """Strip the prefix every key shares (:func:`shared_prefixes`) that makes the rest fit the architecture best;
    ``sd`` unchanged when none fits better (a file saved as ``backbone.conv1.weight``, … was refused with 122
    unexpected keys, fitting resnet18 exactly without them)."""
    best, fit, chosen = sd, len(set(sd) & set(ref)), ""
    for prefix in shared_prefixes(sd):
        stripped = {k[len(prefix):]: v for k, v in sd.items()}
        if len(set(stripped) & set(ref)) > fit:
            best, fit, chosen = stripped, len(set(stripped) & set(ref)), prefix
    if chosen:
        notes.append(f"removed the '{chosen}' prefix of the weight names")
    return best


def _with_versions(sd: Mapping[str, torch.Tensor], net: nn.Module) -> Mapping[str, torch.Tensor]:
    """``sd`` with the architecture's current module versions as its metadata when it carries none (a safetensors
    file, or a dict made of a checkpoint): MNASNet, for one, refuses a state dict without its version. Batch norms'
    ``num_batches_tracked`` counters it lacks are 0 (the guess leaves them out, as older files and many safetensors
    conversions do; a batch norm of the current version no longer fills one in, and the strict load refused them)."""
    own = net.state_dict(keep_vars=True)
    counters = [k for k in own if k.endswith(".num_batches_tracked") and k not in sd]
    versions = getattr(sd, "_metadata", None)
    if versions is None:
        versions = getattr(own, "_metadata", None)
    if versions is None and not counters:
        return sd
    out = OrderedDict(sd)
    out.update((k, torch.zeros((), dtype=torch.long)) for k in counters)
    if versions is not None:
        out._metadata = versions  # type: ignore[attr-defined]
    return out


def _refuse_integer_weights(sd: Mapping[str, torch.Tensor], net: nn.Module, name: str, arch: str) -> None:
    """Refuse integer or boolean tensors where ``net`` computes in floating point: ``load_state_dict`` casts them
    without a word, and int8 weights (a quantised export without its scales, a wrong cast) made a network whose
    every answer was the same 10 % (all weights rounded to 0), shown as a valid model."""
    ints = [k for k, t in net.state_dict(keep_vars=True).items()
            if k in sd and t.is_floating_point() and not (sd[k].is_floating_point() or sd[k].is_complex())]
    if ints:
        kinds = " and ".join(sorted({str(sd[k].dtype).replace("torch.", "") for k in ints}))
        count = f"{len(ints)} tensor{'s' if len(ints) > 1 else ''}"
        raise ModelError(f"the weights in {name} are {kinds} where {arch} needs floating-point numbers ({count}: "
                         f"{_keys_text(ints, 3)}): a quantised or wrongly converted file; save the float weights "
                         "(before quantising)")


def build_and_load(build: Callable[[], nn.Module], sd: Mapping[str, torch.Tensor], name: str, arch: str) -> nn.Module:
    """``build()`` on the meta device and assign ``sd`` (no second copy of the weights); when that leaves
    a tensor unset (non-persistent buffers) or fails, build on the CPU and copy ``sd`` in."""
    net = meta_net = None
    try:
        with torch.device("meta"):
            meta_net = build()
    except Exception:  # noqa: BLE001 - built on the CPU below
        meta_net = None
    if meta_net is not None:
        _refuse_integer_weights(sd, meta_net, name, arch)
        try:
            meta_net.load_state_dict(_with_versions(sd, meta_net), strict=True, assign=True)
            if not any(t.is_meta for t in list(meta_net.parameters()) + list(meta_net.buffers())):
                net = meta_net
        except Exception:  # noqa: BLE001 - fall back to building on the CPU
            net = None
    if net is None:
        net = build()
        _refuse_integer_weights(sd, net, name, arch)
        try:
            net.load_state_dict(_with_versions(sd, net), strict=True)
        except (RuntimeError, ValueError, KeyError) as exc:  # a module's own loading hook may raise anything
            raise ModelError(f"the weights in {name} do not fit {arch}: {short_reason(exc, 500)}") from None
    return net.float()
