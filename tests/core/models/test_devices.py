"""Devices: a device this machine lacks is named (typed, for the front end's remedy); auto picks one that exists."""

from __future__ import annotations

import pytest
import torch
from model_helpers import SmallCNN, script

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import available_devices, resolve_device
from gradflip_desktop.core.models import files as mf


def test_missing_device_is_named(tmp_path, monkeypatch):
    path = tmp_path / "digits.pt"
    script(SmallCNN(), path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelError, match=r"device 'cuda' was chosen but no CUDA GPU is available"):
        mf.load_model_file(path, device="cuda", trust_torchscript=True)
    if getattr(torch.backends, "mps", None) is not None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ModelError, match=r"device 'mps' was chosen but Apple Metal \(MPS\) is not available"):
        mf.load_model_file(path, device="mps", trust_torchscript=True)


def test_cpu_and_auto_resolve_to_devices_that_exist(monkeypatch):
    assert resolve_device(None) == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if getattr(torch.backends, "mps", None) is not None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert available_devices() == ["cpu"]


def test_missing_devices_are_typed_for_the_front_end(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelSettingError) as err:
        resolve_device("cuda:0")
    assert err.value.setting == "device" and err.value.suggestions == ["cpu"]
    assert str(err.value) == f"device 'cuda:0' was chosen but no CUDA GPU is available to this PyTorch build (torch {torch.__version__})"
    with pytest.raises(ModelError, match=r"^unknown device 'tpu' \(use cpu, cuda, cuda:N, mps or auto\)$") as err:
        resolve_device("tpu")
    assert not isinstance(err.value, ModelSettingError)


def test_cuda_index_beyond_the_device_count_is_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ModelError, match=r"^device 'cuda:3': this machine has only one CUDA device \(cuda:0\)$"):
        resolve_device("cuda:3")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(ModelError, match=r"^device 'cuda:2': this machine has 2 CUDA devices \(cuda:0 to cuda:1\)$"):
        resolve_device("cuda:2")
    assert available_devices()[:2] == ["cpu", "cuda"]


def test_a_model_put_on_cuda_computes_in_full_float32(monkeypatch):
    """The searches walk the decision boundary: on CUDA, cuDNN's TF32 (torch's default there) made a run
    that flips on the CPU end unflipped on an H200; Classifier.to turns it off for CUDA, not for the CPU."""
    from helpers import make_tiny

    from gradflip_desktop.core.models.devices import full_float32

    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    full_float32(torch.device("cpu"))
    make_tiny().to("cpu")
    assert torch.backends.cudnn.allow_tf32 is True
    full_float32(torch.device("cuda", 0))
    assert torch.backends.cudnn.allow_tf32 is False
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    clf = make_tiny()
    monkeypatch.setattr(clf.module, "to", lambda dev: clf.module)  # no GPU here to move the weights to
    assert clf.to("cuda").device == torch.device("cuda") and torch.backends.cudnn.allow_tf32 is False


def test_the_device_list_names_cuda_once_then_the_other_gpus(monkeypatch):
    """Two GPUs: "cuda" (the first) and "cuda:1"; "cuda:0" would be the first one again (mutation audit: listing
    cuda:0 beside cuda survived)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert available_devices() == ["cpu", "cuda", "cuda:1"]
