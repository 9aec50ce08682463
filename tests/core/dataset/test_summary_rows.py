"""summary.csv rows and the gallery's "key set" column for each explanation style."""

from gradflip_desktop.core.dataset.gallery import write_gallery
from gradflip_desktop.core.dataset.summary import summary_row
import json

_BASE = {
    "status": "flipped", "message": "flipped",
    "original": {"index": 285, "label": "Egyptian cat", "probability": 0.79},
    "final": {"index": 282, "label": "tiger cat", "probability": 0.38},
    "l2": 22.7, "l2_saved": 22.8, "steps": 19, "seconds": 5.0,
}


def _record(**extra):
    return {**_BASE, **extra}


def test_region_style_row_has_the_key_region_fraction():
    # the region style (the default) writes zeros for the key pixels and its key set as key_region
    rec = _record(key_pixels={"count": 0, "fraction": 0.0, "flips": False, "prediction": None},
                  key_region={"fraction": 0.449, "pixels": 60778, "components": 7, "flips": True})
    row = summary_row("a.png", "a", rec)
    assert float(row["key_fraction"]) == 0.449


def test_region_that_does_not_flip_alone_has_no_key_fraction():
    rec = _record(key_pixels={"count": 0, "fraction": 0.0, "flips": False, "prediction": None},
                  key_region={"fraction": 1.0, "pixels": 135300, "components": 1, "flips": False})
    assert summary_row("a.png", "a", rec)["key_fraction"] == ""


def test_free_style_row_keeps_the_key_pixel_fraction():
    rec = _record(key_pixels={"count": 11979, "fraction": 0.0885, "flips": True}, key_region=None)
    assert float(summary_row("a.png", "a", rec)["key_fraction"]) == 0.0885


def test_gallery_shows_the_region_key_set(tmp_path):
    rec = _record(key_pixels={"count": 0, "fraction": 0.0, "flips": False, "prediction": None},
                  key_region={"fraction": 0.449, "pixels": 60778, "components": 7, "flips": True})
    row = summary_row("a.png", "a", rec)
    page = write_gallery(tmp_path, [row], {}).read_text(encoding="utf-8")
    assert 'data-v="0.449"' in page and ">45 %<" in page  # as the sentence writes the share


def _ten_seconds_in(monkeypatch) -> float:
    """rate_text's clock stopped 10 s after the returned start (the real one moved on between the asserts: "9.95
    images/s" held only while the test took under 5 ms)."""
    from types import SimpleNamespace

    from gradflip_desktop.core.dataset import job

    monkeypatch.setattr(job, "time", SimpleNamespace(perf_counter=lambda: 1010.0))
    return 1000.0


def test_progress_rate_counts_only_the_images_explained(monkeypatch):
    from gradflip_desktop.core.dataset.job import rate_text

    started = _ten_seconds_in(monkeypatch)  # 10 s ago
    # two result sets kept by --resume took no time: not "0.2 images/s" or a huge rate, and no "ETA 0:00"
    assert rate_text(2, 5, started, kept=2) == "2/5 (40 %) · -- images/s · ETA --:--"
    line = rate_text(3, 5, started, kept=2)  # one image explained in ~10 s, two left
    assert " · 0.10 images/s · ETA 0:20" in line
    assert rate_text(4, 4, started, kept=4).endswith("-- images/s · ETA 0:00")
    assert " · 0.40 images/s · ETA 0:" in rate_text(4, 8, started)  # no kept sets: as before


