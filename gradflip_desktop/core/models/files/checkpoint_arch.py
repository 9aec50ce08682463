"""The architecture a training checkpoint names: timm's ``train.py`` saves ``arch`` and ``args.model`` next to the
weights; such a file loads without ``--arch`` (a torchvision name is left to the weights' keys, which decide it).

A timm checkpoint (``model_best.pth.tar``) was refused as "cannot tell which architecture" although it says which:
its keys fit no torchvision network, and timm's ~1,400 architectures are too many to try. The name is read only
when the pickle holds such an entry (a look at its strings, no tensor read), with the same weights-only load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ...errors import ModelError
from .safety import _pickle_globals, is_safetensors, load_weights

ENTRIES = ("arch", "args")  # the checkpoint's keys that may name its architecture
PICKLE_LOOK = 1 << 20  # bytes of a legacy (not zip) file's pickle looked at for those keys


def _names(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, where) the checkpoint names: ``args.model`` (timm's train.py: an argparse Namespace or a dict), ``arch``."""
    args = obj.get("args")
    model = args.get("model") if isinstance(args, Mapping) else getattr(args, "model", None)
    found = [(model, "args.model")] if isinstance(model, str) else []
    if isinstance(obj.get("arch"), str):
        found.append((obj["arch"], "arch"))
    return [(n.strip(), where) for n, where in found if n.strip()]


def named_architecture(path: Path, notes: list[str]) -> str | None:
    """``"timm:NAME"`` when the checkpoint at ``path`` names a timm architecture; ``None`` otherwise (the weights are
    then recognised by their keys, as before: a torchvision name is not taken on trust, its keys decide). A name
    both know (resnet50, efficientnet_b0) is timm's when the weights have timm's names, or, on a tie, when timm's
    train.py saved it (``args``). Decided on the pickle's strings (its keys and short values, nothing unpickled);
    the file is read only when it may name a timm network, to learn which entry names it."""
    try:
        strings = set() if is_safetensors(path) else _pickle_globals(path, PICKLE_LOOK)[1]
    except (OSError, ValueError):
        return None
    if not set(ENTRIES) & strings or not any(_timm_could(strings, s, "args" in strings) for s in strings):
        return None  # a torchvision checkpoint naming its arch (PyTorch's ImageNet example): read once, by its loader
    try:
        obj = load_weights(path)
    except (ModelError, OSError, ValueError):
        return None  # the load proper says what is wrong with the file
    if not isinstance(obj, Mapping):
        return None
    for name, where in _names(obj):
        if _timm_could(strings, name, where == "args.model"):
            notes.append(f"architecture timm:{name} named by the checkpoint's '{where}' entry (as timm's train.py saves it)")
            return f"timm:{name}"
    return None


def _timm_could(keys: set[str], name: str, tie: bool) -> bool:
    """``name`` is timm's network for weights with these ``keys``: timm knows it, and torchvision does not or the
    keys are more timm's (:func:`_timm_keys`)."""
    return _timm_knows(name) and (not _torchvision_knows(name) or _timm_keys(keys, name, tie))


def _timm_keys(keys: set[str], name: str, tie: bool = False) -> bool:
    """Whether the weights' names (``keys``, with any wrapper prefix) are more timm's ``name``'s than torchvision's
    ``name``'s (both know it: efficientnet_b0, resnet50 …; ``tie``: as many will do), each network built without
    memory (meta device)."""
    import timm  # noqa: PLC0415
    import torch  # noqa: PLC0415
    import torchvision  # noqa: PLC0415

    try:
        with torch.device("meta"):
            ours = set(timm.create_model(name, pretrained=False).state_dict())
            theirs = set(torchvision.models.get_model(name, weights=None).state_dict())
    except Exception:  # noqa: BLE001 - no verdict: torchvision's, as before
        return False
    tails = {k.split(".", i)[-1] for k in keys for i in range(k.count(".") + 1)}  # any wrapper prefix dropped
    return len(ours & tails) > len(theirs & tails) or (tie and len(ours & tails) == len(theirs & tails) > 0)


def _timm_knows(name: str) -> bool:
    try:
        import timm  # noqa: PLC0415 - optional extra
    except ImportError:
        return False
    try:
        return bool(timm.is_model(name))
    except Exception:  # noqa: BLE001 - an odd name
        return False


def _torchvision_knows(name: str) -> bool:
    try:
        import torchvision  # noqa: PLC0415 - optional extra
    except ImportError:
        return False
    return name in torchvision.models.list_models(module=torchvision.models)


__all__ = ["named_architecture"]
