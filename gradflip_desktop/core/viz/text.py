"""Text in the exported figure: lines that fit their column, and class names cut with "…" so the numbers after them stay."""

from __future__ import annotations

import dataclasses
import unicodedata

FIGURE_LABEL_CHARS = 40  # a longer class name is cut with "…" in the figure: the numbers after it stay in view
SEPARATORS = ("·", "->")


def _short(label: str) -> str:
    return label if len(label) <= FIGURE_LABEL_CHARS else label[: letter_start(label, FIGURE_LABEL_CHARS - 1)].rstrip() + "…"


def _inside(text: str, k: int) -> bool:
    """Whether a cut before ``text[k]`` falls inside a letter: ``text[k]`` is a combining mark ("e" + U+0301), a
    variation selector, an emoji's skin tone or tag, either side of a zero-width joiner (a family emoji), or the
    second regional indicator of a flag (🇫🇷: letters pair up from the first of a run)."""
    c, prev = text[k], text[k - 1]
    o = ord(c)
    if 0x1F1E6 <= o <= 0x1F1FF:
        run = 0
        while k - run - 1 >= 0 and 0x1F1E6 <= ord(text[k - run - 1]) <= 0x1F1FF:
            run += 1
        return run % 2 == 1
    return (unicodedata.category(c) in ("Mn", "Mc", "Me") or 0xFE00 <= o <= 0xFE0F or 0x1F3FB <= o <= 0x1F3FF
            or 0xE0020 <= o <= 0xE007F or c == "\u200d" or prev == "\u200d")


def letter_start(text: str, n: int) -> int:
    """The largest cut ``k <= n`` of ``text`` that splits no letter from its accents (``text[:k]`` keeps whole
    letters: an exported caption cut by characters lost an accent or half an emoji); at least 1 when ``n >= 1``."""
    k = max(0, min(n, len(text)))
    while 1 < k < len(text) and _inside(text, k):
        k -= 1
    return k


def short_labels(result):
    """``result`` with its class names cut to :data:`FIGURE_LABEL_CHARS` for the figure: a model's own labels can
    be sentences, and a caption cut after its 4th line lost the probability and the size of the change."""
    def pred(p):
        return None if p is None else dataclasses.replace(p, label=_short(p.label))

    kr, kp = result.key_region, result.key_pixels
    return dataclasses.replace(
        result, original=pred(result.original), final=pred(result.final), target=pred(result.target),
        explained_name=_short(result.explained_name), labels=[_short(t) for t in result.labels],
        key_region=None if kr is None else dataclasses.replace(kr, prediction=pred(kr.prediction)),
        key_pixels=None if kp is None else dataclasses.replace(kp, prediction=pred(kp.prediction)))


def fit_lines(draw, text: str, font, width: int, max_lines: int) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels: broken between words, inside a word wider than
    ``width``; past ``max_lines`` the last line ends with "…"."""
    def fits(t: str) -> bool:
        return draw.textlength(t, font=font) <= width

    def longest_prefix(t: str, end: str = "") -> int:  # t[:n] + end fits, whole letters; at least one letter
        lo, hi = 1, len(t)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if fits(t[:mid] + end) else (lo, mid - 1)
        k = letter_start(t, lo)
        while k < len(t) and _inside(t, k):  # a first letter wider than the line: the whole of it
            k += 1
        return k

    words: list[str] = []
    for word in text.split():  # a separator stays with the word before it: never a line of its own "·"
        # and so does a unit: "15.1 %)" never breaks before its "%" (the window's sentence keeps it with a no-break space)
        if words and (word in SEPARATORS or word.startswith("%")):
            words[-1] += f" {word}"
        else:
            words.append(word)
    lines: list[str] = []
    line = ""
    for word in words:
        if fits(f"{line} {word}" if line else word):
            line = f"{line} {word}" if line else word
            continue
        if line:
            lines.append(line)
        line = word
        while not fits(line) and len(line) > 1:
            cut = longest_prefix(line)
            # a word wider than the line (a label without spaces) breaks after "_", "-", "/" or "." where it can
            soft = max(line.rfind(c, 0, cut) for c in "_-/.") + 1
            cut = soft if soft > cut // 2 else cut
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        lines = lines[: max_lines - 1] + [last[: longest_prefix(last, "…")] + "…"]
    return lines or [""]
