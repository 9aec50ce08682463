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
