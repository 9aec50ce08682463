"""The folder gallery: one tile per image of a folder run, with its state, overall progress, Cancel,
sorting by how easily each photo flips, Export All; a click opens the image in the main views.

Only widgets: the run itself is :class:`gradflip_desktop.ui.controllers.folders.FoldersController`.
Tiles are items of one ``QListWidget`` in icon mode with uniform sizes, so hundreds of thumbnails stay
cheap to lay out and paint.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

WAITING, RUNNING, FLIPPED, NOT_FLIPPED, ERROR = "waiting", "running", "flipped", "not flipped", "error"
SORTS = ("input order", "flip size (smallest change first)", "class")
TILE = QSize(300, 96)  # a thumbnail strip: original | difference | key set


@dataclass
class Tile:
    key: str
    path: str
    name: str
    order: int
    state: str = WAITING
    text: str = ""
    label: str = ""  # the original class, for sorting by class
    size: float = float("inf")  # L2 of the saved change, for sorting by flip size
    thumbnail: str | None = None  # the strip shown as the tile's icon


class GalleryPanel(QWidget):
    open_requested = Signal(str)  # the path of a clicked image
    cancel_requested = Signal()
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles: dict[str, Tile] = {}
        self.items: dict[str, QListWidgetItem] = {}
        self.title = QLabel("No folder open")
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m images")
        self.sort = QComboBox()
        self.sort.addItems(SORTS)
        self.sort.setToolTip("Sort the images")
        self.cancel_button = QPushButton("Cancel")
        self.export_button = QPushButton("Export All…")
        self.export_button.setEnabled(False)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(TILE)
        self.list.setGridSize(QSize(TILE.width() + 16, TILE.height() + 48))
        self.list.setUniformItemSizes(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.progress, 1)
        top.addWidget(self.sort)
        top.addWidget(self.cancel_button)
        top.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.list, 1)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.export_button.clicked.connect(self.export_requested)
        self.sort.currentIndexChanged.connect(lambda _: self.resort())
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        self._placeholder = QPixmap(TILE)
        self._placeholder.fill(Qt.GlobalColor.lightGray)

    # -- filling -------------------------------------------------------------------------------------------
    def start(self, title: str, entries: list[tuple[str, str, str]]) -> None:
        """A new run: ``entries`` are (key, path, name) in input order, all waiting."""
        self.list.clear()
        self.tiles.clear()
        self.items.clear()
        self.title.setText(title)
        self.progress.setRange(0, max(1, len(entries)))
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.export_button.setEnabled(False)
        icon = QIcon(self._placeholder)
        self.list.setUpdatesEnabled(False)
        for i, (key, path, name) in enumerate(entries):
            tile = self.tiles[key] = Tile(key, path, name, i)
            item = QListWidgetItem(icon, self._caption(tile))
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(path)
            self.items[key] = item
            self.list.addItem(item)
        self.list.setUpdatesEnabled(True)

    def set_state(self, key: str, state: str, text: str = "", thumbnail: str | None = None,
                  label: str = "", size: float | None = None) -> None:
        tile = self.tiles.get(key)
        if tile is None:
            return
        tile.state, tile.text = state, text
        if label:
            tile.label = label
        if size is not None:
            tile.size = size
        item = self.items[key]
        item.setText(self._caption(tile))
        if thumbnail:
            pix = QPixmap(thumbnail)
            if not pix.isNull():
                item.setIcon(QIcon(pix))
                tile.thumbnail = thumbnail
        if self.sort.currentIndex() and state in (FLIPPED, NOT_FLIPPED, ERROR):
            self.resort()

    def set_progress(self, done: int, total: int, summary: str = "") -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        if summary:
            self.title.setText(summary)

    def finish(self, summary: str) -> None:
        self.title.setText(summary)
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(any(t.state in (FLIPPED, NOT_FLIPPED) for t in self.tiles.values()))
        for tile in self.tiles.values():  # cancelled before they ran
            if tile.state in (WAITING, RUNNING):
                self.set_state(tile.key, WAITING, "not run")

    # -- sorting, clicks -----------------------------------------------------------------------------------
    def sort_key(self, tile: Tile):
        mode = self.sort.currentIndex()
        if mode == 1:
            return (tile.state != FLIPPED, tile.size, tile.order)
        if mode == 2:
            return (tile.label == "", tile.label.casefold(), tile.size, tile.order)
        return (tile.order,)

    def ordered_keys(self) -> list[str]:
        return [t.key for t in sorted(self.tiles.values(), key=self.sort_key)]

    def resort(self) -> None:
        keys = self.ordered_keys()
        self.list.setUpdatesEnabled(False)
        for row, key in enumerate(keys):
            item = self.items[key]
            current = self.list.row(item)
            if current != row:
                self.list.insertItem(row, self.list.takeItem(current))
        self.list.setUpdatesEnabled(True)

    def _activated(self, item: QListWidgetItem) -> None:
        tile = self.tiles.get(item.data(Qt.ItemDataRole.UserRole))
        if tile is not None:
            self.open_requested.emit(tile.path)

    @staticmethod
    def _caption(tile: Tile) -> str:
        return f"{tile.name}\n{tile.text or tile.state}"
