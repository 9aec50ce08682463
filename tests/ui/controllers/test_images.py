"""Opening images (ui/controllers/images.py): what the window says about a web address it will not download."""

from __future__ import annotations

import pytest

from gradflip_desktop.ui.controllers.images import ImagesController
from gradflip_desktop.ui.widgets.elision import graphemes

pytestmark = pytest.mark.gui


def test_a_long_web_address_is_cut_between_letters():
    # cut at 77 characters, the address lost the accent of its last "é" (a combining mark after the "e")
    url = "https://exampl.org/" + "cafe\u0301-" * 30 + ".jpg"
    shown = ImagesController.remote_message(url).split("does not download ")[1].split(": save")[0]
    assert shown.endswith("…") and not shown[:-1].endswith("e") and len(graphemes(shown)) <= 80, shown
    assert ImagesController.remote_message("https://exampl.org/cat.jpg").count("https://exampl.org/cat.jpg") == 1


def test_open_recent_greys_out_a_photo_that_is_gone(window, tmp_path):
    # a recent photo deleted or moved since stayed a live entry: a click gave "“gone.jpg” does not exist"
    kept, gone = tmp_path / "kept.png", tmp_path / "gone.png"
    kept.write_bytes(b"")
    window.settings.setValue("recent/files", [str(gone), str(kept)])
    window.images.fill_recent_menu()
    entries = {a.toolTip(): a for a in window.recent_menu.actions() if a.toolTip()}
    assert not entries[str(gone)].isEnabled() and "not found" in entries[str(gone)].text()
    assert entries[str(kept)].isEnabled() and "not found" not in entries[str(kept)].text()


def test_a_centre_cropping_model_is_said_under_the_original():
    """A timm checkpoint (model_best.pth.tar) loads with its architecture's centre crop: the Difference showed a map
    that stopped at a hard rectangle and the window never said why (the exported figure did: "none outside the
    centre the model crops"). The Original's notes say it; a squashing model adds nothing."""
    from types import SimpleNamespace

    import numpy as np

    from gradflip_desktop.core.images import from_array
    from gradflip_desktop.core.models.classifier import Preprocessing

    image = from_array(np.full((600, 512, 3), 0.5, np.float32))
    crop = Preprocessing(resize="center-crop", resize_size=256)
    fake = SimpleNamespace(w=SimpleNamespace(model_info=SimpleNamespace(preprocessing=crop)))
    notes = ImagesController.loading_notes(fake, image)
    assert any("crops the centre" in n and "456×456 px" in n for n in notes), notes  # 448 + the resize kernel
    fake.w.model_info.preprocessing = Preprocessing()  # squash: it sees everything
    assert not any("crops" in n for n in ImagesController.loading_notes(fake, image))


def test_a_working_size_change_while_a_photo_opens_keeps_the_new_photo(qtbot, window, tmp_path):
    """The working size changed while another photo was decoding: the reload of the photo on screen (the
    sample) took the loading slot, the new photo's load was dropped, and the window stayed on the sample."""
    from helpers import make_image_file

    w = window
    photo = make_image_file(tmp_path / "new.png", 900, 600, seed=2)
    w.open_path(str(photo))  # decoding in the background ...
    with qtbot.waitSignal(w.image_opened, timeout=30_000) as opened:
        w.controls.working_size.setValue(512)  # ... when the working size changes
    qtbot.wait(300)  # anything still queued (a second load) arrives too
    assert opened.args == ["new"] and w.image.name == "new"
    assert max(w.image.size) == 512  # the new photo, at the new working size


