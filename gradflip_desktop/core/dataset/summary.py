"""Complete result sets on disk and ``summary.csv``: one row per input of a run, failed ones included.

A result set is complete when its record (``NAME.gradflip.json``, written last) parses and every file it
lists exists: a run killed while writing leaves an incomplete set, which ``--resume`` recomputes.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from ..errors import json_loads
from ..images import atomic_write_bytes, utf8_bytes
from ..images.loading import read_regular
from ..report import result_paths

NOT_RUN = "not run"  # a summary row's status: an input an interrupted run never reached

SUMMARY_COLUMNS = (
    "file", "name", "status", "message",
    "original_index", "original_label", "original_probability",
    "final_index", "final_label", "final_probability",
    "l2", "l2_saved", "rms_saved", "key_fraction", "key_label", "key_probability", "steps", "seconds",
    "style", "group", "target", "model",
)


def complete_record(out_dir: str | Path, name: str) -> dict | None:
    """The record of ``name``'s result set in ``out_dir`` when the set is complete, else None."""
    return stored_record(out_dir, name)[0]


def stored_record(out_dir: str | Path, name: str) -> tuple[dict | None, str]:
    """:func:`complete_record`, and when the record is there but cannot be read (not allowed, not JSON) why, in words
    (else ""): ``--resume`` replaced such a set without a word, as if a run had been interrupted."""
    paths = result_paths(out_dir, name)
    rec_path = paths[".gradflip.json"]
    try:
        rec = json_loads(read_regular(rec_path).decode("utf-8"))  # a pipe of that name: OSError, never a wait
    except OSError as exc:
        there = os.path.lexists(rec_path)
        return None, f"its record {rec_path.name} could not be read ({exc.strerror or exc})" if there else ""
    except ValueError:
        return None, f"its record {rec_path.name} is damaged (not JSON)"
    files = rec.get("files") if isinstance(rec, dict) else None
    if not isinstance(files, dict) or not files:
        return None, ""
    if any(not (rec_path.parent / str(f)).is_file() for f in files.values()):
        return None, ""
    if {p.name for p in paths.values()} - set(files.values()):
        return None, ""
    return rec, ""


def summary_row(file: str | Path, name: str, record: dict | None = None, status: str = "", message: str = "") -> dict:
    """One summary row: from a record, or for an input that failed (``status`` "error" and its message)."""
    row = dict.fromkeys(SUMMARY_COLUMNS, "")
    row.update(file=str(file), name=name, status=status, message=message)
    if record:
        # a damaged or edited record (an earlier set in --out with "original": 5) is a row of what it says, not an internal error
        orig, final, kp = (v if isinstance(v, dict) else {} for v in (record.get(k) for k in ("original", "final", "key_pixels")))
        row.update(
            status=record.get("status", ""),
            message=record.get("message", ""),
            original_index=orig.get("index", ""), original_label=orig.get("label", ""),
            original_probability=_num(orig.get("probability")),
            final_index=final.get("index", ""), final_label=final.get("label", ""),
            final_probability=_num(final.get("probability")),
            l2=_num(record.get("l2")), l2_saved=_num(record.get("l2_saved")),
            # per value (l2_saved / sqrt(H·W·3)): the L2 grows with the photo's size, so photos of other sizes compare by it
            rms_saved=_num(record.get("rms_saved")),
            key_fraction=_key_fraction(kp, record.get("key_region")),
            **_key_answer(kp, record.get("key_region")),
            steps=record.get("steps", ""), seconds=_num(record.get("seconds"), 3),
            # how the set was made: a folder can hold sets of earlier runs with other settings, whose L2 and
            # key set mean something else (the smallest change's L2 is ~100x below a key region's)
            **_made_with(record),
        )
    return row


def _made_with(record: dict) -> dict:
    """The ``style``, ``group``, ``target`` and ``model`` cells of a record (empty where it does not say)."""
    options = record.get("options") if isinstance(record.get("options"), dict) else {}
    model = record.get("model") if isinstance(record.get("model"), dict) else {}
    target = record.get("target") if isinstance(record.get("target"), dict) else {}

    def text(v) -> str:
        return "" if v is None else str(v)

    return {"style": text(options.get("style")), "group": text(options.get("group")),
            "target": text(target.get("label", options.get("target"))), "model": text(model.get("name"))}


