"""timm checkpoints: ``arch="timm:NAME"`` (argument or sidecar), wrapped or plain, .pth/.bin/.safetensors,
class count from the head, preprocessing from timm's pretrained_cfg, labels from the checkpoint."""

from __future__ import annotations

import json

import pytest
import torch
from model_helpers import assert_same_logits, assert_short_run, timm_checkpoint

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import Preprocessing
from gradflip_desktop.core.models import files as mf
from gradflip_desktop.core.models.labels import IMAGENET_GROUPS

timm = pytest.importorskip("timm")  # the `timm` extra (part of `test`)


@pytest.mark.parametrize("name, suffix, wrap", [("test_vit", ".pth", "ema"), ("test_resnet", ".safetensors", None), ("test_resnet", ".bin", "state_dict")])
def test_timm_checkpoint_classifies_and_explains_with_its_own_logits(tmp_path, image, name, suffix, wrap):
    path = tmp_path / f"finetuned{suffix}"
    ref = timm_checkpoint(path, name, classes=5, wrap=wrap)
    clf = mf.load_model_file(path, arch=f"timm:{name}")
    assert clf.num_classes == 5 and clf.labels == [f"class {i}" for i in range(5)] and clf.groups == {}
    assert clf.name == f"timm:{name} (5 classes, finetuned{suffix})"
    cfg = ref.pretrained_cfg
    assert clf.preprocessing.input_size == tuple(cfg["input_size"][1:]) == (160, 160)
    assert clf.preprocessing.mean == tuple(cfg["mean"]) and clf.preprocessing.std == tuple(cfg["std"])
    assert clf.preprocessing.resize == "center-crop" and clf.preprocessing.resize_size == int(160 / cfg["crop_pct"])
    assert clf.preprocessing.interpolation == cfg["interpolation"]
    if wrap:
        assert f"weights taken from the checkpoint entry '{wrap}'" in clf.warnings
    assert not any("no preprocessing settings" in w for w in clf.warnings)  # timm's cfg says it
    # the file's weights: logits equal the timm model's own on the same network input
    # (a 168 x 168 input is not resized: the centre 160 x 160 is cropped, as timm's eval transform does)
    x = torch.rand(1, 3, 168, 168, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = ref((x[..., 4:164, 4:164] - 0.5) / 0.5)
    torch.testing.assert_close(clf.module(x), expected, atol=1e-5, rtol=1e-5)
    assert_short_run(clf, image)


def test_timm_1000_classes_get_imagenet_labels_and_checkpoint_labels_win(tmp_path):
    path = tmp_path / "in1k.safetensors"
    timm_checkpoint(path, "test_resnet", classes=1000)
    clf = mf.load_model_file(path, arch="timm:test_resnet")
    assert clf.labels[0] == "tench" and clf.groups["cat"] == IMAGENET_GROUPS["cat"]
    own = tmp_path / "own.pth"
    timm_checkpoint(own, "test_resnet", classes=3, labels=["red", "green", "blue"])
    assert mf.load_model_file(own, arch="timm:test_resnet").labels == ["red", "green", "blue"]
    own_st = tmp_path / "own.safetensors"
    timm_checkpoint(own_st, "test_resnet", classes=3, labels=["r", "g", "b"])
    assert mf.load_model_file(own_st, arch="timm:test_resnet").labels == ["r", "g", "b"]
    assert mf.load_model_file(own_st, arch="timm:test_resnet", labels=["x", "y", "z"]).labels == ["x", "y", "z"]


def test_timm_arch_from_the_sidecar_and_preprocessing_override(tmp_path):
    path = tmp_path / "vit.pth"
    timm_checkpoint(path, "test_vit", classes=4)
    (tmp_path / "vit.gradflip.json").write_text(json.dumps({"arch": "timm:test_vit", "preprocessing": {"resize": "squash"}}), encoding="utf-8")
    clf = mf.load_model_file(path)
    assert clf.num_classes == 4 and clf.name.startswith("timm:test_vit")
    assert clf.preprocessing.resize == "squash" and clf.preprocessing.input_size == (160, 160)
    assert mf.inspect_model_file(path).arch == "timm:test_vit" and not mf.inspect_model_file(path).needs_arch
    spec = mf.ModelSpec(str(path), arch="timm:test_vit", preprocessing=Preprocessing(input_size=(160, 160), mean=(0.5,) * 3, std=(0.5,) * 3))
    assert mf.load_model_spec(spec).preprocessing.resize == "squash"


def test_timm_errors_name_the_problem(tmp_path):
    path = tmp_path / "vit.pth"
    timm_checkpoint(path, "test_vit", classes=4)
    with pytest.raises(ModelSettingError, match=r"unknown timm architecture 'test_vitt'; did you mean test_vit") as err:
        mf.load_model_file(path, arch="timm:test_vitt")
    assert err.value.setting == "architecture" and "timm:test_vit" in err.value.suggestions
    with pytest.raises(ModelSettingError, match=r"do not fit the timm architecture test_resnet: .*missing keys \(conv1") as err:
        mf.load_model_file(path, arch="timm:test_resnet")
    assert err.value.setting == "architecture"


def test_missing_timm_says_how_to_install(tmp_path, monkeypatch):
    import sys

    path = tmp_path / "vit.pth"
    timm_checkpoint(path, "test_vit", classes=4)
    monkeypatch.setitem(sys.modules, "timm", None)
    with pytest.raises(ModelError, match=r"timm architectures need the timm package, which is not installed: pip install timm safetensors \(GradFlip's extra 'timm'\)"):
        mf.load_model_file(path, arch="timm:test_vit")
    assert mf.timm_architectures() == []


def test_timm_names_are_listed_for_completion():
    names = mf.timm_architectures()
    assert "resnet18" in names and "vit_tiny_patch16_224" in names and "test_vit" in names


def test_a_bare_timm_name_as_the_model_says_to_give_the_checkpoint():
    with pytest.raises(ModelError) as err:
        mf.load_model_file("timm:resnet18")
    assert str(err.value) == ("timm:resnet18 names a timm architecture, not weights; GradFlip never downloads. "
                              "Give the checkpoint file and name the architecture: --model FILE --arch timm:resnet18")


def test_timm_grayscale_checkpoint_is_built_with_its_input_channels(tmp_path, image):
    """A model trained with ``in_chans=1`` (X-rays, MNIST-like): refused before ("conv1.weight: file
    [64, 1, 7, 7] vs [64, 3, 7, 7]"); the stem tells the channel count, as the class count comes from the head."""
    torch.manual_seed(0)
    ref = timm.create_model("test_resnet", pretrained=False, num_classes=3, in_chans=1).eval()
    path = tmp_path / "xray.safetensors"
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(path))
    clf = mf.load_model_file(path, arch="timm:test_resnet")
    assert clf.num_classes == 3 and clf.preprocessing.channels == 1
    assert len(clf.preprocessing.mean) == 1 and len(clf.preprocessing.std) == 1
    assert any("1-channel" in w for w in clf.warnings), clf.warnings
    x = torch.rand(1, 3, 168, 168, generator=torch.Generator().manual_seed(0))
    gray = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)[..., 4:164, 4:164]
    pre = clf.preprocessing
    with torch.no_grad():
        expected = ref((gray - pre.mean[0]) / pre.std[0])
    torch.testing.assert_close(clf.module(x), expected, atol=1e-5, rtol=1e-5)
    assert_short_run(clf, image)
    five = tmp_path / "five.safetensors"  # neither RGB nor grayscale: refused, saying so
    save_file({k: v.contiguous() for k, v in timm.create_model("test_resnet", num_classes=3, in_chans=5).state_dict().items()}, str(five))
    with pytest.raises(ModelError, match=r"five\.safetensors takes 5-channel input; GradFlip feeds RGB \(3\) or grayscale \(1\)"):
        mf.load_model_file(five, arch="timm:test_resnet")


