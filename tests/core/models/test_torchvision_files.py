"""torchvision state dicts: architecture from torchvision's file names or from the weights, fine-tuned
heads, wrapped checkpoints, and messages that name what does not fit."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from model_helpers import SmallCNN, assert_short_run

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import Preprocessing
from gradflip_desktop.core.models import files as mf
from gradflip_desktop.core.models.labels import IMAGENET_GROUPS

tv = pytest.importorskip("torchvision")  # part of the `test` extra


def test_torchvision_file_name_gives_architecture_labels_preprocessing_groups(resnet_files, image, no_download):
    clf = mf.load_model_file(resnet_files["imagenet"])
    w = tv.models.ResNet18_Weights.IMAGENET1K_V1
    assert clf.num_classes == 1000
    assert clf.labels == list(w.meta["categories"]) and clf.labels[0] == "tench"
    assert "ResNet18_Weights.IMAGENET1K_V1" in clf.name
    assert clf.preprocessing == Preprocessing(
        input_size=(224, 224), mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), resize="center-crop", resize_size=256
    )
    for group in ("cat", "dog", "bird", "fish", "vehicle"):
        assert clf.groups[group] == IMAGENET_GROUPS[group]
    assert clf.find_group("cat") == ("cat", [281, 282, 283, 284, 285])
    # the file's weights, not fresh ones
    torch.testing.assert_close(clf.module.net.fc.weight, resnet_files["net"].fc.weight)
    # logits equal torchvision's own pipeline: resize 256 (short side), centre crop 224, normalise
    x = torch.rand(1, 3, 256, 300, generator=torch.Generator().manual_seed(0))
    ref = resnet_files["net"](w.transforms()(x))
    torch.testing.assert_close(clf.module(x), ref, atol=2e-4, rtol=1e-4)
    assert_short_run(clf, image)


def test_importing_model_files_does_not_import_torchvision():
    code = "import sys, gradflip_desktop.core.models, gradflip_desktop.core.models.files; print('torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("variant", ["state_dict+module.", "model+_orig_mod.", "legacy-format"])
def test_fine_tuned_head_and_wrapped_checkpoints(resnet_files, tmp_path, image, variant):
    ft = resnet_files["ft"]
    sd = ft.state_dict()
    path = tmp_path / "finetuned.pth"
    if variant == "state_dict+module.":
        torch.save({"state_dict": {f"module.{k}": v for k, v in sd.items()}, "epoch": 7, "best_acc": 0.9}, path)
    elif variant == "model+_orig_mod.":
        torch.save({"model": {f"_orig_mod.{k}": v for k, v in sd.items()}, "optimizer": {"lr": 0.1}}, path)
    else:
        torch.save(sd, path, _use_new_zipfile_serialization=False)
    labels = [f"part {i}" for i in range(10)]
    clf = mf.load_model_file(path, arch="resnet18", labels=labels)
    assert clf.num_classes == 10 and clf.labels == labels
    assert clf.groups == {}  # not ImageNet: no built-in groups
    torch.testing.assert_close(clf.module.net.fc.weight, ft.fc.weight)
    if variant != "legacy-format":
        assert any(variant.split("+")[0] in w for w in clf.warnings)
        assert any(variant.split("+")[1] in w for w in clf.warnings)
    assert any("no preprocessing settings" in w for w in clf.warnings)
    # same logits as the fine-tuned network itself (default preprocessing: 224 squash, ImageNet mean/std)
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(clf.module(x), ft((x - mean) / std))
    assert clf.classify(image, k=3)[0].label.startswith("part ")


def test_architecture_is_recognised_from_the_weights_when_not_named(resnet_files, tmp_path):
    path = tmp_path / "my_weights.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    clf = mf.load_model_file(path)
    assert clf.num_classes == 10 and "resnet18" in clf.name
    assert "architecture resnet18 recognised from the weights" in clf.warnings


@pytest.mark.parametrize("prefix", ["model.", "net."])
def test_architecture_is_recognised_under_a_training_framework_prefix(resnet_files, tmp_path, prefix):
    """A PyTorch Lightning checkpoint of a LightningModule holding ``self.model = resnet18(...)`` names its tensors
    ``model.conv1.weight`` ...: loaded with --arch, but without it 'cannot tell which architecture' (the prefix was
    stripped only once an architecture was named)."""
    path = tmp_path / "epoch=3-step=100.ckpt"
    torch.save({"state_dict": {f"{prefix}{k}": v for k, v in resnet_files["ft"].state_dict().items()}, "epoch": 3}, path)
    clf = mf.load_model_file(path)
    assert clf.num_classes == 10 and "resnet18" in clf.name
    assert "architecture resnet18 recognised from the weights" in clf.warnings
    assert f"removed the '{prefix}' prefix of the weight names" in clf.warnings


def test_wrong_architecture_names_missing_keys_and_suggests_the_right_one(resnet_files, tmp_path):
    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    with pytest.raises(ModelSettingError) as err:
        mf.load_model_file(path, arch="resnet34")
    msg = str(err.value)
    assert "do not fit the torchvision architecture resnet34" in msg
    assert "missing keys (layer1.2.conv1.weight" in msg
    assert msg.endswith(". The weights fit resnet18")  # the CLI adds ": use --arch resnet18" (tests/test_cli_model_files.py)
    assert err.value.setting == "architecture" and err.value.suggestions == ["resnet18"]
    assert "--" not in msg  # no command-line flags in core messages


def test_shape_mismatch_and_unexpected_keys_are_named(resnet_files, tmp_path):
    sd = dict(resnet_files["ft"].state_dict())
    sd["conv1.weight"] = torch.zeros(64, 3, 5, 5)
    sd["extra.weight"] = torch.zeros(3)
    path = tmp_path / "bad.pth"
    torch.save(sd, path)
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, arch="resnet18")
    msg = str(err.value)
    assert "1 unexpected keys (extra.weight)" in msg
    assert "1 shape mismatches (conv1.weight: file [64, 3, 5, 5] vs resnet18 [64, 3, 7, 7])" in msg


def test_unknown_or_unrecognisable_architecture(resnet_files, tmp_path):
    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    with pytest.raises(ModelError, match=r"unknown torchvision architecture 'resnet19'; did you mean .*resnet18"):
        mf.load_model_file(path, arch="resnet19")
    with pytest.raises(ModelError, match=r"'resnt18'; did you mean resnet18, "):  # the closest first, not resnet101
        mf.load_model_file(path, arch="resnt18")
    own = tmp_path / "own_cnn.pth"
    torch.save(SmallCNN().state_dict(), own)
    with pytest.raises(ModelSettingError, match=r"cannot tell which architecture own_cnn\.pth is for \(a torchvision classification model") as err:
        mf.load_model_file(own)
    assert err.value.setting == "architecture" and err.value.suggestions == []  # the CLI adds "choose it with --arch NAME"
    assert "--" not in str(err.value)
    assert "or a timm architecture named timm:NAME" in str(err.value)  # a timm checkpoint is not guessed: say how


def test_safetensors_state_dict_loads_like_a_pth(resnet_files, tmp_path, image):
    from safetensors.torch import save_file

    ft = resnet_files["ft"]
    path = tmp_path / "finetuned.safetensors"
    save_file({k: v.contiguous() for k, v in ft.state_dict().items()}, str(path), metadata={"labels": json.dumps([f"part {i}" for i in range(10)])})
    assert mf.detect_format(path) == "state_dict"
    clf = mf.load_model_file(path)  # architecture from the weights, labels from the file's metadata
    assert "architecture resnet18 recognised from the weights" in clf.warnings
    assert clf.num_classes == 10 and clf.labels[3] == "part 3"
    torch.testing.assert_close(clf.module.net.fc.weight, ft.fc.weight)
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(clf.module(x), ft((x - mean) / std))
    # the same file without its extension is recognised by its header; --arch works as for .pth
    bare = tmp_path / "weights"
    bare.write_bytes(path.read_bytes())
    assert mf.detect_format(bare) == "state_dict"
    assert mf.load_model_file(bare, arch="resnet18").num_classes == 10
    assert_short_run(clf, image)


@pytest.mark.parametrize("dtype", [torch.int8, torch.bool])
def test_integer_weights_are_refused_not_cast_to_a_network_that_answers_nothing(resnet_files, tmp_path, dtype):
    """An int8 (or bool) state dict of a float architecture: load_state_dict cast it without a word and every weight
    under 1 became 0, so every photo got the same 10 % for class 0, shown as a valid model. float16/bfloat16 load."""
    from safetensors.torch import save_file

    sd = {k: v.contiguous() for k, v in resnet_files["ft"].state_dict().items()}
    path = tmp_path / "cast.safetensors"
    save_file({k: v.to(dtype) if v.is_floating_point() else v for k, v in sd.items()}, str(path))
    with pytest.raises(ModelError, match=rf"cast.safetensors are {str(dtype)[6:]} where resnet18 needs floating-point"):
        mf.load_model_file(path, arch="resnet18")
    half = tmp_path / "half.safetensors"
    save_file({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, str(half))
    assert mf.load_model_file(half, arch="resnet18").num_classes == 10


def test_safetensors_never_goes_through_pickle(resnet_files, tmp_path, monkeypatch):
    from safetensors.torch import save_file

    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in resnet_files["ft"].state_dict().items()}, str(path))

    def no_pickle(*a, **k):
        raise AssertionError("torch.load was called for a safetensors file")

    monkeypatch.setattr(torch, "load", no_pickle)
    assert mf.load_model_file(path, arch="resnet18").num_classes == 10
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelError, match=r"cannot read broken\.safetensors as safetensors"):
        mf.load_model_file(broken, arch="resnet18")


def test_missing_safetensors_package_says_how_to_install(resnet_files, tmp_path, monkeypatch):
    from safetensors.torch import save_file

    path = tmp_path / "w.safetensors"
    save_file({"fc.bias": torch.zeros(3)}, str(path))
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    with pytest.raises(ModelError, match=r"reading \.safetensors files needs the safetensors package, which is not installed: pip install safetensors \(GradFlip's extra 'safetensors'\)"):
        mf.load_model_file(path, arch="resnet18")


def test_densenet_weights_with_torchvision_legacy_key_names_load(tmp_path, image):
    """torchvision's own DenseNet files (densenet121-a639ec97.pth, …) name the layers ``norm.1``/``conv.2``;
    torchvision renames them when it loads them, GradFlip refused them ("580 missing keys (…norm1.weight …)")."""
    import re

    tv = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    net = tv.models.densenet121(num_classes=7).eval()
    legacy = {re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k): v for k, v in net.state_dict().items()}
    assert "features.denseblock1.denselayer1.norm.1.weight" in legacy
    path = tmp_path / "densenet121-legacy.pth"
    torch.save(legacy, path)
    clf = mf.load_model_file(path, arch="densenet121")
    assert clf.num_classes == 7
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    pre = clf.preprocessing
    with torch.no_grad():
        ref = net((x - torch.tensor(pre.mean).view(1, 3, 1, 1)) / torch.tensor(pre.std).view(1, 3, 1, 1))
    torch.testing.assert_close(clf.module(x), ref, atol=1e-5, rtol=1e-5)
    assert any("DenseNet" in w for w in clf.warnings), clf.warnings


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_a_state_dict_whose_architecture_reads_its_version_loads(tmp_path, suffix):
    """MNASNet reads the state dict's version metadata when it loads; GradFlip dropped that metadata (and a
    safetensors file has none), so torchvision raised "version should be set to 1 or 2 instead of None",
    which escaped as a traceback. The file's own versions are kept, else the architecture's current ones."""
    torch.manual_seed(0)
    net = tv.models.mnasnet0_5(num_classes=6).eval()
    path = tmp_path / f"mnas{suffix}"
    if suffix == ".pth":
        torch.save(net.state_dict(), path)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    clf = mf.load_model_file(path, arch="mnasnet0_5")
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    pre = clf.preprocessing
    with torch.no_grad():
        ref = net((x - torch.tensor(pre.mean).view(1, 3, 1, 1)) / torch.tensor(pre.std).view(1, 3, 1, 1))
    torch.testing.assert_close(clf.module(x), ref, atol=1e-5, rtol=1e-5)


def test_a_fine_tuned_inception_v3_runs_at_its_own_299_px(tmp_path):
    """A fine-tuned torchvision inception_v3 (10 classes) was assumed to take 224 × 224 like most; its own weights
    (and so nearly every fine-tune of them) take 299. The size comes from torchvision's metadata (no download)."""
    from gradflip_desktop.core.models.files.torchvision import tv_models

    torch.manual_seed(0)
    net = tv_models().get_model("inception_v3", weights=None, num_classes=10, aux_logits=False, init_weights=False)
    path = tmp_path / "inception_ft.pth"
    torch.save(net.state_dict(), path)
    clf = mf.load_model_file(path, arch="inception_v3")
    assert clf.num_classes == 10 and clf.preprocessing.input_size == (299, 299)
    assert any("assuming 299×299 input" in w for w in clf.warnings)
    small = tmp_path / "r18_ft.pth"  # the usual 224 stays the default
    torch.save(tv_models().get_model("resnet18", weights=None, num_classes=3).state_dict(), small)
    assert mf.load_model_file(small, arch="resnet18").preprocessing.input_size == (224, 224)


