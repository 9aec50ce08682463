"""Bring your own model: torchvision state dicts, hub cache, TorchScript, ONNX, labels, sidecar, safety.

Every format is exercised with a small real model built here, loaded through the public path
(``load_model_file`` / ``load_classifier`` / the CLI), classified, and explained for a few steps.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from gradflip_desktop.core import explain as ex
from gradflip_desktop.core import model_files as mf
from gradflip_desktop.core.models import IMAGENET_GROUPS, ModelError, Preprocessing, load_classifier

tv = pytest.importorskip("torchvision")  # part of the `test` extra

RESNET18_FILE = "resnet18-f37072fd.pth"  # torchvision's own file name for ResNet18_Weights.IMAGENET1K_V1
SHORT = ex.ExplainOptions(max_steps=5, key_pixels=False, extra_steps=5)


class SmallCNN(nn.Module):
    """conv 3x3 -> relu -> 2x2 max-pool -> linear; needs exactly ``size`` x ``size`` input."""

    def __init__(self, channels: int = 1, classes: int = 10, size: int = 28, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(channels, 4, 3, padding=1)
        self.fc = nn.Linear(4 * (size // 2) ** 2, classes)

    def forward(self, x):
        return self.fc(torch.flatten(torch.max_pool2d(torch.relu(self.conv(x)), 2), 1))


def seeded_resnet18(num_classes: int = 1000, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return tv.models.resnet18(num_classes=num_classes).eval()


def script(model: nn.Module, path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(model.eval()).save(str(path))


@pytest.fixture(scope="module")
def resnet_files(tmp_path_factory):
    """A seeded ResNet18 saved under torchvision's file name inside a fake torch hub cache, and a
    10-class fine-tuned ResNet18 state dict."""
    root = tmp_path_factory.mktemp("tv")
    cache = root / "torch_home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    net = seeded_resnet18()
    torch.save(net.state_dict(), cache / RESNET18_FILE)
    ft = seeded_resnet18(10, seed=1)
    return {"root": root, "torch_home": root / "torch_home", "imagenet": cache / RESNET18_FILE, "net": net, "ft": ft}


@pytest.fixture
def image():
    rng = np.random.default_rng(3)
    return rng.uniform(0.2, 0.8, size=(48, 64, 3)).astype(np.float32)


@pytest.fixture
def no_download(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("GradFlip tried to download")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)


def assert_short_run(clf, image):
    """A 5-step explanation runs, changes the image through real gradients, and ends as it should."""
    res = ex.run(clf, image, SHORT)
    assert res.status in (ex.FLIPPED, ex.BUDGET), res.message
    assert 1 <= res.gradient_evaluations <= SHORT.max_steps + SHORT.extra_steps
    assert res.l2 > 0 and np.isfinite(res.delta).all()
    assert res.original.index == clf.classify(image, k=1)[0].index
    assert res.model_name == clf.name
    return res


def pixel_gradient(clf, image) -> torch.Tensor:
    x = clf.image_tensor(image).requires_grad_(True)
    clf.module(x)[0].max().backward()
    return x.grad


# ---------------------------------------------------------------------------------------------------
# torchvision state dicts
# ---------------------------------------------------------------------------------------------------


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
    code = "import sys, gradflip_desktop.core.models, gradflip_desktop.core.model_files; print('torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_hub_cache_weights_are_listed_and_loaded_by_name_without_download(resnet_files, monkeypatch, tmp_path, no_download):
    monkeypatch.setenv("TORCH_HOME", str(resnet_files["torch_home"]))
    (resnet_files["torch_home"] / "hub" / "checkpoints" / "not-a-torchvision-file.pth").write_bytes(b"x")
    cached = mf.cached_torchvision_weights()
    assert [(c.arch, c.weights, c.num_classes, c.key) for c in cached] == [
        ("resnet18", "ResNet18_Weights.IMAGENET1K_V1", 1000, RESNET18_FILE)
    ]
    choices = mf.model_choices()
    assert [c.key for c in choices] == ["efficientnet-lite0", RESNET18_FILE]
    assert RESNET18_FILE in mf.format_model_list()
    monkeypatch.chdir(tmp_path)  # the bare name is not a file here: it is found in the cache
    clf = load_classifier(RESNET18_FILE)
    assert clf.source == str(resnet_files["imagenet"]) and clf.num_classes == 1000
    assert mf.load_model_file("resnet18").source == str(resnet_files["imagenet"])
    with pytest.raises(ModelError, match=r"no cached weights for resnet34 .*never downloads"):
        mf.load_model_file("resnet34")
    with pytest.raises(ModelError, match=r"model file nothing-here\.pth not found"):
        mf.load_model_file("nothing-here.pth")


def test_empty_cache_lists_only_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert mf.cached_torchvision_weights() == []
    assert [c.key for c in mf.model_choices()] == ["efficientnet-lite0"]
    assert "never downloads" in mf.format_model_list()


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


def test_wrong_architecture_names_missing_keys_and_suggests_the_right_one(resnet_files, tmp_path):
    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, arch="resnet34")
    msg = str(err.value)
    assert "do not fit the torchvision architecture resnet34" in msg
    assert "missing keys (layer1.2.conv1.weight" in msg
    assert "use --arch resnet18" in msg


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
    own = tmp_path / "own_cnn.pth"
    torch.save(SmallCNN().state_dict(), own)
    with pytest.raises(ModelError, match=r"cannot tell which architecture own_cnn\.pth is for: choose one with --arch"):
        mf.load_model_file(own)


def test_wrong_label_count_is_refused(resnet_files, tmp_path):
    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\nd\ne\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"^5 labels were given but ft\.pth has 10 classes$"):
        mf.load_model_file(path, arch="resnet18", labels=labels)


def test_checkpoint_without_a_state_dict_is_refused(tmp_path):
    path = tmp_path / "ckpt.pth"
    torch.save({"epoch": 3, "optimizer": {"lr": 0.1}}, path)
    with pytest.raises(ModelError, match=r"checkpoint with entries \(epoch, optimizer\) but none of them is a state dict"):
        mf.load_model_file(path, arch="resnet18")


# ---------------------------------------------------------------------------------------------------
# Safety
# ---------------------------------------------------------------------------------------------------


class _Payload:
    """Unpickling this creates the marker file: proof that the pickle ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_malicious_pickle_is_refused_and_its_payload_never_runs(tmp_path, writer):
    marker = tmp_path / "PAYLOAD_RAN"
    path = tmp_path / "weights.pth"
    if writer == "pickle":
        path.write_bytes(pickle.dumps(_Payload(marker), protocol=2))
    else:
        torch.save({"conv.weight": torch.zeros(1), "evil": _Payload(marker)}, path)
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, arch="resnet18")
    assert not marker.exists()
    msg = str(err.value)
    assert msg.startswith("refused to load weights.pth: it contains pickled Python objects that are not tensors (io.open)")
    assert "never unpickles arbitrary objects" in msg
    assert not marker.exists()


