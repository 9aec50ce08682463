"""Regression tests for bugs found by black-box QA of the command line and the core API.

The CLI tests run on the tiny model (``_load_model`` monkeypatched), so they take milliseconds.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gradflip_desktop import cli
from gradflip_desktop.core.explain import run as explain_run
from gradflip_desktop.core.options import EPS_MIN, ExplainOptions
from gradflip_desktop.core.explain.quantise import quantize_tensor
from gradflip_desktop.core.images import load_image, quantize
from gradflip_desktop.core.errors import ModelError
from gradflip_desktop.core.models import Classifier, load_classifier, parse_ranges

from helpers import make_tiny


def _png(path, seed=1, size=(32, 24)):
    rng = np.random.default_rng(seed)
    base = rng.uniform(60, 200, size=(size[1] // 4, size[0] // 4, 3))
    arr = np.kron(base, np.ones((4, 4, 1))).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


# a `python -c` program: the command line on the tiny model, its arguments from argv (tests that need a fresh process)
TINY_CLI_CODE = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
    "from helpers import make_tiny\n"
    "from gradflip_desktop import cli\n"
    "cli._load_model = lambda args: make_tiny()\n"
    "raise SystemExit(cli.main(sys.argv[1:]))\n"
)


@pytest.fixture
def tiny_cli(monkeypatch):
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())


def _one_error_line(err: str) -> str:
    """``err`` (stderr) is exactly one line, a ``gradflip: error:`` one; returns it."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradflip: error:"), lines
    return lines[0]


# ---- class groups: a huge index range must not hang / exhaust memory -----------------------------------

def test_group_with_huge_range_is_refused_at_once(tiny):
    t = time.perf_counter()
    with pytest.raises(ModelError, match="outside"):
        tiny.find_group("0-99999999999")
    with pytest.raises(ValueError):
        parse_ranges("0-99999999999")  # no class count known (sidecar files, the Load model dialog)
    assert time.perf_counter() - t < 10  # generous (busy CI): building the range would take minutes and GBs
    assert parse_ranges("281-285,290") == [281, 282, 283, 284, 285, 290]
    assert tiny.find_group("1-2") == ("classes 1-2", [1, 2])


def test_cli_group_with_huge_range_exits_2(tiny_cli, tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    t = time.perf_counter()
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "out"), "-q", "--group", "0-99999999999"])
    assert code == 2 and time.perf_counter() - t < 30  # generous; a materialised range would take minutes
    _one_error_line(capsys.readouterr().err)


def test_empty_group_list_has_a_clear_message(tiny):
    with pytest.raises(ModelError, match="at least one class"):
        tiny.find_group([])


# ---- target names ---------------------------------------------------------------------------------------

def _labelled(labels):
    t = make_tiny(classes=len(labels))
    return Classifier(module=t.module, labels=list(labels), name="t", preprocessing=t.preprocessing)


def test_target_differing_only_in_case_is_ambiguous():
    clf = _labelled(["Cardigan", "cardigan", "tabby"])  # as ImageNet's 264 (corgi) and 474 (sweater)
    assert clf.find_class("Cardigan") == 0
    assert clf.find_class("cardigan") == 1
    assert clf.find_class("TABBY") == 2
    with pytest.raises(ModelError, match=r"ambiguous.*\(0\).*\(1\)"):
        clf.find_class("CARDIGAN")


def test_empty_target_name_is_refused_clearly():
    clf = _labelled(["a", "b", "c"])
    with pytest.raises(ModelError, match="empty"):
        clf.find_class("  ")


# ---- output names: one run must never overwrite its own results ----------------------------------------

