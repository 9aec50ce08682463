"""Fixtures for the model tests: a seeded ResNet18 in a fake torch hub cache, a test image, no downloads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import make_resnet_files


@pytest.fixture(scope="module")
def resnet_files(tmp_path_factory):
    """A seeded ResNet18 saved under torchvision's file name inside a fake torch hub cache, and a
    10-class fine-tuned ResNet18 state dict."""
    pytest.importorskip("torchvision")  # part of the `test` extra
    return make_resnet_files(tmp_path_factory.mktemp("tv"))


@pytest.fixture
def image():
    rng = np.random.default_rng(3)
    return rng.uniform(0.2, 0.8, size=(48, 64, 3)).astype(np.float32)


@pytest.fixture
def no_download(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("GradFlip tried to download")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