def _key_set(key_pixels: dict, key_region: dict | None) -> dict | None:
    """The record's key set: the key pixels (free/blur styles) or, for the region style, whose key pixels are
    zeros, the key region; None when the search found no set that flips alone (key pixels cut short by a cancel
    list every changed pixel with ``flips`` false: not a key set either)."""
    if key_pixels.get("count") and key_pixels.get("flips"):  # a set that does not flip alone is no key set
        return key_pixels
    if isinstance(key_region, dict) and key_region.get("flips"):
        return key_region
    return None


def _key_fraction(key_pixels: dict, key_region: dict | None) -> str:
    """The key set's share of the image; empty when there is no key set (:func:`_key_set`)."""
    key = _key_set(key_pixels, key_region)
    return "" if key is None else _num(key.get("fraction"), 8)


def _key_answer(key_pixels: dict, key_region: dict | None) -> dict:
    """``key_label`` and ``key_probability``: what the model says with only the key set changed (a key region's:
    the class the sentence names first; key pixels': their caption's). It can differ from ``final_label`` (the
    change over the whole photo: drum -> beaker there, bucket with only the key region changed); empty where
    ``key_fraction`` is."""
    key = _key_set(key_pixels, key_region)
    prediction = key.get("prediction") if key else None
    if not isinstance(prediction, dict):
        return {"key_label": "", "key_probability": ""}
    return {"key_label": str(prediction.get("label", "")), "key_probability": _num(prediction.get("probability"))}


def _num(v, digits: int = 6) -> str:
    try:
        return "" if v is None or v == "" else f"{float(v):.{digits}g}"
    except (TypeError, ValueError):  # a damaged or edited record ("l2": "abc"): an empty cell, not an internal error
        return ""


TEXT_COLUMNS = frozenset({"file", "name", "message", "original_label", "final_label", "key_label", "group", "target",
                          "model"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet runs as a formula (OWASP, CSV injection)


def _cell(column: str, value):
    """A text cell a spreadsheet would run as a formula (a file named ``=HYPERLINK(…).png``, a label from a
    user's labels file) gets a leading apostrophe; :func:`read_summary` takes it off again."""
    if column in TEXT_COLUMNS and isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_summary(out_dir: str | Path, rows: list[dict]) -> Path:
    """Write ``OUT/summary.csv`` atomically (replacing the previous one)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows({k: _cell(k, v) for k, v in row.items()} for row in rows)
    return atomic_write_bytes(Path(out_dir) / "summary.csv", utf8_bytes(buf.getvalue()), overwrite=True)


def read_summary(path: str | Path) -> list[dict]:
    """The rows of a ``summary.csv``, text cells as they were before :func:`_cell` guarded them."""
    rows = list(csv.DictReader(io.StringIO(read_regular(path).decode("utf-8"), newline="")))
    for row in rows:
        for k in TEXT_COLUMNS & row.keys():
            v = row[k]
            if isinstance(v, str) and v.startswith("'") and v[1:].startswith(FORMULA_STARTS):
                row[k] = v[1:]
    return rows


def has_summary(out) -> bool:
    """Whether ``out`` already holds a summary.csv (an --out it cannot be in, e.g. too long a name: no). A run of
    single files into such a folder rebuilds it: else summary.csv and index.html go on describing the sets the run
    replaced."""
    try:
        return (Path(out) / "summary.csv").is_file()
    except (OSError, ValueError):
        return False


def written_since(out, name: str, since: float) -> bool:
    """Whether ``name``'s result set in ``out`` is complete and its record was written at or after ``since``
    (``time.time()``): a one-photo run interrupted while its set was being written finishes the set first, and the
    interrupt said only "interrupted" (a plain re-run was then refused: "already exist")."""
    try:
        fresh = result_paths(out, name)[".gradflip.json"].stat().st_mtime >= since
    except (OSError, ValueError):
        return False
    return fresh and complete_record(out, name) is not None