def test_two_inputs_with_the_same_name_do_not_overwrite_each_other(tiny_cli, tmp_path, capsys):
    a = _png(tmp_path / "a" / "photo.png", seed=1)
    b = _png(tmp_path / "b" / "photo.png", seed=2)
    out = tmp_path / "out"
    code = cli.main(["explain", str(a), str(b), "--out", str(out), "-q", "--force", "--no-key-pixels"])
    err = capsys.readouterr().err
    assert code in (0, 1) and "error" not in err  # before: b was refused ("rename one")
    rec = json.loads((out / "photo.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["source"] == str(a)  # the first set is intact, not replaced by b's
    rec = json.loads((out / "photo_png.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["source"] == str(b)  # the second one's name carries its extension


def test_same_image_twice_is_explained_once(tiny_cli, tmp_path, capsys):
    a = _png(tmp_path / "photo.png")
    out = tmp_path / "out"
    code = cli.main(["explain", str(a), str(a), "-o", str(out), "-q", "--json", "--no-key-pixels"])  # -o: --out
    io = capsys.readouterr()
    recs = json.loads(io.out)  # stdout is one valid JSON document: a list, as two images were given
    assert isinstance(recs, list) and len(recs) == 1 and recs[0]["format"] == "gradflip-result/1"
    assert code in (0, 1) and "error" not in io.err
    assert (out / "photo.gradflip.json").is_file()


# ---- output folder problems are bad input (2), not internal errors (3) ---------------------------------

def test_out_with_a_too_long_name_exits_2(tiny_cli, tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    code = cli.main(["explain", str(img), "--out", str(tmp_path / ("x" * 300)), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert "internal error" not in err
    _one_error_line(err)


def test_out_that_is_a_file_exits_2_with_a_clear_message(tiny_cli, tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    (tmp_path / "afile").write_text("x")
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "afile"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "not a folder" in err


# ---- options --------------------------------------------------------------------------------------------

def test_epsilon_below_the_minimum_is_refused(tiny_cli, tmp_path, capsys):
    with pytest.raises(ValueError, match="epsilon"):
        ExplainOptions(epsilon=1e-9).validate()
    ExplainOptions(epsilon=EPS_MIN).validate()
    img = _png(tmp_path / "a.png")
    # before: fixed mode "stalled" after one step with a message about the *adaptive* step length
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "o"), "-q", "--mode", "fixed", "--epsilon", "1e-9"])
    assert code == 2 and "epsilon" in capsys.readouterr().err


def test_non_integer_count_option_message(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["explain", "x.png", "--max-steps", "12.5"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "_positive_int" not in err and "whole number" in err


@pytest.mark.parametrize("command, option", [("explain", "--max-steps"), ("explain", "--batch-size"), ("classify", "-k")])
def test_an_absurdly_large_count_is_refused_in_one_short_line(capsys, command, option):
    """1e308 is a whole number to float(): -k and --batch-size took it, --max-steps printed its 309 digits."""
    with pytest.raises(SystemExit) as e:
        cli.main([command, "x.png", option, "1e308"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "from 1 to 10^15, not '1e308'" in err and len(err) < 600 and "0" * 30 not in err


def test_model_file_options_are_not_silently_ignored_for_the_builtin_model(tmp_path, capsys):
    with pytest.raises(ModelError, match="model files"):
        load_classifier(None, labels=str(tmp_path / "nothere.txt"))
    img = _png(tmp_path / "a.png")
    assert cli.main(["classify", str(img), "--input-size", "99999"]) == 2
    assert "model files" in capsys.readouterr().err


def test_empty_image_array_has_a_clear_message(tiny):
    with pytest.raises(ValueError, match="empty"):
        explain_run(tiny, np.zeros((0, 5, 3), np.float32))


# ---- the 8-bit check tests exactly the PNG that is saved -----------------------------------------------

def test_quantize_tensor_rounds_like_the_saved_png():
    x = np.random.default_rng(0).uniform(0, 1, (1, 3, 500, 600)).astype(np.float32)
    got = quantize_tensor(torch.from_numpy(x)).numpy()
    assert np.array_equal(got, quantize(x))  # float32 rounding differed on ~5 values per million


def test_saved_adjusted_png_reclassifies_to_final(tiny, tmp_path, tiny_image):
    from gradflip_desktop.core.report import write_result_set

    res = explain_run(tiny, tiny_image)
    assert res.flipped
    write_result_set(res, tmp_path, "t")
    back = load_image(tmp_path / "t.adjusted.png", max_side=None)
    assert np.array_equal(back.pixels, quantize(res.adjusted_pixels))
    assert tiny.classify(back.pixels, k=1)[0].index == res.final.index
    assert np.array_equal(res.adjusted_uint8, np.asarray(Image.open(tmp_path / "t.adjusted.png")))
    delta = np.load(tmp_path / "t.delta.npy")
    rec = json.loads((tmp_path / "t.gradflip.json").read_text(encoding="utf-8"))
    assert rec["l2"] == pytest.approx(float(np.linalg.norm(delta.astype(np.float64))), abs=1e-5)
    assert np.load(tmp_path / "t.importance.npy").shape == tiny_image.shape[:2]


# ---- second QA round: output shapes and messages ---------------------------------------------------------

def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["explain", "x.png", "--mode", "wild"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gradflip: error:") and "--help" in err[0]


def test_json_is_a_list_whenever_several_images_are_given(tiny_cli, tmp_path, capsys):
    good = _png(tmp_path / "good.png")
    code = cli.main(["classify", str(good), str(tmp_path / "missing.png"), "--json"])
    out = capsys.readouterr().out
    assert code == 2 and isinstance(json.loads(out), list) and len(json.loads(out)) == 1
    code = cli.main(["classify", str(good), "--json"])
    assert code == 0 and isinstance(json.loads(capsys.readouterr().out), dict)
    code = cli.main(["explain", str(tmp_path / "missing.png"), str(tmp_path / "gone.png"), "--json", "-q",
                     "--out", str(tmp_path / "o")])
    assert code == 2 and json.loads(capsys.readouterr().out) == []


def test_json_of_one_image_that_fails_is_nothing_for_classify_and_explain(tiny_cli, tmp_path, capsys):
    """One image: an object when it worked, no document when it failed (stderr says why, the status is 2): classify
    printed "[]" there, a list where an object is promised, and explain printed nothing."""
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    for cmd in (["classify"], ["explain", "-q", "--out", str(tmp_path / "o")]):
        code = cli.main([*cmd, str(bad), "--json"])
        got = capsys.readouterr()
        assert code == 2 and got.out == "" and "bad.png" in got.err, (cmd, got)


def test_classify_prints_the_image_notes(tiny_cli, tmp_path, capsys):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 128
    Image.fromarray(rgba).save(tmp_path / "half.png")
    assert cli.main(["classify", str(tmp_path / "half.png")]) == 0
    assert "composited on white" in capsys.readouterr().err
    assert cli.main(["classify", str(tmp_path / "half.png"), "--json"]) == 0  # and in the JSON, which is what scripts read
    assert json.loads(capsys.readouterr().out)["notes"] == ["transparent areas were composited on white"]


def test_boolean_target_is_refused(tiny, tiny_image):
    with pytest.raises(ModelError, match="index or a label"):
        explain_run(tiny, tiny_image, ExplainOptions(target=True))


def test_empty_model_file_says_so(tmp_path):
    from gradflip_desktop.core.models.files import load_model_file

    (tmp_path / "m.pth").write_bytes(b"")
    with pytest.raises(ModelError, match=r"m\.pth is empty \(0 bytes\)"):
        load_model_file(tmp_path / "m.pth")


# ---- every option through cli.main: it reaches ExplainOptions and changes the result as documented ---------
# On the tiny model and a 32 x 24 photo (_png seed 1): the top class is class1 (43 %), then class3; an
# untargeted run flips to class3 in ~10 steps.


def _explain(tmp_path, tag: str, *extra: str, image=None) -> tuple[int, dict, np.ndarray, str]:
    """Run ``gradflip explain`` on the tiny model; return (exit code, record, delta, steps.csv text)."""
    img = image or _png(tmp_path / "a.png")
    out = tmp_path / tag
    style = [] if "--style" in extra else ["--style", "free"]  # the textbook change unless a test picks one
    code = cli.main(["explain", str(img), "--out", str(out), "-q", "--no-key-pixels", *style, *extra])
    stem = img.stem
    rec = json.loads((out / f"{stem}.gradflip.json").read_text(encoding="utf-8"))
    delta = np.load(out / f"{stem}.delta.npy")
    return code, rec, delta, (out / f"{stem}.steps.csv").read_text(encoding="utf-8")


def _roughness(delta: np.ndarray) -> float:
    """Total variation of the change per unit of change: small for smooth changes, ~1+ for pixel noise."""
    tv = np.abs(np.diff(delta, axis=0)).sum() + np.abs(np.diff(delta, axis=1)).sum()
    return float(tv / np.abs(delta).sum())


def _csv_rows(text: str) -> list[dict]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text)))


def test_classify_top_k(tiny_cli, tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    assert cli.main(["classify", str(img), "-k", "2", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["top"]
    expected = make_tiny().classify(load_image(img).pixels, k=2)
    assert [t["index"] for t in top] == [p.index for p in expected] == [1, 3]
    assert [t["probability"] for t in top] == pytest.approx([p.probability for p in expected])
    assert cli.main(["classify", str(img), "--top", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == f"{img}:" and len(lines) == 1 + 4
    assert [ln.split()[-1] for ln in lines[1:]] == ["(1)", "(3)", "(0)", "(2)"]  # most probable first
    assert cli.main(["classify", str(img), "-k", "9"]) == 0  # more than the model has: all, and a note says so
    io = capsys.readouterr()
    assert len(io.out.strip().splitlines()) == 1 + make_tiny().num_classes
    assert io.err == f"gradflip: note: the model has {make_tiny().num_classes} classes: all of them are listed (-k 9)\n"


def test_classify_takes_folders_as_explain_does(tiny_cli, tmp_path, capsys):
    """IMAGE may be a folder (the help says so for both commands): its images, sorted; --recursive adds
    subfolders; a folder without images is one error line."""
    photos = tmp_path / "photos"
    (photos / "more").mkdir(parents=True)
    _png(photos / "b.png")
    _png(photos / "a.png")
    _png(photos / "more" / "c.png")
    (photos / "notes.txt").write_text("not an image", encoding="utf-8")
    assert cli.main(["classify", str(photos), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [Path(o["image"]).name for o in out] == ["a.png", "b.png"]  # a list, even for a folder of one
    assert cli.main(["classify", str(photos), "--recursive"]) == 0
    heads = [ln for ln in capsys.readouterr().out.splitlines() if ln.endswith(":")]
    assert [Path(h[:-1]).name for h in heads] == ["a.png", "b.png", "c.png"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["classify", str(empty)]) == cli.EXIT_BAD_INPUT
    assert "no images to classify in" in _one_error_line(capsys.readouterr().err)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / ".thumb.png").write_bytes(b"")
    # among other inputs an empty folder was silent (exit 0, nothing said about it)
    assert cli.main(["classify", str(empty), str(hidden), str(photos / "a.png")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"gradflip: skipped: {empty}: no files in it", f"gradflip: skipped: {hidden}: only hidden files in it"]
    (tmp_path / "nest" / "sub" / "subsub").mkdir(parents=True)  # with --recursive: folders, and nothing in them
    assert cli.main(["classify", str(tmp_path / "nest"), str(photos / "a.png"), "--recursive"]) == 0
    assert capsys.readouterr().err.splitlines() == [f"gradflip: skipped: {tmp_path / 'nest'}: only empty folders in it"]


def test_a_run_that_writes_nothing_leaves_no_folder_it_made(tiny_cli, tmp_path, capsys):
    """Every input unreadable: the --out folder the run created was left behind, empty; one that was there stays."""
    bad = tmp_path / "cut.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)
    out = tmp_path / "new" / "out"
    assert cli.main(["explain", str(bad), str(tmp_path / "missing.png"), "--out", str(out), "--json"]) == 2
    assert not (tmp_path / "new").exists() and capsys.readouterr().out.strip() == "[]"  # nor the folder made around it
    out.mkdir(parents=True)
    assert cli.main(["explain", str(bad), "--out", str(out)]) == 2
    assert out.is_dir() and list(out.iterdir()) == []
    assert cli.main(["explain", str(_png(tmp_path / "ok.png")), "--out", str(out), "-q"]) in (0, 1)
    assert (out / "ok.gradflip.json").is_file()


def test_explain_default_run_and_its_record(tiny_cli, tmp_path):
    """The record holds what reproduces the run: model, options, image; files names the set's files."""
    code, rec, delta, steps = _explain(tmp_path, "out")
    assert code == 0 and rec["flipped"] and rec["status"] == "flipped"
    assert rec["original"]["index"] == 1 and rec["final"]["index"] == 3
    assert rec["model"]["name"] == "tiny"
    assert rec["options"] == ExplainOptions(key_pixels=False, style="free").to_dict()
    assert rec["image"]["source"] == str(tmp_path / "a.png")
    assert rec["image"]["original_size"] == [32, 24] and rec["image"]["working_size"] == [32, 24]
    names = {"gradflip", "adjusted", "difference", "figure", "delta", "importance", "key", "steps"}
    assert set(rec["files"]) == names
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(rec["files"].values())
    # reproduce the run from the record alone: same final class, same L2
    again = explain_run(make_tiny(), load_image(rec["image"]["source"]), ExplainOptions(**rec["options"]))
    assert again.final.index == rec["final"]["index"]
    assert again.l2 == pytest.approx(rec["l2"], abs=1e-5)
    assert rec["l2"] == pytest.approx(float(np.linalg.norm(delta.astype(np.float64))), abs=1e-5)


def test_steps_csv_columns(tiny_cli, tmp_path):
    code, rec, _, text = _explain(tmp_path, "out")
    header = text.splitlines()[0].split(",")
    assert header[:8] == ["step", "phase", "accepted", "epsilon", "score", "l2", "linf", "flipped"]
    assert header[8:] == [f"top{i}_{c}" for i in range(1, 6) for c in ("index", "label", "probability")] + ["top1_is_flip"]
    rows = _csv_rows(text)
    assert len(rows) == rec["steps"] > 1
    assert [int(r["step"]) for r in rows] == list(range(1, len(rows) + 1))
    assert all(r["phase"] == "search" and r["accepted"] in ("0", "1") for r in rows)
    assert rows[0]["top1_index"] == "1" and rows[0]["top1_label"] == "class1" and rows[0]["flipped"] == "0"
    assert rows[-1]["flipped"] == "1" and rows[-1]["top1_index"] == "3"
    # the explained class (1) on top: no flip; any other on top: a flip, in every phase
    assert [r["top1_is_flip"] for r in rows] == [str(int(r["top1_index"] != "1")) for r in rows]
    assert rows[0]["top1_is_flip"] == "0" and rows[-1]["top1_is_flip"] == "1"
    l2 = [float(r["l2"]) for r in rows]
    assert l2 == sorted(l2)  # the change grows step by step in the search
    for r in rows:  # probabilities are the top-5, in order, in [0, 1]
        probs = [float(r[f"top{i}_probability"]) for i in range(1, 6) if r[f"top{i}_probability"]]
        assert probs == sorted(probs, reverse=True) and 0 <= probs[-1] <= probs[0] <= 1


def test_target_option(tiny_cli, tmp_path):
    code, rec, _, _ = _explain(tmp_path, "t2", "--target", "class2")
    assert code == 0 and rec["options"]["target"] == "class2"
    assert rec["target"]["index"] == 2 and rec["final"]["index"] == 2  # untargeted, it ends on class3
    code, rec, _, _ = _explain(tmp_path, "t0", "--target", "0")
    assert code == 0 and rec["final"]["index"] == 0
    code, rec, _, _ = _explain(tmp_path, "t1", "--target", "class1")  # already the top class
    assert code == 1 and rec["status"] == "nothing_to_flip" and rec["steps"] == 0


def test_target_unknown_is_one_error_line(tiny_cli, tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "o"), "-q", "--target", "zebra"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "zebra" in line
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize("labels, group, target, code, said", [
    # a unique prefix of a label ran that class with a note, which now also names the group
    (["dogsled", "beagle", "pug", "lynx"], ("dog", [1, 2]), "dog", (0, 1),
     "gradflip: note: --target 'dog' means 'dogsled' (for the class group, any dog: --group dog)"),
    # no label starts so (fish, reptile, insect, primate, vehicle, "big cat"): the error names the group too
    (["goldfish", "tench", "pug", "lynx"], ("fish", [0, 1]), "fish", (2,),
     "(for the class group, any fish: --group fish)"),
])
def test_a_target_that_is_a_group_name_points_to_group(monkeypatch, tmp_path, capsys, labels, group, target, code, said):
    """--target dog ran 'dogsled' and --target fish ended with "no class named 'fish'", neither with a word of the
    built-in group of that name."""
    clf = make_tiny()
    clf.labels[:] = labels
    clf.groups = {group[0]: group[1]}
    monkeypatch.setattr(cli, "_load_model", lambda args: clf)
    img = _png(tmp_path / "a.png")
    capsys.readouterr()
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "o"), "-q", "--target", target]) in code
    err = capsys.readouterr().err
    assert said in err, err
    if code == (2,):
        assert "no class named 'fish'" in err


def test_target_given_by_a_prefix_names_the_class_it_means(monkeypatch, tmp_path, capsys):
    """Before: a unique prefix ran that class without naming it (the user may have meant another)."""
    clf = make_tiny()
    clf.labels[:] = ["tabby", "tiger", "tiger cat", "lynx"]
    monkeypatch.setattr(cli, "_load_model", lambda args: clf)
    img = _png(tmp_path / "a.png")
    capsys.readouterr()
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "o"), "-q", "--target", "tiger c"]) in (0, 1)
    assert "gradflip: note: --target 'tiger c' means 'tiger cat'" in capsys.readouterr().err.splitlines()
    assert json.loads((tmp_path / "o" / "a.gradflip.json").read_text(encoding="utf-8"))["target"]["index"] == 2
    for exact in ("TIGER", "2"):  # the label itself in another case, or an index: no note
        assert cli.main(["explain", str(img), "--out", str(tmp_path / exact), "-q", "--target", exact]) in (0, 1)
        assert "--target" not in capsys.readouterr().err
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "p"), "-q", "--target", "tig"]) == 2
    err = capsys.readouterr().err  # ambiguous: one line before any image is explained
    assert "ambiguous" in err and not (tmp_path / "p").exists()


@pytest.mark.parametrize("extra, note", [
    (["--blur-sigma", "3"], "--blur-sigma applies to --style blur only; ignored with --style region"),
    (["--style", "free", "--blur-sigma", "3"], "--blur-sigma applies to --style blur only; ignored with --style free"),
    (["--no-refine"], "--no-refine applies to the smallest change only (--style free, no smoothing, coarse 1); "
                      "ignored with --style region"),
    (["--style", "free", "--coarse", "2", "--no-refine", "--no-lattice"],
     "--no-refine and --no-lattice apply to the smallest change only (--style free, no smoothing, coarse 1); "
     "ignored with --smoothing or --coarse"),
    (["--style", "blur", "--blur-sigma", "3"], None),
    (["--style", "free", "--no-lattice"], None),
])
def test_an_option_the_style_does_not_use_gets_a_note(tiny_cli, tmp_path, capsys, extra, note):
    """Before: these options were dropped in silence."""
    img = _png(tmp_path / "a.png")
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "o"), "-q", *extra]) in (0, 1)
    notes = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("gradflip: note: --")]
    assert notes == ([f"gradflip: note: {note}"] if note else [])


def test_group_name_success(tiny_cli, tmp_path):
    code, rec, _, _ = _explain(tmp_path, "g", "--group", "low")  # the tiny model's group: classes 0 and 1
    assert code == 0 and rec["options"]["group"] == "low"
    assert {k: rec["explained"][k] for k in ("name", "indices")} == {"name": "low", "indices": [0, 1]}
    assert rec["explained"]["probability"] >= rec["original"]["probability"] > 0
    assert rec["explained"]["final_probability"] < rec["explained"]["probability"]  # the group lost
    assert rec["original"]["index"] in (0, 1) and rec["final"]["index"] not in (0, 1)


def test_smoothing_option_makes_the_change_smoother(tiny_cli, tmp_path):
    _, free, d_free, _ = _explain(tmp_path, "free")
    code, rec, d_smooth, _ = _explain(tmp_path, "smooth", "--smoothing", "2")
    assert code == 0 and rec["options"]["smoothing"] == 2.0 and free["options"]["smoothing"] == 0.0
    assert _roughness(d_smooth) < 0.5 * _roughness(d_free)


def test_coarse_option_makes_the_change_coarse(tiny_cli, tmp_path):
    _, _, d_free, _ = _explain(tmp_path, "free")
    code, rec, d_coarse, _ = _explain(tmp_path, "coarse", "--coarse", "4")
    assert code == 0 and rec["options"]["coarse"] == 4 and rec["flipped"]
    assert _roughness(d_coarse) < 0.5 * _roughness(d_free)


def test_style_blur_moves_pixels_only_toward_the_blurred_copy(tiny_cli, tmp_path):
    from gradflip_desktop.core.viz.filters import blur_array

    code, rec, delta, _ = _explain(tmp_path, "blur", "--style", "blur", "--blur-sigma", "4")
    assert code == 0 and rec["options"]["style"] == "blur" and rec["options"]["blur_sigma"] == 4.0
    x0 = load_image(tmp_path / "a.png").pixels
    toward = np.clip(blur_array(x0, 4.0), 0, 1) - x0  # the documented direction of every pixel
    q = 1 / 255 + 1e-6  # the 8-bit pass rounds the adjusted image
    assert np.all(np.abs(delta) <= np.abs(toward) + q)
    moved = np.abs(delta) > q
    assert moved.sum() > 100 and np.all(np.sign(delta[moved]) == np.sign(toward[moved]))
    # the free style moves pixels away from the blurred copy too
    _, _, d_free, _ = _explain(tmp_path, "free")
    free_moved = np.abs(d_free) > q
    assert np.any(np.sign(d_free[free_moved]) != np.sign(toward[free_moved]))


def test_blur_sigma_option_changes_the_blurred_copy(tiny_cli, tmp_path):
    code, rec, d_default, _ = _explain(tmp_path, "b_default", "--style", "blur")
    assert rec["options"]["blur_sigma"] is None
    _, rec4, d4, _ = _explain(tmp_path, "b4", "--style", "blur", "--blur-sigma", "4")
    assert rec4["options"]["blur_sigma"] == 4.0
    assert not np.allclose(d_default, d4)
    # --blur-sigma outside its range is one usage line, exit 2
    img = tmp_path / "a.png"
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "x"), "-q", "--style", "blur", "--blur-sigma", "-1"]) == 2


