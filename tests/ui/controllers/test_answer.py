"""The answer's sentence and links as rich text: the links may start a line of their own, so the sentence's lines
are filled as they are without them (its last word was tied to the first link by two non-breaking spaces, and the
line before ended early: "… the hatching shows" / "where.  Explain "any cat" · Textbook change")."""

from __future__ import annotations

from PySide6.QtGui import QFont, QTextDocument

from gradflip_desktop.ui.controllers.answer import answer_link, summary_html, window_words


def _lines(html_text: str, width: float) -> list[str]:
    doc = QTextDocument()
    doc.setDefaultFont(QFont("DejaVu Sans", 10))
    doc.setHtml(html_text)
    doc.setTextWidth(width)
    doc.documentLayout()  # lay it out
    block, text = doc.begin(), doc.toPlainText()
    layout = block.layout()
    return [text[layout.lineAt(i).textStart(): layout.lineAt(i).textStart() + layout.lineAt(i).textLength()]
            for i in range(layout.lineCount())]


def test_the_sentence_keeps_its_lines_and_the_links_may_start_a_line(qapp):
    sentence = ("Removing detail in the outlined 9 % of the image alone turns espresso (90 %) into eggnog; the key "
                "region alone is shown, the hatching shows where.")
    links = [answer_link("group:cup", "Explain “any cup”"), answer_link("style:free", "Textbook change")]
    for width in range(300, 700, 7):
        alone = _lines(summary_html(sentence, []), width)
        both = _lines(summary_html(sentence, links), width)
        # every line of the sentence is the same with the links after it (its last line may go on with a link)
        assert [ln.rstrip() for ln in both[:len(alone) - 1]] == [ln.rstrip() for ln in alone[:-1]], width
        assert both[len(alone) - 1].startswith(alone[-1].rstrip()), width
        flat = [ln.replace("\u00a0", " ") for ln in both]
        assert all(not ln.startswith((" ", "\u00a0")) for ln in both[1:]), both  # a links line starts flush
        assert any("Explain “any cup”" in ln for ln in flat) and any("Textbook change" in ln for ln in flat)


def test_percent_signs_stay_with_their_numbers_and_flags_go():
    assert "9&nbsp;%" in summary_html("the outlined 9 % of it", [])
    assert window_words("the “smallest change” style (--style free) flips it") == "the “smallest change” style flips it"
    assert summary_html("a <b>", []) == "a &lt;b&gt;"
