"""After a run: the answer's sentence and its links ("Explain “any cat”", "Textbook change") and its status line as the
window words them."""

from __future__ import annotations

import html
import re


def window_words(text: str) -> str:
    """A core sentence as the window says it: without the command line's flags ("the “smallest change” style
    (--style free)": the Style box names it "Smallest change (textbook)"); a model's note names the Load Model dialog
    alone ("give --input-size, --mean, …, or set them in the app's Load model dialog": the window's status bar said
    the flags)."""
    text = re.sub(r"give (?:--[\w-]+, )+or set them in the app's Load model dialog", "set them in File ▸ Load Model…",
                  text)
    return re.sub(r" \(--[\w-]+(?: [\w-]+)?\)", "", text)


def answer_link(href: str, text: str) -> str:
    """A link of the summary; it never breaks in two ("Textbook / change" over two lines)."""
    return f"<a href='{html.escape(href)}'>{html.escape(text).replace(' ', '&nbsp;')}</a>"


def summary_html(sentence: str, links: list[str]) -> str:
    """The answer's sentence (plain text) and its links (:func:`answer_link`) as the label's rich text. "9.5 %" never
    wraps before its "%"; the links may start a line, flush: two non-breaking spaces tied the sentence's last word to
    the first link, and a line ended early ("… the hatching shows" / "where.  Explain "any cat" · Textbook change")."""
    sentence = html.escape(sentence).replace(" %", "&nbsp;%")
    # one plain space: " &nbsp;" began a wrapped links line indented, "&nbsp; " took the sentence's last word along
    return sentence + (" " + " · ".join(links) if links else "")


def done_message(result) -> str:
    """The status line's words for a finished run: the core's message ("“espresso” flipped to “stethoscope”", a group's
    names the group) and, when the key region alone gives another class, that class too: the sentence leads with it,
    and a walk-through read the sentence's "eggnog" and the status line's "stethoscope" as two answers."""
    from gradflip_desktop.core.summary import answer_region  # the region the sentence speaks of

    msg = window_words(result.message or str(getattr(result.status, "value", result.status)))
    region = answer_region(result)
    if result.flipped and region is not None and region.prediction.index != result.final.index:
        msg += f"; the key region alone to “{region.prediction.label}”"
    return msg