def test_a_run_on_the_previous_photo_never_shows_its_result_on_the_next(qtbot, window, tmp_path):
    """A photo opened while a run is under way stops that run: its result (of the photo replaced) never arrives,
    not in the window's result, the views or the signals, and the new photo is shown without one."""
    from helpers import RUN_TIMEOUT_MS, make_image_file, watch_run

    path = make_image_file(tmp_path / "next.png", 160, 120)
    heard, ended = watch_run(window)
    with qtbot.waitSignal(window.classified, timeout=RUN_TIMEOUT_MS):
        window.open_path(str(path))
    qtbot.waitUntil(lambda: bool(ended), timeout=RUN_TIMEOUT_MS)  # the old run has ended ...
    qtbot.wait(300)  # ... and anything it sent has been delivered
    assert window.windowTitle().startswith("next")
    assert window.result is None and not heard and not window.runs.running


def test_another_pasted_image_is_another_photo_even_with_the_same_pixels():
    """A link's choice ("Textbook change") is for this photo only: a second paste is another photo (only the same
    pasted pixels, decoded again at another working size, are the same one); a file is the same by its path."""
    from pathlib import Path

    import numpy as np

    from gradflip_desktop.ui.controllers.images import _same_photo

    first, second = np.zeros((4, 6, 3), np.uint8), np.zeros((4, 6, 3), np.uint8)
    assert _same_photo((first, "pasted image"), (first, "pasted image"))
    assert not _same_photo((first, "pasted image"), (second, "pasted image"))
    assert not _same_photo((first, "pasted image"), ("/photos/cat.png", ""))
    assert _same_photo(("/photos/cat.png", ""), (Path("/photos/cat.png"), "cat"))
    assert not _same_photo(("/photos/cat.png", ""), ("/photos/dog.png", ""))
    assert not _same_photo(None, ("/photos/cat.png", ""))


def test_a_working_size_equal_to_the_photos_long_side_keeps_it_whole(qtbot, tiny_window):
    """The photo (96 × 64) is whole at a working size of 96 px as at the default: nothing is loaded again (a run on it
    would go on)."""
    w = tiny_window
    with qtbot.waitSignal(w.image_opened, timeout=30_000):
        w.open_path(str(w.photo))
    w.images.set_working_size(96)
    assert w.status_label.text() == "Working size 96 px: this photo (96×64) is explained whole at either size, unchanged."
    assert not w.images.loading and w.image.size == (96, 64)


def test_only_a_drop_of_several_files_says_the_others_were_not_opened(qtbot, tiny_window, tmp_path):
    from helpers import make_image_file

    w = tiny_window
    w.images.open_paths([str(w.photo)], "dropped")
    assert w.images.take_drop_note() == ""  # one file: nothing was left out ("1 files dropped; opened only …")
    other = make_image_file(tmp_path / "other.png", 32, 32)
    w.images.open_paths([str(w.photo), str(other)], "pasted")
    assert w.images.take_drop_note() == "2 files pasted; opened only photo.png (drop their folder to explain them all)"
    qtbot.waitUntil(lambda: not w.images.loading, timeout=30_000)


def test_a_working_size_change_during_a_run_stops_the_run_at_once(qtbot, window):
    """The photo is loaded again at the new size: the run on the old pixels stops now (not when the reload lands),
    and nothing of it arrives."""
    from helpers import RUN_TIMEOUT_MS, watch_run

    from gradflip_desktop.ui.settings import RunSettings

    w = window
    w.controls.set_settings(RunSettings(mode="fixed", epsilon=0.00001, max_steps=5000))  # no flip for many steps
    heard, ended = watch_run(w)
    task = w.runs.task
    with qtbot.waitSignal(w.run_progress, timeout=RUN_TIMEOUT_MS):
        pass
    with qtbot.waitSignal(w.classified, timeout=RUN_TIMEOUT_MS):
        w.images.set_working_size(256)
        assert task.cancelled and not w.running  # Esc-like at once, the reload still decoding
    qtbot.waitUntil(lambda: bool(ended), timeout=RUN_TIMEOUT_MS)
    qtbot.wait(100)  # anything the stopped run sent has been delivered
    assert heard == [] and w.result is None and max(w.image.size) == 256
