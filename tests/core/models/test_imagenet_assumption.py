"""A 1000-class state dict of a torchvision architecture is read with that architecture's ImageNet labels and
preprocessing: the note says what was assumed, not what the user gave (a helper's CLI audit, session 43:
"assuming ImageNet-1k labels and the preprocessing of ResNet18_Weights.IMAGENET1K_V1" beside --labels, --mean, --std,
--input-size and --resize)."""

from __future__ import annotations

import pytest
import torch

from gradflip_desktop.core.models import Preprocessing
from gradflip_desktop.core.models.files import load_model_file
from gradflip_desktop.core.models.files.load import imagenet_assumption


@pytest.fixture(scope="module")
def squeeze(tmp_path_factory):
    import torchvision

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("m") / "my_finetune.pth"  # not torchvision's file name: the weights are assumed
    torch.save(torchvision.models.squeezenet1_1().state_dict(), path)
    return path


def _assumed(clf) -> list[str]:
    return [w for w in clf.warnings if "assuming" in w and "1000 classes" in w]


def test_nothing_given_assumes_the_labels_and_the_preprocessing(squeeze):
    clf = load_model_file(squeeze, arch="squeezenet1_1")
    assert _assumed(clf) == ["1000 classes: assuming ImageNet-1k labels and the preprocessing of "
                             "SqueezeNet1_1_Weights.IMAGENET1K_V1"]
    assert clf.labels[0] == "tench"


def test_labels_and_every_preprocessing_field_given_assume_nothing(squeeze, tmp_path):
    labels = [f"n{i}" for i in range(1000)]
    pre = {"input_size": [224, 224], "mean": [0.5] * 3, "std": [0.5] * 3, "resize": "squash"}
    clf = load_model_file(squeeze, arch="squeezenet1_1", labels=labels, preprocessing=pre)
    assert _assumed(clf) == [] and clf.labels[0] == "n0" and clf.preprocessing.mean == (0.5, 0.5, 0.5)


def test_only_what_was_not_given_is_named(squeeze):
    clf = load_model_file(squeeze, arch="squeezenet1_1", labels=[f"n{i}" for i in range(1000)],
                          preprocessing={"input_size": [160, 160], "mean": [0.5] * 3})
    assert _assumed(clf) == ["1000 classes: assuming the resize and std of SqueezeNet1_1_Weights.IMAGENET1K_V1"]
    whole = load_model_file(squeeze, arch="squeezenet1_1", preprocessing=Preprocessing(input_size=(200, 200)))
    assert _assumed(whole) == ["1000 classes: assuming ImageNet-1k labels"]  # a whole Preprocessing gives every field


def test_the_note_words_each_case():
    w = "X_Weights.IMAGENET1K_V1"
    assert imagenet_assumption(w, True, set()) == [f"1000 classes: assuming ImageNet-1k labels and the preprocessing of {w}"]
    assert imagenet_assumption(w, False, {"input_size", "resize", "mean", "std"}) == []
    assert imagenet_assumption(w, False, {"mean", "std"}) == [f"1000 classes: assuming the input size and resize of {w}"]
    assert imagenet_assumption(w, True, {"std"}) == [
        f"1000 classes: assuming ImageNet-1k labels, and the input size, resize and mean of {w}"]
