"""Opening images: the file dialog, Open Recent, paste, drag and drop; decoding in the background.

The window switches to an image only when it has been decoded; a newer request drops an older one.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from gradflip_desktop.core.images.pixels import REDUCED_BY_WORKING, said_notes

from ..branding import APP_NAME
from ..qimages import qimage_to_array
from ..settings import add_recent_file, recent_files
from ..widgets.elision import elide_end, elide_middle
from ..widgets.model_dialog import MODEL_ENDINGS, MODEL_PATTERNS
from ..worker import TaskSlot

if TYPE_CHECKING:
    from ..main_window import MainWindow

IMAGE_PATTERNS = ("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp", "ppm", "pgm", "pbm", "tga", "ico")
# Both cases: the non-native Qt dialog filters case-sensitively on Linux ("PHOTO.JPG").
IMAGE_FILTER = (
    "Images ("
    + " ".join(f"*.{e} *.{e.upper()}" for e in IMAGE_PATTERNS)
    + ");;All files (*)"
)


def is_model_path(path: str) -> bool:
    """A model file (by its extension) or a Hugging Face model folder (a folder with config.json, as
    ``core.models.files.huggingface.is_hf_folder`` says; checked here without importing torch)."""
    p = Path(path)
    if p.is_dir():
        return (p / "config.json").is_file()
    name = p.name.lower()
    return p.suffix.lower().lstrip(".") in MODEL_PATTERNS or name.endswith(tuple(f".{e}" for e in MODEL_ENDINGS))


STATUS_NAME_CHARS = 60  # a longer file name is shortened in the middle where the status bar leads with it


def status_name(name: str, limit: int = STATUS_NAME_CHARS) -> str:
    """``name`` for the start of a status-bar line, HTML-escaped: a longer one keeps its start and end around
    "…". The status bar does not wrap: a 160-character name pushed "the model sees …" (and the loading
    notes after it) off the window's edge; the full name is in the window title."""
    return html.escape(elide_middle(name, limit))


def _path_forms(text: str) -> list[str]:
    """The ways a one-line text may spell a path: as it is; without the quotes a terminal puts around a dragged
    file's name with a space (``'/home/me/my photo.jpg'``) or Windows Explorer's Copy as path puts around any
    path (``"C:\\photos\\x.jpg"``); without a shell's backslash escapes (``my\\ photo.jpg``, POSIX only).
    Each of these read "the clipboard holds no image"."""
    forms = [text]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        forms.append(text[1:-1])
    if os.sep == "/" and "\\" in forms[-1]:
        forms.append(re.sub(r"\\(.)", r"\1", forms[-1]))
    return forms


@dataclass
class LoadedImage:
    image: object  # ImageData
    rgb: np.ndarray  # its pixels as H x W x 3 uint8, ready to show
    remember: str | None = None  # the path to add to Open Recent
    source: tuple | None = None  # (path or array, name): what to decode again at another working size
    file: dict | None = None  # the file's fingerprint as it was loaded (the exported record's ``image.file``)


def _same_photo(a: tuple | None, b: tuple | None) -> bool:
    """Two ``(path or array, name)`` sources are the same photo (reloaded at another working size, opened again)."""
    if a is None or b is None:
        return False
    if isinstance(a[0], np.ndarray) or isinstance(b[0], np.ndarray):
        return a[0] is b[0]
    return str(a[0]) == str(b[0])


def load_image_task(task, source, name: str, remember: str | None, max_side: int | None = None) -> LoadedImage:
    """Decode a file (path) or an H x W x C array into ImageData at the working size ``max_side``
    (None: the core's default) in the background thread."""
    from gradflip_desktop.core.dataset.inputs import file_fingerprint
    from gradflip_desktop.core.images import from_array, load_image
    from gradflip_desktop.core.viz.display import display_uint8

    size = {} if max_side is None else {"max_side": int(max_side)}
    fingerprint = None
    if isinstance(source, np.ndarray):
        image = from_array(source, name=name or "pasted image", **size)
    else:
        # taken as it is decoded, as a folder run takes it: taken at Export, a photo edited or replaced since it
        # was opened got the new file's digest, and `explain --resume` then kept this answer for the new photo
        fingerprint = file_fingerprint(source)
        image = load_image(source, name=name or None, **size)
    return LoadedImage(image, display_uint8(image.pixels), remember, (source, name), fingerprint)


