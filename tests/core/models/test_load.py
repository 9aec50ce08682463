"""load_model_file / load_model_spec / inspect_model_file / detect_format: the public path for model files.

Every format is exercised with a small real model built in a tmp folder; the format-specific behaviour
is tested next to its module (test_torchvision_files, test_scripted, test_onnx_files, test_safety, test_sidecar).
"""

from __future__ import annotations

import json
import zipfile

import pytest
import torch
from model_helpers import RESNET18_FILE, SmallCNN, script

from gradflip_desktop.core.errors import ModelError, ModelSettingError
from gradflip_desktop.core.models import Preprocessing
from gradflip_desktop.core.models import files as mf


def test_wrong_label_count_is_refused(resnet_files, tmp_path):
    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\nd\ne\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"^5 labels were given but ft\.pth has 10 classes$"):
        mf.load_model_file(path, arch="resnet18", labels=labels)


def test_detect_format_from_name_and_first_bytes(tmp_path):
    sd = tmp_path / "w.pth"
    torch.save({"a": torch.zeros(2)}, sd)
    legacy = tmp_path / "legacy.pt"
    torch.save({"a": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    ts = tmp_path / "m.pt"
    script(SmallCNN(), ts)
    assert mf.detect_format(sd) == "state_dict"
    assert mf.detect_format(legacy) == "state_dict"
    assert mf.detect_format(ts) == "torchscript"
    assert mf.detect_format(tmp_path / "anything.onnx") == "onnx"  # by name, not read
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(ModelError, match=r"^empty\.pth is empty \(0 bytes\)$"):
        mf.detect_format(empty)
    other_zip = tmp_path / "notes.pth"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ModelError, match=r"^notes\.pth is a zip archive but not a PyTorch file$"):
        mf.detect_format(other_zip)
    text = tmp_path / "model.bin"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(ModelError, match=r"cannot tell the format of model\.bin"):
        mf.detect_format(text)


def test_empty_truncated_and_exported_files_get_their_own_message(tmp_path):
    """Empty files of any name are "empty" (an empty .onnx said "the ONNX model has 0 inputs"); a cut-off torch
    file says truncated; a torch.export archive (.pt2) is named as such, not "a zip archive but not a PyTorch file"."""
    for name in ("empty.onnx", "empty.safetensors"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(ModelError, match=rf"^{name.replace('.', '[.]')} is empty \(0 bytes\)$"):
            mf.load_model_file(tmp_path / name)
    whole = tmp_path / "w.pth"
    torch.save({"a": torch.zeros(1000)}, whole)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ModelError, match=r"^cut\.pth is truncated or damaged \(an incomplete zip archive"):
        mf.load_model_file(cut)

    class Net(torch.nn.Module):
        def forward(self, x):
            return x.mean((2, 3))

    pt2 = tmp_path / "exported.pt2"
    torch.export.save(torch.export.export(Net(), (torch.zeros(1, 3, 4, 4),)), str(pt2))
    with pytest.raises(ModelError, match=r"^exported\.pt2 is a torch\.export archive \(\.pt2\), which GradFlip does not load"):
        mf.load_model_file(pt2)


def test_model_path_that_is_a_folder_or_missing_is_named(tmp_path):
    with pytest.raises(ModelError, match=r"is a folder without config\.json: neither a model file nor a Hugging Face model folder$"):
        mf.load_model_file(tmp_path)
    with pytest.raises(ModelError, match=r"model file .*nope\.pth not found"):
        mf.load_model_file(tmp_path / "nope.pth")


def test_inspect_model_file_prefills_without_building(resnet_files, tmp_path):
    info = mf.inspect_model_file(resnet_files["imagenet"])
    assert (info.format, info.arch, info.weights, info.needs_arch) == (
        "state_dict", "resnet18", "ResNet18_Weights.IMAGENET1K_V1", False)
    assert info.preprocessing.resize == "center-crop" and info.preprocessing.resize_size == 256
    assert len(info.labels) == 1000 and info.labels[0] == "tench"
    own = tmp_path / "own.pth"
    torch.save(resnet_files["ft"].state_dict(), own)
    info = mf.inspect_model_file(own)
    assert info.format == "state_dict" and info.arch is None and info.needs_arch and not info.runs_code
    ts = tmp_path / "digits.pt"
    script(SmallCNN(), ts)
    mf.write_sidecar(mf.ModelSpec(str(ts), preprocessing=Preprocessing(input_size=(28, 28), channels=1, mean=(0.5,), std=(0.5,))))
    info = mf.inspect_model_file(ts)
    assert info.format == "torchscript" and info.runs_code and not info.needs_arch
    assert info.preprocessing.input_size == (28, 28) and info.sidecar is not None


def test_load_model_spec_uses_the_spec_not_the_sidecar(tmp_path):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=3, size=28), path)
    (tmp_path / "digits.gradflip.json").write_text(json.dumps({"labels": ["x", "y", "z"], "name": "side"}), encoding="utf-8")
    pre = Preprocessing(input_size=(28, 28), channels=1, mean=(0.5,), std=(0.5,))
    clf = mf.load_model_spec(mf.ModelSpec(str(path), labels=["a", "b", "c"], preprocessing=pre, name="Spec"))
    assert clf.name == "Spec" and clf.labels == ["a", "b", "c"] and clf.preprocessing == pre
    assert not any("settings read from" in w for w in clf.warnings)
    assert mf.load_model_file(path, preprocessing=pre).labels == ["x", "y", "z"]  # the sidecar, when loading the file


