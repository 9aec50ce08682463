"""A training checkpoint that names its timm architecture (timm's train.py: ``arch``, ``args.model``) loads without
``--arch``; a torchvision checkpoint is still recognised by its keys; nothing else is read on trust."""

from __future__ import annotations

import argparse

import pytest
import torch

from gradflip_desktop.core.errors import ModelSettingError
from gradflip_desktop.core.models import files as mf
from gradflip_desktop.core.models.files import checkpoint_arch

timm = pytest.importorskip("timm")
torchvision = pytest.importorskip("torchvision")


def _timm_train_checkpoint(path, name="test_efficientnet", classes=6, args=True, arch=None):
    """What timm's train.py (CheckpointSaver) writes: epoch, arch, state_dict, optimizer, version, args, metric."""
    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False, num_classes=classes).eval()
    obj = {"epoch": 12, "arch": arch or type(model).__name__.lower(), "state_dict": model.state_dict(),
           "optimizer": {"state": {}, "param_groups": []}, "version": 2, "metric": 71.5}
    if args:
        obj["args"] = argparse.Namespace(model=name, num_classes=classes, lr=0.05, epochs=30)
    torch.save(obj, path)
    return model


def test_a_timm_train_checkpoint_loads_without_arch_with_timms_network_and_preprocessing(tmp_path):
    path = tmp_path / "model_best.pth.tar"
    ref = _timm_train_checkpoint(path)
    clf = mf.load_model_file(path)
    assert clf.name == "timm:test_efficientnet (6 classes, model_best.pth.tar)"
    assert "architecture timm:test_efficientnet named by the checkpoint's 'args.model' entry (as timm's train.py saves it)" \
        in clf.warnings
    h, w = ref.pretrained_cfg["input_size"][1:]
    assert clf.preprocessing.input_size == (h, w) and clf.preprocessing.resize == "center-crop"
    r = clf.preprocessing.resize_size  # the network input is the resized photo; its centre is cropped, as timm does
    x = torch.rand(1, 3, r, r, generator=torch.Generator().manual_seed(1))
    top, left = (r - h) // 2, (r - w) // 2
    mean = torch.tensor(ref.pretrained_cfg["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(ref.pretrained_cfg["std"]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = ref((x[..., top:top + h, left:left + w] - mean) / std)
        torch.testing.assert_close(clf.module(x), expected, atol=1e-5, rtol=1e-5)


def test_an_arch_entry_alone_names_timm_when_the_weights_have_timms_names(tmp_path):
    # efficientnet_b0 is a torchvision name too; these weights have timm's names (conv_stem, blocks …)
    path = tmp_path / "ck.pth.tar"
    _timm_train_checkpoint(path, name="efficientnet_b0", classes=4, args=False, arch="efficientnet_b0")
    clf = mf.load_model_file(path)
    assert clf.name.startswith("timm:efficientnet_b0 (4 classes")


def test_a_torchvision_checkpoint_naming_its_arch_stays_torchvisions(tmp_path):
    # PyTorch's ImageNet example saves {'arch': 'resnet18', 'state_dict': module.* keys}: timm knows resnet18 too,
    # with the same key names; no args: torchvision's, recognised by its keys as before
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=7)
    path = tmp_path / "checkpoint.pth.tar"
    torch.save({"epoch": 1, "arch": "resnet18", "state_dict": {f"module.{k}": v for k, v in net.state_dict().items()},
                "best_acc1": 31.0}, path)
    clf = mf.load_model_file(path)
    assert clf.name == "resnet18 (7 classes, checkpoint.pth.tar)"
    assert not any("named by the checkpoint" in w for w in clf.warnings)
    # decided on the pickle's strings: the file is read once, by torchvision's loader, not first by the peek
    from unittest import mock

    with mock.patch.object(checkpoint_arch, "load_weights", side_effect=AssertionError("read twice")):
        assert checkpoint_arch.named_architecture(path, []) is None


def test_a_name_timm_does_not_know_changes_nothing(tmp_path):
    path = tmp_path / "mine.pth"
    torch.manual_seed(0)
    net = timm.create_model("test_efficientnet", pretrained=False, num_classes=3)
    torch.save({"arch": "my_own_net", "args": {"model": "my_own_net"}, "state_dict": net.state_dict()}, path)
    with pytest.raises(ModelSettingError, match="cannot tell which architecture mine.pth is for"):
        mf.load_model_file(path)


def test_a_checkpoint_without_such_entries_is_not_read_twice(tmp_path, monkeypatch):
    path = tmp_path / "plain.pth"
    torch.save(timm.create_model("test_efficientnet", pretrained=False, num_classes=3).state_dict(), path)
    calls = []
    monkeypatch.setattr(checkpoint_arch, "load_weights", lambda p: calls.append(p))
    assert checkpoint_arch.named_architecture(path, []) is None and calls == []


def test_the_load_model_dialogs_inspection_shows_the_named_architecture(tmp_path):
    path = tmp_path / "model_best.pth.tar"
    _timm_train_checkpoint(path, name="test_vit", classes=3)
    info = mf.inspect_model_file(path)
    assert info.arch == "timm:test_vit" and not info.needs_arch
    plain = tmp_path / "plain.pth"
    torch.save(timm.create_model("test_vit", pretrained=False, num_classes=3).state_dict(), plain)
    assert mf.inspect_model_file(plain).needs_arch


def test_args_model_names_the_network_before_the_arch_entry(tmp_path):
    """timm's train.py builds the network from args.model; when the checkpoint's "arch" entry names another timm
    network, args.model still decides (mutation audit: reading "arch" first survived; it built the wrong network)."""
    path = tmp_path / "model_best.pth.tar"
    _timm_train_checkpoint(path, name="test_efficientnet", classes=6, arch="test_vit")
    clf = mf.load_model_file(path)
    assert clf.name == "timm:test_efficientnet (6 classes, model_best.pth.tar)"


def test_a_name_both_know_with_tied_keys_is_timms_when_train_py_saved_it(tmp_path):
    """resnet18's tensors have the same names in timm and torchvision: a tie, which args.model (timm's train.py)
    settles for timm (mutation audit: dropping the tie rule survived; torchvision's resnet18 was built, with its own
    preprocessing)."""
    path = tmp_path / "model_best.pth.tar"
    _timm_train_checkpoint(path, name="resnet18", classes=6, arch="resnet")
    clf = mf.load_model_file(path)
    assert clf.name == "timm:resnet18 (6 classes, model_best.pth.tar)"
    assert "architecture timm:resnet18 named by the checkpoint's 'args.model' entry (as timm's train.py saves it)" \
        in clf.warnings


def test_an_arch_entry_with_tied_keys_stays_torchvisions_though_the_checkpoint_has_args(tmp_path):
    """Only args.model wins a tie: another trainer's {"arch": "resnet18", "args": {...}} with torchvision's keys is
    torchvision's resnet18 (mutation audit: letting the "arch" entry win ties too survived)."""
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=7)
    path = tmp_path / "checkpoint.pth.tar"
    torch.save({"arch": "resnet18", "args": {"lr": 0.1}, "state_dict": net.state_dict()}, path)
    clf = mf.load_model_file(path)
    assert clf.name == "resnet18 (7 classes, checkpoint.pth.tar)"
    assert not any("named by the checkpoint" in w for w in clf.warnings)
