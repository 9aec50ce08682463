"""Hugging Face model folders (save_pretrained): config.json + model.safetensors / pytorch_model.bin,
labels from id2label, preprocessing from preprocessor_config.json, logits from the output object."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from model_helpers import PicklePayload, assert_short_run, hf_vit_folder

from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import files as mf

pytest.importorskip("transformers")  # the `hf` extra (part of `test`)


@pytest.mark.parametrize("weights", ["safetensors", "bin"])
def test_hf_vit_folder_classifies_and_explains(tmp_path, image, weights):
    folder = tmp_path / "my-vit"
    ref = hf_vit_folder(folder, weights=weights)
    assert mf.detect_format(folder) == "huggingface"
    clf = mf.load_model_file(folder)
    assert clf.labels == ["ant", "bee", "cat"] and clf.num_classes == 3
    assert clf.name == "my-vit (Hugging Face, 3 classes)"
    pre = clf.preprocessing
    assert (pre.input_size, pre.mean, pre.std, pre.resize, pre.interpolation) == ((32, 32), (0.5,) * 3, (0.25,) * 3, "squash", "bicubic")
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(clf.module(x), ref(pixel_values=(x - 0.5) / 0.25).logits, atol=1e-5, rtol=1e-5)
    assert_short_run(clf, image)


@pytest.mark.parametrize("weights, file", [("safetensors", "model.safetensors"), ("bin", "pytorch_model.bin")])
def test_the_weights_file_of_a_hf_folder_loads_the_folder(tmp_path, weights, file):
    """A file dialog shows the folder's files: model.safetensors chosen alone was read as a torchvision/timm state
    dict and refused ("cannot tell which architecture model.safetensors is for ... the weights fit none of them"),
    as the config.json chosen is taken as its folder. Weights next to a training config stay a state dict."""
    folder = tmp_path / "my-vit"
    hf_vit_folder(folder, weights=weights)
    clf = mf.load_model_file(folder / file)
    assert clf.labels == ["ant", "bee", "cat"] and clf.name == "my-vit (Hugging Face, 3 classes)"
    assert mf.inspect_model_file(folder / file).format == "huggingface"  # the app's Load model dialog too
    other = tmp_path / "run"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"lr": 0.1, "epochs": 3}), encoding="utf-8")
    torch.save({"fc.weight": torch.zeros(3, 4)}, other / "pytorch_model.bin")
    assert mf.detect_format(other / "pytorch_model.bin") == "state_dict"
    with pytest.raises(ModelError, match="cannot tell which architecture pytorch_model.bin is for"):
        mf.load_model_file(other / "pytorch_model.bin")


def test_hf_folder_without_preprocessor_config_uses_the_config_size(tmp_path):
    folder = tmp_path / "bare"
    hf_vit_folder(folder, preprocessor=False, size=24)
    clf = mf.load_model_file(folder)
    assert clf.preprocessing.input_size == (24, 24) and clf.preprocessing.mean == (0.5,) * 3
    assert any("no preprocessing settings for bare" in w for w in clf.warnings)


def test_hf_folder_problems_are_named(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=r"is a folder without config\.json: neither a model file nor a Hugging Face model folder"):
        mf.load_model_file(empty)
    (empty / "config.json").write_text(json.dumps({"model_type": "vit"}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"^empty holds config\.json but no weights \(model\.safetensors or pytorch_model\.bin\)"):
        mf.load_model_file(empty)
    evil = tmp_path / "evil"
    hf_vit_folder(evil, weights="bin")
    marker = tmp_path / "PAYLOAD_RAN"
    (evil / "pytorch_model.bin").write_bytes(pickle.dumps(PicklePayload(marker), protocol=2))
    with pytest.raises(ModelError, match=r"refused to load pytorch_model\.bin: it contains pickled Python objects"):
        mf.load_model_file(evil)
    assert not marker.exists()


def test_a_sharded_bin_checkpoint_with_a_pickled_object_is_refused_without_advising_an_unsafe_load(tmp_path):
    """pytorch_model.bin.index.json + a shard holding a pickled object: transformers' torch.load refused it, and the
    message passed on torch's advice that re-running with `weights_only=False` "will likely succeed" (running the
    file's code). The shard is scanned as a single pytorch_model.bin is, and refused in GradFlip's words."""
    evil = tmp_path / "evil"
    model = hf_vit_folder(evil, weights="bin")
    marker = tmp_path / "PAYLOAD_RAN"
    (evil / "pytorch_model.bin").unlink()
    state = dict(model.state_dict())
    state["payload"] = PicklePayload(marker)
    torch.save(state, evil / "pytorch_model-00001-of-00001.bin")
    index = {"metadata": {}, "weight_map": {k: "pytorch_model-00001-of-00001.bin" for k in model.state_dict()}}
    (evil / "pytorch_model.bin.index.json").write_text(json.dumps(index), encoding="utf-8")
    with pytest.raises(ModelError) as err:
        mf.load_model_file(evil)
    assert "weights_only" not in str(err.value) and "pickled Python objects" in str(err.value)
    assert not marker.exists()


def test_missing_transformers_says_how_to_install(tmp_path, monkeypatch):
    import sys

    folder = tmp_path / "vit"
    hf_vit_folder(folder)
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ModelError, match=r"need the transformers package, which is not installed: pip install transformers safetensors \(GradFlip's extra 'hf'\)"):
        mf.load_model_file(folder)


def test_hf_folder_without_a_classification_head_is_refused(tmp_path):
    """A backbone saved without its head (ViTModel, or a head-less export): transformers initialises the head
    at random, silently here (its logging is quieted), so GradFlip "explained" a random 2-class head."""
    import transformers

    cfg = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                 intermediate_size=64)
    torch.manual_seed(0)
    transformers.ViTModel(cfg).save_pretrained(tmp_path / "backbone")
    with pytest.raises(ModelError, match=r"^the weights in backbone lack 2 tensors of the image classifier \(classifier\.bias, "
                                         r"classifier\.weight\): transformers would initialise them at random"):
        mf.load_model_file(tmp_path / "backbone")


def test_a_timm_model_folder_loads_through_timm(tmp_path, image):
    """timm's own Hub layout (timm.models.push_to_hf_hub / save_for_hf: config.json naming the architecture,
    model.safetensors): transformers' wrapper for it failed ("got multiple values for keyword argument
    'num_classes'"). The folder is loaded as a timm checkpoint of that architecture, with its label names."""
    timm = pytest.importorskip("timm")
    from timm.models import _hub

    torch.manual_seed(0)
    ref = timm.create_model("test_resnet", pretrained=False, num_classes=3).eval()
    folder = tmp_path / "timm-folder"
    folder.mkdir()
    _hub.save_for_hf(ref, str(folder), model_config={"label_names": ["ant", "bee", "cat"]}, safe_serialization=True)
    clf = mf.load_model_file(folder)
    assert clf.num_classes == 3 and clf.labels == ["ant", "bee", "cat"]
    assert any("timm model folder" in w for w in clf.warnings), clf.warnings
    pre = clf.preprocessing
    assert pre.input_size == tuple(ref.pretrained_cfg["input_size"][1:]) == (160, 160) and pre.resize_size == 168
    x = torch.rand(1, 3, 168, 168, generator=torch.Generator().manual_seed(0))  # cropped to the centre 160 x 160
    mean, std = torch.tensor(pre.mean).view(1, 3, 1, 1), torch.tensor(pre.std).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = ref((x[..., 4:164, 4:164] - mean) / std)
    torch.testing.assert_close(clf.module(x), expected, atol=1e-5, rtol=1e-5)
    assert mf.load_model_file(folder / "config.json").labels == ["ant", "bee", "cat"]  # as chosen in the app's dialog


