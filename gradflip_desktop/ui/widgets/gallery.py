"""The folder gallery: one tile per image of a folder run, with its state, overall progress, Cancel,
sorting by how easily each photo flips, Include subfolders, Export All; a click opens the image in the
main views (its explanation, once it has one).

Only widgets and their model: the run itself is :class:`gradflip_desktop.ui.controllers.folders.FoldersController`.
A ``QListView`` in icon mode over :class:`GalleryModel` (no widget per image): laying out and painting
500 tiles costs only the visible ones. Thumbnails arrive decoded, shrunk and packed (PNG) in a worker thread;
the GUI thread decodes only the tiles it paints, and keeps a few screens of them (:mod:`.tile_cache`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QListView,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gradflip_desktop.core.summary import any_of, count_text, levels_text

from .eliding_label import ElidingLabel
from .elision import elide_end, elide_middle
from .gallery_colours import state_colour
from .gallery_delegate import GridSizeDelegate, land_keyboard
from .tile_cache import TileCache
from .tile_image import ICON, Picture, pack
from .gallery_mark import CONTINUE, MARKED_TEXT, NOTHING, TileMarks, mark_title, show_mark

WAITING, RUNNING, FLIPPED, NOT_FLIPPED, ERROR = "waiting", "running", "flipped", "not flipped", "error"
DONE_STATES = (FLIPPED, NOT_FLIPPED, ERROR)
SORTS = ("input order", "flip size (smallest change first)", "class")
KEY_ROLE = Qt.ItemDataRole.UserRole
STATE_ROLE = Qt.ItemDataRole.UserRole + 1
TILE_NAME_CHARS = 56  # a longer name is shortened in the middle on its tile (two lines at most; the tooltip has it whole)


def outcome_text(rec: dict, status: str = "") -> str:
    """A tile's line for a finished run from its record: the new class and the saved change's size, or why it did not
    flip. A group run (the "Explain any cat" link stays chosen) on a photo of another class says which class the
    model sees there ("not any cat: espresso"), not only "not flipped (nothing to flip)"; a targeted run whose class
    already wins says so."""
    if rec.get("flipped"):
        final, kr = rec.get("final") or {}, rec.get("key_region") or {}
        region = (kr.get("prediction") or {}) if kr.get("flips") else {}  # the strip's key region gives another class
        other = bool(region) and region.get("index") != final.get("index")
        alone = f"\nkey region → {elide_end(str(region.get('label', '?')), 24)}" if other else ""
        rms = rec.get("rms_saved")  # per value, in 8-bit levels as the Difference caption: photos of other sizes
        if isinstance(rms, (int, float)):  # compare (the L2 grows with the pixels: a 1,000 px photo sorted first)
            return f"→ {final.get('label', '?')} (RMS {levels_text(255 * float(rms))}/255){alone}"
        return f"→ {final.get('label', '?')} (L2 {float(rec.get('l2_saved') or 0):.3f}){alone}"  # an older record
    status = str(rec.get("status") or status)
    if status == "nothing_to_flip":
        seen = (rec.get("original") or {}).get("label")
        explained = rec.get("explained") or {}
        if rec.get("target") and seen:
            return f"already {seen} (nothing to flip)"
        if len(explained.get("indices") or ()) > 1 and seen:
            return f"not {any_of(str(explained.get('name', '?')))}: {seen} (nothing to flip)"
    return f"not flipped ({status.replace('_', ' ')})"


def tile_name(name: str, limit: int = TILE_NAME_CHARS) -> str:
    return elide_middle(name, limit)


@dataclass
class Tile:
    key: str
    path: str
    name: str
    order: int
    state: str = WAITING
    text: str = ""
    label: str = ""  # the original class, for sorting by class
    size: float = float("inf")  # RMS per value of the saved change (an older record: its L2), for sorting by flip size
    picture: Picture | None = None  # packed: decoded only while shown (GalleryModel.pixmap)
    strip: bool = False  # the picture is the result's strip (not the photo)


class GalleryModel(QAbstractListModel):
    """The tiles in display order. ``rows`` holds keys; sorting reorders them (a layout change)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tiles: dict[str, Tile] = {}
        self.rows: list[str] = []
        self._row_of: dict[str, int] = {}
        self.sort_mode = 0
        self.marks = TileMarks()  # finished tiles of a model no longer loaded: dimmed, with a badge naming it
        self.cache = TileCache(parent=self)  # the decoded pictures of the tiles painted last (tile_cache)
        self.cache.ready.connect(lambda keys: [self.changed(key) for key in keys])  # put off by a paint, now decoded
        self._placeholder = QPixmap(ICON)
        self._placeholder.fill(QColor(0, 0, 0, 0))
        p = QPainter(self._placeholder)
        p.fillRect((ICON.width() - ICON.height()) // 2, 0, ICON.height(), ICON.height(), QColor(200, 200, 200))
        p.end()

    # -- Qt model API -------------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        tile = self.tiles[self.rows[index.row()]]
        marked = self.marks.model is not None and tile.state in (FLIPPED, NOT_FLIPPED)
        nothing = tile.state == NOT_FLIPPED and f"({NOTHING})" in tile.text  # no change, no map: not a result's strip
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{tile_name(tile.name)}\n{tile.text or tile.state}"
        if role == Qt.ItemDataRole.DecorationRole:
            if tile.picture is None:
                return self._placeholder
            look = self.marks.look(marked, nothing) if marked or nothing else None
            badge = lambda pm: self.marks.pixmap(pm, marked, nothing)  # noqa: E731
            return self.cache.pixmap(tile.key, tile.picture, look, badge, wait=False) or self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{tile.path}\n{tile.text or tile.state}" + (self.marks.tip() if marked else "")
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(MARKED_TEXT) if marked else state_colour(tile.state)
        if role == KEY_ROLE:
            return tile.key
        if role == STATE_ROLE:
            return tile.state
        return None

    # -- filling ------------------------------------------------------------------------------------------
    def reset(self, entries: list[tuple[str, str, str]]) -> None:
        self.beginResetModel()
        self.marks.settings = None  # a new run: made with the settings of now
        self.cache.clear()
        self.tiles = {key: Tile(key, path, name, i) for i, (key, path, name) in enumerate(entries)}
        self.rows = [key for key, _, _ in entries]
        self._row_of = {key: i for i, key in enumerate(self.rows)}
        self.endResetModel()
        if self.sort_mode:
            self.resort()

    def add(self, entries: list[tuple[str, str, str]]) -> None:
        """A longer listing of the run (subfolders included), in input order: its new keys get waiting tiles, the
        tiles there keep theirs."""
        new = [(key, path, name) for key, path, name in entries if key not in self.tiles]
        if new:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(new) - 1)
            self.tiles.update({key: Tile(key, path, name, 0) for key, path, name in new})
            self.rows += [key for key, _, _ in new]
            self._row_of = {key: i for i, key in enumerate(self.rows)}
            self.endInsertRows()
        order = {key: i for i, (key, _, _) in enumerate(entries)}
        for tile in self.tiles.values():
            tile.order = order.get(tile.key, len(order) + tile.order)
        self.resort()

    def index_of(self, key: str) -> QModelIndex:
        row = self._row_of.get(key)
        return self.index(row) if row is not None else QModelIndex()

    def changed(self, key: str) -> None:
        idx = self.index_of(key)
        if idx.isValid():
            self.dataChanged.emit(idx, idx)

    def pixmap(self, key: str) -> QPixmap | None:
        """Tile ``key``'s picture as painted without badges (None: it has none yet, the placeholder is shown)."""
        tile = self.tiles.get(key)
        return None if tile is None or tile.picture is None else self.cache.pixmap(key, tile.picture)

    def set_thumbnails(self, images: list[tuple[str, Picture | QImage]], strip: bool = False) -> None:
        """Show thumbnails, packed in the worker (an image is packed here); a photo never replaces a result's strip."""
        rows = []
        for key, image in images:
            tile = self.tiles.get(key)
            if tile is None or image is None or (tile.strip and not strip) or (isinstance(image, QImage) and image.isNull()):
                continue
            if isinstance(image, QImage):
                image = pack(image, image.devicePixelRatio())
            tile.picture, tile.strip = image, strip
            rows.append(self._row_of[key])
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)), [Qt.ItemDataRole.DecorationRole])

    # -- sorting ------------------------------------------------------------------------------------------
    def sort_key(self, tile: Tile):
        if self.sort_mode == 1:  # flipped ones first, smallest change first
            return (tile.state != FLIPPED, tile.size, tile.order)
        if self.sort_mode == 2:
            return (tile.label == "", tile.label.casefold(), tile.state != FLIPPED, tile.size, tile.order)
        return (tile.order,)

    def resort(self) -> None:
        keys = [t.key for t in sorted(self.tiles.values(), key=self.sort_key)]
        if keys == self.rows:
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        held = [self.rows[i.row()] if i.isValid() and i.row() < len(self.rows) else None for i in persistent]
        self.rows = keys
        self._row_of = {key: i for i, key in enumerate(keys)}
        self.changePersistentIndexList(persistent, [self.index(self._row_of[k]) if k is not None else QModelIndex() for k in held])
        self.layoutChanged.emit()