def test_hub_cache_name_of_torchvision_weights(resnet_files, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(resnet_files["torch_home"]))
    monkeypatch.chdir(tmp_path)
    by_weights = mf.load_model_file("ResNet18_Weights.IMAGENET1K_V1")
    assert by_weights.source == str(resnet_files["imagenet"]) and RESNET18_FILE in by_weights.name


def test_a_web_address_as_the_model_says_gradflip_never_downloads():
    """Before: "model file https:/x.org/m.pt not found (and it is not a known model name ...)"."""
    from gradflip_desktop.core.errors import ModelError
    from gradflip_desktop.core.models.files.load import load_model_file

    with pytest.raises(ModelError) as info:
        load_model_file("https://x.org/models/m.pt")
    assert str(info.value) == ("https://x.org/models/m.pt is a web address: GradFlip works offline and never "
                               "downloads models; save the file and give its path")


def test_the_record_names_the_weights_file_whatever_the_models_name(resnet_files, tmp_path):
    # a sidecar's name ("my classifier") hid which weights a record was made with
    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    clf = mf.load_model_file(path, arch="resnet18", name="my classifier")
    settings = clf.settings()
    assert clf.name == "my classifier"
    assert settings["file"] == "ft.pth" and settings["file_bytes"] == path.stat().st_size
    path.unlink()  # gone since: the record still names the weights that were loaded
    assert clf.settings() == settings and len(settings["file_sha256"]) == 16


def test_weights_trained_again_into_the_same_file_are_another_model(resnet_files, tmp_path):
    """A state dict of the same architecture saved over the file keeps its name and size: --resume kept the sets
    made with the old weights (their classes no longer the model's) and check measured them with the new ones."""
    import copy

    from gradflip_desktop.core.dataset.job import made_otherwise

    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    before = mf.load_model_file(path, arch="resnet18").settings()
    retrained = copy.deepcopy(resnet_files["ft"])
    with torch.no_grad():
        for p in retrained.parameters():
            p.mul_(1.01)  # (adding 1 to every weight made every output infinite: refused at load)
    torch.save(retrained.state_dict(), path)
    after = mf.load_model_file(path, arch="resnet18").settings()
    assert before["file_bytes"] == after["file_bytes"] and before["file_sha256"] != after["file_sha256"]
    rec = {"model": {"name": "resnet18", **before}}
    assert made_otherwise(rec, None, {"name": "resnet18", **after}, None).startswith("model file sha256 ")
    assert made_otherwise(rec, None, {"name": "resnet18", **before}, None) == ""


