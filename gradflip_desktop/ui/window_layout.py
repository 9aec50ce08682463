"""The window's arrangement across sessions: its size and place, the toolbar and the folder gallery's dock,
and where the splitters between the views, Compare, the plot and the settings were left.

A user who made the gallery taller or the plot smaller found the first arrangement again at the next start
(only the window's geometry was kept). Everything is read back only when Qt can read it: a settings file
edited by hand, cut short or written by something else holds a string, a size or bytes Qt refuses, and the
window then starts in its first arrangement instead of failing to start.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, Qt
from PySide6.QtWidgets import QMainWindow

FIRST_SIZE = (1280, 820)  # the window's first size (then: as the user left it)
GEOMETRY = "window/geometry"
STATE = "window/state"  # toolbar and dock: QMainWindow.saveState
SPLITTERS = {"window/views_splitter": "splitter", "window/main_splitter": "main_splitter"}  # key: the window's attribute


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
        w.resize(*FIRST_SIZE)
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


def keep_on_screen(w: QMainWindow, avail: QRect) -> None:
    """``w`` no larger than ``avail`` (the screen's usable area) and inside it. A geometry kept from a larger screen
    is put back a title bar's height down (Qt's restoreGeometry): shrunk to a 1280×720 screen at QT_SCALE_FACTOR=1.5
    (853×480) but left 25 px down, the window's bottom, the status bar and the progress bar, was off screen."""
    if w.width() > avail.width() or w.height() > avail.height():
        w.resize(min(w.width(), avail.width()), min(w.height(), avail.height()))
    if not w.testAttribute(Qt.WidgetAttribute.WA_Moved):  # first start: no place of its own, the system places it
        return  # (moved, it told the window manager "user specified location": pinned top left, never centred)
    x = max(avail.left(), min(w.x(), avail.right() + 1 - w.width()))
    y = max(avail.top(), min(w.y(), avail.bottom() + 1 - w.height()))
    if (x, y) != (w.x(), w.y()):
        w.move(x, y)


def save(w: QMainWindow) -> None:
    """Keep ``w``'s arrangement for the next start (see :func:`restore`)."""
    w.settings.setValue(GEOMETRY, w.saveGeometry())
    w.settings.setValue(STATE, w.saveState())
    for key, attribute in SPLITTERS.items():
        w.settings.setValue(key, getattr(w, attribute).saveState())
