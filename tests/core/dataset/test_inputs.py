"""collect_inputs: every file gets its own result name (before: the second of two names alike was refused)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gradflip_desktop.core.dataset import collect_inputs
from gradflip_desktop.core.dataset.inputs import Input, distinct_names


def _img(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path)
    return path


def test_names_alike_on_a_case_insensitive_file_system_get_their_extension(tmp_path):
    d = tmp_path / "in"
    for n in ("Cat.png", "cat.jpg", "photo.jpg", "photo.png", "photo_png.gif", "solo.png"):
        _img(d / n)
    inputs, skipped = collect_inputs([d])
    assert skipped == []
    assert [(i.path.name, i.name) for i in inputs] == [
        ("Cat.png", "Cat"), ("cat.jpg", "cat_jpg"), ("photo.jpg", "photo"), ("photo.png", "photo_png"),
        ("photo_png.gif", "photo_png_gif"), ("solo.png", "solo")]  # the first keeps its name: --resume finds it
    assert len({i.name.casefold() for i in inputs}) == len(inputs)


def test_files_given_from_two_folders_and_the_same_file_twice(tmp_path):
    a, b = _img(tmp_path / "x" / "a.png"), _img(tmp_path / "y" / "a.png")
    inputs, _ = collect_inputs([a, b, a, tmp_path / "x" / ".." / "x" / "a.png"])
    assert [i.name for i in inputs] == ["a", "a_png", "a", "a"]  # the same file keeps its one name (run once)
    assert distinct_names([Input(a, "a"), Input(b, "a"), Input(tmp_path / "z" / "a", "a")])[2].name == "a_2"


def test_long_names_alike_in_their_first_120_bytes_each_get_a_name_that_fits(tmp_path):
    """Before: the suffix that tells them apart was cut off again by the 120-byte bound of a result name,
    and distinct_names looped for ever (`gradflip explain DIR` hung before loading the model, silently)."""
    import signal

    from gradflip_desktop.core.report import MAX_NAME_BYTES, safe_name

    d = tmp_path / "in"
    for n in ("x" * 130 + "A.png", "x" * 130 + "B.png", "x" * 130 + "C.png", "é" * 70 + "D.png", "é" * 70 + "E.png"):
        _img(d / n)

    def hung(signum, frame):
        raise TimeoutError("collect_inputs did not return within 10 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        inputs, skipped = collect_inputs([d])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert skipped == [] and len(inputs) == 5
    stems = [safe_name(i.name) for i in inputs]
    assert len({s.casefold() for s in stems}) == 5
    assert all(len(s.encode("utf-8")) <= MAX_NAME_BYTES for s in stems)
    assert stems[1].endswith("_png") and stems[2].endswith("_png-2") and stems[4].endswith("_png")


def test_a_file_added_to_a_folder_explained_before_does_not_take_a_result_set_name(tmp_path):
    """photo.png was explained into out (set "photo"); then Photo.jpg is added to the folder. Photo.jpg sorts
    first, and before it took the name "photo" (casefolded): --resume explained photo.png again as
    "photo_png" and the summary listed photo.png twice (on a case-insensitive disk Photo.jpg was refused as
    "of another image"). The file whose set holds the name keeps it."""
    import json

    d, out = tmp_path / "in", tmp_path / "out"
    photo = _img(d / "photo.png")
    out.mkdir()
    (out / "photo.gradflip.json").write_text(json.dumps({"image": {"source": str(photo)}}), encoding="utf-8")
    _img(d / "Photo.jpg")
    inputs, _ = collect_inputs([d], out=out)
    assert [(i.path.name, i.name) for i in inputs] == [("Photo.jpg", "Photo_jpg"), ("photo.png", "photo")]
    inputs, _ = collect_inputs([d])  # no output folder known: the first keeps it, as before
    assert [(i.path.name, i.name) for i in inputs] == [("Photo.jpg", "Photo"), ("photo.png", "photo_png")]


def test_a_file_added_to_a_folder_does_not_take_a_result_set_name_with_an_extension(tmp_path):
    """Photo.png and photo.jpg were explained into out (sets "Photo" and "photo_jpg"); then PHOTO.jpg is added
    to the folder. It sorts first and took "photo_jpg" (casefolded) before: --resume explained photo.jpg again
    as "photo_jpg-2", its finished set stayed, and the summary listed photo.jpg twice. A set's file keeps its
    name, also one with an extension or a number after it."""
    import json

    d, out = tmp_path / "in", tmp_path / "out"
    out.mkdir()
    for name, photo in (("Photo", _img(d / "Photo.png")), ("photo_jpg", _img(d / "photo.jpg")),
                        ("photo_jpg-2", _img(d / "sub" / "photo.jpg"))):
        (out / f"{name}.gradflip.json").write_text(json.dumps({"image": {"source": str(photo)}}), encoding="utf-8")
    _img(d / "PHOTO.jpg")
    inputs = distinct_names([Input(d / n, Path(n).stem) for n in ("PHOTO.jpg", "Photo.png", "photo.jpg", "sub/photo.jpg")],
                            out=out)
    assert [(i.path.relative_to(d).as_posix(), i.name) for i in inputs] == [
        ("PHOTO.jpg", "PHOTO_jpg-3"), ("Photo.png", "Photo"), ("photo.jpg", "photo_jpg"),
        ("sub/photo.jpg", "photo_jpg-2")]
    (out / "photo_jpg-2.gradflip.json").unlink()
    inputs, _ = collect_inputs([d], out=out)  # as the command line lists the folder
    assert [(i.path.name, i.name) for i in inputs] == [
        ("PHOTO.jpg", "PHOTO_jpg-2"), ("Photo.png", "Photo"), ("photo.jpg", "photo_jpg")]


def test_a_set_made_from_a_relative_path_keeps_its_name_when_resumed_from_another_folder(tmp_path, monkeypatch):
    """The record keeps the photo's path as given: ``explain in --out out`` in tmp_path stored "in/photo.png". Run
    again from another working folder (``explain /abs/in --out /abs/out --resume``) with Photo.jpg added, the
    relative source named no file there: Photo.jpg took "photo" and photo.png was explained again as
    "photo_png" (the summary listed it twice). The file of that name with the record's size and time owns it."""
    import json
    import os

    d, out = tmp_path / "in", tmp_path / "out"
    photo = _img(d / "photo.png")
    out.mkdir()
    st = os.stat(photo)
    (out / "photo.gradflip.json").write_text(json.dumps({"image": {
        "source": "in/photo.png", "file": {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}}}), encoding="utf-8")
    _img(d / "Photo.jpg")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    inputs, _ = collect_inputs([d], out=out)
    assert [(i.path.name, i.name) for i in inputs] == [("Photo.jpg", "Photo_jpg"), ("photo.png", "photo")]


