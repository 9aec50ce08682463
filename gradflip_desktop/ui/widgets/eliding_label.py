"""One-line labels that end a text too long for their width with "…" (the gallery's title line was cut mid-word:
"(cancelled: Continue explains"); ``text()`` is the whole text. :class:`ElidingLabel`'s tooltip repeats it when it is
cut (the status bar's :class:`RichElidingLabel` gets its tooltip from the window)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTextBoundaryFinder
from PySide6.QtGui import QTextBlockFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from gradflip_desktop.ui.links import open_link
from gradflip_desktop.ui.widgets.link_focus import land_on_link, set_tab_stop


class ElidingLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__("", parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def text(self) -> str:  # the whole text, not the shortened one shown
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        self._full = str(text)
        self._elide()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self._full if width <= 0 else self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")


class RichElidingLabel(ElidingLabel):
    """The same for rich text (the status bar: bold class names, a coloured warning, the export folder's link): a
    message too long for the bar was cut mid-letter with no "…" (the tooltip had it whole); its formatting stays."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__("", parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.linkActivated.connect(open_link)  # not Qt's own opening: in the bundle the opener got its library paths
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # its width: the bar's, not the text's
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setText(text)
        set_tab_stop(self, self._full)  # a tab stop only while it shows a link (the export folder's)

    def focusInEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().focusInEvent(event)
        land_on_link(self, event)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the cut text names its font: cut again, in the new one
            self._elide()

    def _cut(self, doc: QTextDocument, keep: int) -> QTextDocument:
        """``doc``'s first ``keep`` characters (formatting and links kept) and "…"."""
        out = doc.clone()
        cursor = QTextCursor(out)
        cursor.setPosition(keep)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertText("…")
        return out

    def _elide(self) -> None:
        # shown with QLabel.setText: ElidingLabel.setText would take the cut text as the whole message
        width = self.contentsRect().width() - 2 * max(0, self.indent()) - 4  # a rich-text label's small inner margin
        doc = QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(self.font())
        doc.setHtml(self._full)
        # the window's direction, not the first letter's: a photo named in Arabic or Hebrew turned the whole
        # English line right-to-left (".the model sees …", and the "…" of a cut one at its left, after the name)
        direction = QTextBlockFormat()
        direction.setLayoutDirection(self.layoutDirection())
        whole = QTextCursor(doc)
        whole.select(QTextCursor.SelectionType.Document)
        whole.mergeBlockFormat(direction)
        if width <= 0 or doc.idealWidth() <= width:
            QLabel.setText(self, doc.toHtml())
            return
        low, high = 0, max(0, doc.characterCount() - 1)  # the most characters kept that fit, by halving
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if self._cut(doc, mid).idealWidth() <= width else (low, mid - 1)
        letters = QTextBoundaryFinder(QTextBoundaryFinder.BoundaryType.Grapheme, doc.toRawText())
        letters.setPosition(low)  # never inside a letter: "e" and its combining accent stay together
        low = low if letters.isAtBoundary() else max(0, letters.toPreviousBoundary())
        while low > 0 and doc.characterAt(low - 1).isspace():  # "better). …", not "better).  …"
            low -= 1
        QLabel.setText(self, self._cut(doc, low).toHtml())
