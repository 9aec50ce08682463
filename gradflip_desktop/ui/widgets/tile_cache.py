"""The gallery's decoded pictures: only those of the tiles on screen (and a few more), the least recently shown
dropped first, decoded a few milliseconds' worth at a time.

Each tile keeps its picture packed (:class:`.tile_image.Picture`); a tile painted asks here for its pixmap, which
is decoded once and kept while it is among the last :attr:`TileCache.limit` shown. The limit follows the view's
size (:meth:`TileCache.fit`): three screens' worth of tiles, so a screen never decodes its own tiles twice, a
badged tile (:mod:`.gallery_mark`) has room for both its pictures, and scrolling back a page finds them decoded.
A screen of new tiles (a jump to the end, a 2x screen: 3 ms a strip) is decoded :data:`BUDGET_S` at a time: the
tiles over it show the placeholder until the next turns of the event loop decode them (:attr:`TileCache.ready`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Hashable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QPixmap

from .tile_image import Picture, unpack

SCREENS = 3  # decoded pictures kept: this many times the tiles a view shows at once
LEAST = 48  # never fewer (a view not yet laid out, a narrow dock)
BUDGET_S = 0.008  # decoding per turn of the event loop (a paint and what follows it); the rest waits a turn


class TileCache(QObject):
    """Decoded tile pixmaps by (tile key, look), at most :attr:`limit`, the least recently used dropped first."""

    ready = Signal(list)  # tile keys whose pictures, put off by a paint over its budget, are decoded now

    def __init__(self, limit: int = LEAST, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.limit = limit
        self._items: OrderedDict[tuple, tuple[Picture, QPixmap]] = OrderedDict()
        self._later: OrderedDict[tuple, tuple] = OrderedDict()  # put off: (key, look) -> (picture, make)
        self._spent = 0.0  # seconds spent decoding in this turn of the event loop
        self._turn = QTimer(self)  # the next turn: a new budget, and the pictures put off
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)
        self._turn.timeout.connect(self._next_turn)
        self.decoded = 0  # pictures decoded so far (tests and tools/measure_gallery_memory.py count them)

    def __len__(self) -> int:
        return len(self._items)

    def pixmap(self, key: str, picture: Picture, look: Hashable = None,
               make: Callable[[QPixmap], QPixmap] | None = None, wait: bool = True) -> QPixmap | None:
        """The pixmap of ``picture`` (tile ``key``'s), decoded here unless kept; ``look`` names another look of it,
        ``make(pixmap)`` draws that one from the plain pixmap (a badged tile). ``wait=False`` (a paint): None once
        this turn's budget is spent, and :attr:`ready` names ``key`` once it is decoded."""
        item = (key, look)
        hit = self._items.get(item)
        if hit is not None and hit[0] is picture:
            self._items.move_to_end(item)
            return hit[1]
        if not wait and self._spent >= BUDGET_S:
            self._later[item] = (picture, make)
            self._later.move_to_end(item)
            while len(self._later) > self.limit:  # scrolled on: the first put off are no longer shown
                self._later.popitem(last=False)
            self._turn.start()
            return None
        start = time.perf_counter()
        if look is None or make is None:
            pixmap = QPixmap.fromImage(unpack(picture))
            self.decoded += 1
        else:
            pixmap = make(self.pixmap(key, picture))
        self._items[item] = (picture, pixmap)
        self._items.move_to_end(item)
        self._trim()
        if not self._turn.isActive():
            self._turn.start()
        self._spent += time.perf_counter() - start
        return pixmap

    def fit(self, view) -> None:
        """Keep :data:`SCREENS` times the tiles ``view`` (a :class:`QListView` with a grid) shows at once."""
        grid, area = view.gridSize(), view.size()
        if grid.width() <= 0 or grid.height() <= 0:
            return
        columns = max(1, area.width() // grid.width())
        rows = area.height() // grid.height() + 2  # rows cut at the top and at the bottom
        self.limit = max(LEAST, SCREENS * columns * rows)
        self._trim()

    def clear(self) -> None:
        self._items.clear()
        self._later.clear()

    def _next_turn(self) -> None:
        """A new turn of the event loop: a new budget, first spent on the pictures put off (newest first: the
        tiles shown last)."""
        self._spent, done = 0.0, []
        while self._later and self._spent < BUDGET_S:
            (key, look), (picture, make) = self._later.popitem(last=True)
            self.pixmap(key, picture, look, make)
            done.append(key)
        if done:
            self.ready.emit(done)
        if self._later:
            self._turn.start()

    def _trim(self) -> None:
        while len(self._items) > self.limit:
            self._items.popitem(last=False)


__all__ = ["BUDGET_S", "LEAST", "SCREENS", "TileCache"]