def test_whole_pickled_module_is_refused_with_how_to_save_a_state_dict(tmp_path):
    path = tmp_path / "whole.pth"
    torch.save(SmallCNN(), path)
    with pytest.raises(ModelError) as err:
        mf.load_model_file(path, arch="resnet18")
    msg = str(err.value)
    assert "whole.pth holds a whole pickled model (" in msg and "SmallCNN)" in msg
    assert "torch.save(model.state_dict(), 'whole.state_dict.pth')" in msg


# ---------------------------------------------------------------------------------------------------
# TorchScript
# ---------------------------------------------------------------------------------------------------


def test_torchscript_warns_that_it_runs_code_and_can_be_refused(tmp_path):
    path = tmp_path / "digits.pt"
    script(SmallCNN(), path)
    assert mf.detect_format(path) == "torchscript"
    clf = mf.load_model_file(path, preprocessing={"input_size": [28, 28]})
    assert any("runs code stored in the file" in w for w in clf.warnings)
    with pytest.raises(ModelError, match=r"digits\.pt is a TorchScript file\. Loading TorchScript runs code"):
        mf.load_model_file(path, trust_torchscript=False)


def test_torchscript_grayscale_model_with_labels_and_preprocessing(tmp_path, image):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    labels = tmp_path / "digits.txt"
    labels.write_text("".join(f"digit {i}\n" for i in range(10)), encoding="utf-8")
    pre = {"input_size": 28, "channels": 1, "mean": [0.1307], "std": [0.3081]}
    clf = mf.load_model_file(path, trust_torchscript=True, labels=labels, preprocessing=pre)
    assert clf.num_classes == 10 and clf.labels[3] == "digit 3"
    assert clf.preprocessing.channels == 1 and clf.preprocessing.input_size == (28, 28)
    assert clf.preprocessing.mean == (0.1307,) and clf.preprocessing.std == (0.3081,)
    assert "digits.pt is TorchScript: loading it runs code stored in the file; use only model files you trust" in clf.warnings
    g = pixel_gradient(clf, image)
    assert g.shape == (1, 3, 48, 64) and float(g.abs().sum()) > 0
    assert_short_run(clf, image)