def test_a_timm_vit_trained_at_another_input_size_is_built_at_that_size(tmp_path, image):
    """A ViT fine-tuned on CIFAR (timm.create_model("vit_tiny_patch16_224", img_size=32, patch_size=4, ...)) was
    refused: its position embeddings (65 tokens) do not fit the architecture at its default size and nothing could name the
    size. The size and patch are read from the weights and the network is built at that size."""
    torch.manual_seed(0)
    ref = timm.create_model("test_vit", pretrained=False, num_classes=10, img_size=32, patch_size=4).eval()
    path = tmp_path / "cifar_vit.pth"
    torch.save(ref.state_dict(), path)
    clf = mf.load_model_file(path, arch="timm:test_vit")
    assert clf.num_classes == 10 and clf.preprocessing.input_size == (32, 32) and clf.preprocessing.resize == "squash"
    assert any("trained at 32×32 input (patch 4): built at that size" in w for w in clf.warnings)
    assert_same_logits(clf, ref, 32, seed=0)
    assert_short_run(clf, image)


def test_a_timm_vit_with_a_non_square_grid_is_built_at_the_input_size_given(tmp_path):
    """A ViT fine-tuned at 160 x 224 (timm.create_model(..., img_size=(160, 224))): 140 patch tokens are no square
    grid, so the weights were refused as "1 shape mismatches (pos_embed ...). Is the architecture right?" even with
    the input size in the sidecar. The size given builds it; without one the error asks for the size, not the arch."""
    torch.manual_seed(0)
    ref = timm.create_model("test_vit", pretrained=False, num_classes=3, img_size=(160, 224)).eval()
    path = tmp_path / "wide_vit.pth"
    torch.save(ref.state_dict(), path)
    with pytest.raises(ModelSettingError, match=r"for 140 patches of 16 px, not a square grid.*160×224") as info:
        mf.load_model_file(path, arch="timm:test_vit")
    assert info.value.setting == "preprocessing"
    (tmp_path / "wide_vit.gradflip.json").write_text(json.dumps(
        {"kind": "gradflip-model", "version": 1, "arch": "timm:test_vit", "preprocessing": {"input_size": [160, 224]}}))
    for clf in (mf.load_model_file(path), mf.load_model_file(path, arch="timm:test_vit", use_sidecar=False,
                                                              preprocessing={"input_size": [160, 224]})):
        assert clf.num_classes == 3 and clf.preprocessing.input_size == (160, 224)
        assert any("trained at 160×224 input (patch 16): built at that size" in w for w in clf.warnings)
        x = torch.rand(1, 3, 160, 224, generator=torch.Generator().manual_seed(1))
        mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (clf.preprocessing.mean, clf.preprocessing.std))
        with torch.no_grad():
            torch.testing.assert_close(clf.module(x), ref((x - mean) / std), atol=1e-5, rtol=1e-5)


