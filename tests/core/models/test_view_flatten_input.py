"""A network that flattens with .view gets N x C x H x W input in the contiguous layout. (found in the session-15 model hunt)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import SmallCNN, assert_short_run, script

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import files as mf


class TutorialNet(torch.nn.Module):
    """The PyTorch CIFAR-10 tutorial's network: it flattens with ``x.view(-1, 16 * 5 * 5)``."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv1, self.conv2 = torch.nn.Conv2d(3, 6, 5), torch.nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2 = torch.nn.Linear(16 * 5 * 5, 84), torch.nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc2(torch.relu(self.fc1(x.view(-1, 16 * 5 * 5))))


@pytest.mark.parametrize("size", [32, 64])
def test_a_network_that_flattens_with_view_runs_on_a_photo_tensor(tmp_path, size):
    """A photo arrives as a permuted H x W x 3 array (channels-last strides); at the network's own size nothing
    resizes it, and .view failed inside explain ("view size is not compatible with input tensor's size and
    stride"): every image of a folder ended as a model error, while classify worked."""
    path = tmp_path / "tutorial.pt"
    script(TutorialNet(), path)
    clf = mf.load_model_file(path, preprocessing={"input_size": 32})
    pixels = np.random.default_rng(0).random((size, size, 3), dtype=np.float32)
    x = clf.image_tensor(pixels)
    assert not x.is_contiguous()
    with torch.no_grad():
        want = clf.module(x.contiguous())
        torch.testing.assert_close(clf.module(x), want)
        torch.testing.assert_close(clf.module(x + 0.0 * x), want)
    assert_short_run(clf, pixels)
