"""``gradflip check``'s option checks and lines (cli_check.py), continued from test_cli_check.py (over its length). Each
test here was written for a mutant of cli_check.py that the other tests let through (hand-made mutation audit "mutF",
2026-12-06). Most need no result set: the options are checked before any is read."""

from __future__ import annotations

import pytest

from gradflip_desktop import cli


# CHK-01 (one point taken): a curve needs two points; said before anything is read, exit 2
def test_one_point_per_curve_is_refused(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "none"), "--points", "1"]) == 2
    assert capsys.readouterr().err == "gradflip: error: --points: a curve needs at least 2 points, not 1\n"


# --points 0 and -3 said as --points 1 is (argparse's "a whole number of at least 1" said 1 would do); not a number:
# argparse's own line
def test_no_points_or_fewer_are_refused_in_the_same_words(tmp_path, capsys):
    for n in ("0", "-3"):
        assert cli.main(["check", str(tmp_path / "none"), "--points", n]) == 2
        assert capsys.readouterr().err == f"gradflip: error: --points: a curve needs at least 2 points, not {n}\n"
    with pytest.raises(SystemExit) as info:
        cli.main(["check", str(tmp_path / "none"), "--points", "many"])
    assert info.value.code == 2 and "expected a whole number, not 'many'" in capsys.readouterr().err
    assert cli.main(["check", str(tmp_path / "none"), "--points", "1e16"]) == 2  # whole, too many: the check's words
    assert capsys.readouterr().err == "gradflip: error: --points: at most 10,001 points per curve, not 10000000000000000\n"


# CHK-02 (the note at the published count too): fewer masks than RISE's published 1,000 are noted; 1,000 are not
def test_rise_with_fewer_masks_than_published_is_noted(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "none"), "--rise", "999"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "gradflip: note: RISE with 999 masks is noisier than the published 1,000: its curves are worse than RISE's own "
        "(compare with --rise 1000)")
    assert cli.main(["check", str(tmp_path / "none"), "--rise", "1000"]) == 2
    assert "RISE" not in capsys.readouterr().err
    assert cli.main(["check", str(tmp_path / "none"), "--rise", "50", "-q"]) == 2  # -q drops lines, not notes
    assert capsys.readouterr().err.splitlines()[0].startswith("gradflip: note: RISE with 50 masks is noisier")


# CHK-09 (two named): why sets were skipped, the first three named and the rest counted
def test_the_reasons_for_skipped_sets_name_the_first_three():
    from types import SimpleNamespace

    from gradflip_desktop.cli_check import _reasons

    skipped = [SimpleNamespace(name=f"p{i}", skipped=f"reason {i}") for i in range(5)]
    assert _reasons(skipped) == "p0: reason 0; p1: reason 1; p2: reason 2; and 2 more"
    assert _reasons(skipped[:3]) == "p0: reason 0; p1: reason 1; p2: reason 2"


# CHK-07 (the count of skipped sets said without -q too): each set's own line names a skipped set; only -q, which
# drops those lines, says it in one line
def test_the_skipped_sets_line_is_for_quiet_checks_only(tmp_path, monkeypatch, capsys):
    import numpy as np
    from PIL import Image

    from helpers import make_tiny

    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    photos = []
    for i in range(2):
        base = np.random.default_rng(i).uniform(40, 220, size=(6, 8, 3))
        Image.fromarray(np.kron(base, np.ones((4, 4, 1))).astype(np.uint8)).save(tmp_path / f"p{i}.png")
        photos.append(tmp_path / f"p{i}.png")
    out = tmp_path / "out"
    assert cli.main(["explain", *map(str, photos), "--out", str(out), "--style", "free", "--quiet", "--max-steps", "30"]) == 0
    photos[0].unlink()
    capsys.readouterr()
    assert cli.main(["check", str(out), "--points", "3"]) == 2  # a set not checked: a failure
    err = capsys.readouterr().err.splitlines()
    skipped = [line for line in err if ": skipped" in line]
    assert len(skipped) == 1 and skipped[0].startswith("gradflip: [1/2] out/p0: skipped: ")
    assert cli.main(["check", str(out), "--points", "3", "-q"]) == 2  # a set not checked: a failure
    assert capsys.readouterr().err == f"gradflip: skipped 1 of 2 result sets: p0: {skipped[0].split(': skipped: ')[1]}\n"


# CHK-17 (a fill-in given twice measured twice), CHK-18 (no fill-in at all taken): --fill's values
def test_the_fill_option_takes_each_fill_in_once_and_refuses_none():
    import argparse

    import pytest

    from gradflip_desktop.cli_check import _fills

    assert _fills("blur, mean,blur") == ["blur", "mean"]
    assert _fills("all") == ["blur", "mean", "black"]
    for bad in (",", " , ", "blur,grey"):
        with pytest.raises(argparse.ArgumentTypeError) as info:
            _fills(bad)
        assert str(info.value) == f"choose from blur, mean, black or all (comma-separated), not {bad!r}"


# CHK-20 (a cap ten times higher): one mask over the cap is refused before anything is read, exit 2
def test_one_rise_mask_over_the_cap_is_refused(tmp_path, capsys):
    from gradflip_desktop.core.attributions import MAX_RISE_MASKS

    assert cli.main(["check", str(tmp_path / "none"), "--rise", str(MAX_RISE_MASKS + 1)]) == 2
    assert capsys.readouterr().err == (f"gradflip: error: --rise: at most {MAX_RISE_MASKS:,} masks per set (the published "
                                       f"RISE takes 1,000), not {MAX_RISE_MASKS + 1:,}\n")
    assert cli.main(["check", str(tmp_path / "none"), "--rise", str(MAX_RISE_MASKS)]) == 2  # the cap itself: taken
    assert "at most" not in capsys.readouterr().err