def test_copies_alike_in_size_and_time_keep_their_own_sets_when_resumed_from_another_folder(tmp_path, monkeypatch):
    """``explain in/a in/b --out out`` (each holds x.png, the same photo copied with its time: cp -p, unzip) made
    "x" and "x_png" from the relative sources "in/a/x.png" and "in/b/x.png". Resumed from another working folder
    both records matched a/x.png by name, size and time: b/x.png was explained again as "x_png-2" and the summary
    listed it twice. The folders in the source tell the copies apart."""
    import json
    import os
    import shutil

    monkeypatch.chdir(tmp_path)
    d, out = tmp_path / "in", tmp_path / "out"
    _img(d / "a" / "x.png")
    (d / "b").mkdir()
    shutil.copy2(d / "a" / "x.png", d / "b" / "x.png")
    out.mkdir()
    for name, sub in (("x", "a"), ("x_png", "b")):
        st = os.stat(d / sub / "x.png")
        (out / f"{name}.gradflip.json").write_text(json.dumps({"image": {
            "source": f"in/{sub}/x.png", "file": {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}}}), encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    inputs, _ = collect_inputs([d / "a", d / "b"], out=out)
    assert [(i.path.relative_to(d).as_posix(), i.name) for i in inputs] == [("a/x.png", "x"), ("b/x.png", "x_png")]


def test_a_set_listed_with_a_decomposed_name_keeps_its_file(tmp_path):
    """HFS+ lists file names decomposed (NFD: "e" + a combining accent): the set "café" made from café.png was
    not recognised (its listed name did not start with the composed "café"), so the added Café.jpg took it."""
    import json
    import unicodedata

    d, out = tmp_path / "in", tmp_path / "out"
    out.mkdir()
    photo = _img(d / "café.png")
    _img(d / "Café.jpg")
    nfd = unicodedata.normalize("NFD", "café")
    (out / f"{nfd}.gradflip.json").write_text(json.dumps({"image": {"source": str(photo)}}), encoding="utf-8")
    inputs = distinct_names([Input(d / n, Path(n).stem) for n in ("Café.jpg", "café.png")], out=out)
    assert [unicodedata.normalize("NFC", i.name) for i in inputs] == ["Café_jpg", "café"]


@pytest.mark.parametrize("recursive", [True, False])
def test_a_folder_that_cannot_be_read_is_a_skipped_line_and_the_scan_goes_on(tmp_path, monkeypatch, recursive):
    """Before: with --recursive an unreadable subfolder was dropped without a word (pathlib's rglob ignores
    PermissionError), and an unreadable folder given (or a path over PATH_MAX inside one) ended the whole run
    as "internal error: PermissionError ... (please report this)", exit 3."""
    import errno
    import os

    d = tmp_path / "in"
    _img(d / "a.png")
    _img(d / "locked" / "b.png")
    _img(d / "z" / "c.png")
    def locked(real):  # as a folder without read permission (the tests may run as root, who reads any)
        def listing(path="."):
            if os.path.basename(os.fspath(path)) == "locked":
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return real(path)
        return listing

    monkeypatch.setattr(os, "scandir", locked(os.scandir))
    monkeypatch.setattr(os, "listdir", locked(os.listdir))
    inputs, skipped = collect_inputs([d / "locked" if not recursive else d], recursive=recursive)
    if recursive:
        assert [i.name for i in inputs] == ["a", "z_c"]
    else:
        assert inputs == []
    assert skipped == [(d / "locked", "a folder that cannot be read: Permission denied")]


def test_inputs_that_messages_would_name_alike_are_shown_by_their_paths(tmp_path):
    """``a/photo.png`` and ``b/photo.png`` given by name, or two folders that each hold ``001.png``: the progress
    lines named both ``photo.png``; now each is shown by its path as given. A name alone stays as it was."""
    a, b = _img(tmp_path / "a" / "photo.png"), _img(tmp_path / "b" / "photo.png")
    solo = _img(tmp_path / "a" / "solo.png")
    inputs, _ = collect_inputs([a, b, solo])
    assert [i.display for i in inputs] == [a.as_posix(), b.as_posix(), "solo.png"]
    _img(tmp_path / "c" / "001.png"), _img(tmp_path / "d" / "001.png"), _img(tmp_path / "d" / "002.png")
    inputs, _ = collect_inputs([tmp_path / "c", tmp_path / "d"])
    assert [i.display for i in inputs] == [(tmp_path / "c" / "001.png").as_posix(),
                                           (tmp_path / "d" / "001.png").as_posix(), "002.png"]
    assert len({i.name for i in inputs}) == 3  # result names stay distinct as before
    inputs, _ = collect_inputs([a, a])  # the same file twice is one image: its name stays short
    assert {i.display for i in inputs} == {"photo.png"}


def test_links_that_loop_or_lead_nowhere_say_so(tmp_path):
    d = tmp_path / "in"
    _img(d / "ok.png")
    (d / "loop.png").symlink_to(d / "loop.png")
    (d / "gone.png").symlink_to(tmp_path / "missing.png")
    inputs, skipped = collect_inputs([d])
    assert [i.path.name for i in inputs] == ["ok.png"]
    why = {p.name: reason for p, reason in skipped}
    assert why["loop.png"] == "a link that loops back on itself"
    assert why["gone.png"] == f"a broken link: {tmp_path / 'missing.png'} does not exist"


def test_without_recursive_a_folder_link_and_the_out_folder_are_not_told_to_use_recursive(tmp_path):
    """``explain photos --out photos/res`` (no -r) said "photos/res: a folder (use --recursive to include
    subfolders)", and a link to a folder the same, though --recursive follows neither."""
    d = tmp_path / "in"
    _img(d / "ok.png")
    (tmp_path / "elsewhere").mkdir()
    (d / "dirlink.png").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (d / "res").mkdir()
    (d / "sub").mkdir()
    inputs, skipped = collect_inputs([d], out=d / "res")
    assert [i.path.name for i in inputs] == ["ok.png"]
    why = {p.name: reason for p, reason in skipped}
    assert why["dirlink.png"] == "a link to a folder, not followed (give the folder itself to include it)"
    assert why["res"] == "the output folder of this run"
    assert why["sub"] == "a folder (use --recursive to include subfolders)"


def test_an_earlier_runs_results_in_a_subfolder_are_one_skipped_line_not_one_per_file(tmp_path):
    """``gradflip explain inner -r`` over a folder holding an earlier ``--out inner/res`` listed each of its files
    (8 per set, index.html, summary.csv): 800 lines for 100 photos."""
    Image.fromarray(np.full((8, 8, 3), 120, np.uint8)).save(tmp_path / "photo.png")
    res = tmp_path / "res"
    res.mkdir()
    for name in ("a", "b"):
        (res / f"{name}.gradflip.json").write_text("{}")
        for suffix in (".adjusted.png", ".difference.png", ".figure.png"):
            Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(res / f"{name}{suffix}")
        (res / f"{name}.steps.csv").write_text("step\n")
    (res / "summary.csv").write_text("x\n")
    (res / "index.html").write_text("<html></html>")
    own = tmp_path / "notes"
    own.mkdir()
    (own / "summary.csv").write_text("my own table\n")  # no result set there: a file of the user's, said as such
    inputs, skipped = collect_inputs([tmp_path], recursive=True, out=tmp_path / "new-out")
    assert [i.path.name for i in inputs] == ["photo.png"]
    about_res = [(p, why) for p, why in skipped if p == res or res in p.parents]
    assert about_res == [(res, "an earlier GradFlip run's results (12 result files)")], skipped
    assert (own / "summary.csv", "not an image") in skipped


def test_the_same_weights_under_another_file_name_differ_only_in_the_name():
    from gradflip_desktop.core.dataset.inputs import same_weights

    then = {"name": "resnet18 (10 classes, ft.pth)", "file": "ft.pth", "file_bytes": 100, "file_sha256": "ab" * 8}
    assert same_weights(then, {**then, "name": "resnet18 (10 classes, b.pth)", "file": "b.pth"}) == {"file", "name"}
    assert same_weights(then, {**then, "name": "my classifier", "file": "b.pth"}) == {"file"}  # a name of its own
    assert same_weights(then, {**then, "file": "b.pth", "file_sha256": "cd" * 8}) == set()  # other weights
    assert same_weights(then, {**then, "file": "b.pth", "file_bytes": 101}) == set()
    folder = {"name": "vit (3 classes, hf)", "file": "hf"}  # a model folder has no digest: known by its name
    assert same_weights(folder, {"name": "vit (3 classes, hf2)", "file": "hf2"}) == set()


def test_the_same_weights_built_alike_are_one_model_whatever_its_name():
    """A sidecar's "name" made the run's own weights "another model" for --resume and check; with the record's
    ``arch`` (what built the network) the name is a label. Another architecture over the same file is another
    model, and a record from before ``arch`` keeps comparing names."""
    from gradflip_desktop.core.dataset.inputs import same_weights

    then = {"name": "m.pt (TorchScript, 3 classes)", "file": "m.pt", "file_bytes": 100, "file_sha256": "ab" * 8,
            "arch": "torchscript"}
    assert same_weights(then, {**then, "name": "My digits"}) == {"file", "name"}
    sd = {"name": "resnet18 (3 classes, ft.pth)", "file": "ft.pth", "file_bytes": 100, "file_sha256": "ab" * 8,
          "arch": "resnet18"}
    assert same_weights(sd, {**sd, "name": "timm:resnet18 (3 classes, ft.pth)", "arch": "timm:resnet18"}) == {"file"}
    older = {k: v for k, v in then.items() if k != "arch"}
    assert same_weights(older, {**then, "name": "My digits"}) == {"file"}


@pytest.mark.parametrize("versions", ["1.0", [1], 5, {"batch_size": "²"}])
def test_kept_batch_note_reads_an_odd_record_s_versions_as_unknown(versions):
    """A hand-edited or foreign record ("versions": "1.0") kept by --resume: no note, not an internal error that
    ended the whole folder run (AttributeError: 'str' object has no attribute 'get'; int("²") a ValueError)."""
    from gradflip_desktop.core.dataset.inputs import kept_batch_note

    assert kept_batch_note({"versions": versions}, 1) == []
    assert kept_batch_note({"versions": {"batch_size": "4"}}, 1) != []


# I05 (_made_from: tail > best_tail -> tail >= best_tail): a record whose source names another file is not taken as made
# from a file only because size and time agree (not even the file's name matched: tail 0), and between two copies
# that match the source equally the first keeps it
def test_a_record_is_made_from_a_file_of_its_sources_name_only(tmp_path):
    import os
    import shutil

    from gradflip_desktop.core.dataset.inputs import _made_from

    a = _img(tmp_path / "a" / "x.png")
    (tmp_path / "b").mkdir()
    b = tmp_path / "b" / "x.png"
    shutil.copy2(a, b)
    st = os.stat(a)
    stamp = {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    other = {"image": {"source": "elsewhere/y.png", "file": stamp}}
    assert _made_from(other, {a.resolve()}) is None
    either = {"image": {"source": "c/x.png", "file": stamp}}
    assert _made_from(either, {a.resolve(), b.resolve()}) == a.resolve()