def test_progress_rate_of_a_batched_run_counts_the_images_in_flight_as_half_done(monkeypatch):
    """--batch-size 8 on 100 photos: the first image finished when the 7 others in flight were about half done, and
    its line said "ETA 16:30" for a run of ~3 minutes (8 × too high); the rest of the batch then arrived at once."""
    from gradflip_desktop.core.dataset.job import rate_text

    started = _ten_seconds_in(monkeypatch)  # the first image after 10 s; 7 more in flight
    assert " · 0.45 images/s · ETA 3:4" in rate_text(1, 100, started, batch=8)  # (1 + 3.5) / 10 s; 99 left: ~220 s
    assert " · 0.10 images/s · ETA 16:" in rate_text(1, 100, started)  # one at a time: as before
    assert rate_text(99, 100, started, batch=8).split(" · ")[1] == "9.95 images/s"  # (99 + 0.5) / 10 s: 1 in flight
    assert rate_text(2, 5, started, kept=2, batch=8).endswith("-- images/s · ETA --:--")  # nothing explained yet


def test_gallery_page_shows_l2_as_its_per_class_table_does(tmp_path):
    """The index.html rows printed the raw record value (0.522797) next to the per-class median (0.5228)."""
    rec = _record(key_pixels={"count": 0, "fraction": 0.0, "flips": False, "prediction": None},
                  key_region={"fraction": 0.449, "pixels": 60778, "components": 7, "flips": True})
    row = {**summary_row("a.png", "a", rec), "l2_saved": "0.522797"}
    page = write_gallery(tmp_path, [row], {}).read_text(encoding="utf-8")
    assert 'data-v="0.522797">0.5228<' in page and ">0.522797<" not in page


def test_key_pixels_that_do_not_flip_alone_have_no_key_fraction():
    """A key-pixel search cut short (a cancel) leaves every changed pixel counted with ``flips`` false: the
    summary's key_fraction said 0.97 of the image was the key set, though that set flips nothing."""
    rec = _record(status="cancelled", key_pixels={"count": 13000, "fraction": 0.97, "flips": False,
                                                  "prediction": {"index": 285, "label": "Egyptian cat", "probability": 0.5}},
                  key_region=None)
    assert summary_row("a.png", "a", rec)["key_fraction"] == ""
    flips = _record(key_pixels={"count": 13000, "fraction": 0.97, "flips": True}, key_region=None)
    assert float(summary_row("a.png", "a", flips)["key_fraction"]) == 0.97


def test_every_image_of_a_result_set_is_known_as_a_result_image():
    """A folder run never explains a result set's own images again: the list of result images is the set's PNGs."""
    from gradflip_desktop.core.dataset.inputs import RESULT_IMAGES
    from gradflip_desktop.core.report import SUFFIXES

    assert sorted(RESULT_IMAGES) == sorted(s for s in SUFFIXES if s.endswith(".png"))


