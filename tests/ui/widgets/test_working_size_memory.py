"""The working size's memory note is about the photo on screen (ui/widgets/working_size.py)."""

from __future__ import annotations

import pytest


def test_the_memory_note_is_about_the_photo_on_screen():
    """A square 4,000 px photo at 4,096 px held 6.2 GB where the note, for a 4:3 photo, said 4.5 GB."""
    from gradflip_desktop.ui.widgets.working_size import RUN_COPIES, memory_note, working_size_megabytes

    assert working_size_megabytes(4096) == pytest.approx(4096 * 3072 * 12 / 1e6)  # no photo: a 4:3 one
    assert working_size_megabytes(4096, (4000, 4000)) == pytest.approx(4000 * 4000 * 12 / 1e6)  # never scaled up
    assert working_size_megabytes(1024, (4000, 2000)) == pytest.approx(1024 * 512 * 12 / 1e6)  # scaled down
    assert memory_note(4096, (4000, 4000)).replace("\u00a0", " ") == (
        f"≈ 192 MB per copy of this photo; a run holds about {RUN_COPIES} copies (≈ 5760 MB)")
    assert "of a 4:3 photo" in memory_note(1024)


@pytest.mark.gui
def test_opening_a_photo_sets_the_note_to_its_shape(qtbot, window, tmp_path):
    import numpy as np
    from PIL import Image

    path = tmp_path / "tall.png"
    Image.fromarray(np.full((400, 100, 3), 128, np.uint8)).save(path)
    with qtbot.waitSignal(window.classified, timeout=60_000):
        window.open_path(str(path))
    note = window.controls.working_size_note.text()
    note = note.replace("\u00a0", " ")  # a size is one word (see the test below)
    assert note.startswith("< 1 MB per copy of this photo; a run holds about 30 copies (≈ 14 MB)")  # 100 x 400 px


def test_a_size_in_the_memory_note_never_breaks_across_lines():
    """At QT_SCALE_FACTOR=1.5 the note wrapped as "… (≈ 49" / "MB)": a size is one word."""
    from gradflip_desktop.ui.widgets.working_size import memory_note

    for note in (memory_note(1024, (451, 300)), memory_note(64, (100, 400))):
        sizes = [part for part in note.split(" ") if "MB" in part]
        assert len(sizes) == 2 and all(s.count("\u00a0") == 2 for s in sizes), note
