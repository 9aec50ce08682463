"""The Load Model dialog with the newer model sources: timm names (with completion) and Hugging Face folders."""

from __future__ import annotations

import pytest
from helpers import RUN_TIMEOUT_MS
from model_helpers import hf_vit_folder, timm_checkpoint


def open_dialog(qtbot, window, path):
    with qtbot.waitSignal(window.model_dialog_shown, timeout=60_000) as blocker:
        window.open_model_file(str(path))
    dlg = blocker.args[0]
    assert dlg.isVisible()
    return dlg


def test_timm_checkpoint_through_the_dialog_with_name_completion(qtbot, window, tmp_path):
    pytest.importorskip("timm")
    path = tmp_path / "finetuned.safetensors"
    timm_checkpoint(path, "test_vit", classes=3)
    dlg = open_dialog(qtbot, window, path)
    assert dlg.format == "state_dict" and not dlg.arch_box.isHidden()
    assert dlg.arch_box.findData("resnet18") >= 0 and dlg.arch_box.findData("timm:vit_small_patch16_224") >= 0
    completer = dlg.arch_box.completer()
    completer.setCompletionPrefix("vit_tiny_patch16_2")  # any part of the name
    matches = [completer.completionModel().index(i, 0).data() for i in range(completer.completionCount())]
    assert "timm:vit_tiny_patch16_224" in matches and all("vit_tiny_patch16_2" in m for m in matches)
    dlg.arch_box.setEditText("timm:test_vit")
    with qtbot.waitSignals([window.model_ready, window.classified], timeout=RUN_TIMEOUT_MS):
        dlg.accept()
    assert window.model_error is None, window.model_error
    assert window.model_info.name.startswith("timm:test_vit") and window.model_info.labels == ["class 0", "class 1", "class 2"]


@pytest.mark.parametrize("chosen", ["folder", "config.json"])
def test_hugging_face_folder_through_the_dialog(qtbot, window, tmp_path, chosen):
    pytest.importorskip("transformers")
    folder = tmp_path / "my-vit"
    hf_vit_folder(folder, labels=("ant", "bee", "cat"))
    dlg = open_dialog(qtbot, window, folder if chosen == "folder" else folder / "config.json")
    assert dlg.format == "huggingface" and dlg.arch_box.isHidden() and dlg.trust_label.isHidden()
    assert str(dlg.info.path) == str(folder)
    assert dlg.height_box.value() == 32 and dlg.std_edit.text() == "0.25, 0.25, 0.25"  # preprocessor_config.json
    assert "3 classes" in dlg.labels_edit.placeholderText()
    with qtbot.waitSignals([window.model_ready, window.classified], timeout=RUN_TIMEOUT_MS):
        dlg.accept()
    assert window.model_error is None, window.model_error
    assert window.model_info.labels == ["ant", "bee", "cat"]
    assert sorted(window.controls.top5.labels()) == ["ant", "bee", "cat"]
    # remembered for the picker, as model files are (a folder was dropped from the list: it is no file)
    assert str(folder) in window.models.model_files()
    window.models._remember_model_file(str(tmp_path / "other.pt"))  # another load rewrites the list: still there
    assert str(folder) in window.models.model_files()
    assert window.controls.model_box.findData(str(folder)) >= 0