def test_no_minimise_option(tiny_cli, tmp_path):
    _, rec_min, _, steps_min = _explain(tmp_path, "min")
    code, rec, _, steps = _explain(tmp_path, "nomin", "--no-minimise")
    assert code == 0 and rec["options"]["minimise"] is False and rec_min["options"]["minimise"] is True
    assert rec["alpha"] == 1.0  # the search's change is kept at full length
    assert rec_min["alpha"] < 0.95  # the minimise pass scales it down ...
    assert rec_min["l2"] < rec["l2"]  # ... so the saved change is smaller


def test_no_refine_and_no_lattice_options(tiny_cli, tmp_path):
    """The free style's passes after the flip can be switched off one by one (the benchmark's ablation):
    each reaches the record's options, and each pass only ever makes its size smaller."""
    _, full, _, _ = _explain(tmp_path, "full")
    code, plain, _, _ = _explain(tmp_path, "norefine", "--no-refine")
    assert code == 0 and plain["options"]["refine"] is False and full["options"]["refine"] is True
    assert full["l2_minimal_float"] < plain["l2_minimal_float"]  # the refinement walks the change smaller
    code, rounded, _, _ = _explain(tmp_path, "nolattice", "--no-lattice")
    assert code == 0 and rounded["options"]["lattice"] is False and full["options"]["lattice"] is True
    assert rounded["l2_minimal_float"] == full["l2_minimal_float"]  # the float passes are the same
    assert full["l2_saved"] < rounded["l2_saved"]  # the lattice pass saves a smaller 8-bit change


def test_max_side_option(tiny_cli, tmp_path):
    code, rec, delta, _ = _explain(tmp_path, "ms", "--max-side", "16")
    assert code == 0
    assert delta.shape == (12, 16, 3)
    assert rec["image"]["working_size"] == [16, 12] and rec["image"]["original_size"] == [32, 24]
    assert np.load(tmp_path / "ms" / "a.importance.npy").shape == (12, 16)


def test_mode_fixed_and_epsilon_options(tiny_cli, tmp_path):
    code, rec, _, steps = _explain(tmp_path, "fixed", "--mode", "fixed", "--epsilon", "0.01")
    assert rec["options"]["mode"] == "fixed" and rec["options"]["epsilon"] == 0.01
    assert {float(r["epsilon"]) for r in _csv_rows(steps)} == {0.01}  # fixed: every step at the given ε
    _, rec_a, _, steps_a = _explain(tmp_path, "adaptive", "--epsilon", "0.01")
    assert len({float(r["epsilon"]) for r in _csv_rows(steps_a)}) > 1  # adaptive: ε changes


def test_max_steps_option(tiny_cli, tmp_path):
    code, rec, _, steps = _explain(tmp_path, "budget", "--max-steps", "3")
    assert code == 1 and rec["status"] == "budget_exhausted" and rec["options"]["max_steps"] == 3
    assert len(_csv_rows(steps)) == 3


def test_key_pixels_option(tiny_cli, tmp_path):
    img = _png(tmp_path / "a.png")
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "kp"), "-q", "--style", "free"]) == 0
    rec = json.loads((tmp_path / "kp" / "a.gradflip.json").read_text(encoding="utf-8"))
    assert rec["options"]["key_pixels"] is True and rec["key_pixels"]["count"] > 0
    _, rec_no, _, _ = _explain(tmp_path, "nokp")
    assert rec_no["options"]["key_pixels"] is False and rec_no["key_pixels"]["count"] == 0


def test_force_option_and_its_remedy(tiny_cli, tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    out = tmp_path / "o"
    assert cli.main(["explain", str(img), "--out", str(out), "-q", "--style", "free", "--no-key-pixels"]) == 0
    before = (out / "a.gradflip.json").stat().st_mtime_ns
    capsys.readouterr()
    assert cli.main(["explain", str(img), "--out", str(out), "-q", "--style", "free", "--no-key-pixels"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.endswith("already exist in " + str(out) + "; use --resume to keep complete sets or --force to overwrite")
    assert (out / "a.gradflip.json").stat().st_mtime_ns == before  # nothing was touched
    assert cli.main(["explain", str(img), "--out", str(out), "-q", "--style", "free", "--no-key-pixels", "--force"]) == 0
    assert (out / "a.gradflip.json").stat().st_mtime_ns != before


def test_result_exists_from_the_core_gets_the_cli_remedy(tiny_cli, tmp_path, capsys, monkeypatch):
    """A set that appears between the CLI's own check and the write: the core's typed error, the CLI's words."""
    from gradflip_desktop.core.dataset import job
    from gradflip_desktop.core.errors import ResultExistsError

    def exists(*a, **k):
        raise ResultExistsError("7 result file(s) already exist in OUT (e.g. a.gradflip.json)", ["a.gradflip.json"])

    monkeypatch.setattr(job, "write_result_set", exists)
    img = _png(tmp_path / "a.png")
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        "gradflip: error: 7 result file(s) already exist in OUT (e.g. a.gradflip.json); use --resume to keep complete sets or --force to overwrite"
    )
    assert "--force" not in str(ResultExistsError("x"))  # the core's message names no flag


def test_quiet_option(tiny_cli, tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "loud"), "--no-key-pixels", "--style", "free"]) == 0
    err = capsys.readouterr().err
    assert "a.png: step 1/200" in err and "→ class3" in err and "wrote 8 files" in err
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "quiet"), "-q", "--style", "free", "--no-key-pixels"]) == 0
    assert capsys.readouterr().err == ""