def test_torchscript_channel_count_is_detected_when_only_the_size_is_given(tmp_path):
    path = tmp_path / "gray.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    clf = mf.load_model_file(path, trust_torchscript=True, preprocessing={"input_size": [28, 28]})
    assert clf.preprocessing.channels == 1
    assert "the model takes 1-channel input: using grayscale (luma) input" in clf.warnings


def test_model_that_cannot_take_the_input_size_says_so(tmp_path):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    with pytest.raises(ModelError, match=r"digits\.pt failed on a 1×3×224×224 input .*--input-size, --channels"):
        mf.load_model_file(path, trust_torchscript=True)


def test_single_logit_binary_classifier_is_two_classes(tmp_path, image):
    path = tmp_path / "binary.pt"
    script(SmallCNN(channels=3, classes=1, size=16, seed=2), path)
    pre = {"input_size": 16}
    clf = mf.load_model_file(path, trust_torchscript=True, preprocessing=pre, labels=["no cat", "cat"])
    assert clf.num_classes == 2 and clf.labels == ["no cat", "cat"]
    z = clf.logits(image)
    assert z.shape == (1, 2) and float(z[0, 0]) == 0.0
    p = clf.probabilities(image)
    assert p[1] == pytest.approx(float(torch.sigmoid(z[0, 1].double())), rel=1e-6)
    assert_short_run(clf, image)
    with pytest.raises(ModelError, match=r"3 labels were given but binary\.pt has 2 classes \(a single-logit binary classifier needs 2 labels"):
        mf.load_model_file(path, trust_torchscript=True, preprocessing=pre, labels=["a", "b", "c"])


# ---------------------------------------------------------------------------------------------------
# Sidecar and labels
# ---------------------------------------------------------------------------------------------------


def test_sidecar_round_trip_makes_the_next_load_need_no_arguments(tmp_path, image):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    labels = tmp_path / "names.json"
    labels.write_text(json.dumps({str(i): f"n{i}" for i in range(10)}), encoding="utf-8")
    pre = Preprocessing(input_size=(28, 28), mean=(0.5,), std=(0.25,), channels=1)
    spec = mf.ModelSpec(str(path), format="torchscript", labels_path=str(labels), preprocessing=pre,
                        groups={"odd": [1, 3, 5, 7, 9]}, name="My digits")
    written = mf.write_sidecar(spec)
    assert written == tmp_path / "digits.gradflip.json"
    data = json.loads(written.read_text(encoding="utf-8"))
    assert data["labels_file"] == "names.json" and data["groups"] == {"odd": [1, 3, 5, 7, 9]}
    assert mf.read_sidecar(path) == spec
    clf = mf.load_model_file(path, trust_torchscript=True)
    assert clf.name == "My digits" and clf.labels == [f"n{i}" for i in range(10)]
    assert clf.preprocessing == pre and clf.groups == {"odd": [1, 3, 5, 7, 9]}
    res = ex.run(clf, image, ex.ExplainOptions(max_steps=5, key_pixels=False, group="odd" if clf.classify(image, 1)[0].index % 2 else [0, 2, 4, 6, 8]))
    assert res.status in (ex.FLIPPED, ex.BUDGET)
    # explicit arguments win over the sidecar; load_model_spec ignores it
    assert mf.load_model_file(path, trust_torchscript=True, labels=[str(i) for i in range(10)]).labels[0] == "0"
    assert mf.load_model_spec(mf.ModelSpec(str(path), preprocessing=pre), trust_torchscript=True).labels[0] == "class 0"


