"""A retry after a failed load starts from what was typed, also for a model file loaded (and so given a sidecar)
before: the older sidecar won, and the labels typed for the failed attempt were gone."""

from __future__ import annotations

import pytest
import torch
from helpers import RUN_TIMEOUT_MS
from torch import nn

pytestmark = pytest.mark.gui


class GreyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def test_a_retry_keeps_what_was_typed_over_an_older_sidecar(qtbot, window, tmp_path, monkeypatch):
    from gradflip_desktop.core.models import files as model_files

    monkeypatch.setattr(window, "show_error", lambda *a, **k: None)
    path = tmp_path / "grey.pt"
    torch.jit.save(torch.jit.script(GreyCNN().eval()), str(path))
    labels = tmp_path / "l.txt"
    labels.write_text("a\nb\nc\nd\ne\n")
    with qtbot.waitSignal(window.model_ready, timeout=RUN_TIMEOUT_MS):  # loaded once: it has a sidecar now
        window.models.load_spec(model_files.ModelSpec(str(path), "torchscript"))
    assert (tmp_path / "grey.gradflip.json").is_file()
    with qtbot.waitSignal(window.model_dialog_shown, timeout=30_000) as shown:
        window.open_model_file(str(path))
    dialog = shown.args[0]
    dialog.labels_edit.setText(str(labels))
    dialog.channels_box.setCurrentIndex(dialog.channels_box.findData(3))  # RGB into a 1-channel network: refused
    dialog.trust_box.setChecked(True)
    with qtbot.waitSignal(window.model_failed, timeout=RUN_TIMEOUT_MS):
        dialog.accept()
    with qtbot.waitSignal(window.model_dialog_shown, timeout=30_000) as shown:
        window.open_model_file(str(path))
    again = shown.args[0]
    assert again.labels_edit.text() == str(labels) and again.channels_box.currentData() == 3
    again.close()
