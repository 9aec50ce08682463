"""The window's own remedies for typed model errors, and which dropped paths open Load Model."""

from __future__ import annotations

import pytest

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.ui.controllers.images import is_model_path
from gradflip_desktop.ui.controllers.models import gui_remedy

pytestmark = pytest.mark.gui


def test_model_setting_errors_get_the_windows_remedy_not_a_flag():
    arch = gui_remedy(ModelSettingError("the weights do not fit resnet34", "architecture", ["resnet18"]))
    assert "File ▸ Load Model…" in arch and "resnet18 fits" in arch and "--" not in arch
    assert "input size" in gui_remedy(ModelSettingError("wrong input size", "preprocessing"))
    assert "CPU" in gui_remedy(ModelSettingError("no such device: mps", "device"))
    assert gui_remedy(ModelError("broken file")) == "" and gui_remedy(ValueError("x")) == ""


def test_dropped_model_files_and_hugging_face_folders_go_to_load_model(tmp_path):
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "photos").mkdir()
    assert is_model_path(str(tmp_path / "hf"))
    assert not is_model_path(str(tmp_path / "photos"))
    for name in ("net.pth", "NET.PT", "m.onnx", "w.safetensors"):
        assert is_model_path(str(tmp_path / name)), name
    for name in ("cat.jpg", "cat.png", "notes.txt"):
        assert not is_model_path(str(tmp_path / name)), name
