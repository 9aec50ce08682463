"""core/viz/text.py: the exported figure's cut class names and fitted lines keep whole letters."""

from __future__ import annotations

import unicodedata

from PIL import Image, ImageDraw, ImageFont

from gradflip_desktop.core.viz.text import FIGURE_LABEL_CHARS, _short, fit_lines, letter_start

ACCENTED = "Cafe\u0301 de\u0301ja\u0300 vu"  # decomposed: each accent its own code point
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # one emoji of five code points
THUMB = "\U0001F44D\U0001F3FD"  # thumbs up, medium skin tone
FLAGS = "\U0001F1EB\U0001F1F7\U0001F1E9\U0001F1EA\U0001F1EF\U0001F1F5"  # France, Germany, Japan: pairs


def _whole(cut: str, text: str) -> bool:
    """``cut`` ends where a letter of ``text`` ends (the next code point does not join the one before)."""
    k = len(cut)
    return k == len(text) or not (unicodedata.combining(text[k]) or text[k] in "\u200d\U0001F3FD" or text[k - 1] == "\u200d")


def test_letter_start_never_cuts_a_letter_from_its_accent_or_inside_an_emoji():
    for text in (ACCENTED, f"a{FAMILY}b{THUMB}c", "plain"):
        for n in range(1, len(text) + 1):
            k = letter_start(text, n)
            assert 1 <= k <= n and _whole(text[:k], text), (text, n, k)
    assert letter_start(ACCENTED, 4) == 3  # "Caf", not "Cafe" without its accent
    assert letter_start(ACCENTED, 5) == 5  # "Café"


def test_a_long_class_name_is_cut_after_a_whole_letter():
    label = "x" * (FIGURE_LABEL_CHARS - 2) + "e\u0301" + " tail"
    short = _short(label)
    assert short.endswith("…") and short[:-1] == "x" * (FIGURE_LABEL_CHARS - 2)  # the "é" goes whole, not as "e"
    assert _short("short name") == "short name"


def test_fitted_lines_break_between_letters_only():
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = ImageFont.load_default()
    word = ("e\u0301" * 40) + THUMB * 5
    lines = fit_lines(draw, word, font, 60, 50)
    assert "".join(lines) == word and len(lines) > 1
    for line in lines:
        assert not unicodedata.combining(line[0]) and line[0] != "\U0001F3FD"
    last = fit_lines(draw, word, font, 60, 2)[-1]
    body = last[:-1]
    assert last.endswith("…") and body and body == "e\u0301" * (len(body) // 2)  # whole "é"s before the "…"


def test_flags_are_cut_between_pairs_of_regional_indicators():
    text = "a" + FLAGS
    assert [letter_start(text, n) for n in range(1, len(text) + 1)] == [1, 1, 3, 3, 5, 5, 7]