def test_sidecar_errors_name_the_problem(tmp_path):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    side = tmp_path / "digits.gradflip.json"
    pre = {"input_size": [28, 28], "channels": 1}
    side.write_text(json.dumps({"preprocessing": pre, "groups": {"big": [8, 12]}}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"class group 'big' lists class 12, but digits\.pt has only 10 classes \(0–9\)"):
        mf.load_model_file(path, trust_torchscript=True)
    side.write_text(json.dumps({"preprocessing": {"input_sise": 28}}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"unknown preprocessing settings: input_sise"):
        mf.load_model_file(path, trust_torchscript=True)
    # a result record that happens to share the name is not model settings
    side.write_text(json.dumps({"format": "gradflip-result/1", "image": {}}), encoding="utf-8")
    assert mf.read_sidecar(path) is None
    side.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"cannot read the model settings digits\.gradflip\.json"):
        mf.load_model_file(path, trust_torchscript=True)


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("l.txt", "cat\ndog\n\n", ["cat", "dog"]),
        ("l.json", json.dumps(["cat", "dog"]), ["cat", "dog"]),
        ("l.json", json.dumps({"labels": ["cat", "dog"]}), ["cat", "dog"]),
        ("l.json", json.dumps({"1": "dog", "0": "cat"}), ["cat", "dog"]),
        ("l.json", json.dumps({"0": ["n02123045", "tabby"], "1": ["n02085620", "Chihuahua"]}), ["tabby", "Chihuahua"]),
    ],
)
def test_label_file_formats(tmp_path, name, content, expected):
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    assert mf.read_labels(p) == expected


def test_label_file_errors(tmp_path):
    gap = tmp_path / "gap.json"
    gap.write_text(json.dumps({"0": "a", "2": "c"}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"class indices must run 0…1 without gaps"):
        mf.read_labels(gap)
    hole = tmp_path / "hole.txt"
    hole.write_text("a\n\nb\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"empty line 2"):
        mf.read_labels(hole)
    with pytest.raises(ModelError, match=r"labels file .*missing\.txt not found"):
        mf.read_labels(tmp_path / "missing.txt")


# ---------------------------------------------------------------------------------------------------
# ONNX
# ---------------------------------------------------------------------------------------------------

HAVE_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnx2torch"))
needs_onnx = pytest.mark.skipif(not HAVE_ONNX, reason="the 'onnx' extra (onnx, onnx2torch) is not installed")


def export_onnx(model: nn.Module, path, size: int, channels: int = 3) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), torch.zeros(1, channels, size, size), str(path), dynamo=False,
                          input_names=["image"], output_names=["logits"])


@needs_onnx
def test_onnx_model_converts_with_gradients_and_explains(tmp_path, image):
    net = SmallCNN(channels=3, classes=5, size=32, seed=4).eval()
    path = tmp_path / "tiny.onnx"
    export_onnx(net, path, 32)
    labels = tmp_path / "tiny.json"
    labels.write_text(json.dumps(["ant", "bee", "cat", "dog", "eel"]), encoding="utf-8")
    clf = mf.load_model_file(path, labels=labels)
    assert clf.num_classes == 5 and clf.labels[2] == "cat"
    assert clf.preprocessing.input_size == (32, 32)  # from the ONNX input shape
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    mean = torch.tensor(clf.preprocessing.mean).view(1, 3, 1, 1)
    std = torch.tensor(clf.preprocessing.std).view(1, 3, 1, 1)
    torch.testing.assert_close(clf.module(x), net((x - mean) / std), atol=1e-5, rtol=1e-5)
    assert float(pixel_gradient(clf, image).abs().sum()) > 0
    assert_short_run(clf, image)


