"""A confident model that ends in a sigmoid or softmax: its output rounds to exactly 100 % in float32, where
log(p) has no gradient. ONNX files (torch.fx graphs) are read from the last operation's input instead; where
that is not possible (TorchScript) the run says why it cannot change the photo."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from model_helpers import SmallCNN, export_onnx, script
from torch import nn

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.models import files as mf
from gradflip_desktop.core.models.classifier import PixelSpaceModel
from gradflip_desktop.core.options import ExplainOptions, Status

HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnx2torch"))
needs_onnx = pytest.mark.skipif(not HAVE_ONNX, reason="the 'onnx' extra (onnx, onnx2torch) is not installed")


class Confident(nn.Module):
    """SmallCNN's scores times 1000 (a very confident model), then a sigmoid or a softmax."""

    def __init__(self, classes: int, final: str):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=classes, size=32, seed=4)
        self.act = nn.Sigmoid() if final == "sigmoid" else nn.Softmax(dim=1)

    def forward(self, x):
        return self.act(self.net(x) * 1000.0)


CASES = [(1, "sigmoid", ["no", "yes"]), (3, "softmax", ["a", "b", "c"])]


@needs_onnx
@pytest.mark.parametrize("classes,final,labels", CASES)
def test_a_saturated_onnx_model_keeps_its_gradient_and_flips(tmp_path, image, classes, final, labels):
    model = Confident(classes, final).eval()
    path = tmp_path / f"confident_{final}{classes}.onnx"
    export_onnx(model, path, 32)
    clf = mf.load_model_file(path, labels=labels)
    with torch.no_grad():  # the model's own output for the photo: saturated
        assert float(PixelSpaceModel(model, clf.preprocessing)(clf.image_tensor(image)).max()) == 1.0
    res = run(clf, image, ExplainOptions(style="free", max_steps=60, key_pixels=False))
    assert res.status == Status.FLIPPED, res.message


def test_a_saturated_torchscript_model_says_why_nothing_changes(tmp_path, image):
    path = tmp_path / "confident.pt"
    script(Confident(1, "sigmoid"), path)
    clf = mf.load_model_file(path, labels=["no", "yes"])
    assert any("ends in a sigmoid" in w for w in clf.warnings)
    for style in ("free", "region"):
        res = run(clf, image, ExplainOptions(style=style, max_steps=5, key_pixels=False))
        assert res.status == Status.ZERO_GRADIENT
        assert "saturated" in res.message and "logits" in res.message, res.message


class SqueezedSigmoid(nn.Module):
    """A binary model trained with BCE, saved as ``torch.sigmoid(z).squeeze(1)``: one probability per image, [N]."""

    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=1, size=32, seed=4)

    def forward(self, x):
        return torch.sigmoid(self.net(x) * 5.0).squeeze(1)


@pytest.mark.parametrize("fmt", ["torchscript", pytest.param("onnx", marks=needs_onnx)])
def test_a_squeezed_sigmoid_output_is_read_as_a_probability(tmp_path, image, fmt):
    model = SqueezedSigmoid().eval()
    path = tmp_path / ("squeezed.pt" if fmt == "torchscript" else "squeezed.onnx")
    if fmt == "torchscript":
        with torch.no_grad():
            torch.jit.trace(model, torch.zeros(1, 3, 32, 32)).save(str(path))
    else:
        export_onnx(model, path, 32)
    clf = mf.load_model_file(path, labels=["no", "yes"])
    assert any(w.startswith(f"{path.name} ends in a sigmoid") for w in clf.warnings), clf.warnings
    with torch.no_grad():
        p = float(PixelSpaceModel(model, clf.preprocessing)(clf.image_tensor(image))[0, 0])
    top = clf.classify(image, k=1)[0]
    assert top.index == int(p > 0.5)
    assert top.probability == pytest.approx(max(p, 1 - p), rel=1e-4)