def test_a_torchvision_feature_extractor_without_its_head_is_named_so(tmp_path):
    # model.fc = nn.Identity(), the usual way to keep a backbone's features: "2 missing keys (fc.weight, fc.bias).
    # Is the architecture right?", though resnet18 was right
    import torchvision

    net = torchvision.models.resnet18()
    net.fc = torch.nn.Identity()
    path = tmp_path / "features.pth"
    torch.save(net.state_dict(), path)
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, arch="resnet18")
    msg = str(err.value)
    assert "resnet18 without its classifier head (fc.weight, fc.bias missing)" in msg, msg
    assert "Is the architecture right" not in msg
    # and without --arch: the file fits resnet18 but for its head, and is named so (it read "the weights fit none of
    # them: a model of your own class loads as TorchScript …")
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path)
    assert "features.pth is a resnet18 without its classifier head (fc.weight, fc.bias missing)" in str(err.value)


def test_a_missing_layer_that_is_not_the_head_is_still_a_misfit(tmp_path):
    import torchvision

    sd = torchvision.models.resnet18(num_classes=3).state_dict()
    del sd["layer4.1.conv2.weight"]
    path = tmp_path / "pruned.pth"
    torch.save(sd, path)
    with pytest.raises(ModelSettingError, match="missing keys \\(layer4.1.conv2.weight\\)") as err:
        mf.load_model_file(path, arch="resnet18")
    assert "classifier head" not in str(err.value)


