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
