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


def test_a_pasted_path_to_nothing_is_named_not_blamed_on_the_clipboard(qapp, tmp_path, monkeypatch):
    """A copied path with a typo said "The clipboard holds no image (copy an image or an image file first)"."""
    missing = tmp_path / "holday.png"
    assert ImagesController.missing_path(mime(f"'{missing}'")) == str(missing)
    assert ImagesController.missing_path(mime("~/no-such-photo.png")) == os.path.expanduser("~/no-such-photo.png")
    assert ImagesController.missing_path(mime(missing.as_uri())) == str(missing)
    assert ImagesController.missing_path(mime("just some words")) is None  # not a path: the old message
    assert ImagesController.missing_path(mime(f"{missing}\n{missing}")) is None


def test_paste_of_a_missing_path_says_so(qtbot, window, tmp_path):
    from PySide6.QtGui import QGuiApplication

    missing = tmp_path / "holday.png"
    QGuiApplication.clipboard().setText(str(missing))
    errors = []
    window.show_error = lambda title, text, **kw: errors.append((title, text))
    window.images.paste()
    assert errors == [("Paste", f"The clipboard holds the path {missing}, but there is no such file or folder.")]