@pytest.mark.parametrize("dtype, suffix", [(torch.float16, ".pth"), (torch.bfloat16, ".safetensors"),
                                           (torch.float64, ".pth")])
def test_a_state_dict_of_half_or_double_weights_is_said_to_compute_in_float32(tmp_path, dtype, suffix):
    """TorchScript files said "stores float16 weights: computing in float32"; a state dict of the same weights said
    nothing (the network they load into is float32, and the dtype check ran on it): the README promises the note."""
    import numpy as np
    from model_helpers import seeded_resnet18

    net = seeded_resnet18(10, seed=3)
    sd = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    path = tmp_path / f"resnet18_half{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(sd, str(path))
    else:
        torch.save(sd, path)
    clf = mf.load_model_file(path, arch="resnet18")
    name = str(dtype).replace("torch.", "")
    assert f"{path.name} stores {name} weights: computing in float32" in clf.warnings
    photo = np.random.default_rng(0).uniform(0, 1, (64, 64, 3)).astype(np.float32)
    assert np.isfinite(clf.probabilities(photo)).all()
    float_path = tmp_path / "resnet18_float.pth"
    torch.save(net.state_dict(), float_path)
    assert not any("computing in float32" in w for w in mf.load_model_file(float_path, arch="resnet18").warnings)


