"""A TorchScript model that fails on an image says so in one line, the real error (TorchScript puts it last, after
both its tracebacks), in the run's message, its JSON record and summary.csv; not the 30-line traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from model_helpers import script, short_options
from torch import nn

from gradflip_desktop.core.dataset.summary import summary_row
from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.models import files as mf
from gradflip_desktop.core.options import Status
from gradflip_desktop.core.report import write_result_set

REAL = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x8 and 4x3)"


class Flaky(nn.Module):
    """Runs ``good`` forward passes, then feeds its head twice the features it takes."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 3)
        self.calls = 0
        self.good = 1000

    def forward(self, x):
        y = self.conv(x).mean((2, 3))
        self.calls += 1
        if self.calls > self.good:
            return self.fc(torch.cat([y, y], 1))
        return self.fc(y)


@pytest.fixture
def flaky(tmp_path):
    path = tmp_path / "flaky.pt"
    script(Flaky(), path)
    clf = mf.load_model_file(path, preprocessing={"input_size": [16, 16]})
    clf.module.net.calls = 0
    return clf


IMAGE = np.random.default_rng(0).uniform(0.3, 0.7, (16, 16, 3)).astype(np.float32)


def test_failure_during_the_run_is_one_line(tmp_path, flaky):
    flaky.module.net.good = 3  # the first classification and a step or two pass
    res = run(flaky, IMAGE, short_options())
    assert res.status == Status.MODEL_ERROR
    assert res.message == f"the model failed during the run: {REAL}"
    record = json.loads(write_result_set(res, tmp_path / "out", "flaky")[-1].read_text(encoding="utf-8"))
    assert record["message"] == res.message
    assert summary_row("x.png", "flaky", record)["message"] == res.message


def test_failure_on_the_first_classification_is_one_line(flaky):
    flaky.module.net.good = 0
    with pytest.raises(ModelError) as err:
        run(flaky, IMAGE, short_options())
    assert str(err.value) == f"the model failed on this image: {REAL}"
