"""Regression tests for bugs found by black-box QA of the command line and the core API.

The CLI tests run on the tiny model (``_load_model`` monkeypatched), so they take milliseconds.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch
from PIL import Image

from gradflip_desktop import cli
from gradflip_desktop.core import explain as ex
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


@pytest.fixture
def tiny_cli(monkeypatch):
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())


def _one_error_line(err: str) -> None:
    assert "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.startswith("gradflip: error:")]) >= 1


# ---- class groups: a huge index range must not hang / exhaust memory -----------------------------------

def test_group_with_huge_range_is_refused_at_once(tiny):
    t = time.perf_counter()
    with pytest.raises(ModelError, match="outside"):
        tiny.find_group("0-99999999999")
    with pytest.raises(ValueError):
        parse_ranges("0-99999999999")  # no class count known (sidecar files, the Load model dialog)
    assert time.perf_counter() - t < 1.0
    assert parse_ranges("281-285,290") == [281, 282, 283, 284, 285, 290]
    assert tiny.find_group("1-2") == ("classes 1-2", [1, 2])


def test_cli_group_with_huge_range_exits_2(tiny_cli, tmp_path, capsys):
    img = _png(tmp_path / "a.png")
    t = time.perf_counter()
    code = cli.main(["explain", str(img), "--out", str(tmp_path / "out"), "-q", "--group", "0-99999999999"])
    assert code == 2 and time.perf_counter() - t < 5
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
    assert code == 2
    assert "photo" in err and "--force" not in err.split("error:")[-1]
    rec = json.loads((out / "photo.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["source"] == str(a)  # the first set is intact, not replaced by b's


def test_same_image_twice_is_explained_once(tiny_cli, tmp_path, capsys):
    a = _png(tmp_path / "photo.png")
    out = tmp_path / "out"
    code = cli.main(["explain", str(a), str(a), "--out", str(out), "-q", "--json", "--no-key-pixels"])
    io = capsys.readouterr()
    recs = json.loads(io.out)  # stdout is one valid JSON document: a list, as two images were given
    assert isinstance(recs, list) and len(recs) == 1 and recs[0]["format"] == "gradflip-result/1"
    assert code in (0, 1) and "error" not in io.err


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
        cli.main(["explain", "x.png", "--max-steps", "1e3"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "_positive_int" not in err and "whole number" in err


def test_model_file_options_are_not_silently_ignored_for_the_builtin_model(tmp_path, capsys):
    with pytest.raises(ModelError, match="model files"):
        load_classifier(None, labels=str(tmp_path / "nothere.txt"))
    img = _png(tmp_path / "a.png")
    assert cli.main(["classify", str(img), "--input-size", "99999"]) == 2
    assert "model files" in capsys.readouterr().err


def test_empty_image_array_has_a_clear_message(tiny):
    with pytest.raises(ValueError, match="empty"):
        ex.run(tiny, np.zeros((0, 5, 3), np.float32))


# ---- the 8-bit check tests exactly the PNG that is saved -----------------------------------------------

def test_quantize_tensor_rounds_like_the_saved_png():
    x = np.random.default_rng(0).uniform(0, 1, (1, 3, 500, 600)).astype(np.float32)
    got = quantize_tensor(torch.from_numpy(x)).numpy()
    assert np.array_equal(got, quantize(x))  # float32 rounding differed on ~5 values per million


def test_saved_adjusted_png_reclassifies_to_final(tiny, tmp_path, tiny_image):
    from gradflip_desktop.core.report import write_result_set

    res = ex.run(tiny, tiny_image)
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


def test_classify_prints_the_image_notes(tiny_cli, tmp_path, capsys):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 128
    Image.fromarray(rgba).save(tmp_path / "half.png")
    assert cli.main(["classify", str(tmp_path / "half.png")]) == 0
    assert "composited on white" in capsys.readouterr().err


def test_boolean_target_is_refused(tiny, tiny_image):
    with pytest.raises(ModelError, match="index or a label"):
        ex.run(tiny, tiny_image, ExplainOptions(target=True))


def test_empty_model_file_says_so(tmp_path):
    from gradflip_desktop.core.models.files import load_model_file

    (tmp_path / "m.pth").write_bytes(b"")
    with pytest.raises(ModelError, match=r"m\.pth is empty \(0 bytes\)"):
        load_model_file(tmp_path / "m.pth")
