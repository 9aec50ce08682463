"""Exports: atomic writes, no silent overwrite, clear messages for read-only/full folders, safe names,
and the exported adjusted PNG re-classifies to the reported class."""

from __future__ import annotations

import errno
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from helpers import fail_replace_at, make_tiny
from gradflip_desktop import cli
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions, Status
from gradflip_desktop.core import images
from gradflip_desktop.core.images import atomic_write_bytes, load_image, save_png
from gradflip_desktop.core.errors import DiskFullError, ExportError, ResultExistsError
from gradflip_desktop.core.report import SUFFIXES, safe_name, write_result_set
from gradflip_desktop.core.images import writing


def _blocky_png(path):
    """A smooth 24 x 32 test photo saved as PNG (values inside (0.3, 0.7): no step is clipped at first)."""
    rng = np.random.default_rng(1)
    pixels = np.kron(rng.uniform(0.3, 0.7, size=(6, 8, 3)), np.ones((4, 4, 1))).astype(np.float32)
    return save_png(path, pixels)


def disk_full_at(monkeypatch, n: int) -> None:
    """The n-th fsync of the writes from here on fails as a full disk does."""
    real, calls = os.fsync, {"n": 0}

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == n:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(images.writing.os, "fsync", fsync)


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".gradflip-") or p.suffix == ".part")


# ---- atomic writes ------------------------------------------------------------------------------------


