"""A bare assert on the input size (found in the session-15 model hunt), an assert with a message, and an
architecture given for a file that brings its own network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import SmallCNN, assert_short_run, script

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import files as mf


class _AssertsItsSize(torch.nn.Module):
    """Checks its input size with a bare ``assert`` (no message), as much hand-written code does."""

    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=1, classes=10, size=28)

    def forward(self, x):
        assert x.shape[-1] == 28
        return self.net(x)


def test_a_bare_assert_on_the_input_size_lets_the_size_be_found(tmp_path):
    """"AssertionError:" with no message was read as the model's own error ("no setting helps"), so the common
    sizes were never tried; the size and channel count are what it checks."""
    path = tmp_path / "asserts.pt"
    torch.jit.script(_AssertsItsSize()).save(str(path))
    clf = mf.load_model_file(path, trust_torchscript=True)
    assert clf.preprocessing.input_size == (28, 28) and clf.preprocessing.channels == 1
    with pytest.raises(ModelSettingError, match=r"check the input size and channel count"):
        mf.load_model_file(path, trust_torchscript=True, preprocessing={"input_size": [32, 32]})


class _AssertsWithAMessage(_AssertsItsSize):
    def forward(self, x):
        assert x.shape[-1] == 28, "need 28"
        return self.net(x)


def test_an_assert_with_its_own_message_lets_the_size_be_found_too(tmp_path):
    """``assert x.shape[-1] == 299, "need 299"`` stopped the size search ("the model's own code raised it"): only a
    bare assert was read as a size check."""
    path = tmp_path / "asserts_msg.pt"
    torch.jit.script(_AssertsWithAMessage()).save(str(path))
    clf = mf.load_model_file(path, trust_torchscript=True)
    assert clf.preprocessing.input_size == (28, 28) and clf.preprocessing.channels == 1


def test_an_architecture_given_for_a_torchscript_file_is_said_to_be_unused(tmp_path):
    """``--arch resnet18`` with a TorchScript file was ignored without a word."""
    path = tmp_path / "scripted.pt"
    torch.jit.script(_AssertsItsSize()).save(str(path))
    clf = mf.load_model_file(path, trust_torchscript=True, arch="resnet18")
    assert any("the architecture resnet18 is not used: scripted.pt is not a state dict" in n for n in clf.warnings)
    assert not any("architecture" in n for n in mf.load_model_file(path, trust_torchscript=True).warnings)
