"""Elision by letters as a reader counts them: a combining accent stays on its letter, an emoji stays whole."""

from __future__ import annotations

from gradflip_desktop.ui.widgets.elision import elide_end, elide_middle, graphemes

CAFE = "Cafe\u0301 de\u0301ja\u0300 vu"  # "Café déjà vu", the accents as combining marks (macOS file names are so)


def test_a_cut_never_splits_a_letter_from_its_accent():
    assert graphemes("cafe\u0301 😀👍🏽") == ["c", "a", "f", "e\u0301", " ", "😀", "👍🏽"]
    # by characters: "Cafe…" (the accent of "é" dropped) and "…" after a bare "e"
    assert elide_end(CAFE, 5) == "Cafe\u0301…"
    assert elide_end("de\u0301ja\u0300 vu en re\u0301sume\u0301", 5) == "de\u0301ja\u0300…"
    name = "re\u0301sume\u0301 de\u0301finitif e\u0301te\u0301.png"
    for limit in range(4, 24):
        for cut in (elide_end(name, limit), elide_middle(name, limit)):
            assert len(graphemes(cut)) <= limit and "e…" not in cut and "…\u0301" not in cut, (limit, cut)
    assert elide_middle("😀" * 10 + "👍🏽" * 10, 9) == "😀" * 6 + "…" + "👍🏽" * 2


def test_letters_not_code_points_count():
    # ten accented letters fit a limit of ten, though they are twenty code points
    assert elide_end("e\u0301" * 10, 10) == "e\u0301" * 10 == elide_middle("e\u0301" * 10, 10)
    assert elide_end("tiger cat", 9) == "tiger cat" and elide_end("tiger cats", 9) == "tiger ca…"


def test_a_name_cut_after_a_word_has_no_space_before_its_ellipsis():
    assert elide_end("prairie chicken, prairie grouse", 9) == "prairie…"
