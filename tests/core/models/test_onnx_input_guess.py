"""What the Load model dialog shows for an ONNX file with no saved settings: the input its graph fixes, the same as
the loader then uses (a 28 x 28 grayscale file showed 3 x 224 x 224 as a "generic guess")."""

from __future__ import annotations

import importlib.util
import warnings

import pytest
import torch
from model_helpers import SmallCNN, export_onnx

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import files as mf

HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnx2torch"))
pytestmark = pytest.mark.skipif(not HAVE_ONNX, reason="the 'onnx' extra (onnx, onnx2torch) is not installed")


class PooledCNN(torch.nn.Module):
    """Runs on any input size (global pooling): exported with a dynamic height and width."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


class Uint8ChannelsLast(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = SmallCNN(channels=3, classes=5, size=40, seed=3)

    def forward(self, x):
        return self.cnn(x.permute(0, 3, 1, 2).float() / 255.0)


def _same(shown, loaded):
    assert tuple(shown.input_size) == tuple(loaded.input_size)
    assert shown.channels == loaded.channels
    assert shown.mean == pytest.approx(loaded.mean) and shown.std == pytest.approx(loaded.std)


def test_a_fixed_grayscale_input_is_shown_as_the_loader_uses_it(tmp_path):
    path = tmp_path / "mnist_like.onnx"
    export_onnx(SmallCNN(channels=1, classes=10, size=28, seed=1), path, size=28, channels=1)
    info = mf.inspect_model_file(path)
    assert info.preprocessing is None and info.guess is not None
    assert tuple(info.guess.input_size) == (28, 28) and info.guess.channels == 1
    _same(info.guess, mf.load_model_file(path).preprocessing)


def test_an_8bit_channels_last_input_is_shown_as_the_loader_uses_it(tmp_path):
    path = tmp_path / "tf_uint8.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Uint8ChannelsLast().eval(), torch.zeros(1, 40, 40, 3, dtype=torch.uint8), str(path),
                          dynamo=False, input_names=["image"])
    guess = mf.inspect_model_file(path).guess
    assert guess is not None and tuple(guess.input_size) == (40, 40) and guess.channels == 3  # N x H x W x C read
    assert guess.mean == pytest.approx((0.0,) * len(guess.mean)) and guess.std[0] == pytest.approx(1 / 255)
    _same(guess, mf.load_model_file(path).preprocessing)


def test_a_dynamic_input_size_is_left_to_the_loader(tmp_path):
    path = tmp_path / "pooled.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(PooledCNN().eval(), torch.zeros(1, 3, 64, 64), str(path), dynamo=False, input_names=["image"],
                          dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}})
    assert mf.inspect_model_file(path).guess is None  # no size to show: the dialog says its values are a guess


def test_a_file_that_is_no_onnx_model_gives_no_guess_and_no_error(tmp_path, monkeypatch):
    import onnx

    path = tmp_path / "zeros.onnx"
    path.write_bytes(b"\0" * (1 << 20))
    parsed = []
    monkeypatch.setattr(onnx, "load", lambda *a, **k: parsed.append(a) or pytest.fail("parsed"))
    info = mf.inspect_model_file(path)
    assert info.guess is None and info.format == "onnx"
    assert parsed == []  # the first byte says it: a file of zeros is not parsed (3 GiB took 18 s)
    with pytest.raises(ModelError, match="not an ONNX model"):
        mf.load_model_file(path)
