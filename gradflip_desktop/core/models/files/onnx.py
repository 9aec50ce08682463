"""ONNX model files, converted to PyTorch with onnx2torch (optional extra ``onnx``) so that gradients exist."""

from __future__ import annotations

import re
from pathlib import Path

from torch import nn

from ...errors import ModelError
from .safety import short_reason

__all__ = ["load_onnx"]

_ONNX_EXTRA = "pip install 'gradflip-desktop[onnx]' (installs onnx and onnx2torch)"


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


def load_onnx(path: Path) -> tuple[nn.Module, tuple[int, ...] | None]:
    onnx, onnx2torch = _onnx_modules()
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot read ONNX file {path.name}: {short_reason(exc)}") from None
    shape = _onnx_input_shape(model)
    try:
        net = onnx2torch.convert(model)
    except NotImplementedError as exc:
        m = re.search(r"operation_type='([^']+)'.*?version=(\d+)", str(exc))
        what = f"the ONNX operator {m.group(1)} (opset {m.group(2)})" if m else "an ONNX operator"
        raise ModelError(
            f"{path.name} uses {what}, which onnx2torch cannot convert to PyTorch, so GradFlip cannot take "
            f"gradients through it. Re-export the model without it or with another opset ({short_reason(exc, 200)})"
        ) from None
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot convert ONNX file {path.name} to PyTorch: {short_reason(exc)}") from None
    return net, shape
