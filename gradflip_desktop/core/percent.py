"""How the sentence, the captions, the figure and the command line write numbers for people: probabilities with one
decimal, or the two that tell a near tie apart, 8-bit levels, how visible a change is, counts.

Torch-free and Qt-free (:mod:`.summary` builds its sentences from these; its names are re-exported there)."""

from __future__ import annotations

import math

INVISIBLE_LEVELS = 4.0  # a change of at most this many 8-bit levels per value is invisible to the eye
SUBTLE_LEVELS = 12.0


def pct(p: float) -> str:
    """A probability for people, as every caption, table and title writes it: one decimal (``"79.0 %"``,
    ``"4.2 %"``), ``"< 0.1 %"`` for tiny values, never ``"100.0 %"`` below certainty (``"99.9 %"``: the figure's title
    says 99.9 % or more, never certain); ``"n/a"`` for a model that output NaN or infinity. The sentence wrote whole
    percents at 10 % and above: "Egyptian cat (79 %)" under a title of "Egyptian cat (79.0 %)", "(30 %)" beside a
    table's 29.5 % (two users read two numbers for one value)."""
    return _pct_digits(p, 1)


def _whole_percent(v: float) -> str:
    """``v`` (a percentage >= 10: a share of the image) rounded to a whole percent, half up from the one decimal
    shown elsewhere (Python's formatting rounds half to even); ``"99.9 %"`` where that would read 100 for less."""
    text = f"{math.floor(round(v, 1) + 0.5):d} %"
    return f"{min(v, 99.9):.1f} %" if text == "100 %" and v < 100 else text


pct1 = pct  # the name the figure's titles and captions and the CLI use (one decimal, as every probability now)


def levels_text(levels: float) -> str:
    """8-bit levels with two decimals (an RMS "0.69"), ``"<0.01"`` (one word: no line breaks inside it) for a
    change under that but not none: a near tie's textbook change at 1,000 px read "RMS 0.00/255" beside "at
    most 1.0/255"."""
    return "<0.01" if 0 < levels < 0.005 else f"{levels:.2f}"


def visibility(levels: float) -> str:
    """How a change of at most ``levels`` 8-bit levels per value looks: invisible, subtle or visible."""
    if levels <= INVISIBLE_LEVELS:
        return "invisible"
    if levels <= SUBTLE_LEVELS:
        return "barely visible"
    return "visible"


def count_text(n: int, noun: str) -> str:
    """A count and its noun: "1 image", "6 images" (the window said "6 explanation(s)", "1 image(s)")."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def steps_text(n: int) -> str:
    return count_text(n, "step")


def apart(a: float, b: float) -> tuple[str, str]:
    """Two probabilities with one decimal, or two where one reads the same for both: the smallest change stops
    just past the boundary, where "bow tie (4.7 %; French horn now 4.7 %)" showed no flip at all."""
    digits = _digits_apart(a, b)
    return _pct_digits(a, digits), _pct_digits(b, digits)


def _digits_apart(a: float, b: float) -> int:
    """The decimals :func:`apart` gives two probabilities: 1, or 2 where one reads the same for both."""
    return 1 if _pct_digits(a, 1) != _pct_digits(b, 1) else 2


def _pct_digits(p: float, digits: int) -> str:
    """:func:`pct1` with ``digits`` decimals (never "100.0 %" below certainty, nor "0.0 %" above nothing: "< 0.1 %",
    as :func:`pct` says it; a 21,843-class model's top class at 0.04 % read "(0.0 %)" in the figure's title)."""
    if p is None or not math.isfinite(float(p)):
        return "n/a"
    v = 100.0 * float(p)
    if 0 < v < 0.5 * 10 ** -digits:
        return f"< {10 ** -digits:.{digits}f} %"
    return f"{min(v, 100 - 10 ** -digits) if v < 100 else v:.{digits}f} %"


def class_range(probs) -> list[float] | None:
    """[lowest, highest] probability of a single class (the record's ``original_range``); None without any."""
    values = [float(p) for p in (probs if probs is not None else ())]
    return [round(min(values), 8), round(max(values), 8)] if values and all(map(math.isfinite, values)) else None