def test_a_timm_model_folder_is_named_by_its_folder_not_its_weights_file(tmp_path):
    """A timm folder without label names said "no labels for pytorch_model.bin" (the file inside the folder the
    user named), next to "timm-folder is a timm model folder"; a labels file of another length named it too."""
    timm = pytest.importorskip("timm")
    from timm.models import _hub

    folder = tmp_path / "timm-folder"
    folder.mkdir()
    _hub.save_for_hf(timm.create_model("test_resnet", pretrained=False, num_classes=3).eval(), str(folder))
    clf = mf.load_model_file(folder)
    assert any(w.startswith("no labels for timm-folder:") for w in clf.warnings), clf.warnings
    assert not any("pytorch_model.bin" in w or "model.safetensors" in w for w in clf.warnings), clf.warnings
    (tmp_path / "two.txt").write_text("a\nb\n")
    with pytest.raises(ModelError, match="2 labels were given but timm-folder has 3 classes"):
        mf.load_model_file(folder, labels=str(tmp_path / "two.txt"))


def test_a_convnext_image_processor_crops_as_transformers_does(tmp_path, image):
    """ConvNextImageProcessor (facebook/convnext-*-224, microsoft/resnet-*: size {"shortest_edge": 224},
    crop_pct 0.875) resizes the shorter side to 256 and crops 224 × 224 from the centre; GradFlip squashed the
    whole photo to 224 × 224 (another aspect ratio and framing than the model was trained on)."""
    from transformers import ConvNextImageProcessor

    folder = tmp_path / "convnext"
    hf_vit_folder(folder, size=32, preprocessor=False)
    ConvNextImageProcessor(size={"shortest_edge": 32}, crop_pct=0.8, image_mean=[0.5] * 3, image_std=[0.25] * 3,
                           resample=3).save_pretrained(str(folder))
    clf = mf.load_model_file(folder)
    pre = clf.preprocessing
    assert (pre.input_size, pre.resize, pre.resize_size) == ((32, 32), "center-crop", 40)
    photo = (np.random.default_rng(0).random((30, 60, 3)) * 255).astype(np.uint8)  # H x W, not square
    processor = ConvNextImageProcessor.from_pretrained(str(folder))
    want = processor(images=photo, return_tensors="pt")["pixel_values"]
    assert tuple(want.shape) == (1, 3, 32, 32)
    x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    got = clf.module.net.model  # HFLogits' model: compare what reaches it
    seen = []
    hook = got.register_forward_pre_hook(lambda _m, args, kwargs: seen.append(kwargs["pixel_values"]), with_kwargs=True)
    with torch.no_grad():
        clf.module(x)
    hook.remove()
    assert seen[0].shape == want.shape
    assert float((seen[0] - want).abs().mean()) < 0.05  # the same framing (the resampling differs slightly)


