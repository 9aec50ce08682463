"""Elision: long names shortened with "…" for the places that do not wrap (status bar, gallery tiles, legend)."""

from __future__ import annotations

LEGEND_CHARS = 32  # a longer class name is cut in the plot's legend (a model's own labels can be sentences: uncut,
# the legend took 80 % of the plot's width and left the curves ~100 px); the hover read-out and top-5 give it whole


def elide_middle(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters: its start and its end (a file name's suffix) around "…"."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: keep - keep // 3] + "…" + text[len(text) - keep // 3:]


def elide_end(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters: its start and "…" (a class name: its first words tell it)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
