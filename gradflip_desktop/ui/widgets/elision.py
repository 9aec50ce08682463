"""Elision: long names shortened with "…" for the places that do not wrap (status bar, gallery tiles, legend)."""

from __future__ import annotations

from itertools import accumulate

from PySide6.QtCore import QTextBoundaryFinder

LEGEND_CHARS = 32  # a longer class name is cut in the plot's legend (a model's own labels can be sentences: uncut,
# the legend took 80 % of the plot's width and left the curves ~100 px); the hover read-out and top-5 give it whole
LEGEND_ENTRY_CHARS = 50  # an entry whose class name follows words ("key region alone: "): at most this many letters


def graphemes(text: str) -> list[str]:
    """``text``'s letters as a reader counts them (grapheme clusters, QTextBoundaryFinder): a cut between two never
    splits a letter from its combining accent ("e" + U+0301, cut by characters, lost its accent) or an emoji."""
    finder = QTextBoundaryFinder(QTextBoundaryFinder.BoundaryType.Grapheme, text)
    at = {unit: i for i, unit in enumerate(accumulate((1 + (ord(c) > 0xFFFF) for c in text), initial=0))}  # UTF-16
    cuts = [0]
    while (unit := finder.toNextBoundary()) != -1:
        cuts.append(at[unit])
    return [text[a:b] for a, b in zip(cuts, cuts[1:])]


def elide_middle(text: str, limit: int) -> str:
    """``text`` at most ``limit`` letters: its start and its end (a file name's suffix) around "…"."""
    letters = graphemes(text) if len(text) > limit else []
    if len(letters) <= limit:
        return text
    keep = limit - 1
    return "".join(letters[: keep - keep // 3]) + "…" + "".join(letters[len(letters) - keep // 3:])


def elide_end(text: str, limit: int) -> str:
    """``text`` at most ``limit`` letters: its start and "…" (a class name: its first words tell it)."""
    letters = graphemes(text) if len(text) > limit else []
    return text if len(letters) <= limit else "".join(letters[: limit - 1]).rstrip() + "…"