def test_bad_device_is_one_error_line(tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    assert cli.main(["classify", str(img), "--device", "quantum"]) == 2
    assert "quantum" in _one_error_line(capsys.readouterr().err)


def test_missing_model_file_is_one_error_line(tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    assert cli.main(["classify", str(img), "--model", str(tmp_path / "nothere.pth")]) == 2
    assert "nothere.pth" in _one_error_line(capsys.readouterr().err)


def test_models_command_lists_the_default(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Models (pass the first column to --model):")
    assert "efficientnet-lite0" in out.splitlines()[1]


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_internal_error_exits_3_in_one_line(tiny_cli, tmp_path, capsys, monkeypatch):
    from gradflip_desktop.core.explain import runner as explain_pkg

    def broken(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(explain_pkg, "run", broken)
    img = _png(tmp_path / "a.png")
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "o"), "-q"]) == 3
    assert _one_error_line(capsys.readouterr().err) == (
        "gradflip: error: internal error: RuntimeError: kaboom (please report this)"
    )
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_interrupt_exits_130_and_leaves_no_half_written_set(tiny_cli, tmp_path, capsys, monkeypatch):
    """Ctrl+C during the second image: the first image's set is complete, the second has no file at all."""
    from gradflip_desktop.core.explain import runner as explain_pkg

    real = explain_pkg.run
    calls = []

    def interrupted(clf, img, opts, on_step=None, **kw):
        calls.append(img.name)
        if len(calls) == 1:
            return real(clf, img, opts, on_step=on_step, **kw)

        def stop(step):
            if step.index == 3:
                raise KeyboardInterrupt

        return real(clf, img, opts, on_step=stop, **kw)

    monkeypatch.setattr(explain_pkg, "run", interrupted)
    a, b = _png(tmp_path / "a.png", seed=1), _png(tmp_path / "b.png", seed=2)
    out = tmp_path / "o"
    # one image at a time (a batched run stops every image in flight; tests/test_cli_folders.py covers it)
    assert cli.main(["explain", str(a), str(b), "--out", str(out), "-q", "--no-key-pixels", "--style", "free",
                     "--batch-size", "1"]) == 130
    # -q: no progress, but what is kept and how to go on, in one line ("interrupted" after a blank line repeated it)
    assert capsys.readouterr().err.strip().splitlines() == [
        f"gradflip: interrupted: 1 of 2 result sets are complete in {out}; the same command with --resume explains the rest"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"a{s}" for s in report_suffixes())
    assert calls == ["a", "b"]


def report_suffixes():
    from gradflip_desktop.core.report import SUFFIXES

    return SUFFIXES


def test_default_style_is_the_key_region(tiny_cli, tmp_path):
    img = _png(tmp_path / "a.png")
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "r"), "-q"]) in (0, 1)
    rec = json.loads((tmp_path / "r" / "a.gradflip.json").read_text(encoding="utf-8"))
    assert rec["options"]["style"] == ExplainOptions().style == "region"
    assert "key_region" in rec and (rec["key_region"] is not None) == rec["flipped"]
    code, rec_free, _, _ = _explain(tmp_path, "f", "--style", "free")
    assert rec_free["options"]["style"] == "free"


def test_progress_stays_live_while_the_key_region_is_found(tiny_cli, tmp_path, capsys, monkeypatch):
    """The key region's forward passes have no steps: the progress line used to stop at the last step while
    they ran (seconds at the 1,024 px working size). Each pass now gets a line, after the steps."""
    from helpers import tiny_image_array

    monkeypatch.setattr(cli._Progress, "EVERY_S", 0.0)  # every line (a log gets at most one a second per phase)

    img = tmp_path / "a.png"
    Image.fromarray((255 * tiny_image_array()).round().astype(np.uint8)).save(img)  # flips, and its region alone
    assert cli.main(["explain", str(img), "--out", str(tmp_path / "r")]) == 0
    rec = json.loads((tmp_path / "r" / "a.gradflip.json").read_text(encoding="utf-8"))
    assert rec["key_region"]["flips"]
    lines = capsys.readouterr().err.splitlines()
    passes = [i for i, line in enumerate(lines) if line.startswith("a.png: finding the key region: pass ")]
    steps = [i for i, line in enumerate(lines) if line.startswith("a.png: step ")]
    assert len(passes) >= 2 and steps and max(steps) < min(passes)
    assert [int(lines[i].rsplit(" ", 1)[1]) for i in passes] == list(range(1, len(passes) + 1))
    assert max(passes) < len(lines) - 1 and "key region" in lines[-1]  # then the outcome line


def test_a_reader_that_goes_away_mid_output_is_not_an_internal_error(tiny_cli, tmp_path, monkeypatch, capsys):
    """`gradflip classify a.png b.png | head -1`: main's catch-all turned the closed pipe into "internal error:
    BrokenPipeError ... (please report this)" and exit 3 before the console-script wrapper could see it."""
    img = _png(tmp_path / "a.png")
    sink = open(tmp_path / "stdout", "w")  # the wrapper points this descriptor at /dev/null

    class GoneReader:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

        def fileno(self):
            return sink.fileno()

    monkeypatch.setattr(sys, "stdout", GoneReader())
    try:
        assert cli.main(["classify", str(img), str(img)]) == cli.EXIT_BROKEN_PIPE
        assert cli.main(["classify", str(img), "--json"]) == cli.EXIT_BROKEN_PIPE
    finally:
        sink.close()
    assert "internal error" not in capsys.readouterr().err


def _wrapped_main_raising(exception: str):
    """A console script's ``main`` wrapped as the real ones are, raising ``exception``, run in a fresh process."""
    import subprocess

    code = ("from gradflip_desktop.cli import quiet_broken_pipe\n"
            f"def main(argv=None):\n    raise {exception}\n"
            "raise SystemExit(quiet_broken_pipe(main)())\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_reader_that_goes_away_ends_quietly_without_a_traceback():
    """`gradflip --help | head -1`: the closed pipe ends the program with 141 (128 + SIGPIPE), no traceback."""
    proc = _wrapped_main_raising("BrokenPipeError(32, 'Broken pipe')")
    assert proc.returncode == 141 and proc.stderr == ""
    from gradflip_desktop import app, cli

    assert cli.main.__wrapped__ and app.main.__wrapped__  # both console scripts are wrapped


def test_ctrl_c_at_start_up_ends_with_one_line_not_a_traceback():
    """Ctrl+C in the first few tenths of a second (the parser's numpy/Pillow imports, before the command installs
    its own handler) printed a KeyboardInterrupt traceback from PIL/enum.py; it is one line and exit 130."""
    proc = _wrapped_main_raising("KeyboardInterrupt")
    assert proc.returncode == 130
    assert "Traceback" not in proc.stderr and proc.stderr.strip() == "gradflip: interrupted"


def test_progress_never_counts_past_the_step_budget(capsys):
    """--max-steps 3 on a photo that flips at step 3: the default style's passes after the flip go on to step
    19; the progress line used to read "step 13/3 (flip-back search)"."""
    from gradflip_desktop.core.results import Step

    progress = cli._Progress("a.png", 3, quiet=False, label=lambda i: f"class{i}")
    p = np.array([0.7, 0.1, 0.1, 0.1], np.float32)
    for n, phase in ((3, "search"), (5, "sharpen"), (13, "restore"), (19, "eight_bit")):
        progress(Step(index=n, epsilon=2e-4, score=0.0, probabilities=p, l2=0.5, linf=0.1, flipped=False, phase=phase))
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "a.png: step 3/3", "a.png: step 5 (past the flip)", "a.png: step 13 (flip-back: detail put back)",
        "a.png: step 19 (8-bit pass)"]


