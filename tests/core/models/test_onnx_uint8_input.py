"""An ONNX file whose image input is uint8 (0-255). (found in the session-15 model hunt)."""

from __future__ import annotations

import importlib.util
import warnings

import pytest
import torch
from model_helpers import SmallCNN, assert_short_run, pixel_gradient

from gradflip_desktop.core.models import files as mf

HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnx2torch"))
needs_onnx = pytest.mark.skipif(not HAVE_ONNX, reason="the 'onnx' extra (onnx, onnx2torch) is not installed")


class Uint8ChannelsLast(torch.nn.Module):
    """TensorFlow-style: uint8 N x H x W x 3 pixels (0-255), cast and normalised inside the graph."""

    def __init__(self):
        super().__init__()
        self.cnn = SmallCNN(channels=3, classes=5, size=32, seed=2)

    def forward(self, x):
        return self.cnn((x.permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.5)


@needs_onnx
def test_an_onnx_model_with_uint8_input_is_fed_0_to_255(tmp_path, image):
    """It was fed ImageNet-normalised values (about -2…2) that it divided by 255 itself: every photo near black, a
    wrong answer without a word; 0-255 pixels give the model's own answer."""
    net = Uint8ChannelsLast().eval()
    path = tmp_path / "tf_uint8.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, 32, 32, 3, dtype=torch.uint8), str(path), dynamo=False, input_names=["image"])
    clf = mf.load_model_file(path)
    assert clf.preprocessing.mean == (0.0,) and clf.preprocessing.std == pytest.approx((1 / 255,))
    assert any("takes 8-bit input" in w for w in clf.warnings)
    x = torch.randint(0, 256, (1, 3, 32, 32), generator=torch.Generator().manual_seed(0)).float()
    with torch.no_grad():
        torch.testing.assert_close(clf.module(x / 255), net(x.permute(0, 2, 3, 1).to(torch.uint8)), atol=1e-4, rtol=1e-4)
    mine = mf.load_model_file(path, preprocessing={"mean": [0.5], "std": [0.25]})  # set by the user: kept
    assert mine.preprocessing.mean == (0.5,)
    assert float(pixel_gradient(clf, image).abs().sum()) > 0
