"""The sidecar MODEL.gradflip.json: round trip, precedence, and errors that name the problem."""

from __future__ import annotations

import json

import pytest
from model_helpers import SmallCNN, script

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import Preprocessing
from gradflip_desktop.core.models import files as mf
from gradflip_desktop.core.options import ExplainOptions, Status


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
    res = run(clf, image, ExplainOptions(max_steps=5, key_pixels=False, group="odd" if clf.classify(image, 1)[0].index % 2 else [0, 2, 4, 6, 8]))
    assert res.status in (Status.FLIPPED, Status.BUDGET)
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
    with pytest.raises(ModelError, match=r"cannot read the model settings digits\.gradflip\.json: .*; mend it, or "
                                         r"delete it to load the model without its saved settings$"):
        mf.load_model_file(path, trust_torchscript=True)
    for key, value in (("name", ["MNIST"]), ("arch", 18), ("labels_file", ["a.txt"])):  # were taken as they were
        side.write_text(json.dumps({"preprocessing": pre, key: value}), encoding="utf-8")
        with pytest.raises(ModelError, match=rf"^digits\.gradflip\.json: '{key}' in the model settings must be a string"):
            mf.load_model_file(path, trust_torchscript=True)
    # values the command line refuses: refused here too, naming the file (a NaN mean made every output NaN)
    for bad, words in (({"mean": [float("nan")]}, "mean and std must be finite numbers"),
                       ({"std": [0.0]}, "std values must be positive")):
        side.write_text(json.dumps({"preprocessing": {**pre, **bad}}), encoding="utf-8")
        with pytest.raises(ModelError, match=rf"^digits\.gradflip\.json: {words}"):
            mf.load_model_file(path, trust_torchscript=True)


