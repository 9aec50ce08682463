"""FittedLabel: a wrapping rich-text label at least a few lines tall that grows to the height its text needs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from gradflip_desktop.ui.widgets.link_focus import land_on_link, set_tab_stop


class FittedLabel(QLabel):
    """A word-wrapping rich-text label at least ``min_lines`` lines tall, taller when its text needs more at
    its width. A fixed height cut the end of a sentence off in a narrow window (an 820 px window, or a
    scale factor of 2): the answer's "Explain any cat" and "Textbook change" links, the class the key
    region flips to. At least ``min_lines``, so the panels below do not jump for a shorter text."""

    def __init__(self, min_lines: int, parent: QWidget | None = None):
        super().__init__("", parent)
        self.min_lines = min_lines
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fitted_width = -1
        self.fit()

    def least_height(self) -> int:
        return self.fontMetrics().lineSpacing() * self.min_lines + 4

    def fit(self) -> None:
        """The height for the current text and width, never below ``min_lines`` lines. At the same width a
        new text only grows it (the key-set slider changes the answer at every step: the panels below would
        jump up and down); a new width fits it anew."""
        same_width = self.width() == self._fitted_width
        self._fitted_width = self.width()
        if not same_width:  # Qt's heightForWidth never answers below the minimum height: grown narrow, it never shrank
            self.setMinimumHeight(0)  # (only a new width can shrink it: no layout request for each new text)
        need = self.heightForWidth(self.width()) if self.width() > 0 and self.text() else 0
        self.setFixedHeight(max(self.least_height(), need, self.height() if same_width else 0))

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setText(text)
        set_tab_stop(self, text)
        self.fit()

    def setTextInteractionFlags(self, flags) -> None:  # noqa: N802 - Qt API
        super().setTextInteractionFlags(flags)
        set_tab_stop(self, self.text())

    def focusInEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().focusInEvent(event)
        land_on_link(self, event)

    def setFont(self, font) -> None:  # noqa: N802 - Qt API
        super().setFont(font)
        self.fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self.width() != self._fitted_width:  # a new width wraps the text anew; a new height is fit()'s own
            self.fit()
