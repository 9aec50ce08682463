"""The figure's typeface (core/viz/fonts.py): every character of its texts is drawn, none as a box."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from gradflip_desktop.core.viz import fonts


def test_the_shipped_face_draws_what_pillows_default_drew_as_boxes():
    text = "scaled from 1600×1200 to 1024×768 · chat égyptien → 35 % – σ ≤ 1 µm"
    shipped = str(fonts.resource_path(*fonts.SHIPPED))
    assert Path(shipped).is_file()
    assert fonts.missing_characters(text, shipped) == ""
    assert "×" in fonts.missing_characters(text, None) and "é" in fonts.missing_characters(text, None)  # the old face
    font = fonts.figure_font([text])
    assert Path(font(15).path).name == "DejaVuSans.ttf" and font(20).size == 20


def test_a_character_drawn_differs_from_the_missing_glyph_box():
    shipped = str(fonts.resource_path(*fonts.SHIPPED))

    def drawn(ch: str) -> np.ndarray:
        im = Image.new("L", (40, 30), 0)
        ImageDraw.Draw(im).text((4, 4), ch, fill=255, font=fonts.figure_font([ch])(20))
        return np.asarray(im)

    box = drawn("\U0010fffd")
    for ch in "×é→":
        assert not np.array_equal(drawn(ch), box)
    assert fonts.missing_characters("日本", shipped) == "日本"  # the shipped face has no CJK: a fallback is looked for


def test_text_the_shipped_face_lacks_takes_the_first_face_that_has_all_of_it(monkeypatch):
    shipped = str(fonts.resource_path(*fonts.SHIPPED))
    faces = {shipped: set("abc 猫"), "partial": set("abc日"), "full": set("abc 日本猫"), None: set("abc")}
    monkeypatch.setattr(fonts, "_candidates", lambda: [shipped, "partial", "full", None])
    monkeypatch.setattr(fonts, "_has", lambda path, ch: ch in faces[path])
    monkeypatch.setattr(fonts, "_face", lambda path, size: (path, size))
    assert fonts.figure_font(["abc", "猫"])(15) == (shipped, 15)
    assert fonts.figure_font(["abc", "日本 猫"])(13) == ("full", 13)
    assert fonts.figure_font(["abc", "ß"])(13) == (shipped, 13)  # no face has it: the shipped one
    # no face has all of it (Chinese and Hebrew): the one that lacks the fewest, not the shipped face with every
    # Chinese character a box
    faces["full"] |= set("日本猫")
    assert fonts.figure_font(["abc", "日本猫 שלום"])(13) == ("full", 13)
    assert fonts.figure_font(["abc ß", "猫"])(13) == (shipped, 13)  # lacking ß alike: the first of them
