"""Compute devices: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or ``"auto"`` to a device that exists."""

from __future__ import annotations

import torch

from ..errors import ModelError, ModelSettingError

__all__ = ["available_devices", "full_float32", "resolve_device"]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"`` -> a device that exists, or ModelError.

    A CUDA or MPS device that this machine lacks raises :class:`ModelSettingError` with
    ``setting="device"`` and ``suggestions=["cpu"]`` (the front end says how to choose another).
    """
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
            raise ModelSettingError(
                f"device {name!r} was chosen but no CUDA GPU is available to this PyTorch build "
                f"(torch {torch.__version__})",
                setting="device",
                suggestions=["cpu"],
            )
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            n = torch.cuda.device_count()
            raise ModelError(f"device {name!r}: this machine has {'only one CUDA device' if n == 1 else f'{n} CUDA devices'} "
                             f"(cuda:0{f' to cuda:{n - 1}' if n > 1 else ''})")
        return dev
    if name == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise ModelSettingError(
                "device 'mps' was chosen but Apple Metal (MPS) is not available here",
                setting="device",
                suggestions=["cpu"],
            )
        return torch.device("mps")
    raise ModelError(f"unknown device {device!r} (use cpu, cuda, cuda:N, mps or auto)")


def full_float32(device: torch.device) -> None:
    """On a CUDA device, convolutions in full float32: turn TF32 off in cuDNN (torch allows it there by default,
    with about 10 bits of mantissa). GradFlip's searches walk the decision boundary: with TF32 on an H200, a
    textbook run that flips on the CPU ended unflipped (budget_exhausted), and the blur style's
    change came out 8 % larger than the CPU's; without, every run flipped and the changes were within about
    2 % (``benchmarks/cuda_check.py``, docs/benchmarks.md), each run taking 1.2-1.6x the GPU time (medians per
    style, two runs on two machines, not side by side). Process-wide: torch has no per-model switch. Matrix products
    already default to full float32 in torch."""
    if device.type == "cuda":
        torch.backends.cudnn.allow_tf32 = False


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += ["cuda"] + [f"cuda:{i}" for i in range(1, torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices
