"""collect_inputs: every file gets its own result name (before: the second of two names alike was refused)."""

from __future__ import annotations

import numpy as np
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

