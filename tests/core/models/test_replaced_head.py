"""A fine-tune whose head was replaced by nn.Sequential(nn.Dropout(p), nn.Linear(...)), the usual fine-tune head:
its weights are fc.1.* where resnet18 has fc.*. Loaded as the architecture's head (the same function at eval);
any other replaced head is refused saying so, never loaded with a guess at its layers."""

from __future__ import annotations

import pytest
import torch
from model_helpers import assert_same_logits, seeded_resnet18
from torch import nn

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import files as mf

pytest.importorskip("torchvision")


def _resnet(tmp_path, head: nn.Module, name: str = "ft.pth"):
    net = seeded_resnet18(5, seed=2)
    net.fc = head
    path = tmp_path / name
    torch.save(net.eval().state_dict(), path)
    return net, path


@pytest.mark.parametrize("arch", [None, "resnet18"])
def test_dropout_linear_head_loads_as_the_same_network(tmp_path, arch):
    net, path = _resnet(tmp_path, nn.Sequential(nn.Dropout(0.3), nn.Linear(512, 5)))
    clf = mf.load_model_file(path, arch=arch)
    assert clf.num_classes == 5 and clf.name.startswith("resnet18 ")
    assert any("its head fc is read as nn.Sequential(Dropout, Linear)" in w for w in clf.warnings), clf.warnings
    assert_same_logits(clf, net, 224)


def test_relu_before_the_linear_is_the_same_on_resnet_features(tmp_path):
    """A ReLU at index 0 looks like a Dropout in the state dict; on a ResNet's pooled features (>= 0) it does nothing."""
    net, path = _resnet(tmp_path, nn.Sequential(nn.ReLU(), nn.Linear(512, 5)))
    assert_same_logits(mf.load_model_file(path), net, 224)


@pytest.mark.parametrize("head, said", [
    (nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(512, 5)), "its Linear at index 2"),
    (nn.Sequential(nn.Linear(512, 5), nn.Softmax(1)), "its Linear at index 0"),
    (nn.Sequential(nn.Linear(512, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 5)), "replaced by a stack of layers"),
])
def test_other_replaced_heads_are_refused_saying_why(tmp_path, head, said):
    _, path = _resnet(tmp_path, head)
    with pytest.raises(ModelError, match="export the model to TorchScript") as err:
        mf.load_model_file(path, arch="resnet18")
    assert said in str(err.value) and "head fc" in str(err.value)


def test_a_replaced_parent_module_maps_to_the_head_inside_it():
    """torchvision's ViT has heads.head; model.heads = Sequential(Dropout, Linear) saves heads.1.*. mobilenet_v3's
    classifier holds two Linears: replacing all of it by one Linear is not this case."""
    from gradflip_desktop.core.models.files.heads import replaced_head

    sd = {"heads.1.weight": torch.zeros(3, 768), "heads.1.bias": torch.zeros(3)}
    ref = {"heads.head.weight": (1000, 768), "heads.head.bias": (1000,)}
    found = replaced_head(ref, sd, ["heads.head.weight", "heads.head.bias"], list(sd))
    assert (found.head, found.replaced, found.index) == ("heads.head", "heads", 1)
    sd = {"classifier.1.weight": torch.zeros(3, 576), "classifier.1.bias": torch.zeros(3)}
    ref = {"classifier.0.weight": (1024, 576), "classifier.0.bias": (1024,), "classifier.3.weight": (1000, 1024),
           "classifier.3.bias": (1000,)}
    assert replaced_head(ref, sd, ["classifier.3.weight", "classifier.3.bias"], list(sd)) is None
    wrong_width = {"heads.1.weight": torch.zeros(3, 512), "heads.1.bias": torch.zeros(3)}
    assert replaced_head({"heads.head.weight": (1000, 768), "heads.head.bias": (1000,)}, wrong_width,
                         ["heads.head.weight", "heads.head.bias"], list(wrong_width)) is None


def test_a_replaced_module_holding_other_layers_with_weights_is_not_read_as_one_head():
    """mobilenet_v3's classifier is Linear(576, 1024), Hardswish, Dropout, Linear(1024, 1000): a file whose
    classifier is Sequential(Linear(576, 1024), Linear(1024, 3)) fits its shapes (classifier.0.* kept, classifier.1.*
    where classifier.3.* is missing) but not its layers: not taken for a replaced head, whatever the widths."""
    from gradflip_desktop.core.models.files.heads import replaced_head

    ref = {"classifier.0.weight": (1024, 576), "classifier.0.bias": (1024,), "classifier.3.weight": (1000, 1024),
           "classifier.3.bias": (1000,)}
    sd = {"classifier.0.weight": torch.zeros(1024, 576), "classifier.0.bias": torch.zeros(1024),
          "classifier.1.weight": torch.zeros(3, 1024), "classifier.1.bias": torch.zeros(3)}
    assert replaced_head(ref, sd, ["classifier.3.weight", "classifier.3.bias"],
                         ["classifier.1.weight", "classifier.1.bias"]) is None


def test_a_stack_of_layers_is_named_by_the_innermost_module_holding_all_of_it():
    """ViT's heads.head replaced by a stack (heads.head.0, heads.head.3): the head heads.head is named, not heads;
    a stack standing for all of heads (heads.0, heads.3) names heads."""
    from gradflip_desktop.core.models.files.heads import stack_refusal

    missing = ["heads.head.weight", "heads.head.bias"]
    inner = ["heads.head.0.weight", "heads.head.0.bias", "heads.head.3.weight", "heads.head.3.bias"]
    assert stack_refusal("ft.pth", "vit_b_16", missing, inner).startswith(
        "ft.pth's head heads.head was replaced by a stack of layers (heads.head.0.weight, heads.head.3.weight) where "
        "vit_b_16 has one Linear (heads.head).")
    outer = ["heads.0.weight", "heads.0.bias", "heads.3.weight", "heads.3.bias"]
    assert stack_refusal("ft.pth", "vit_b_16", missing, outer).startswith("ft.pth's head heads was replaced by a stack")
    assert stack_refusal("ft.pth", "vit_b_16", missing, ["other.0.weight"]) is None
