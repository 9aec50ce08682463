"""An ONNX file exported with a fixed batch size > 1. (found in the session-15 model hunt)."""

from __future__ import annotations

import importlib.util
import warnings

import pytest
import torch
from model_helpers import SmallCNN, assert_short_run, pixel_gradient

from gradflip_desktop.core.models import files as mf

HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnx2torch"))
needs_onnx = pytest.mark.skipif(not HAVE_ONNX, reason="the 'onnx' extra (onnx, onnx2torch) is not installed")


class ViewBatch(torch.nn.Module):
    """SmallCNN with ``x.view(x.size(0), -1)``: exported at batch 4, the legacy exporter writes Reshape [4, -1]."""

    def __init__(self):
        super().__init__()
        self.cnn = SmallCNN(channels=3, classes=5, size=32)

    def forward(self, x):
        h = torch.max_pool2d(torch.relu(self.cnn.conv(x)), 2)
        return self.cnn.fc(h.view(x.size(0), -1))


@needs_onnx
def test_an_onnx_file_with_a_fixed_batch_of_4_takes_one_image(tmp_path, image):
    """It was refused as "failed on a 1×3×32×32 input (mat1 and mat2 shapes cannot be multiplied (4x… )); check the
    input size and channel count", when the size was right and the batch size was the problem."""
    net = ViewBatch().eval()
    path = tmp_path / "batch4.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(4, 3, 32, 32), str(path), dynamo=False, input_names=["image"])
    clf = mf.load_model_file(path)
    assert clf.num_classes == 5 and clf.preprocessing.input_size == (32, 32)
    assert any("fixed batch of 4" in w for w in clf.warnings)
    x = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))  # 6 images: a batch of 4 and one of 2
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        want = torch.cat([net(((x - mean) / std)[i : i + 1].expand(4, -1, -1, -1))[:1] for i in range(6)])
        torch.testing.assert_close(clf.module(x), want, atol=1e-5, rtol=1e-4)
    assert_short_run(clf, image)
