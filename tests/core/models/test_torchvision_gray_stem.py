"""A torchvision fine-tune with a 1-channel conv1. (found in the session-15 model hunt)."""

from __future__ import annotations

import pytest
import torch
from model_helpers import assert_short_run

from gradflip_desktop.core.models import files as mf

tv = pytest.importorskip("torchvision")  # part of the `test` extra


def test_a_grayscale_fine_tune_with_a_one_channel_conv1_loads(tmp_path, image):
    """``model.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)`` (MNIST, X-rays) was refused: "1 shape mismatches
    (conv1.weight: file [64, 1, 7, 7] vs resnet18 [64, 3, 7, 7]). Is the architecture right?"."""
    torch.manual_seed(0)
    net = tv.models.resnet18(num_classes=4)
    net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    net.eval()
    path = tmp_path / "xray.pth"
    torch.save(net.state_dict(), path)
    clf = mf.load_model_file(path, arch="resnet18")
    assert clf.num_classes == 4 and clf.preprocessing.channels == 1
    assert any("takes 1 channel" in w for w in clf.warnings)
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    pre = clf.preprocessing
    luma = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    torch.testing.assert_close(clf.module(x), net((luma - pre.mean[0]) / pre.std[0]), atol=1e-4, rtol=1e-4)
    assert_short_run(clf, image)
    # without --arch too: the guess accepted no mismatch, and said "cannot tell which architecture" (README: a
    # single fitting architecture is used by itself)
    guessed = mf.load_model_file(path)
    assert guessed.num_classes == 4 and guessed.preprocessing.channels == 1
    assert "architecture resnet18 recognised from the weights" in guessed.warnings
    torch.testing.assert_close(guessed.module(x), clf.module(x))


def test_a_one_channel_stem_beside_another_misfit_is_still_a_misfit(tmp_path):
    """A 1-channel conv1 is accepted only when it is the one tensor that does not fit: with another misfit the file
    is refused naming both (mutation audit: taking the first of several misfits as the grayscale stem survived; the
    load then failed inside load_state_dict with torch's own message)."""
    from gradflip_desktop.core.errors import ModelSettingError

    torch.manual_seed(0)
    net = tv.models.resnet18(num_classes=4)
    net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    sd = dict(net.state_dict())
    sd["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    path = tmp_path / "gray_odd.pth"
    torch.save(sd, path)
    with pytest.raises(ModelSettingError) as err:
        mf.load_model_file(path, arch="resnet18")
    assert ("2 shape mismatches (conv1.weight: file [64, 1, 7, 7] vs resnet18 [64, 3, 7, 7]; layer1.0.conv1.weight: "
            "file [64, 64, 1, 1] vs resnet18 [64, 64, 3, 3])") in str(err.value)
