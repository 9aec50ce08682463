"""A model's load notes (grayscale input for a 1-channel network) stay readable after the dialog's load."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers import RUN_TIMEOUT_MS

pytestmark = pytest.mark.gui


class GreyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def test_grayscale_note_survives_the_sidecar_status_and_the_classification(qtbot, window, tmp_path):
    from gradflip_desktop.core.models import files as model_files

    path = tmp_path / "grey.pt"
    torch.jit.save(torch.jit.script(GreyCNN().eval()), str(path))
    spec = model_files.ModelSpec(str(path), "torchscript")  # as the dialog sends it untouched: no preprocessing
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.models.load_spec(spec)
    assert any("grayscale" in n for n in window.model_info.warnings)
    assert "settings saved to grey.gradflip.json" in window.models.sidecar_note
    assert "grayscale" in window.status_label.text()  # it was only in the model line's tooltip
