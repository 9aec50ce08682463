"""A network returning (features, logits). (found in the session-15 model hunt)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_helpers import SmallCNN, assert_short_run, script

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import files as mf


class FeaturesFirst(torch.nn.Module):
    """Returns (features, logits): the features first, as metric-learning and distillation code often does."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 14 * 14, 3)

    def forward(self, x):
        feat = torch.flatten(torch.max_pool2d(torch.relu(self.conv(x)), 2), 1)
        return feat, self.fc(feat)


def test_tuple_of_features_and_logits_is_never_read_silently_as_784_classes(tmp_path):
    """(features [1, 784], logits [1, 3]): with 3 labels the logits are the scores; without labels the first item
    is kept (the documented rule) but a note names both items (it was silently "784 classes")."""
    path = tmp_path / "featfirst.pt"
    script(FeaturesFirst(), path)
    clf = mf.load_model_file(path, preprocessing={"input_size": 28}, labels=["ant", "bee", "cat"])
    assert clf.num_classes == 3
    assert any("item [1] has one score per label (3)" in w for w in clf.warnings)
    x = torch.rand(1, 3, 28, 28)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(clf.module(x), FeaturesFirst().eval()((x - mean) / std)[1])
    plain = mf.load_model_file(path, preprocessing={"input_size": 28})
    assert plain.num_classes == 784
    assert any("returns 2 outputs ([0] (1, 784), [1] (1, 3)): the first is read" in w for w in plain.warnings)
