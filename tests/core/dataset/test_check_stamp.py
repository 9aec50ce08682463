"""core/dataset/check_stamp.py (and check_set's ``reuse``): a set's NAME.faithfulness.json is kept only when a check
now would measure what it holds: the same record, map, photo, model, options and check protocol; its checks read
back exactly. Anything else (a changed file, other options, another model, a cut-short or edited JSON) is
measured again."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from gradflip_desktop import cli
from gradflip_desktop.core import faithfulness
from gradflip_desktop.core.dataset import check_stamp
from gradflip_desktop.core.dataset.check import CHECK_SUFFIX, check_set

from helpers import make_tiny


@pytest.fixture
def one_set(tmp_path, monkeypatch):
    """p0 explained by the tiny model (free style flips it): its record's path."""
    rng = np.random.default_rng(0)
    photo = tmp_path / "p0.png"
    Image.fromarray(np.kron(rng.uniform(40, 220, (6, 8, 3)), np.ones((4, 4, 1))).astype(np.uint8)).save(photo)
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    assert cli.main(["explain", str(photo), "--out", str(tmp_path / "out"), "--style", "free", "--quiet"]) == 0
    return tmp_path / "out" / "p0.gradflip.json"


@pytest.fixture
def measured(monkeypatch):
    """How many times check_maps measured curves (once per fill-in of a set measured again; 0 for a kept set)."""
    calls, real = [], faithfulness.check_maps
    monkeypatch.setattr(faithfulness, "check_maps", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def _with_weights(digest: str, file: str = "w.pth"):
    clf = make_tiny()  # the record names no weights file (the tiny model has none): only the check's stamp tells them apart
    clf.weights_file = {"file": file, "file_bytes": 10, "file_sha256": digest}
    return clf


def test_a_set_checked_before_is_kept_with_its_exact_numbers_and_nothing_measured(one_set, measured):
    first = check_set(make_tiny(), one_set, fill=["blur", "mean"], points=5, rise=3)
    json_path = one_set.with_name("p0" + CHECK_SUFFIX)
    before = json_path.read_bytes()
    assert first.check is not None and not first.kept and len(measured) == 2
    assert first.skipped is None  # checked: None, as the JSON's null ("" read as skipped to `is None` in a script)
    again = check_set(make_tiny(), one_set, fill=["blur", "mean"], points=5, rise=3, reuse=True)
    assert again.kept and len(measured) == 2  # read back: no curve measured, no peer map made
    assert again.checks == first.checks and again.check == first.check  # every float as measured (not rounded)
    assert again.notes == first.notes and again.rise_masks == 3
    assert json_path.read_bytes() == before
    doc = json.loads(before)
    assert doc["resume"]["made_from"]["protocol"] == check_stamp.PROTOCOL
    assert doc["resume"]["made_from"]["fills"] == ["blur", "mean"] and doc["resume"]["made_from"]["points"] == 5
    # without reuse a check measures again, as before
    assert not check_set(make_tiny(), one_set, fill=["blur", "mean"], points=5, rise=3).kept and len(measured) == 4


@pytest.mark.parametrize("change", ["points", "fill", "fill order", "rise", "protocol"])
def test_other_check_options_or_protocol_are_measured_again(one_set, measured, monkeypatch, change):
    check_set(make_tiny(), one_set, fill=["blur", "mean"], points=5)
    kw = {"fill": ["blur", "mean"], "points": 5}
    if change == "points":
        kw["points"] = 6
    elif change == "fill":
        kw["fill"] = "blur"
    elif change == "fill order":
        kw["fill"] = ["mean", "blur"]
    elif change == "rise":
        kw["rise"] = 3
    else:
        monkeypatch.setattr(check_stamp, "PROTOCOL", check_stamp.PROTOCOL + 1)
    n = len(measured)
    c = check_set(make_tiny(), one_set, reuse=True, **kw)
    assert c.check is not None and not c.kept and len(measured) > n
    assert check_set(make_tiny(), one_set, reuse=True, **kw).kept  # and now that check is the one kept


def test_a_changed_record_or_map_is_measured_again(one_set, measured):
    check_set(make_tiny(), one_set, points=5)
    rec = json.loads(one_set.read_text(encoding="utf-8"))
    one_set.write_text(json.dumps(rec), encoding="utf-8")  # the same record written otherwise: other bytes
    c = check_set(make_tiny(), one_set, points=5, reuse=True)
    assert not c.kept and c.check is not None and len(measured) == 2
    npy = one_set.with_name("p0.importance.npy")
    m = np.load(npy)
    np.save(npy, m[::-1].copy())  # the same shape, other values (the same size and a new mtime alike)
    c = check_set(make_tiny(), one_set, points=5, reuse=True)
    assert not c.kept and len(measured) == 3
    assert check_set(make_tiny(), one_set, points=5, reuse=True).kept


def test_another_model_is_measured_again_and_a_copy_of_its_weights_is_not(one_set, measured):
    check_set(_with_weights("a" * 16), one_set, points=5)
    assert check_set(_with_weights("a" * 16, file="copy.pth"), one_set, points=5, reuse=True).kept  # the same weights
    c = check_set(_with_weights("b" * 16), one_set, points=5, reuse=True)  # the record cannot tell: the stamp does
    assert c.check is not None and not c.kept and len(measured) == 2


@pytest.mark.parametrize("damage", ["cut short", "empty", "no stamp", "edited numbers", "other record", "not a dict"])
def test_a_damaged_or_older_json_is_never_trusted(one_set, measured, damage):
    first = check_set(make_tiny(), one_set, points=5)
    path = one_set.with_name("p0" + CHECK_SUFFIX)
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    if damage == "cut short":
        path.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "no stamp":  # written before --resume existed
        path.write_text(json.dumps({k: v for k, v in doc.items() if k != "resume"}), encoding="utf-8")
    elif damage == "edited numbers":
        doc["maps"][0]["deletion_auc"] += 0.1
        path.write_text(json.dumps(doc), encoding="utf-8")
    elif damage == "other record":  # another set's JSON copied over this one's
        path.write_text(json.dumps({**doc, "record": "p9.gradflip.json"}), encoding="utf-8")
    else:
        path.write_text("[1, 2]", encoding="utf-8")
    c = check_set(make_tiny(), one_set, points=5, reuse=True)
    assert not c.kept and c.checks == first.checks and len(measured) == 2
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text)  # written whole again