def test_progress_names_each_phase_and_the_last_line_names_the_key_region(capsys):
    """The default style's steps after the flip are not the search: the progress line says which pass runs,
    and the final line reports the key region (its share, areas and the class it alone gives)."""
    from pathlib import Path
    from types import SimpleNamespace

    from gradflip_desktop.core.results import Step

    progress = cli._Progress("a.png", 200, quiet=False, label=lambda i: f"class{i}")
    for n, phase in enumerate(("search", "sharpen", "restore", "eight_bit"), 1):
        p = np.full(4, 0.1, np.float32)
        p[n % 4] = 0.7
        progress(Step(index=n, epsilon=2e-4, score=0.0, probabilities=p, l2=0.5, linf=0.1, flipped=False, phase=phase))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("a.png: step 1/200  class1 70.0 %")
    assert lines[1].startswith("a.png: step 2 (past the flip)  class2 70.0 %")  # the budget bounds the search only
    assert lines[2].startswith("a.png: step 3 (flip-back: detail put back)  class3")
    assert lines[3].startswith("a.png: step 4 (8-bit pass)  class0")  # the window's plot and read-out name
    rec = {"flipped": True, "steps": 19, "l2": 22.779, "l2_saved": 22.8,  # the saved change's L2, as the figure
           "original": {"label": "Egyptian cat", "probability": 0.79}, "final": {"label": "tiger cat", "probability": 0.385},
           "key_pixels": {"count": 0, "fraction": 0.0},
           "key_region": {"fraction": 0.449, "components": 7, "flips": True, "prediction": {"label": "fox squirrel"}}}
    text = cli._outcome_text(SimpleNamespace(record=rec, written=[Path("out/a.png")]))
    assert text == ("Egyptian cat 79.0 % → tiger cat 38.5 % in 19 steps, L2 22.800, key region 45 % of the image "
                    "(7 areas; no small region flips it) alone → fox squirrel; wrote 1 files to out")
    # with the flip step recorded, the line says where it flipped, as the app's progress bar does
    text = cli._outcome_text(SimpleNamespace(record={**rec, "flip_step": 3}, written=[Path("out/a.png")]))
    assert text.startswith("Egyptian cat 79.0 % → tiger cat 38.5 %, flipped at step 3 (19 steps in all), L2 22.800")
    # not "→ tiger cat 38.5 % at step 3": 38.5 % is the saved image's, and at step 3 another class may lead
    assert "38.5 % at step" not in text
    # one blob: no "(1 areas)"; like the app's sentence, the count is named only when there are several
    one = {**rec, "key_region": {**rec["key_region"], "components": 1}}
    text = cli._outcome_text(SimpleNamespace(record=one, written=[Path("out/a.png")]))
    assert "key region 45 % of the image (no small region flips it) alone → fox squirrel;" in text and "areas" not in text
    # a group run names the group it flipped with its sum, then its top class, as the figure's title does
    group = {**rec, "explained": {"name": "cat", "indices": [281, 282, 283, 284, 285], "probability": 0.9721}}
    text = cli._outcome_text(SimpleNamespace(record=group, written=[Path("out/a.png")]))
    assert text.startswith("any cat (97.2 %; Egyptian cat 79.0 %) → tiger cat 38.5 % in 19 steps")
    older = {**rec, "explained": {"name": "cat", "indices": [281, 282, 283, 284, 285]}}  # a record without the sum
    text = cli._outcome_text(SimpleNamespace(record=older, written=[Path("out/a.png")]))
    assert text.startswith("any cat (Egyptian cat 79.0 %) → tiger cat 38.5 % in 19 steps")
    one = {**rec, "explained": {"name": "Egyptian cat", "indices": [285]}}
    assert cli._outcome_text(SimpleNamespace(record=one, written=[Path("out/a.png")])).startswith("Egyptian cat 79.0 % →")
    # a key region over most of the image: no small region flips it (hatched in the figure), blobs not counted
    most = {**rec, "key_region": {**rec["key_region"], "fraction": 0.781, "components": 3}}
    text = cli._outcome_text(SimpleNamespace(record=most, written=[Path("out/a.png")]))
    assert "key region 78 % of the image (most of it: no small region flips it) alone → fox squirrel;" in text
    # the share as the sentence and the figure's caption write it: an 18-pixel region was "0.0 % of the image"
    tiny = {**rec, "key_region": {**rec["key_region"], "fraction": 0.000454, "components": 1}}
    text = cli._outcome_text(SimpleNamespace(record=tiny, written=[Path("out/a.png")]))
    assert "key region 0.05 % of the image alone → fox squirrel;" in text
    sure = {**rec, "original": {"label": "yurt", "probability": 0.9997}}  # not "yurt 100.0 %": it is not certain
    assert cli._outcome_text(SimpleNamespace(record=sure, written=[Path("out/a.png")])).startswith("yurt 99.9 % → tiger cat 38.5 %")


@pytest.mark.parametrize("args, field, value", [
    (["--max-pixels", "200e6"], "max_pixels", 200_000_000),  # as --help writes the default
    (["--max-side", "1e3"], "max_side", 1000),
    (["--input-size", "28"], "input_size", [28, 28]),
    (["--input-size", "24x32"], "input_size", [24, 32]),
])
def test_numbers_are_read_as_the_help_writes_them(args, field, value):
    ns = cli.build_parser().parse_args(["explain", "a.png", *args])
    assert getattr(ns, field) == value


@pytest.mark.parametrize("args, words", [
    (["--std", "nan"], "expected finite numbers"),  # used to fail later as "the model produced non-finite outputs"
    (["--mean", "0.5,inf"], "expected finite numbers"),
    (["--input-size", "10x"], "expected a size like 224"),  # used to be read as 10×10
    (["--max-pixels", "1.5"], "expected a whole number of at least 1"),
    (["--max-steps", "0"], "expected a whole number of at least 1"),
    (["--max-side", "100000"], "at most 4096 px (the working-size limit)"),  # ran until memory ran out
    (["--max-side", "0"], "expected a whole number of at least 1"),
])
def test_bad_numbers_are_one_line_before_anything_runs(args, words, capsys):
    with pytest.raises(SystemExit) as ended:
        cli.build_parser().parse_args(["explain", "a.png", *args])
    assert ended.value.code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert words in line


def test_classify_goes_on_past_an_image_the_model_fails_on_and_names_it(tmp_path, capsys, monkeypatch):
    """A model that gives NaN (or raises) for one image only: that image is one error line naming it, the
    other images are still classified, exit 2 (it stopped at the failing image, unnamed: "… for this image")."""
    tiny = make_tiny()
    real = tiny.classify

    def classify(pixels, k=5):
        if pixels.mean() < 0.2:  # the dark photo
            raise ModelError("the model produced non-finite outputs (NaN or infinity) for this image")
        return real(pixels, k=k)

    monkeypatch.setattr(tiny, "classify", classify)
    monkeypatch.setattr(cli, "_load_model", lambda args: tiny)
    bright, after = _png(tmp_path / "a_bright.png"), _png(tmp_path / "c_after.png", seed=3)
    dark = tmp_path / "b_dark.png"
    Image.fromarray(np.full((24, 32, 3), 10, np.uint8)).save(dark)
    assert cli.main(["classify", str(bright), str(dark), str(after), "--json"]) == cli.EXIT_BAD_INPUT
    captured = capsys.readouterr()
    line = _one_error_line(captured.err)
    assert "b_dark.png" in line and "non-finite" in line
    assert [Path(o["image"]).name for o in json.loads(captured.out)] == ["a_bright.png", "c_after.png"]


@pytest.mark.parametrize("argv", [
    ["classify", ""],
    ["explain", "", "--out", "OUT"],
    ["explain", "IMG", "--out", ""],
    ["explain", "IMG", "--out", "OUT", "--model", ""],
    ["classify", "IMG", "--labels", " "],
    ["classify", "IMG", "--arch", ""],
    ["classify", "IMG", "--device", ""],
    ["explain", "IMG", "--out", "OUT", "--ray", ""],
])
def test_an_empty_path_or_name_is_refused_not_read_as_the_current_folder_or_the_default(
        argv, tiny_cli, tmp_path, capsys, monkeypatch):
    """`gradflip explain "$IMG" --out "$OUT"` with a variable unset: IMAGE '' explained every image in the
    current folder, --out '' wrote the result sets there, --model '' ran the default model, --labels ''
    dropped the labels. Each is one usage line, exit 2, before anything runs."""
    monkeypatch.chdir(tmp_path)
    _png(tmp_path / "img.png")
    _png(tmp_path / "other.png", seed=2)
    argv = [str(tmp_path / "img.png") if a == "IMG" else a for a in argv]
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # a usage error: argparse exits
        code = exc.code
    assert code == cli.EXIT_BAD_INPUT
    line = _one_error_line(capsys.readouterr().err)
    assert "empty value" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img.png", "other.png"]  # nothing written


@pytest.mark.skipif(sys.platform == "win32", reason="file descriptors 0-2 closed at start: POSIX")
@pytest.mark.parametrize("close", ["stderr closed", "stderr read-only"])
def test_explain_with_stderr_closed_still_writes_its_results(tmp_path, close):
    """`gradflip explain photo.png --json 2>&-` (a launcher or scheduler that closes stderr): sys.stderr was None and
    the first progress line failed the run (an internal error printed on stdout instead of the JSON, exit 3); under a
    wrapper script fd 2 is that script, open read-only, and every explanation failed with EBADF (exit 1, nothing
    written, no message). The program now puts /dev/null there: the set is written and stdout is the JSON."""
    import os
    import subprocess

    img = _png(tmp_path / "a.png")
    out = tmp_path / "out"
    code = TINY_CLI_CODE

    def no_stderr():
        os.close(2)
        if close == "stderr read-only":  # what a wrapper script (pyenv's shim) leaves there: a file opened to read
            os.open(__file__, os.O_RDONLY)

    proc = subprocess.run([sys.executable, "-c", code, "explain", str(img), "--out", str(out), "--json",
                           "--no-key-pixels", "--max-steps", "5"],
                          stdout=subprocess.PIPE, text=True, timeout=120, preexec_fn=no_stderr)
    assert proc.returncode in (0, 1), proc.stdout
    assert json.loads(proc.stdout)["status"]
    assert (out / "a.gradflip.json").is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("name, status", [("a.png", 0), ("missing.png", 2)])