def test_an_unknown_timm_name_suggests_the_close_name_the_weights_fit(tmp_path):
    """'mobilenetv3_small_05' for a mobilenetv3_small_050 file said "Use --arch timm:mobilenetv3_small_075" (the
    app: "timm:mobilenetv3_small_075 fits"), the closest spelling, which the weights do not fit."""
    from gradflip_desktop import cli

    path = tmp_path / "mnv3.pth"
    torch.save(timm.create_model("mobilenetv3_small_050", pretrained=False, num_classes=7).state_dict(), path)
    with pytest.raises(ModelSettingError, match=r"did you mean mobilenetv3_small_050 \(the weights fit it\)") as err:
        mf.load_model_file(path, arch="timm:mobilenetv3_small_05")
    assert err.value.suggestions == ["timm:mobilenetv3_small_050"]
    assert cli.model_error_text(err.value).endswith("Use --arch timm:mobilenetv3_small_050.")
    assert mf.load_model_file(path, arch=err.value.suggestions[0]).num_classes == 7  # the suggestion loads
    other = tmp_path / "vit.pth"  # none of the close names fits: nothing is offered as fitting
    timm_checkpoint(other, "test_vit", classes=4)
    with pytest.raises(ModelSettingError, match=r"did you mean mobilenetv3_small_0") as err:
        mf.load_model_file(other, arch="timm:mobilenetv3_small_05")
    assert err.value.suggestions == [] and "fit" not in str(err.value)


