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
