"""One image panel: a title, an image in a pan/zoom view (y down, square pixels) and a caption; and the
fast 8-bit image item it draws with."""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gradflip_desktop.core.viz.display import MAX_SHOWN_ASPECT, box_downsample

from .eliding_label import RichElidingLabel

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);")  # html.escape's "&#x27;": the caption is rich text
CAPTION_LINES = 3  # every caption has this fixed height: no text changes the size of the views
CUT_VALUE = re.compile(r"\d[\d.,]*\s*$")  # the number a caption's cut ends on (its space too) …
NUMBER_GOES_ON = re.compile(r"[\d.,]|\s?%|/")  # … when the whole text goes on with its digits or its unit


def shown_pixel_ratio(h: int, w: int) -> float:
    """The width : height a pixel of an h x w image is drawn with (pyqtgraph's locked aspect, x scale / y scale):
    1 (square) unless the image is longer than :data:`MAX_SHOWN_ASPECT` times its other side; then its short side
    is stretched so the image is drawn exactly that elongated (1,024 x 1: each pixel 64 times taller than wide)."""
    if w > MAX_SHOWN_ASPECT * h:
        return MAX_SHOWN_ASPECT * h / w
    if h > MAX_SHOWN_ASPECT * w:
        return h / (MAX_SHOWN_ASPECT * w)
    return 1.0


class FastImageItem(pg.ImageItem):
    """An ImageItem whose automatic downsampling of 8-bit RGB images is cheap.

    pyqtgraph downsamples a zoomed-out image in ``render()``, on the GUI thread, at the first paint
    after every ``setImage``: a float mean of the whole image, about 15–30 ms for a 1024 px image, and
    the Adjusted and Difference panels each pay it in the same frame. Here an 8-bit image is reduced
    with an integer box filter (the same mean, rounded; ~2 ms), reduced copies are kept per factor
    until the image changes, and a copy made ahead of time (``reduced``, e.g. by a worker thread) is
    used as it is. The full-resolution image stays the item's image: zooming in shows real pixels.
    """

    def __init__(self, *args, **kwargs):
        self._reduced: tuple[object, dict[tuple[int, int], np.ndarray]] = (None, {})
        super().__init__(*args, **kwargs)

    def set_reduced(self, reduced: dict[tuple[int, int], np.ndarray] | None) -> None:
        """Reduced copies of the current image by (x, y) factor, made elsewhere (call after setImage)."""
        self._reduced = (self.image, dict(reduced or {}))

    def render(self):  # noqa: D401 - pyqtgraph API
        image = self.image
        if (
            not self.autoDownsample
            or image is None
            or not isinstance(image, np.ndarray)
            or image.dtype != np.uint8
            or image.ndim != 3
            or image.shape[2] not in (3, 4)
            or self.axisOrder != "row-major"
        ):
            return super().render()
        xds, yds = self._computeDownsampleFactors()
        if xds is None:
            return super().render()
        owner, cache = self._reduced
        if owner is not image:
            cache = {}
            self._reduced = (image, cache)
        small = image
        if (xds, yds) != (1, 1):
            small = cache.get((xds, yds))
            if small is None:
                small = cache[(xds, yds)] = box_downsample(image, xds, yds)
        if small.size == 0:  # a view too small for one block (pyqtgraph: nothing to draw)
            self._unrenderable = True
            return None
        small = np.ascontiguousarray(small)
        levels = self.levels
        if image.shape[2] == 4 and levels is not None:
            return super().render()
        from pyqtgraph import functions_qimage

        qimage = functions_qimage.try_make_qimage(small, levels=levels, lut=None)
        if qimage is None:
            return super().render()
        self._lastDownsample = (xds, yds)
        self._imageNanLocations = None
        self._processingBuffer = None
        self._displayBuffer = None
        self.qimage = qimage
        self._renderRequired = False
        self._unrenderable = False