@pytest.mark.parametrize("prefix", ["module.", "model."])
def test_a_prefixed_checkpoint_still_gets_the_fitting_suggestion(tmp_path, prefix):
    """DDP ("module.") / Lightning ("model.") keys load (strip_framework_prefix), so the suggestion must see them fit."""
    sd = timm.create_model("mobilenetv3_small_050", pretrained=False, num_classes=7).state_dict()
    path = tmp_path / "mnv3.pth"
    torch.save({prefix + k: v for k, v in sd.items()}, path)
    with pytest.raises(ModelSettingError) as err:
        mf.load_model_file(path, arch="timm:mobilenetv3_small_05")
    assert err.value.suggestions == ["timm:mobilenetv3_small_050"], str(err.value)
    assert mf.load_model_file(path, arch=err.value.suggestions[0]).num_classes == 7


@pytest.mark.parametrize("name", ["test_resnet", "test_vit"])
def test_a_timm_feature_extractor_without_its_head_is_named_so(tmp_path, name):
    # timm.create_model(NAME, num_classes=0): it read "2 missing keys (…). Is the architecture right?"
    path = tmp_path / "backbone.pth"
    torch.save(timm.create_model(name, num_classes=0).state_dict(), path)
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, arch=f"timm:{name}")
    msg = str(err.value)
    assert "without its classifier head" in msg and "Is the architecture right" not in msg, msg
    assert not isinstance(err.value, ModelSettingError)  # no other architecture would help: not a setting to change


def test_a_timm_architecture_that_does_not_fit_names_the_one_of_its_family_that_does(tmp_path):
    # --arch timm:resnet34 on a resnet18 file listed the missing keys and asked "Is the architecture right?"; the
    # torchvision message names the fit
    path = tmp_path / "mine.pth"
    torch.save(timm.create_model("resnet18", pretrained=False, num_classes=4).state_dict(), path)
    with pytest.raises(ModelSettingError) as err:
        mf.load_model_file(path, arch="timm:resnet34")
    assert "The weights fit timm:resnet18" in str(err.value) and err.value.suggestions[0] == "timm:resnet18"
    assert mf.load_model_file(path, arch=err.value.suggestions[0]).num_classes == 4


def test_a_crop_pct_of_one_still_crops_the_centre_as_timm_does(tmp_path):
    # test_mambaout's pretrained_cfg: 160 px, crop_pct 1.0, crop_mode center; timm's eval transform is
    # Resize(160) (the short side) + CenterCrop(160); GradFlip squashed the whole photo into 160 × 160
    from gradflip_desktop.core.models.files.timm import timm_preprocessing

    net = timm.create_model("test_mambaout", num_classes=3)
    cfg = timm.data.resolve_data_config(model=net)
    assert cfg["crop_pct"] == 1.0 and cfg["crop_mode"] == "center"
    path = tmp_path / "mambaout.pth"
    torch.save(net.state_dict(), path)
    pre = mf.load_model_file(path, arch="timm:test_mambaout").preprocessing
    assert (pre.input_size, pre.resize, pre.resize_size) == ((160, 160), "center-crop", 160)
    top, left, bottom, right = pre.visible_box(400, 600)  # a 3:2 photo: its sides are not seen, as in timm
    assert (top, bottom) == (0, 400) and 95 <= left <= 105 and 495 <= right <= 505
    squash = {"input_size": (3, 160, 160), "crop_pct": 1.0, "crop_mode": "squash"}
    assert timm_preprocessing(squash).resize == "squash"  # timm's squash mode stays a squash


