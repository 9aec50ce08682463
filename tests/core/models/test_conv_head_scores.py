"""Class scores of shape [N, C, 1, 1]. (found in the session-15 model hunt)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import SmallCNN, assert_short_run, script

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import files as mf


class _ConvHead(torch.nn.Module):
    """SqueezeNet's ending: a 1x1 convolution to the classes, then global pooling, no flatten: [N, C, 1, 1]."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.head = torch.nn.Conv2d(3, 8, 3, 2), torch.nn.Conv2d(8, 5, 1)

    def forward(self, x):
        return torch.nn.functional.adaptive_avg_pool2d(self.head(torch.relu(self.conv(x))), 1)


def test_class_scores_of_shape_n_c_1_1_are_read_as_n_c(tmp_path, image):
    """(1, 5, 1, 1) was refused as not [N, C], which no setting could change; a map with more than one position
    (1, 5, 7, 7) still is."""
    path = tmp_path / "convhead.pt"
    script(_ConvHead(), path)
    clf = mf.load_model_file(path, preprocessing={"input_size": 64})
    assert clf.num_classes == 5
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(clf.module(x), _ConvHead().eval()((x - mean) / std).flatten(1))
    assert_short_run(clf, image)
