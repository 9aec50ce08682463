"""The Load model dialog of an ONNX file with no saved settings shows the input its graph fixes, says where the
values come from, and, left as they are, leaves them to the loader (which uses the same)."""

from __future__ import annotations

import importlib.util
import warnings

import pytest
import torch
from model_helpers import SmallCNN, export_onnx

HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnx2torch"))
pytestmark = [pytest.mark.gui, pytest.mark.skipif(not HAVE_ONNX, reason="the 'onnx' extra is not installed")]


def _dialog(qtbot, window, path):
    with qtbot.waitSignal(window.model_dialog_shown, timeout=30_000) as shown:
        window.open_model_file(str(path))
    return shown.args[0]


def test_a_grayscale_28px_onnx_file_shows_its_own_input(qtbot, window, tmp_path):
    path = tmp_path / "digits.onnx"
    export_onnx(SmallCNN(channels=1, classes=10, size=28, seed=1), path, size=28, channels=1)
    dialog = _dialog(qtbot, window, path)
    assert (dialog.height_box.value(), dialog.width_box.value()) == (28, 28)  # it showed 224 x 224
    assert dialog.channels_box.currentData() == 1
    note = dialog.pre_note.text().replace("\u00a0", " ")
    assert not dialog.pre_note.isHidden() and "1 × 28 × 28" in note and "guess" not in note
    assert dialog.preprocessing() is None  # untouched: the loader's own, the same values
    dialog.height_box.setValue(32)
    assert tuple(dialog.preprocessing().input_size) == (32, 28)  # a change is a choice
    dialog.close()


def test_an_8bit_onnx_file_left_untouched_is_not_a_choice(qtbot, window, tmp_path):
    class Uint8(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cnn = SmallCNN(channels=3, classes=5, size=32, seed=2)

        def forward(self, x):
            return self.cnn(x.float() / 255.0)

    path = tmp_path / "uint8.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Uint8().eval(), torch.zeros(1, 3, 32, 32, dtype=torch.uint8), str(path), dynamo=False,
                          input_names=["image"])
    dialog = _dialog(qtbot, window, path)
    note = dialog.pre_note.text().replace("\u00a0", " ")
    assert "8-bit" in note and "3 × 32 × 32" in note
    assert dialog.preprocessing() is None  # std 1/255 shows as 0.00392157: still untouched, not saved as a choice
    dialog.close()