def test_a_multi_label_folder_reads_its_logits_as_sigmoids(tmp_path, image):
    """problem_type multi_label_classification: each class has its own sigmoid. It was shown as a softmax of the
    logits without a note (shares that mean nothing for a multi-label model); now p / sum(p), as for TorchScript."""
    import json as _json

    folder = tmp_path / "tags"
    ref = hf_vit_folder(folder)
    cfg = _json.loads((folder / "config.json").read_text())
    cfg["problem_type"] = "multi_label_classification"
    (folder / "config.json").write_text(_json.dumps(cfg))
    clf = mf.load_model_file(folder)
    assert any("multi-label classifier" in w and "p / sum(p)" in w for w in clf.warnings)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        p = torch.sigmoid(ref(pixel_values=(x - 0.5) / 0.25).logits)
        shown = torch.softmax(clf.module(x), dim=1)
    torch.testing.assert_close(shown, p / p.sum(1, keepdim=True), atol=1e-5, rtol=1e-4)
    plain = mf.load_model_file(hf_vit_folder(tmp_path / "plain") and tmp_path / "plain")
    assert not any("multi-label" in w for w in plain.warnings)  # a single-label folder is unchanged
    assert_short_run(clf, image)


def test_a_mobilevit_folder_gets_unnormalised_bgr_pixels_as_transformers_gives_it(tmp_path):
    """MobileViTImageProcessor (apple/mobilevit-*) has no normalisation step and flips the channel order: the network
    takes BGR pixels in [0, 1]. GradFlip fed RGB normalised with mean = std = 0.5 (values in [-1, 1], red and blue
    swapped)."""
    from transformers import MobileViTConfig, MobileViTForImageClassification, MobileViTImageProcessor

    torch.manual_seed(0)
    folder = tmp_path / "mobilevit"
    config = MobileViTConfig(image_size=32, hidden_sizes=[16, 24, 32], neck_hidden_sizes=[8, 8, 16, 16, 24, 32, 64],
                             num_labels=3)
    MobileViTForImageClassification(config).save_pretrained(str(folder))
    MobileViTImageProcessor(size={"shortest_edge": 36}, crop_size={"height": 32, "width": 32}).save_pretrained(str(folder))
    clf = mf.load_model_file(folder)
    photo = (np.random.default_rng(0).random((36, 54, 3)) * 255).astype(np.uint8)
    processor = MobileViTImageProcessor.from_pretrained(str(folder))
    want = processor(images=photo, return_tensors="pt")["pixel_values"]
    x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    seen = []
    hook = clf.module.net.model.register_forward_pre_hook(
        lambda _m, args, kwargs: seen.append(kwargs["pixel_values"]), with_kwargs=True)
    with torch.no_grad():
        clf.module(x)
    hook.remove()
    assert seen[0].shape == want.shape
    assert float((seen[0] - want).abs().mean()) < 0.05  # was ~0.5: another range and red and blue swapped
    assert any("BGR" in w for w in clf.warnings), clf.warnings


