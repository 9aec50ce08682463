"""Labels kept in a model's saved settings (``MODEL.gradflip.json``) are shown in the Load model dialog."""

from __future__ import annotations

import json

import pytest
import torch

pytestmark = pytest.mark.gui

FRUIT = ["apple", "banana", "cherry"]


def test_the_labels_field_names_the_saved_labels(qtbot, window, tmp_path):
    import torchvision

    torch.manual_seed(0)
    path = tmp_path / "fruit_net.pth"
    torch.save(torchvision.models.resnet18(num_classes=3).state_dict(), path)
    # settings written by hand (or by an older version): architecture and labels, no preprocessing, so the
    # dialog asks for the rest
    (tmp_path / "fruit_net.gradflip.json").write_text(
        json.dumps({"kind": "gradflip-model", "arch": "resnet18", "labels": FRUIT}), encoding="utf-8")
    with qtbot.waitSignal(window.model_dialog_shown, timeout=30_000) as blocker:
        window.open_model_file(str(path))
    dlg = blocker.args[0]
    # the field was empty with "optional: text (one per line) or JSON", as if the model had no labels
    assert dlg.labels_edit.text() == ""
    hint = dlg.labels_edit.placeholderText()
    assert "saved settings" in hint and "3 classes" in hint and "apple" in hint, hint
    dlg.accept()
    assert dlg.result_spec is not None and list(dlg.result_spec.labels) == FRUIT  # and they are used
    dlg.close()
