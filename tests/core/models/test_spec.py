"""``merge_preprocessing`` (core/models/files/spec.py): settings given over a file's own."""

from __future__ import annotations

import pytest
import torch

from gradflip_desktop.core.models import Preprocessing
from gradflip_desktop.core.models.files.spec import merge_preprocessing

CROP = Preprocessing(input_size=(224, 224), resize="center-crop", resize_size=256)  # torchvision's ImageNet framing


@pytest.mark.parametrize(("size", "resize"), [((160, 160), 183), ((320, 320), 366), ((224, 224), 256)])
def test_another_input_size_keeps_the_crops_share_of_the_short_side(size, resize):
    # --input-size 160 on a model that resizes to 256 and crops 224 kept 256: the network saw the middle 62 % of
    # the photo, not 87.5 %; 320 cropped more than the resize made (the crop then squashed the photo's aspect)
    pre = merge_preprocessing(CROP, {"input_size": list(size)})
    assert pre.input_size == size and pre.resize_size == resize


def test_scaled_resize_size_is_what_the_dialog_uses():
    from gradflip_desktop.core.models.files.spec import scaled_resize_size

    assert scaled_resize_size(CROP, (160, 160)) == 183 and scaled_resize_size(CROP, (224, 224)) == 256
    assert scaled_resize_size(Preprocessing(), (160, 160)) is None


def test_a_given_resize_size_and_other_settings_leave_it_alone():
    assert merge_preprocessing(CROP, {"input_size": [160, 160], "resize_size": 170}).resize_size == 170
    assert merge_preprocessing(CROP, {"mean": [0.5, 0.5, 0.5]}).resize_size == 256
    assert merge_preprocessing(Preprocessing(), {"input_size": [160, 160]}).resize_size is None  # squash: none


def test_a_torchvision_file_at_another_input_size_sees_the_same_share_of_the_photo(tmp_path):
    import torchvision

    from gradflip_desktop.core.models.files import load_model_file

    torch.manual_seed(0)
    path = tmp_path / "squeeze.pth"
    torch.save(torchvision.models.squeezenet1_1().state_dict(), path)  # 1000 classes: ImageNet's framing
    pre = load_model_file(path, arch="squeezenet1_1", preprocessing={"input_size": [160, 160]}).preprocessing
    assert pre.resize == "center-crop" and pre.resize_size == 183
    top, left, bottom, right = pre.visible_box(400, 400)
    assert (bottom - top) / 400 == pytest.approx(160 / 183, abs=0.03)  # was 160 / 256 = 62 % of the photo


def test_squash_given_over_a_crop_drops_the_crops_resize_size():
    # --resize squash on a timm model recorded "squash 168": a size that squash never uses (and --resume compares)
    pre = merge_preprocessing(CROP, {"resize": "squash"})
    assert pre.resize == "squash" and pre.resize_size is None


def test_a_whole_preprocessing_over_a_files_own_settings_names_the_defaults_it_put_there():
    """``preprocessing=Preprocessing(input_size=(64, 64))`` also gives ImageNet's mean and std, squash and bilinear:
    a sidecar's mean and std and a timm model's centre crop were replaced without a word."""
    from gradflip_desktop.core.models.files.spec import whole_preprocessing_note

    own = Preprocessing(input_size=(64, 64), mean=(0.5,) * 3, std=(0.25,) * 3, resize="center-crop", resize_size=67,
                        interpolation="bicubic")
    (note,) = whole_preprocessing_note(own, Preprocessing(input_size=(48, 48)), "m.pth")
    assert note == ("preprocessing=Preprocessing(...) gives every setting: its defaults replaced m.pth's own (mean "
                    "[0.5, 0.5, 0.5] → [0.485, 0.456, 0.406]; std [0.25, 0.25, 0.25] → [0.229, 0.224, 0.225]; resize "
                    "center-crop 67 → squash; interpolation bicubic → bilinear); pass a dict, e.g. "
                    "preprocessing={'input_size': [48, 48]}, to change only the settings it names")
    assert whole_preprocessing_note(own, {"input_size": [48, 48]}, "m.pth") == []  # a mapping changes what it names
    assert whole_preprocessing_note(own, None, "m.pth") == []
    assert whole_preprocessing_note(Preprocessing(), Preprocessing(input_size=(48, 48)), "m.pth") == []  # nothing lost
    chosen = Preprocessing(mean=(0.1,) * 3, std=(0.2,) * 3, resize="center-crop", resize_size=80, interpolation="bicubic")
    assert whole_preprocessing_note(own, chosen, "m.pth") == []  # every value its own: chosen, not defaulted
    # one channel: its defaults are ImageNet's averaged (0.449, 0.226), which replaced a grey sidecar's unsaid
    grey = Preprocessing(input_size=(28, 28), mean=(0.1307,), std=(0.3081,), channels=1)
    (note,) = whole_preprocessing_note(grey, Preprocessing(input_size=(28, 28), channels=1), "g.pt")
    assert "mean [0.1307] → [0.449" in note and "std [0.3081] → [0.226" in note


def test_a_group_listing_the_class_count_itself_is_out_of_range(tmp_path):
    """A 3-class model has classes 0–2: a group naming class 3 is refused (mutation audit: accepting the class count
    itself as an index survived; the group then pointed past the last class)."""
    from model_helpers import SmallCNN, script

    from gradflip_desktop.core.errors import ModelError
    from gradflip_desktop.core.models import files as mf

    path = tmp_path / "three.pt"
    script(SmallCNN(channels=1, classes=3, size=28), path)
    pre = {"input_size": [28, 28], "channels": 1}
    with pytest.raises(ModelError, match=r"^class group 'odd' lists class 3, but three\.pt has only 3 classes \(0–2\)$"):
        mf.load_model_file(path, preprocessing=pre, groups={"odd": [2, 3]})
    assert mf.load_model_file(path, preprocessing=pre, groups={"last": [2]}).groups["last"] == [2]


def test_switching_to_one_channel_averages_the_three_means_and_stds():
    """channels=1 over ImageNet's RGB values: their averages, 0.449 and 0.226 (mutation audit: taking the red
    channel's 0.485 / 0.229 survived)."""
    pre = merge_preprocessing(Preprocessing(), {"channels": 1})
    assert pre.channels == 1
    assert pre.mean == pytest.approx(((0.485 + 0.456 + 0.406) / 3,)) and pre.std == pytest.approx(((0.229 + 0.224 + 0.225) / 3,))


def test_an_empty_class_group_is_refused_by_name():
    """A group listing no class ("cat": []) is refused, naming it (mutation audit: accepting it survived; the group
    then read as a probability of 0 for every image)."""
    from gradflip_desktop.core.errors import ModelError
    from gradflip_desktop.core.models.files.spec import parse_groups

    with pytest.raises(ModelError, match=r"^class group 'cat' is empty$"):
        parse_groups({"cat": []})
