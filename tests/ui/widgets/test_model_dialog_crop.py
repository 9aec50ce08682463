"""The Load model dialog's centre crop (ui/widgets/model_dialog.py) follows the input size typed in it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.gui


def test_a_new_input_size_keeps_the_crops_share(qtbot, tmp_path):
    from gradflip_desktop.core.models import Preprocessing
    from gradflip_desktop.ui.widgets.model_dialog import LoadModelDialog

    # a Hugging Face ConvNeXt folder's framing: short side to 182 (160 / crop_pct 0.875), centre 160 cropped
    pre = Preprocessing(input_size=(160, 160), resize="center-crop", resize_size=182, interpolation="bicubic")
    info = SimpleNamespace(path=Path(tmp_path / "convnext"), format="huggingface", arch=None, weights=None,
                           needs_arch=False, runs_code=False, sidecar=None, preprocessing=pre, labels=None)
    dlg = LoadModelDialog(SimpleNamespace(info=info, architectures=[]))
    qtbot.addWidget(dlg)
    assert dlg.preprocessing().resize_size == 182
    dlg.height_box.setValue(224)
    dlg.width_box.setValue(224)
    # it kept 182 px: a 224 crop of a 182 px resize, larger than the photo it crops
    assert dlg.preprocessing().resize_size == 255


def test_a_deit_folders_warp_and_crop_is_shown_and_kept(qtbot, tmp_path):
    """A DeiT processor's framing (warped to 256 x 256, the centre 224 cropped) is its own choice in the dialog,
    and kept with its resize size as an input size is typed (it fell back to squash: no such item)."""
    from gradflip_desktop.core.models import Preprocessing
    from gradflip_desktop.ui.widgets.model_dialog import LoadModelDialog

    pre = Preprocessing(input_size=(224, 224), resize="squash-crop", resize_size=256, interpolation="bicubic")
    info = SimpleNamespace(path=Path(tmp_path / "deit"), format="huggingface", arch=None, weights=None,
                           needs_arch=False, runs_code=False, sidecar=None, preprocessing=pre, labels=None)
    dlg = LoadModelDialog(SimpleNamespace(info=info, architectures=[]))
    qtbot.addWidget(dlg)
    assert dlg.resize_box.currentData() == "squash-crop"
    assert (dlg.preprocessing().resize, dlg.preprocessing().resize_size) == ("squash-crop", 256)
    dlg.height_box.setValue(112)
    dlg.width_box.setValue(112)
    assert (dlg.preprocessing().resize, dlg.preprocessing().resize_size) == ("squash-crop", 128)


def test_a_timm_checkpoint_shows_its_architectures_settings_not_a_generic_guess(qtbot, tmp_path):
    """A timm training checkpoint (model_best.pth.tar, arch named inside) showed "Squash to the input size" and
    ImageNet's mean as a guess, then loaded with timm's centre crop and bicubic resize: the dialog now shows
    timm's own settings for it (pretrained_cfg), and left untouched they are still the loader's to choose."""
    import argparse

    timm = pytest.importorskip("timm")
    import torch

    from gradflip_desktop.core.models.files.timm import timm_preprocessing
    from gradflip_desktop.ui.controllers.model_session import inspect_model_task
    from gradflip_desktop.ui.widgets.model_dialog import LoadModelDialog

    name = "test_efficientnet"
    net = timm.create_model(name, pretrained=False, num_classes=4)
    path = tmp_path / "model_best.pth.tar"
    torch.save({"epoch": 3, "arch": name, "state_dict": net.state_dict(), "version": 2,
                "args": argparse.Namespace(model=name, num_classes=4)}, path)
    facts = inspect_model_task(None, str(path))
    assert facts.info.arch == f"timm:{name}" and facts.info.preprocessing is None
    expected = timm_preprocessing(timm.models.get_pretrained_cfg(name).to_dict())
    assert facts.info.guess == expected and expected.resize == "center-crop"
    dlg = LoadModelDialog(facts)
    qtbot.addWidget(dlg)
    assert dlg.resize_box.currentData() == "center-crop"
    assert (dlg.height_box.value(), dlg.width_box.value()) == expected.input_size
    assert "timm's for test_efficientnet" in dlg.pre_note.text()
    assert dlg.preprocessing() is None  # untouched: the loader's own (with the channel count of the weights)
    dlg.resize_box.setCurrentIndex(dlg.resize_box.findData("squash"))
    assert dlg.preprocessing().resize == "squash"  # changed: the user's


def test_the_input_size_boxes_show_latin_digits_in_any_locale(qtbot, tmp_path):
    """LANG=ar_EG.UTF-8 showed the input size as "٢٢٤ × ٢٢٤" while the settings panel shows "224"."""
    from PySide6.QtCore import QLocale

    from gradflip_desktop.core.models import Preprocessing
    from gradflip_desktop.ui.widgets.model_dialog import LoadModelDialog

    old = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.Arabic, QLocale.Country.Egypt))
    try:
        info = SimpleNamespace(path=Path(tmp_path / "net.pt"), format="torchscript", arch=None, weights=None,
                               needs_arch=False, runs_code=True, sidecar=None,
                               preprocessing=Preprocessing(input_size=(224, 160)), labels=None)
        dlg = LoadModelDialog(SimpleNamespace(info=info, architectures=[]))
        qtbot.addWidget(dlg)
        assert (dlg.height_box.text(), dlg.width_box.text()) == ("224", "160")
        assert dlg.preprocessing().input_size == (224, 160)
    finally:
        QLocale.setDefault(old)


def test_a_timm_architecture_typed_later_fills_its_settings_until_one_is_typed(qtbot, tmp_path):
    """A bare state dict of a timm network names no architecture: the dialog showed the generic guess (squash, 224)
    and kept it when timm:NAME was chosen, while the loader then used timm's centre crop (its note said so, the
    fields did not). Now the fields follow the architecture chosen, while they are as the dialog filled them."""
    timm = pytest.importorskip("timm")
    import torch

    from gradflip_desktop.core.models import Preprocessing
    from gradflip_desktop.core.models.files.timm import timm_preprocessing
    from gradflip_desktop.ui.controllers.model_session import inspect_model_task
    from gradflip_desktop.ui.widgets.model_dialog import LoadModelDialog

    name = "test_efficientnet"
    path = tmp_path / "weights.pth"
    torch.save(timm.create_model(name, pretrained=False, num_classes=4).state_dict(), path)
    facts = inspect_model_task(None, str(path))
    assert facts.info.preprocessing is None and not facts.info.arch
    dlg = LoadModelDialog(facts)
    qtbot.addWidget(dlg)
    assert dlg.resize_box.currentData() == "squash" and "generic guess" in dlg.pre_note.text()
    expected = timm_preprocessing(timm.models.get_pretrained_cfg(name).to_dict())
    assert expected.resize == "center-crop" and expected != Preprocessing()
    dlg.arch_box.setEditText(f"timm:{name}")  # typed (or picked from the list)
    assert dlg.resize_box.currentData() == "center-crop"
    assert (dlg.height_box.value(), dlg.width_box.value()) == expected.input_size
    assert dlg.mean_edit.text() == ", ".join(f"{v:g}" for v in expected.mean)
    assert f"timm's for {name}" in dlg.pre_note.text()
    assert dlg.preprocessing() is None  # untouched: still the loader's own
    assert dlg.spec().arch == f"timm:{name}"
    dlg.arch_box.setEditText("resnet18")  # another kind of name: the generic guess again
    assert dlg.resize_box.currentData() == "squash" and "generic guess" in dlg.pre_note.text()
    # which the loader replaces by the architecture's ImageNet framing for a 1,000-class head: said (the fields'
    # "Squash" read as what a torchvision ResNet would get, and the loaded model then cropped the centre)
    assert ("a torchvision architecture's ImageNet settings when its head has 1,000 classes (a ResNet: short side to "
            "256, the centre 224 cropped)") in dlg.pre_note.text()
    assert (dlg.height_box.value(), dlg.width_box.value()) == (224, 224)
    dlg.height_box.setValue(200)  # a value typed stays, whatever is chosen next
    dlg.arch_box.setEditText(f"timm:{name}")
    assert dlg.height_box.value() == 200 and dlg.resize_box.currentData() == "squash"
    assert dlg.preprocessing().input_size == (200, 224)


def test_the_settings_note_names_the_architecture_chosen_and_detect_names_the_files_own(qtbot, tmp_path):
    """Choosing timm:B whose settings equal those timm:A filled in left the note saying "timm's for A"; and "detect"
    on a checkpoint that names its timm architecture showed the generic guess, while the loader uses timm's."""
    import argparse

    timm = pytest.importorskip("timm")
    import torch

    from gradflip_desktop.ui.controllers.model_session import inspect_model_task
    from gradflip_desktop.ui.widgets.model_dialog import DETECT_ARCH, LoadModelDialog

    name = "test_efficientnet"
    path = tmp_path / "model_best.pth.tar"
    torch.save({"arch": name, "state_dict": timm.create_model(name, pretrained=False, num_classes=4).state_dict(),
                "args": argparse.Namespace(model=name, num_classes=4)}, path)
    dlg = LoadModelDialog(inspect_model_task(None, str(path)))
    qtbot.addWidget(dlg)
    assert f"timm's for {name}" in dlg.pre_note.text()
    twin = next(n for n in ("test_efficientnet_gn", "test_efficientnet_ln", "test_efficientnet_evos")
                if timm.models.get_pretrained_cfg(n).to_dict().get("input_size") ==
                timm.models.get_pretrained_cfg(name).to_dict().get("input_size"))
    dlg.arch_box.setEditText(f"timm:{twin}")
    assert f"timm's for {twin}" in dlg.pre_note.text(), dlg.pre_note.text()
    dlg.arch_box.setEditText(DETECT_ARCH)
    assert f"timm's for {name}" in dlg.pre_note.text() and dlg.resize_box.currentData() == "center-crop"


def test_the_generic_guess_of_a_file_that_brings_its_own_network_names_no_architectures(qtbot, tmp_path):
    """A TorchScript file's note spoke of timm and torchvision architectures, which such a file never uses."""
    from gradflip_desktop.ui.widgets.model_dialog import LoadModelDialog

    info = SimpleNamespace(path=Path(tmp_path / "digits.pt"), format="torchscript", arch=None, weights=None,
                           needs_arch=False, runs_code=True, sidecar=None, preprocessing=None, labels=None)
    dlg = LoadModelDialog(SimpleNamespace(info=info, architectures=[]))
    qtbot.addWidget(dlg)
    assert dlg.pre_note.text() == (
        "The file names no input settings: these are a generic guess. Left as they are, the loader finds the model's "
        "own where it can, with a note: the input size and channels the network runs on. Change any to set them.")
