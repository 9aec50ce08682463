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
