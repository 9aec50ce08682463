"""The Load model dialog says when its input settings are only a guess the loader will not use."""

from __future__ import annotations

import pytest
import torch
from torch import nn

pytestmark = pytest.mark.gui


class GreyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def test_unknown_preprocessing_is_labelled_a_guess(qtbot, window, tmp_path):
    path = tmp_path / "grey.pt"
    torch.jit.save(torch.jit.script(GreyCNN().eval()), str(path))
    with qtbot.waitSignal(window.model_dialog_shown, timeout=30_000) as blocker:
        window.open_model_file(str(path))
    dlg = blocker.args[0]
    # it read "3 (RGB)", 224 x 224, ImageNet mean/std, and the model then ran on grayscale without a word here
    assert dlg.channels_box.currentData() == 3
    assert not dlg.pre_note.isHidden() and "guess" in dlg.pre_note.text()
    dlg.close()


def test_known_preprocessing_has_no_guess_note(qtbot, window, tmp_path):
    import json

    path = tmp_path / "grey.pt"
    torch.jit.save(torch.jit.script(GreyCNN().eval()), str(path))
    (tmp_path / "grey.gradflip.json").write_text(json.dumps(
        {"kind": "gradflip-model", "version": 1, "format": "torchscript",
         "preprocessing": {"input_size": [32, 32], "channels": 1, "mean": [0.5], "std": [0.25]}}), encoding="utf-8")
    with qtbot.waitSignal(window.model_dialog_shown, timeout=30_000) as blocker:
        window.open_model_file(str(path))
    dlg = blocker.args[0]
    assert dlg.pre_note.isHidden()
    dlg.close()
