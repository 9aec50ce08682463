"""A path pasted (or dropped as text) the way terminals and file managers copy it (walk, session 22).

Dragging ``my coins.png`` from GNOME Terminal or Konsole gives ``'/home/me/my coins.png' ``; Windows Explorer's
Copy as path gives ``"C:\\...\\x.jpg"``; bash's completion writes ``my\\ coins.png``. Edit ▸ Paste said "The
clipboard holds no image" for each, although the file exists."""

from __future__ import annotations

import os

import pytest
from helpers import make_image_file
from PySide6.QtCore import QMimeData

from gradflip_desktop.ui.controllers.images import ImagesController


def mime(text: str) -> QMimeData:
    m = QMimeData()
    m.setText(text)
    return m


@pytest.fixture
def photo(tmp_path):
    return make_image_file(tmp_path / "my coins.png")


@pytest.mark.parametrize("form", ["{p}", "{p}\n", "'{p}'", "'{p}' ", '"{p}"'])
def test_quoted_paths_are_read(qapp, photo, form):
    assert ImagesController.text_path(mime(form.format(p=photo))) == str(photo)
    assert ImagesController.local_paths(mime(form.format(p=photo))) == [str(photo)]


@pytest.mark.skipif(os.sep != "/", reason="backslash escapes are a POSIX shell's")
def test_shell_escaped_path_is_read(qapp, photo):
    escaped = str(photo).replace(" ", "\\ ")
    assert ImagesController.text_path(mime(escaped)) == str(photo)


def test_text_that_is_no_path_stays_none(qapp, tmp_path):
    assert ImagesController.text_path(mime("'hello'")) is None
    assert ImagesController.text_path(mime(str(tmp_path / "missing.png"))) is None