def test_a_sidecar_that_no_longer_fits_its_model_file_is_named_with_what_to_do(tmp_path):
    """The app writes the format into every sidecar, and the sidecar's format won over the file's bytes: a model saved
    again as a state dict failed as "corrupted" TorchScript, a TorchScript file as a state dict "of pickled Python
    objects" (advice to save only the weights), and labels the sidecar lists as "10 labels were given" when none were;
    the sidecar went unnamed. Now each names it and says to mend or delete it."""
    import torch
    from model_helpers import seeded_resnet18

    path, side = tmp_path / "digits.pt", tmp_path / "digits.gradflip.json"
    pre = {"input_size": [28, 28], "channels": 1}
    script(SmallCNN(channels=1, classes=10, size=28), path)
    side.write_text(json.dumps({"format": "torchscript", "preprocessing": pre}), encoding="utf-8")
    assert mf.load_model_file(path, trust_torchscript=True).num_classes == 10  # fits: loads
    side.write_text(json.dumps({"format": "state_dict", "preprocessing": pre}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"^digits\.gradflip\.json says digits\.pt is a state dict, but it is a "
                                         r"TorchScript file: the model file was changed after its settings were saved\? "
                                         r"Mend or delete digits\.gradflip\.json$"):
        mf.load_model_file(path, trust_torchscript=True)
    assert mf.load_model_file(path, trust_torchscript=True, format="torchscript").num_classes == 10  # given: it wins
    torch.save(seeded_resnet18(num_classes=10).state_dict(), path)
    side.write_text(json.dumps({"format": "torchscript"}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"^digits\.gradflip\.json says digits\.pt is a TorchScript file, but it is "
                                         r"a state dict: "):
        mf.load_model_file(path, trust_torchscript=True)
    script(SmallCNN(channels=1, classes=5, size=28), path)  # trained again with 5 classes; the sidecar lists 10
    side.write_text(json.dumps({"labels": [f"n{i}" for i in range(10)], "preprocessing": pre}), encoding="utf-8")
    with pytest.raises(ModelError, match=r"^digits\.gradflip\.json lists 10 labels but digits\.pt has 5 classes \(the "
                                         r"model file was changed after its settings were saved\? Mend or delete "
                                         r"digits\.gradflip\.json\)$"):
        mf.load_model_file(path, trust_torchscript=True)
    with pytest.raises(ModelError, match=r"^3 labels were given but digits\.pt has 5 classes$"):  # given: not the sidecar
        mf.load_model_file(path, trust_torchscript=True, labels=["a", "b", "c"])


def test_a_sidecar_written_by_hand_with_a_bom_loads_and_one_in_latin_1_is_named(tmp_path):
    """The README shows a sidecar to write by hand; Notepad and PowerShell 5 save UTF-8 with a BOM, and the model
    was refused ("Unexpected UTF-8 BOM (decode using utf-8-sig)"; labels files took it). A Latin-1 sidecar said
    "'utf-8' codec can't decode byte 0xe9 in position 53: invalid continuation byte"; now as a labels file says it."""
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    side = tmp_path / "digits.gradflip.json"
    text = json.dumps({"kind": "gradflip-model", "version": 1, "name": "Ziffern",
                       "preprocessing": {"input_size": [28, 28], "channels": 1}})
    side.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    clf = mf.load_model_file(path, trust_torchscript=True)
    assert clf.name == "Ziffern" and clf.preprocessing.input_size == (28, 28)
    side.write_bytes(text.replace("Ziffern", "caf\u00e9").encode("latin-1"))
    with pytest.raises(ModelError, match=r"^the model settings digits\.gradflip\.json are not UTF-8 text \(byte 0xe9 at "
                                         r"position \d+\); save them with UTF-8 encoding$"):
        mf.load_model_file(path, trust_torchscript=True)


def test_a_sidecar_write_that_fails_leaves_the_old_one_and_no_temporary_file(tmp_path, monkeypatch):
    import errno
    import os

    model = tmp_path / "m.pt"
    script(SmallCNN(), model)
    spec = mf.ModelSpec(path=str(model), format="torchscript", name="first")
    first = mf.write_sidecar(spec)
    before = first.read_bytes()

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(ModelError, match=r"cannot write the model settings .*m\.gradflip\.json"):
        mf.write_sidecar(mf.ModelSpec(path=str(model), format="torchscript", name="second"))
    assert first.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gradflip.json", "m.pt"]


def test_a_sidecar_nested_too_deeply_is_a_model_error_not_an_internal_one(tmp_path):
    """MODEL.gradflip.json holding ``[[[…`` 100,000 deep: RecursionError escaped ``except JSONDecodeError``."""
    weights = tmp_path / "m.pth"
    weights.write_bytes(b"x")
    (tmp_path / "m.gradflip.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ModelError, match="nested too deeply"):
        mf.read_sidecar(weights)


def test_a_wrong_value_in_a_sidecar_is_named_with_the_sidecar_when_the_app_reads_it(tmp_path):
    """The Load model dialog reads the sidecar first (inspect_model_file): a wrong value there said only "std values
    must be positive", with nothing pointing at the file to fix; loading named it. Both name it now."""
    model = tmp_path / "m.pt"
    model.write_bytes(b"x")
    (tmp_path / "m.gradflip.json").write_text(json.dumps(
        {"kind": "gradflip-model", "version": 1, "preprocessing": {"mean": [0.5], "std": [-0.5]}}))
    for read in (mf.read_sidecar, mf.inspect_model_file):
        with pytest.raises(ModelError, match=r"^m\.gradflip\.json: std values must be positive$"):
            read(model)


@pytest.mark.parametrize("settings, words", [
    # true is 1 to Python: it was a 1×1 input (a model that sees one pixel), one channel, a 1-px resize, class 1
    ({"preprocessing": {"input_size": True}}, "invalid preprocessing setting input_size: True is not a whole number"),
    ({"preprocessing": {"input_size": [28, True]}}, "invalid preprocessing setting input_size: [28, True] is not"),
    ({"preprocessing": {"channels": True}}, "invalid preprocessing setting channels: True is not a whole number"),
    ({"preprocessing": {"input_size": [28.5, 28]}}, "invalid preprocessing setting input_size: [28.5, 28] is not"),  # 28
    ({"preprocessing": {"mean": [True]}}, "invalid preprocessing setting mean: [True] is not a number"),
    ({"preprocessing": {"antialias": 2}}, "invalid preprocessing setting antialias: 2 is not true or false"),
    ({"groups": {"one": [True]}}, "class group 'one': [True] is not a list of class indices"),
    ({"groups": {"half": [2.5]}}, "class group 'half': [2.5] is not a list of class indices"),  # was class 2
    # it was silently bilinear
    ({"preprocessing": {"interpolation": "nearest"}}, "interpolation 'nearest' is not supported (use 'bilinear' or 'bicubic')"),
    # a 10**17-byte resize, reported as "failed on a 1×3×28×28 input … the model's own code raised it"
    ({"preprocessing": {"resize": "center-crop", "resize_size": 10**8}}, "resize size 100000000 out of range (1 to 8192 px)"),
    ({"preprocessing": {"channels": 1, "mean": [0.5] * 3}}, "mean/std need 1 value for 1 channel, not 3 / 1"),  # "1 or 1 values"
])
def test_a_sidecar_value_of_the_wrong_kind_is_refused_naming_the_field(tmp_path, settings, words):
    path = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), path)
    pre = {"input_size": [28, 28], "channels": 1, "mean": [0.5], "std": [0.25]}
    settings = {**settings, "preprocessing": {**pre, **settings.get("preprocessing", {})}}
    (tmp_path / "digits.gradflip.json").write_text(json.dumps(settings), encoding="utf-8")
    with pytest.raises(ModelError) as info:
        mf.load_model_file(path, trust_torchscript=True)
    assert str(info.value).startswith("digits.gradflip.json: ") and words in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_a_sidecar_may_write_bicubic_in_capitals_and_whole_floats():
    pre = Preprocessing.from_dict({"interpolation": " Bicubic", "input_size": [28.0, 28], "antialias": 0})
    assert (pre.interpolation, pre.input_size, pre.antialias) == ("bicubic", (28, 28), False)


def test_model_files_of_one_stem_keep_their_own_settings(tmp_path):
    """digits.pt and digits.onnx side by side shared digits.gradflip.json: the ONNX file got the TorchScript file's
    format and labels (and failed to load), and saving its settings broke the other's."""
    pt, onnx = tmp_path / "digits.pt", tmp_path / "digits.onnx"
    script(SmallCNN(channels=1, classes=10, size=28), pt)
    onnx.write_bytes(b"\x08\x07")  # only its name matters here
    pre = Preprocessing(input_size=(28, 28), mean=(0.5,), std=(0.25,), channels=1)
    first = mf.ModelSpec(str(pt), format="torchscript", labels=[f"d{i}" for i in range(10)], preprocessing=pre)
    assert mf.write_sidecar(first) == tmp_path / "digits.gradflip.json"  # the documented name, for the first one
    assert json.loads((tmp_path / "digits.gradflip.json").read_text(encoding="utf-8"))["model_file"] == "digits.pt"
    assert mf.read_sidecar(onnx) is None  # not the other file's settings
    second = mf.ModelSpec(str(onnx), format="onnx", labels=[f"o{i}" for i in range(10)])
    assert mf.write_sidecar(second) == tmp_path / "digits.onnx.gradflip.json"
    assert mf.read_sidecar(pt) == first and mf.read_sidecar(onnx) == second
    clf = mf.load_model_file(pt, trust_torchscript=True)
    assert clf.labels[0] == "d0" and clf.preprocessing == pre
    # a sidecar that names no model file (written by hand, or by an earlier version) still serves its stem
    (tmp_path / "digits.onnx.gradflip.json").unlink()
    data = json.loads((tmp_path / "digits.gradflip.json").read_text(encoding="utf-8"))
    del data["model_file"]
    (tmp_path / "digits.gradflip.json").write_text(json.dumps(data), encoding="utf-8")
    assert mf.read_sidecar(onnx) is not None and mf.read_sidecar(onnx).labels == first.labels


def test_a_model_renamed_or_linked_with_its_sidecar_keeps_its_settings(tmp_path):
    """A sidecar names its model file: copied with the model under another name (digits-v2.pt and
    digits-v2.gradflip.json), or read through a link to the model, it is still that model's settings."""
    import shutil

    pt = tmp_path / "digits.pt"
    script(SmallCNN(channels=1, classes=10, size=28), pt)
    spec = mf.ModelSpec(str(pt), format="torchscript", labels=[f"d{i}" for i in range(10)])
    mf.write_sidecar(spec)
    copy = tmp_path / "v2"
    copy.mkdir()
    shutil.copy(pt, copy / "digits-v2.pt")
    shutil.copy(tmp_path / "digits.gradflip.json", copy / "digits-v2.gradflip.json")  # names digits.pt, not there
    assert mf.read_sidecar(copy / "digits-v2.pt").labels == spec.labels
    link = tmp_path / "current.pt"
    link.symlink_to(pt)
    mf.write_sidecar(mf.ModelSpec(str(link), format="torchscript", labels=[f"l{i}" for i in range(10)]))
    assert mf.read_sidecar(link).labels[0] == "l0"  # written for current.pt, read through the link (resolved: digits.pt)
    # timm's model_best.pth.tar beside model_best.pth: the .tar's sidecar is model_best.pth.gradflip.json by its stem,
    # the .pth's own name; the .pth neither reads nor overwrites it
    tar, pth = tmp_path / "model_best.pth.tar", tmp_path / "model_best.pth"
    shutil.copy(pt, tar)
    shutil.copy(pt, pth)
    assert mf.write_sidecar(mf.ModelSpec(str(tar), labels=["t"] * 10)) == tmp_path / "model_best.pth.gradflip.json"
    assert mf.read_sidecar(pth) is None
    assert mf.write_sidecar(mf.ModelSpec(str(pth), labels=["p"] * 10)) == tmp_path / "model_best.gradflip.json"
    assert mf.read_sidecar(tar).labels[0] == "t" and mf.read_sidecar(pth).labels[0] == "p"


def test_a_link_to_a_model_reads_the_settings_of_the_file_it_points_to(tmp_path):
    """current.pt → digits.pt with only digits.gradflip.json: the link has no settings of its own, so those of the
    file it points to are read; a link of the same stem (digits.pth → digits.pt) is that file's sidecar's too."""
    pt = tmp_path / "digits.pt"
    pt.write_bytes(b"weights")
    spec = mf.ModelSpec(str(pt), format="torchscript", labels=["zero", "one"])
    assert mf.write_sidecar(spec) == tmp_path / "digits.gradflip.json"
    link = tmp_path / "current.pt"
    link.symlink_to(pt)
    assert mf.read_sidecar(link).labels == ["zero", "one"]
    same_stem = tmp_path / "digits.pth"
    same_stem.symlink_to(pt)
    assert mf.sidecar_path(same_stem) == tmp_path / "digits.gradflip.json"


def test_the_model_files_own_full_name_sidecar_comes_before_its_stems(tmp_path):
    """net.pth with net.pth.gradflip.json (its own) and net.gradflip.json (written by hand, naming no model file):
    both are its settings, and the one of its full name is read and written."""
    pth = tmp_path / "net.pth"
    pth.write_bytes(b"weights")
    (tmp_path / "net.gradflip.json").write_text(json.dumps({"labels": ["stem"]}), encoding="utf-8")
    (tmp_path / "net.pth.gradflip.json").write_text(json.dumps({"labels": ["full"], "model_file": "net.pth"}), encoding="utf-8")
    assert mf.sidecar_path(pth) == tmp_path / "net.pth.gradflip.json"
    assert mf.read_sidecar(pth).labels == ["full"]
