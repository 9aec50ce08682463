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


def test_a_name_of_exactly_the_limit_stays_whole_and_a_longer_one_is_cut_to_it():
    assert _short("x" * FIGURE_LABEL_CHARS) == "x" * FIGURE_LABEL_CHARS
    assert _short("x" * (FIGURE_LABEL_CHARS + 1)) == "x" * (FIGURE_LABEL_CHARS - 1) + "…"


def test_letter_start_keeps_at_least_the_first_letter():
    """Marks after marks ("é" with two accents): the cut goes back to the first letter, never to nothing."""
    assert letter_start("e\u0301\u0301x", 2) == 1


def _draw():
    return ImageDraw.Draw(Image.new("RGB", (10, 10))), ImageFont.load_default()


def test_a_percent_sign_stays_on_the_line_of_its_number():
    draw, font = _draw()
    width = int(draw.textlength("cat 15.1", font=font)) + 1  # "cat 15.1" fits, "cat 15.1 %" does not
    assert draw.textlength("cat 15.1 %", font=font) > width
    assert fit_lines(draw, "cat 15.1 %", font, width, 5) == ["cat", "15.1 %"]


def test_a_word_wider_than_the_line_breaks_after_a_soft_character_only_past_its_middle():
    draw, font = _draw()
    width = int(draw.textlength("abcdefgh_ij", font=font))
    assert fit_lines(draw, "abcdefgh_ijklmnop", font, width, 5)[0] == "abcdefgh_"  # after the "_"
    width = int(draw.textlength("a_bcdefghi", font=font))
    assert fit_lines(draw, "a_bcdefghijklmnop", font, width, 5)[0] == "a_bcdefghi"  # not a line of "a_"


def test_lines_that_just_fit_their_count_are_not_cut():
    draw, font = _draw()
    width = int(draw.textlength("three", font=font)) + 1
    assert fit_lines(draw, "one two", font, width, 2) == ["one", "two"]
    assert fit_lines(draw, "one two three", font, width, 2)[0] == "one"
    assert fit_lines(draw, "one two three", font, width, 2)[1].endswith("…")


def test_short_labels_cuts_every_class_name_the_figure_shows(result):
    import dataclasses

    import numpy as np

    from gradflip_desktop.core.models import Prediction
    from gradflip_desktop.core.results import KeyRegion
    from gradflip_desktop.core.viz.text import short_labels

    long = "a very long class name, as some models' labels are sentences"
    cut = _short(long)

    def pred(p):
        return Prediction(p.index, long, p.probability)

    region = KeyRegion(3, 0.1, 1, True, pred(result.final), np.zeros((2, 2), bool), np.zeros((2, 2), np.int64), "blur",
                       None, False, False)
    wordy = dataclasses.replace(result, original=pred(result.original), final=pred(result.final),
                                target=pred(result.original), explained_name=long, labels=[long] * len(result.labels),
                                key_region=region, key_pixels=dataclasses.replace(result.key_pixels,
                                                                                  prediction=pred(result.final)))
    short = short_labels(wordy)
    assert cut.endswith("…") and len(cut) == FIGURE_LABEL_CHARS
    assert [short.original.label, short.final.label, short.target.label, short.explained_name] == [cut] * 4
    assert short.key_region.prediction.label == cut and short.key_pixels.prediction.label == cut
    assert short.labels == [cut] * len(result.labels)


def test_a_first_letter_wider_than_the_line_goes_whole_onto_its_line():
    draw, font = _draw()
    assert fit_lines(draw, "e\u0301e\u0301", font, 1, 5) == ["e\u0301", "e\u0301"]  # never an accent alone
