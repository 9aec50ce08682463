"""`gradflip explain DIR`: folders, one progress line per image, summary.csv, index.html, --resume, batches.

All on the tiny model (``cli._load_model`` patched), photos generated in tmp_path.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from gradflip_desktop import cli
from gradflip_desktop.core.dataset import SUMMARY_COLUMNS, read_summary
from gradflip_desktop.core.report import SUFFIXES

from helpers import make_tiny


@pytest.fixture
def tiny_cli(monkeypatch):
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())


def _photo(path, seed):
    rng = np.random.default_rng(seed)
    base = rng.uniform(60, 200, size=(6, 8, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.kron(base, np.ones((4, 4, 1))).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "in"
    for i in range(5):
        _photo(d / f"p{i}.png", seed=i)
    _photo(d / "sub" / "deep.png", seed=9)
    (d / "notes.txt").write_text("not an image\n")
    (d / ".hidden.png").write_bytes(b"ignored")
    return d


def _names(out):
    return sorted(p.name for p in out.iterdir())


def _interrupt_run_at(monkeypatch, runner, n: int) -> list[str]:
    """Make the n-th call of ``runner.run`` raise KeyboardInterrupt (Ctrl+C); returns the names it was called with."""
    real, calls = runner.run, []

    def run(clf, img, opts, on_step=None, **kw):
        calls.append(img.name)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(clf, img, opts, on_step=on_step, **kw)

    monkeypatch.setattr(runner, "run", run)
    return calls


def test_folder_run_writes_sets_summary_and_gallery(tiny_cli, folder, tmp_path, capsys):
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n-cut-")  # looks like a PNG: an input that fails
    out = tmp_path / "out"
    code = cli.main(["explain", str(folder), "--out", str(out), "--no-key-pixels"])
    err = capsys.readouterr().err
    assert code == 2  # one input failed; the others still ran
    assert "skipped: " + str(folder / "notes.txt") + ": not an image" in err
    assert "sub: a folder (use --recursive" in err
    # where in the run, as the progress lines say: "[3/5]" (the inputs are explained in name order)
    assert re.search(r"^gradflip: error: \[\d/\d\] “broken.png” starts like a PNG file", err, re.M)
    progress = [ln for ln in err.splitlines() if ln.startswith("[")]
    assert len(progress) == 5 and progress[-1].startswith("[6/6 (100 %) · ")  # one line per image, rate and ETA
    assert all("images/s · ETA" in ln for ln in progress)
    rows = read_summary(out / "summary.csv")
    assert list(rows[0]) == list(SUMMARY_COLUMNS)
    assert [r["name"] for r in rows] == ["broken", "p0", "p1", "p2", "p3", "p4"]
    assert rows[0]["status"] == "error" and "truncated or corrupt" in rows[0]["message"]
    for r in rows[1:]:
        rec = json.loads((out / f"{r['name']}.gradflip.json").read_text(encoding="utf-8"))
        assert r["status"] == rec["status"] and int(r["final_index"]) == rec["final"]["index"]
        assert float(r["l2_saved"]) == pytest.approx(rec["l2_saved"], rel=1e-5)
        assert float(r["rms_saved"]) == pytest.approx(rec["rms_saved"], rel=1e-5)
        assert int(r["steps"]) == rec["steps"] and r["original_label"] == rec["original"]["label"]
        assert all((out / f"{r['name']}{s}").is_file() for s in SUFFIXES)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("data:image/jpeg;base64,") == 5  # a thumbnail strip per result, inlined
    assert "http://" not in page and "https://" not in page and "<link" not in page  # opens offline
    assert "Per class" in page and "class1" in page and "sortBy" in page
    strip = np.asarray(Image.open(out / ".thumbs" / "p0.jpg"))
    assert strip.shape[0] == 96 and strip.shape[1] > 3 * 96  # original | difference | key set


def test_recursive_names_results_by_their_path(tiny_cli, folder, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "-r", "--out", str(out), "-q", "--no-key-pixels"]) in (0, 1)
    rows = read_summary(out / "summary.csv")
    assert [r["name"] for r in rows] == ["p0", "p1", "p2", "p3", "p4", "sub_deep"]
    assert (out / "sub_deep.gradflip.json").is_file()


def test_progress_lines_name_an_image_by_its_path_inside_the_folder(tiny_cli, tmp_path, capsys):
    """Class folders that each hold a 001.png: each line says which one (not "001.png" twice)."""
    folder = tmp_path / "data"
    _photo(folder / "cats" / "001.png", seed=1)
    _photo(folder / "dogs" / "001.png", seed=2)
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "-r", "--out", str(out), "--no-key-pixels", "--max-steps", "3"]) in (0, 1)
    progress = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("[")]
    assert len(progress) == 2
    assert sorted(ln.split("] ", 1)[1].split(":", 1)[0] for ln in progress) == ["cats/001.png", "dogs/001.png"]


@pytest.mark.parametrize("out_inside", [".", "results"])
def test_results_written_inside_the_folder_are_not_explained_again(tiny_cli, tmp_path, capsys, out_inside):
    """--out the photo folder itself (or a subfolder with --recursive): a re-run explains the photos,
    never the adjusted/difference/figure PNGs of the first run (which would snowball run after run)."""
    folder = tmp_path / "photos"
    _photo(folder / "a.png", seed=1)
    out = folder / out_inside
    args = ["explain", str(folder), "-r", "--out", str(out), "--no-key-pixels", "--max-steps", "3"]
    assert cli.main(args) in (0, 1)
    assert cli.main([*args, "--resume"]) in (0, 1)
    err = capsys.readouterr().err
    # the output folder's result files: one line, not one per file (8 per photo, 2 for the summary); also
    # when --out is the photo folder itself (before: 10 "skipped" lines per photo on every re-run)
    assert [ln for ln in err.splitlines() if "skipped" in ln] == \
        [f"gradflip: skipped: {out}: the output folder of this run (10 result files)" if out != folder else
         f"gradflip: skipped: {out}: 10 result files of this run, which writes here (the photos are explained)"]
    assert sorted(p.name for p in out.glob("*.gradflip.json")) == ["a.gradflip.json"]
    assert [r["file"] for r in read_summary(out / "summary.csv")] == [str(folder / "a.png")]
    # a user's own file that merely ends like one (no record next to it) is still an image to explain
    _photo(folder / "b.figure.png", seed=2)
    assert cli.main([*args, "--resume"]) in (0, 1)
    assert (out / "b.figure.gradflip.json").is_file()


@pytest.fixture
def latin1_folder(tmp_path):
    """A folder holding b"caf\\xe9.png" (a Latin-1 name from an old archive); skipped where the file system refuses it."""
    folder = tmp_path / "photos"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.png")
    try:
        _photo(folder / name, seed=1)
    except (OSError, UnicodeError):  # a file system that only takes UTF-8 names: nothing to test there
        pytest.skip("this file system refuses non-UTF-8 file names")
    return folder


def test_a_file_name_that_is_not_utf8_gets_its_results_like_any_other(tiny_cli, latin1_folder, tmp_path, capsys):
    """b"caf\\xe9.png" (a Latin-1 name from an old archive): the run writes its set, record and summary
    instead of failing the whole run with "'utf-8' codec can't encode character '\\udce9'"."""
    folder = latin1_folder
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "--no-key-pixels", "--max-steps", "3", "--json"]) in (0, 1)
    printed = json.loads(capsys.readouterr().out)
    rec = json.loads((out / "caf_.gradflip.json").read_bytes().decode("utf-8"))
    assert rec["image"]["name"] == "caf\ufffd" and printed[0]["image"]["name"] == "caf\ufffd"
    assert [r["file"] for r in read_summary(out / "summary.csv")] == [str(folder / "caf\ufffd.png")]
    assert "caf\ufffd" in (out / "index.html").read_bytes().decode("utf-8")


def test_resume_keeps_the_set_of_a_file_name_that_is_not_utf8(tiny_cli, latin1_folder, tmp_path, capsys):
    """The record stores b"caf\\xe9.png" as "caf\ufffd.png" (UTF-8): --resume must still know the set as this
    file's, not refuse it as "of another image (caf\ufffd.png), not of caf\\udce9.png" and list it as an error."""
    folder = latin1_folder
    out = tmp_path / "out"
    args = ["explain", str(folder), "--out", str(out), "--no-key-pixels", "--max-steps", "3"]
    assert cli.main([*args, "-q"]) in (0, 1)
    before = (out / "caf_.gradflip.json").read_bytes()
    capsys.readouterr()
    assert cli.main([*args, "--resume"]) in (0, 1)
    err = capsys.readouterr().err
    assert "another image" not in err and "result set caf_.* already complete" in err  # named as written
    assert (out / "caf_.gradflip.json").read_bytes() == before
    (row,) = read_summary(out / "summary.csv")
    assert row["status"] != "error" and row["original_label"] != ""