def test_an_interpolation_gradflip_cannot_take_is_said_not_swapped_silently(tmp_path):
    """A timm config (or a Hugging Face preprocessor) that resizes with nearest or Lanczos was explained with bilinear
    without a word; the note names both, and where the other choice GradFlip has is set."""
    import json
    from types import SimpleNamespace

    from gradflip_desktop.core.models.files.huggingface import hf_preprocessing
    from gradflip_desktop.core.models.files.timm import timm_preprocessing

    notes: list[str] = []
    pre = timm_preprocessing({"input_size": (3, 32, 32), "interpolation": "nearest"}, notes)
    assert pre.interpolation == "bilinear" and len(notes) == 1
    assert "resized with nearest interpolation; GradFlip resizes with bilinear" in notes[0]
    notes.clear()
    assert timm_preprocessing({"input_size": (3, 32, 32), "interpolation": "bicubic"}, notes).interpolation == "bicubic"
    assert notes == []
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"size": {"height": 32, "width": 32}, "resample": 1}))
    pre, known = hf_preprocessing(tmp_path, SimpleNamespace(num_channels=3, image_size=32), notes)
    assert known and pre.interpolation == "bilinear"
    assert notes == ["the model's preprocessor resizes with Pillow's resample=1; GradFlip resizes with bilinear (or "
                     "bicubic: \"interpolation\" in the model's .gradflip.json sidecar)"]


def test_the_interpolation_note_goes_once_the_settings_choose_bicubic_as_it_advises(tmp_path):
    """A timm folder whose config resizes with nearest: the note says GradFlip resizes with bilinear and how to pick
    bicubic; picked (the sidecar's "interpolation", or preprocessing=), the note went on saying "bilinear"."""
    from timm.models import _hub

    folder = tmp_path / "timm-folder"
    folder.mkdir()
    _hub.save_for_hf(timm.create_model("test_resnet", pretrained=False, num_classes=3).eval(), str(folder))
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    cfg["pretrained_cfg"]["interpolation"] = "nearest"
    (folder / "config.json").write_text(json.dumps(cfg), encoding="utf-8")

    def said(clf) -> list[str]:
        return [w for w in clf.warnings if "GradFlip resizes with bilinear" in w]

    plain = mf.load_model_file(folder)
    assert plain.preprocessing.interpolation == "bilinear" and len(said(plain)) == 1
    given = mf.load_model_file(folder, preprocessing={"interpolation": "bicubic"})
    assert given.preprocessing.interpolation == "bicubic" and said(given) == [], given.warnings
    (tmp_path / "timm-folder.gradflip.json").write_text(json.dumps({"preprocessing": {"interpolation": "bicubic"}}))
    side = mf.load_model_file(folder)
    assert side.preprocessing.interpolation == "bicubic" and said(side) == [], side.warnings


def test_a_timm_state_dict_given_without_arch_names_the_timm_architecture_it_fits(tmp_path):
    """`--model vit_tiny_3.safetensors` without --arch said "the weights fit none of them" (torchvision's), while a
    mistyped --arch timm:vit_tiny_patch16 found the fit: the refusal now names the timm architectures named like the
    file that the weights fit, as a suggestion (`use --arch timm:…`); a file named otherwise is refused as before."""
    from gradflip_desktop.cli_messages import model_error_text

    timm_checkpoint(tmp_path / "test_vit_finetuned.pth", "test_vit", classes=5)
    with pytest.raises(ModelSettingError) as caught:
        mf.load_model_file(tmp_path / "test_vit_finetuned.pth")
    exc = caught.value
    assert exc.setting == "architecture" and exc.suggestions == ["timm:test_vit"], exc.suggestions
    assert "the weights fit no torchvision architecture; they fit timm:test_vit" in str(exc), str(exc)
    assert "use --arch timm:test_vit" in model_error_text(exc)
    clf = mf.load_model_file(tmp_path / "test_vit_finetuned.pth", arch=exc.suggestions[0])  # the suggestion loads
    assert clf.num_classes == 5
    # a ViT trained at another input and patch size (32 px, patches of 4: CIFAR's) fits the name built at the size
    # its weights state, as --arch timm:test_vit builds it; it was said to fit none
    small = timm.create_model("test_vit", pretrained=False, num_classes=3, img_size=32, patch_size=4)
    torch.save(small.state_dict(), tmp_path / "test_vit_cifar.pth")
    with pytest.raises(ModelSettingError) as caught:
        mf.load_model_file(tmp_path / "test_vit_cifar.pth")
    assert caught.value.suggestions == ["timm:test_vit"], str(caught.value)
    assert mf.load_model_file(tmp_path / "test_vit_cifar.pth", arch="timm:test_vit").preprocessing.input_size == (32, 32)
    from gradflip_desktop.core.models.files.timm import names_the_weights_fit

    # a file that fits a name as it is built is not offered the names of other sizes (their settings differ)
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=3)
    sd = {k: v for k, v in vit.state_dict().items()}
    fit = names_the_weights_fit("vit_tiny_patch16_224_ft", sd)
    assert fit[0] == "vit_tiny_patch16_224" and "vit_tiny_patch16_384" not in fit, fit  # (deit_tiny's is the same net)
    timm_checkpoint(tmp_path / "weights.pth", "test_vit", classes=5)  # a name that says nothing: no guess
    with pytest.raises(ModelSettingError, match="the weights fit none of them") as caught:
        mf.load_model_file(tmp_path / "weights.pth")
    assert caught.value.suggestions == []