def test_weights_saved_over_the_file_after_loading_are_not_the_loaded_ones(resnet_files, tmp_path):
    """A folder run while a training script saves over the .pth (a helper's hostile walk): the records written after
    the save carried the new file's digest for answers of the weights in memory, and --resume with the new file kept
    them. The file is read when the model is loaded: every record names the loaded weights."""
    import copy

    from gradflip_desktop.core.dataset.job import made_otherwise

    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    clf = mf.load_model_file(path, arch="resnet18")
    loaded = clf.settings()
    retrained = copy.deepcopy(resnet_files["ft"])
    with torch.no_grad():
        for p in retrained.parameters():
            p.mul_(1.01)  # (adding 1 to every weight made every output infinite: refused at load)
    torch.save(retrained.state_dict(), path)
    assert clf.settings() == loaded  # the record of an image explained after the save, with the old weights
    now = mf.load_model_file(path, arch="resnet18").settings()
    assert now["file_bytes"] == loaded["file_bytes"] and now["file_sha256"] != loaded["file_sha256"]
    assert made_otherwise({"model": {"name": "resnet18", **loaded}}, None, {"name": "resnet18", **now}, None)



def test_a_whole_preprocessing_over_a_sidecar_says_which_of_its_settings_it_replaced(resnet_files, tmp_path):
    """load_classifier(path, preprocessing=Preprocessing(input_size=(64, 64))) dropped the sidecar's mean and std for
    ImageNet's (the dataclass's defaults) while the notes said "settings read from ft.gradflip.json"."""
    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    (tmp_path / "ft.gradflip.json").write_text(json.dumps(
        {"kind": "gradflip-model", "version": 1, "arch": "resnet18", "preprocessing": {"mean": [0.5] * 3, "std": [0.25] * 3}}))
    dict_given = mf.load_model_file(path, preprocessing={"input_size": [64, 64]})
    assert dict_given.preprocessing.mean == (0.5,) * 3 and not any("Preprocessing(...)" in w for w in dict_given.warnings)
    whole = mf.load_model_file(path, preprocessing=Preprocessing(input_size=(64, 64)))
    assert whole.preprocessing.mean == (0.485, 0.456, 0.406)  # what it asks for, as before
    assert any(w.startswith("preprocessing=Preprocessing(...) gives every setting: its defaults replaced ft.pth's own "
                            "(mean [0.5, 0.5, 0.5] → [0.485, 0.456, 0.406]; std [0.25, 0.25, 0.25]") for w in whole.warnings)
    dialog = mf.load_model_spec(mf.ModelSpec(path=path, arch="resnet18", preprocessing=Preprocessing(input_size=(64, 64))))
    assert not any("Preprocessing(...)" in w for w in dialog.warnings)  # the app's dialog gives every setting on purpose


def test_an_architecture_name_picks_its_default_weights_among_the_cached_ones(tmp_path, monkeypatch):
    """ResNet50's V1 and V2 weights both in the hub cache: "resnet50" is torchvision's DEFAULT (V2), not the file
    that sorts first (V1). Mutation audit: taking the first cached file survived every test."""
    cache = tmp_path / "torch_home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    for name in ("resnet50-0676ba61.pth", "resnet50-11ad3fa6.pth"):  # IMAGENET1K_V1, IMAGENET1K_V2 (DEFAULT)
        torch.save({}, cache / name)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.chdir(tmp_path)
    info = mf.inspect_model_file("resnet50")
    assert info.path == cache / "resnet50-11ad3fa6.pth"
    assert info.weights == "ResNet50_Weights.IMAGENET1K_V2"


def test_a_channel_count_given_is_not_replaced_by_grayscale(tmp_path):
    """A 1-channel model loaded with channels=3 given is refused with the RGB error; it is switched to grayscale
    only when no channel count was given (mutation audit: the given count was overruled without a test failing)."""
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=3, size=28), path)
    with pytest.raises(ModelSettingError, match=r"^digits\.pt failed on a 1×3×28×28 input \(.*\); check the input "
                                                r"size and channel count$"):
        mf.load_model_file(path, preprocessing={"input_size": [28, 28], "channels": 3})
    assert mf.load_model_file(path, preprocessing={"input_size": [28, 28]}).preprocessing.channels == 1


def test_labels_stored_with_a_checkpoint_for_another_class_count_are_set_aside_with_a_note(resnet_files, tmp_path):
    """A checkpoint whose own "classes" entry has 3 names for a 10-class head loads with generic labels and says
    why; the labels it stores are not forced on it (mutation audit: using them whatever their count survived)."""
    path = tmp_path / "ft.pth"
    torch.save({"state_dict": resnet_files["ft"].state_dict(), "classes": ["a", "b", "c"]}, path)
    clf = mf.load_model_file(path, arch="resnet18")
    assert clf.labels == [f"class {i}" for i in range(10)]
    assert "the labels stored with ft.pth are 3, not 10: not used" in clf.warnings


