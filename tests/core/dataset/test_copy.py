"""copy_run_folder (the app's Export All): whole sets, and a summary of everything the folder then holds."""

from __future__ import annotations

import numpy as np
from PIL import Image

from gradflip_desktop import cli
from gradflip_desktop.core.dataset import read_summary
from gradflip_desktop.core.dataset.copy import copy_run_folder

from helpers import make_tiny


def _photo(path, seed):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.kron(rng.uniform(60, 200, (6, 8, 3)), np.ones((4, 4, 1))).astype(np.uint8)).save(path)
    return path


def test_export_into_a_folder_with_other_sets_keeps_them_in_the_summary_and_gallery(tmp_path, monkeypatch):
    """Export All into a results folder a command-line run wrote (its sets p0, p1): the copied summary.csv and
    index.html listed the app's sets only, and the folder's other sets were gone from both (their files stayed);
    `gradflip explain DIR --out` into that folder lists them after its own rows."""
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    for i in range(2):
        _photo(tmp_path / "a" / f"p{i}.png", i)
    _photo(tmp_path / "b" / "q.png", 5)
    dest, run = tmp_path / "results", tmp_path / "app-run"
    assert cli.main(["explain", str(tmp_path / "a"), "--out", str(dest), "-q", "--max-steps", "3"]) in (0, 1)
    assert cli.main(["explain", str(tmp_path / "b"), "--out", str(run), "-q", "--max-steps", "3"]) in (0, 1)
    copy_run_folder(run, dest, overwrite=True)  # "Overwrite" for summary.csv and index.html
    assert [r["name"] for r in read_summary(dest / "summary.csv")] == ["q", "p0", "p1"]
    page = (dest / "index.html").read_text(encoding="utf-8")
    assert all(f"{n}.figure.png" in page for n in ("q", "p0", "p1"))


def _interrupted_summary(tmp_path, monkeypatch):
    """Folder a explained into results; then folder b (p0 a copy of a's, p1 replaced by another photo) run into it
    with --force and stopped before any input: what its summary.csv says."""
    import shutil

    from gradflip_desktop.core.dataset.inputs import Input
    from gradflip_desktop.core.dataset.job import write_run_summary

    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    for i in range(2):
        _photo(tmp_path / "a" / f"p{i}.png", i)
    dest = tmp_path / "results"
    assert cli.main(["explain", str(tmp_path / "a"), "--out", str(dest), "-q", "--max-steps", "3"]) in (0, 1)
    (tmp_path / "b").mkdir()
    shutil.copy2(tmp_path / "a" / "p0.png", tmp_path / "b" / "p0.png")
    _photo(tmp_path / "b" / "p1.png", 9)
    inputs = [Input(tmp_path / "b" / f"p{i}.png", f"p{i}") for i in range(2)]
    write_run_summary(dest, inputs, {})  # Ctrl+C before the first input: no outcomes
    return dest, read_summary(dest / "summary.csv")


def test_an_interrupted_run_does_not_credit_another_folders_sets_to_its_inputs(tmp_path, monkeypatch):
    """`explain b --out results --force`, Ctrl+C early, into a folder holding a's p0 and p1: b's inputs were listed as
    flipped with a's numbers (b/p1.png another photo altogether), and a's sets vanished from the summary."""
    dest, rows = _interrupted_summary(tmp_path, monkeypatch)
    got = [(r["file"], r["name"], r["status"]) for r in rows]
    b, a = str(tmp_path / "b"), str(tmp_path / "a")
    assert got[:2] == [(f"{b}/p0.png", "p0", "not run"), (f"{b}/p1.png", "p1", "not run")]
    assert sorted((f, n) for f, n, s in got[2:]) == [(f"{a}/p0.png", "p0"), (f"{a}/p1.png", "p1")]
    assert all(s != "not run" for _, _, s in got[2:])
    page = (dest / "index.html").read_text(encoding="utf-8")
    assert page.count("p0.figure.png") == 1 and page.count("p1.figure.png") == 1  # a's rows only, not b's "not run" rows


