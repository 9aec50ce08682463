"""The result set's files (core/report.py), continued from test_report.py (near its length limit): the values written
into the record and the step table. Each test here was written for a mutant of report.py that the other tests let
through (hand-made mutation audit "mutF", 2026-12-06)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from helpers import make_tiny, tiny_image_array
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions
from gradflip_desktop.core.report import record, safe_name, steps_csv, write_result_set


# REP-06 ("flips": True): a run without key pixels (the region style) records none that flip
def test_a_record_without_key_pixels_says_none_flip():
    region = run(make_tiny(), tiny_image_array(), ExplainOptions())
    assert region.key_pixels is None
    assert record(region, versions={})["key_pixels"] == {"count": 0, "fraction": 0.0, "flips": False, "prediction": None,
                                                         "explained_probability": None}


# REP-08 (non-finite floats kept): a model that output NaN still gets a strict-JSON record, the NaN written as null
def test_a_nan_probability_is_written_as_null_in_the_record(tmp_path, result):
    odd = replace(result, original=replace(result.original, probability=float("nan")))
    write_result_set(odd, tmp_path, "odd")
    text = (tmp_path / "odd.gradflip.json").read_text(encoding="utf-8")
    assert "NaN" not in text
    assert json.loads(text)["original"]["probability"] is None


# REP-09 (the flip written as "accepted"), REP-10 (top 3): the step table's columns, each step's own values
def test_the_step_table_has_each_steps_values_and_its_top_five(result):
    rows = list(csv.reader(io.StringIO(steps_csv(result))))
    assert rows[0] == ["step", "phase", "accepted", "epsilon", "score", "l2", "linf", "flipped",
                       *[f"top{i}_{what}" for i in range(1, 6) for what in ("index", "label", "probability")], "top1_is_flip"]
    assert len(rows) == len(result.steps) + 1
    accepted = [row[2] for row in rows[1:]]
    assert accepted == [str(int(s.accepted)) for s in result.steps]
    assert [row[7] for row in rows[1:]] == [str(int(s.flipped)) for s in result.steps] != accepted
    first = result.steps[0]
    idx, p = first.top(5)[0]
    assert rows[1][8:11] == [str(idx), result.label(idx), f"{p:.6f}"]
    assert len(rows[1]) == len(rows[0]) and rows[1][-4:-1] == ["", "", ""]  # 4 classes: top 4, the 5th's cells empty
    # top1_is_flip, last: the row's top class against the run's flip rule (the explained class on top: 0), whatever the phase
    assert [row[-1] for row in rows[1:]] == [str(int(result.is_flip(s.top(1)[0][0]))) for s in result.steps]
    assert rows[1][-1] == str(int(idx not in result.explained))


def test_a_windows_device_name_of_any_number_gets_a_prefix():  # REP-02 (COM9 left out)
    assert [safe_name(n) for n in ("COM9", "com9.png", "LPT1", "COM10")] == ["_COM9", "_com9.png", "_LPT1", "COM10"]


# REP-17 (the second look dropped): a file of the set that another program wrote while the set was being prepared
# is not overwritten: the write is refused, naming it, and nothing of this set stays
def test_a_result_file_that_appears_while_writing_is_refused_not_overwritten(tmp_path, monkeypatch, result):
    import pytest

    from gradflip_desktop.core import report
    from gradflip_desktop.core.errors import ResultExistsError

    real, intruder = report.stage_bytes, tmp_path / "cat.figure.png"

    def stage(path, data):
        if not intruder.exists():
            intruder.write_bytes(b"theirs")
        return real(path, data)

    monkeypatch.setattr(report, "stage_bytes", stage)
    with pytest.raises(ResultExistsError) as info:
        write_result_set(result, tmp_path, "cat")
    assert str(info.value) == f"a result file appeared in {tmp_path} while writing: {intruder}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.figure.png"] and intruder.read_bytes() == b"theirs"


# REP-21 (EACCES not read as a locked file): an old file that refuses with EACCES is named as read-only or locked
def test_an_old_file_refused_with_eacces_is_called_read_only_or_locked(tmp_path, monkeypatch, result):
    import errno

    import pytest

    from helpers import fail_replace_at
    from gradflip_desktop.core.errors import ExportError

    write_result_set(result, tmp_path, "cat")
    fail_replace_at(monkeypatch, 1, PermissionError(errno.EACCES, "Permission denied"))
    with pytest.raises(ExportError) as info:
        write_result_set(result, tmp_path, "cat", force=True)
    assert str(info.value).startswith(f"cannot replace cat.adjusted.png in {tmp_path}: it is read-only or locked "
                                      "(the folder itself is writable); the earlier result set")


# REP-25 (height first): a record made without the photo's details gives the working size as width × height
def test_a_record_without_image_details_gives_the_working_size_width_first(result):
    assert result.delta.shape[:2] == (24, 32)
    assert record(result, versions={})["image"] == {"working_size": [32, 24]}