def test_a_deit_processor_warps_then_crops_as_transformers_does(tmp_path):
    """DeiTImageProcessor (facebook/deit-*): ``size`` {"height": 256, "width": 256} warps the photo to 256 x 256,
    then 224 x 224 is cropped from the centre. GradFlip resized the short side to 256 and cropped, so a 3:2 photo
    lost its sides (a mean difference of 0.30 from the processor's input)."""
    from transformers import DeiTImageProcessor

    folder = tmp_path / "deit"
    hf_vit_folder(folder, size=32, preprocessor=False)
    DeiTImageProcessor(size={"height": 40, "width": 40}, crop_size={"height": 32, "width": 32},
                       resample=2).save_pretrained(str(folder))  # bilinear, as GradFlip resizes
    clf = mf.load_model_file(folder)
    pre = clf.preprocessing
    assert (pre.resize, pre.resize_size, tuple(pre.input_size)) == ("squash-crop", 40, (32, 32))
    photo = (np.random.default_rng(0).random((40, 60, 3)) * 255).astype(np.uint8)
    want = DeiTImageProcessor.from_pretrained(str(folder))(images=photo, return_tensors="pt")["pixel_values"]
    seen = []
    hook = clf.module.net.model.register_forward_pre_hook(
        lambda _m, args, kwargs: seen.append(kwargs["pixel_values"]), with_kwargs=True)
    with torch.no_grad():
        clf.module(torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255)
    hook.remove()
    assert seen[0].shape == want.shape
    assert float((seen[0] - want).abs().mean()) < 0.05  # the short side resized and cropped: ~0.5 on noise
    assert pre.visible_box(40, 60) == (2, 2, 38, 58)  # the middle 4/5 of each side, and a resize kernel's reach


def test_a_weights_file_with_its_own_sidecar_is_loaded_as_that_file(tmp_path):
    """A training run's folder: its config.json names an "architecture" (not timm's Hub layout), and the weights
    file has the settings the Load model dialog saved for it. Chosen, the file loads with them; the folder was
    loaded instead, as timm's resnet18 at timm's 224 px centre crop, its sidecar unread."""
    import torchvision

    from gradflip_desktop.core.models.files.huggingface import hf_folder_of

    d = tmp_path / "run1"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"architecture": "resnet18", "lr": 0.1}))
    weights = d / "pytorch_model.bin"
    torch.save(torchvision.models.resnet18(num_classes=10).state_dict(), weights)
    assert hf_folder_of(weights) == d  # no sidecar: the folder, as before
    (d / "pytorch_model.bin.gradflip.json").write_text(json.dumps(
        {"format": "state_dict", "arch": "resnet18", "preprocessing": {"input_size": [64, 64]}}))
    assert hf_folder_of(weights) is None
    clf = mf.load_model_file(str(weights))
    assert clf.name == "resnet18 (10 classes, pytorch_model.bin)" and clf.preprocessing.input_size == (64, 64)


def test_a_hf_folder_trained_again_in_place_is_another_model(tmp_path):
    """The record named a Hugging Face folder by its name alone: a folder whose weights were trained again and saved
    in place (save_pretrained over it) was the same model to --resume, which kept the old sets as the new model's
    answers, and to check, which measured their maps with the new weights. A copy under another name is the same."""
    import shutil

    from gradflip_desktop.core.dataset.inputs import same_weights
    from gradflip_desktop.core.dataset.job import made_otherwise

    folder = tmp_path / "my-vit"
    hf_vit_folder(folder, seed=0)
    before = mf.load_model_file(folder).settings()
    shutil.copytree(folder, tmp_path / "copy-vit")
    copy = mf.load_model_file(tmp_path / "copy-vit").settings()
    hf_vit_folder(folder, seed=1)  # trained again: the same config, other weights of the same size
    after = mf.load_model_file(folder).settings()
    assert before["file"] == after["file"] == "my-vit" and before["file_bytes"] == after["file_bytes"]
    assert before["file_sha256"] != after["file_sha256"]
    rec = {"model": {"name": "my-vit (Hugging Face, 3 classes)", **before}}
    assert made_otherwise(rec, None, {"name": "my-vit (Hugging Face, 3 classes)", **after}, None).startswith("model file sha256 ")
    assert copy["file_sha256"] == before["file_sha256"] and "file" in same_weights(before, copy)