def test_a_fine_tune_saved_under_torchvisions_file_name_keeps_generic_labels(resnet_files, tmp_path):
    """A 10-class head saved as resnet18-f37072fd.pth: the ImageNet weights' 1000 category names do not fit it, so
    its classes are "class 0" … (mutation audit: taking the weights' categories whatever their count survived)."""
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    clf = mf.load_model_file(path)
    assert clf.labels == [f"class {i}" for i in range(10)] and clf.groups == {}


def test_a_sidecar_with_preprocessing_is_not_called_an_assumption(tmp_path):
    """The sidecar's settings are the model's own: no "no preprocessing settings … assuming" note beside them, while
    the same file without them gets it (mutation audit: ignoring the sidecar's settings here survived)."""
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=3, size=28), path)
    (tmp_path / "digits.gradflip.json").write_text(json.dumps({"preprocessing": {"input_size": [28, 28], "channels": 1}}),
                                                   encoding="utf-8")
    clf = mf.load_model_file(path)
    assert clf.preprocessing.input_size == (28, 28)
    assert not any(w.startswith("no preprocessing settings") for w in clf.warnings)
    bare = mf.load_model_file(path, use_sidecar=False)
    assert any(w.startswith("no preprocessing settings for digits.pt: assuming 28×28 input, grayscale") for w in bare.warnings)


def test_an_assumed_imagenet_fine_tune_is_named_by_its_class_count_not_as_torchvisions_weights(resnet_files, tmp_path):
    """1000 classes read as ImageNet's borrow the weights' labels and preprocessing, not their name: the file is not
    torchvision's ResNet18_Weights.IMAGENET1K_V1 (mutation audit: naming it so survived)."""
    path = tmp_path / "mine.pth"
    torch.save(resnet_files["net"].state_dict(), path)
    assert mf.load_model_file(path, arch="resnet18").name == "resnet18 (1000 classes, mine.pth)"
    assert mf.load_model_file(resnet_files["imagenet"]).name == "resnet18 (ResNet18_Weights.IMAGENET1K_V1, resnet18-f37072fd.pth)"


def test_a_model_spec_with_a_labels_file_reads_it(tmp_path):
    """ModelSpec(labels_path=...) (the Load model dialog's labels file) gives its labels to load_model_spec (mutation
    audit: passing only spec.labels, so the file was ignored, survived)."""
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=3, size=28), path)
    names = tmp_path / "names.txt"
    names.write_text("zero\none\ntwo\n", encoding="utf-8")
    pre = Preprocessing(input_size=(28, 28), channels=1, mean=(0.5,), std=(0.5,))
    clf = mf.load_model_spec(mf.ModelSpec(str(path), labels_path=str(names), preprocessing=pre))
    assert clf.labels == ["zero", "one", "two"]


def test_a_grayscale_timm_model_folder_keeps_its_one_channel_input(tmp_path):
    """A timm Hub folder of an in_chans=1 network whose config.json still gives the architecture's RGB pretrained_cfg
    (input_size [3, …], three means: written by hand, or copied from the architecture's defaults): the weights' one
    channel decides, with the averaged mean and std (mutation audit: letting the folder's RGB settings replace them
    survived; the load then failed on a 1×3×160×160 input)."""
    timm = pytest.importorskip("timm")
    from timm.models import _hub

    torch.manual_seed(0)
    folder = tmp_path / "xray-folder"
    folder.mkdir()
    _hub.save_for_hf(timm.create_model("test_efficientnet", pretrained=False, num_classes=3, in_chans=1).eval(),
                     str(folder), safe_serialization=True)
    config = json.loads((folder / "config.json").read_text())
    rgb = timm.create_model("test_efficientnet", pretrained=False).pretrained_cfg
    config["pretrained_cfg"].update(input_size=list(rgb["input_size"]), mean=list(rgb["mean"]), std=list(rgb["std"]))
    (folder / "config.json").write_text(json.dumps(config))
    clf = mf.load_model_file(folder)
    pre = clf.preprocessing
    assert clf.num_classes == 3 and pre.channels == 1 and pre.input_size == (160, 160)
    assert pre.mean == pytest.approx((0.449,)) and pre.std == pytest.approx((0.226,))


