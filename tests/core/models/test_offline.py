"""GradFlip never downloads: every model source loads with the network blocked at the socket level."""

from __future__ import annotations

import socket
import urllib.request

import pytest
import torch
from model_helpers import RESNET18_FILE, hf_vit_folder, timm_checkpoint

from gradflip_desktop.core.models import load_classifier
from gradflip_desktop.core.models import files as mf


class NetworkBlocked(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Every way a library could reach the network raises (connect, DNS)."""
    calls: list[str] = []

    def refuse(what):
        def _refuse(*a, **k):
            calls.append(what)
            raise NetworkBlocked(f"network access attempted: {what}{a[1:2] if len(a) > 1 else a[:1]}")

        return _refuse

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # prove it without the libraries' own offline switches
        monkeypatch.delenv(var, raising=False)
    return calls


def test_the_block_works(no_network):
    with pytest.raises(Exception):
        urllib.request.urlopen("http://example.com", timeout=2)
    assert no_network  # the attempt was seen


def test_every_model_source_loads_and_classifies_offline(no_network, resnet_files, tmp_path, monkeypatch, image):
    pytest.importorskip("timm")
    pytest.importorskip("transformers")
    timm_path = tmp_path / "vit.safetensors"
    timm_checkpoint(timm_path, "test_vit", classes=3)
    hf = tmp_path / "hf-vit"
    hf_vit_folder(hf)
    monkeypatch.setenv("TORCH_HOME", str(resnet_files["torch_home"]))
    monkeypatch.chdir(tmp_path)
    models = [
        load_classifier(RESNET18_FILE),  # torchvision weights from the hub cache, by name
        mf.load_model_file(timm_path, arch="timm:test_vit"),
        mf.load_model_file(hf),
        load_classifier(None),  # the bundled default
    ]
    for clf in models:
        top = clf.classify(image, k=1)[0]
        assert 0 <= top.index < clf.num_classes and 0 < top.probability <= 1
    assert no_network == []  # nothing even tried
    assert torch.hub.get_dir().startswith(str(resnet_files["torch_home"]))
