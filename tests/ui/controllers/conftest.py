"""Fixtures of the controller tests."""

from __future__ import annotations

import pytest
from helpers import make_image_file


@pytest.fixture
def tiny_window(qtbot, settings, tmp_path):
    """A window with no model loaded yet and a 96 × 64 test photo (``w.photo``) to open."""
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1100, 800)
    w.show()
    w.photo = make_image_file(tmp_path / "photo.png", 96, 64)
    yield w
    w.close()