def test_export_all_lists_the_folders_sets_behind_a_not_run_row_of_the_same_name(tmp_path, monkeypatch):
    """The app's Export All of a run stopped before p0 and p1, into a folder holding another folder's p0 and p1: the
    copied summary listed p0 and p1 as "not run" only, and the folder's complete sets were in neither file."""
    from gradflip_desktop.core.dataset.job import write_run_summary

    dest, _ = _interrupted_summary(tmp_path, monkeypatch)
    run = tmp_path / "app-run"
    run.mkdir()
    from gradflip_desktop.core.dataset.inputs import Input

    write_run_summary(run, [Input(tmp_path / "b" / f"p{i}.png", f"p{i}") for i in range(2)], {})
    assert [r["status"] for r in read_summary(run / "summary.csv")] == ["not run", "not run"]
    copy_run_folder(run, dest, overwrite=True)
    rows = read_summary(dest / "summary.csv")
    assert [r["status"] for r in rows[:2]] == ["not run", "not run"]
    assert sorted(r["file"] for r in rows[2:]) == [str(tmp_path / "a" / f"p{i}.png") for i in range(2)]


def test_a_photo_edited_after_the_app_explained_it_keeps_its_one_row(tmp_path, monkeypatch):
    """The app passes no outcome for what it explained (errors only): a photo saved again since was listed as "not
    run" plus a second row for its own set."""
    from gradflip_desktop.core.dataset.inputs import Input
    from gradflip_desktop.core.dataset.job import write_run_summary

    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    photo = _photo(tmp_path / "a" / "p0.png", 0)
    dest = tmp_path / "results"
    assert cli.main(["explain", str(photo), "--out", str(dest), "-q", "--max-steps", "3"]) in (0, 1)
    _photo(photo, 4)  # edited since
    write_run_summary(dest, [Input(photo, "p0")], {})
    rows = read_summary(dest / "summary.csv")
    assert [(r["file"], r["status"] != "not run") for r in rows] == [(str(photo), True)]


def test_an_export_killed_part_way_leaves_at_most_one_set_without_its_record(tmp_path, monkeypatch):
    """Every set's other files were moved before any record: a kill scattered pieces of almost every set (58 loose
    files of 14 sets, no record among them). Now set by set: a kill leaves whole sets and at most one without its
    record. The staging folder names the exporting process: the next export or run into the folder sweeps a dead
    one's (it stayed for good, 13-21 MB)."""
    import os
    import time

    from gradflip_desktop.core.dataset import copy as copy_module
    from gradflip_desktop.core.images.writing import sweep_stale

    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    for i in range(4):
        _photo(tmp_path / "a" / f"p{i}.png", i)
    run, dest = tmp_path / "run", tmp_path / "export"
    assert cli.main(["explain", str(tmp_path / "a"), "--out", str(run), "-q", "--max-steps", "3"]) in (0, 1)
    real, moves = os.replace, []

    def replace(src, dst):
        if len(moves) == 13:  # a kill in the middle of the third set
            raise KeyboardInterrupt
        moves.append(dst)
        return real(src, dst)

    monkeypatch.setattr(copy_module.os, "replace", replace)
    try:
        copy_run_folder(run, dest, overwrite=False)
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    names = {p.name.split(".")[0] for p in dest.iterdir() if p.is_file()}
    incomplete = [n for n in names if not (dest / f"{n}.gradflip.json").exists()]
    assert len(incomplete) <= 1 and len(names) >= 2, (names, incomplete)
    # a killed export's staging folder (its process gone) is swept by the next run into the folder
    dead = dest / ".gradflip-export-999999999-abc"
    dead.mkdir()
    (dead / "x.png").write_bytes(b"x")
    t = time.time() - 120
    os.utime(dead, (t, t))
    assert sweep_stale(dest) == 1 and not dead.exists()



def _explained(tmp_path, monkeypatch, names):
    """Photos ``names`` explained into a run folder; returns (run folder, the export folder to be)."""
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    for i, n in enumerate(names):
        _photo(tmp_path / "a" / f"{n}.png", i)
    run = tmp_path / "run"
    assert cli.main(["explain", str(tmp_path / "a"), "--out", str(run), "-q", "--max-steps", "3"]) in (0, 1)
    return run, tmp_path / "export"


