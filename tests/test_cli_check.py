"""``gradflip check``: the deletion and insertion areas of stored result sets' maps, next to Grad-CAM and
gradient saliency (cli_check.py, core/dataset/check.py). On the tiny model: fast."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from gradflip_desktop import cli
from gradflip_desktop.core.dataset.check import CHECK_SUFFIX, CSV_NAME, check_set
from gradflip_desktop.core.faithfulness import check_maps
from gradflip_desktop.core.images import load_image

from helpers import make_tiny


def _png(path, seed):
    rng = np.random.default_rng(seed)
    base = rng.uniform(40, 220, size=(6, 8, 3))
    Image.fromarray(np.kron(base, np.ones((4, 4, 1))).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def results(tmp_path, monkeypatch):
    """Two photos explained by the tiny model into one result folder (the textbook style flips it)."""
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    photos = [_png(tmp_path / f"p{i}.png", seed=i) for i in range(2)]
    out = tmp_path / "out"
    code = cli.main(["explain", *map(str, photos), "--out", str(out), "--style", "free", "--quiet"])
    assert code == 0
    return out, photos


def test_check_measures_each_set_and_writes_its_numbers(results, capsys):
    out, photos = results
    capsys.readouterr()
    assert cli.main(["check", str(out)]) == 0
    io = capsys.readouterr()
    assert "Traceback" not in io.err
    # the table on stdout: medians of the three maps
    assert "faithfulness of 2 result sets" in io.out and "Grad-CAM" in io.out and "Gradient saliency" in io.out
    doc = json.loads((out / f"p0{CHECK_SUFFIX}").read_text(encoding="utf-8"))
    assert [m["name"] for m in doc["maps"]] == ["GradFlip", "Grad-CAM", "Gradient saliency"]
    assert doc["fill"] == "blur" and len(doc["maps"][0]["fractions"]) == 21
    # by default every fill-in (the blur alone flatters GradFlip, whose search removes detail as it does)
    assert [k["fill"] for k in doc["checks"]] == ["blur", "mean", "black"]
    assert [ln for ln in io.out.splitlines() if ln.startswith("faithfulness of")] == [
        f"faithfulness of 2 result sets (21 points, {f} as fill-in; medians)"
        for f in ("the blurred photo", "the mean colour", "black")]
    # the numbers are the core's check of the same maps on the photo as the run loaded it
    rec = json.loads((out / "p0.gradflip.json").read_text(encoding="utf-8"))
    pixels = load_image(photos[0], max_side=max(rec["image"]["working_size"])).pixels
    importance = np.load(out / "p0.importance.npy")
    again = check_maps(make_tiny(), pixels, {"GradFlip": importance}, rec["explained"]["indices"])
    assert doc["maps"][0]["deletion_auc"] == pytest.approx(again.curves[0].deletion_auc, abs=1e-6)
    assert doc["maps"][0]["insertion_auc"] == pytest.approx(again.curves[0].insertion_auc, abs=1e-6)
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert len(rows) == 18 and {r["name"] for r in rows} == {"p0", "p1"} and {r["fill"] for r in rows} == {"blur", "mean", "black"}
    assert float(rows[0]["deletion_auc"]) == pytest.approx(doc["maps"][0]["deletion_auc"], abs=1e-6)
    # one line per set on stderr, which says which number is which curve's
    lines = [ln for ln in io.err.splitlines() if "GradFlip " in ln]
    assert len(lines) == 6 and "p1 (black)" in lines[5]
    assert all(": deletion ↓ / insertion ↑: GradFlip " in ln for ln in lines)


def test_json_output_and_the_mean_fill(results, capsys):
    out, _ = results
    capsys.readouterr()
    assert cli.main(["check", str(out / "p1.gradflip.json"), "--json", "--fill", "mean", "--points", "5", "-q"]) == 0
    io = capsys.readouterr()
    data = json.loads(io.out)
    assert len(data) == 1 and data[0]["name"] == "p1" and data[0]["fill"] == "mean"
    assert all(len(m["deletion"]) == 5 for m in data[0]["maps"]) and io.err == ""


def test_a_set_that_cannot_be_checked_says_why(results, capsys, tmp_path):
    out, photos = results
    rec_path = out / "p0.gradflip.json"
    # the photo changed since the run: never measured against another image
    _png(photos[0], seed=7)
    c = check_set(make_tiny(), rec_path, write=False)
    assert c.check is None and "changed since the run" in c.skipped
    # a run that did not flip has no map to check
    rec = json.loads(rec_path.read_text(encoding="utf-8"))
    rec_path.write_text(json.dumps({**rec, "flipped": False, "status": "budget_exhausted"}), encoding="utf-8")
    c = check_set(make_tiny(), rec_path, write=False)
    assert c.check is None and c.skipped.startswith("the run did not flip (budget exhausted)")
    # another model made it
    rec["model"]["name"] = "Other net"
    rec_path.write_text(json.dumps(rec), encoding="utf-8")
    c = check_set(make_tiny(), rec_path, write=False)
    assert c.check is None and "made with model Other net, not tiny" in c.skipped
    # the photo is gone
    photos[1].unlink()
    capsys.readouterr()
    assert cli.main(["check", str(out / "p1.gradflip.json")]) == 2
    io = capsys.readouterr()
    err = io.err
    assert "skipped" in err and "missing" in err and "Traceback" not in err
    assert io.out == "" and err.count("no result set could be checked") == 1  # said once, on stderr (not also on stdout)
    assert err.count("missing") == 1  # the reason too: its line named it, the error line does not repeat it
    assert not (out / f"p1{CHECK_SUFFIX}").exists()
    # not a result folder: one line, exit 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["check", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"gradflip: error: {empty}: no result sets (.gradflip.json files) in this folder"]


def test_a_hand_edited_set_is_skipped_and_the_others_are_still_checked(results, capsys, monkeypatch):
    """Python's json.dumps writes Infinity; a record with one in its working size or classes, one naming a photo path
    no file system takes, and a stored check holding 10**400 ended the whole check as an internal error (exit 3, no
    faithfulness.csv for the sets already checked), and explain --resume into the folder too. Each such set is
    skipped (or measured again, or explained again) with the reason; the other set is checked."""
    out, photos = results
    rec_path = out / "p0.gradflip.json"
    rec = json.loads(rec_path.read_text(encoding="utf-8"))
    for edit in ({"image": {**rec["image"], "working_size": [float("inf"), 24]}},
                 {"explained": {**rec["explained"], "indices": [float("inf")]}},
                 {"image": {**rec["image"], "source": "x" * 5000 + ".png"}}):
        rec_path.write_text(json.dumps({**rec, **edit}), encoding="utf-8")
        capsys.readouterr()
        assert cli.main(["check", str(out)]) == 2  # a set not checked: a failure
        err = capsys.readouterr().err
        assert "internal error" not in err and "p0: skipped: " in err and "x" * 300 not in err
        assert (out / CSV_NAME).is_file() and (out / f"p1{CHECK_SUFFIX}").is_file()
    assert "File name too long" in err or "cannot be used" in err or "missing" in err
    rec_path.write_text(json.dumps({**rec, "image": {**rec["image"], "working_size": [float("inf"), 24]}}), encoding="utf-8")
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    assert cli.main(["explain", str(photos[0]), "--out", str(out), "--style", "free", "--resume", "--quiet"]) == 0
    assert "its record is damaged (OverflowError: cannot convert float infinity to integer): explained again" in capsys.readouterr().err
    assert json.loads(rec_path.read_text(encoding="utf-8"))["image"]["working_size"] == rec["image"]["working_size"]
    stored = out / f"p1{CHECK_SUFFIX}"  # a stored check edited to hold 10**400: measured again, not a crash
    doc = json.loads(stored.read_text(encoding="utf-8"))
    doc["resume"]["checks"][0]["curves"][0]["deletion"][0] = 10**400  # an int too large for a float
    stored.write_text(json.dumps(doc), encoding="utf-8")
    assert cli.main(["check", str(out), "--resume"]) == 0  # measured again, both sets checked
    assert "internal error" not in capsys.readouterr().err


def test_quiet_check_says_which_sets_it_skipped(results, capsys):
    """`check -q` over two sets, one of them not checkable: it printed the table of one set and exited 0, with no
    word that the other was skipped or why (README: such sets are listed with the reason)."""
    out, photos = results
    photos[1].unlink()
    capsys.readouterr()
    assert cli.main(["check", str(out), "-q"]) == 2  # a set not checked: a failure
    io = capsys.readouterr()
    assert "faithfulness of 1 result set" in io.out
    lines = io.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradflip: skipped 1 of 2 result sets: p1: ") and "missing" in lines[0]


def test_quiet_check_of_sets_none_can_check_still_says_why(results, capsys):
    """`check -q` drops the line per set, which held each skipped set's reason: the one error line then said only
    "no result set could be checked", with nothing to act on (README: sets that cannot be checked are listed with
    the reason)."""
    out, photos = results
    for p in photos:
        p.unlink()
    capsys.readouterr()
    assert cli.main(["check", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gradflip: error: no result set could be checked: p0: ")
    assert "p1: " in err[0] and "missing" in err[0]
    assert cli.main(["check", str(out)]) == 2  # without -q each set has its line, and the last line stays short
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and err[-1] == "gradflip: error: no result set could be checked"


def test_sets_with_nothing_to_check_are_no_failure(results, capsys):
    # README: exit 0 when every set was checked or had nothing to check (no flip, a targeted run); a folder of such
    # sets was "error: no result set could be checked", exit 2
    out, _ = results
    for rec_path in sorted(out.glob("*.gradflip.json")):
        rec = json.loads(rec_path.read_text(encoding="utf-8"))
        rec_path.write_text(json.dumps({**rec, "flipped": False, "status": "budget_exhausted"}), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["check", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gradflip: no result set had a map to check: p0: the run did not flip")
    assert "error" not in err[0]


def _run_in(home, monkeypatch):
    """A free-style run on the tiny model started in ``home`` on its photo p.png (stored as "p.png"); its out folder."""
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    home.mkdir()
    _png(home / "p.png", seed=3)
    monkeypatch.chdir(home)
    assert cli.main(["explain", "p.png", "--out", "out", "--style", "free", "-q"]) == 0
    return home / "out"


def test_a_relative_photo_path_is_found_from_the_run_folder_or_with_photos(tmp_path, monkeypatch, capsys):
    """A run started in the photo's folder stores "p.png"; check run elsewhere says how to find it."""
    home = tmp_path / "home"
    out = _run_in(home, monkeypatch)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli.main(["check", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "p.png is missing (the record names it relative to the folder the run started in" in err
    assert cli.main(["check", str(out), "-q", "--photos", str(home)]) == 0
    assert (out / f"p{CHECK_SUFFIX}").exists()


def test_a_read_only_result_folder_is_measured_and_says_what_it_could_not_write(results, capsys, monkeypatch):
    from gradflip_desktop.core.dataset import check as check_mod

    out, _ = results

    def refuse(path, data, overwrite=False):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("gradflip_desktop.core.images.atomic_write_bytes", refuse)
    capsys.readouterr()
    assert cli.main(["check", str(out)]) == 2  # measured and printed, but nothing kept: not a success (exit 0 before)
    io = capsys.readouterr()
    assert "Traceback" not in io.err and "internal error" not in io.err
    assert "p0.faithfulness.json not written (Permission denied)" in io.err  # the set's note
    assert [line for line in io.err.splitlines() if "error:" in line] == [  # and one line for the folder
        f"gradflip: error: {out}: could not write faithfulness.csv nor p0.faithfulness.json and 1 more "
        "(Permission denied); the numbers printed are not saved"]
    assert "faithfulness of 2 result sets" in io.out
    assert not (out / f"p0{CHECK_SUFFIX}").exists() and check_mod.CSV_NAME == CSV_NAME
    monkeypatch.setattr(check_mod, "write_csv", lambda folder, checks: None)  # the CSV is written, a set's JSON not
    assert cli.main(["check", str(out), "-q"]) == 2  # -q prints no notes: the error line says it
    assert capsys.readouterr().err.splitlines() == [
        f"gradflip: error: {out}: could not write p0.faithfulness.json and 1 more (Permission denied); "
        "their numbers are only printed"]


def test_a_faithfulness_csv_that_cannot_be_written_exits_2_and_keeps_the_sets_json(results, capsys):
    """faithfulness.csv a folder (or the disk full when it is written): it printed an error and exited 0."""
    out, _ = results
    (out / CSV_NAME).mkdir()
    capsys.readouterr()
    assert cli.main(["check", str(out), "-q"]) == 2
    io = capsys.readouterr()
    assert "Traceback" not in io.err
    assert [line for line in io.err.splitlines() if line.startswith("gradflip: error:")] == \
        [f"gradflip: error: {out}: could not write faithfulness.csv (Is a directory); each set's numbers are in its "
         "NAME.faithfulness.json"]
    assert "faithfulness of 2 result sets" in io.out  # the numbers are printed
    assert (out / f"p0{CHECK_SUFFIX}").is_file() and (out / f"p1{CHECK_SUFFIX}").is_file()  # and each set's kept
    assert (out / CSV_NAME).is_dir() and not list((out / CSV_NAME).iterdir())
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


def test_gradflip_check_is_a_command_of_the_app_entry_point(monkeypatch):
    from gradflip_desktop import app

    seen = []
    monkeypatch.setattr(app, "_run_cli", lambda argv: seen.append(argv) or 0)
    assert app.main(["check", "somewhere"]) == 0 and seen == [["check", "somewhere"]]


def test_a_malformed_record_is_skipped_with_a_reason_and_the_others_are_checked(results, capsys):
    """Hand-edited or foreign records in a result folder: each is skipped with its reason; they used to stop
    the whole check with an internal error (exit 3), losing the sets already measured."""
    out, _ = results
    rec = json.loads((out / "p0.gradflip.json").read_text(encoding="utf-8"))
    bad = {"image_text": {**rec, "image": "p0.png"}, "no_original": {**rec, "original": None}, "explained_text": {**rec, "explained": "cat"},
           "class_text": {**rec, "explained": {**rec["explained"], "indices": ["x"]}},
           "class_out_of_range": {**rec, "explained": {**rec["explained"], "indices": [4000]}},
           "size_one": {**rec, "image": {**rec["image"], "working_size": [24]}}}
    for name, doc in {**bad, "model_text": {**rec, "model": "tiny"}}.items():  # an unknown model: measured
        (out / f"{name}.gradflip.json").write_text(json.dumps(doc), encoding="utf-8")
        (out / f"{name}.importance.npy").write_bytes((out / "p0.importance.npy").read_bytes())
    capsys.readouterr()
    assert cli.main(["check", str(out), "--points", "3"]) == 2  # a set not checked: a failure
    io = capsys.readouterr()
    assert "internal error" not in io.err and "Traceback" not in io.err
    assert io.err.count(": skipped: ") == len(bad)
    assert "faithfulness of 3 result sets" in io.out
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert {r["name"] for r in rows} == {"p0", "p1", "model_text"}


def test_a_record_nested_too_deeply_for_the_json_parser_is_skipped_and_resume_explains_it_again(results, capsys):
    """A NAME.gradflip.json holding ``[[[…`` 100,000 deep (a broken or hostile file): json.loads raised
    RecursionError, which no reader caught, so `gradflip check` and `explain --resume` ended as an internal
    error (exit 3). The set is skipped with its reason; --resume treats it as an incomplete set."""
    out, photos = results
    deep = "[" * 100_000 + "]" * 100_000
    (out / "deep.gradflip.json").write_text(deep, encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["check", str(out), "--points", "3"]) == 2  # a set not checked: a failure
    err = capsys.readouterr().err
    assert "internal error" not in err and "deep: skipped: its record cannot be read" in err
    (out / "p0.gradflip.json").write_text(deep, encoding="utf-8")
    assert cli.main(["explain", str(photos[0]), "--out", str(out), "--style", "free", "--quiet", "--resume"]) == 0
    assert "internal error" not in capsys.readouterr().err
    assert json.loads((out / "p0.gradflip.json").read_text(encoding="utf-8"))["flipped"]


def test_a_map_with_nan_or_complex_values_is_skipped_not_scored(results, capsys):
    """A damaged or edited NAME.importance.npy (NaN, or complex numbers) was scored as GradFlip's map: NaN ranked
    anyhow (its numbers went into faithfulness.csv as the map's), complex with numpy's ComplexWarning on stderr."""
    out, _ = results
    good = np.load(out / "p0.importance.npy")
    for name, bad in (("nan", np.full_like(good, np.nan)), ("cplx", good.astype(np.complex64))):
        (out / f"{name}.gradflip.json").write_bytes((out / "p0.gradflip.json").read_bytes())
        np.save(out / f"{name}.importance.npy", bad)
    capsys.readouterr()
    assert cli.main(["check", str(out), "--points", "3"]) == 2  # a set not checked: a failure
    err = capsys.readouterr().err
    assert "ComplexWarning" not in err
    for name in ("nan", "cplx"):
        assert f"{name}: skipped: its map ({name}.importance.npy) holds" in err
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert {r["name"] for r in rows} == {"p0", "p1"}


def test_a_map_whose_header_claims_a_huge_shape_is_skipped_not_an_internal_error(results, capsys):
    """A damaged or edited NAME.importance.npy whose header says 200000×200000 (149 GiB) in a 100-byte file: numpy
    allocated the array before reading it, a MemoryError that ended the whole check ("internal error", exit 3)
    and left the folder's good sets unchecked. The set is skipped with why; the others are measured."""
    out, _ = results
    (out / "huge.gradflip.json").write_bytes((out / "p0.gradflip.json").read_bytes())
    with open(out / "huge.importance.npy", "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f4", "fortran_order": False, "shape": (200000, 200000)})
        fh.write(b"\0" * 100)
    capsys.readouterr()
    assert cli.main(["check", str(out), "--points", "3"]) == 2  # a set not checked: a failure
    err = capsys.readouterr().err
    assert "internal error" not in err and "huge: skipped: cannot read it: its map (huge.importance.npy) is damaged" in err
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert {r["name"] for r in rows} == {"p0", "p1"}


def test_a_map_that_is_not_an_npy_file_or_holds_objects_is_skipped_without_advice_to_unpickle(results, capsys):
    """Text in NAME.importance.npy: numpy read it as a pickle and advised loading it "unsafely" with
    allow_pickle; an object array the same. Skipped with what it is; nothing is unpickled."""
    out, _ = results
    for name in ("text", "objects"):
        (out / f"{name}.gradflip.json").write_bytes((out / "p0.gradflip.json").read_bytes())
    (out / "text.importance.npy").write_bytes(b"garbage\n")
    np.save(out / "objects.importance.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    capsys.readouterr()
    assert cli.main(["check", str(out), "--points", "3"]) == 2  # a set not checked: a failure
    err = capsys.readouterr().err
    assert "its map (text.importance.npy) is damaged: not a NumPy .npy file" in err
    assert "its map (objects.importance.npy) is damaged: it holds Python objects, not numbers (never unpickled)" in err
    assert "unsafely" not in err and "allow_pickle" not in err
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert {r["name"] for r in rows} == {"p0", "p1"}


def test_a_record_made_with_other_model_settings_is_not_measured_with_these(results):
    """The same model file read with another --mean/--std/--input-size/--channels/--resize is another model:
    its numbers would not be the run's map on the run's model."""
    out, _ = results
    path = out / "p0.gradflip.json"
    rec = json.loads(path.read_text(encoding="utf-8"))
    assert check_set(make_tiny(), path, write=False, points=3).check is not None  # the run's settings: measured
    path.write_text(json.dumps({**rec, "model": {**rec["model"], "mean": [0.1, 0.2, 0.3]}}), encoding="utf-8")
    c = check_set(make_tiny(), path, write=False, points=3)
    assert c.check is None and "mean [0.1, 0.2, 0.3], not [0.5, 0.5, 0.5]" in c.skipped


def test_checking_one_set_again_keeps_the_other_sets_rows_in_the_folders_csv(results, capsys):
    """gradflip check FOLDER, then gradflip check FOLDER/p1.gradflip.json: faithfulness.csv lost p0's rows
    (while p0.faithfulness.json stayed)."""
    out, _ = results
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "3", "-q"]) == 0
    first = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert cli.main(["check", "--fill", "blur", str(out / "p1.gradflip.json"), "--points", "5", "-q"]) == 0
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert [r["name"] for r in rows] == ["p0"] * 3 + ["p1"] * 3
    assert rows[:3] == first[:3] and {r["points"] for r in rows[3:]} == {"5"}
    (out / "p0.gradflip.json").unlink()  # a set that is gone loses its rows
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "3", "-q"]) == 0
    assert {r["name"] for r in csv.DictReader((out / CSV_NAME).open(encoding="utf-8"))} == {"p1"}