def test_an_input_is_named_on_one_printable_line():
    """Progress and error lines name an input by its path; a newline or an undecodable byte in a file name
    must not break the line in two or fail to print."""
    from pathlib import Path

    from gradflip_desktop.core.dataset.inputs import Input

    assert Input(Path("a\nb.png"), "a_b").display == "a\\nb.png"
    assert Input(Path("tab\there.png"), "t").display == "tab\\there.png"
    assert Input(Path("caf\udce9.png"), "c").display == "caf\ufffd.png"
    assert Input(Path("猫 photo.png"), "p").display == "猫 photo.png"


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_inert_and_read_back_as_it_was(tmp_path):
    # a photo named "=HYPERLINK(...).png" or a label from a user's labels file starting with "=", "+", "-" or
    # "@": a spreadsheet opening summary.csv ran it as a formula (CSV injection)
    import csv

    from gradflip_desktop.core.dataset import read_summary, write_summary
    from gradflip_desktop.core.dataset.summary import SUMMARY_COLUMNS

    hostile = ['=HYPERLINK("http://x","y").png', "+1+2", "-3", "@SUM(A1)", "\tcmd"]
    rows = [dict.fromkeys(SUMMARY_COLUMNS, "") | {"file": f, "name": f, "original_label": f, "final_label": "tabby",
                                                   "message": f, "final_probability": "-0.5"} for f in hostile]
    path = write_summary(tmp_path, rows)
    with open(path, encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    for r, f in zip(raw, hostile):
        for col in ("file", "name", "original_label", "message"):
            assert r[col] == "'" + f, (col, r[col])
        assert r["final_label"] == "tabby" and r["final_probability"] == "-0.5"  # numbers stay numbers
    back = read_summary(path)
    assert [r["name"] for r in back] == hostile and [r["file"] for r in back] == hostile
    assert back[0]["final_probability"] == "-0.5"


def test_rows_say_how_each_set_was_made():
    # a folder's summary lists the sets earlier runs left there too: a smallest-change set (L2 0.05) sat next
    # to key-region sets (L2 5) with nothing in the row to tell them apart
    from gradflip_desktop.core.dataset.summary import SUMMARY_COLUMNS

    assert SUMMARY_COLUMNS[-4:] == ("style", "group", "target", "model")
    model = {"name": "EfficientNet-Lite0 (ImageNet)", "classes": 1000}
    free = summary_row("a.png", "a", _record(options={"style": "free", "group": None, "target": None}, model=model,
                                             target=None, key_pixels={"count": 5, "fraction": 0.01, "flips": True}))
    assert (free["style"], free["group"], free["target"], free["model"]) == ("free", "", "", model["name"])
    group = summary_row("b.png", "b", _record(options={"style": "region", "group": "cat", "target": None}, model=model))
    assert (group["style"], group["group"], group["target"]) == ("region", "cat", "")
    aimed = summary_row("c.png", "c", _record(options={"style": "region", "group": None, "target": "282"},
                                              target={"index": 282, "label": "tiger cat", "probability": 0.09}))
    assert (aimed["target"], aimed["model"]) == ("tiger cat", "")
    failed = summary_row("d.png", "d", status="error", message="unreadable")
    assert (failed["style"], failed["model"]) == ("", "")


def test_the_per_class_table_does_not_pick_one_class_of_a_tie(tmp_path):
    """Two tripod photos, one flipped to binoculars and one to harmonica: "most often flipped to" said
    "binoculars" (Counter.most_common(1) takes the first of a tie)."""
    rows = []
    for name, to in (("a", "binoculars"), ("b", "harmonica"), ("c", "tiger cat"), ("d", "tiger cat"), ("e", "tabby")):
        original = "tripod" if name in "ab" else "Egyptian cat"
        rec = _record(original={"index": 1, "label": original, "probability": 0.7},
                      final={"index": 2, "label": to, "probability": 0.3}, key_region=None,
                      key_pixels={"count": 0, "fraction": 0.0, "flips": False, "prediction": None})
        rows.append(summary_row(f"{name}.png", name, rec))
    page = write_gallery(tmp_path, rows, {}).read_text(encoding="utf-8")
    assert "<td>binoculars, harmonica (1 each)</td>" in page
    assert "<td>tiger cat</td>" in page  # a class that leads is named alone, as before


def test_the_row_names_the_class_the_key_set_alone_gives():
    # the sentence's headline class: with only the key region changed the drum became a bucket, while the change
    # over the whole photo made it a beaker; summary.csv had no column for it
    pred = {"index": 463, "label": "bucket", "probability": 0.214}
    rec = _record(key_pixels={"count": 0, "fraction": 0.0, "flips": False, "prediction": None},
                  key_region={"fraction": 0.03, "pixels": 1500, "components": 2, "flips": True, "prediction": pred})
    row = summary_row("a.png", "a", rec)
    assert (row["key_label"], float(row["key_probability"]), row["final_label"]) == ("bucket", 0.214, "tiger cat")
    no_flip = _record(key_region={"fraction": 1.0, "pixels": 50000, "components": 1, "flips": False, "prediction": pred})
    assert summary_row("a.png", "a", no_flip)["key_label"] == summary_row("a.png", "a", no_flip)["key_probability"] == ""
    free = _record(key_pixels={"count": 120, "fraction": 0.002, "flips": True, "prediction": {**pred, "label": "pail"}})
    assert summary_row("a.png", "a", free)["key_label"] == "pail"
    assert summary_row("a.png", "a", _record())["key_label"] == ""  # a record without key sets (an error row)


def test_a_damaged_earlier_record_is_a_row_not_an_internal_error(tmp_path):
    """An earlier set in --out whose record was edited or damaged ("original": 5, "l2": "abc"): rebuilding the
    summary after a --resume run ended in "internal error: AttributeError: 'int' object has no attribute 'get'"
    (exit 3), with every image explained and no summary.csv or index.html written. Its row keeps what it can say."""
    rec = _record(original=5, final="x", l2="abc", l2_saved=[1, 2], seconds=None, key_pixels="no", key_region=7)
    row = summary_row("a.png", "a", rec)
    assert row["original_label"] == row["final_label"] == row["l2"] == row["l2_saved"] == row["key_fraction"] == ""
    assert row["status"] == "flipped"
    write_gallery(tmp_path, [row], {"a": rec})


def test_the_row_has_the_saved_change_per_value_to_compare_photos_of_other_sizes():
    """summary.csv had l2 and l2_saved only, which grow with the photo's size: the measure the gallery sorts by (the
    RMS of the saved change per value) needed each record opened."""
    rec = _record(l2_saved=22.069318, rms_saved=0.06089901)
    row = summary_row("a.png", "a", rec)
    assert (row["l2_saved"], row["rms_saved"]) == ("22.0693", "0.060899")
    assert summary_row("a.png", "a", _record())["rms_saved"] == ""


# S01 (complete_record: the check that every file of a set is listed dropped): a record that lists only some of
# its set's files (written by another version, or edited) is no complete set: --resume makes it again
def test_a_record_that_lists_only_some_of_its_sets_files_is_not_complete(tmp_path):
    from gradflip_desktop.core.dataset.summary import complete_record
    from gradflip_desktop.core.report import result_paths

    paths = result_paths(tmp_path, "x")
    for p in paths.values():
        p.write_bytes(b"")
    every = {suffix: p.name for suffix, p in paths.items()}
    paths[".gradflip.json"].write_text(json.dumps({"files": every}), encoding="utf-8")
    assert complete_record(tmp_path, "x") == {"files": every}
    some = {".gradflip.json": "x.gradflip.json", ".delta.npy": "x.delta.npy"}
    paths[".gradflip.json"].write_text(json.dumps({"files": some}), encoding="utf-8")
    assert complete_record(tmp_path, "x") is None


# S03 (read_summary: the test that the apostrophe guards a formula start dropped): a text that itself starts with an
# apostrophe ("'s-Hertogenbosch.png", a label "'til") is read back as it was written, apostrophe and all
def test_a_cell_that_starts_with_an_apostrophe_is_read_back_as_it_was(tmp_path):
    from gradflip_desktop.core.dataset import read_summary, write_summary
    from gradflip_desktop.core.dataset.summary import SUMMARY_COLUMNS

    texts = ["'s-Hertogenbosch.png", "'til", "''=x"]
    rows = [dict.fromkeys(SUMMARY_COLUMNS, "") | {"file": t, "name": t, "original_label": t} for t in texts]
    back = read_summary(write_summary(tmp_path, rows))
    assert [r["file"] for r in back] == texts and [r["original_label"] for r in back] == texts


# S04 (written_since: mtime >= since -> mtime > since): a set whose record was written at the very instant the run
# began (a coarse file-system clock rounds both alike) counts as written by the run ("at or after ``since``")
def test_a_set_written_at_the_instant_the_run_began_counts_as_written_since(tmp_path):
    import os

    from gradflip_desktop.core.dataset.summary import written_since
    from gradflip_desktop.core.report import result_paths

    paths = result_paths(tmp_path, "x")
    for p in paths.values():
        p.write_bytes(b"")
    paths[".gradflip.json"].write_text(json.dumps({"files": {s: p.name for s, p in paths.items()}}), encoding="utf-8")
    began = 1_700_000_000.0
    os.utime(paths[".gradflip.json"], (began, began))
    assert written_since(tmp_path, "x", began)
    assert not written_since(tmp_path, "x", began + 1)