def test_a_two_channel_timm_checkpoint_is_refused_for_its_channel_count(tmp_path):
    """in_chans=2 (e.g. a depth + intensity model) is neither RGB nor grayscale: said so, as for 5 channels (mutation
    audit: refusing only more than 3 channels survived; 2 then read as "the weights do not fit")."""
    from safetensors.torch import save_file

    two = tmp_path / "two.safetensors"
    save_file({k: v.contiguous() for k, v in timm.create_model("test_resnet", num_classes=3, in_chans=2).state_dict().items()},
              str(two))
    with pytest.raises(ModelError, match=r"^two\.safetensors takes 2-channel input; GradFlip feeds RGB \(3\) or grayscale "
                                         r"\(1\) images$"):
        mf.load_model_file(two, arch="timm:test_resnet")


def test_the_input_size_given_to_the_load_wins_over_the_sidecars_for_a_non_square_vit(tmp_path):
    """A sidecar saying 224 × 160 and the caller saying 160 × 224 for a 160 × 224 ViT: the caller's size builds the
    network, as it is the one the preprocessing then uses (mutation audit: the sidecar's size winning survived)."""
    torch.manual_seed(0)
    ref = timm.create_model("test_vit", pretrained=False, num_classes=3, img_size=(160, 224)).eval()
    path = tmp_path / "wide_vit.pth"
    torch.save(ref.state_dict(), path)
    (tmp_path / "wide_vit.gradflip.json").write_text(json.dumps(
        {"kind": "gradflip-model", "version": 1, "arch": "timm:test_vit", "preprocessing": {"input_size": [224, 160]}}))
    clf = mf.load_model_file(path, preprocessing={"input_size": [160, 224]})
    assert clf.preprocessing.input_size == (160, 224)
    assert any("trained at 160×224 input (patch 16): built at that size" in w for w in clf.warnings)


def test_a_grayscale_timm_checkpoint_is_normalised_by_the_average_of_the_rgb_mean_and_std(tmp_path):
    """in_chans=1: luma normalised by the mean of the architecture's three RGB values, as a dict's channels=1 does
    (mutation audit: taking the red channel's mean survived; the grayscale test compared with the mean it read)."""
    from safetensors.torch import save_file

    torch.manual_seed(0)
    ref = timm.create_model("test_efficientnet", pretrained=False, num_classes=3, in_chans=1).eval()
    path = tmp_path / "xray.safetensors"
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(path))
    pre = mf.load_model_file(path, arch="timm:test_efficientnet").preprocessing
    cfg = timm.create_model("test_efficientnet", pretrained=False).pretrained_cfg
    assert pre.mean == pytest.approx((sum(cfg["mean"]) / 3,)) and pre.std == pytest.approx((sum(cfg["std"]) / 3,))
    assert pre.channels == 1 and pre.mean == pytest.approx((0.449,)) and pre.std == pytest.approx((0.226,))