def test_a_csv_written_before_the_masks_column_keeps_its_other_sets_rows(results, capsys):
    out, _ = results
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "3", "-q"]) == 0
    lines = (out / CSV_NAME).read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith(",explained,masks")
    old = [lines[0].removesuffix(",masks")] + [line.rsplit(",", 1)[0] for line in lines[1:]]  # the earlier format
    (out / CSV_NAME).write_text("\n".join(old) + "\n", encoding="utf-8")
    assert cli.main(["check", "--fill", "blur", str(out / "p1.gradflip.json"), "--points", "3", "-q"]) == 0
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert [r["name"] for r in rows] == ["p0"] * 3 + ["p1"] * 3 and {r["masks"] for r in rows} == {""}


def test_photos_finds_a_recursive_runs_photos_in_their_subfolders(tmp_path, monkeypatch, capsys):
    """explain -r tree/ stores tree/a/x.png and tree/b/x.png; after the tree moved, --photos NEWTREE looked
    only for NEWTREE/x.png (missing, or the other photo: "changed since the run")."""
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    monkeypatch.chdir(tmp_path)
    for sub, seed in (("a", 1), ("b", 2)):
        (tmp_path / "tree" / sub).mkdir(parents=True)
        _png(tmp_path / "tree" / sub / "x.png", seed=seed)
    assert cli.main(["explain", "-r", "tree", "--out", "out", "--style", "free", "-q"]) == 0
    (tmp_path / "tree").rename(tmp_path / "moved")
    capsys.readouterr()
    assert cli.main(["check", "--fill", "blur", "out", "--photos", "moved", "--points", "3"]) == 0
    err = capsys.readouterr().err
    assert "skipped" not in err and err.count("GradFlip ") == 2
    # a flat folder holding another photo of that name: said so, not "changed since the run"
    flat = tmp_path / "flat"
    flat.mkdir()
    _png(flat / "x.png", seed=9)
    c = check_set(make_tiny(), tmp_path / "out" / "a_x.gradflip.json", write=False, photos=flat)
    assert c.check is None and "is not the photo the run read (tree/a/x.png" in c.skipped