def test_torchvision_weights_that_resize_bicubic_are_read_so(tmp_path):
    """EfficientNet-B0's weights resize bicubic to 256 and crop 224: the dialog (and the load) take the kernel from
    their transforms (mutation audit: always "bilinear" survived every test, whose weights were ResNet18's)."""
    path = tmp_path / "efficientnet_b0_rwightman-7f5810bc.pth"
    torch.save({}, path)  # only the name is read here
    info = mf.inspect_model_file(path)
    assert info.arch == "efficientnet_b0" and info.weights == "EfficientNet_B0_Weights.IMAGENET1K_V1"
    pre = info.preprocessing
    assert (pre.input_size, pre.resize, pre.resize_size, pre.interpolation) == ((224, 224), "center-crop", 256, "bicubic")


def test_a_googlenet_fine_tune_saved_with_its_auxiliary_heads_loads(tmp_path, image):
    """A GoogLeNet trained with aux_logits=True keeps aux1.*/aux2.* in its state dict: the network is built with them
    (and run without, in evaluation mode). Mutation audit: building without them, so the file was refused for 16
    unexpected keys, survived."""
    from gradflip_desktop.core.models.files.torchvision import tv_models

    torch.manual_seed(0)
    net = tv_models().get_model("googlenet", weights=None, num_classes=10, aux_logits=True, init_weights=False).eval()
    path = tmp_path / "googlenet_ft.pth"
    torch.save(net.state_dict(), path)
    clf = mf.load_model_file(path, arch="googlenet")
    assert clf.num_classes == 10
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    mean, std = torch.tensor(clf.preprocessing.mean).view(1, 3, 1, 1), torch.tensor(clf.preprocessing.std).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(clf.module(x), net((x - mean) / std), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(("tokens", "size"), [(577, 384), (197, 224), (65, 128)])
def test_a_torchvision_vit_fine_tunes_input_size_comes_from_its_position_embeddings(tokens, size):
    """vit_b_16's position embeddings hold one class token and (size / 16)² patches: 577 → 384 px, 65 → 128 px
    (mutation audit: counting the class token as a patch, so no size was read and the ViT was built at 224, survived)."""
    from gradflip_desktop.core.models.files.torchvision import _arch_kwargs

    sd = {"encoder.pos_embedding": torch.empty(1, tokens, 1)}  # only its shape is read
    assert _arch_kwargs("vit_b_16", sd, None) == {"image_size": size}


def test_a_head_whose_weight_and_bias_disagree_is_measured_against_the_architectures_own_head(resnet_files, tmp_path):
    """fc.weight for 10 classes and fc.bias for 12: no class count is read from it, so both are named against
    resnet18's own 1000 (mutation audit: taking one of the two counts, which hid the other tensor's misfit, survived)."""
    sd = dict(resnet_files["ft"].state_dict())
    sd["fc.bias"] = torch.zeros(12)
    path = tmp_path / "odd_head.pth"
    torch.save(sd, path)
    with pytest.raises(ModelSettingError) as err:
        mf.load_model_file(path, arch="resnet18")
    assert ("2 shape mismatches (fc.weight: file [10, 512] vs resnet18 [1000, 512]; fc.bias: file [12] vs resnet18 "
            "[1000])") in str(err.value)


def test_an_architecture_given_for_a_file_with_torchvisions_name_is_not_overruled_by_the_name(resnet_files):
    """resnet18-f37072fd.pth loaded with arch="resnet34": the user's architecture is tried (and refused, naming the
    one the weights fit), not silently swapped for the file name's (mutation audit: the swap survived)."""
    with pytest.raises(ModelSettingError) as err:
        mf.load_model_file(resnet_files["imagenet"], arch="resnet34")
    assert str(err.value).startswith("the weights in resnet18-f37072fd.pth do not fit the torchvision architecture "
                                     "resnet34: ")
    assert err.value.setting == "architecture" and err.value.suggestions == ["resnet18"]


def test_weights_that_fit_two_architectures_are_not_given_the_first(resnet_files, tmp_path, monkeypatch):
    """Two architectures the weights fit: the user is asked, naming both (mutation audit: loading the first one
    survived; no two torchvision 0.29 architectures share their tensors, so the guess is stood in for here)."""
    from gradflip_desktop.core.models.files import torchvision as tvf

    monkeypatch.setattr(tvf, "guess_architectures", lambda sd: ["resnet18", "resnet34"])
    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    with pytest.raises(ModelSettingError) as err:
        mf.load_model_file(path)
    assert str(err.value) == ("cannot tell which architecture ft.pth is for (a torchvision classification model such as "
                              "resnet18, efficientnet_b0, vit_b_16, or a timm architecture named timm:NAME); the weights "
                              "fit: resnet18, resnet34")
    assert err.value.setting == "architecture"


def test_a_file_named_after_its_architecture_and_a_tag_is_built_as_that_architecture(tmp_path):
    """"regnet_x_400mf-ft.pth": the name before the first "-" is the architecture, as in torchvision's own file names.
    RegNets cannot be guessed from their weights (they are not built on the meta device), so the name is all there is
    (mutation audit: reading the whole stem only survived; this file was then "cannot tell which architecture")."""
    from gradflip_desktop.core.models.files.torchvision import tv_models

    torch.manual_seed(0)
    net = tv_models().get_model("regnet_x_400mf", weights=None, num_classes=3).eval()
    path = tmp_path / "regnet_x_400mf-ft.pth"
    torch.save(net.state_dict(), path)
    clf = mf.load_model_file(path)
    assert clf.name == "regnet_x_400mf (3 classes, regnet_x_400mf-ft.pth)"


def test_a_googlenet_fine_tune_is_recognised_and_built_as_torchvision_builds_its_weights(tmp_path):
    # torchvision's googlenet(weights=…) drops its auxiliary heads and sets transform_input=True, which every fine-tune
    # inherits and no state dict stores: a renamed fine-tune was "the weights fit none of them", and with --arch it was
    # built without transform_input (its input seen at about twice the contrast)
    import torchvision

    net = torchvision.models.googlenet(weights=None, aux_logits=False, transform_input=True, init_weights=True,
                                       num_classes=5).eval()
    path = tmp_path / "my_googlenet.pth"
    torch.save(net.state_dict(), path)
    clf = mf.load_model_file(path, preprocessing={"input_size": [64, 64], "resize": "squash"})
    assert any("architecture googlenet recognised from the weights" in w for w in clf.warnings), clf.warnings
    assert any("transform_input=True" in w for w in clf.warnings)
    assert [m.transform_input for m in clf.module.modules() if hasattr(m, "transform_input")] == [True]
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        want = net((x - mean) / std)
    got = clf.logits(np.ascontiguousarray(x[0].permute(1, 2, 0).numpy()))
    np.testing.assert_allclose(np.asarray(got).reshape(1, -1), want.numpy(), rtol=1e-4, atol=1e-5)


def test_a_regnet_is_named_as_one_that_needs_its_architecture(tmp_path):
    import torchvision

    path = tmp_path / "mine.pth"
    torch.save(torchvision.models.regnet_y_400mf(weights=None).state_dict(), path)
    with pytest.raises(ModelSettingError, match=r"look like a torchvision RegNet, which is not recognised from its "
                                                r"weights: name it, e\.g\. --arch regnet_y_400mf"):
        mf.load_model_file(path)
    assert mf.load_model_file(path, arch="regnet_y_400mf").labels[0]  # named, it loads
