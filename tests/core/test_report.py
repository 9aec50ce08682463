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

from helpers import make_tiny
from gradflip_desktop import cli
from gradflip_desktop.core.explain import run
from gradflip_desktop.core.options import ExplainOptions, Status
from gradflip_desktop.core import images
from gradflip_desktop.core.images import atomic_write_bytes, load_image, save_png
from gradflip_desktop.core.errors import DiskFullError, ExportError, ResultExistsError
from gradflip_desktop.core.report import SUFFIXES, safe_name, write_result_set


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.7, size=(6, 8, 3)).astype(np.float32)
    pixels = np.kron(base, np.ones((4, 4, 1), dtype=np.float32))
    res = run(make_tiny(), pixels, ExplainOptions(style="free"))
    assert res.status == Status.FLIPPED
    return res


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
    real, calls = os.replace, []

    def third_fails(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return real(src, dst)

    monkeypatch.setattr(images.writing.os, "replace", third_fails)
    with pytest.raises(ExportError) as info:
        write_result_set(result, out, "cat", force=True)
    assert str(info.value) == (
        f"cannot replace {Path(calls[2]).name} in {out}: it is read-only or locked (the folder itself is writable); "
        "the earlier result set there is now incomplete (its record was removed first, so a resumed run explains "
        "it again)")
    assert not (out / "cat.gradflip.json").exists()  # incomplete, as said: no record
    assert leftovers(out) == []  # no staged file left behind


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


def test_figure_gives_the_size_of_the_saved_change(tiny, tiny_image):
    # the figure names the saved image's class, and the window shows the saved change's size: the figure's
    # "Where it changed" caption must give the same numbers (not the float change's, e.g. 22.779 vs 22.790)
    from gradflip_desktop.core.report import describe_change

    result = run(tiny, tiny_image, ExplainOptions(style="blur"))
    assert f"{result.l2:.3f}" != f"{result.l2_saved:.3f}"
    text = describe_change(result)
    rms = result.l2_saved / np.sqrt(result.delta.size)
    assert text == f"L2 {result.l2_saved:.3f} · max {255 * result.linf_saved:.1f}/255 · RMS {255 * rms:.2f}/255"


def test_key_region_caption_says_what_changing_it_gives_and_when_no_region_flips_alone():
    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.report import key_region_caption
    from gradflip_desktop.core.results import KeyRegion

    mask = np.zeros((4, 4), bool)
    mask[:2] = True
    kr = KeyRegion(pixels=8, fraction=0.5, components=1, flips=True, prediction=Prediction(3, "candle", 0.4),
                   mask=mask, ranking=np.arange(16, dtype=np.int32).reshape(4, 4), fill="blur sigma = long side / 8")
    # the share as the sentence writes it; over a quarter of the image it is not called a small part
    assert key_region_caption(kr) == "no small region flips it; removing detail in 50 % -> candle"
    assert key_region_caption(replace(kr, fraction=0.2)) == "removing detail in 20 % -> candle"
    # most of the image: hatched, and no small region does it (99.8 % was "100 %" in the sentence above)
    most = KeyRegion(pixels=15, fraction=0.998, components=1, flips=True, prediction=Prediction(3, "candle", 0.4),
                     mask=~np.eye(4, dtype=bool), ranking=kr.ranking, fill="blur sigma = long side / 8")
    assert key_region_caption(most) == "no small region flips it; removing detail in 99.8 % (hatched) -> candle"
    faded = KeyRegion(pixels=8, fraction=0.47, components=5, flips=True, prediction=Prediction(70, "harvestman", 0.04),
                      mask=mask, ranking=kr.ranking, fill="mean colour amount found by the search")
    assert key_region_caption(faded) == "no small region flips it; fading toward the mean colour in 47 % -> harvestman"
    # under 1 % the figure draws a dashed box round the region (it would be lost): the caption says what the box is
    tiny_region = KeyRegion(pixels=3, fraction=0.004, components=1, flips=True, prediction=Prediction(3, "candle", 0.4),
                            mask=mask, ranking=kr.ranking, fill="blur sigma = long side / 8")
    assert key_region_caption(tiny_region) == "removing detail in 0.4 % (in the dashed box) -> candle"
    # a targeted run whose target no region reaches: the whole image, not flipping
    whole = KeyRegion(pixels=16, fraction=1.0, components=1, flips=False, prediction=Prediction(2, "espresso", 0.7),
                      mask=np.ones((4, 4), bool), ranking=kr.ranking, fill="mean colour")
    caption = key_region_caption(whole)
    assert caption == "no region alone flips it; filling with the mean colour everywhere gives espresso"
    assert "100.0 %" not in caption


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
    real = os.replace
    calls = {"n": 0}

    def replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(images.writing.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_result_set(result, out, "cat", force=True)
    # the record goes first and is written last: the set reads as incomplete, and no temporary file is left
    assert not (out / "cat.gradflip.json").exists()
    assert leftovers(out) == []


@pytest.mark.parametrize("label", ["Greater Swiss Mountain dog", "A" * 40 + " " + "x" * 200])
def test_figure_text_stays_inside_its_panel_and_the_figure(monkeypatch, label):
    """Long class names (and the key region's caption, long by itself on a portrait photo) wrap inside
    their panel instead of running over the next panel's numbers or off the figure's edge."""
    import dataclasses

    from PIL import ImageDraw

    from gradflip_desktop.core.report import render_figure
    from helpers import tiny_image_array

    portrait = np.ascontiguousarray(np.transpose(tiny_image_array(), (1, 0, 2)))  # taller than wide
    res = run(make_tiny(), portrait, ExplainOptions())
    assert res.key_region is not None and res.key_pixels is None  # four panels
    res = dataclasses.replace(res, original=dataclasses.replace(res.original, label=label))
    drawn = []
    real = ImageDraw.ImageDraw.text

    def text(self, xy, t, *args, **kw):
        drawn.append((xy, t, self.textlength(t, font=kw["font"])))
        return real(self, xy, t, *args, **kw)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
    fig = render_figure(res)
    pad, panels = 12, 4
    pw = (fig.shape[1] - pad) // panels - pad
    below = next(y for (_, y), t, _ in drawn if t == "Original")  # the panels' headings and captions
    for (x, y), t, length in drawn:
        if y < below:  # title, numbers line and sentence, above the panels: the figure's width
            assert x + length <= fig.shape[1] - pad, t
        else:  # a panel's heading or caption: its own column
            left = pad + ((x - pad) // (pw + pad)) * (pw + pad)
            assert x + length <= left + pw, t
        assert y < fig.shape[0]
    joined = " ".join(t for _, t, _ in drawn)
    assert label.split()[0][:20] in joined and "L2 " in joined


@pytest.mark.parametrize("label", [
    "Extremely long class name number one: a small grey-and-white domestic short-haired cat on a windowsill",
    "Supercalifragilisticexpialidocious_without_any_spaces_at_all_to_break_the_line_anywhere",
])
def test_a_long_class_name_is_shortened_and_the_numbers_after_it_stay(monkeypatch, label):
    """A model's own label can be a sentence: the figure cut the caption after its 4th line, in the label, so
    the Original lost its probability, the Adjusted its size of change ("... (39.1 %) ·…") and the title what
    the photo became; a label without spaces broke at any letter ("to_break_th" / "e_line"), a lone "·" took a
    line. Now a long label is cut with "…" and every number after it is drawn."""
    import dataclasses

    from PIL import ImageDraw

    from gradflip_desktop.core.viz.text import FIGURE_LABEL_CHARS
    from gradflip_desktop.core.report import render_figure
    from helpers import tiny_image_array

    portrait = np.ascontiguousarray(np.transpose(tiny_image_array(), (1, 0, 2)))  # narrow columns
    res = run(make_tiny(), portrait, ExplainOptions())
    relabel = lambda p: dataclasses.replace(p, label=label)  # noqa: E731
    res = dataclasses.replace(res, original=relabel(res.original), final=relabel(res.final),
                              key_region=dataclasses.replace(res.key_region, prediction=relabel(res.key_region.prediction)))
    drawn = []
    real = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text",
                        lambda self, xy, t, *a, **kw: (drawn.append(t), real(self, xy, t, *a, **kw))[1])
    render_figure(res, notes=["scaled from 3000×4000 to 768×1024"])
    joined = " ".join(drawn)
    short = label[: FIGURE_LABEL_CHARS - 1].rstrip() + "…"
    assert short in joined.replace("_ ", "_")  # cut once, with "…" (a word wider than its column may still wrap)
    assert f"({res.original.probability * 100:.1f} %)" in joined  # the photo's probability, under the Original
    assert "768×1024" in joined and "RMS " in joined  # the loading note and the size of the change
    assert f"({res.final.probability * 100:.1f} %) (flipped)" in joined  # the title ends with the flip
    assert not any(t.strip() in ("·", "->") for t in drawn), drawn  # a separator never takes a line alone
    assert not any(t.endswith("·…") for t in drawn), drawn
    assert not any(t.endswith("_th") for t in drawn), drawn  # "…_to_break_th" / "e_line…": broken after "_"


def test_the_figures_size_of_change_is_in_the_record(tiny, tiny_image):
    """The "Where it changed" caption (the saved change: L2, max, RMS) can be read back from the record."""
    from gradflip_desktop.core.report import describe_change, record

    result = run(tiny, tiny_image, ExplainOptions(style="blur"))
    rec = record(result, versions={})
    assert describe_change(result) == (
        f"L2 {rec['l2_saved']:.3f} · max {255 * rec['linf_saved']:.1f}/255 · RMS {255 * rec['rms_saved']:.2f}/255"
    )
    assert rec["rms_saved"] != rec["rms"]  # the float change's RMS is another number


def test_the_figure_title_names_the_group_a_group_run_explained(result):
    from gradflip_desktop.core.report import figure_title

    title = figure_title(result)
    assert title.startswith(f"GradFlip · tiny · {result.original.label} (") and "(flipped)" in title
    assert "any " not in title
    rng = np.random.default_rng(1)
    pixels = np.kron(rng.uniform(0.3, 0.7, size=(6, 8, 3)).astype(np.float32), np.ones((4, 4, 1), np.float32))
    grouped = run(make_tiny(), pixels, ExplainOptions(style="free", group="low"))
    assert len(grouped.explained) == 2
    title = figure_title(grouped)
    group = sum(float(grouped.original_probabilities[i]) for i in grouped.explained)
    assert title.startswith(f"GradFlip · tiny · any low ({100 * group:.1f} %; {grouped.original.label} ")
    # the group's sum first, the number the sentence under the title gives it ("any vehicle (85 %)": the title
    # read "any vehicle (moped 48.5 %)" above it), then its top class, in one pair of brackets
    assert f"any low ({100 * group:.1f} %; {grouped.original.label} {100 * grouped.original.probability:.1f} %) -> " in title
    from gradflip_desktop.core.summary import pct, summary_sentence

    assert f"any low ({pct(group)}" in summary_sentence(grouped)  # the sentence's number for it
    assert f"-> {grouped.final.label} (" in title


def test_the_figure_title_names_the_key_regions_class_when_it_differs(result):
    """The key region alone can give another class than the whole change (coffee: consomme, the region alone
    candle): the title said only the first while the Key region panel said the second."""
    from dataclasses import replace

    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.report import figure_title
    from gradflip_desktop.core.results import KeyRegion

    other = next(i for i in range(len(result.labels)) if i not in (result.final.index, result.original.index))
    mask = np.zeros(result.delta.shape[:2], bool)
    mask[:4, :4] = True
    kr = KeyRegion(pixels=16, fraction=16 / mask.size, components=1, flips=True,
                   prediction=Prediction(other, result.labels[other], 0.4), mask=mask, ranking=mask.astype(np.int32))
    title = figure_title(replace(result, key_region=kr))
    assert title.endswith(f"(flipped) · key region alone -> {result.labels[other]}"), title
    same = replace(kr, prediction=result.final)
    assert figure_title(replace(result, key_region=same)).endswith("(flipped)")  # the same class: said once
    assert figure_title(replace(result, key_region=replace(kr, flips=False))).endswith("(flipped)")


def test_the_figures_map_panel_is_named_for_what_it_shows(monkeypatch, result):
    """The region style's third panel is the key-region search's importance map (the sentence above it says
    "the bright areas show how much each part mattered"), not the change: it was headed "Where it changed". It is
    headed with the name the window's Difference box and colour bar give it ("Where it mattered" was a fourth name)."""
    from PIL import ImageDraw

    from gradflip_desktop.core.report import render_figure
    from helpers import tiny_image_array

    drawn = []
    real = ImageDraw.ImageDraw.text

    def text(self, xy, t, *args, **kw):
        drawn.append(t)
        return real(self, xy, t, *args, **kw)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
    region = run(make_tiny(), tiny_image_array(), ExplainOptions())
    assert region.region_map is not None
    render_figure(region)
    assert "Importance map" in drawn and "Smoothed magnitude" not in drawn
    text_all = " ".join(drawn)
    # the map's caption says what its colours mean; the change's size sits under the Adjusted image it measures
    assert "bright = mattered most, dark = not at all (full" in text_all  # full brightness at the 99.5th percentile (heat_top)
    from gradflip_desktop.core.report import _fmt_pred, describe_change

    assert f"{_fmt_pred(region.final)} · change: {describe_change(region)}".split(" · max")[0] in text_all
    drawn.clear()
    render_figure(result)  # the textbook change: the map is the smoothed |change|
    assert "Smoothed magnitude" in drawn and "Importance map" not in drawn
    assert "bright = changed most, dark = unchanged" in " ".join(drawn)
    drawn.clear()  # a centre-cropping model: the textbook change is dark outside the crop too, and the caption says why
    render_figure(replace(result, model_settings={**(result.model_settings or {}), "resize": "center-crop 256"}))
    assert "crops: it never sees that, so nothing changes there" in " ".join(drawn).replace("\n", " ")


@pytest.mark.parametrize("shape", [(160, 12), (12, 160)])
def test_tall_and_panorama_figures_keep_their_text_apart_and_their_panels_visible(monkeypatch, shape):
    """A 300 x 2000 photo drew its panels 54 px wide: the headings "Importance map" and "Key region" were
    drawn over each other and the numbers line ran off the figure. A 4000 x 300 panorama drew four strips
    39 px high. Now a narrow photo sits in a column wide enough for its words, and a panorama gets one
    panel per row."""
    from PIL import Image, ImageDraw

    from gradflip_desktop.core.report import render_figure

    rng = np.random.default_rng(3)
    h, w = shape
    pixels = np.kron(rng.uniform(0.2, 0.8, size=(h // 4, w // 4, 3)), np.ones((4, 4, 1))).astype(np.float32)
    res = run(make_tiny(), pixels, ExplainOptions())
    drawn, pasted = [], []
    real_text, real_paste = ImageDraw.ImageDraw.text, Image.Image.paste

    def text(self, xy, t, *args, **kw):
        drawn.append((xy, t, self.textlength(t, font=kw["font"])))
        return real_text(self, xy, t, *args, **kw)

    def paste(self, im, box=None, *args, **kw):
        pasted.append(im.size)
        return real_paste(self, im, box, *args, **kw)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
    monkeypatch.setattr(Image.Image, "paste", paste)
    fig = render_figure(res)
    for (x, y), t, length in drawn:
        assert x + length <= fig.shape[1] - 12 and y < fig.shape[0], t  # nothing runs off the figure
    for i, ((x1, y1), t1, l1) in enumerate(drawn):  # texts on one line never overlap
        for (x2, y2), t2, l2 in drawn[i + 1:]:
            assert y1 != y2 or x1 + l1 <= x2 or x2 + l2 <= x1, (t1, t2)
    assert len(pasted) == 4
    if w > h:  # the panorama: panels high enough to see something (the tall photo keeps its 360 px height)
        assert min(height for _, height in pasted) >= 60
    else:
        assert all(height == 360 for _, height in pasted)


def test_the_figure_title_does_not_round_an_almost_sure_class_to_certain(result):
    import dataclasses

    from gradflip_desktop.core.report import figure_title

    sure = dataclasses.replace(result, original=dataclasses.replace(result.original, probability=0.9997))
    title = figure_title(sure)
    assert f"{result.original.label} (99.9 %) ->" in title and "100.0 %" not in title


def test_a_run_with_nothing_to_flip_says_no_change_instead_of_sizing_the_rounding(tiny, tiny_image):
    """Targeting the class the model already predicts changes nothing: the map panel's caption says so,
    and when the photo is not 8-bit (a float image) the saved image's rounding is named as such, not as a change."""
    from gradflip_desktop.core.report import describe_change

    top = int(np.argmax(tiny.probabilities(tiny_image)))
    result = run(tiny, tiny_image, ExplainOptions(target=top))
    assert result.status == Status.ALREADY and not result.steps
    text = describe_change(result)
    if result.l2_saved == 0.0:
        assert text == "no change (nothing to flip)"
    else:
        assert text.startswith("no change (nothing to flip); 8-bit rounding only: L2 ")
    # a float photo off the 8-bit lattice: the rounding is there, and it is labelled as rounding
    off = np.clip(np.asarray(tiny_image, dtype=np.float32) + 0.3 / 255, 0, 1)
    result = run(tiny, off, ExplainOptions(target=top))
    assert result.l2_saved > 0
    assert describe_change(result) == (
        "no change (nothing to flip); 8-bit rounding only: "
        f"L2 {result.l2_saved:.3f} · max {255 * result.linf_saved:.1f}/255 · "
        f"RMS {255 * result.l2_saved / np.sqrt(result.delta.size):.2f}/255"
    )
    # a run that flipped keeps the plain sizes
    flipped = run(tiny, tiny_image, ExplainOptions(style="blur"))
    assert describe_change(flipped).startswith("L2 ")


def test_the_figure_of_a_run_with_nothing_to_flip_gives_its_empty_map_no_brightness_scale(monkeypatch, tiny, tiny_image):
    """Nothing to flip: the figure's map is all zero, and its caption said "bright = changed most ... (full
    brightness: this photo's top 0.5 %)" over it; it says there is no map, as the window's Difference row does."""
    from PIL import ImageDraw

    from gradflip_desktop.core.report import render_figure

    drawn = []
    real = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text", lambda self, xy, t, *a, **kw: drawn.append(t) or real(self, xy, t, *a, **kw))
    top = int(np.argmax(tiny.probabilities(tiny_image)))
    render_figure(run(tiny, tiny_image, ExplainOptions(target=top)))
    text = " ".join(drawn).replace("\n", " ")
    assert "no map: nothing to flip, so the photo was not changed" in text and "full brightness" not in text
    drawn.clear()
    render_figure(run(tiny, tiny_image, ExplainOptions(style="blur")))  # a run that changed the photo keeps its scale
    assert "full brightness" in " ".join(drawn).replace("\n", " ")


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


def test_the_figure_subtitle_counts_one_step_and_one_evaluation_in_the_singular(tiny, tiny_image):
    # a 1-step budget run's figure said "1 steps, 2 gradient + 3 forward evaluations"
    from dataclasses import replace

    from gradflip_desktop.core.report import figure_subtitle

    result = run(tiny, tiny_image, ExplainOptions(mode="fixed", epsilon=1e-6, max_steps=1))
    assert len(result.steps) == 1
    text = figure_subtitle(result)
    assert text.startswith("1 step, ") and "1 steps" not in text
    one = replace(result, steps=[], gradient_evaluations=0, forward_evaluations=1)
    assert figure_subtitle(one).startswith("0 steps, 0 gradient + 1 forward evaluation, ")
    many = figure_subtitle(replace(result, gradient_evaluations=2, forward_evaluations=3))
    assert "2 gradient + 3 forward evaluations, " in many and "mode fixed, epsilon 1e-06" in many


def test_the_figure_says_how_the_file_became_what_the_model_saw(tmp_path, monkeypatch, result):
    """The loading notes (scaled to the working size, composited on white) were in the record and the app's
    caption, never in the figure: it sits under the Original now."""
    from gradflip_desktop.core import report

    notes = ["scaled from 1600×1200 to 1024×768 (working size 1024 px)", "transparent areas were composited on white"]
    caption = report.original_caption(result, notes)
    assert caption.startswith(f"{result.original.label} (") and caption.endswith(" · ".join(notes))
    assert report.original_caption(result, []) == report.original_caption(result) == caption.split(" · ")[0]
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
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError) as err:
        make_folder(tmp_path / "afile" / "sub" / "deeper")
    assert str(err.value) == f"cannot create the folder {tmp_path / 'afile' / 'sub' / 'deeper'}: {tmp_path / 'afile'} is a file, not a folder"


def test_every_figure_panel_has_a_visible_edge_on_the_white_page(tiny):
    """A PNG with transparency is composited on white: on the white figure its Original seemed cropped (no edge)."""
    from gradflip_desktop.core.explain import run
    from gradflip_desktop.core.options import ExplainOptions
    from gradflip_desktop.core.report import render_figure

    white = np.ones((24, 32, 3), np.float32)
    white[8:16, 10:22] = 0.3  # something to explain on a white page
    res = run(tiny, white, ExplainOptions(style="free", max_steps=50))
    fig = render_figure(res)
    grey = np.all(fig == 200, axis=2)
    runs = [int(grey[r].sum()) for r in range(fig.shape[0])]
    edges = [r for r, n in enumerate(runs) if n >= 0.5 * fig.shape[1] / 4]  # a frame's top or bottom edge
    assert len(edges) >= 2  # the panels' frames: above and below the images
    top = edges[0]
    assert not grey[top + 1: top + 3].all(axis=1).any()  # a 1 px line, not a grey band


def test_a_group_run_on_another_class_and_a_targeted_run_are_titled_for_what_they_are(result):
    """"--group cat" on Grace Hopper: the title read "any cat (military uniform 39.31 %) -> military uniform
    (nothing to flip)", a uniform called a cat. A targeted run's figure never said the class was chosen: it read as
    if the model had drifted to "cup" by itself."""
    from dataclasses import replace

    from gradflip_desktop.core.report import figure_subtitle, figure_title

    others = [i for i in range(len(result.labels)) if i != result.original.index][:2]
    outside = replace(result, explained=others, explained_name="low")
    group = sum(float(result.original_probabilities[i]) for i in others)
    title = figure_title(outside)
    assert "any low (" not in title.split(" -> ")[0]
    assert title.split(" · ")[2].startswith(f"{result.original.label} (") and "any low " in title
    from gradflip_desktop.core.summary import pct

    assert f"{result.original.label} (" in title and f"; any low {pct(group)}) -> " in title
    assert not figure_subtitle(result).startswith("target chosen")
    targeted = replace(result, target=result.final)
    assert figure_subtitle(targeted).startswith(f"target chosen: {result.final.label} · ")


def test_two_far_apart_specks_are_in_the_dashed_boxes_plural():
    """Under 1 % each group of blobs gets its own dashed box: two far apart drew two boxes, and the caption said
    "(in the dashed box)" (a newcomer's walk)."""
    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.report import key_region_caption
    from gradflip_desktop.core.results import KeyRegion
    from gradflip_desktop.core.viz import maps

    def region(points):
        mask = np.zeros((200, 200), bool)
        for y, x in points:
            mask[y:y + 3, x:x + 3] = True
        return KeyRegion(pixels=int(mask.sum()), fraction=float(mask.mean()), components=len(points), flips=True,
                         prediction=Prediction(3, "candle", 0.4), mask=mask, ranking=np.zeros((200, 200), np.int32),
                         fill="blur sigma = long side / 8")

    apart = region([(10, 10), (180, 180)])
    near = region([(100, 100), (104, 108)])
    assert maps.dashed_boxes(apart.mask) == 2 and maps.dashed_boxes(near.mask) == 1
    layer = maps.key_region_layer(apart.mask)
    assert layer[..., 3][:60, :60].max() == 255 and layer[..., 3][140:, 140:].max() == 255  # drawn: a box at each
    assert key_region_caption(apart) == "removing detail in 0.04 % (in the dashed boxes) -> candle"
    assert key_region_caption(near).endswith("(in the dashed box) -> candle")
