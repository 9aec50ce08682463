"""SetWriter: the result sets written on a background thread, in order, and what happens when one fails."""

from __future__ import annotations

import pytest
from helpers import fail_replace_at

from gradflip_desktop.core.dataset.inputs import Input


def test_the_set_writer_reports_the_sets_finished_before_a_failure(monkeypatch, tmp_path):
    """A full disk at the third set: the first two are still reported (before: written() raised at once and
    dropped them whenever all three had finished before the caller looked, so the count said 1 or 0 of 5)."""
    import time

    from gradflip_desktop.core.dataset import job
    from gradflip_desktop.core.errors import DiskFullError

    def write(result, inp, out, overwrite, info, thumbs):
        if result == 3:
            raise DiskFullError("cannot write the results: the disk is full")
        return job.Outcome(inp, "flipped")

    monkeypatch.setattr(job, "_write", write)
    w = job.SetWriter(tmp_path, False)
    for i in (1, 2, 3):
        w.put(i, Input(tmp_path / f"{i}.png", str(i)), False, None)
    end = time.monotonic() + 30  # all three finished before the caller looks (a fixed 0.3 s: not on a loaded machine)
    while w._done.qsize() < 3 and time.monotonic() < end:
        time.sleep(0.01)
    assert w._done.qsize() == 3
    assert [o.input.name for o in w.written()] == ["1", "2"]
    try:
        w.written()
        raise AssertionError("the failure was lost")
    except DiskFullError:
        pass
    w2 = job.SetWriter(tmp_path, False)
    for i in (1, 3, 2):
        w2.put(i, Input(tmp_path / f"{i}.png", str(i)), False, None)
    assert [o.input.name for o in w2.close()] == ["1", "2"]  # close() reports every finished set ...
    assert isinstance(w2.error, DiskFullError)  # ... and keeps the failure for raise_error()


def test_resume_tells_a_set_made_with_another_weights_file():
    from gradflip_desktop.core.dataset.job import made_otherwise

    rec = {"model": {"name": "my classifier", "classes": 10, "file": "ft_v1.pth", "file_bytes": 100}}
    now = {"name": "my classifier", "classes": 10, "file": "ft_v2.pth", "file_bytes": 100}
    assert made_otherwise(rec, None, now, None) == "model file ft_v1.pth, not ft_v2.pth"
    assert made_otherwise(rec, None, {**now, "file": "ft_v1.pth"}, None) == ""
    older = {"model": {"name": "my classifier", "classes": 10}}  # a record made before the file was recorded: kept
    assert made_otherwise(older, None, now, None) == ""


def test_resume_knows_the_same_weights_copied_to_another_file_name():
    """`explain DIR --resume` with a copy of the weights file (another name, the same bytes) refused every set as
    "made with other settings (model resnet18 (10 classes, ft.pth), not resnet18 (10 classes, ft copy.pth); model
    file ft.pth, not ft copy.pth)": the weights are known by their SHA-256 now, not their path. Other weights, or
    the same weights read otherwise, are still another model."""
    from gradflip_desktop.core.dataset.job import made_otherwise

    weights = {"classes": 10, "input_size": [32, 32], "file_bytes": 100, "file_sha256": "6f67c93dd24d37d7"}
    rec = {"model": {"name": "resnet18 (10 classes, ft.pth)", "file": "ft.pth", **weights}}
    copy = {"name": "resnet18 (10 classes, ft copy.pth)", "file": "ft copy.pth", **weights}
    assert made_otherwise(rec, None, copy, None) == ""
    other = {**copy, "file_sha256": "0123456789abcdef"}
    assert made_otherwise(rec, None, other, None) == ("model resnet18 (10 classes, ft.pth), not resnet18 (10 classes, "
                                                      "ft copy.pth); model file ft.pth, not ft copy.pth; model file "
                                                      "sha256 6f67c93dd24d37d7, not 0123456789abcdef")
    assert made_otherwise(rec, None, {**copy, "input_size": [64, 64]}, None) == "model input size [32, 32], not [64, 64]"
    assert made_otherwise(rec, None, {**copy, "name": "resnet34 (10 classes, ft copy.pth)"}, None).startswith(
        "model resnet18 (10 classes, ft.pth), not resnet34")  # another architecture named: not the same model


def test_an_interrupt_while_the_summary_is_written_waits_for_it(tmp_path, monkeypatch):
    """Ctrl+C or SIGTERM landing while summary.csv and index.html were written left the previous run's (complete
    sets listed "not run") or, on a first run into the folder, none; it now acts once they are whole."""
    import os
    import signal

    import numpy as np
    from PIL import Image

    from gradflip_desktop import cli
    from gradflip_desktop.core.dataset import job, read_summary

    from helpers import make_tiny

    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    for i in range(3):
        rng = np.random.default_rng(i)
        (tmp_path / "in").mkdir(exist_ok=True)
        Image.fromarray(np.kron(rng.uniform(60, 200, (6, 8, 3)), np.ones((4, 4, 1))).astype(np.uint8)).save(
            tmp_path / "in" / f"p{i}.png")
    real = job.write_run_summary

    def interrupted(out, inputs, outcomes):
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill` sends it, mid-write
        return real(out, inputs, outcomes)

    monkeypatch.setattr(job, "write_run_summary", interrupted)
    out = tmp_path / "out"
    assert cli.main(["explain", str(tmp_path / "in"), "--out", str(out), "-q", "--max-steps", "3"]) == cli.EXIT_TERMINATED
    rows = read_summary(out / "summary.csv")
    assert [r["name"] for r in rows] == ["p0", "p1", "p2"] and all(r["status"] != "not run" for r in rows)
    assert (out / "index.html").is_file()


def test_an_interrupt_while_a_set_is_replaced_removes_only_the_files_it_made(tmp_path, monkeypatch, result):
    """Ctrl+C among the renames of --force / --resume: the new files go, those of the earlier set stay (their
    record went first, so --resume explains the input again); an unrelated file of that name pattern too."""
    from gradflip_desktop.core.dataset import job
    from gradflip_desktop.core.report import SUFFIXES, write_result_set

    out = tmp_path / "out"
    write_result_set(result, out, "cat")
    fail_replace_at(monkeypatch, 3, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        job._write(result, Input(tmp_path / "cat.png", "cat"), out, True, None, False)
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == sorted(f"cat{s}" for s in SUFFIXES if s != ".gradflip.json")