def test_onnx_missing_extra_says_how_to_install(tmp_path, monkeypatch):
    path = tmp_path / "tiny.onnx"
    path.write_bytes(b"\x08\x07")  # never read: the extra is checked first
    monkeypatch.setitem(sys.modules, "onnx2torch", None)  # import fails as if not installed
    with pytest.raises(ModelError, match=r"loading ONNX files needs the optional extra 'onnx' \(onnx2torch is not installed\): pip install 'gradflip-desktop\[onnx\]'"):
        mf.load_model_file(path)


@needs_onnx
def test_onnx_unsupported_operator_is_named(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"]),
            helper.make_node("Hardmax", ["flat"], ["logits"]),
        ],
        "hardmax",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])],
    )
    path = tmp_path / "hard.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ModelError, match=r"hard\.onnx uses the ONNX operator Hardmax \(opset 13\), which onnx2torch cannot convert"):
        mf.load_model_file(path)


# ---------------------------------------------------------------------------------------------------
# Devices and CLI options
# ---------------------------------------------------------------------------------------------------


def test_missing_device_is_named(tmp_path, monkeypatch):
    path = tmp_path / "digits.pt"
    script(SmallCNN(), path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelError, match=r"device 'cuda' was chosen but no CUDA GPU is available"):
        mf.load_model_file(path, device="cuda", trust_torchscript=True)
    if getattr(torch.backends, "mps", None) is not None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ModelError, match=r"device 'mps' was chosen but Apple Metal \(MPS\) is not available"):
        mf.load_model_file(path, device="mps", trust_torchscript=True)


def test_cli_model_options_become_load_arguments():
    import argparse

    parser = argparse.ArgumentParser()
    mf.add_model_arguments(parser)
    args = parser.parse_args(
        "--arch resnet18 --labels l.txt --input-size 28x32 --resize center-crop --mean 0.1307 --std 0.3081 "
        "--channels 1".split()
    )
    assert mf.model_options_from_args(args) == {
        "arch": "resnet18",
        "labels": "l.txt",
        "preprocessing": {"input_size": [28, 32], "resize": "center-crop", "mean": [0.1307], "std": [0.3081], "channels": 1},
    }
    assert mf.model_options_from_args(parser.parse_args([])) == {}
    with pytest.raises(SystemExit):
        parser.parse_args(["--input-size", "big"])


def test_cli_classify_and_explain_with_model_files(resnet_files, tmp_path, capsys, monkeypatch):
    cli = pytest.importorskip("gradflip_desktop.cli")
    from gradflip_desktop.core.images import save_png

    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    save_png(photo, rng.uniform(0.2, 0.8, size=(40, 56, 3)).astype(np.float32))
    digits = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), digits)
    code = cli.main(["classify", str(photo), "--model", str(digits), "--input-size", "28", "--channels", "1", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    top = json.loads(out.out)["top"]
    assert len(top) == 5 and top[0]["label"].startswith("class ")
    assert "gradflip: warning: digits.pt is TorchScript: loading it runs code stored in the file" in out.err
    code = cli.main(["explain", str(photo), "--model", str(digits), "--input-size", "28",
                     "--channels", "1", "--out", str(tmp_path / "out"), "--max-steps", "3", "--no-key-pixels",
                     "--quiet", "--json"])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    assert "digits.pt" in json.dumps(json.loads(out.out))
    # torchvision weights by their file name, found in the hub cache
    monkeypatch.setenv("TORCH_HOME", str(resnet_files["torch_home"]))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["classify", str(photo), "--model", RESNET18_FILE, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    labels = tv.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    assert all(p["label"] == labels[p["index"]] for p in json.loads(out.out)["top"])
    assert cli.main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "efficientnet-lite0" in listing and RESNET18_FILE in listing and "ResNet18_Weights.IMAGENET1K_V1" in listing