def test_ctrl_c_as_the_finished_command_exits_prints_no_traceback(tmp_path, name, status):
    """Ctrl+C pressed as a finished run exits (its last line printed; torch's clean-up takes a moment): main had put
    Python's handler back, so the KeyboardInterrupt came out of an exit handler (torch.library's) with a traceback.
    Then the console script left Ctrl+C to end the process as SIGINT ends any program: exit 130 with nothing said,
    which a script reads as a run cut short although its result sets were complete. Now the process ends at once
    with the command's own status, its output flushed, no traceback."""
    import subprocess

    _png(tmp_path / "a.png")
    helpers = str(Path(__file__).resolve().parent)
    code = (
        f"import os, signal, sys, time; sys.path.insert(0, {helpers!r})\n"
        "from helpers import make_tiny\n"
        "from gradflip_desktop import cli\n"
        "cli._load_model = lambda args: make_tiny()\n"
        f"sys.argv = ['gradflip', 'classify', {str(tmp_path / name)!r}]\n"
        "code = cli.main()\n"
        "print('after the command', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C while the interpreter exits\n"
        "time.sleep(5)\n"
        "print('not reached')\n"
        "raise SystemExit(99)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert name in proc.stdout + proc.stderr and "after the command" in proc.stdout
    assert "not reached" not in proc.stdout  # ended at once by the Ctrl+C, with the command's status
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr, proc.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="a folder in use cannot be deleted on Windows")
def test_a_current_folder_deleted_since_the_shell_entered_it_is_one_clear_line(tmp_path):
    """In a folder deleted since the shell entered it, importing torch ended the process with "Intel oneMKL FATAL
    ERROR: Cannot load .../libtorch_cpu.so" (as if the installation were broken): now one line says what is wrong."""
    import subprocess

    img = _png(tmp_path / "a.png")
    code = (
        "import os, sys\n"
        f"gone = {str(tmp_path / 'gone')!r}; os.mkdir(gone); os.chdir(gone); os.rmdir(gone)\n"
        "from gradflip_desktop import cli\n"
        f"raise SystemExit(cli.main(['classify', {str(img)!r}]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(Path(cli.__file__).resolve().parents[1])  # '' on sys.path is the deleted folder
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == cli.EXIT_BAD_INPUT
    assert proc.stderr == ("gradflip: error: the current folder no longer exists (deleted since the shell entered "
                           "it): cd to a folder that exists, then run it again\n")


def test_a_name_the_output_encoding_lacks_is_escaped_not_a_failed_command(tmp_path):
    """stdout in Latin-1 or ASCII (an old terminal's locale, PYTHONIOENCODING, Windows' ANSI code page when the output
    is redirected): `gradflip classify 猫.png` failed with "'latin-1' codec can't encode character '\\u732b'", exit 2
    and nothing printed. The name is written with a backslash escape and the command succeeds."""
    import subprocess

    try:
        img = _png(tmp_path / "猫.png")
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses the name")
    code = TINY_CLI_CODE
    env = dict(os.environ, PYTHONIOENCODING="latin-1")
    for extra in ([], ["--json"]):
        proc = subprocess.run([sys.executable, "-c", code, "classify", str(img), *extra], capture_output=True,
                              timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr
        assert b"\\u732b.png" in proc.stdout
    assert json.loads(proc.stdout.decode("latin-1"))["image"].endswith("猫.png")  # \u732b is JSON's own escape


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full: Linux")
def test_output_to_a_full_device_is_one_clear_line_not_an_internal_error(tmp_path):
    """`gradflip classify photo.png --json > /dev/full` said "internal error: OSError: [Errno 28] No space left on
    device (please report this)", exit 3: not a bug, a place that cannot take the output."""
    import subprocess

    img = _png(tmp_path / "a.png")
    code = TINY_CLI_CODE
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-c", code, "classify", str(img), "--json"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == cli.EXIT_BAD_INPUT, proc.stderr
    assert "gradflip: error: cannot write the output: No space left on device" in proc.stderr
    assert "internal error" not in proc.stderr


@pytest.mark.parametrize("encoding,name", [("latin-1", "cat🐱.png"), ("ascii", "café.png")])
def test_json_stays_valid_for_names_the_output_encoding_lacks_beyond_the_bmp_or_ascii(tmp_path, encoding, name):
    """docs/robustness.md: with a narrow stdout encoding "--json stays valid". backslashreplace writes 🐱 as
    \\U0001f431 and, on an ASCII stdout, é as \\xe9: neither is a JSON escape (json.loads: "Invalid \\escape")."""
    import subprocess

    try:
        img = _png(tmp_path / name)
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses the name")
    code = TINY_CLI_CODE
    env = dict(os.environ, PYTHONIOENCODING=encoding)
    proc = subprocess.run([sys.executable, "-c", code, "classify", str(img), "--json"], capture_output=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.decode(encoding))["image"].endswith(name)


def test_an_ignored_ctrl_c_stays_ignored_after_the_command(monkeypatch, capsys):
    """`gradflip explain ... &` in a script or under nohup starts with SIGINT ignored (_stop_on_signals keeps it so);
    the console script's exit put SIG_DFL there, so a Ctrl+C meant for the foreground job killed it while it exited
    (status 130 after its work was done)."""
    import signal

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        monkeypatch.setattr(sys, "argv", ["gradflip", "--version"])
        try:
            cli.main()  # argv None: as the console script
        except SystemExit:
            pass
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_progress_written_to_a_log_is_a_line_per_phase_and_second_not_per_step(capsys, monkeypatch):
    """Written to a file or a pipe, a single image's progress was one line per step and key-region pass (200+
    lines for a run out of steps). Now: the first line of each phase, then at most one a second."""
    from gradflip_desktop.core.results import Progress, Step

    clock = [100.0]
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock[0])
    progress = cli._Progress("a.png", 200, quiet=False, label=lambda i: f"class{i}")
    assert not progress.tty  # pytest's captured stderr is not a terminal
    p = np.array([0.7, 0.1, 0.1, 0.1], np.float32)

    def step(n, phase):
        clock[0] += 0.0625  # exact in binary
        progress(Step(index=n, epsilon=2e-4, score=0.0, probabilities=p, l2=0.5, linf=0.1, flipped=False, phase=phase))

    for n in range(1, 41):  # 2.5 s of search steps: the first line, then one a second
        step(n, "search")
    for n in range(41, 44):
        step(n, "restore")
    for k in range(1, 30):
        clock[0] += 0.015625
        progress(Progress(phase="key_region", passes=k))
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "a.png: step 1/200", "a.png: step 17/200", "a.png: step 33/200", "a.png: step 41 (flip-back: detail put back)",
        "a.png: finding the key region: pass 1"]


def test_the_result_line_names_the_set_when_it_is_not_the_files_own_name(tmp_path):
    """Two photos named cat.png: the second's set is cat_png.*, and the line only said "wrote 8 files to out"."""
    from gradflip_desktop.cli import _outcome_text
    from gradflip_desktop.core.dataset.inputs import Input

    class Outcome:
        record = {"flipped": False, "status": "stalled", "message": "no flip"}

        def __init__(self, name):
            self.input = Input(tmp_path / "b" / "cat.png", name)
            self.written = [tmp_path / "out" / f"{name}.gradflip.json"]

    assert _outcome_text(Outcome("cat_png")).endswith(f"wrote 1 files (cat_png.*) to {tmp_path / 'out'}")
    assert _outcome_text(Outcome("cat")).endswith(f"wrote 1 files to {tmp_path / 'out'}")


def test_the_result_line_names_the_files_as_written_for_odd_names(tmp_path):
    """"   .png" wrote _png.* but the line said "(   _png.*)"; a non-UTF-8 name's line showed "\\udcff\\udcfe_png.*"
    for ___png.*; a name of spaces wrote image.* and the line named no set at all."""
    from gradflip_desktop.cli import _outcome_text
    from gradflip_desktop.core.dataset.inputs import Input
    from gradflip_desktop.core.report import safe_name

    class Outcome:
        record = {"flipped": False, "status": "stalled", "message": "no flip"}

        def __init__(self, file, name):
            self.input = Input(tmp_path / file, name)
            self.written = [tmp_path / "out" / f"{safe_name(name)}.gradflip.json"]

    bad = "\udcff\udcfe"  # os.fsdecode(b"\xff\xfe")
    assert _outcome_text(Outcome("   .png", "   _png")).endswith(f"wrote 1 files (_png.*) to {tmp_path / 'out'}")
    assert _outcome_text(Outcome(bad + ".png", bad + "_png")).endswith(f"wrote 1 files (___png.*) to {tmp_path / 'out'}")
    assert _outcome_text(Outcome("   ", "   ")).endswith(f"wrote 1 files (image.*) to {tmp_path / 'out'}")
    assert _outcome_text(Outcome("cat.png", "cat")).endswith(f"wrote 1 files to {tmp_path / 'out'}")


def test_a_flip_inside_a_class_group_gets_the_apps_any_group_hint():
    # the app offers "Explain 'any cat'" when Egyptian cat flips to tiger cat; the CLI said nothing
    from types import SimpleNamespace

    from gradflip_desktop.cli_values import group_hint

    clf = SimpleNamespace(groups={"cat": [281, 282, 285], "big cat": [286, 287, 288]})
    rec = {"flipped": True, "target": None, "explained": {"indices": [285], "name": "Egyptian cat"},
           "original": {"index": 285, "label": "Egyptian cat"}, "final": {"index": 282, "label": "tiger cat"}}
    hint = group_hint(clf, rec)
    assert "--group cat explains \"any cat\"" in hint and "Egyptian cat and tiger cat" in hint
    assert '--group "big cat"' in group_hint(clf, {**rec, "original": {"index": 286, "label": "cougar"},
                                                   "final": {"index": 288, "label": "lynx"}})
    assert group_hint(clf, {**rec, "final": {"index": 286, "label": "cougar"}}) == ""  # left the group
    assert group_hint(clf, {**rec, "flipped": False}) == ""
    assert group_hint(clf, {**rec, "target": {"index": 282}}) == ""  # a chosen target
    assert group_hint(clf, {**rec, "explained": {"indices": [281, 282, 285], "name": "cat"}}) == ""  # already a group
    assert group_hint(None, rec) == "" and group_hint(SimpleNamespace(groups={}), rec) == ""
    # a model that hardly tells its classes apart (a random-weights one: every class near 0.1 %) got the hint after the
    # note that its flip says little; the group's flip says no more
    assert group_hint(clf, {**rec, "original_range": [0.0008, 0.0012]}) == ""
    assert "--group cat" in group_hint(clf, {**rec, "original_range": [0.0, 0.79]})
    # a user's group name is written so that a shell passes it as typed, and worded as the app words it
    import shlex

    for name in ("dog's", "a&b", "-odd", "classes 281-285"):
        hint = group_hint(SimpleNamespace(groups={name: [282, 285]}), rec)
        command = hint.rsplit(": ", 1)[1].split(" explains ")[0]
        assert shlex.split(command)[-1] in (name, f"--group={name}"), (name, command)
    assert '"any of classes 281-285"' in hint


def test_the_progress_line_on_a_terminal_fits_its_width(capsys, monkeypatch):
    # "\r" rewrites only the last row of a wrapped line: at 100 columns the flip-back lines (99-101 characters)
    # left a stale row per step, and at 80 columns every line did (padded to 90)
    import os

    from gradflip_desktop.cli import _Progress
    from gradflip_desktop.core.results import Step

    p = np.array([0.2, 0.7, 0.1], np.float32)
    for cols in (80, 100, 200):
        monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=(80, 24), c=cols: os.terminal_size((c, 24)))
        progress = _Progress("a_rather_long_photo_name.png", 200, False, lambda i: "a long class name, with more")
        progress.tty = True
        for phase in ("search", "restore"):
            progress(Step(index=13, epsilon=2e-4, score=0.0, probabilities=p, l2=12.345, linf=0.1, flipped=False, phase=phase))
        writes = capsys.readouterr().err.split("\r")[1:]
        assert writes and all(len(w) < cols for w in writes), (cols, [len(w) for w in writes])


def test_a_mistyped_command_is_named_with_the_command_meant(capsys, tmp_path, monkeypatch):
    """`gradflip explian photo.jpg` said "give at most one image"; `gradflip clasify` opened the window on a photo
    that does not exist. A file of that name is still a photo to open."""
    from gradflip_desktop import app

    monkeypatch.chdir(tmp_path)
    for argv, meant in ((["explian", "photo.jpg"], "explain"), (["clasify"], "classify"), (["chek", "out"], "check")):
        assert app.main(argv) == 2
        assert capsys.readouterr().err.strip() == (
            f"gradflip: unknown command {argv[0]!r}: did you mean 'gradflip {meant}'? (gradflip --help)")
    (tmp_path / "chek").mkdir()
    assert app._mistyped_command("chek") is None and app._mistyped_command("sunset") is None


