"""The window's arrangement across sessions: its size and place, the toolbar and the folder gallery's dock,
and where the splitters between the views (or Compare), the plot and the settings were left.

A user who made the gallery taller or the plot smaller found the first arrangement again at the next start
(only the window's geometry was kept). Everything is read back only when Qt can read it: a settings file
edited by hand, cut short or written by something else holds a string, a size or bytes Qt refuses, and the
window then starts in its first arrangement instead of failing to start.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtWidgets import QMainWindow

FIRST_SIZE = (1280, 820)  # the window's first size (then: as the user left it), for a usual font (see first_size)
USUAL_FONT_HEIGHT = 18  # px: up to an 11 pt desktop font at 96 dpi; a larger font makes the first size larger
GEOMETRY = "window/geometry"
STATE = "window/state"  # toolbar and dock: QMainWindow.saveState
SPLITTERS = {"window/column_splitter": "splitter", "window/main_splitter": "main_splitter"}  # key: the window's attribute
OLD_COLUMN_SPLITTER = "window/views_splitter"  # views, Compare and plot before Compare became a tab: removed at a save


def _bytes(value) -> QByteArray | None:
    if isinstance(value, QByteArray):
        return value
    if isinstance(value, bytes):
        return QByteArray(value)
    return None


def restore(w: QMainWindow) -> None:
    """Put ``w`` (the main window: ``settings``, ``splitter``, ``main_splitter``, ``gallery_dock``) as it was left.
    The gallery's dock keeps its place and size but stays hidden: it opens with a folder, never empty."""
    geometry = _bytes(w.settings.value(GEOMETRY))
    if geometry is None or not w.restoreGeometry(geometry):
        w.resize(*first_size(w))
    state = _bytes(w.settings.value(STATE))
    if state is not None:
        w.restoreState(state)
    for key, attribute in SPLITTERS.items():
        splitter, saved = getattr(w, attribute), _bytes(w.settings.value(key))
        if saved is not None:
            hidden = [splitter.widget(i).isHidden() for i in range(splitter.count())]
            splitter.restoreState(saved)
            for i, was_hidden in enumerate(hidden):  # which panes show is the views' choice (Compare), not this
                splitter.widget(i).setHidden(was_hidden)
    w.gallery_dock.hide()
    FrameFit(w)


def first_size(w: QMainWindow) -> tuple[int, int]:
    """The window's first size: :data:`FIRST_SIZE`, larger in proportion to a large font (then fitted to the screen
    by :func:`keep_on_screen`). At 1280×820 a 2× font (QT_FONT_DPI=192 with scaling off, an 18 pt desktop font)
    left the photos 100 px wide and the plot scrolled out of view, on a 2560×1600 screen three quarters empty."""
    scale = max(1.0, w.fontMetrics().height() / USUAL_FONT_HEIGHT)
    return round(FIRST_SIZE[0] * scale), round(FIRST_SIZE[1] * scale)


def keep_on_screen(w: QMainWindow, avail: QRect) -> None:
    """``w`` no larger than ``avail`` (the screen's usable area) and inside it. A geometry kept from a larger screen
    is put back a title bar's height down (Qt's restoreGeometry): shrunk to a 1280×720 screen at QT_SCALE_FACTOR=1.5
    (853×480) but left 25 px down, the window's bottom, the status bar and the progress bar, was off screen.
    The window manager's frame counts (0 until the window is shown: :class:`FrameFit` fits it again then): a window
    as tall as a 1024×600 screen, under a 20 px title bar, had its status bar ("Done", the export's link) below it."""
    if w.isMaximized() or w.isFullScreen():
        return  # the window manager fits those
    frame = w.frameGeometry()
    extra_w, extra_h = max(0, frame.width() - w.width()), max(0, frame.height() - w.height())
    room_w, room_h = avail.width() - extra_w, avail.height() - extra_h
    if w.minimumWidth() > room_w or w.minimumHeight() > room_h:
        w.setMinimumSize(min(w.minimumWidth(), room_w), min(w.minimumHeight(), room_h))
    if w.width() > room_w or w.height() > room_h:
        w.resize(min(w.width(), room_w), min(w.height(), room_h))
    framed = extra_w > 0 or extra_h > 0  # shown, so placed by the system: keeping it inside is no "user position"
    if not framed and not w.testAttribute(Qt.WidgetAttribute.WA_Moved):  # first start: the system places it
        return  # (moved, it told the window manager "user specified location": pinned top left, never centred)
    frame = w.frameGeometry()  # after the resize
    x = max(avail.left(), min(frame.x(), avail.right() + 1 - frame.width()))
    y = max(avail.top(), min(frame.y(), avail.bottom() + 1 - frame.height()))
    if (x, y) != (frame.x(), frame.y()):
        w.move(w.x() + x - frame.x(), w.y() + y - frame.y())


class FrameFit(QObject):
    """Fits the window to the screen once more when its frame is known: the window manager adds the title bar
    after the window is shown (with no event when the window itself stays where it was), and
    :func:`keep_on_screen` before that took the client area for the whole window. Looks for the frame every
    ``interval`` ms for ``tries`` tries after each show by the program; a window without a frame is left as it is, and
    so is one the program resized since (a later fit undid a test's 1024×700 on the 800 px offscreen screen) or one
    restored from minimized (the window system's own Show: it stays where the user left it). The window system's
    resizes (mapping the window) do not count."""

    def __init__(self, w: QMainWindow, interval: int = 100, tries: int = 30):
        super().__init__(w)
        self.w, self.tries, self._left, self._chosen, self._fitting = w, tries, 0, False, False
        self.timer = QTimer(self)
        self.timer.setInterval(interval)
        self.timer.timeout.connect(self.check)
        w.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self.w and event.type() == QEvent.Type.Show and not event.spontaneous():
            self._left, self._chosen = self.tries, False
            self.timer.start()
        elif obj is self.w and event.type() == QEvent.Type.Resize and not event.spontaneous() and not self._fitting:
            self._chosen = True  # the program chose a size after the show: kept
        return False

    def check(self) -> None:
        self._left -= 1
        if self._chosen:
            self.timer.stop()
            return
        framed = self.w.frameGeometry().size() != self.w.size()
        if framed or self._left <= 0 or not self.w.isVisible():
            self.timer.stop()
        if framed and self.w.isVisible() and (screen := self.w.screen()) is not None:
            self._fitting = True
            try:
                keep_on_screen(self.w, screen.availableGeometry())
            finally:
                self._fitting = False


def save(w: QMainWindow) -> None:
    """Keep ``w``'s arrangement for the next start (see :func:`restore`)."""
    w.settings.setValue(GEOMETRY, w.saveGeometry())
    w.settings.setValue(STATE, w.saveState())
    for key, attribute in SPLITTERS.items():
        w.settings.setValue(key, getattr(w, attribute).saveState())
    w.settings.remove(OLD_COLUMN_SPLITTER)