class GalleryPanel(QWidget):
    open_requested = Signal(str)  # the path of a clicked image
    cancel_requested = Signal()
    continue_requested = Signal()
    export_requested = Signal()
    subfolders_toggled = Signal(bool)  # the user ticked or cleared "Include subfolders"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.count_unexported: Callable[[], int] | None = None  # the close question's live count (the controller's)
        self.model = GalleryModel(self)
        self.title = ElidingLabel("No folder open")  # "…" where it is cut, the whole line in its tooltip
        self.title_text, self.resumable = "No folder open", False  # the title without its mark; Continue has images left
        # one line whose size never follows its text: a new text must not relayout the window (the views)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.title.setMinimumWidth(120)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m images")
        self.progress.setValue(0)
        self.sort = QComboBox()
        self.sort.addItems(SORTS)
        self.sort.setToolTip("Sort the images (flip size: the RMS of the saved change per value, in 8-bit levels, "
                             "smallest first; unlike the L2 it does not grow with the photo's size)")
        self.sort.setMinimumWidth(120)  # its longest entry made the row 843 px: an 820 px window cut off "Export All…"
        self.subfolders = QCheckBox("Include subfolders")
        self.subfolders.setToolTip("Explain the images of the folder's subfolders too (like the command line's "
                                   "--recursive); changing it lists the folder again")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the folder run (the image being explained stops at its next step)")
        self.cancel_button.setEnabled(False)
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip("Explain the images the cancelled run did not reach; the finished ones are kept")
        self.continue_button.setEnabled(False)
        self.export_button = QPushButton("Export All…")
        self.export_button.setToolTip("Copy every result set, summary.csv and index.html to a folder")
        self.export_button.setEnabled(False)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(ICON)
        # room for 3 lines under the strip: a name that wraps (or is set in a taller fallback font: 日本語 猫.png)
        # and the state line; with room for 2 the state ("explaining …", "→ tiger cat (L2 …)", an error) was cut.
        # Every tile is the grid's size (uniform sizes took the first tile's, two lines for a short name)
        self.list.setGridSize(QSize(ICON.width() + 16, ICON.height() + 3 * self.list.fontMetrics().lineSpacing() + 14))
        self.list.setItemDelegate(GridSizeDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setLayoutMode(QListView.LayoutMode.Batched)
        self.list.setBatchSize(200)
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QListView.SelectionMode.SingleSelection)
        top = QHBoxLayout()
        top.addWidget(self.title, 2)
        top.addWidget(self.progress, 1)
        top.addWidget(self.sort)
        top.addWidget(self.subfolders)
        top.addWidget(self.cancel_button)
        top.addWidget(self.continue_button)
        top.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.list, 1)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.continue_button.clicked.connect(self.continue_requested)
        self.export_button.clicked.connect(self.export_requested)
        self.subfolders.clicked.connect(self._subfolders_clicked)  # the user's clicks only, not setChecked
        self.sort.currentIndexChanged.connect(self._sort_changed)
        self.list.clicked.connect(self._activated)
        self.list.activated.connect(self._activated)
        self.list.installEventFilter(self)  # the keyboard arriving on the list lands on a tile (eventFilter)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """One row of tiles under the title row: the dock opens that tall (it took 250 px of an 820 px window,
        and the photos above it shrank to 105 px); drag its edge for more rows (kept for the next start)."""
        hint = super().sizeHint()
        m = self.layout().contentsMargins()
        row = self.list.gridSize().height() + 2 * self.list.frameWidth() + 4
        top = self.layout().itemAt(0).sizeHint().height() + self.layout().spacing()
        return QSize(hint.width(), m.top() + top + row + m.bottom())

    @property
    def tiles(self) -> dict[str, Tile]:
        return self.model.tiles

    def _subfolders_clicked(self, checked: bool) -> None:
        """Ticked: the subfolders' images join the run (the controller keeps the rest). Cleared: the folder is listed
        and explained again, with explanations done only after the user agrees (a stray click dropped hours of a
        large folder's results without a word)."""
        def count() -> int:
            return sum(t.state in (FLIPPED, NOT_FLIPPED) for t in self.tiles.values()) if not checked else 0  # as Close

        def question(n: int) -> str:
            return ("Leave out subfolders: the folder is listed and explained again, and "
                    f"the {count_text(n, 'explanation')} done so far {'is' if n == 1 else 'are'} dropped (Export All keeps "
                    f"{'it' if n == 1 else 'them'} first). Go on?")

        done = count()
        # the run goes on while the question is open: its count with it (it asked about 6 and dropped 19)
        live = {"live": lambda: question(count())} if self.cancel_button.isEnabled() else {}
        if done and not self.confirm(question(done), **live):
            self.subfolders.setChecked(not checked)
            return
        self.subfolders_toggled.emit(checked)

    def confirm(self, question: str, title: str = "Include subfolders", live: Callable[[], str] | None = None) -> bool:
        """Yes or no from the user (a dialog; tests answer it themselves); ``live``: the question as it reads now,
        while a run changes it."""
        box = QMessageBox(QMessageBox.Icon.Question, title, question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        timer = QTimer(box)
        if live is not None:
            timer.timeout.connect(lambda: box.setText(live()))
            timer.start(250)
        answer = box.exec()
        timer.stop()
        return answer == QMessageBox.StandardButton.Yes

    def ask_drop(self, done: int, running: bool) -> str:
        """Another folder over a run with ``done`` explanations never exported: "export" (Export All first, then
        the other folder), "drop" or "" (stay). A dialog; tests answer it themselves."""
        def text(n: int) -> str:
            was, are, it = ("was", "is", "it") if n == 1 else ("were", "are", "them")
            return (f"Opening a folder (another, or this one again): the {count_text(n, 'explanation')} of this folder run "
                    f"{'done so far ' if running else ''}{was} never exported and {are} dropped"
                    + (", and the run stops" if running else "") + f". Export {it} first?")

        answer, _ = self._ask_export("Open Folder", text, done, running, ("drop", "Open Without Exporting"))
        return answer

    def ask_close(self, done: int, running: bool) -> tuple[str, bool]:
        """Closing the window with ``done`` explanations never exported: ("export", "close" or "" to stay open,
        "don't ask again" ticked). A dialog; tests answer it themselves."""
        def text(n: int) -> str:
            # the ones never exported (4 beside the gallery's 7 done read as a stale count when 3 had been exported)
            return (f"{count_text(n, 'explanation')} of the folder run {'done so far and ' if running else ''}never "
                    f"exported {'is' if n == 1 else 'are'} kept only until GradFlip closes (in a temporary folder)"
                    + (", and the run stops." if running else ".") + f" Export {'it' if n == 1 else 'them'} first?")

        return self._ask_export("Close GradFlip", text, done, running, ("close", "Close Without Exporting"),
                                "Don't ask again when closing (File menu: Ask Before Closing…)")

    def _ask_export(self, title: str, text, done: int, running: bool, other: tuple[str, str],
                    quiet_text: str | None = None) -> tuple[str, bool]:
        """The question over explanations never exported: ("export", ``other``'s answer or "", the box ticked).
        ``text(n)`` words it for n explanations; mid-run its count follows the run while it is open (it read 3
        over 9 done)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text(done), parent=self)
        live = QTimer(box)
        if running and self.count_unexported is not None:
            live.timeout.connect(lambda: box.setText(text(max(done, self.count_unexported()))))
            live.start(250)
        export = box.addButton("Stop and Export All…" if running else "Export All…", QMessageBox.ButtonRole.AcceptRole)
        second = box.addButton(other[1], QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(export)
        quiet = QCheckBox(quiet_text, box) if quiet_text else None
        if quiet is not None:
            box.setCheckBox(quiet)
        box.exec()
        live.stop()
        clicked = box.clickedButton()
        answer = "export" if clicked is export else other[0] if clicked is second else ""
        return answer, quiet is not None and quiet.isChecked()

    # -- filling -------------------------------------------------------------------------------------------
    def start(self, title: str, entries: list[tuple[str, str, str]]) -> None:
        """A new run: ``entries`` are (key, path, name) in input order, all waiting."""
        self.resumable = False
        self.mark_other_model(None)
        self.model.reset(entries)
        self.set_title(title)
        self._set_total(len(entries))
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.continue_button.setEnabled(False)
        self.continue_button.setText(CONTINUE)  # a run with the settings of now (Explain Again was for the last one)
        self.export_button.setEnabled(False)

    def add(self, title: str, entries: list[tuple[str, str, str]]) -> None:
        """More images for the run (:meth:`GalleryModel.add`): the finished tiles stay, the run goes on."""
        self.model.add(entries)
        self.set_title(title)
        self.cancel_button.setEnabled(True)
        self.continue_button.setEnabled(False)
        self.export_button.setEnabled(False)

    def set_state(self, key: str, state: str, text: str = "", label: str = "", size: float | None = None) -> None:
        tile = self.model.tiles.get(key)
        if tile is None:
            return
        tile.state, tile.text = state, text
        if label:
            tile.label = label
        if size is not None:
            tile.size = size
        self.model.changed(key)
        if self.model.sort_mode and state in DONE_STATES:
            self.model.resort()

    def set_thumbnails(self, images: list[tuple[str, Picture | QImage]], strip: bool = False) -> None:
        self.model.set_thumbnails(images, strip)

    def _set_total(self, total: int) -> None:
        """The bar's range; its text names the real total (an empty folder read "0 / 1 images": the range
        is kept at least 1 so that the bar is not a busy indicator)."""
        self.progress.setRange(0, max(1, total))
        self.progress.setFormat(f"%v / {total} images")

    def set_progress(self, done: int, total: int, summary: str = "") -> None:
        self._set_total(total)
        self.progress.setValue(done)
        if summary:
            self.set_title(summary)

    def set_title(self, text: str) -> None:
        self.title_text = text
        self.title.setText(mark_title(text, self.model.marks))

    def mark_other_model(self, model: str | None, loaded: str = "", running: bool = False) -> None:
        """The finished results are ``model``'s while ``loaded`` is loaded (None: the loaded model's): :func:`show_mark`."""
        show_mark(self, model, loaded, running)

    def finish(self, summary: str, exportable: bool | None = None, resumable: bool = False) -> None:
        """The run ended: ``summary`` as the title; ``resumable``: Continue explains the tiles left "not run"."""
        self.set_title(summary)
        self.cancel_button.setEnabled(False)
        left = False
        for tile in self.model.tiles.values():  # cancelled before they ran
            if tile.state in (WAITING, RUNNING):
                tile.state, tile.text = WAITING, "not run"
                self.model.changed(tile.key)
                left = True
        self.resumable = resumable and left
        self.continue_button.setEnabled(self.resumable or self.model.marks.again)  # or Explain Again
        if exportable is None:
            exportable = any(t.state in (FLIPPED, NOT_FLIPPED) for t in self.model.tiles.values())
        self.export_button.setEnabled(exportable)

    # -- sorting, clicks -----------------------------------------------------------------------------------
    def ordered_keys(self) -> list[str]:
        return list(self.model.rows)

    def index_of(self, key: str) -> QModelIndex:
        return self.model.index_of(key)

    def select(self, key: str) -> None:
        """The tile of ``key`` is the one shown in the main views (selected and scrolled to)."""
        index = self.model.index_of(key)
        if index.isValid():
            self.list.setCurrentIndex(index)
            self.list.scrollTo(index)

    def clear_selection(self) -> None:
        """No tile is the one shown in the main views."""
        self.list.clearSelection()
        self.list.setCurrentIndex(QModelIndex())

    def _sort_changed(self, mode: int) -> None:
        self.model.sort_mode = int(mode)
        self.model.resort()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        """The keyboard arriving on the list lands on a tile (:func:`.gallery_delegate.land_keyboard`); a new size keeps
        as many decoded pictures as it shows (:meth:`.tile_cache.TileCache.fit`)."""
        if obj is self.list and event.type() == QEvent.Type.Resize:
            self.model.cache.fit(self.list)
        if obj is self.list and event.type() == QEvent.Type.FocusIn:
            land_keyboard(self.list, event.reason())
        return super().eventFilter(obj, event)

    def _activated(self, index: QModelIndex | QPersistentModelIndex) -> None:
        tile = self.model.tiles.get(index.data(KEY_ROLE)) if index.isValid() else None
        if tile is not None:
            self.open_requested.emit(tile.path)
