"""Nested wrapper prefixes (_orig_mod.module., module.module.) are removed. (found in the session-15 model hunt)."""

from __future__ import annotations

import pytest
import torch
from model_helpers import assert_short_run

from gradflip_desktop.core.models import files as mf

tv = pytest.importorskip("torchvision")  # part of the `test` extra


@pytest.mark.parametrize("prefix", ["_orig_mod.module.", "module.module.", "module._orig_mod."])
def test_nested_wrapper_prefixes_are_removed(resnet_files, tmp_path, prefix):
    """torch.compile(DDP(model)).state_dict() names its tensors "_orig_mod.module.conv1.weight"; an EMA copy of a
    DDP model "module.module.": both wrappers go, as each alone does (they were kept: "Is the architecture right?")."""
    ft = resnet_files["ft"]
    path = tmp_path / "nested.pth"
    torch.save({prefix + k: v for k, v in ft.state_dict().items()}, path)
    for arch in ("resnet18", None):
        clf = mf.load_model_file(path, arch=arch)
        assert clf.num_classes == 10
        torch.testing.assert_close(clf.module.net.fc.weight, ft.fc.weight)


@pytest.mark.parametrize("prefix", ["backbone.", "encoder.", "model.backbone."])
def test_a_wrappers_own_prefix_is_removed_when_the_rest_fits(resnet_files, tmp_path, prefix):
    """A feature extractor's ``backbone.conv1.weight``, …: refused with 122 unexpected keys under --arch resnet18 and
    "the weights fit none of them" without it, though the rest fits resnet18 exactly."""
    ft = resnet_files["ft"]
    path = tmp_path / "wrapped.pth"
    torch.save({prefix + k: v for k, v in ft.state_dict().items()}, path)
    for arch in ("resnet18", None):
        clf = mf.load_model_file(path, arch=arch)
        assert clf.num_classes == 10
        torch.testing.assert_close(clf.module.net.fc.weight, ft.fc.weight)
        assert any(f"removed the '{prefix}' prefix" in w for w in clf.warnings), clf.warnings


def test_shared_prefixes_stop_at_the_first_component_not_every_key_has():
    from gradflip_desktop.core.models.files.fitting import shared_prefixes

    assert shared_prefixes({"a.b.c": 0, "a.b.d": 0}) == ["a.", "a.b."]
    assert shared_prefixes({"a.b.c": 0, "a.x.d": 0}) == ["a."]
    assert shared_prefixes({"conv.weight": 0, "fc.weight": 0}) == []
    assert shared_prefixes({"a.weight": 0}) == ["a."] and shared_prefixes({}) == []