def test_existing_results_stop_each_input_unless_resume(tiny_cli, folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels"]) in (0, 1)
    capsys.readouterr()
    assert cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 5 and all(ln.endswith("; use --resume to keep complete sets or --force to overwrite") for ln in lines)
    assert cli.main(["explain", str(folder), "--out", str(out), "-q", "--force", "--resume"]) == 2  # not both


def test_folder_without_images_is_an_error_not_an_empty_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_load_model", lambda args: pytest.fail("no model is needed"))
    empty, nested = tmp_path / "empty", tmp_path / "nested"
    empty.mkdir()
    _photo(nested / "sub" / "a.png", seed=1)
    (nested / "notes.txt").write_text("text\n")
    out = tmp_path / "out"
    assert cli.main(["explain", str(empty), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"gradflip: error: no images to explain in {empty}\n"
    assert cli.main(["explain", str(nested), "--out", str(out), "-q"]) == 2
    assert capsys.readouterr().err.endswith("; --recursive includes subfolders\n")
    assert not out.exists()  # no empty summary or gallery


def test_refused_rerun_keeps_the_summary_of_the_results_on_disk(tiny_cli, folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels"]) in (0, 1)
    before = read_summary(out / "summary.csv")
    (folder / "p0.png").unlink()
    _photo(folder / "p5.png", seed=5)  # new: explained; p1-p4: refused, their sets stay
    assert cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels"]) == 2
    rows = {r["name"]: r for r in read_summary(out / "summary.csv")}
    assert list(rows) == ["p1", "p2", "p3", "p4", "p5", "p0"]  # p0's set is still there: listed after the run's
    assert all(rows[r["name"]] == r for r in before if r["name"] != "p0")  # not replaced by "error" rows
    assert rows["p5"]["status"] != "error" and rows["p5"]["final_label"]
    assert {k: v for k, v in rows["p0"].items() if k != "file"} == {k: v for k, v in before[0].items() if k != "file"}
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("data:image/jpeg;base64,") == 6 and "already exist" not in page


def test_resume_recomputes_only_missing_and_partial_sets(tiny_cli, folder, tmp_path, capsys):
    out = tmp_path / "out"
    first = cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels"])
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    # p1: killed while writing (files, no record); p2: a file lost; p3: never written
    (out / "p1.gradflip.json").unlink()
    (out / "p2.delta.npy").unlink()
    for s in SUFFIXES:
        (out / f"p3{s}").unlink()
    (out / "summary.csv").unlink()
    code = cli.main(["explain", str(folder), "--out", str(out), "--resume", "--no-key-pixels"])
    err = capsys.readouterr().err
    assert code == first
    kept = [ln for ln in err.splitlines() if "(kept)" in ln]
    assert len(kept) == 2 and "p0.png (kept)" in err and "p4.png (kept)" in err
    for name in ("p0", "p4"):  # complete sets are not touched
        assert all((out / f"{name}{s}").stat().st_mtime_ns == mtimes[f"{name}{s}"] for s in SUFFIXES)
    for name in ("p1", "p2", "p3"):  # the others are complete again
        rec = json.loads((out / f"{name}.gradflip.json").read_text(encoding="utf-8"))
        assert sorted(rec["files"].values()) == sorted(f"{name}{s}" for s in SUFFIXES)
        assert all((out / f"{name}{s}").is_file() for s in SUFFIXES)
    rows = read_summary(out / "summary.csv")  # rebuilt from the records on disk: every input
    assert [r["name"] for r in rows] == ["p0", "p1", "p2", "p3", "p4"] and all(r["status"] for r in rows)


def test_the_rate_counts_no_unreadable_file_or_kept_set_as_explained(tiny_cli, tmp_path, capsys, monkeypatch):
    """A --resume run over a folder with two unreadable files and kept sets printed "648.67 images/s": the failed
    files (no time spent) counted as explained images (3/4 at 0.66 images/s after one image of 1.5 s, fresh too)."""
    d = tmp_path / "in"
    _photo(d / "a.png", seed=1)
    (d / "0_bad.png").write_bytes(b"not a png")
    (d / "1_bad.jpg").write_bytes(b"\xff\xd8 broken")
    seen = []
    import gradflip_desktop.core.dataset.job as job

    real = job.rate_text
    monkeypatch.setattr(job, "rate_text", lambda done, total, started, kept=0, batch=1: seen.append((done, kept)) or real(
        done, total, started, kept, batch))
    out = tmp_path / "out"
    cli.main(["explain", str(d), "--out", str(out), "--no-key-pixels"])
    err = capsys.readouterr().err
    assert err.count("is a text file, not an image") == 2 or err.count("not an image") == 2
    assert [done - kept for done, kept in seen] == [1]  # one image explained, whatever came before it
    seen.clear()
    cli.main(["explain", str(d), "--out", str(out), "--resume", "--no-key-pixels"])
    assert [done - kept for done, kept in seen] == [0] and "· -- images/s · " in capsys.readouterr().err


def test_resume_refuses_sets_made_with_other_settings(tiny_cli, folder, tmp_path, capsys):
    """--resume keeps a set only when it answers the question asked now: a set made with another style
    (or step budget, or working size) is named and kept, never passed off as this run's answer."""
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder / "p0.png"), str(folder / "p1.png"), "--out", str(out), "-q",
                     "--no-key-pixels", "--style", "free"]) in (0, 1)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    assert cli.main(["explain", str(folder / "p0.png"), str(folder / "p1.png"), "--out", str(out),
                     "--resume", "--no-key-pixels", "--style", "blur", "--max-steps", "50"]) == 2
    err = capsys.readouterr().err
    assert "(kept)" not in err
    lines = [ln for ln in err.splitlines() if "other settings" in ln]
    assert len(lines) == 2 and all("style free, not blur" in ln and "max_steps 200, not 50" in ln for ln in lines)
    assert all(ln.endswith("; use --force to overwrite") for ln in lines)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()} == mtimes  # nothing rewritten
    # the same settings again: kept; another working size: refused
    assert cli.main(["explain", str(folder / "p0.png"), "--out", str(out), "--resume", "--no-key-pixels",
                     "--style", "free"]) in (0, 1)
    assert "p0.png: " in capsys.readouterr().err
    assert cli.main(["explain", str(folder / "p0.png"), "--out", str(out), "--resume", "--no-key-pixels",
                     "--style", "free", "--max-side", "16"]) == 2
    assert "working size 32×24 px, not 16×12 px" in capsys.readouterr().err