def test_a_run_stopped_after_its_flip_is_not_called_a_run_that_did_not_flip(results):
    """The window says "stopped before its map was finished" (difference.no_check_note); check said "the run
    did not flip (cancelled)" of a run that flipped at a step."""
    out, _ = results
    path = out / "p0.gradflip.json"
    rec = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**rec, "flipped": False, "status": "cancelled", "flip_step": 2}), encoding="utf-8")
    c = check_set(make_tiny(), path, write=False)
    assert c.check is None and c.skipped.startswith("the run was stopped after its flip")


def test_a_photo_whose_name_is_not_utf8_is_found(tmp_path, monkeypatch, capsys):
    """b"caf\\xe9.png" (a Latin-1 name on Linux): the record stores "caf\\ufffd.png"; check said it was missing."""
    import os

    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    name = os.fsdecode(b"caf\xe9.png")
    _png(tmp_path / "in" / name, seed=4)
    assert cli.main(["explain", "in", "--out", "out", "--style", "free", "-q"]) == 0
    capsys.readouterr()
    assert cli.main(["check", "out", "--points", "3"]) == 0
    assert "skipped" not in capsys.readouterr().err
    (tmp_path / "in").rename(tmp_path / "moved")
    assert cli.main(["check", "out", "--points", "3", "--photos", "moved"]) == 0


