"""TorchScript model files: ``torch.jit.load`` runs code stored in the file, so it is loaded only when trusted."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from ...errors import ModelError
from .safety import short_reason

__all__ = ["load_torchscript"]

# the scripted layers that compute otherwise in training mode (their original class names)
_MODE_DEPENDENT = ("Dropout", "AlphaDropout", "FeatureAlphaDropout", "BatchNorm", "SyncBatchNorm", "InstanceNorm", "LazyBatchNorm")


def load_torchscript(path: Path, trust: bool, notes: list[str]) -> nn.Module:
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
        raise ModelError(f"cannot load TorchScript file {path.name}: {short_reason(exc)}") from None
    notes.append(f"{path.name} is TorchScript: loading it runs code stored in the file; use only model files you trust")
    if any(m.training and getattr(m, "original_name", "").startswith(_MODE_DEPENDENT) for m in net.modules()):
        notes.append(f"{path.name} was saved in training mode: switched to evaluation mode (no dropout, batch-norm "
                     "running statistics), as for inference")  # the loader's eval(); a traced file is refused later
    return net
