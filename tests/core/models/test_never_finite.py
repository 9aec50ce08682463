"""A model that returns NaN or infinity for every image is refused when it is loaded (it joined the app's model list,
wrote its settings file and failed on every photo after); one that does so only on a plain grey image loads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import SmallCNN, script

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import Preprocessing, classifier_from_module
from gradflip_desktop.core.models import files as mf

PRE = {"input_size": 16}


class Broken(torch.nn.Module):
    """SmallCNN's scores times NaN: every output NaN, whatever the image."""

    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=4, size=16, seed=1)

    def forward(self, x):
        return self.net(x) * float("nan")


class Standardising(torch.nn.Module):
    """Divides each image by its own spread: NaN on a plain grey image (0 / 0), finite on any photo."""

    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=4, size=16, seed=1)

    def forward(self, x):
        centred = x - x.mean(dim=(1, 2, 3), keepdim=True)
        return self.net(centred / centred.std(dim=(1, 2, 3), keepdim=True))


def test_a_torchscript_file_of_nan_outputs_is_refused_at_load_and_writes_nothing(tmp_path):
    path = tmp_path / "nan.pt"
    script(Broken().eval(), path)
    with pytest.raises(ModelError, match=r"^nan\.pt returns NaN or infinity for every test image .*can classify "
                                         r"nothing"):
        mf.load_model_file(path, preprocessing=PRE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.pt"]  # no settings file beside it


def test_a_state_dict_of_nan_weights_is_refused_at_load(tmp_path):
    """A training run that diverged saves NaN weights: a torchvision state dict of them (a known architecture,
    whose class count the weights give) failed on every photo instead."""
    tv = pytest.importorskip("torchvision")
    net = tv.models.resnet18(num_classes=3)
    with torch.no_grad():
        net.fc.weight.fill_(float("nan"))
    path = tmp_path / "diverged.pth"
    torch.save(net.state_dict(), path)
    with pytest.raises(ModelError, match=r"^diverged\.pth returns NaN or infinity for every test image"):
        mf.load_model_file(path, arch="resnet18")
    with torch.no_grad():
        net.fc.weight.normal_(0, 0.01)
    torch.save(net.state_dict(), path)
    assert mf.load_model_file(path, arch="resnet18").num_classes == 3  # the same file with finite weights loads


def test_a_network_in_memory_of_nan_outputs_is_refused():
    with pytest.raises(ModelError, match=r"returns NaN or infinity for every test image"):
        classifier_from_module(Broken(), ["a", "b", "c", "d"], preprocessing=Preprocessing(input_size=(16, 16)))


def test_a_network_that_is_nan_only_on_a_plain_grey_image_loads_and_classifies_photos(tmp_path):
    path = tmp_path / "standardising.pt"
    script(Standardising().eval(), path)
    clf = mf.load_model_file(path, preprocessing=PRE)
    photo = np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    probs = clf.probabilities(photo)
    assert probs.shape == (4,) and np.all(np.isfinite(probs)) and abs(float(probs.sum()) - 1) < 1e-5
    mem = classifier_from_module(Standardising(), ["a", "b", "c", "d"], preprocessing=Preprocessing(input_size=(16, 16)))
    np.testing.assert_allclose(mem.probabilities(photo), probs, rtol=1e-5, atol=1e-7)


class Constant(torch.nn.Module):
    """Scores that do not depend on the image (an output layer of zeros: its bias alone)."""

    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=4, size=16, seed=1)
        self.bias = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0, 0.0]))

    def forward(self, x):
        return self.net(x) * 0.0 + self.bias


def test_a_model_whose_scores_do_not_depend_on_the_image_is_said_so_at_load(tmp_path):
    """It loaded without a word, and every run ended without a flip. A warning, not a refusal: what it says of a photo
    is still shown (a freshly initialised Hugging Face MobileViT returns 0 for every class of every image)."""
    said = "returns the very same scores for a plain grey image and a random one: they may not depend on the image"
    path = tmp_path / "const.pt"
    script(Constant().eval(), path)
    clf = mf.load_model_file(path, preprocessing=PRE)
    assert any(w.startswith(f"const.pt {said}") for w in clf.warnings), clf.warnings
    mem = classifier_from_module(Constant(), ["a", "b", "c", "d"], preprocessing=Preprocessing(input_size=(16, 16)))
    assert any(said in w for w in mem.warnings), mem.warnings
    path = tmp_path / "small.pt"  # the same network with its scores in use: no such words
    script(SmallCNN(channels=3, classes=4, size=16, seed=1).eval(), path)
    assert not any(said in w for w in mf.load_model_file(path, preprocessing=PRE).warnings)


class Masked(torch.nn.Module):
    """One class masked to -infinity for every image (the others are read)."""

    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=4, size=16, seed=1)

    def forward(self, x):
        return self.net(x) + torch.tensor([0.0, 0.0, 0.0, float("-inf")])


class Saturated(torch.nn.Module):
    """A softmax so confident that its probabilities are exactly [1, 0, 0, 0] on a grey and on a random image."""

    def __init__(self):
        super().__init__()
        self.net = SmallCNN(channels=3, classes=4, size=16, seed=1)

    def forward(self, x):
        return torch.softmax(self.net(x) + torch.tensor([200.0, 0.0, 0.0, 0.0]), dim=1)


def test_a_masked_class_or_saturated_probabilities_are_no_reason_to_refuse(tmp_path):
    """A class at -infinity leaves the others' shares finite (it was refused, its weights blamed); a softmax whose
    probabilities round alike on the two test images is read from its input where the graph allows (a traced
    network), and scores of probabilities kept as they are (TorchScript) are not compared: neither is said to
    ignore the image."""
    path = tmp_path / "masked.pt"
    script(Masked().eval(), path)
    assert mf.load_model_file(path, preprocessing=PRE).num_classes == 4
    said = "returns the very same scores"
    net = Saturated().eval()
    with torch.no_grad():
        grey, rand = net(torch.full((1, 3, 16, 16), 0.0)), net(torch.rand(1, 3, 16, 16))
    assert torch.equal(grey, rand)  # the premise: exactly alike
    traced = torch.fx.symbolic_trace(net)
    clf = classifier_from_module(traced, ["a", "b", "c", "d"], preprocessing=Preprocessing(input_size=(16, 16)))
    assert clf.num_classes == 4 and not any(said in w for w in clf.warnings), clf.warnings
    path = tmp_path / "saturated.pt"
    script(Saturated().eval(), path)
    clf = mf.load_model_file(path, preprocessing=PRE)
    assert clf.num_classes == 4 and not any(said in w for w in clf.warnings), clf.warnings