def test_a_path_that_cannot_be_looked_at_is_a_problem_line_not_an_internal_error(results, capsys, tmp_path, monkeypatch):
    """`gradflip check NAME` with a name too long for the file system (ENAMETOOLONG), or a folder it may not
    list (EACCES): one line for that path, the other paths still checked; never "internal error", exit 3."""
    out, _ = results
    capsys.readouterr()
    assert cli.main(["check", "a" * 300, str(out)]) == 0
    err = capsys.readouterr().err
    assert "internal error" not in err and "a" * 300 in err
    locked = tmp_path / "locked"
    locked.mkdir()
    real = type(locked).iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(type(locked), "iterdir", iterdir)
    assert cli.main(["check", str(locked)]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Permission denied" in err


def test_a_set_whose_check_fails_is_skipped_and_the_other_sets_are_checked(results, capsys, monkeypatch):
    """check_set "never raises for a set that cannot be checked": a model that gives NaN on one set's curves
    (ModelError) or a torch error there skips that set with its reason; before, the whole command ended (exit 2,
    no faithfulness.csv for the sets already measured)."""
    from gradflip_desktop.core import faithfulness
    from gradflip_desktop.core.errors import ModelError

    out, _ = results
    real, calls = faithfulness.check_maps, []

    def flaky(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            raise ModelError("the model produced non-finite outputs (NaN or infinity) while the map was checked")
        return real(*a, **k)

    monkeypatch.setattr(faithfulness, "check_maps", flaky)
    capsys.readouterr()
    assert cli.main(["check", str(out)]) == 2  # a set not checked: a failure
    err = capsys.readouterr().err
    assert "non-finite" in err and "skipped" in err
    assert (out / CSV_NAME).is_file() and (out / f"p1{CHECK_SUFFIX}").is_file()


def test_a_group_runs_check_says_what_it_is_scored_on(tmp_path, monkeypatch, capsys):
    """--group low: every map explains the group (Grad-CAM's and saliency's were of the top class, beside GradFlip's
    and RISE's of the group, and a winner was named among them); all are scored on the group's probability."""
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    photo = _png(tmp_path / "g.png", seed=4)
    out = tmp_path / "out"
    code = cli.main(["explain", str(photo), "--out", str(out), "--style", "free", "--group", "low", "-q"])
    rec = json.loads((out / "g.gradflip.json").read_text(encoding="utf-8"))
    assert code == 0 and rec["flipped"] and len(rec["explained"]["indices"]) == 2
    capsys.readouterr()
    assert cli.main(["check", str(out), "--points", "3"]) == 0
    err = capsys.readouterr().err
    assert "note: g: scored on the probability of any low; every map explains the group (Grad-CAM's and" in err
    from gradflip_desktop.core import attributions

    asked = []
    for name in ("gradcam_map", "saliency_map"):
        real = getattr(attributions, name)
        monkeypatch.setattr(attributions, name, lambda clf, px, target, *a, _real=real, **k: asked.append(target) or _real(clf, px, target, *a, **k))
    assert cli.main(["check", str(out), "--points", "3"]) == 0
    assert asked == [rec["explained"]["indices"]] * 2  # the group's maps, not the top class's


def test_rise_is_measured_next_to_the_other_maps_when_asked_for(results, capsys):
    """--rise N: RISE's map (N masks) is checked beside GradFlip's, Grad-CAM's and saliency's; the table, the
    set's JSON and the folder's CSV carry its row, and GradFlip's numbers are the same as without it."""
    from gradflip_desktop.core.attributions import rise_map

    out, photos = results
    assert cli.main(["check", "--fill", "blur", str(out), "-q"]) == 0
    before = json.loads((out / f"p0{CHECK_SUFFIX}").read_text(encoding="utf-8"))
    capsys.readouterr()
    assert cli.main(["check", "--fill", "blur", str(out), "--rise", "16"]) == 0
    io = capsys.readouterr()
    assert "Traceback" not in io.err and "\r" not in io.err  # no live progress line when stderr is not a terminal
    # fewer masks than published: a noisier RISE map, whose worse curves flatter GradFlip's; said once
    assert io.err.count("gradflip: note: RISE with 16 masks is noisier than the published 1,000") == 1
    doc = json.loads((out / f"p0{CHECK_SUFFIX}").read_text(encoding="utf-8"))
    assert [m["name"] for m in doc["maps"]] == ["GradFlip", "RISE", "Grad-CAM", "Gradient saliency"]
    assert doc["maps"][0]["deletion_auc"] == before["maps"][0]["deletion_auc"]
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert len(rows) == 8 and sum(r["map"] == "RISE" for r in rows) == 2
    # how many masks: 16 are not the published 1,000 (the table, the JSON and the CSV say it)
    assert {r["masks"] for r in rows if r["map"] == "RISE"} == {"16"} and {r["masks"] for r in rows if r["map"] != "RISE"} == {""}
    assert doc["rise_masks"] == 16 and "\nRISE (16 masks) " in io.out and "GradFlip better" in io.out
    # the RISE row is the core's RISE map of the explained class, checked on the photo as the run loaded it
    rec = json.loads((out / "p0.gradflip.json").read_text(encoding="utf-8"))
    pixels = load_image(photos[0], max_side=max(rec["image"]["working_size"])).pixels
    cam = rise_map(make_tiny(), pixels, rec["explained"]["indices"], masks=16)
    again = check_maps(make_tiny(), pixels, {"RISE": cam}, rec["explained"]["indices"])
    assert doc["maps"][1]["insertion_auc"] == pytest.approx(again.curves[0].insertion_auc, abs=1e-6)


def test_rise_progress_is_shown_on_a_terminal_and_cleared(results, capsys, monkeypatch):
    import sys

    out, _ = results
    capsys.readouterr()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert cli.main(["check", "--fill", "blur", str(out / "p0.gradflip.json"), "--rise", "4"]) == 0
    err = capsys.readouterr().err
    assert "RISE 4/4 masks" in err and "\r\033[K" in err and "gradflip: p0: deletion ↓ / insertion ↑: GradFlip " in err
    # then it counts the curves' images (4 maps x 2 curves x 21 points), before the set's line
    assert err.index("RISE 4/4 masks") < err.index("curves 1") < err.index("curves 168/168 images") \
        < err.index("gradflip: p0: deletion ↓ / insertion ↑: GradFlip ")


def test_the_curves_progress_counts_images_of_each_fill_in_on_a_terminal(results, capsys, monkeypatch):
    """Without RISE the curves are the slow part (one image per model call at 1,024 px: tens of seconds per
    fill-in); the live line counts them, per fill-in when there are several, and is cleared before the set's
    line."""
    import sys

    out, _ = results
    capsys.readouterr()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert cli.main(["check", str(out / "p0.gradflip.json"), "--fill", "blur,black", "--points", "5"]) == 0
    err = capsys.readouterr().err
    counts = [line.split("images")[0].rsplit(" ", 2)[-2] for line in err.split("\r") if "images" in line]
    # 3 maps (GradFlip, Grad-CAM, saliency) x 2 curves x 5 points per fill-in, counted up to the total
    assert counts[-1] == "30/30" and all(c.endswith("/30") for c in counts)
    assert err.index("curves (blur, 1/2) ") < err.index("curves (black, 2/2) 30/30 images") \
        < err.index("gradflip: p0 (blur): deletion ↓ / insertion ↑: GradFlip ")
    assert "\r\033[K" in err.split("curves (black, 2/2) 30/30 images")[1].split("gradflip: p0 (blur)")[0]


def _interrupt_at_the_second_set(monkeypatch):
    """``check_set`` raises KeyboardInterrupt (a Ctrl+C) on the set p1; returns the real ``check_set``."""
    import gradflip_desktop.core.dataset.check as check_module

    real = check_module.check_set

    def interrupted_at_the_second(clf, rec, **kw):
        if rec.name.startswith("p1"):
            raise KeyboardInterrupt
        return real(clf, rec, **kw)

    monkeypatch.setattr(check_module, "check_set", interrupted_at_the_second)
    return real


def test_ctrl_c_mid_check_keeps_the_sets_checked_so_far_in_the_folders_csv(results, capsys, monkeypatch):
    """Each set's JSON is written as it is checked; the folder's CSV used to be written only at the end, so a
    Ctrl+C left it without the sets just checked (or with an older run's numbers for them)."""
    out, _ = results
    _interrupt_at_the_second_set(monkeypatch)
    capsys.readouterr()
    assert cli.main(["check", str(out), "--points", "3"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert {r["name"] for r in rows} == {"p0"} and all(r["points"] == "3" for r in rows)
    assert "1 of " in err and "result sets were checked before the interrupt; their rows are in" in err
    assert "error:" not in err  # a Ctrl+C is not an error
    # --json printed nothing on Ctrl+C: it lists the sets checked so far, as explain --json does
    assert cli.main(["check", str(out), "--points", "3", "--json", "-q"]) == 130
    listed = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in listed] == ["p0"] and listed[0]["skipped"] is None and len(listed[0]) > 3


def test_ctrl_c_just_after_a_sets_json_was_written_counts_it_and_gives_it_its_csv_rows(results, capsys, monkeypatch):
    """A Ctrl+C between the rename of a set's NAME.faithfulness.json and its count left the JSON saying "black" and the
    folder's CSV with the set's old "blur" rows (a reviewer's strace, 2026-12-07): the set is read back and counted."""
    import gradflip_desktop.core.images as images_module

    out, _ = results
    assert cli.main(["check", str(out), "--fill", "blur", "--points", "3", "-q"]) == 0  # the old rows: blur
    real = images_module.atomic_write_bytes

    def written_then_interrupted(path, data, **kw):
        real(path, data, **kw)
        if str(path).endswith(CHECK_SUFFIX) and not fired:  # the first set's JSON; the CSV is then written as usual
            fired.append(path)
            raise KeyboardInterrupt

    fired: list = []

    monkeypatch.setattr(images_module, "atomic_write_bytes", written_then_interrupted)  # the check's, imported late
    capsys.readouterr()
    assert cli.main(["check", str(out), "--fill", "black", "--points", "3"]) == 130
    err = capsys.readouterr().err
    assert "p0: its check was being written when the interrupt came and is complete" in err
    assert "1 of 2 result sets were checked before the interrupt" in err and "kept" not in err
    assert json.loads((out / f"p0{CHECK_SUFFIX}").read_text(encoding="utf-8"))["fill"] == "black"
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert {r["fill"] for r in rows if r["name"] == "p0"} == {"black"}  # its rows are those of its JSON
    assert {r["fill"] for r in rows if r["name"] == "p1"} == {"blur"}  # the set not reached keeps its rows


def test_ctrl_c_before_any_set_is_checked_names_no_csv(results, capsys, monkeypatch):
    """Interrupted before the first set: it said "error: 0 of N ... their rows are in faithfulness.csv", naming a
    file that was never written."""
    import gradflip_desktop.core.dataset.check as check_module

    out, _ = results

    def interrupted(clf, rec, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(check_module, "check_set", interrupted)
    capsys.readouterr()
    assert cli.main(["check", str(out), "--points", "3"]) == 130
    err = capsys.readouterr().err
    assert "0 of " in err and "checked before the interrupt" in err
    assert "faithfulness.csv" not in err and "error:" not in err and not (out / CSV_NAME).exists()

def test_several_fill_ins_in_one_check_share_the_maps(results, capsys, monkeypatch):
    """--fill all (or a comma list): each fill-in measured with the same maps, made once per set (RISE's N model
    calls are not paid three times); the numbers equal a check with that fill-in alone."""
    from gradflip_desktop.core import attributions

    out, _ = results
    assert cli.main(["check", str(out), "--fill", "mean", "--points", "3", "-q"]) == 0
    alone = json.loads((out / f"p0{CHECK_SUFFIX}").read_text(encoding="utf-8"))
    made = []
    real = attributions.rise_steps
    monkeypatch.setattr(attributions, "rise_steps", lambda *a, **k: made.append(1) or (yield from real(*a, **k)))
    capsys.readouterr()
    assert cli.main(["check", str(out), "--fill", "all", "--points", "3", "--rise", "4"]) == 0
    io = capsys.readouterr()
    assert len(made) == 2  # one RISE map per set, not per fill-in
    doc = json.loads((out / f"p0{CHECK_SUFFIX}").read_text(encoding="utf-8"))
    assert doc["fill"] == "blur" and [k["fill"] for k in doc["checks"]] == ["blur", "mean", "black"]
    mean = doc["checks"][1]
    assert mean["maps"][0]["deletion_auc"] == alone["maps"][0]["deletion_auc"]
    assert [m["name"] for m in mean["maps"]] == ["GradFlip", "RISE", "Grad-CAM", "Gradient saliency"]
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert len(rows) == 2 * 3 * 4 and {r["fill"] for r in rows} == {"blur", "mean", "black"}
    assert io.out.count("faithfulness of 2 result sets") == 3 and "black as fill-in" in io.out
    assert "p0 (mean): deletion ↓ / insertion ↑: GradFlip " in io.err and "p1 (black): deletion ↓ / insertion ↑: GradFlip " in io.err
    capsys.readouterr()
    assert cli.main(["check", str(out), "--fill", "blur,black", "--points", "3", "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [k["fill"] for k in data[0]["checks"]] == ["blur", "black"]


def test_an_unknown_fill_in_is_a_usage_error(results, capsys):
    out, _ = results
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", str(out), "--fill", "blur,purple"])
    assert exc.value.code == 2 and "choose from blur, mean, black or all" in capsys.readouterr().err


def test_check_takes_the_explain_runs_pixel_limit_and_json_names_the_rise_masks(results, capsys):
    """A set made with `explain --max-pixels` above the default was skipped by check with "… the command line's
    --max-pixels raises the limit", an option check did not have; and --json had no mask count for RISE."""
    out, _ = results
    assert cli.main(["check", str(out / "p0.gradflip.json"), "--max-pixels", "100", "-q"]) == 2
    err = capsys.readouterr().err
    assert "more than the limit of 100 pixels (the limit given, e.g. by --max-pixels)" in err, err
    assert cli.main(["check", str(out / "p0.gradflip.json"), "--max-pixels", "1e6", "--rise", "4", "--json", "-q"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc[0]["rise_masks"] == 4 and doc[0]["maps"][1]["name"] == "RISE"


def test_the_tables_better_counts_treat_a_tie_as_each_sets_verdict_does():
    """The line under a set said "GradFlip and Grad-CAM tie on insertion" while the table counted GradFlip better
    "on 1 and 1 of 1": areas that print alike are no win in either place."""
    from pathlib import Path

    from gradflip_desktop.core.dataset.check import SetCheck, gradflip_better
    from gradflip_desktop.core.faithfulness import Curve, FaithfulnessCheck

    def curve(name, deletion, insertion):
        return Curve(name, (0.0, 1.0), (deletion, deletion), (insertion, insertion))

    def one(ours, theirs):
        check = FaithfulnessCheck("blur", "cat", (curve("GradFlip", *ours), curve("Grad-CAM", *theirs)))
        return SetCheck("s", Path("s.gradflip.json"), check=check, checks=(check,))

    tie = one((0.0196, 0.3004), (0.0203, 0.2996))  # "0.020 / 0.300" both: no win (a 5e-4 tolerance crowned one)
    win = one((0.0374, 0.3004), (0.0376, 0.2996))  # "0.037" against "0.038", "0.300" against "0.300"
    assert gradflip_better([tie], "Grad-CAM") == (0, 0, 1)
    assert gradflip_better([win], "Grad-CAM") == (1, 0, 1)
    assert gradflip_better([tie, win], "Grad-CAM") == (1, 0, 2)
    assert tie.check.verdict() == "the maps tie on both curves"
    assert win.check.verdict().startswith("GradFlip's map removes cat fastest, GradFlip and Grad-CAM tie on insertion")


def test_a_grad_cam_map_that_is_zero_everywhere_is_said_and_not_scored(results, capsys, monkeypatch):
    """A freshly initialised timm ResNet's Grad-CAM is 0 everywhere (its blocks' last norms start at zero): ranked by
    a random tie order, it was scored in the table as if it were a map."""
    import json

    from gradflip_desktop.core import attributions

    out, _ = results
    monkeypatch.setattr(attributions, "gradcam_map", lambda clf, pixels, target: np.zeros(pixels.shape[:2], np.float32))
    capsys.readouterr()
    assert cli.main(["check", str(out)]) == 0
    err = capsys.readouterr().err
    assert "no Grad-CAM map (zero everywhere" in err, err
    doc = json.loads((out / f"p0{CHECK_SUFFIX}").read_text())
    assert [c["name"] for c in doc["maps"]] == ["GradFlip", "Gradient saliency"]


def test_a_set_whose_curves_are_flat_is_no_win_in_the_table():
    """Its own line said "cat barely moves under this fill-in …: the curves cannot tell the maps apart" while
    the table counted GradFlip better on it (areas 0.250 against 0.252, beyond TIE)."""
    from pathlib import Path

    from gradflip_desktop.core.dataset.check import SetCheck, gradflip_better
    from gradflip_desktop.core.faithfulness import Curve, FaithfulnessCheck

    f = (0.0, 1.0)
    check = FaithfulnessCheck("blur", "cat", (Curve("GradFlip", f, (0.250, 0.250), (0.254, 0.254)),
                                              Curve("Grad-CAM", f, (0.252, 0.252), (0.251, 0.251))))
    assert check.flat() and "cannot tell the maps apart" in check.verdict()
    assert gradflip_better([SetCheck("s", Path("s.gradflip.json"), check=check, checks=(check,))], "Grad-CAM") == (0, 0, 1)


def test_points_beyond_the_cap_are_refused_before_any_work(tmp_path, capsys):
    """--points 1000000000 was accepted: np.linspace built a list of a billion pixel counts (RSS 10 GB in 30 s on
    a 2-core machine) before the first set was measured."""
    from gradflip_desktop.core.faithfulness import MAX_POINTS, check_maps

    assert cli.main(["check", str(tmp_path), "--points", "1000000000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gradflip: error: --points: at most {MAX_POINTS:,} points per curve, not 1000000000"]
    with pytest.raises(ValueError, match="at most"):
        check_maps(None, np.zeros((4, 4, 3), np.float32), {"m": np.zeros((4, 4))}, [0], points=10**12)


def test_rise_beyond_the_cap_is_refused_before_any_work(tmp_path, capsys):
    """--rise 1000000000 was accepted: a billion masked forward passes per set (weeks), one progress line at a time."""
    from gradflip_desktop.core.attributions import MAX_RISE_MASKS, rise_map

    assert cli.main(["check", str(tmp_path), "--rise", "1e9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gradflip: error: --rise: at most {MAX_RISE_MASKS:,} masks per set (the published RISE takes "
                   "1,000), not 1,000,000,000"]
    with pytest.raises(ValueError, match="RISE takes 1 to 100,000 masks, not 100001"):
        rise_map(make_tiny(), np.zeros((8, 8, 3), np.float32), 0, masks=MAX_RISE_MASKS + 1)


def _tiny_from(path):
    """The tiny model as if loaded from the weights file ``path`` (named after it, as a model file is)."""
    from dataclasses import replace

    return replace(make_tiny(), source=str(path), name=f"tiny ({path.name})", warnings=[])


def test_a_copy_of_the_runs_weights_file_is_the_runs_model(tmp_path, monkeypatch, capsys):
    """The run's weights under another file name (a copy) were "made with model tiny (tiny.pth), not tiny (tiny
    copy.pth)": the record's SHA-256 of the weights says they are the same. Other weights are still refused."""
    weights, copy, other = tmp_path / "tiny.pth", tmp_path / "tiny copy.pth", tmp_path / "other.pth"
    weights.write_bytes(b"the tiny model's weights")
    copy.write_bytes(weights.read_bytes())
    other.write_bytes(b"the other model's weights")
    monkeypatch.setattr(cli, "_load_model", lambda args: _tiny_from(weights))
    out = tmp_path / "out"
    assert cli.main(["explain", str(_png(tmp_path / "p0.png", 0)), "--out", str(out), "--style", "free", "--quiet"]) == 0
    path = out / "p0.gradflip.json"
    assert check_set(_tiny_from(copy), path, write=False, points=3).check is not None
    c = check_set(_tiny_from(other), path, write=False, points=3)
    assert c.check is None and "made with model tiny (tiny.pth), not tiny (other.pth)" in c.skipped
    # the record names the run's weights file (and its architecture, when one built it): said as the flags to pass
    # (by its path: the record keeps the file's name only, and "--model tiny.pth" failed from another folder)
    assert c.skipped.endswith("(pass the run's model, the file tiny.pth by its path: --model …/tiny.pth, with its "
                              "options)"), c.skipped
    from gradflip_desktop.core.dataset.check import _run_model_hint

    assert _run_model_hint({"file": "rn 18.pth", "arch": "resnet18"}) == \
        "pass the run's model, the file rn 18.pth by its path: --model …/'rn 18.pth' --arch resnet18, with its options"
    assert _run_model_hint({"file": "m.onnx", "arch": "onnx"}) == \
        "pass the run's model, the file m.onnx by its path: --model …/m.onnx, with its options"
    assert _run_model_hint({"name": "EfficientNet-Lite0 (ImageNet)"}) == \
        "the built-in model made it: leave out --model and the model options"
    assert _run_model_hint({}) == "pass the run's --model and its options"


def test_photos_finds_the_runs_photo_when_the_current_folder_holds_another_of_that_name(tmp_path, monkeypatch, capsys):
    """A run in home/ stores "p.png"; check started in a folder that has another p.png said "changed since the
    run" and ignored --photos home/ (README: give --photos DIR to look for it in DIR)."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _png(elsewhere / "p.png", seed=4)
    out = _run_in(home, monkeypatch)
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert cli.main(["check", str(out), "-q", "--points", "3"]) == 2
    err = capsys.readouterr().err
    assert "changed since the run (the record names it relative to the folder the run started in" in err
    assert "--photos DIR" in err
    assert cli.main(["check", str(out), "-q", "--points", "3", "--photos", str(home)]) == 0
    assert (out / f"p{CHECK_SUFFIX}").exists()


def test_an_empty_map_file_is_skipped_not_an_internal_error(results, capsys):
    out, _ = results
    (out / "empty.gradflip.json").write_bytes((out / "p0.gradflip.json").read_bytes())
    (out / "empty.importance.npy").write_bytes(b"")  # a copy cut short, a disk that filled
    capsys.readouterr()
    code = cli.main(["check", str(out), "--points", "3"])
    err = capsys.readouterr().err
    assert code == 2 and "internal error" not in err and "empty: skipped" in err  # a set not checked: a failure
    assert {r["name"] for r in csv.DictReader((out / CSV_NAME).open(encoding="utf-8"))} == {"p0", "p1"}


def test_resume_keeps_the_sets_checked_before_with_the_csv_and_table_of_a_full_check(results, capsys, monkeypatch):
    """`gradflip check OUT` again measured every set again (10 minutes for 123 sets): --resume keeps each set's
    NAME.faithfulness.json made from the same record, map, photo, model and options, and its CSV rows, table and
    medians are those a full check gives."""
    from gradflip_desktop.core import faithfulness

    out, _ = results
    opts = ["--fill", "blur", "--fill", "blur,mean", "--rise", "3", "--points", "5"]
    assert cli.main(["check", "--fill", "blur", str(out), *opts]) == 0
    full = capsys.readouterr().out
    csv_full = (out / CSV_NAME).read_bytes()
    (out / f"p1{CHECK_SUFFIX}").unlink()  # as if a Ctrl+C came before p1
    kept_json = (out / f"p0{CHECK_SUFFIX}").read_bytes()
    calls, real = [], faithfulness.check_maps
    monkeypatch.setattr(faithfulness, "check_maps", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert cli.main(["check", "--fill", "blur", str(out), *opts, "--resume"]) == 0
    io = capsys.readouterr()
    assert len(calls) == 2  # p1's two fill-ins; p0 was read back
    assert io.out == full and (out / CSV_NAME).read_bytes() == csv_full
    assert (out / f"p0{CHECK_SUFFIX}").read_bytes() == kept_json and (out / f"p1{CHECK_SUFFIX}").exists()
    assert "[1/2] out/p0 (blur, kept): deletion ↓ / insertion ↑: GradFlip " in io.err and "out/p1 (blur): deletion ↓ / insertion ↑: GradFlip " in io.err
    assert "kept the checks of 1 of 2 result sets (--resume" in io.err and "measured 1" in io.err
    assert cli.main(["check", "--fill", "blur", str(out), *opts, "--resume", "--json", "-q"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c.get("kept") for c in listed] == [True, True] and len(calls) == 2
    # other options: each set measured again, and a full check (no --resume) still measures everything
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "6", "--resume"]) == 0
    assert "kept the checks of 0 of 2 result sets" in capsys.readouterr().err and len(calls) == 4
    assert cli.main(["check", "--fill", "blur", str(out), *opts]) == 0
    assert capsys.readouterr().out == full and (out / CSV_NAME).read_bytes() == csv_full and len(calls) == 8


def test_resume_measures_a_set_whose_record_map_or_json_changed_and_another_model(results, capsys, monkeypatch):
    from gradflip_desktop.core import faithfulness

    out, _ = results
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "5", "-q"]) == 0
    csv_full = (out / CSV_NAME).read_bytes()
    calls, real = [], faithfulness.check_maps
    monkeypatch.setattr(faithfulness, "check_maps", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    rec = out / "p0.gradflip.json"
    rec.write_text(rec.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # the record touched
    cut = out / f"p1{CHECK_SUFFIX}"
    cut.write_bytes(cut.read_bytes()[:100])  # a JSON cut short (written by hand: GradFlip writes whole files)
    capsys.readouterr()
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "5", "--resume"]) == 0
    assert len(calls) == 2 and "kept the checks of 0 of 2" in capsys.readouterr().err
    assert (out / CSV_NAME).read_bytes() == csv_full and json.loads(cut.read_text(encoding="utf-8"))["resume"]
    np.save(out / "p1.importance.npy", -np.load(out / "p1.importance.npy"))  # the map changed
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "5", "--resume"]) == 0
    assert len(calls) == 3 and "kept the checks of 1 of 2" in capsys.readouterr().err
    other = make_tiny()  # other weights the record cannot tell apart (it names no weights file): the check's stamp does
    other.weights_file = {"file": "w.pth", "file_bytes": 3, "file_sha256": "f" * 16}
    monkeypatch.setattr(cli, "_load_model", lambda args: other)
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "5", "--resume"]) == 0
    assert len(calls) == 5 and "kept the checks of 0 of 2" in capsys.readouterr().err


def test_ctrl_c_says_resume_measures_the_rest_and_resume_keeps_what_was_checked(results, capsys, monkeypatch):
    out, _ = results
    real = _interrupt_at_the_second_set(monkeypatch)
    capsys.readouterr()
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "3"]) == 130
    err = capsys.readouterr().err
    assert "1 of 2 result sets were checked before the interrupt; their rows are in faithfulness.csv; " \
           "the same command with --resume measures only the rest" in err
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "3", "--resume"]) == 130
    assert "1 of 2 result sets were checked before the interrupt (1 kept)" in capsys.readouterr().err
    import gradflip_desktop.core.dataset.check as check_module

    monkeypatch.setattr(check_module, "check_set", real)
    assert cli.main(["check", "--fill", "blur", str(out), "--points", "3", "--resume"]) == 0
    err = capsys.readouterr().err
    assert "out/p0 (kept): " in err and "kept the checks of 1 of 2 result sets" in err and "measured 1" in err


def test_sets_of_several_styles_say_that_gradflips_medians_mix_them(results, tmp_path, capsys):
    """`gradflip check region_out free_out` (comparing the styles) printed one "GradFlip" row of medians over both
    styles' maps, with nothing saying so."""
    out, photos = results
    region = tmp_path / "region"
    assert cli.main(["explain", *map(str, photos), "--out", str(region), "--style", "blur", "--quiet"]) in (0, 1)
    flipped = sum(json.loads(p.read_text(encoding="utf-8"))["flipped"] for p in region.glob("*.gradflip.json"))
    assert flipped >= 1  # the tiny model: at least one photo flips in the blur style
    capsys.readouterr()
    assert cli.main(["check", str(out), str(region), "-q"]) == 0
    assert (f"GradFlip's maps here come from 2 styles (smallest change on 2, blur per pixel on {flipped}): its medians "
            "mix them; check each style's sets alone to compare them") in capsys.readouterr().out
    assert cli.main(["check", str(out), "-q", "--resume"]) == 0
    assert "styles" not in capsys.readouterr().out


def test_a_set_made_with_a_network_in_memory_says_to_check_it_from_python(tmp_path, monkeypatch, capsys):
    """A notebook's set (classifier_from_module, its record names the weights by weights_sha256, no file) was skipped
    with "pass the run's --model and its options": no --model loads a network that lives in a notebook."""
    from helpers import TinyNet

    from gradflip_desktop.core import ExplainOptions, Preprocessing, classifier_from_module, run, write_result_set

    pre = Preprocessing(input_size=(16, 16), mean=(0.5,) * 3, std=(0.25,) * 3)
    model = classifier_from_module(TinyNet(4, 0), [f"class{i}" for i in range(4)], preprocessing=pre)
    photo = _png(tmp_path / "p0.png", seed=0)
    write_result_set(run(model, load_image(photo), ExplainOptions(style="free")), tmp_path / "out", "p0")
    record = tmp_path / "out" / "p0.gradflip.json"
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    capsys.readouterr()
    assert cli.main(["check", str(tmp_path / "out")]) == 2
    assert ("made with a network given in memory (TinyNet (4 classes)), which no --model loads: check it from Python "
            "with that network, gradflip_desktop.core.dataset.check.check_set(model, record)") in capsys.readouterr().err
    assert check_set(model, record, write=False).check is not None  # as it says
    other = classifier_from_module(TinyNet(4, 1), [f"class{i}" for i in range(4)], preprocessing=pre)
    assert check_set(other, record, write=False).skipped.startswith("made with other weights of the network in memory")


def test_a_set_json_that_cannot_be_written_says_its_numbers_are_in_the_csv_that_was_written(results, capsys):
    """p0.faithfulness.json a folder (so it cannot be written) while faithfulness.csv is: the error line said "their
    numbers are only printed" (with -q they are not printed at all), but faithfulness.csv holds p0's rows."""
    out, _ = results
    (out / f"p0{CHECK_SUFFIX}").mkdir()
    capsys.readouterr()
    assert cli.main(["check", str(out), "-q"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gradflip: error:")]
    with open(out / CSV_NAME, encoding="utf-8", newline="") as f:
        assert "p0" in {row["name"] for row in csv.DictReader(f)}  # its numbers are saved, in the folder's CSV
    assert errors == [f"gradflip: error: {out}: could not write p0{CHECK_SUFFIX} (Is a directory); their numbers "
                      f"are in {CSV_NAME} only"]


def test_a_map_of_another_size_is_named_in_pixels_as_the_photo_is(results):
    """"the photo loads at 32×24 px, the run's map is (10, 10)": two ways of writing a size in one line."""
    from gradflip_desktop.core.dataset.check import check_set

    out, _ = results
    np.save(out / "p0.importance.npy", np.zeros((10, 12), np.float32))
    c = check_set(make_tiny(), out / "p0.gradflip.json", write=False)
    assert c.check is None and c.skipped.endswith("the run's map is 12×10 px"), c.skipped


def test_check_sweeps_the_staged_files_a_killed_check_left(tmp_path):
    """Only explain swept them: a killed `gradflip check`'s .part file stayed after any number of later checks."""
    import os
    import time

    from gradflip_desktop.core.dataset.check import write_csv

    stale = tmp_path / ".gradflip-999999999-abc.part"
    stale.write_bytes(b"half a csv")
    t = time.time() - 120
    os.utime(stale, (t, t))
    assert write_csv(tmp_path, []) is None and not stale.exists()


def test_a_one_class_runs_check_names_the_class_not_a_group(results, capsys):
    out, _ = results
    assert cli.main(["check", str(out), "--points", "3"]) == 0
    capsys.readouterr()
    for name in ("p0", "p1"):
        rec = json.loads((out / f"{name}.gradflip.json").read_text(encoding="utf-8"))
        assert len(rec["explained"]["indices"]) == 1
        doc = json.loads((out / f"{name}{CHECK_SUFFIX}").read_text(encoding="utf-8"))
        assert doc["explained"] == rec["explained"]["name"] and not doc["explained"].startswith("any ")
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert rows and all(not r["explained"].startswith("any ") for r in rows)


def test_check_sets_arguments_are_checked_as_the_command_line_checks_them(results):
    """points=2.5 scored a 2-point curve and points=0 the default 21, fill=[] raised IndexError and fill=None
    TypeError: one ValueError each, naming the argument; good values still measure."""
    out, _ = results
    rec = out / "p0.gradflip.json"
    for kwargs, words in (({"points": 2.5}, "points must be a whole number from 2 to 10,001, not 2.5"),
                          ({"points": 0}, "points must be a whole number from 2 to 10,001, not 0"),
                          ({"points": True}, "points must be a whole number from 2 to 10,001, not True"),
                          ({"fill": []}, "fill must be one of blur, mean, black, or a list of them, not []"),
                          ({"fill": None}, "fill must be one of blur, mean, black, or a list of them, not None"),
                          ({"fill": ["blur", "grey"]}, "fill must be one of blur, mean, black, or a list of them, not ['blur', 'grey']")):
        with pytest.raises(ValueError) as err:
            check_set(make_tiny(), rec, write=False, **kwargs)
        assert str(err.value) == words
    c = check_set(make_tiny(), rec, write=False, points=np.int64(5), fill=("mean", "black"))
    assert not c.skipped and [k.fill for k in c.checks] == ["mean", "black"] and len(c.check.curves[0].fractions) == 5


def test_a_set_made_with_other_labels_asks_for_the_runs_labels_not_its_model(tmp_path):
    """`check --model m.pt` without the run's `--labels`: "made with labels dbbc…, not b15f… (pass the run's model, the
    file m.pt by its path: --model …/m.pt, with its options)" asked for the model file that had been given (a helper's
    own-model sweep); the labels were what differed."""
    from types import SimpleNamespace

    from gradflip_desktop.core.dataset.check import _model_differs

    stored = {"name": "m.pt (TorchScript, 5 classes)", "classes": 5, "labels_sha256": "dbbc", "file": "m.pt"}
    now = SimpleNamespace(name=stored["name"], settings=lambda: {"classes": 5, "labels_sha256": "b15f", "file": "m.pt"})
    why = _model_differs({"model": stored}, now)
    assert why == ("made with labels dbbc, not b15f (the model is the run's; pass the labels the run used: --labels FILE, "
                   "or the sidecar it read)")
    other = SimpleNamespace(name="n.pt (TorchScript, 5 classes)", settings=lambda: {"classes": 5, "labels_sha256": "b15f"})
    assert _model_differs({"model": stored}, other).startswith("made with model m.pt")  # another model: its file asked


def test_a_folder_of_result_folders_names_them_and_recursive_checks_each(results, capsys, tmp_path):
    out, _ = results
    parent = out.parent  # holds the photos and out/ with the two sets: none of its own
    capsys.readouterr()
    assert cli.main(["check", "--fill", "blur", str(parent)]) == 2
    err = capsys.readouterr().err
    assert "no result sets" in err and "2 in 1 of its subfolders: --recursive (-r) checks them" in err
    assert "Traceback" not in err and not (out / CSV_NAME).exists()
    hidden = parent / ".trash"  # a hidden folder's sets are not the user's results (as explain skips hidden inputs)
    hidden.mkdir()
    (hidden / "old.gradflip.json").write_text((out / "p0.gradflip.json").read_text(encoding="utf-8"), encoding="utf-8")
    assert cli.main(["check", "--fill", "blur", "-r", str(parent), "-q"]) == 0
    io = capsys.readouterr()
    assert "faithfulness of 2 result sets" in io.out
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))  # the CSV lies beside the sets it holds
    assert {r["name"] for r in rows} == {"p0", "p1"}
    assert not (parent / CSV_NAME).exists() and not (hidden / CSV_NAME).exists()
    import shutil

    deep = parent / "deep" / "out"  # a second folder of sets, deeper: each set is named by its path below parent
    shutil.copytree(out, deep)
    assert cli.main(["check", "--fill", "blur", "-r", str(parent)]) == 0
    err = capsys.readouterr().err
    assert "[1/4] deep/out/p0: deletion" in err and "[3/4] out/p0: deletion" in err, err
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    assert cli.main(["check", "--fill", "blur", "--recursive", str(empty)]) == 2
    assert "no result sets (.gradflip.json files) in this folder or its subfolders" in capsys.readouterr().err


def test_a_set_written_over_loses_the_check_of_the_set_it_replaced(results, capsys, tmp_path):
    """Exported again over a checked set (another style, Overwrite): its NAME.faithfulness.json and its rows of
    faithfulness.csv stayed, the numbers of the map it replaced beside the new map."""
    out, photos = results
    assert cli.main(["check", "--fill", "blur", str(out), "-q"]) == 0
    assert (out / f"p0{CHECK_SUFFIX}").is_file() and (out / f"p1{CHECK_SUFFIX}").is_file()
    kept = (out / f"p1{CHECK_SUFFIX}").read_bytes()
    assert cli.main(["explain", str(photos[0]), "--out", str(out), "--force", "--quiet", "--max-steps", "5"]) in (0, 1)
    assert not (out / f"p0{CHECK_SUFFIX}").exists() and (out / f"p1{CHECK_SUFFIX}").read_bytes() == kept
    rows = list(csv.DictReader((out / CSV_NAME).open(encoding="utf-8")))
    assert {r["name"] for r in rows} == {"p1"} and len(rows) == 3  # p1's three maps stay
    assert cli.main(["explain", str(photos[1]), "--out", str(out), "--force", "--quiet", "--style", "free"]) == 0
    assert not (out / CSV_NAME).exists()  # no check left in it
    capsys.readouterr()


def test_sets_with_nothing_to_check_are_no_failure_but_a_broken_set_is(results, capsys):
    """`check` exited 0 with a record that could not be read and another set's map gone: a script could not tell
    that sets were lost (explain exits 2 for an image it cannot explain). A set with nothing to check (a run that
    did not flip, a targeted run) is no failure; one that cannot be checked is."""
    out, _ = results
    rec = json.loads((out / "p0.gradflip.json").read_text(encoding="utf-8"))
    (out / "nf.gradflip.json").write_text(json.dumps({**rec, "flipped": False, "status": "budget_exhausted"}), encoding="utf-8")
    (out / "tg.gradflip.json").write_text(json.dumps({**rec, "target": "class1"}), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["check", str(out), "-q"]) == 0
    assert "nf: the run did not flip (budget exhausted)" in capsys.readouterr().err
    (out / "bad.gradflip.json").write_text("{bad", encoding="utf-8")
    assert cli.main(["check", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "bad: its record cannot be read: not valid JSON (Expecting property name" in err and "JSONDecodeError" not in err
    assert cli.main(["check", str(out), "-q", "--json"]) == 2  # one object per set; why each skipped one was
    doc = {d["name"]: d for d in json.loads(capsys.readouterr().out)}
    assert set(doc) == {"bad", "nf", "p0", "p1", "tg"} and doc["p0"]["skipped"] is None and doc["p0"]["maps"]
    assert doc["tg"]["skipped"].startswith("a targeted run") and doc["bad"]["skipped"].startswith("its record")


def test_photos_naming_no_folder_is_one_line_before_any_work(results, capsys, tmp_path):
    # `--photos nowhere` said "nowhere/p0.png is missing" for every set, after loading the model
    out, _ = results
    capsys.readouterr()
    assert cli.main(["check", str(out), "--photos", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err == f"gradflip: error: --photos: {tmp_path / 'nowhere'} does not exist\n" and not (out / CSV_NAME).exists()
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    assert cli.main(["check", str(out), "--photos", str(tmp_path / "afile")]) == 2
    assert "--photos: " in capsys.readouterr().err