def _recorded_moves(monkeypatch, dest, stop_after=None) -> list[str]:
    """The names of the files an export moves into ``dest``, in order (as it goes; a kill after ``stop_after``)."""
    import os

    from gradflip_desktop.core.dataset import copy as copy_module

    real, moves = os.replace, []

    def replace(src, dst):
        if stop_after is not None and len(moves) == stop_after:
            raise KeyboardInterrupt
        moves.append(dst.name if dst.parent == dest else f"{dst.parent.name}/{dst.name}")
        return real(src, dst)

    monkeypatch.setattr(copy_module.os, "replace", replace)
    return moves


def test_each_set_moves_in_whole_and_its_record_last(tmp_path, monkeypatch):
    """A set's record (what makes it complete) comes after every file of its set, and the sets move one at a time,
    a set named like the start of another's (``a`` and ``a.b``) included: a kill never leaves a record over missing
    files, nor two sets without theirs."""
    run, dest = _explained(tmp_path, monkeypatch, ["a", "a.b", "c"])
    moves = _recorded_moves(monkeypatch, dest)
    copy_run_folder(run, dest, overwrite=False)
    sets = [m for m in moves if "/" not in m and m not in ("summary.csv", "index.html")]
    owner = [next(n for n in ("a.b", "c", "a") if m.startswith(n + ".")) for m in sets]
    assert [n for i, n in enumerate(owner) if i == 0 or owner[i - 1] != n] == ["a", "a.b", "c"]  # one after another
    for n in ("a", "a.b", "c"):
        mine = [m for m, o in zip(sets, owner) if o == n]
        assert mine[-1] == f"{n}.gradflip.json" and len(mine) >= 4
    assert moves[-2:] == ["index.html", "summary.csv"]


def test_replacing_sets_removes_their_old_records_before_any_file_moves(tmp_path, monkeypatch):
    """Export All over an earlier export of the same sets: a kill at the first move must not leave an old record
    beside new files (the set would read as complete and the earlier run's)."""
    run, dest = _explained(tmp_path, monkeypatch, ["p0", "p1"])
    copy_run_folder(run, dest, overwrite=False)
    assert sorted(p.name for p in dest.glob("*.gradflip.json")) == ["p0.gradflip.json", "p1.gradflip.json"]
    moves = _recorded_moves(monkeypatch, dest, stop_after=1)
    try:
        copy_run_folder(run, dest, overwrite=True)
    except KeyboardInterrupt:
        pass
    assert len(moves) == 1 and sorted(p.name for p in dest.glob("*.gradflip.json")) == []


def test_an_export_leaves_no_staging_folder_and_a_folder_of_the_same_name_is_no_clash(tmp_path, monkeypatch):
    run, dest = _explained(tmp_path, monkeypatch, ["p0"])
    (dest / ".thumbs").mkdir(parents=True)  # a folder, not a file: nothing to overwrite
    written = copy_run_folder(run, dest, overwrite=False)
    assert sorted(p.name for p in dest.iterdir() if p.name.startswith(".gradflip-export")) == []
    assert (dest / "p0.gradflip.json") in written and (dest / "summary.csv").is_file()


def test_export_all_over_a_checked_set_drops_the_old_sets_check(tmp_path, monkeypatch):
    """Export All over a folder whose set p0 was checked: the new p0 came in, the old check of another map stayed."""
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    _photo(tmp_path / "a" / "p0.png", 0)
    _photo(tmp_path / "a" / "p1.png", 1)
    dest, run = tmp_path / "results", tmp_path / "app-run"
    assert cli.main(["explain", str(tmp_path / "a"), "--out", str(dest), "-q", "--style", "free"]) == 0
    assert cli.main(["check", str(dest), "-q"]) == 0
    (tmp_path / "a" / "p1.png").unlink()
    assert cli.main(["explain", str(tmp_path / "a"), "--out", str(run), "-q", "--max-steps", "3"]) in (0, 1)
    copy_run_folder(run, dest, overwrite=True)
    assert not (dest / "p0.faithfulness.json").exists() and (dest / "p1.faithfulness.json").is_file()
    assert {line.split(",")[0] for line in (dest / "faithfulness.csv").read_text(encoding="utf-8").splitlines()[1:]} == {"p1"}