class Caption(QLabel):
    """A wrapping caption of at most :data:`CAPTION_LINES` lines: a longer text ends with "…" on its last line
    (its fixed height cut a 4th line through the middle: "flipped from Egyptian cat at step 3" at 820 px showed
    the top half of "step 3"). ``text()`` is the whole text; the panel's tooltip repeats a long one."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", parent)
        self._full = ""

    def text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        self._full = text
        self._elide()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._elide()

    @staticmethod
    def _lines(doc: QTextDocument) -> int:
        doc.size()  # lays it out
        block, n = doc.begin(), 0
        while block.isValid():
            n += block.layout().lineCount()
            block = block.next()
        return n

    def _elide(self) -> None:
        full = self._full.replace(" %", "\u00a0%")  # "79.0" and "%" on one line ("Egyptian cat — 79.0" / "%")
        rich = "<" in full or ENTITY.search(full) is not None  # an escaped message without tags ("model&#x27;s")
        self.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        doc = QTextDocument()
        doc.setDefaultFont(self.font())
        doc.setDocumentMargin(0)  # as QLabel lays out its text
        doc.setHtml(full) if rich else doc.setPlainText(full)
        doc.setTextWidth(max(1, self.contentsRect().width()))
        if self.width() <= 0 or self._lines(doc) <= CAPTION_LINES:
            return super().setText(full)
        whole = doc.toPlainText()
        cursor = QTextCursor(doc)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText("…")
        while self._lines(doc) > CAPTION_LINES:  # drop the words before "…" until it ends the last line
            cursor.setPosition(doc.characterCount() - 2)
            cursor.movePosition(QTextCursor.MoveOperation.PreviousWord, QTextCursor.MoveMode.KeepAnchor)
            if not cursor.hasSelection():
                break
            cursor.removeSelectedText()
        kept = doc.toPlainText()[:-1]  # the start of the whole text, before "…"
        cut = CUT_VALUE.search(kept)
        if cut and NUMBER_GOES_ON.match(whole[len(kept):]):  # a value cut inside or before its unit: "88.2 …", "79.…"
            cursor.setPosition(doc.characterCount() - 2)  # would read as a whole value: its number goes too
            cursor.setPosition(doc.characterCount() - 2 - len(cut.group(0)), QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        cursor.setPosition(doc.characterCount() - 2)
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText() if cursor.selectedText() == " " else None  # "at step…", not "at step …"
        super().setText(doc.toHtml() if rich else doc.toPlainText())


class CopyingViewBox(pg.ViewBox):
    """A view box that shows, whole, the part of the image its linked view shows. pyqtgraph's own links *line up*
    views that overlap on screen by a third or more (made for plots stacked under each other): the Compare Methods
    panel under the Original then showed another crop of the photo (shifted and zoomed by the two widths' ratio).
    Copying one axis at a time is no better between views of other shapes: with square pixels (aspect-locked) the
    axis set last decides the scale and crops the other. So both axes are set at once: the part of the image the
    linked view shows (its rectangle within the image's bounds, not the margins around a fitted photo, which a
    short wide view has plenty of) is fitted into this view, centred, with square pixels."""

    def linkedViewChanged(self, view, axis):
        if self.linksBlocked or view is None:
            return
        rect = view.viewRect()
        mine, theirs = self.boundingRect(), view.boundingRect()
        same_shape = min(mine.height(), theirs.height(), theirs.width()) > 0 and \
            abs(mine.width() * theirs.height() / (mine.height() * theirs.width()) - 1) < 0.02  # (a pixel or two apart)
        xr, yr = self.childrenBounds()
        if xr is not None and yr is not None and not same_shape:  # a view of the same shape copies the rectangle as
            # it is: clipped to the photo, a view dragged past the photo's edge left its neighbours behind (another
            # part, zoomed in) and a drag in one of them then zoomed them all in
            shown = rect.intersected(QRectF(xr[0], yr[0], xr[1] - xr[0], yr[1] - yr[0]))
            if shown.width() > 0 and shown.height() > 0:  # panned off the image: the linked view's rectangle as it is
                rect = shown
        view.blockLink(True)
        try:
            self.enableAutoRange(pg.ViewBox.XYAxes, False)
            self.setRange(rect=rect, padding=0)
        finally:
            view.blockLink(False)

    def shows_whole_image(self) -> bool:
        """Whether the whole image is in view (fitted or zoomed out further; True without an image)."""
        xr, yr = self.childrenBounds()
        if xr is None or yr is None:
            return True
        rect = self.viewRect()
        return rect.left() <= xr[0] + 0.5 and rect.right() >= xr[1] - 0.5 and \
            rect.top() <= yr[0] + 0.5 and rect.bottom() >= yr[1] - 0.5


class ScrollPastWholeImage(QObject):
    """On an image view's viewport: a wheel turn that would zoom out past the whole image scrolls the page around
    the views instead (at 1024 × 700 the wheel over the photos, meant to scroll the window, shrank the Original and
    its linked views to a 3 px speck, and the page did not move). Zooming in, and out back to the whole image,
    stay the view's."""

    def __init__(self, view: CopyingViewBox, parent: QWidget):
        super().__init__(parent)
        self.view = view

    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        if event.type() != QEvent.Type.Wheel or event.angleDelta().y() >= 0 or not self.view.shows_whole_image():
            return False
        area = self.parent().parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is not None:
            QApplication.sendEvent(area.viewport(), event)
        return True


class KeyboardPan(QObject):
    """On an image view: the arrow keys pan a zoomed-in image by an eighth of what is shown (Shift: a half), the
    linked views with it (zoomed views could be panned with the mouse only). The view is then a tab stop, framed in
    the highlight colour while it has the focus; on the whole image the arrows are left to the window."""

    KEYS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}

    def __init__(self, view: CopyingViewBox, graphics: pg.GraphicsLayoutWidget):
        super().__init__(graphics)
        self.view = view
        graphics.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        graphics.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        if event.type() != QEvent.Type.KeyPress or event.key() not in self.KEYS or self.view.shows_whole_image():
            return False
        if event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier):
            return False
        share = 0.5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.125
        steps = self.KEYS[event.key()]
        moves = [_pan(lo, hi, bounds, sign * share) for (lo, hi), bounds, sign in
                 zip(self.view.viewRange(), self.view.childrenBounds(), steps)]  # y grows downwards (invertY)
        if not any(moves):
            return True  # at the image's edge
        self.view.translateBy(x=moves[0], y=moves[1])
        self.view.sigRangeChangedManually.emit(self.view.state["mouseEnabled"])  # the views keep it, as a drag
        return True