def test_atomic_write_failure_mid_write_leaves_no_temp_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.png"
    target.write_bytes(b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(images.writing.os, "fsync", full)
    with pytest.raises(OSError) as info:
        atomic_write_bytes(target, b"new" * 1000, overwrite=True)
    assert info.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_atomic_write_failure_at_rename_leaves_no_temp(tmp_path, monkeypatch):
    def ro(src, dst):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(images.writing.os, "replace", ro)
    with pytest.raises(OSError):
        save_png(tmp_path / "x.png", np.zeros((2, 2, 3), np.float32))
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_interrupted_by_keyboard_interrupt(tmp_path, monkeypatch):
    def stop(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(images.writing.os, "fsync", stop)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(tmp_path / "x.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_file_mode_follows_umask(tmp_path):
    old = os.umask(0o027)
    try:
        p = atomic_write_bytes(tmp_path / "m.bin", b"x")
    finally:
        os.umask(old)
    assert (p.stat().st_mode & 0o777) == 0o640


@pytest.mark.parametrize("fail_at", [1, 4, 7])
def test_result_set_failure_mid_set_rolls_back(tmp_path, monkeypatch, result, fail_at):
    """The disk fills up after some files of the set: ExportError, no partial set, no temp files."""
    disk_full_at(monkeypatch, fail_at)
    out = tmp_path / "out"
    with pytest.raises(ExportError) as info:
        write_result_set(result, out, "cat")
    assert str(info.value) == f"cannot write the results to {out}: the disk is full"
    assert list(out.iterdir()) == []
    monkeypatch.undo()
    assert len(write_result_set(result, out, "cat")) == len(SUFFIXES)  # a retry works: nothing blocks it


# ---- no silent overwrite ------------------------------------------------------------------------------


def test_no_silent_overwrite(tmp_path, result):
    out = tmp_path / "out"
    first = write_result_set(result, out, "cat")
    before = {p.name: p.read_bytes() for p in first}
    (out / "cat.steps.csv").write_text("my own notes")
    with pytest.raises(ResultExistsError) as info:
        write_result_set(result, out, "cat")
    # the core names the problem; the remedy ("use --force", an overwrite question) is the CLI's / GUI's
    assert str(info.value) == f"{len(SUFFIXES)} result files already exist in {out} (e.g. cat.gradflip.json)"
    assert "--" not in str(info.value)
    assert isinstance(info.value, FileExistsError) and isinstance(info.value, ExportError)
    assert sorted(Path(p).name for p in info.value.existing) == sorted(f"cat{s}" for s in SUFFIXES)
    assert (out / "cat.steps.csv").read_text() == "my own notes"
    assert (out / "cat.adjusted.png").read_bytes() == before["cat.adjusted.png"]
    # one existing file is enough to refuse the whole set, before anything is written
    (out / "dog.delta.npy").write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_result_set(result, out, "dog")
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("dog")) == ["dog.delta.npy"]
    # force overwrites
    assert len(write_result_set(result, out, "cat", force=True)) == len(SUFFIXES)
    assert (out / "cat.steps.csv").read_text().startswith("step,phase")
    assert leftovers(out) == []


def test_cli_refuses_to_overwrite_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    img = _blocky_png(tmp_path / "cat photo.png")
    out = tmp_path / "res"
    assert cli.main(["explain", str(img), "--out", str(out), "-q"]) == cli.EXIT_OK
    capsys.readouterr()
    assert cli.main(["explain", str(img), "--out", str(out), "-q"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.strip() == (
        f"gradflip: error: {len(SUFFIXES)} result files for 'cat photo' already exist in {out}; use --resume to keep complete sets or --force to overwrite"
    )
    assert cli.main(["explain", str(img), "--out", str(out), "-q", "--force"]) == cli.EXIT_OK


# ---- read-only and full folders -----------------------------------------------------------------------


def _really_read_only(folder) -> bool:
    try:
        (folder / ".probe").write_bytes(b"")
    except OSError:
        return True
    (folder / ".probe").unlink()
    return False


def test_read_only_folder(tmp_path, monkeypatch, result):
    """chmod 0o555; where that does not stop writes (tests running as root), the OS answer is simulated."""
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        if not _really_read_only(out):  # root: chmod does not block writes; simulate EACCES from the OS
            def denied(*a, **k):
                raise PermissionError(errno.EACCES, "Permission denied")

            monkeypatch.setattr(images.writing.tempfile, "mkstemp", denied)
        with pytest.raises(ExportError) as info:
            write_result_set(result, out, "cat")
        assert str(info.value) == f"cannot write the results to {out}: the folder is read-only or you lack permission"
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


@pytest.mark.parametrize(
    "code, reason",
    [
        (errno.EROFS, "the folder is read-only or you lack permission"),
        (errno.EPERM, "the folder is read-only or you lack permission"),
        (errno.ENOSPC, "the disk is full"),
        (errno.EDQUOT, "your disk quota is used up"),
    ],
)
def test_os_errors_at_rename_become_messages(tmp_path, monkeypatch, result, code, reason):
    def fail(src, dst):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(images.writing.os, "replace", fail)
    out = tmp_path / "out"
    with pytest.raises(ExportError) as info:
        write_result_set(result, out, "cat")
    assert str(info.value) == f"cannot write the results to {out}: {reason}"
    assert isinstance(info.value, DiskFullError) == (code in (errno.ENOSPC, errno.EDQUOT))  # a folder run stops
    assert list(out.iterdir()) == []


def test_an_old_file_that_cannot_be_replaced_is_named_and_the_incomplete_set_said(tmp_path, monkeypatch, result):
    """Overwriting a set (force) where one old file refuses (immutable, locked): the message named "the folder"
    read-only although it is writable, and did not say that the old set there had lost its record."""
    out = tmp_path / "out"
    write_result_set(result, out, "cat")
    calls = fail_replace_at(monkeypatch, 3, PermissionError(errno.EPERM, "Operation not permitted"))
    with pytest.raises(ExportError) as info:
        write_result_set(result, out, "cat", force=True)
    assert str(info.value) == (
        f"cannot replace {Path(calls[2]).name} in {out}: it is read-only or locked (the folder itself is writable); "
        "the earlier result set there is now incomplete (its record was removed first, so a resumed run explains "
        "it again)")
    assert not (out / "cat.gradflip.json").exists()  # incomplete, as said: no record
    assert leftovers(out) == []  # no staged file left behind
    # the roll-back removes staged and new files only, never one that was there (a mutation audit, session 43): the
    # files already renamed over the old set's stay, as the rest of it does
    assert sorted(p.name for p in out.iterdir()) == sorted(f"cat{s}" for s in SUFFIXES if s != ".gradflip.json")


def test_output_folder_under_a_regular_file(tmp_path, result):
    blocker = tmp_path / "results.txt"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError) as info:
        write_result_set(result, blocker / "sub", "cat")
    assert str(info.value) == f"cannot create the folder {blocker / 'sub'}: {blocker} is a file, not a folder"
    with pytest.raises(ExportError) as info:
        write_result_set(result, blocker, "cat")
    assert str(info.value).startswith(f"cannot create the folder {blocker}")


def test_cli_read_only_target_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    img = save_png(tmp_path / "in.png", np.full((8, 8, 3), 0.5, np.float32))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = cli.main(["explain", str(img), "--out", str(blocker / "out"), "-q", "--max-steps", "2"])
    assert code == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == f"gradflip: error: cannot create the folder {blocker / 'out'}: {blocker} is a file, not a folder"


# ---- safe names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("cat photo", "cat photo"),
        ("Katze – Küche 🐱", "Katze – Küche 🐱"),
        ("Cafe\u0301", "Café"),  # NFD -> NFC
        ("a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "image"),
        ("", "image"),
        ("   ", "image"),
        ("///", "image"),
        ("tab\there\nnewline\x00nul", "tab_here_newline_nul"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT9", "_LPT9"),
        ("COM1.tar", "_COM1.tar"),
        ("CONSOLE", "CONSOLE"),
        ("trailing dots...", "trailing dots"),
        ("photo\u202egpj.exe", "photo_gpj.exe"),  # a right-to-left override would show it as "exe.jpg"
        ("a\u200bb", "a_b"),  # zero-width space
        ("-rf", "_-rf"),  # never read as options by `rm *`
    ],
)
def test_safe_name(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["x" * 300, "é" * 300, "🐱" * 300, "a b " * 100, "../" * 100 + "x"])
def test_long_and_hostile_names_are_bounded_and_written_inside_the_folder(tmp_path, result, name):
    out = tmp_path / "out"
    stem = safe_name(name)
    assert 0 < len(stem.encode("utf-8")) <= 120
    assert "/" not in stem and "\\" not in stem and stem == stem.strip(" .")
    stem.encode("utf-8")  # valid UTF-8, no split surrogate/character
    written = write_result_set(result, out, name)
    assert len(written) == len(SUFFIXES)
    for p in written:
        assert p.parent == out
        assert len(p.name.encode("utf-8")) <= 255
        assert p.name == stem + next(s for s in SUFFIXES if p.name.endswith(s))
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)


def test_unicode_input_file_name_through_the_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_load_model", lambda args: make_tiny())
    img = _blocky_png(tmp_path / "Chat – été 🐱.png")
    out = tmp_path / "out"
    assert cli.main(["explain", str(img), "--out", str(out), "-q"]) == cli.EXIT_OK
    assert (out / "Chat – été 🐱.adjusted.png").exists()
    rec = json.loads((out / "Chat – été 🐱.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["name"] == "Chat – été 🐱"


# ---- the exported adjusted PNG re-classifies to the reported class ------------------------------------


def test_exported_adjusted_png_reclassifies_to_the_reported_class(tmp_path, result):
    out = tmp_path / "out"
    write_result_set(result, out, "cat")
    reloaded = load_image(out / "cat.adjusted.png")  # the loader the GUI and CLI use
    np.testing.assert_array_equal(reloaded.pixels, result.adjusted_uint8.astype(np.float32) / np.float32(255))
    probs = make_tiny().probabilities(reloaded.pixels)
    assert int(np.argmax(probs)) == result.final.index
    assert result.final.index != result.original.index
    np.testing.assert_allclose(probs, result.final_probabilities, atol=1e-5)
    rec = json.loads((out / "cat.gradflip.json").read_text(encoding="utf-8"))
    assert rec["final"]["index"] == result.final.index and rec["flipped"] is True


def test_the_record_says_at_which_search_step_the_decision_flipped():
    from gradflip_desktop.core.report import record
    from helpers import tiny_image_array

    res = run(make_tiny(), tiny_image_array(), ExplainOptions(key_pixels=False))  # region style: steps follow the flip
    rec = record(res, versions={})
    searched = [s for s in res.steps if s.phase == "search"]
    assert res.flipped and searched[-1].flipped
    assert rec["flip_step"] == searched[-1].index < rec["steps"] == len(res.steps)
    stopped = run(make_tiny(), tiny_image_array(), ExplainOptions(max_steps=1, epsilon=1e-6, key_pixels=False))
    assert not stopped.flipped and record(stopped, versions={})["flip_step"] is None


@pytest.mark.parametrize("fail_at", [1, 4, 7])
def test_replacing_a_set_that_fails_midway_keeps_the_old_set_whole(tmp_path, monkeypatch, result, fail_at):
    """--force / Overwrite, and the disk fills up after some files: the old set stays as it was (not a mix
    of the new run's first files and the old record, which --resume would take for a complete set)."""
    out = tmp_path / "out"
    old = {p.name: p.read_bytes() for p in write_result_set(result, out, "cat")}
    for name in old:  # mark the old set so that a file of the new run is told apart
        (out / name).write_bytes(b"old " + name.encode())
    disk_full_at(monkeypatch, fail_at)
    with pytest.raises(ExportError, match="the disk is full"):
        write_result_set(result, out, "cat", force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {n: b"old " + n.encode() for n in old}


def test_replacing_a_set_interrupted_among_the_renames_leaves_it_without_a_record(tmp_path, monkeypatch, result):
    out = tmp_path / "out"
    write_result_set(result, out, "cat")
    fail_replace_at(monkeypatch, 3, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        write_result_set(result, out, "cat", force=True)
    # the record goes first and is written last: the set reads as incomplete, and no temporary file is left
    assert not (out / "cat.gradflip.json").exists()
    assert leftovers(out) == []


# ---- the key set as a mask file ---------------------------------------------------------------------------


def _key_png(folder, name) -> np.ndarray:
    from PIL import Image

    with Image.open(folder / f"{name}.key.png") as im:
        assert im.mode == "L"
        return np.asarray(im).copy()


def test_the_key_pixels_are_exported_as_a_mask_the_same_as_the_figure_outlines(result, tmp_path):
    write_result_set(result, tmp_path, "cat")
    mask = _key_png(tmp_path, "cat")
    assert mask.shape == result.delta.shape[:2] and set(np.unique(mask)) <= {0, 255}
    assert np.array_equal(mask == 255, result.key_pixels.mask)
    assert int((mask == 255).sum()) == result.key_pixels.count > 0
    rec = json.loads((tmp_path / "cat.gradflip.json").read_text(encoding="utf-8"))
    assert rec["files"]["key"] == "cat.key.png"


def test_a_run_without_a_key_set_exports_an_empty_mask(tmp_path):
    pixels = np.kron(np.random.default_rng(2).uniform(0.3, 0.7, size=(6, 8, 3)), np.ones((4, 4, 1))).astype(np.float32)
    res = run(make_tiny(), pixels, ExplainOptions(style="free", max_steps=1))
    assert res.status != Status.FLIPPED and res.key_pixels is None and res.key_region is None
    write_result_set(res, tmp_path, "stuck")
    mask = _key_png(tmp_path, "stuck")
    assert mask.shape == pixels.shape[:2] and not mask.any()


def test_the_figure_says_how_the_file_became_what_the_model_saw(tmp_path, monkeypatch, result):
    """The loading notes (scaled to the working size, composited on white) were in the record and the app's
    caption, never in the figure: it sits under the Original now."""
    from gradflip_desktop.core import figure, report

    notes = ["scaled from 1600×1200 to 1024×768 (working size 1024 px)", "transparent areas were composited on white"]
    caption = figure.original_caption(result, notes)
    assert caption.startswith(f"{result.original.label} (") and caption.endswith(" · ".join(notes))
    assert figure.original_caption(result, []) == figure.original_caption(result) == caption.split(" · ")[0]
    seen = []
    real = report.render_figure
    monkeypatch.setattr(report, "render_figure", lambda *a, **k: seen.append(k.get("notes")) or real(*a, **k))
    write_result_set(result, tmp_path, "p", image_info={"warnings": notes})
    assert seen == [notes]
    with_notes, without = real(result, notes=notes), real(result)
    assert with_notes.shape[1] == without.shape[1] and not np.array_equal(with_notes, without)  # drawn


def test_the_apis_figure_has_the_notes_its_record_has(tmp_path, monkeypatch, result):
    """``write_result_set(result, out, name)`` (the README's Python example) took the record's ``image.warnings``
    from ``run()``'s photo but drew the figure without them: "composited on white" was in the JSON only."""
    from gradflip_desktop.core import report
    notes = ["transparent areas were composited on white"]
    seen = []
    real = report.render_figure
    monkeypatch.setattr(report, "render_figure", lambda *a, **k: seen.append(k.get("notes")) or real(*a, **k))
    with_info = replace(result)
    with_info.image_info = {"name": "p", "warnings": notes}
    write_result_set(with_info, tmp_path, "p")
    assert seen == [notes]
    assert json.loads((tmp_path / "p.gradflip.json").read_text(encoding="utf-8"))["image"]["warnings"] == notes

def test_the_apis_record_fingerprints_the_photo_file_so_resume_and_check_see_an_edit(tmp_path):
    """``run(model, load_image(path))`` + ``write_result_set`` (the README's Python example) wrote no
    ``image.file``: ``explain --resume`` kept the set of a photo mirrored since, and ``check`` scored the old map
    on the new photo, both in silence (the CLI and the app record the file's size, date and SHA-256)."""
    import hashlib
    from gradflip_desktop.core.dataset.inputs import Input
    from gradflip_desktop.core.dataset.job import changed_file

    photo = tmp_path / "p.png"
    save_png(photo, (np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8))
    res = run(make_tiny(), load_image(photo), ExplainOptions(max_steps=3))
    write_result_set(res, tmp_path / "out", "p")
    rec = json.loads((tmp_path / "out" / "p.gradflip.json").read_text(encoding="utf-8"))
    assert rec["image"]["file"]["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    save_png(photo, (np.random.default_rng(1).random((24, 32, 3)) * 255).astype(np.uint8), overwrite=True)
    assert changed_file(rec, Input(path=photo, name="p"))


def test_an_out_folder_that_is_a_dangling_link_or_lies_under_a_file_is_named_for_what_it_is(tmp_path):
    """--out (or Export) to a link whose target is gone said "cannot create the folder out: File exists", and to
    a path under a file "...: Not a directory": the message names the link and its target, or the file."""
    from gradflip_desktop.core.report import make_folder

    link = tmp_path / "out"
    try:
        link.symlink_to(tmp_path / "gone" / "results")
    except (OSError, NotImplementedError):
        pytest.skip("no symbolic links here")
    with pytest.raises(ExportError) as err:
        make_folder(link)
    assert str(err.value) == f"cannot create the folder {link}: {link} is a link to {tmp_path / 'gone' / 'results'}, which does not exist"
    (tmp_path / "loopA").symlink_to("loopB")  # two links to each other: loopB exists (as a link), the loop is the fault
    (tmp_path / "loopB").symlink_to("loopA")
    with pytest.raises(ExportError) as err:
        make_folder(tmp_path / "loopA")
    assert str(err.value) == (f"cannot create the folder {tmp_path / 'loopA'}: {tmp_path / 'loopA'} is a link to loopB, "
                              "and the links lead round in a loop to no folder")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError) as err:
        make_folder(tmp_path / "afile" / "sub" / "deeper")
    assert str(err.value) == f"cannot create the folder {tmp_path / 'afile' / 'sub' / 'deeper'}: {tmp_path / 'afile'} is a file, not a folder"


def test_a_processs_own_staged_files_are_never_left_behind_also_where_processes_cannot_be_asked(monkeypatch):
    day = writing.STALE_AFTER_S_NO_PID
    assert not writing.left_behind(os.getpid(), 2 * day)
    with monkeypatch.context() as m:  # os.kill would end the process there: judged by age alone ...
        m.setattr(writing.os, "name", "nt")  # (undone before asserting: pytest's report needs the real os.name)
        own, other_old, other_young = (writing.left_behind(os.getpid(), 2 * day),
                                       writing.left_behind(os.getpid() + 1, 2 * day),
                                       writing.left_behind(os.getpid() + 1, day / 2))
    assert not own  # ... but never this process's own
    assert other_old and not other_young


def test_a_python_callers_odd_folder_or_name_is_one_clear_error(tmp_path):
    """An output folder whose name holds a NUL raised os's ValueError "embedded null byte", and name=None wrote a set
    called "None": an ExportError and a TypeError, nothing written."""
    res = run(make_tiny(), np.full((8, 8, 3), 0.5, np.float32), ExplainOptions(style="free", max_steps=2, key_pixels=False))
    with pytest.raises(ExportError, match=r"its name holds a NUL character$"):
        write_result_set(res, str(tmp_path / "o\x00x"), "cat")
    with pytest.raises(TypeError, match=r"^name must be the set's name, a string, not NoneType$"):
        write_result_set(res, tmp_path / "out", None)
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []
    assert [p.name for p in write_result_set(res, tmp_path / "out", "cat")][0].startswith("cat.")