def test_a_kept_set_is_still_verified_as_a_new_check_would(one_set, tmp_path):
    """A set whose photo is gone or changed is skipped with its reason, not kept from its old JSON."""
    check_set(make_tiny(), one_set, points=5)
    (tmp_path / "p0.png").unlink()
    c = check_set(make_tiny(), one_set, points=5, reuse=True)
    assert c.check is None and not c.kept and "missing" in c.skipped


def test_the_stamp_names_the_device_and_torch(one_set):
    import torch

    check_set(make_tiny(), one_set, points=5)
    made = json.loads(one_set.with_name("p0" + CHECK_SUFFIX).read_text(encoding="utf-8"))["resume"]["made_from"]
    assert made["device"] == "cpu" and made["torch"] == str(torch.__version__)
    assert set(made) == {"protocol", "record_sha256", "map_sha256", "photo_sha256", "fills", "points", "rise", "model",
                         "device", "torch"}
    assert made["record_sha256"] == check_stamp.file_sha256(one_set)
    assert made["map_sha256"] == check_stamp.file_sha256(one_set.with_name("p0.importance.npy"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_in_place_of_the_json_the_csv_or_the_record_is_never_waited_on(one_set, measured, capsys):
    """``check --resume`` read NAME.faithfulness.json, and every check the folder's faithfulness.csv (to keep the other
    sets' rows), with a plain open(): a named pipe of that name made it wait for a writer for ever. The pipe is not a
    check to keep: measured again, and the files written in its place."""
    from helpers import PipeWatch

    out = one_set.parent
    for name in ("p0" + CHECK_SUFFIX, "faithfulness.csv"):
        os.mkfifo(out / name)
    with PipeWatch(out / ("p0" + CHECK_SUFFIX)) as waited, PipeWatch(out / "faithfulness.csv") as waited_csv:
        code = cli.main(["check", str(out), "--fill", "blur", "--resume", "--points", "5", "-q"])
    assert not waited and not waited_csv, "check waited on a named pipe"
    assert code == 0 and len(measured) == 1, capsys.readouterr().err
    assert json.loads((out / ("p0" + CHECK_SUFFIX)).read_text(encoding="utf-8"))["record"] == one_set.name
    assert (out / "faithfulness.csv").is_file()
    os.replace(one_set, out / "kept.json")
    os.mkfifo(one_set)  # a record that became a pipe after the folder was listed: skipped with its reason
    with PipeWatch(one_set) as waited:
        c = check_set(make_tiny(), one_set, points=5)
    assert not waited and c.check is None and "not a regular file" in c.skipped


def _rewrite(path, edit):
    """``edit`` the JSON, then make its rounded numbers agree with its ``resume`` curves (an edit made whole, that the
    comparison with the rounded numbers alone cannot tell)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    checks = [faithfulness.FaithfulnessCheck(k["fill"], k["explained"], tuple(faithfulness.Curve(
        c["name"], tuple(map(float, c["fractions"])), tuple(map(float, c["deletion"])), tuple(map(float, c["insertion"])))
        for c in k["curves"])) for k in doc["resume"]["checks"]]
    doc.update(checks[0].to_dict())
    if len(checks) > 1:
        doc["checks"] = [k.to_dict() for k in checks]
    path.write_text(json.dumps(doc), encoding="utf-8")


def _curves(doc, change):
    for k in doc["resume"]["checks"]:
        for c in k["curves"]:
            change(c)


@pytest.mark.parametrize("edit", ["none", "extra stamp key", "other torch", "model not a dict", "notes not text",
                                  "no curves", "other fill", "rise masks", "fewer points", "a bool", "infinity"])
def test_a_json_edited_consistently_is_still_measured_again(one_set, measured, edit):
    first = check_set(make_tiny(), one_set, points=5)
    path = one_set.with_name("p0" + CHECK_SUFFIX)
    change = {
        "none": lambda d: None,  # the helper itself changes nothing a check compares: kept
        "extra stamp key": lambda d: d["resume"]["made_from"].update(seed=1),  # a stamp of another version
        "other torch": lambda d: d["resume"]["made_from"].update(torch="0.1"),
        "model not a dict": lambda d: d["resume"]["made_from"].update(model=None),
        "notes not text": lambda d: d.update(notes=[1]),
        "no curves": lambda d: d["resume"]["checks"][0].update(curves=[]),
        "other fill": lambda d: d["resume"]["checks"][0].update(fill="mean"),
        "rise masks": lambda d: d.update(rise_masks=3),  # measured without RISE, says with 3 masks
        "fewer points": lambda d: _curves(d, lambda c: [c.update({k: c[k][:-1]}) for k in ("fractions", "deletion",
                                                                                           "insertion")]),
        "a bool": lambda d: _curves(d, lambda c: c["deletion"].__setitem__(0, True)),
        "infinity": lambda d: _curves(d, lambda c: c["deletion"].__setitem__(-1, float("inf"))),
    }[edit]
    _rewrite(path, change)
    c = check_set(make_tiny(), one_set, points=5, reuse=True)
    if edit == "none":
        assert c.kept and c.checks == first.checks and len(measured) == 1
    else:
        assert not c.kept and c.checks == first.checks and len(measured) == 2


def test_a_group_runs_check_made_of_its_top_class_is_measured_again_and_a_one_class_one_is_kept(tmp_path, monkeypatch,
                                                                                                measured):
    """Grad-CAM and saliency of a group run are of the group since session 48: a group set's check made before
    (no "peers_of" in its stamp: its peers were of the top class) is measured again by --resume; one-class sets'
    stamps are as they were, so their checks (minutes with RISE) are kept."""
    rng = np.random.default_rng(4)
    photo = tmp_path / "g.png"
    Image.fromarray(np.kron(rng.uniform(40, 220, (6, 8, 3)), np.ones((4, 4, 1))).astype(np.uint8)).save(photo)
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    out = tmp_path / "out"
    assert cli.main(["explain", str(photo), "--out", str(out), "--style", "free", "--group", "low", "--quiet"]) == 0
    record = out / "g.gradflip.json"
    check_set(make_tiny(), record, points=5)
    json_path = record.with_name("g" + CHECK_SUFFIX)
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["resume"]["made_from"]["peers_of"] == "group"
    assert check_set(make_tiny(), record, points=5, reuse=True).kept
    del doc["resume"]["made_from"]["peers_of"]  # as a check of session 47 wrote it
    json_path.write_text(json.dumps(doc), encoding="utf-8")
    n = len(measured)
    again = check_set(make_tiny(), record, points=5, reuse=True)
    assert not again.kept and again.check is not None and len(measured) > n