def test_interrupted_folder_run_leaves_complete_sets_and_a_summary(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    from gradflip_desktop.core.explain import runner

    calls = _interrupt_run_at(monkeypatch, runner, 3)
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels", "--batch-size", "1"]) == 130
    assert "interrupted" in capsys.readouterr().err
    files = _names(out)
    for name in ("p0", "p1"):
        assert all(f"{name}{s}" in files for s in SUFFIXES)
    assert not [f for f in files if f.startswith(("p2", "p3", "p4"))]  # nothing half-written
    rows = read_summary(out / "summary.csv")
    assert [r["status"] for r in rows[2:]] == ["not run"] * 3
    assert not [f for f in files if f.endswith(".part")]
    # without -q it says what is kept and how to go on (it said only "interrupted")
    _interrupt_run_at(monkeypatch, runner, 3)
    again = tmp_path / "again"
    assert cli.main(["explain", str(folder), "--out", str(again), "--no-key-pixels", "--batch-size", "1"]) == 130
    err = capsys.readouterr().err
    assert f"gradflip: interrupted: 2 of 5 result sets are complete in {again}; the same command with --resume explains the rest" in err


def test_sigterm_stops_a_folder_run_like_ctrl_c(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    # `kill`, `timeout` and batch schedulers send SIGTERM: the finished sets stay whole and the summary is written
    import signal

    from gradflip_desktop.core.explain import runner

    def unhandled(signum, frame):  # the CLI must replace this while it runs (and put it back after)
        raise RuntimeError("SIGTERM reached the process's own handler")

    before = signal.signal(signal.SIGTERM, unhandled)
    real, calls = runner.run, []

    def run(clf, img, opts, on_step=None, **kw):
        calls.append(img.name)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(clf, img, opts, on_step=on_step, **kw)

    monkeypatch.setattr(runner, "run", run)
    out = tmp_path / "out"
    try:
        code = cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels", "--batch-size", "1"])
        assert signal.getsignal(signal.SIGTERM) is unhandled
    finally:
        signal.signal(signal.SIGTERM, before)
    assert code == 143 and "interrupted (SIGTERM)" in capsys.readouterr().err  # 128 + 15, as a shell reports it
    rows = read_summary(out / "summary.csv")
    assert [r["status"] for r in rows[3:]] == ["not run"] * 2
    files = _names(out)
    assert not [f for f in files if f.startswith(("p3", "p4")) or f.endswith(".part")]


def test_interrupted_batched_run_writes_the_finished_sets_whole_and_no_other(tiny_cli, folder, tmp_path, capsys,
                                                                            monkeypatch):
    from gradflip_desktop.core.explain import runner

    for i in range(5, 10):
        _photo(folder / f"p{i}.png", seed=i)
    calls = _interrupt_run_at(monkeypatch, runner, 4)  # images 1-3 started (two at a time); 1 or 2 finished
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels", "--batch-size", "2"]) == 130
    assert "interrupted" in capsys.readouterr().err
    files = _names(out)
    done = sorted({f.split(".")[0] for f in files if f.endswith(".gradflip.json")})
    assert 1 <= len(done) <= 3 and set(done) <= set(calls[:3])  # finished before the interrupt: written
    for name in {f.split(".")[0] for f in files if not f.startswith(".")} - {"summary", "index"}:
        assert name in done and all(f"{name}{s}" in files for s in SUFFIXES), name  # whole sets only
    assert not [f for f in files if f.endswith(".part")]
    rows = read_summary(out / "summary.csv")
    assert len(rows) == 10 and sum(r["status"] == "not run" for r in rows) == 10 - len(done)


def test_interrupt_while_writing_removes_that_sets_files(tiny_cli, tmp_path, capsys, monkeypatch):
    from gradflip_desktop.core.images import writing

    real, n = writing.os.replace, []

    def replace(src, dst):
        n.append(dst)
        if len(n) == 3:  # the third file of the set
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(writing.os, "replace", replace)
    img = _photo(tmp_path / "a.png", seed=1)
    out = tmp_path / "out"
    assert cli.main(["explain", str(img), "--out", str(out), "-q", "--no-key-pixels"]) == 130
    assert not out.exists()  # the two files already renamed were removed again, and the folder the run made


def test_batched_run_gives_the_answers_of_single_runs(tiny_cli, folder, tmp_path):
    for i in range(5, 12):
        _photo(folder / f"p{i:02d}.png", seed=i)
    recs = {}
    for bs in (1, 4):
        out = tmp_path / f"b{bs}"
        cli.main(["explain", str(folder), "--out", str(out), "-q", "--batch-size", str(bs)])
        recs[bs] = {r["name"]: r for r in read_summary(out / "summary.csv")}
    assert len(recs[1]) == 12 and recs[1].keys() == recs[4].keys()
    for name, single in recs[1].items():
        batched = recs[4][name]
        assert batched["status"] == single["status"] and batched["final_index"] == single["final_index"], name
        assert float(batched["l2_saved"]) == pytest.approx(float(single["l2_saved"]), rel=0.03), name
        assert batched["key_fraction"] == pytest.approx(single["key_fraction"], rel=0.05) if single["key_fraction"] else True


def test_summary_option_for_plain_files(tiny_cli, tmp_path):
    a, b = _photo(tmp_path / "a.png", 1), _photo(tmp_path / "b.png", 2)
    out = tmp_path / "out"
    cli.main(["explain", str(a), str(b), "--out", str(out), "-q", "--no-key-pixels"])
    assert not (out / "summary.csv").exists()  # plain files: only the result sets, as before
    cli.main(["explain", str(a), str(b), "--out", str(out), "-q", "--no-key-pixels", "--resume", "--summary"])
    assert [r["name"] for r in read_summary(out / "summary.csv")] == ["a", "b"]
    assert os.path.getsize(out / "index.html") > 1000


def test_two_folders_into_one_out_keep_both_in_the_summary_and_gallery(tiny_cli, tmp_path):
    """Before: the second run's summary.csv and index.html listed only its own images, although the first
    run's result sets were still in the folder."""
    first = [_photo(tmp_path / "one" / f"a{i}.png", i) for i in range(2)]
    _photo(tmp_path / "two" / "b0.png", 7)
    out = tmp_path / "out"
    assert cli.main(["explain", str(tmp_path / "one"), "--out", str(out), "-q", "--no-key-pixels"]) in (0, 1)
    first[1].unlink()  # a photo gone since: its result set is still in the folder
    (out / "stray.gradflip.json").write_text("{}")  # not a complete set: not listed
    assert cli.main(["explain", str(tmp_path / "two"), "--out", str(out), "-q", "--no-key-pixels"]) in (0, 1)
    rows = read_summary(out / "summary.csv")
    assert [(r["name"], r["file"]) for r in rows] == [
        ("b0", str(tmp_path / "two" / "b0.png")), ("a0", str(first[0])), ("a1", str(first[1]))]  # this run's first
    assert all(r["status"] and r["status"] != "error" and r["original_label"] for r in rows)
    gallery = (out / "index.html").read_text(encoding="utf-8")
    assert all(name in gallery for name in ("a0", "a1", "b0"))


def test_batch_size_reaches_the_engine(tiny_cli, folder, tmp_path, monkeypatch):
    from gradflip_desktop.core.explain import batch

    real, seen = batch.explain_batched, []

    def spy(*a, batch_size=1, **k):
        seen.append(batch_size)
        return real(*a, batch_size=batch_size, **k)

    monkeypatch.setattr(batch, "explain_batched", spy)
    cli.main(["explain", str(folder), "--out", str(tmp_path / "o"), "-q", "--batch-size", "3", "--no-key-pixels"])
    assert seen == [3]
    # on a CPU the default is one image at a time: batch 8 was no faster there, and a batch's float rounding
    # gave identical copies of a photo in one folder different key regions (and another flipped-to class)
    cli.main(["explain", str(folder), "--out", str(tmp_path / "o1"), "-q", "--no-key-pixels"])
    assert seen == [3, 1]


def test_thumbnail_strip_marks_the_key_set_of_each_style(tiny):
    from gradflip_desktop.core.dataset.gallery import thumbnail_strip
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions

    rng = np.random.default_rng(3)
    pixels = np.kron(rng.uniform(0.3, 0.7, size=(12, 16, 3)).astype(np.float32), np.ones((4, 4, 1), np.float32))
    for style in ("free", "region"):
        res = run(tiny, pixels, ExplainOptions(style=style))
        mask = res.key_pixels.mask if res.key_pixels is not None else (res.key_region.mask if res.key_region else None)
        strip = thumbnail_strip(res, height=48)
        third = strip[:, -64:].astype(int)  # the key-set panel (64 x 48: the photo's own aspect)
        assert mask is not None and mask.any(), style
        if style == "free":  # key pixels: red on the grey photo
            red = (third[..., 0] > 200) & (third[..., 1] < 80)
            assert red.any(), style
        else:  # the key region as the app and the figure draw it: a yellow outline, the rest dimmed
            from gradflip_desktop.core.viz.maps import REGION_LINE_RGB

            line = (np.abs(third - np.array(REGION_LINE_RGB)) <= 12).all(-1)
            assert line.any() and not ((third[..., 0] > 200) & (third[..., 1] < 80)).any(), style
            if not mask.all():  # outside the region the photo is dimmed
                photo = strip[:, :64].astype(int)
                outside = ~mask & ~line  # the photo is 48 x 64: the thumbnail's own size
                assert third[outside].mean() < photo[outside].mean(), style


def test_json_lists_the_records_in_input_order_whatever_order_they_finish(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    """With batches, images finish in any order; --json still lists them as the inputs were given."""
    from gradflip_desktop.core.dataset import job

    real = job.explain_inputs

    def finish_backwards(clf, inputs, opts, settings, on_outcome, **kw):
        got = []
        real(clf, inputs, opts, settings, on_outcome=lambda o, d, t: got.append(o), **kw)
        for i, o in enumerate(reversed(got)):
            on_outcome(o, i + 1, len(got))

    monkeypatch.setattr(job, "explain_inputs", finish_backwards)  # cli imports it from job when it runs
    paths = [str(folder / f"p{i}.png") for i in (3, 0, 4)]
    code = cli.main(["explain", *paths, "--out", str(tmp_path / "out"), "--json", "--quiet", "--no-key-pixels"])
    recs = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and [r["image"]["source"] for r in recs] == paths


# ---- an output folder that cannot take the results: refused before any image is explained ---------------

def test_a_read_only_out_is_refused_before_any_image_is_explained(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    from gradflip_desktop.core import report
    from gradflip_desktop.core.explain import runner

    out = tmp_path / "out"
    out.mkdir()
    real_stage = report.stage_bytes

    def stage(path, data):  # the folder is read-only (chmod does not stop root, who runs the tests here)
        if os.path.dirname(os.path.abspath(path)) == str(out):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stage(path, data)

    monkeypatch.setattr(report, "stage_bytes", stage)
    calls = _interrupt_run_at(monkeypatch, runner, 0)  # counts the explanations (none should start)
    code = cli.main(["explain", str(folder), "--out", str(out), "--batch-size", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert calls == []  # not one image explained into a folder that cannot keep it
    lines = [ln for ln in err.splitlines() if ln.startswith("gradflip: error")]
    assert lines == [f"gradflip: error: cannot write the results to {out}: the folder is read-only or you lack permission"]
    assert "summary:" not in err and "internal error" not in err
    assert list(out.iterdir()) == []


def test_a_summary_that_cannot_be_written_is_a_clear_error_and_never_hides_an_interrupt(
        tiny_cli, folder, tmp_path, capsys, monkeypatch):
    from gradflip_desktop.core.dataset import job
    from gradflip_desktop.core.explain import runner

    def disk_full(out_dir, rows):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(job, "write_summary", disk_full)
    code = cli.main(["explain", str(folder), "--out", str(tmp_path / "out"), "--batch-size", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "internal error" not in err
    assert f"cannot write the summary to {tmp_path / 'out'}: the disk is full" in err
    assert len(list((tmp_path / "out").glob("*.gradflip.json"))) == 5  # the result sets themselves are whole

    _interrupt_run_at(monkeypatch, runner, 2)
    code = cli.main(["explain", str(folder), "--out", str(tmp_path / "out2"), "--batch-size", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 130 and "interrupted" in err and "internal error" not in err


def test_a_full_disk_stops_the_run_at_the_first_set_it_cannot_write(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    """Before: every further image was explained and then failed to write, one error line each, for nothing."""
    import errno

    from gradflip_desktop.core import report
    from gradflip_desktop.core.explain import runner

    real_stage, sets = report.stage_bytes, []

    def stage(path, data):
        if str(path).endswith(".adjusted.png"):
            sets.append(path)
        if len(sets) > 2:  # the third set finds the disk full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_stage(path, data)

    monkeypatch.setattr(report, "stage_bytes", stage)
    calls = _interrupt_run_at(monkeypatch, runner, 99)  # counts the explanations
    out = tmp_path / "out"
    code = cli.main(["explain", str(folder), "--out", str(out), "--batch-size", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "internal error" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("gradflip: error")]
    assert errors == [f"gradflip: error: cannot write the results to {out}: the disk is full; the run stopped there: "
                      "2 result sets whole, 3 not written (free some space, then run the same command with --resume)"]
    assert len(calls) <= 3 + 2  # the images already in flight, not the whole folder
    assert len(list(out.glob("*.gradflip.json"))) == 2
    assert not [p for p in out.rglob("*") if ".part" in p.name]
    # the summary tells the set the full disk stopped from the inputs never reached (a CLI audit, session 43: it read
    # "not run: the run stopped before this input" for a photo that had been explained)
    rows = [r for r in read_summary(out / "summary.csv") if r["status"] == "not run"]
    why = [r["message"] for r in rows]
    assert why.count("explained, but the disk was full when its result set was written") == 1, why
    assert why.count("the run stopped before this input") == len(rows) - 1


def test_a_full_disk_counts_an_unreadable_input_apart_from_the_sets_it_cost(tiny_cli, folder, tmp_path, capsys,
                                                                            monkeypatch):
    """"with 2 of 6 result sets whole" counted an unreadable file among the sets the full disk cost."""
    import errno

    from gradflip_desktop.core import report

    (folder / "a_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not a whole image")
    real_stage, sets = report.stage_bytes, []

    def stage(path, data):
        if str(path).endswith(".adjusted.png"):
            sets.append(path)
        if len(sets) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_stage(path, data)

    monkeypatch.setattr(report, "stage_bytes", stage)
    code = cli.main(["explain", str(folder), "--out", str(tmp_path / "out"), "--batch-size", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[-1].endswith("the disk is full; the run stopped there: 2 result sets whole, 1 input failed "
                                         "(said above), 3 not written (free some space, then run the same command "
                                         "with --resume)")
    assert "a_broken.png" in err


def test_a_second_interrupt_during_the_clean_up_ends_the_process_at_once(tiny_cli, folder, tmp_path, capsys,
                                                                          monkeypatch):
    """Ctrl+C twice: the second one, while the first one's clean-up still waits for the batch's threads, ends
    the process at once with ``os._exit`` (a normal interpreter exit with torch threads still running aborts:
    "terminate called without an active exception", exit 134), after one line on stderr."""
    import signal

    from gradflip_desktop import cli_process
    from gradflip_desktop.core.dataset import job
    from gradflip_desktop.core.explain import runner

    class Exited(BaseException):
        pass

    def fake_exit(code):
        raise Exited(code)

    monkeypatch.setattr(os, "_exit", fake_exit)
    monkeypatch.setattr(cli_process, "SAME_SIGNAL_S", 0.0)  # the tiny model is fast: the second may come within 0.3 s
    real_run, real_summary = runner.run, job.write_run_summary
    calls = []

    def run(*a, **k):  # the first Ctrl+C arrives while the second image is explained
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return real_run(*a, **k)

    def summary(*a, **k):  # the second one during the clean-up
        os.kill(os.getpid(), signal.SIGINT)
        return real_summary(*a, **k)

    monkeypatch.setattr(runner, "run", run)
    monkeypatch.setattr(job, "write_run_summary", summary)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(Exited) as exited:
        cli.main(["explain", str(folder), "--out", str(tmp_path / "out"), "--batch-size", "1", "-q"])
    assert exited.value.args == (130,)
    assert "interrupted again" in capsys.readouterr().err
    signal.signal(signal.SIGINT, before)

    def terminate(*a, **k):  # a SIGTERM as the second: 143, as a shell reports it (it said 130)
        os.kill(os.getpid(), signal.SIGTERM)
        return real_summary(*a, **k)

    monkeypatch.setattr(job, "write_run_summary", terminate)
    calls.clear()
    before_term = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Exited) as exited:
        cli.main(["explain", str(folder), "--out", str(tmp_path / "out3"), "--batch-size", "1", "-q"])
    assert exited.value.args == (143,) and "interrupted again" in capsys.readouterr().err
    signal.signal(signal.SIGINT, before)
    signal.signal(signal.SIGTERM, before_term)

    # one Ctrl+C still stops the run as before (exit 130, the summary written), and the handlers are restored
    monkeypatch.setattr(job, "write_run_summary", real_summary)
    calls.clear()
    assert cli.main(["explain", str(folder), "--out", str(tmp_path / "out2"), "--batch-size", "1", "-q"]) == 130
    assert (tmp_path / "out2" / "summary.csv").is_file()
    assert signal.getsignal(signal.SIGINT) is before


def test_an_ignored_sigint_stays_ignored(tiny_cli, tmp_path, monkeypatch):
    """``gradflip explain ... &`` in a script (or nohup) starts with SIGINT ignored: the run keeps it so."""
    import signal

    from gradflip_desktop.core.explain import runner

    seen, real_run = [], runner.run
    monkeypatch.setattr(runner, "run", lambda *a, **k: (seen.append(signal.getsignal(signal.SIGINT)), real_run(*a, **k))[1])
    img = _photo(tmp_path / "a.png", seed=1)
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert cli.main(["explain", str(img), "--out", str(tmp_path / "out"), "-q"]) in (0, 1)
    finally:
        signal.signal(signal.SIGINT, before)
    assert seen == [signal.SIG_IGN]


def test_ctrl_c_while_a_set_is_written_lets_that_set_finish_whole(tiny_cli, tmp_path, capsys, monkeypatch):
    """The signal reaches the main thread, which waits for the writer thread in the middle of a set: the set
    is finished (the process would otherwise end with the thread half-way: some files renamed, the rest left
    as hidden temporary files) and the summary, written after it, lists it."""
    import signal
    import time

    from gradflip_desktop.core import report

    real, n = report.os.replace, []

    def replace(src, dst):
        n.append(dst)
        if len(n) == 3:  # the third file of the set
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.3)  # the main thread handles the signal meanwhile
        return real(src, dst)

    monkeypatch.setattr(report.os, "replace", replace)
    img = _photo(tmp_path / "a.png", seed=1)
    out = tmp_path / "out"
    assert cli.main(["explain", str(img), "--out", str(out), "-q", "--no-key-pixels", "--summary"]) == 130
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("a.")) == sorted(f"a{s}" for s in SUFFIXES)
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    (row,) = read_summary(out / "summary.csv")
    assert row["name"] == "a" and row["status"] == json.loads((out / "a.gradflip.json").read_text())["status"] != ""


def test_resume_never_keeps_the_set_of_another_image_with_the_same_name(tiny_cli, tmp_path, capsys):
    """Two folders with a p.png each, explained one after the other into one output folder: --resume must not
    answer for b/p.png with a/p.png's result set (nor list a/p.png's numbers under b/p.png in the summary)."""
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    _photo(a / "p.png", seed=1)
    _photo(b / "p.png", seed=2)
    assert cli.main(["explain", str(a), "--out", str(out), "-q", "--no-key-pixels"]) in (0, 1)
    before = (out / "p.gradflip.json").read_text()
    capsys.readouterr()
    code = cli.main(["explain", str(b), "--out", str(out), "--resume", "--no-key-pixels"])
    err = capsys.readouterr().err
    assert code == 2 and "(kept)" not in err and "already complete" not in err
    assert f"is of another image ({a / 'p.png'}), not of {b / 'p.png'}" in err
    assert (out / "p.gradflip.json").read_text() == before  # a's set untouched
    row, kept = read_summary(out / "summary.csv")
    assert row["file"] == str(b / "p.png") and row["status"] == "error" and row["original_label"] == ""
    # a/p.png's set is still in the folder: the summary (and the gallery) still list it, under its own file
    assert kept["file"] == str(a / "p.png") and kept["status"] != "error" and kept["original_label"] != ""
    page = (out / "index.html").read_text(encoding="utf-8")
    rows = {r.split('<td title="')[1].split('"')[0]: r for r in page.split("</tr>") if '<td title="' in r}
    assert "<img" in rows[str(a / "p.png")] and "<img" not in rows[str(b / "p.png")]  # a's thumbnail on a's row only
    # the same folder again: its own set is kept as before
    assert cli.main(["explain", str(a), "--out", str(out), "--resume", "--no-key-pixels"]) in (0, 1)
    assert "result set already complete" in capsys.readouterr().err
    (row,) = read_summary(out / "summary.csv")
    assert row["file"] == str(a / "p.png") and row["status"] != "error"


def test_resume_explains_again_a_set_whose_model_failed(tiny_cli, folder, tmp_path, monkeypatch, capsys):
    """A complete set whose run ended in a model error (e.g. out of memory on a GPU) is a failure of the moment:
    --resume explains it again and replaces its files; sets that ran to their end are kept untouched."""
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder / "p0.png"), str(folder / "p1.png"), "--out", str(out), "-q",
                     "--no-key-pixels", "--batch-size", "1"]) in (0, 1)
    rec1 = json.loads((out / "p1.gradflip.json").read_text(encoding="utf-8"))
    assert rec1["status"] != "model_error"
    # as if p1's run had failed in the model: the set is complete, its status model_error
    rec1["status"] = "model_error"
    (out / "p1.gradflip.json").write_text(json.dumps(rec1), encoding="utf-8")
    kept_mtime = (out / "p0.gradflip.json").stat().st_mtime_ns
    code = cli.main(["explain", str(folder / "p0.png"), str(folder / "p1.png"), "--out", str(out), "--resume",
                     "--no-key-pixels", "--batch-size", "1"])
    err = capsys.readouterr().err
    assert code in (0, 1)
    assert "p0.png (kept)" in err and "p1.png (kept)" not in err
    assert (out / "p0.gradflip.json").stat().st_mtime_ns == kept_mtime
    again = json.loads((out / "p1.gradflip.json").read_text(encoding="utf-8"))
    assert again["status"] != "model_error" and again["final"]["label"]
    # a set that ran to its end without a flip is an answer, not a failure: kept
    again["status"] = "budget_exhausted"
    (out / "p1.gradflip.json").write_text(json.dumps(again), encoding="utf-8")
    before = (out / "p1.gradflip.json").stat().st_mtime_ns
    cli.main(["explain", str(folder / "p1.png"), "--out", str(out), "--resume", "--no-key-pixels", "--batch-size", "1"])
    assert "already complete (--resume)" in capsys.readouterr().err
    assert (out / "p1.gradflip.json").stat().st_mtime_ns == before


def test_a_link_to_a_folder_is_named_as_skipped_not_followed(tiny_cli, tmp_path, capsys):
    """--recursive does not follow links to folders (they can loop or repeat a folder); each one is a
    'skipped' line that says how to include it, never a silent gap in the run."""
    folder = tmp_path / "photos"
    _photo(folder / "a.png", seed=1)
    _photo(tmp_path / "elsewhere" / "b.png", seed=2)
    (folder / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "-r", "--out", str(out), "--no-key-pixels", "--max-steps", "3"]) in (0, 1)
    err = capsys.readouterr().err
    for name in ("more", "loop"):
        assert f"gradflip: skipped: {folder / name}: a link to a folder, not followed" in err
    assert sorted(p.name for p in out.glob("*.gradflip.json")) == ["a.gradflip.json"]


def test_a_killed_runs_staged_files_are_swept_by_the_next_run_and_nothing_else(tiny_cli, tmp_path):
    """A run killed mid-write (SIGKILL: no clean-up) leaves '.gradflip-<pid>-….part' files; the next run into
    that folder removes those whose writer is gone and which are over a minute old, and nothing else."""
    import os
    import subprocess
    import sys
    import time

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has exited
    folder, out = tmp_path / "photos", tmp_path / "out"
    _photo(folder / "a.png", seed=1)
    out.mkdir()
    old = time.time() - 3600
    stale = out / f".gradflip-{pid}-abc.part"
    fresh = out / f".gradflip-{pid}-def.part"  # the same dead writer, but written just now: kept this time
    mine = out / f".gradflip-{os.getpid()}-ghi.part"  # a live writer's
    other = out / ".gradflip-notes.part"  # not a staged file's name
    (out / ".thumbs").mkdir()
    thumb = out / ".thumbs" / f".gradflip-{pid}-jkl.part"  # a killed run's gallery thumbnail: never swept before
    for p in (stale, fresh, mine, other, thumb):
        p.write_bytes(b"half")
    for p in (stale, mine, other, thumb):
        os.utime(p, (old, old))
    assert cli.main(["explain", str(folder), "--out", str(out), "--no-key-pixels", "--max-steps", "3"]) in (0, 1)
    assert not stale.exists() and not thumb.exists()
    assert fresh.exists() and mine.exists() and other.exists()
    assert (out / "a.gradflip.json").is_file()


def test_a_photo_edited_since_its_set_was_made_is_explained_again_by_resume(tiny_cli, tmp_path, capsys):
    """--resume keeps a set only while its photo is the file it was made from: another photo copied over
    it is explained again (the kept record would describe a picture that is gone); a copy of the same
    bytes (new modification time) is kept."""
    import os
    import shutil

    folder, out = tmp_path / "photos", tmp_path / "out"
    _photo(folder / "p.png", seed=1)
    args = ["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels", "--max-steps", "3"]
    assert cli.main(args) in (0, 1)
    rec = json.loads((out / "p.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["file"]["bytes"] == (folder / "p.png").stat().st_size and len(rec["image"]["file"]["sha256"]) == 64
    mtime = (out / "p.gradflip.json").stat().st_mtime_ns
    shutil.copyfile(folder / "p.png", tmp_path / "same.png")  # the same bytes, written again: a new mtime
    os.replace(tmp_path / "same.png", folder / "p.png")
    capsys.readouterr()
    assert cli.main([*args, "--resume"]) in (0, 1)
    assert (out / "p.gradflip.json").stat().st_mtime_ns == mtime  # kept
    assert "explained again" not in capsys.readouterr().err
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 255, size=(20, 40, 3), dtype=np.uint8)).save(folder / "p.png")  # another photo
    assert cli.main([*args, "--resume"]) in (0, 1)
    # said (it was explained again without a word, as if --resume had not seen the set)
    assert "gradflip: note: p.png: the photo changed since its set was made: explained again" in capsys.readouterr().err
    rec = json.loads((out / "p.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["working_size"] == [40, 20]  # explained again: the record is the new photo's
    assert rec["image"]["file"]["sha256"] != "" and rec["image"]["file"]["bytes"] == (folder / "p.png").stat().st_size


def test_resume_says_when_it_replaces_a_set_whose_record_it_cannot_read(tiny_cli, tmp_path, capsys):
    """A record that is there but cannot be read (damaged, or a folder of that name; not allowed, for another user)
    is no interrupted run's: --resume explains the photo again, as before, and now says why (a helper's set with an
    unreadable record was rewritten, exit 0, without a word). A set cut short before its record was written is
    still replaced without a note."""
    folder, out = tmp_path / "photos", tmp_path / "out"
    _photo(folder / "p.png", seed=1)
    args = ["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels", "--max-steps", "3", "--resume"]
    assert cli.main(args) in (0, 1)
    record = out / "p.gradflip.json"
    record.write_text("{not json", encoding="utf-8")
    capsys.readouterr()
    assert cli.main(args) in (0, 1)
    assert "gradflip: note: p.png: its record p.gradflip.json is damaged (not JSON): explained again" in capsys.readouterr().err
    assert json.loads(record.read_text(encoding="utf-8"))["image"]["working_size"]  # written anew, whole
    record.unlink()
    record.mkdir()  # a folder of its name: read_regular refuses it (an OSError, as a file one may not read)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "gradflip: note: p.png: its record p.gradflip.json could not be read (" in err
    record.rmdir()
    (out / "p.adjusted.png").unlink(missing_ok=True)  # the record missing: an interrupted set, replaced silently
    assert cli.main(args) in (0, 1)
    assert "explained again" not in capsys.readouterr().err


def test_a_photo_replaced_while_it_is_explained_is_explained_again_by_resume(tiny_cli, tmp_path, monkeypatch):
    """The record's file fingerprint is the file that was explained, taken when it was loaded: before, it
    was taken when the set was written, so a photo replaced during its explanation (a sync client, an
    export still running) got the new file's digest on the old photo's answer, and --resume kept it."""
    import hashlib

    from gradflip_desktop.core.dataset import job

    folder, out = tmp_path / "photos", tmp_path / "out"
    photo = _photo(folder / "p.png", seed=1)
    explained = hashlib.sha256(photo.read_bytes()).hexdigest()
    real_load = job.load_image

    def load_then_replace(path, **kw):
        img = real_load(path, **kw)
        rng = np.random.default_rng(5)  # another photo lands while this one is being explained
        Image.fromarray(rng.integers(0, 255, size=(20, 40, 3), dtype=np.uint8)).save(path)
        return img

    args = ["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels", "--max-steps", "3"]
    monkeypatch.setattr(job, "load_image", load_then_replace)
    assert cli.main(args) in (0, 1)
    monkeypatch.setattr(job, "load_image", real_load)
    rec = json.loads((out / "p.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["working_size"] == [32, 24]  # the first photo's answer ...
    assert rec["image"]["file"]["sha256"] == explained  # ... with the first photo's digest
    assert cli.main([*args, "--resume"]) in (0, 1)
    rec = json.loads((out / "p.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["working_size"] == [40, 20]  # the photo there now, explained again


def test_resume_keeps_a_set_whose_only_difference_is_options_the_style_ignored(tiny_cli, folder, tmp_path, capsys):
    """--blur-sigma, --no-refine and --no-lattice given with a style that does not use them: a note says they are
    ignored, and the record keeps them as given; --resume without them then refused the set as "made with other
    settings (blur_sigma 3.0, not none; refine False, not True; ...)" although the answer is the same."""
    out = tmp_path / "out"
    photo = str(folder / "p0.png")
    assert cli.main(["explain", photo, "--out", str(out), "-q", "--no-key-pixels", "--style", "blur",
                     "--no-refine", "--no-lattice"]) in (0, 1)
    assert cli.main(["explain", photo, "--out", str(tmp_path / "free"), "-q", "--no-key-pixels", "--style", "free",
                     "--smoothing", "1", "--blur-sigma", "3", "--no-lattice"]) in (0, 1)
    capsys.readouterr()
    assert cli.main(["explain", photo, "--out", str(out), "--resume", "--no-key-pixels", "--style", "blur"]) in (0, 1)
    err = capsys.readouterr().err
    assert "other settings" not in err and "already complete" in err
    code = cli.main(["explain", photo, "--out", str(tmp_path / "free"), "--resume", "--no-key-pixels", "--style", "free",
                     "--smoothing", "1"])
    err = capsys.readouterr().err
    assert code in (0, 1) and "other settings" not in err and "already complete" in err
    # an option the style does use still counts
    assert cli.main(["explain", photo, "--out", str(out), "--resume", "--no-key-pixels", "--style", "blur",
                     "--blur-sigma", "3"]) == 2
    assert "blur_sigma" in capsys.readouterr().err


def test_resume_refuses_sets_made_with_other_model_settings(monkeypatch, tmp_path, capsys):
    """The record's model entry holds what besides the weights decides the answers (input size, channels,
    mean, std, labels); --resume refuses a set made with other ones, naming the difference."""
    from gradflip_desktop.core.models import Preprocessing

    def model(**pre):
        clf = make_tiny()
        clf.preprocessing = Preprocessing(**{**vars(clf.preprocessing), **pre})
        return clf

    folder, out = tmp_path / "photos", tmp_path / "out"
    _photo(folder / "p.png", seed=1)
    args = ["explain", str(folder / "p.png"), "--out", str(out), "-q", "--no-key-pixels", "--max-steps", "3"]
    monkeypatch.setattr(cli, "_load_model", lambda a: model())
    assert cli.main(args) in (0, 1)
    rec = json.loads((out / "p.gradflip.json").read_text(encoding="utf-8"))
    assert rec["model"]["classes"] == 4 and rec["model"]["channels"] == 3 and len(rec["model"]["labels_sha256"]) == 16
    capsys.readouterr()
    monkeypatch.setattr(cli, "_load_model", lambda a: model(std=(0.5, 0.5, 0.5)))
    assert cli.main([*args, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "other settings (model std " in err and "not [0.5, 0.5, 0.5]" in err
    renamed = model()
    renamed.labels = [f"kind {i}" for i in range(4)]
    monkeypatch.setattr(cli, "_load_model", lambda a: renamed)
    assert cli.main([*args, "--resume"]) == 2
    assert "other settings (other labels)" in capsys.readouterr().err
    monkeypatch.setattr(cli, "_load_model", lambda a: model())
    assert cli.main([*args, "--resume"]) in (0, 1)  # the same again: kept
    assert "other settings" not in capsys.readouterr().err


def test_a_file_listed_twice_under_other_names_is_explained_once(tiny_cli, tmp_path, capsys):
    """A folder given with the folder around it (--recursive), or a file given with a link to it: each image
    is explained once, named from the outer folder, and no other image's name is taken."""
    fold = tmp_path / "fold"
    _photo(fold / "horse.png", seed=1)
    _photo(fold / "sub" / "horse.png", seed=2)
    (tmp_path / "link.png").symlink_to(fold / "horse.png")
    out = tmp_path / "out"
    code = cli.main(["explain", str(fold / "sub"), str(fold), str(tmp_path / "link.png"), "-r", "--out", str(out),
                     "--no-key-pixels", "--max-steps", "3"])
    err = capsys.readouterr().err
    assert code in (0, 1), err
    assert f"skipped: {fold / 'sub'}: inside {fold}, also given" in err
    assert sorted(p.name for p in out.glob("*.gradflip.json")) == ["horse.gradflip.json", "sub_horse.gradflip.json"]
    assert sorted(r["name"] for r in read_summary(out / "summary.csv")) == ["horse", "sub_horse"]


def test_a_link_loop_named_by_itself_is_one_error_and_the_other_photos_go_on(tiny_cli, tmp_path, capsys):
    """`gradflip classify a.png good.png` where a.png -> b.png -> a.png: on Python 3.11 Path.resolve() raised
    RuntimeError("Symlink loop") while finding files listed twice, and the whole run ended as an internal error
    (exit 3) before any photo was read. The loop is that input's error; the other photo is classified/explained."""
    good = _photo(tmp_path / "good.png", seed=1)
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    loop = str(tmp_path / "a.png")
    assert cli.main(["classify", loop, str(good), "-k", "1"]) == 2
    cap = capsys.readouterr()
    assert "internal error" not in cap.err and "a.png" in cap.err and "good.png:" in cap.out
    out = tmp_path / "out"
    assert cli.main(["explain", loop, str(good), "--out", str(out), "--no-key-pixels", "--max-steps", "3"]) == 2
    assert "internal error" not in capsys.readouterr().err
    assert (out / "good.gradflip.json").is_file()


def test_one_interrupt_delivered_twice_at_once_is_one_interrupt(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    """`timeout -s INT` signals the process and then its group: the same SIGINT arrives twice within
    microseconds. That is one Ctrl+C (the run stops cleanly, exit 130, summary written), not two."""
    import signal

    from gradflip_desktop.core.explain import runner

    class Exited(BaseException):
        pass

    def fake_exit(code):
        raise Exited(code)

    monkeypatch.setattr(os, "_exit", fake_exit)
    real_run, calls = runner.run, []

    def run(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            handler = signal.getsignal(signal.SIGINT)
            try:
                handler(signal.SIGINT, None)
            finally:  # the second delivery, right after the first
                handler(signal.SIGINT, None)
        return real_run(*a, **k)

    monkeypatch.setattr(runner, "run", run)
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "--batch-size", "1", "-q"]) == 130
    assert "interrupted again" not in capsys.readouterr().err
    assert (out / "summary.csv").is_file()


def test_a_batch_size_larger_than_the_run_starts_no_more_workers_than_images(tiny_cli, folder, tmp_path, monkeypatch):
    """--batch-size 1000000 on a few photos: as many batch workers as photos, not a million threads (it took
    2.9 GB and over a minute on one 64 px photo before the first step)."""
    import re
    import threading

    started = []
    real_start = threading.Thread.start

    def start(self):
        if re.fullmatch(r"gradflip-batch-\d+", self.name):
            started.append(self.name)
            if len(started) > 50:
                raise RuntimeError("too many batch workers started")
        return real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    out = tmp_path / "out"
    code = cli.main(["explain", str(folder), "--out", str(out), "--quiet", "--max-steps", "2",
                     "--batch-size", "1000000"])
    assert code in (cli.EXIT_OK, cli.EXIT_NOT_FLIPPED)
    assert len(started) == 5  # one worker per photo of the folder's 5 photos (sub/ needs --recursive)
    assert len([p for p in out.iterdir() if p.name.endswith(".gradflip.json")]) == 5


@pytest.mark.parametrize("flag", ["--force", "--resume"])
def test_a_result_file_never_replaces_a_photo_of_the_same_run(flag, tiny_cli, tmp_path, capsys):
    """A folder holding holiday.png and a photo named holiday.figure.png, explained into itself: holiday's
    figure would be written over the other photo. --force (or --resume, which recomputes a partial set
    "replacing its files") overwrote the user's photo; now holiday.png is one error line naming it, the other
    photo is explained and kept byte for byte."""
    d = tmp_path / "photos"
    _photo(d / "holiday.png", seed=1)
    other = _photo(d / "holiday.figure.png", seed=2)
    before = other.read_bytes()
    code = cli.main(["explain", str(d), "--out", str(d), "--quiet", "--max-steps", "2", flag])
    assert code == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "Traceback" not in err and "would replace" in err and "holiday.figure.png" in err
    assert other.read_bytes() == before
    assert (d / "holiday.figure.gradflip.json").is_file()  # the other photo was explained
    assert not (d / "holiday.gradflip.json").exists()


def test_a_photo_added_to_the_folder_leaves_the_kept_sets_and_the_summary_as_they_were(tiny_cli, tmp_path):
    """Photo.jpg added to a folder whose photo.png was explained: --resume keeps photo.png's set and explains
    only Photo.jpg (before: Photo.jpg, sorted first, took the name "photo", photo.png was explained again as
    "photo_png", and summary.csv listed photo.png twice: 3 rows for 2 photos)."""
    folder, out = tmp_path / "photos", tmp_path / "out"
    _photo(folder / "photo.png", seed=1)
    args = ["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels", "--max-steps", "3"]
    assert cli.main(args) in (0, 1)
    mtime = (out / "photo.gradflip.json").stat().st_mtime_ns
    _photo(folder / "Photo.jpg", seed=2)
    assert cli.main([*args, "--resume"]) in (0, 1)
    assert (out / "photo.gradflip.json").stat().st_mtime_ns == mtime  # kept, not explained again
    rows = read_summary(out / "summary.csv")
    assert sorted(os.path.basename(r["file"]) for r in rows) == ["Photo.jpg", "photo.png"]
    assert sorted(p.name for p in out.glob("*.gradflip.json")) == ["Photo_jpg.gradflip.json", "photo.gradflip.json"]


def test_json_after_an_interrupt_lists_the_sets_written_before_it(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    """Ctrl+C during a folder run with --json printed nothing, although the sets finished before it were on disk:
    a script reading stdout lost them. Now stdout is one JSON list of those records."""
    from gradflip_desktop.core.explain import runner

    _interrupt_run_at(monkeypatch, runner, 3)
    out = tmp_path / "out"
    code = cli.main(["explain", str(folder), "--out", str(out), "--batch-size", "1", "--json", "-q"])
    io = capsys.readouterr()
    assert code == 130
    recs = json.loads(io.out)
    assert isinstance(recs, list) and len(recs) == 2
    assert sorted(r["image"]["name"] for r in recs) == sorted(p.name.split(".")[0] for p in out.glob("*.gradflip.json"))


def test_a_file_name_the_system_refuses_is_one_line_not_an_internal_error(tiny_cli, tmp_path, capsys):
    """A name over 255 bytes made ``Path.is_dir`` raise "File name too long": exit 3, "internal error … (please
    report this)". It is now the loader's one line about that file, exit 2, for explain and classify alike."""
    long = str(tmp_path / ("x" * 300 + ".png"))
    for argv in (["explain", long, "--out", str(tmp_path / "o"), "-q"], ["classify", long], ["classify", long, "--json"]):
        assert cli.main(argv) == cli.EXIT_BAD_INPUT
        err = capsys.readouterr().err
        assert "internal error" not in err and "File name too long" in err and len(err.strip().splitlines()) == 1


def test_resume_names_a_kept_set_whose_name_is_not_the_files_own(tiny_cli, tmp_path, capsys):
    """A fresh line said "wrote 8 files (cats_001.*)"; the kept line of --resume said only "cats/001.png (kept)"."""
    folder = tmp_path / "data"
    _photo(folder / "cats" / "001.png", seed=1)
    _photo(folder / "top.png", seed=2)
    out = tmp_path / "out"
    args = ["explain", str(folder), "-r", "--out", str(out), "--no-key-pixels", "--max-steps", "3"]
    assert cli.main(args) in (0, 1)
    capsys.readouterr()
    assert cli.main(args + ["--resume"]) in (0, 1)
    kept = {ln.split("] ", 1)[1].split(" (kept)", 1)[0]: ln for ln in capsys.readouterr().err.splitlines() if "(kept)" in ln}
    assert "result set cats_001.* already complete (--resume)" in kept["cats/001.png"]
    assert "result set already complete (--resume)" in kept["top.png"]  # its own name: not repeated


def test_interrupt_line_counts_a_linked_photo_once_like_the_progress_lines(tiny_cli, folder, tmp_path, capsys,
                                                                           monkeypatch):
    # a link to a photo of the folder is explained once ("listed twice; explained once", progress "k/5"); the
    # interrupt line said "2 of 6 result sets are complete", counting it twice
    from gradflip_desktop.core.explain import runner

    (folder / "link.png").symlink_to(folder / "p0.png")
    _interrupt_run_at(monkeypatch, runner, 3)
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "--no-key-pixels", "--batch-size", "1"]) == 130
    err = capsys.readouterr().err
    assert "[2/5 (" in err
    assert f"gradflip: interrupted: 2 of 5 result sets are complete in {out}" in err
    # the user listed one folder: the link is named as the same file, not as "listed twice"
    assert f"link.png is a link to {folder / 'p0.png'}; explained once" in err
    assert "listed twice" not in err
    assert (out / "p0.gradflip.json").is_file() and not (out / "link.gradflip.json").exists()  # named after the photo


def test_a_plain_file_rerun_into_a_folder_with_a_summary_rebuilds_it(tiny_cli, tmp_path):
    """Before: `explain photos/ --out r` then `explain photos/a.png --out r --force --style free` replaced a's
    set, but r/summary.csv and r/index.html went on saying style region (and the old status and numbers)."""
    d = tmp_path / "in"
    _photo(d / "a.png", 1), _photo(d / "b.png", 2)
    out = tmp_path / "out"
    cli.main(["explain", str(d), "--out", str(out), "-q", "--no-key-pixels"])
    assert {r["style"] for r in read_summary(out / "summary.csv")} == {"region"}
    cli.main(["explain", str(d / "a.png"), "--out", str(out), "-q", "--force", "--style", "free", "--no-key-pixels"])
    rows = {r["name"]: r for r in read_summary(out / "summary.csv")}
    rec = json.loads((out / "a.gradflip.json").read_text(encoding="utf-8"))
    assert set(rows) == {"a", "b"} and rows["a"]["style"] == rec["options"]["style"] == "free"
    assert rows["b"]["style"] == "region"


def test_a_target_index_out_of_range_is_refused_before_the_folders_earlier_sets(tiny_cli, folder, tmp_path, capsys):
    """A helper's CLI audit (session 43): `--target 1000` into a folder holding earlier sets said "… result files …
    already exist"; after --force, "class index 1000 out of range" once per photo. Now the index first, once."""
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder / "p0.png"), "--out", str(out), "-q", "--no-key-pixels"]) in (0, 1)
    capsys.readouterr()
    assert cli.main(["explain", str(folder / "p0.png"), "--out", str(out), "--target", "1000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gradflip: error: class index 1000 out of range (0–"), err


def test_an_unknown_group_is_refused_once_before_any_photo(tiny_cli, folder, tmp_path, capsys):
    """Before: `explain photos/ --group abc` printed the same error once per photo, decoded every photo and
    wrote a summary.csv of errors; a --target typo was already refused once, before any photo."""
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "--group", "abc"]) == 2
    err = capsys.readouterr().err
    assert err.count("unknown class group") == 1 and not (out / "summary.csv").exists()


def test_quiet_still_says_how_to_go_on_after_an_interrupt(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    # --quiet ("no progress on stderr") also dropped "N of M result sets are complete … --resume explains the rest",
    # leaving only "interrupted"
    from gradflip_desktop.core.explain import runner

    _interrupt_run_at(monkeypatch, runner, 3)
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "--no-key-pixels", "--batch-size", "1", "-q"]) == 130
    err = capsys.readouterr().err
    assert f"result sets are complete in {out}; the same command with --resume explains the rest" in err
    assert "[1/" not in err  # still no progress lines


def test_a_one_photo_run_interrupted_after_its_set_was_written_says_the_set_is_complete(tiny_cli, folder, tmp_path,
                                                                                         capsys, monkeypatch):
    # Ctrl+C after the set was written (here: during its gallery thumbnail) said only "interrupted", and a plain
    # re-run was then refused ("already exist") with no word that the set was complete
    from gradflip_desktop.core.dataset import gallery

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(gallery, "write_thumbnail", interrupted)
    out, photo = tmp_path / "out", folder / "p0.png"
    assert cli.main(["explain", str(photo), "--out", str(out), "--no-key-pixels", "--summary", "--json"]) == 130
    captured = capsys.readouterr()
    assert f"p0.png: its result set was being written when the interrupt came and is complete, in {out}" in captured.err
    from gradflip_desktop.core.dataset import complete_record

    record = complete_record(out, "p0")
    assert record is not None
    # --json: "the records of the sets written before it are printed"; one photo's printed nothing
    assert json.loads(captured.out) == record


def test_a_folder_run_interrupted_while_its_last_set_is_written_counts_and_lists_that_set(tiny_cli, folder, tmp_path,
                                                                                          capsys, monkeypatch):
    """A helper's CLI audit (session 43): Ctrl+C while a folder's last set was being written finished the set (on
    disk, in summary.csv, kept by --resume) but said "4 of 5 result sets are complete", never printed its line, and
    --json left its record out."""
    from gradflip_desktop.core.dataset import complete_record, gallery

    real, calls = gallery.write_thumbnail, []

    def interrupted(*a, **k):  # the last photo's thumbnail: after its set's files, as a Ctrl+C at that moment
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(gallery, "write_thumbnail", interrupted)
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder), "--out", str(out), "--no-key-pixels", "--json", "--batch-size", "1"]) == 130
    captured = capsys.readouterr()
    names = sorted(p.name[: -len(".gradflip.json")] for p in out.glob("*.gradflip.json"))
    assert len(names) == 5 and all(complete_record(out, n) is not None for n in names)
    last = [line for line in captured.err.splitlines() if "was being written when the interrupt came" in line]
    assert len(last) == 1 and last[0].startswith("gradflip: ") and last[0].endswith(" is complete"), last
    # (the summary was not written yet: --resume writes it)
    assert f"gradflip: interrupted: 5 of 5 result sets are complete in {out}; the same command with --resume writes" in captured.err
    assert "--resume explains the rest" not in captured.err and captured.err.count("gradflip: interrupted") == 1
    records = json.loads(captured.out)  # the last set's record too
    assert sorted(r["files"]["gradflip"][: -len(".gradflip.json")] for r in records) == names


def test_an_interrupt_counts_a_file_given_under_two_spellings_once(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    """(a review of session 43's interrupt report) `explain in/p0.png in/../in/p0.png in/p1.png …` explains p0 once;
    interrupted at p1, the second spelling's set (p0's) was counted as "being written when the interrupt came": "2
    of 3 result sets are complete" with one on disk, and --json listed p0 twice."""
    from gradflip_desktop.core.explain import runner

    _interrupt_run_at(monkeypatch, runner, 2)  # p1's run
    out = tmp_path / "out"
    p0, other = folder / "p0.png", folder / ".." / folder.name / "p0.png"
    assert cli.main(["explain", str(p0), str(other), str(folder / "p1.png"), str(folder / "p2.png"), "--out", str(out),
                     "--no-key-pixels", "--batch-size", "1", "--json"]) == 130
    captured = capsys.readouterr()
    assert "was being written when the interrupt came" not in captured.err, captured.err
    assert f"gradflip: interrupted: 1 of 3 result sets are complete in {out}" in captured.err, captured.err
    assert [r["files"]["gradflip"] for r in json.loads(captured.out)] == ["p0.gradflip.json"]


def test_a_one_photo_run_interrupted_while_it_computes_says_nothing_is_kept(tiny_cli, folder, tmp_path, capsys, monkeypatch):
    """It said only "interrupted"; then "0 of 1 result sets are complete … --resume explains the rest"."""
    from gradflip_desktop.core.explain import runner

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder / "p0.png"), "--out", str(out), "--json"]) == 130
    captured = capsys.readouterr()
    assert captured.out == ""
    # "0 of 1 result sets are complete in out; … --resume explains the rest", a blank line, "interrupted": a folder
    # that was never made, and nothing for --resume to keep
    assert captured.err.strip().splitlines()[-1:] == ["gradflip: interrupted before any result set was complete; nothing to keep"]
    assert "--resume" not in captured.err and captured.err.count("interrupted") == 1
    assert not out.exists() or not any(out.iterdir())
    # with --summary the summary is written all the same, and the line says what the folder holds ("nothing to keep"
    # stood beside a new summary.csv and index.html)
    out2 = tmp_path / "out2"
    assert cli.main(["explain", str(folder / "p0.png"), str(folder / "p1.png"), "--out", str(out2), "--summary"]) == 130
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (f"gradflip: interrupted before any result set was complete: {out2} holds only summary.csv and "
                    "index.html, which list the inputs as not run")
    assert sorted(p.name for p in out2.iterdir()) == ["index.html", "summary.csv"]


def test_written_since_tells_a_set_of_this_run_from_an_older_one(tiny_cli, folder, tmp_path):
    import time

    from gradflip_desktop.core.dataset.summary import written_since

    out = tmp_path / "out"
    before = time.time() - 1
    assert cli.main(["explain", str(folder / "p0.png"), "--out", str(out), "--no-key-pixels", "-q"]) in (0, 1)
    assert written_since(out, "p0", before) and not written_since(out, "p0", time.time() + 60)
    assert not written_since(out, "p1", before) and not written_since(tmp_path / "nowhere", "p0", before)


def test_classify_names_a_linked_photo_once_as_explain_does(tiny_cli, folder, capsys):
    # classify DIR printed a link to a photo of the folder as a photo of its own (explain said "a link to …;
    # explained once" and ran it once)
    (folder / "link.png").symlink_to(folder / "p0.png")
    assert cli.main(["classify", str(folder), "--json"]) == 0
    captured = capsys.readouterr()
    listed = [entry["image"] for entry in json.loads(captured.out)]
    assert str(folder / "p0.png") in listed and not any(p.endswith("link.png") for p in listed)
    assert f"link.png is a link to {folder / 'p0.png'}; classified once" in captured.err


def test_classify_names_a_subfolders_photo_by_its_path_in_notes_and_errors(tiny_cli, tmp_path, capsys):
    """classify -r named a note or an unreadable image by its file name only: with a/x.png and b/x.png (a
    camera's folders) "note: x.png: transparent areas were composited on white" and "error: “y.png” is
    empty" did not say which; explain names them by their path in the folder."""
    d = tmp_path / "in"
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 128
    for sub in ("a", "b"):
        _photo(d / sub / "x.png", seed=1)
    Image.fromarray(rgba).save(d / "b" / "x.png")
    (d / "b" / "y.png").write_bytes(b"")
    _photo(d / "a" / "y.png", seed=2)
    assert cli.main(["classify", str(d), "--recursive"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "gradflip: note: b/x.png: transparent areas were composited on white" in err
    assert "gradflip: error: b/y.png: “y.png” is empty (0 bytes)" in err
    assert "Traceback" not in err


def test_resume_notes_each_kept_set_made_with_another_batch_size(tiny_cli, folder, tmp_path, capsys):
    """An interrupted `--batch-size 4` run resumed with the default batch of 1 kept the batched sets in silence: the
    folder then mixed the answers of two batch sizes (a batch rounds floats otherwise and can move the key region),
    while the README promises batch 1 the answer of a single run "also after --resume"."""
    out = tmp_path / "out"
    cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels", "--batch-size", "2"])
    capsys.readouterr()
    cli.main(["explain", str(folder), "--out", str(out), "--resume", "--no-key-pixels"])
    err = capsys.readouterr().err
    assert err.count("kept a set made with --batch-size 2, not 1") == 5, err
    cli.main(["explain", str(folder), "--out", str(out), "--resume", "--no-key-pixels", "--batch-size", "2"])
    assert "kept a set made with --batch-size" not in capsys.readouterr().err  # the same batch size: nothing to say


def test_resume_keeps_a_set_whose_record_has_odd_versions(tiny_cli, folder, tmp_path, capsys):
    """--resume over a set whose record says "versions": "1.0" (hand-edited, foreign): kept as before the batch-size
    note, not "internal error: AttributeError … (please report this)" with exit 3."""
    out = tmp_path / "out"
    first = cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels"])
    rec_path = next(out.glob("*.gradflip.json"))
    rec = json.loads(rec_path.read_text(encoding="utf-8"))
    rec["versions"] = "1.0"
    rec_path.write_text(json.dumps(rec), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["explain", str(folder), "--out", str(out), "--resume", "--no-key-pixels"]) == first  # not 3
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_resume_never_waits_on_a_named_pipe_that_took_a_records_name(tiny_cli, folder, tmp_path, capsys):
    """A named pipe as p1.gradflip.json in --out: --resume read it with a plain open() and waited for a writer for
    ever. It is an incomplete set now: explained again."""
    from helpers import PipeWatch

    out = tmp_path / "out"
    first = cli.main(["explain", str(folder), "--out", str(out), "-q", "--no-key-pixels"])
    (out / "p1.gradflip.json").unlink()
    os.mkfifo(out / "p1.gradflip.json")
    with PipeWatch(out / "p1.gradflip.json") as waited:
        code = cli.main(["explain", str(folder), "--out", str(out), "--resume", "--no-key-pixels", "-q"])
    assert not waited, "--resume waited on a named pipe"
    err = capsys.readouterr().err
    assert code == first and "internal error" not in err, err
    rec = json.loads((out / "p1.gradflip.json").read_text(encoding="utf-8"))  # explained again: a file now
    assert sorted(rec["files"].values()) == sorted(f"p1{s}" for s in SUFFIXES)


def test_a_one_photo_run_interrupted_after_its_set_was_reported_says_nothing_is_left(tiny_cli, folder, tmp_path, capsys,
                                                                                     monkeypatch):
    """Ctrl+C while the summary is written, after the photo's set was done and reported: "1 of 1 result sets are
    complete …; the same command with --resume explains the rest", with nothing left to explain (but the summary)."""
    from gradflip_desktop.core.dataset import job

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    real = job.write_summary
    monkeypatch.setattr(job, "write_summary", interrupted)
    out = tmp_path / "out"
    assert cli.main(["explain", str(folder / "p0.png"), "--out", str(out), "--no-key-pixels", "--summary"]) == 130
    err = capsys.readouterr().err
    assert f"gradflip: interrupted: 1 of 1 result sets are complete in {out}; the same command with --resume writes the summary again\n" in err
    assert "explains the rest" not in err
    monkeypatch.setattr(job, "write_summary", real)
    assert cli.main(["explain", str(folder / "p0.png"), "--out", str(out), "--no-key-pixels", "--summary", "--resume"]) in (0, 1)
    assert (out / "summary.csv").is_file()  # as it says


def test_a_target_written_as_an_index_names_its_class(tiny_cli, folder, tmp_path, capsys):
    """`--target "#2"` (the index, whatever the labels are) says which class it is, as a label's prefix does."""
    code = cli.main(["explain", str(folder / "p0.png"), "--out", str(tmp_path / "o"), "--target", "#2", "-q",
                     "--no-key-pixels", "--json"])
    captured = capsys.readouterr()
    target = json.loads(captured.out)["target"]
    assert code in (0, 1) and target["index"] == 2
    notes = [ln for ln in captured.err.splitlines() if ln.startswith("gradflip: note: --target ")]
    assert notes == [f"gradflip: note: --target '#2' means {target['label']!r}"], captured.err