def _processor(folder, **fields):
    folder.mkdir(exist_ok=True)
    (folder / "preprocessor_config.json").write_text(json.dumps(fields), encoding="utf-8")
    from types import SimpleNamespace

    from gradflip_desktop.core.models.files.huggingface import hf_preprocessing

    notes: list[str] = []
    return hf_preprocessing(folder, SimpleNamespace(num_channels=3, image_size=224), notes)[0]


def test_a_processors_height_and_width_are_read_in_that_order(tmp_path):
    """size {"height": 160, "width": 224} is a 160-high, 224-wide input (mutation audit: reading them the other way
    round survived; every folder in the tests was square)."""
    pre = _processor(tmp_path / "wide", size={"height": 160, "width": 224}, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    assert pre.input_size == (160, 224) and pre.resize == "squash"


def test_a_convnext_processor_crops_below_384_px_and_warps_from_384(tmp_path):
    """ConvNextImageProcessor: shortest_edge 288 with crop_pct 0.875 resizes to int(288 / 0.875) = 329 and crops;
    at 384 px it warps to 384 × 384, as transformers does (mutation audit: cropping at exactly 384 survived)."""
    below = _processor(tmp_path / "b", size={"shortest_edge": 288}, crop_pct=0.875, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    assert (below.input_size, below.resize, below.resize_size) == ((288, 288), "center-crop", 329)
    at = _processor(tmp_path / "a", size={"shortest_edge": 384}, crop_pct=0.875, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    assert (at.input_size, at.resize, at.resize_size) == ((384, 384), "squash", None)


def test_a_one_output_multi_label_folder_is_a_single_logit_binary_classifier(tmp_path):
    """num_labels 1 with problem_type multi_label_classification is one sigmoid: read as a single logit, p(class 1) =
    sigmoid(logit), not as log sigmoid(logit) passed through a sigmoid again (mutation audit: dropping the "more than
    one class" condition survived)."""
    folder = tmp_path / "yes"
    ref = hf_vit_folder(folder, labels=("yes",))
    cfg = json.loads((folder / "config.json").read_text())
    cfg["problem_type"] = "multi_label_classification"
    (folder / "config.json").write_text(json.dumps(cfg))
    clf = mf.load_model_file(folder)
    assert clf.num_classes == 2 and not any("multi-label" in w for w in clf.warnings)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        p = torch.sigmoid(ref(pixel_values=(x - 0.5) / 0.25).logits)[0, 0]
        shown = torch.softmax(clf.module(x), dim=1)[0, 1]
    torch.testing.assert_close(shown, p, atol=1e-5, rtol=1e-4)


def test_labels_are_dropped_only_when_all_are_transformers_placeholders(tmp_path):
    """id2label {"0": "cat", "1": "LABEL_1"}: a folder with one class left unnamed keeps its names; only a config whose
    every label is transformers' LABEL_n placeholder has none (mutation audit: dropping them on any placeholder survived)."""
    folder = tmp_path / "half"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "vit", "id2label": {"0": "cat", "1": "LABEL_1"}}))
    from gradflip_desktop.core.models.files.huggingface import hf_folder_facts

    assert hf_folder_facts(folder)[0] == ["cat", "LABEL_1"]
    (folder / "config.json").write_text(json.dumps({"model_type": "vit", "id2label": {"0": "LABEL_0", "1": "LABEL_1"}}))
    assert hf_folder_facts(folder)[0] is None


def test_the_dialog_is_given_a_folders_preprocessing_only_when_its_processor_file_says_it(tmp_path):
    """Without preprocessor_config.json the folder states no preprocessing: the Load model dialog gets None (its own
    guess), not the loader's fallback of mean = std = 0.5 shown as the folder's (mutation audit: returning the
    fallback survived)."""
    from gradflip_desktop.core.models.files.huggingface import hf_folder_facts

    folder = tmp_path / "bare"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "vit", "image_size": 64, "id2label": {"0": "a", "1": "b"}}))
    assert hf_folder_facts(folder) == (["a", "b"], None)
    (folder / "preprocessor_config.json").write_text(json.dumps({"size": {"height": 64, "width": 64},
                                                                 "image_mean": [0.5] * 3, "image_std": [0.25] * 3}))
    assert hf_folder_facts(folder)[1].std == (0.25,) * 3
