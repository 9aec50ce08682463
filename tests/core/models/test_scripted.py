"""TorchScript model files: trust, grayscale input, input-size errors, single-logit binary classifiers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import SmallCNN, assert_short_run, pixel_gradient, script

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import files as mf


def test_torchscript_warns_that_it_runs_code_and_can_be_refused(tmp_path):
    path = tmp_path / "digits.pt"
    script(SmallCNN(), path)
    assert mf.detect_format(path) == "torchscript"
    clf = mf.load_model_file(path, preprocessing={"input_size": [28, 28]})
    assert any("runs code stored in the file" in w for w in clf.warnings)
    with pytest.raises(ModelError, match=r"digits\.pt is a TorchScript file\. Loading TorchScript runs code"):
        mf.load_model_file(path, trust_torchscript=False)


def test_torchscript_grayscale_model_with_labels_and_preprocessing(tmp_path, image):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    labels = tmp_path / "digits.txt"
    labels.write_text("".join(f"digit {i}\n" for i in range(10)), encoding="utf-8")
    pre = {"input_size": 28, "channels": 1, "mean": [0.1307], "std": [0.3081]}
    clf = mf.load_model_file(path, trust_torchscript=True, labels=labels, preprocessing=pre)
    assert clf.num_classes == 10 and clf.labels[3] == "digit 3"
    assert clf.preprocessing.channels == 1 and clf.preprocessing.input_size == (28, 28)
    assert clf.preprocessing.mean == (0.1307,) and clf.preprocessing.std == (0.3081,)
    assert "digits.pt is TorchScript: loading it runs code stored in the file; use only model files you trust" in clf.warnings
    g = pixel_gradient(clf, image)
    assert g.shape == (1, 3, 48, 64) and float(g.abs().sum()) > 0
    assert_short_run(clf, image)


def test_torchscript_channel_count_is_detected_when_only_the_size_is_given(tmp_path):
    path = tmp_path / "gray.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    clf = mf.load_model_file(path, trust_torchscript=True, preprocessing={"input_size": [28, 28]})
    assert clf.preprocessing.channels == 1
    assert "the model takes 1-channel input: using grayscale (luma) input" in clf.warnings


def test_model_that_cannot_take_the_input_size_says_so(tmp_path):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    with pytest.raises(ModelSettingError, match=r"digits\.pt failed on a 1×3×224×224 input .*check the input size and channel count$") as err:
        mf.load_model_file(path, trust_torchscript=True)
    assert err.value.setting == "preprocessing"  # the CLI adds "(--input-size, --channels)"


def test_single_logit_binary_classifier_is_two_classes(tmp_path, image):
    path = tmp_path / "binary.pt"
    script(SmallCNN(channels=3, classes=1, size=16, seed=2), path)
    pre = {"input_size": 16}
    clf = mf.load_model_file(path, trust_torchscript=True, preprocessing=pre, labels=["no cat", "cat"])
    assert clf.num_classes == 2 and clf.labels == ["no cat", "cat"]
    z = clf.logits(image)
    assert z.shape == (1, 2) and float(z[0, 0]) == 0.0
    p = clf.probabilities(image)
    assert p[1] == pytest.approx(float(torch.sigmoid(z[0, 1].double())), rel=1e-6)
    assert_short_run(clf, image)
    with pytest.raises(ModelError, match=r"3 labels were given but binary\.pt has 2 classes \(a single-logit binary classifier needs 2 labels"):
        mf.load_model_file(path, trust_torchscript=True, preprocessing=pre, labels=["a", "b", "c"])


def test_half_precision_torchscript_is_computed_in_float32(tmp_path, image):
    """A model scripted after .half(): not refused as if its input size were wrong, but run in float32."""
    path = tmp_path / "half.pt"
    net = SmallCNN(channels=3, classes=4, size=28).eval()
    torch.jit.save(torch.jit.script(net.half()), str(path))
    clf = mf.load_model_file(path, preprocessing={"input_size": [28, 28]})
    assert "half.pt stores float16 weights: computing in float32" in clf.warnings
    assert all(p.dtype == torch.float32 for p in clf.module.parameters())
    reference = net.float()(torch.full((1, 3, 28, 28), 0.5).sub(torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
                            .div(torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)))
    torch.testing.assert_close(clf.logits(torch.full((1, 3, 28, 28), 0.5)), reference, rtol=0, atol=0)
    g = pixel_gradient(clf, image)
    assert float(g.abs().sum()) > 0


def test_a_model_ending_in_softmax_shows_its_own_probabilities(tmp_path, image):
    """A deployment export that ends in softmax: GradFlip's softmax on top would show a 55 % decision as
    ~15 %; its outputs are recognised as probabilities and their logarithm used (softmax(log p) = p)."""
    net = SmallCNN(channels=3, classes=4, size=28).eval()
    with torch.no_grad():
        net.fc.weight.mul_(40)  # a confident model
    path = tmp_path / "with_softmax.pt"
    torch.jit.save(torch.jit.script(torch.nn.Sequential(net, torch.nn.Softmax(dim=1)).eval()), str(path))
    clf = mf.load_model_file(path, preprocessing={"input_size": [28, 28]})
    assert "with_softmax.pt outputs probabilities (they sum to 1): their logarithm is used as class scores" in clf.warnings
    x = torch.rand(1, 3, 28, 28)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = torch.softmax(net((x - mean) / std), 1)[0].double().numpy()
    np.testing.assert_allclose(clf.probabilities(x), expected, rtol=1e-4, atol=1e-6)
    g = pixel_gradient(clf, image)
    assert torch.isfinite(g).all() and float(g.abs().sum()) > 0
    # a model giving logits is left alone
    plain = tmp_path / "logits.pt"
    torch.jit.save(torch.jit.script(net), str(plain))
    assert not any("probabilities" in w for w in mf.load_model_file(plain, preprocessing={"input_size": [28, 28]}).warnings)
