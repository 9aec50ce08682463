"""The Load model dialog (ui/widgets/model_dialog.py) on plain facts, no model file read: the ModelSpec it builds,
its refusals, what it shows and hides. Found by a hand-made mutation audit (2026-12-06): each test fails on a
single-point mutation the other tests let through."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QDialogButtonBox

pytestmark = pytest.mark.gui


def _dialog(qtbot, tmp_path, fmt="state_dict", arch=None, weights=None, sidecar=None, preprocessing=None, labels=None,
            architectures=("resnet18", "resnet50")):
    from gradflip_desktop.ui.widgets.model_dialog import LoadModelDialog

    info = SimpleNamespace(path=Path(tmp_path / "net.pth"), format=fmt, arch=arch, weights=weights, needs_arch=False,
                           runs_code=fmt == "torchscript", sidecar=sidecar, preprocessing=preprocessing, labels=labels)
    dlg = LoadModelDialog(SimpleNamespace(info=info, architectures=list(architectures)))
    qtbot.addWidget(dlg)
    return dlg


def test_groups_are_parsed_with_their_names_trimmed_and_nameless_or_empty_ones_refused():
    from gradflip_desktop.ui.widgets.model_dialog import parse_groups

    assert parse_groups(" odd : 1,3,5;  small: 0-2 ") == {"odd": [1, 3, 5], "small": [0, 1, 2]}
    with pytest.raises(ValueError) as nameless:
        parse_groups(": 1,2")
    assert str(nameless.value) == "class groups: write name: indices, e.g. 'odd: 1,3,5; small: 0-4' (not ': 1,2')"
    with pytest.raises(ValueError) as empty:
        parse_groups("odd: ,")
    assert str(empty.value) == "class group 'odd': ',' is not a list of class indices (e.g. 1,3,5 or 0-4)"
    with pytest.raises(ValueError) as backwards:
        parse_groups("odd: 5-3")
    assert str(backwards.value) == "class group 'odd': the range 5-3 runs backwards (write 3-5)"


def test_mean_and_std_take_commas_semicolons_or_spaces_and_refuse_nothing(qtbot, tmp_path):
    from gradflip_desktop.ui.widgets.model_dialog import _numbers

    assert _numbers("0.5; 0.4;0.3", "mean") == (0.5, 0.4, 0.3)
    assert _numbers("0.5 0.4,0.3", "mean") == (0.5, 0.4, 0.3)
    dlg = _dialog(qtbot, tmp_path)
    dlg.mean_edit.setText("  ")
    with pytest.raises(ValueError) as exc:
        dlg.preprocessing()
    assert str(exc.value) == "mean: give 1 or 3 numbers"


def test_the_spec_has_the_architecture_name_labels_and_groups_shown(qtbot, tmp_path):
    from gradflip_desktop.core.models.files import ModelSpec

    labels = tmp_path / "classes.txt"
    labels.write_text("a\nb\n")
    dlg = _dialog(qtbot, tmp_path, arch="timm:my_net")  # named by the file, not in the list: added and chosen
    assert dlg.arch_box.currentText() == "timm:my_net"
    dlg.name_edit.setText("  my net ")
    dlg.labels_edit.setText(str(labels))
    dlg.groups_edit.setText("first: 0")
    assert dlg.spec() == ModelSpec(path=str(tmp_path / "net.pth"), format="state_dict", arch="timm:my_net",
                                   labels=None, labels_path=str(labels), preprocessing=None, groups={"first": [0]},
                                   name="my net")
    dlg.arch_box.setCurrentIndex(0)  # (detect from the weights)
    assert dlg.spec().arch is None


def test_an_onnx_file_has_no_architecture(qtbot, tmp_path):
    dlg = _dialog(qtbot, tmp_path, fmt="onnx", arch=None)
    assert dlg.format_box.currentData() == "onnx"
    dlg.arch_box.setEditText("resnet18")
    assert dlg.spec().arch is None
    assert dlg.arch_box.isHidden() and dlg.arch_label.isHidden()


def test_saved_labels_are_kept_until_a_labels_file_is_chosen(qtbot, tmp_path):
    side = SimpleNamespace(name="saved", labels_path=None, labels=["a", "b", "c"], groups={"ab": [0, 1]})
    dlg = _dialog(qtbot, tmp_path, sidecar=side)
    assert dlg.labels_edit.placeholderText() == "from the saved settings (3 classes: a, b, …)"
    assert dlg.groups_edit.text() == "ab: 0-1" and dlg.name_edit.text() == "saved"
    assert dlg.spec().labels == ["a", "b", "c"]
    other = tmp_path / "other.txt"
    other.write_text("x\ny\nz\n")
    dlg.labels_edit.setText(str(other))
    spec = dlg.spec()
    assert (spec.labels, spec.labels_path) == (None, str(other))


def test_two_saved_labels_need_no_ellipsis_and_labels_in_the_weights_are_counted(qtbot, tmp_path):
    side = SimpleNamespace(name=None, labels_path=None, labels=["a", "b"], groups=None)
    assert _dialog(qtbot, tmp_path, sidecar=side).labels_edit.placeholderText() == "from the saved settings (2 classes: a, b)"
    weights = _dialog(qtbot, tmp_path, labels=["x"] * 7)
    assert weights.labels_edit.placeholderText() == "from the weights (7 classes)"


def test_a_labels_file_that_is_not_there_is_refused_in_the_dialog(qtbot, tmp_path):
    dlg = _dialog(qtbot, tmp_path)
    missing = tmp_path / "gone.txt"
    dlg.labels_edit.setText(str(missing))
    dlg.accept()
    assert dlg.result_spec is None and not dlg.error_label.isHidden()
    assert dlg.error_label.text() == f"the labels file {missing} does not exist"
    dlg.labels_edit.setText("")
    dlg.accept()
    assert dlg.result_spec is not None and dlg.error_label.isHidden()


def test_torchscript_loads_only_when_trusted(qtbot, tmp_path):
    dlg = _dialog(qtbot, tmp_path, fmt="torchscript")
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and not dlg.trust_label.isHidden()
    with pytest.raises(ValueError) as exc:
        dlg.spec()
    assert str(exc.value) == "TorchScript runs code stored in the file: tick 'I trust this file' to load it"
    dlg.trust_box.setChecked(True)
    assert ok.isEnabled() and dlg.spec().format == "torchscript"


def test_the_weights_note_shows_only_for_recognised_weights(qtbot, tmp_path):
    assert _dialog(qtbot, tmp_path, weights=None).weights_note.isHidden()
    known = _dialog(qtbot, tmp_path, weights="ResNet18_Weights.IMAGENET1K_V1")
    assert not known.weights_note.isHidden()
    assert known.weights_note.text() == "recognised torchvision weights: ResNet18_Weights.IMAGENET1K_V1"


def test_known_input_settings_are_sent_as_they_are_and_have_no_guess_note(qtbot, tmp_path):
    from gradflip_desktop.core.models import Preprocessing

    pre = Preprocessing(input_size=(32, 32), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    dlg = _dialog(qtbot, tmp_path, fmt="huggingface", preprocessing=pre)
    assert dlg.pre_note.isHidden()
    assert dlg.preprocessing() == pre  # untouched, still the file's own: saved with the spec
    guessed = _dialog(qtbot, tmp_path)
    assert not guessed.pre_note.isHidden() and guessed.preprocessing() is None