def _flat_tiny():
    """The tiny model with its last layer scaled down: every class within a fraction of a point of the others, as a
    random-weights model gives them."""
    from helpers import TinyNet

    clf = make_tiny()
    net = next(m for m in clf.module.modules() if isinstance(m, TinyNet))
    with torch.no_grad():
        net.fc.weight.mul_(0.005)
        net.fc.bias.mul_(0.005)
    return clf


def test_a_model_that_hardly_tells_the_classes_apart_is_said_so_on_the_command_line(tmp_path, capsys, monkeypatch):
    """The app's sentence (and the figure's) says "every class is between 24.9 % and 25.1 %: the model hardly tells
    them apart on this photo"; `gradflip explain` said only "class1 25.1 % → class3 25.0 %". One note line now,
    with the sentence's words, from the record's ``original_range``: also for a set --resume keeps, and with -q."""
    from gradflip_desktop.core.summary import hardly_apart

    monkeypatch.setattr(cli, "_load_model", lambda args: _flat_tiny())
    img = _png(tmp_path / "a.png")
    argv = ["explain", str(img), "--out", str(tmp_path / "o"), "--style", "free", "--no-key-pixels"]
    cli.main(argv)
    err = capsys.readouterr().err
    rec = json.loads((tmp_path / "o" / "a.gradflip.json").read_text("utf-8"))
    low, high = rec["original_range"]
    assert high - low < 0.01 and rec["original"]["probability"] == pytest.approx(high, abs=1e-6)
    notes = [line for line in err.splitlines() if "hardly tells" in line]
    assert notes == [f"gradflip: note: a.png: {hardly_apart(rec['original_range'])}"], err
    assert notes[0].startswith("gradflip: note: a.png: every class is between ") and notes[0].endswith(
        ": the model hardly tells them apart on this photo")
    assert err.splitlines()[-1] == notes[0]  # after the result line it qualifies
    cli.main([*argv, "--resume", "-q"])
    assert [line for line in capsys.readouterr().err.splitlines() if "hardly tells" in line] == notes
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())  # a model that tells its classes apart
    cli.main(["explain", str(img), "--out", str(tmp_path / "t"), "--style", "free", "--no-key-pixels"])
    assert "hardly tells" not in capsys.readouterr().err


def test_resume_keeps_the_sets_made_with_the_same_weights_under_another_file_name(tmp_path, capsys, monkeypatch):
    """`explain DIR --resume --model "ft copy.pth"` (a copy of the run's ft.pth) refused every set: "made with other
    settings (model … ft.pth, not … ft copy.pth; model file ft.pth, not ft copy.pth)". The record's SHA-256 of the
    weights file tells the same weights: the sets are kept. Other weights in a file of the run's name are not."""
    from dataclasses import replace

    def tiny_from(path):  # the tiny model as if loaded from the weights file at path
        return replace(make_tiny(), source=str(path), name=f"tiny ({path.name})", warnings=[])

    weights, copy = tmp_path / "ft.pth", tmp_path / "ft copy.pth"
    weights.write_bytes(b"the run's weights")
    copy.write_bytes(weights.read_bytes())
    photos = tmp_path / "photos"
    for i in range(2):
        _png(photos / f"p{i}.png", seed=i)
    argv = ["explain", str(photos), "--out", str(tmp_path / "out"), "--style", "free", "--no-key-pixels"]
    monkeypatch.setattr(cli, "_load_model", lambda args: tiny_from(weights))
    assert cli.main(argv) == 0
    capsys.readouterr()
    records = sorted((tmp_path / "out").glob("*.gradflip.json"))
    written = [p.stat().st_mtime_ns for p in records]
    monkeypatch.setattr(cli, "_load_model", lambda args: tiny_from(copy))
    assert cli.main([*argv, "--resume"]) == 0
    err = capsys.readouterr().err
    assert err.count("(kept)") == 2 and "error" not in err, err
    assert [p.stat().st_mtime_ns for p in records] == written
    weights.write_bytes(b"weights trained again")  # other weights, under the run's own file name
    monkeypatch.setattr(cli, "_load_model", lambda args: tiny_from(weights))
    assert cli.main([*argv, "--resume"]) == 2
    assert "model file sha256 " in capsys.readouterr().err


def test_extreme_sizes_work_and_say_what_they_did(tmp_path, capsys, monkeypatch):
    """`--coarse 64` on a small photo, `--input-size 1`, `--max-side 1`: each runs and a note says what the
    setting did, never a traceback. --coarse 64 on a 32 x 24 photo made the change one block over the whole photo
    (the region style: one mask cell, "stalled: every pixel the gradient points at is already at its limit") and
    nothing said so; a 1 x 1 input sees every photo as one pixel, and classify printed its top-5 silently."""
    from gradflip_desktop.core import models

    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    img = _png(tmp_path / "a.png")  # 32 x 24
    for style, note in (("free", "gradflip: note: a.png: --coarse 64 is at least the 32×24 px working image: the "
                                 "change is one block, the same over the whole photo (a factor under 32 keeps more "
                                 "than one)"),
                        ("region", "gradflip: note: a.png: --coarse 64 averages the key region's mask (14×10 cells) "
                                   "into one cell: the search removes detail evenly over the whole photo and tells no "
                                   "region apart; the map shows the model's feature regions alone, where it has them, and "
                                   "the key region comes from those or from windows tried alone (a factor under 14 keeps "
                                   "more than one)")):
        code = cli.main(["explain", str(img), "--out", str(tmp_path / style), "--style", style, "--coarse", "64", "-q"])
        err = capsys.readouterr().err
        assert code in (0, 1) and "Traceback" not in err and err.strip().splitlines() == [note], err
    cli.main(["explain", str(img), "--out", str(tmp_path / "c13"), "--coarse", "13", "-q"])  # two cells: no note
    assert "--coarse" not in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.setattr(models, "load_classifier", lambda *a, **k: make_tiny(size=1))  # what --input-size 1 loads
    assert cli.main(["classify", str(img), "--top", "1"]) == 0
    out = capsys.readouterr()
    assert out.err.strip() == ("gradflip: note: the model's input is 1×1 px: every photo reaches it as one pixel (about "
                               "its mean colour), so its answers say little about what a photo shows") and "class" in out.out
    monkeypatch.setattr(models, "load_classifier", lambda *a, **k: make_tiny(size=8))
    assert cli.main(["classify", str(img), "--top", "1"]) == 0 and capsys.readouterr().err == ""
    monkeypatch.setattr(models, "load_classifier", lambda *a, **k: make_tiny())
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "m1"), "--max-side", "1", "-q"])
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err, err
    # one note says the reduction and what it costs (`--max-side 224` printed a "scaled from" note beside it)
    assert err.strip().splitlines() == [
        "gradflip: note: a.png: the model enlarges it 16× along a side to see its 16×16 input after the working "
        "size reduced it from 32×24 to 1×1: a larger working size (the app's Working size, --max-side) keeps detail "
        "the model would see"], err
    record = json.loads((tmp_path / "m1" / "a.gradflip.json").read_text())  # the record keeps both notes
    assert any(n.startswith("scaled from 32×24 to 1×1 (working size 1 px)") for n in record["image"]["warnings"])


def test_a_value_that_starts_with_a_dash_and_a_digit_is_a_value(tmp_path, capsys):
    """`--std -1,1,1` (or `--mean -0.5,0,0`, `--epsilon -1e-3`) was argparse's "argument --std: expected one
    argument": only plain numbers like -1 pass as values. A value-taking option followed by what can only be a
    number is given it (its own check then says what is wrong); another value that starts with '-' gets the way
    to write it."""
    args = cli.build_parser().parse_args(["explain", "--std", "-1,1,1", "--mean", "-0.5,0,0", "--epsilon", "-1e-3",
                                          "--blur-sigma", "-.5", "-o", "out", "--", "-1.png", "--std", "-2"])
    assert (args.std, args.mean, args.epsilon, args.blur_sigma) == ([-1, 1, 1], [-0.5, 0, 0], -1e-3, -0.5)
    assert args.images == ["-1.png", "--std", "-2"] and args.out == "out"  # after "--": names as they are
    img = _png(tmp_path / "a.png")
    assert cli.main(["explain", str(img), "--epsilon", "-1e-3", "-q", "--out", str(tmp_path / "o")]) == 2
    assert _one_error_line(capsys.readouterr().err) == "gradflip: error: --epsilon must be in [1e-07, 0.25], not -0.001"
    for given, said in ((["--out", "-x"], "argument --out/-o: expected one argument; a value that starts with '-' "
                                          "is written --out=-x"),
                        (["--out", "-q"], "argument --out/-o: expected one argument (see"),  # an option: no hint
                        (["--out"], "argument --out/-o: expected one argument (see")):
        with pytest.raises(SystemExit) as info:
            cli.main(["explain", str(img), *given])
        assert info.value.code == 2 and said in _one_error_line(capsys.readouterr().err)


def test_a_file_named_like_an_option_gets_the_way_to_name_it(tmp_path, capsys, monkeypatch):
    """`gradflip classify -dash.png` (the file exists) said only "the following arguments are required: IMAGE"."""
    monkeypatch.chdir(tmp_path)
    _png(tmp_path / "-dash.png")
    _png(tmp_path / "a.png")
    hint = "a file whose name starts with '-' is written ./-dash.png (or after --)"
    for argv, said in ((["classify", "-dash.png"], "the following arguments are required: IMAGE; " + hint),
                       (["classify", "a.png", "-dash.png"], "unrecognized arguments: -dash.png; " + hint),
                       (["classify", "-nothere.png"], "the following arguments are required: IMAGE (see")):  # no file
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2 and said in _one_error_line(capsys.readouterr().err)
    assert cli.main(["classify", "./-dash.png"]) == 0 and cli.main(["classify", "--", "-dash.png"]) == 0


def test_a_file_named_like_a_short_option_and_its_value_gets_the_way_to_name_it(tmp_path, capsys, monkeypatch):
    """`-kdash.png` is read as ``-k dash.png`` and `-qx.png` as ``-q x.png``: argparse's own complaint about the
    value came without the hint the file's name needs."""
    monkeypatch.chdir(tmp_path)
    for name, argv, said in (("-kdash.png", ["classify", "-kdash.png"], "argument -k/--top: "),
                             ("-qx.png", ["explain", "-qx.png"], "argument --quiet/-q: ")):
        _png(tmp_path / name)
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        line = _one_error_line(capsys.readouterr().err)
        assert info.value.code == 2 and said in line
        assert f"; a file whose name starts with '-' is written ./{name} (or after --)" in line
    # a file after "--" is named as it must be: another mistake keeps its own hint (it got the file's instead)
    _png(tmp_path / "-dash.png")
    with pytest.raises(SystemExit):
        cli.main(["explain", "--style", "fre", "--", "-dash.png"])
    line = _one_error_line(capsys.readouterr().err)
    assert "did you mean 'free'?" in line and "starts with '-'" not in line