def _load_error_message(exc: BaseException) -> str:
    from gradflip_desktop.core.errors import ImageError

    if isinstance(exc, ImageError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "the image is too large for the available memory"
    return f"the image could not be read: {type(exc).__name__}: {exc}"


class ImagesController(QObject):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.w = window
        self._load = TaskSlot(window.background, self._on_loaded, on_error=self._on_failed, parent=self)
        self.source: tuple | None = None  # (path or array, name) of the shown image
        self.file: dict | None = None  # its file's fingerprint when it was loaded (None: not from a file)
        self._opening_sample = False  # the load in flight is the bundled sample
        self._drop_note = ""  # "2 files dropped; …": said with the image's note, which replaces the status
        self._request: tuple | None = None  # (source, name, remember) of the load in flight
        self._stopped_note = ""  # a run on the photo replaced was stopped: said once, with the new photo's class
        # said first with the next photo's class: a run or result the new working size set aside (set_working_size),
        # or the file that could not be opened, the sample shown instead (`gradflip broken.jpg`)
        self._pending_note = ""

    # -- requests ----------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.w.settings.value("recent/folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self.w, "Open Image", start, IMAGE_FILTER)
        if path:
            self.open_path(path)

    def open_sample(self) -> None:
        from gradflip_desktop.core.resources import sample_image_path

        self.open_path(str(sample_image_path()), remember=False)
        self._opening_sample = True

    @property
    def loading(self) -> bool:
        """A photo (or pasted pixels, or a gallery tile's explanation) is being decoded and will replace the shown
        image: an Explain pressed then (right after a tile's click) was dropped without a word when the tile's
        result arrived."""
        return self._load.busy or self.w.folders.opening_tile

    def showing_sample(self) -> bool:
        """The window shows the bundled sample photo (nothing the user opened)."""
        from gradflip_desktop.core.resources import sample_image_path

        return self.source is not None and str(self.source[0]) == str(sample_image_path())

    def open_path(self, path: str, remember: bool = True) -> int:
        """Decode ``path`` in the background; the window switches to it when it has loaded. Returns a task id."""
        self.w.set_status(f"Opening {html.escape(Path(path).name)} …")
        self._opening_sample = False
        self._drop_note = ""  # a new image: a drop's note (set after this call) is about this one only
        # Open Recent, the dialogs' start folder and the record's image.source keep an absolute path: ``gradflip
        # photo.jpg`` given relative to today's working folder must still open in a session started elsewhere
        keep = str(Path(path).absolute()) if remember else None
        task = self._start(str(Path(path).absolute()), "", keep, self._size())
        self.w.update_actions()  # Explain waits for the photo (see MainWindow.update_actions)
        return task.id

    def open_array(self, array: np.ndarray, name: str = "pasted image") -> int:
        self._opening_sample = False
        self._drop_note = ""
        task = self._start(array, name, None, self._size())
        self.w.update_actions()
        return task.id

    def _start(self, source, name: str, remember: str | None, side: int):
        self._request = (source, name, remember)
        return self._load.start(load_image_task, source, name, remember, side)

    def _size(self) -> int:
        return int(self.w.controls.settings().working_size)

    def set_working_size(self, side: int) -> None:
        """A new working size: saved, and the shown photo is decoded again at that size (not when it is whole at
        both sizes: a run on it goes on). A run on the photo it replaces is cancelled, and that is said (it
        vanished without a word)."""
        self.w.settings.setValue("run/working_size", int(side))
        img = self.w.image
        self._pending_note = ""
        if self._load.busy and self._request is not None:  # a photo is opening: that one, at the new size
            source, name, remember = self._request
            reloaded = False  # (the shown result goes because that photo opens, not because of the size)
        elif img is not None and img.pixels.shape[1::-1] == tuple(img.original_size) and max(img.original_size) <= side:
            return self.w.set_status(f"Working size {int(side)} px: this photo ({img.original_size[0]}×"
                                     f"{img.original_size[1]}) is explained whole at either size, unchanged.")
        elif self.source is not None:
            (source, name), remember = self.source, None
            reloaded = True
        else:
            return
        running = self.w.runs.running
        # said again with the photo's new classification: a finished result vanished without a word
        if reloaded:
            self._pending_note = (f"The explanation was stopped: the working size is now {int(side)} px." if running
                                  else f"The explanation made at the previous working size was cleared: Explain makes "
                                  f"one at {int(side)} px." if self.w.result is not None else "")
        if running:
            self.w.runs.stop()
            self.w.clear_result()
        self.w.set_status(f"{'Cancelled the run to load' if running else 'Loading'} the photo again at {int(side)} px …")
        self._start(source, name, remember, int(side))
        self.w.update_actions()

    def paste(self) -> None:
        clipboard = QGuiApplication.clipboard()
        mime = clipboard.mimeData()
        if mime is None:
            self.w.set_status("The clipboard is empty.")
            return
        paths = self.local_paths(mime)
        if paths:  # a file copied in a file manager, or a path copied as text: as if it were dropped
            self.open_paths(paths, "pasted")
            return
        if mime.hasImage():
            qimage = clipboard.image()
            if not qimage.isNull():
                self.open_array(qimage_to_array(qimage), "pasted image")
                return
        remote = self.remote_url(mime)
        if remote:
            self.w.show_error("Paste", self.remote_message(remote), box=False)
            return
        missing = self.missing_path(mime)
        if missing is not None:  # a path with a typo: "holds no image" blamed the clipboard
            self.w.show_error("Paste", f"The clipboard holds the path {missing}, but there is no such file or folder.", box=False)
            return
        # a status message, no box: the user just did this and reads the status bar
        self.w.show_error("Paste", "The clipboard holds no image (copy an image or an image file first).", box=False)

    def open_paths(self, paths: list[str], how: str) -> None:
        """Open what was dropped or pasted: a model file or Hugging Face folder goes to the Load Model
        dialog, any other folder to the gallery, a file to the window (the first of several, with a note)."""
        first = paths[0]
        if is_model_path(first):
            self.w.models.open_file(first)
            return
        if Path(first).is_dir():
            if self.w.folders.may_drop_run(lambda: self.w.folders.open_folder(first)):
                self.w.folders.open_folder(first)
            return
        self.open_path(first)
        if len(paths) > 1:  # set after open_path: its "Opening …" (then the image's note) replaced it unread
            self._drop_note = (f"{len(paths)} files {how}; opened only {Path(first).name} "
                               "(drop their folder to explain them all)")

    @staticmethod
    def remote_url(mime) -> str:
        """The first web address (http, https, ftp) the data holds, as a URL list or one line of text."""
        if mime is None:
            return ""
        urls = [u.toString() for u in mime.urls()] if mime.hasUrls() else []
        if mime.hasText() and "\n" not in mime.text().strip():
            urls.append(mime.text().strip())
        for url in urls:
            if QUrl(url).scheme().lower() in ("http", "https", "ftp"):
                return url
        return ""

    @staticmethod
    def remote_message(url: str) -> str:
        shown = elide_end(url, 80)  # an address in Japanese or with accents: never half a letter
        return (f"{APP_NAME} works offline and does not download {shown}: save the image from the browser "
                "(or copy the image itself, not its address) and open the file.")

    # -- drag and drop (the window forwards its events) ---------------------------------------------------
    @staticmethod
    def text_path(mime) -> str | None:
        """The file or folder a one-line text names (a path, ``~/x.jpg`` or a ``file:`` URL), if it exists."""
        text = mime.text().strip() if mime is not None and mime.hasText() else ""
        if not text or "\n" in text:
            return None
        for form in _path_forms(text):
            candidate = QUrl(form).toLocalFile() if form.startswith("file:") else os.path.expanduser(form)
            if candidate and Path(candidate).exists():
                return candidate
        return None

    @staticmethod
    def missing_path(mime) -> str | None:
        """The path a one-line text names when it reads as one (``/``, ``~``, ``./``, ``file:``, ``C:\\``) but
        nothing is there (:meth:`text_path` found nothing), as the user would write it out; else None."""
        text = mime.text().strip() if mime is not None and mime.hasText() else ""
        if not text or "\n" in text or len(text) > 4096:
            return None
        path = _path_forms(text)[-1]  # unquoted and unescaped, as text_path tried it
        if not (path.startswith(("/", "~", "./", "../", "file:")) or re.match(r"^[A-Za-z]:[\\/]", path)):
            return None
        return QUrl(path).toLocalFile() or path if path.startswith("file:") else os.path.expanduser(path)

    @classmethod
    def local_paths(cls, mime) -> list[str]:
        """The local files dropped or copied: their URLs, or a path given as text (from a terminal or an
        editor)."""
        if mime is None:
            return []
        if mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]
            if paths:
                return paths
        path = cls.text_path(mime)
        return [path] if path is not None else []

    def drag_enter(self, event) -> None:
        mime = event.mimeData()
        # a web address is accepted too, so that the drop can say why it is not opened (refused, the
        # cursor only showed "no" and nothing said why)
        if self.local_paths(mime) or (mime is not None and (mime.hasImage() or self.remote_url(mime))):
            event.acceptProposedAction()
        else:
            event.ignore()

    def drop(self, event) -> None:
        mime = event.mimeData()
        paths = self.local_paths(mime)
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths, "dropped")
            return
        if mime is not None and mime.hasImage():  # a browser's drag of an image carries its pixels
            event.acceptProposedAction()
            qimage = QImage(mime.imageData())
            if not qimage.isNull():
                self.open_array(qimage_to_array(qimage), "dropped image")
                return
        remote = self.remote_url(mime)
        if remote:
            event.acceptProposedAction()
            self.w.show_error("Drop", self.remote_message(remote), box=False)
            return
        event.ignore()

    # -- Open Recent -------------------------------------------------------------------------------------
    def fill_recent_menu(self) -> None:
        menu = self.w.recent_menu
        menu.clear()
        files = recent_files(self.w.settings)
        for i, path in enumerate(files, 1):
            gone = not Path(path).exists()  # moved or deleted since: greyed, not "… does not exist" on a click
            act = menu.addAction(f"&{i % 10} {Path(path).name}" + (" (not found)" if gone else ""))
            act.setToolTip(path)
            act.setStatusTip(path)
            act.setEnabled(not gone)
            act.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        if not files:
            menu.addAction("No recent images").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear Menu")
        clear.setEnabled(bool(files))
        clear.triggered.connect(lambda: self.w.settings.setValue("recent/files", []))

    # -- results -----------------------------------------------------------------------------------------
    def _on_loaded(self, loaded: LoadedImage | None) -> None:
        if loaded is None:
            return
        w = self.w
        # a run on the photo replaced: said with the classification (it vanished without a word); HTML-escaped
        self._stopped_note = (f"The explanation of {status_name(w.image.name)} was stopped to open this photo."
                              if w.runs.running and w.image is not None else self._pending_note)
        self._pending_note = ""
        w.runs.stop()
        image = loaded.image
        restored = None if _same_photo(loaded.source, self.source) else w.runs.one_off.next_photo(w.controls.settings())
        if restored is not None:  # another photo: a link's choice was for the last one only
            w.controls.set_settings(restored)
        self.source, self.file = loaded.source, loaded.file
        w.image = image
        w.controls.set_photo_size(getattr(image, "original_size", None))  # the memory note is about this photo
        w.image_u8 = loaded.rgb
        w.clear_result()
        if loaded.remember:
            add_recent_file(w.settings, loaded.remember)
            w.settings.setValue("recent/folder", str(Path(loaded.remember).parent))
        w.setWindowTitle(f"{image.name} – {APP_NAME}")
        w.views.original.set_image(loaded.rgb)
        w.views.set_caption(w.views.original, w.models.classifying_text())
        width, height = image.size
        note = f"{status_name(image.name)}: {width}×{height} px"
        if image.scaled and not any("scaled from" in text for text in image.warnings):
            note += f" (scaled from {image.original_size[0]}×{image.original_size[1]}: explained at this size)"
        self.loading_notes(image)  # a 10×10 icon: the loaded model's input enlarges it (a note in image.warnings)
        said = said_notes(image.warnings)  # the core's notes, the scaling among them (all in the exported record)
        if said:
            note += " · " + html.escape("; ".join(said))
        w.set_status(note)
        w.models.classify(image.pixels)
        w.update_actions()
        w.image_opened.emit(image.name)

    def note_for_this_photo(self, note: str) -> None:
        """A note the classification's status line says once, after an :meth:`open_path` of the photo it is about."""
        self._drop_note = note

    def take_stopped_note(self) -> str:
        """"The explanation of X was stopped to open this photo.", once, after a photo opened during a run on X."""
        note, self._stopped_note = self._stopped_note, ""
        return note

    def take_drop_note(self) -> str:
        """The note on a drop of several files (or :meth:`note_for_this_photo`'s), once (the classification's status
        line says it)."""
        note, self._drop_note = self._drop_note, ""
        return note

    @staticmethod
    def size_note(image) -> str:
        """``"explained at 1024×683 (scaled from 6000×4000)"`` for a scaled image, else ``""``; ``""`` too where the
        model's enlargement note names the reduction (:meth:`loading_notes` first: the note is this model's)."""
        if image is None or not getattr(image, "scaled", False):
            return ""
        if any(REDUCED_BY_WORKING in n for n in getattr(image, "warnings", None) or []):
            return ""
        (w, h), (ow, oh) = image.size, image.original_size
        return f"explained at {w}×{h} px (scaled from {ow}×{oh})"

    def loading_notes(self, image) -> list[str]:
        """The core's notes on how the file became what the model sees, the scaling aside (:meth:`size_note`
        says it): "transparent areas were composited on white", "the file has 3 frames; using the first", …
        With the loaded model's enlargement of a tiny photo: a photo opened while the model loaded (`gradflip
        icon.png`) had none, and one opened before another model was loaded kept the first model's."""
        info = self.w.model_info
        if image is not None and getattr(info, "preprocessing", None) is not None:
            from gradflip_desktop.core.models.input_notes import with_input_notes

            with_input_notes(info.preprocessing, image)  # the exported record and figure take image.warnings
        notes = [n for n in getattr(image, "warnings", None) or [] if not n.startswith("scaled from")]
        box = None if image is None or getattr(info, "preprocessing", None) is None else \
            info.preprocessing.visible_box(*image.pixels.shape[:2])
        if box is not None:  # a centre-cropping model (a timm or torchvision file): the map is empty outside, as
            top, left, bottom, right = box  # the figure's map caption says; the window said nothing of it
            notes.append(f"the model crops the centre: it sees only the middle {right - left}×{bottom - top} px")
        return notes

    def _on_failed(self, exc: BaseException) -> None:
        self._pending_note = ""  # the photo shown stays with its result: nothing was cleared
        self.w.update_actions()  # the photo shown stays, and so does Explain
        message = _load_error_message(exc)
        self.w.show_error("Cannot open the image", message)
        self.w.image_failed.emit(message)
        # `gradflip broken.png`: no image to keep, show the sample instead of an empty window (not when the
        # sample itself failed, a broken install: that would retry forever)
        if self.w.image is None and not self._opening_sample:
            # after the dialog's OK nothing in the window said that the file asked for was not opened
            self._pending_note = f"Not opened: {html.escape(message.rstrip('.'))}. The bundled sample is shown instead."
            self.open_sample()
