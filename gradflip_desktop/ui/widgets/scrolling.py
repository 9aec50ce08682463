"""Scroll areas of the window: content that keeps its least size in a smaller window, scrolled instead of squeezed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QScrollArea, QWidget


class ScrollArea(QScrollArea):
    """``widget`` in a frameless scroll area that resizes it, never below its least size: a window smaller than
    that shows a scroll bar. Squeezed below it, a layout draws its widgets over each other (820×560 with Compare
    Methods on: the summary under the Difference row, the photos under their captions). ``horizontal=False``:
    it scrolls only up and down, and is at least as wide as the widget's least width. ``least_height``: it keeps
    that much of the widget in view (the folder gallery's dock, opened below, took all but 220 px of an 820×560
    window). It takes no tab stop; Tab into its fields scrolls them into view."""

    def __init__(self, widget: QWidget, horizontal: bool = True, least_height: int = 0, parent: QWidget | None = None):
        super().__init__(parent)
        self.least_height = least_height
        self.setWidget(widget)
        self.setWidgetResizable(True)
        if not horizontal:
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        widget.installEventFilter(self)
        # a field Tab moves the focus to is scrolled into view, also from outside the area: QScrollArea does it only
        # for Tab from one of its own fields (tabbing from the gallery or the sentence's links onto the Model box
        # left it scrolled out of view). Only for Tab: the window activated again, or a dialog closed, leaves the
        # user's scroll position alone
        for child in widget.findChildren(QWidget):
            if child.focusPolicy() & Qt.FocusPolicy.TabFocus:
                child.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        # the widget's least size changed (the colour bar shown after a run: the views' least width 325 → 495 px):
        # the splitter asks again, or a pane left narrower than it cut the sentence and the colour bar off on the right
        # (QT_SCALE_FACTOR=1.5 on 1280x720); scrolling only up and down, nothing brought them back into view
        if obj is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        elif event.type() == QEvent.Type.FocusIn and event.reason() in (Qt.FocusReason.TabFocusReason,
                                                                         Qt.FocusReason.BacktabFocusReason):
            self.ensureWidgetVisible(obj)
        return super().eventFilter(obj, event)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        hint = super().minimumSizeHint()
        if self.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff and self.widget() is not None:
            hint.setWidth(self.widget().minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width())
        if self.widget() is not None:
            hint.setHeight(max(hint.height(), min(self.least_height, self.widget().minimumSizeHint().height())))
        return hint