def test_out_dash_is_refused_before_anything_is_made(tmp_path, capsys, monkeypatch):
    """``--out -`` made a folder named "-" (before any photo loaded) and wrote the sets into it: a result set is
    several files, never standard output; refused in one line, nothing made."""
    from gradflip_desktop import cli

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["explain", "missing.png", "--out", "-"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --out/-o: '-' (standard output): a result set is several files" in err
    assert list(tmp_path.iterdir()) == []


def test_names_after_the_options_join_the_image_list(tmp_path, capsys):
    """``explain a.png -o out b.png`` and ``explain a.png -o out -- -1.png`` were argparse's "unrecognized arguments":
    a list positional is filled once, at its first place. Names left over after the options join it; a leftover
    option stays an error."""
    parse = cli.build_parser().parse_args
    assert parse(["explain", "a.png", "-o", "out", "b.png", "c.png"]).images == ["a.png", "b.png", "c.png"]
    args = parse(["explain", "a.png", "-o", "out", "--", "-1.png", "--std"])
    assert args.images == ["a.png", "-1.png", "--std"] and args.out == "out"
    assert parse(["classify", "a.png", "--top", "2", "b.png"]).images == ["a.png", "b.png"]
    assert parse(["check", "o1", "--json", "o2"]).results == ["o1", "o2"]
    for extra in (["b.png", "--bogus"], ["--bogus", "b.png"]):  # an unknown option is not taken for a name
        with pytest.raises(SystemExit) as info:
            cli.main(["explain", "a.png", "-o", "out", *extra])
        line = _one_error_line(capsys.readouterr().err)
        assert info.value.code == 2 and "unrecognized arguments: --bogus" in line and "b.png" not in line
    with pytest.raises(SystemExit):
        parse(["models", "x.png"])  # no list to join: still refused


def test_a_name_after_the_options_is_explained_too(tiny_cli, tmp_path, capsys):
    a, b = _png(tmp_path / "a.png", seed=1), _png(tmp_path / "-b.png", seed=2)
    out = tmp_path / "out"
    code = cli.main(["explain", str(a), "-o", str(out), "-q", "--no-key-pixels", "--", str(b)])
    assert code in (0, 1) and "error" not in capsys.readouterr().err
    assert (out / "a.gradflip.json").is_file() and len(list(out.glob("*-b.gradflip.json"))) == 1


def test_a_mistyped_choice_gets_the_close_one(capsys):
    """``gradflip-cli explian photo.jpg`` said only "invalid choice … (choose from …)" (``gradflip explian`` asked
    "did you mean"); every choice option alike now: a close choice is named, a far one is not."""
    for given, hint in ((["explian", "x.png"], "; did you mean 'explain'?"),
                        (["explain", "x.png", "--style", "regoin"], "; did you mean 'region'?"),
                        (["explain", "x.png", "--style", "zzz"], None)):
        with pytest.raises(SystemExit) as info:
            cli.main(given)
        line = _one_error_line(capsys.readouterr().err)
        assert info.value.code == 2 and "invalid choice" in line
        assert (hint in line) if hint else "did you mean" not in line


def test_an_image_given_without_a_command_is_told_the_command(tmp_path, capsys, monkeypatch):
    # `gradflip-cli photo.jpg`, as a newcomer types it, said only "invalid choice: 'photo.jpg' (choose from …)"
    monkeypatch.chdir(tmp_path)
    _png(tmp_path / "my photo.png")
    for given, hint in ((["my photo.png"], "; to explain an image: gradflip explain 'my photo.png'"),
                        (["gone.jpg"], "; to explain an image: gradflip explain gone.jpg"),  # a path, even a missing one
                        (["classfy"], "; did you mean 'classify'?")):
        with pytest.raises(SystemExit) as info:
            cli.main(given)
        line = _one_error_line(capsys.readouterr().err)
        assert info.value.code == 2 and hint in line, line


def test_a_model_error_line_says_model_error_not_not_flipped():
    """The command line said "not flipped (model_error): …" while index.html counts the input as an error."""
    from gradflip_desktop.cli import _outcome_text
    from types import SimpleNamespace

    rec = {"status": "model_error", "message": "the model failed during the run: RuntimeError: boom", "flipped": False,
           "original": {"label": "a", "probability": 0.5, "index": 0}, "final": {"label": "a", "probability": 0.5}}
    line = _outcome_text(SimpleNamespace(record=rec, status="model_error", written=[], input=None))
    assert line.startswith("model error: the model failed during the run: RuntimeError: boom"), line


@pytest.mark.parametrize("argv, expected", [
    (["explain", "a.png", "--stlye", "free"], "unrecognized arguments: --stlye; did you mean --style? (see gradflip explain --help)"),
    (["explain", "a.png", "--fill", "mean"], "--fill is an option of gradflip check (see gradflip explain --help)"),
    (["models", "--json"], "--json is an option of gradflip check, classify and explain (see gradflip models --help)"),
    (["check", "out", "--style=free"], "--style is an option of gradflip explain (see gradflip check --help)"),
    (["explain", "a.png", "--zzz"], "unrecognized arguments: --zzz (see gradflip explain --help)"),
])
def test_an_unknown_option_names_its_subcommands_help_and_a_close_or_owning_option(argv, expected, capsys):
    """A helper's CLI audit (session 43): a subcommand's unknown option said "(see gradflip --help)", the window's
    help, which lists none of the options, with no hint; now the subcommand's help, a close option of it, or the
    subcommands that have the option."""
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    line = _one_error_line(capsys.readouterr().err)
    assert info.value.code == 2 and line.endswith(expected), line


@pytest.mark.parametrize("extra, expected", [
    (["--style", "blur", "--blur-sigma", "-1"], "gradflip: error: --blur-sigma must be in (0, 500] px, not -1.0"),
    (["--max-steps", "1e9"], "gradflip: error: --max-steps must be between 1 and 100000, not 1000000000"),
    (["--epsilon", "2"], "gradflip: error: --epsilon must be in [1e-07, 0.25], not 2.0"),
])
def test_an_option_out_of_range_is_named_as_typed(tiny_cli, tmp_path, capsys, extra, expected):
    """A helper's CLI audit (session 43): "blur_sigma must be in (0, 500] px", the API's field name, not the flag."""
    assert cli.main(["explain", str(_png(tmp_path / "a.png")), "--out", str(tmp_path / "o"), *extra]) == 2
    assert _one_error_line(capsys.readouterr().err) == expected


def test_a_run_that_does_not_flip_words_its_status_and_remedy_in_flags(tiny_cli, tmp_path, capsys):
    """"not flipped (budget_exhausted): …; raise the step budget or epsilon": a status code and the window's words."""
    code = cli.main(["explain", str(_png(tmp_path / "a.png")), "--out", str(tmp_path / "o"), "--style", "free",
                     "--mode", "fixed", "--epsilon", "1e-7", "--max-steps", "2", "--no-key-pixels"])
    err = capsys.readouterr().err
    assert code == 1 and "not flipped (budget exhausted): " in err and "raise --max-steps or --epsilon" in err, err
    assert "budget_exhausted" not in err and "step budget or epsilon" not in err


def test_model_file_options_given_for_the_built_in_model_are_named_as_typed(capsys):
    from gradflip_desktop.core.models.registry import load_classifier

    with pytest.raises(Exception) as info:  # (the registry refuses before any weights are read)
        load_classifier(None, labels="x.txt", preprocessing={"mean": [0.5], "input_size": [28, 28]})
    assert cli.error_text(info.value) == ("the model options (--input-size, --labels, --mean) apply to model files only, "
                                          "not to the built-in model 'efficientnet-lite0'; pass --model FILE")


# M02 (positive_int: v > MAX_WHOLE -> v >= MAX_WHOLE) and M05 (working_side: v > WORKING_SIZE_MAX -> >=):
# the largest value each accepts is accepted (limits are inclusive, as their messages say: "from 1 to 10^15", "at most 4096")
@pytest.mark.parametrize("args, field, value", [
    (["--max-pixels", "1e15"], "max_pixels", 10**15),
    (["--max-side", "4096"], "max_side", 4096),
])
def test_the_largest_value_a_limit_allows_is_taken(args, field, value):
    ns = cli.build_parser().parse_args(["explain", "a.png", *args])
    assert getattr(ns, field) == value


# M03 (size: min(vals) < 1 -> < 0): a zero side is refused like any other size that cannot be meant
@pytest.mark.parametrize("args, words", [
    (["--input-size", "0x224"], "expected a size like 224"),
    (["--input-size", "0"], "expected a size like 224"),
])
def test_a_zero_input_size_is_one_line_before_anything_runs(args, words, capsys):
    with pytest.raises(SystemExit) as ended:
        cli.build_parser().parse_args(["explain", "a.png", *args])
    assert ended.value.code == 2
    assert words in _one_error_line(capsys.readouterr().err)


# M07 (option_hint: len(owners) > 1 -> > 2): an option of exactly two other subcommands names both, joined by "and"
def test_an_unknown_option_of_two_other_subcommands_names_both(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["models", "--max-side", "512"])
    line = _one_error_line(capsys.readouterr().err)
    assert info.value.code == 2
    assert line.endswith("--max-side is an option of gradflip classify and explain (see gradflip models --help)"), line
    with pytest.raises(SystemExit):  # of three: the first two joined by a comma
        cli.main(["models", "--recursive"])
    line = _one_error_line(capsys.readouterr().err)
    assert line.endswith("--recursive is an option of gradflip check, classify and explain (see gradflip models --help)"), line


# M11 (check_target_and_group: the --group check skipped): an unknown group is one error line before any photo
def test_group_unknown_is_one_error_line_before_any_photo(tiny_cli, tmp_path, capsys):
    a, b = _png(tmp_path / "a.png"), _png(tmp_path / "b.png", seed=2)
    assert cli.main(["explain", str(a), str(b), "--out", str(tmp_path / "o"), "-q", "--group", "zebra"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "zebra" in line
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