def test_pytorch_files_renamed_onnx_are_read_by_their_bytes(tmp_path):
    """A legacy torch.save pickle and a TorchScript zip saved as .onnx are what their bytes say, not ONNX (whose
    loader said "Wire format was corrupt"); mutation audit: dropping the legacy pickle's mark here survived."""
    legacy = tmp_path / "legacy.onnx"
    torch.save({"a": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    ts = tmp_path / "scripted.onnx"
    script(SmallCNN(), ts)
    assert mf.detect_format(legacy) == "state_dict"
    assert mf.detect_format(ts) == "torchscript"


def test_a_bare_weights_version_name_finds_the_cached_file(resnet_files, monkeypatch, tmp_path):
    """"IMAGENET1K_V1" (the enum member's name alone, any case) names the cached weights as the whole
    "ResNet18_Weights.IMAGENET1K_V1" does (mutation audit: matching the whole name only survived)."""
    monkeypatch.setenv("TORCH_HOME", str(resnet_files["torch_home"]))
    monkeypatch.chdir(tmp_path)
    assert mf.inspect_model_file("imagenet1k_v1").path == resnet_files["imagenet"]


def test_an_architecture_given_for_an_onnx_file_is_said_to_be_unused(tmp_path):
    """--arch names a state dict's network: for an ONNX file, which brings its own, a note says it is not used, as for
    TorchScript (mutation audit: the note for TorchScript alone survived)."""
    from model_helpers import export_onnx

    pytest.importorskip("onnx2torch")
    path = tmp_path / "digits.onnx"
    export_onnx(SmallCNN(channels=1, classes=3, size=28), path, 28, channels=1)
    clf = mf.load_model_file(path, arch="resnet18")
    assert ("the architecture resnet18 is not used: digits.onnx is not a state dict, it brings its own network"
            in clf.warnings)


def test_the_record_names_the_network_that_built_the_model(resnet_files, tmp_path):
    """weights_file["arch"]: the architecture a state dict was built as, else the format (mutation audit: recording
    "state_dict" for every state dict survived; the record could not tell resnet18 from timm:test_vit)."""
    path = tmp_path / "ft.pth"
    torch.save(resnet_files["ft"].state_dict(), path)
    assert mf.load_model_file(path, arch="resnet18").weights_file["arch"] == "resnet18"
    ts = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=3, size=28), ts)
    assert mf.load_model_file(ts, preprocessing={"input_size": [28, 28]}).weights_file["arch"] == "torchscript"


def test_settings_given_in_part_say_what_the_rest_assumed(tmp_path):
    """`--input-size 28 --channels 1` on a TorchScript MNIST model took ImageNet's mean/std averaged (0.449 / 0.226)
    without a word: the "assuming" note went as soon as any one setting was given (a helper's own-model sweep)."""
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=3, size=28), path)
    clf = mf.load_model_file(path, preprocessing={"input_size": 28, "channels": 1})
    notes = [w for w in clf.warnings if "preprocessing setting" in w]
    assert notes == ["not every preprocessing setting was given for digits.pt: assuming mean [0.449], std [0.226] "
                     "(give --mean, --std, or set them in the app's Load model dialog, which saves them)"], clf.warnings
    only_std = mf.load_model_file(path, preprocessing={"input_size": 28, "channels": 1, "std": 0.3})
    assert [w for w in only_std.warnings if "preprocessing setting" in w] == [
        "not every preprocessing setting was given for digits.pt: assuming mean [0.449] (give --mean, or set them in "
        "the app's Load model dialog, which saves them)"]
    whole = mf.load_model_file(path, preprocessing={"input_size": 28, "channels": 1, "mean": 0.5, "std": 0.5})
    assert not any("preprocessing setting" in w for w in whole.warnings)  # everything given: nothing assumed
    (tmp_path / "digits.gradflip.json").write_text(json.dumps({"preprocessing": {"input_size": [28, 28], "channels": 1}}),
                                                   encoding="utf-8")
    assert any(w.startswith("not every preprocessing setting was given for digits.pt: assuming mean [0.449]")
               for w in mf.load_model_file(path).warnings)  # a hand-written sidecar's few settings alike