def _pan(lo: float, hi: float, bounds, step: float) -> float:
    """How far to move the range (lo, hi) by ``step`` of its width without leaving the image's ``bounds`` (0 on
    an axis the image fits in whole, or with no step)."""
    if not step or bounds is None or hi - lo >= bounds[1] - bounds[0]:
        return 0.0
    move = step * (hi - lo)
    return min(move, max(0.0, bounds[1] - hi)) if move > 0 else max(move, min(0.0, bounds[0] - lo))


class PanelTitle(RichElidingLabel):
    """A panel's bold title, ending with "…" in a panel too narrow for it (four Compare panels at 820 px read
    "Gradient salier", cut mid-word); its tooltip then has it whole. Not a tab stop, nothing to select."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def _elide(self) -> None:
        super()._elide()
        doc = QTextDocument()
        doc.setHtml(self._full)
        self.setToolTip(doc.toPlainText() if "…" in QLabel.text(self) and "…" not in self._full else "")


class ImagePanel(QWidget):
    """A title, an image in a pan/zoom view (y down, square pixels) and a caption."""

    fitted = Signal()  # a new image's size: the view was fitted to it

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = PanelTitle(f"<b>{title}</b>")
        self.title.setObjectName(f"title-{title.lower()}")
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumSize(160, 80)  # small windows (1024×700 with Compare on) keep every caption below its image
        self.graphics.setAcceptDrops(False)  # files dropped here go to the window
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view: pg.ViewBox = CopyingViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.graphics.addItem(self.view, row=0, col=0)
        self.view.setDefaultPadding(0.0)
        self.image_item = FastImageItem()
        self.image_item.setAutoDownsample(True)  # big images paint fast when zoomed out
        self.view.addItem(self.image_item)
        # an RGBA layer over the image (the key-pixel outline on the Original); transparent elsewhere
        self.overlay_item = pg.ImageItem()
        self.overlay_item.setZValue(1)
        self.view.addItem(self.overlay_item)
        self.graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # mouse-driven; the window's actions zoom (KeyboardPan)
        # the focus frame of a view the keyboard pans; every view has the room for it, so that linked views line up
        self.graphics.setStyleSheet("QGraphicsView { border: 2px solid transparent; }"
                                    "QGraphicsView:focus { border: 2px solid palette(highlight); }")
        self.graphics.setAccessibleName(f"{title} image")  # screen readers named the three views nothing
        self.graphics.viewport().installEventFilter(ScrollPastWholeImage(self.view, self.graphics))
        self.caption = Caption()
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setFixedHeight(self.caption.fontMetrics().lineSpacing() * CAPTION_LINES + 6)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.caption)
        self._shape: tuple[int, ...] | None = None

    def set_image(
        self,
        rgb: np.ndarray | None,
        extent: tuple[int, int] | None = None,
        reduced: dict[tuple[int, int], np.ndarray] | None = None,
    ) -> None:
        """Show an H x W x 3 uint8 image (None clears).

        ``extent``: (width, height) the image stands for when it is a reduced copy (a live preview drawn
        at about the panel's size); it then covers the same area as the full-size image would.
        ``reduced``: ready-made reduced copies of ``rgb`` by (x, y) factor (see :class:`FastImageItem`).
        """
        if rgb is None:
            self.image_item.clear()
            self._shape = None
            return
        w, h = extent if extent is not None else (rgb.shape[1], rgb.shape[0])
        self.image_item.setImage(rgb, autoLevels=False, levels=(0, 255), rect=QRectF(0, 0, w, h))
        self.image_item.set_reduced(reduced)
        shape = (h, w) + rgb.shape[2:]
        if shape != self._shape:
            self._shape = shape
            self.view.setAspectLocked(True, ratio=shown_pixel_ratio(h, w))
            self.view.autoRange(padding=0.0)
            self.fitted.emit()

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """An H x W x 4 uint8 layer over the image, at the image's full size (None removes it)."""
        if rgba is None or self._shape is None:
            self.overlay_item.clear()
            return
        h, w = self._shape[:2]
        self.overlay_item.setImage(rgba, autoLevels=False, rect=QRectF(0, 0, w, h))

    def overlay(self) -> np.ndarray | None:
        return self.overlay_item.image

    def display_factor(self) -> int:
        """How many image pixels (of the image's full size) share one screen pixel now, at least 1:
        the factor pyqtgraph downsamples by (1 when zoomed in or nothing is shown)."""
        item = self.image_item
        if item.image is None or self._shape is None:
            return 1
        try:
            xds, yds = item._computeDownsampleFactors()
        except Exception:  # noqa: BLE001 - not on a scene yet
            return 1
        if xds is None:
            return 1
        # relative to the image shown; a reduced image stands for a larger one
        scale = self._shape[1] / max(1, item.image.shape[1])
        return max(1, int(min(xds, yds) * scale))

    def image(self) -> np.ndarray | None:
        return self.image_item.image

    def set_background(self, color) -> None:
        self.graphics.setBackground(color)
