"""The GradFlip main window: its widgets, its menus (one table) and the wiring to the controllers.

What the window does lives in :mod:`gradflip_desktop.ui.controllers` (images, models, runs, the Difference view,
export). The window never runs model code: the controllers start tasks (:mod:`gradflip_desktop.ui.worker`) on two
executors, ``engine`` (owns the classifier: loading, classifying, the explanation run, key-pixel checks, Grad-CAM)
and ``background`` (image decoding, Difference maps, export, the figure, model-file inspection)."""

from __future__ import annotations

import html
import os
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QSettings, Qt, QThread, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from .branding import APP_NAME
from .controllers.difference import DifferenceController
from .controllers.export import CHOOSE_ANOTHER, ExportController
from .controllers.folders import FoldersController
from .controllers.images import IMAGE_FILTER, ImagesController, is_model_path
from .controllers.models import ModelsController
from .controllers.runs import RunsController
from .help import HOW_IT_WORKS_HTML, about_html, shortcut_rows, shortcuts_html, show_help
from . import window_layout
from .settings import RunSettings, app_settings, settings_warning
from .toolbar_icons import stop_icon, tinted_icon
from .widgets.controls import ControlsPanel
from .widgets.eliding_label import RichElidingLabel
from .widgets.plot import ProbabilityPlot
from .widgets.scrolling import ScrollArea
from .keys import WindowKeysFirst, say_why_disabled
from .widgets.compare import CompareViews
from .widgets.views import ResultViews
from .worker import Executor

if TYPE_CHECKING:
    from gradflip_desktop.core.images import ImageData
    from gradflip_desktop.core.results import ExplainResult

__all__ = ["MainWindow", "IMAGE_FILTER"]

MIN_SIZE = (820, 560)  # the window's least size, within the screen's usable area (see MainWindow._fit_screen)


BOX_CHARS = 1500  # a message box's text: a sidecar's 100,000-character "arch" made a box 4,676 px tall, its OK off-screen


def sentence_case(message: str) -> str:
    """A dialog's text starts as a sentence ("cannot write …" → "Cannot write …"); a first word that is a name
    (a file "cat.png", an option "--out", a path) is left as it is."""
    first = message.split(" ", 1)[0]
    if message[:1].islower() and first.isalpha():
        return message[:1].upper() + message[1:]
    return message


class MainWindow(QMainWindow):
    # emitted after the window has updated itself (tests and tools wait on these)
    image_opened = Signal(str)  # image name
    image_failed = Signal(str)  # message
    model_ready = Signal(object)  # ModelInfo
    classified = Signal(object)  # list[Prediction]
    run_started = Signal(int)  # the run's task id
    run_progress = Signal(object)  # StepBatch, after it is shown
    run_finished = Signal(object)  # ExplainResult
    run_cancelled = Signal(object)  # ExplainResult or None
    run_failed = Signal(str)
    difference_shown = Signal(object)  # DiffImage
    exported = Signal(object)  # list[Path]
    export_failed = Signal(str)
    figure_copied = Signal()
    key_answer_shown = Signal(object)  # KeyPixelAnswer
    outline_shown = Signal(object)  # the key-pixel outline (H x W x 4 uint8) drawn over the Original
    model_failed = Signal(str)  # a model load failed (the previous model stays)
    model_dialog_shown = Signal(object)  # LoadModelDialog
    comparison_shown = Signal(object)  # Comparison
    faithfulness_shown = Signal(object)  # Comparison, with its deletion and insertion check (or why none)
    error_shown = Signal(str, str)  # title, message

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings if settings is not None else app_settings()
        self.engine = Executor("gradflip-engine", parent=self)
        self.background = Executor("gradflip-background", QThread.Priority.LowPriority, parent=self)
        self.image: ImageData | None = None
        self.image_u8: np.ndarray | None = None  # the image as shown (8-bit)
        self.result: ExplainResult | None = None
        self.last_error_box: QMessageBox | None = None
        self._shut_down = False

        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.setMinimumSize(*MIN_SIZE)
        self._build_widgets()
        self.images = ImagesController(self)
        self.models = ModelsController(self)
        self.runs = RunsController(self)
        self.difference = DifferenceController(self)
        self.export = ExportController(self)
        self.folders = FoldersController(self)  # File ▸ Open Folder…: the gallery, a dock below the views
        self.gallery_dock = QDockWidget("Folder", self)
        self.gallery_dock.setObjectName("gallery-dock")
        self.gallery_dock.setWidget(self.folders.panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.gallery_dock)
        self.gallery_dock.hide()
        self.gallery_dock.toggleViewAction().setText("Fol&der")  # View ▸ Folder had no mnemonic (the title never changes)
        self._build_actions()
        self._connect()
        self.keys_first = WindowKeysFirst.install(self, ["Ctrl+E"])
        self.export_why = say_why_disabled(self, (self.export_action, self.copy_figure_action))  # their keys say why
        self.controls.set_settings(RunSettings.load(self.settings))
        self._name_key_set()
        self.views.set_opacity(self.settings.value("view/difference_opacity", 0.75))  # first: set_mode saves both
        self.views.set_mode(str(self.settings.value("view/difference_mode", "magnitude")))
        if str(self.settings.value("view/compare", "false")).lower() in ("1", "true"):
            self.difference.set_compare_visible(True)
            self.view_tabs.setCurrentWidget(self.views)  # its tab is there; the photo is what a start shows
        window_layout.restore(self)  # size, place, toolbar, the gallery dock's size, the splitters: as left
        self._fit_screen()
        self._apply_palette()
        self.update_actions()

    def _fit_screen(self) -> None:
        """Never larger than the screen's usable area: at a scale factor of 2 on a 1600×1000 screen (800×500
        logical pixels) the first size, 1280×820, and even the minimum, 820×560, put Explain, the settings
        and the status bar off screen, out of reach."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return
        avail = screen.availableGeometry()
        self.setMinimumSize(min(MIN_SIZE[0], avail.width()), min(MIN_SIZE[1], avail.height()))
        window_layout.keep_on_screen(self, avail)

    def _name_key_set(self) -> None:
        """Before a run shows its own key set, the Difference mode names the one the chosen style finds."""
        if self.result is None and not self.runs.running:
            self.views.name_key_set("Key region" if self.controls.style.currentData() == "region" else "Key pixels")

    # -- state the controllers share --------------------------------------------------------------------
    model_info = property(lambda self: self.models.info)
    model_error = property(lambda self: self.models.error)

    @property
    def running(self) -> bool:
        return self.runs.running

    @property
    def run_id(self) -> int | None:
        task = self.runs.task
        return task.id if task is not None else None

    # -- construction --------------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.views = ResultViews()
        self.plot = ProbabilityPlot()
        self.compare = CompareViews()
        self.compare.link_to(self.views.original.view)
        # View ▸ Compare Methods adds a tab (its maps include GradFlip's): below the views, 89 px photos at 1366×768
        self.view_tabs = QTabWidget()
        self.view_tabs.setDocumentMode(True)
        self.view_tabs.setTabBarAutoHide(True)  # one tab (Compare off): no bar
        self.view_tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its bar is the tab stop: hidden, Tab stuck on Explain
        self.view_tabs.addTab(self.views, "Explanation")
        self.compare.setParent(self.view_tabs)  # owned by the window while it is no tab (parentless, GC deleted it)
        self.compare.hide()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        for i, (widget, stretch) in enumerate(((self.view_tabs, 4), (self.plot, 2))):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(i, stretch)
        self.splitter.setChildrenCollapsible(False)

        self.controls = ControlsPanel()
        scroll = ScrollArea(self.controls, horizontal=False)
        scroll.setMinimumWidth(self.controls.minimumWidth() + 20)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.views_scroll = ScrollArea(self.splitter, horizontal=False, least_height=320)  # too short: it scrolls
        self.main_splitter.addWidget(self.views_scroll)
        side = QWidget()  # the settings scroll; Explain, Cancel and progress stay below them, always in view
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(scroll, 1)
        side_layout.addWidget(self.controls.run_bar)
        self.main_splitter.addWidget(side)
        self.main_splitter.setStretchFactor(0, 1)
        self.main_splitter.setStretchFactor(1, 0)
        self.main_splitter.setChildrenCollapsible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.main_splitter)
        self.setCentralWidget(central)

        self.status_label = RichElidingLabel()  # a long message ends with "…" (the tooltip has it whole)
        self.statusBar().addWidget(self.status_label, 1)
        if (warning := settings_warning(self.settings)) is not None:  # QSettings fails silently at every close
            self.statusBar().addPermanentWidget(warning)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", icon=None) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcuts([QKeySequence(s) for s in (shortcut if isinstance(shortcut, (list, tuple)) else [shortcut])])
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
        a = self._action
        self.open_action = a("&Open Image…", self.images.open_dialog, QKeySequence.StandardKey.Open, "Open an image file", SP.SP_DialogOpenButton)
        self.open_folder_action = a("Open &Folder…", self.folders.open_dialog, "Ctrl+Shift+O", "Explain every image of a folder, shown in a gallery", SP.SP_DirOpenIcon)
        self.open_sample_action = a("Open &Sample Image", self.images.open_sample, None, "Open the bundled sample photo")
        self.paste_action = a("&Paste Image", self.images.paste, QKeySequence.StandardKey.Paste, "Open the image on the clipboard", SP.SP_FileDialogContentsView)
        self.export_action = a("&Export Results…", self.export.export_dialog, "Ctrl+E", "Write the result set (figure, images, arrays, table, record) to a folder", SP.SP_DialogSaveButton)
        self.export_all_action = a("Export &All Results…", self._export_all, "Ctrl+Shift+E", "Copy every result set of the folder run, summary.csv and index.html to a folder (the Folder panel's Export All…)")
        self.copy_figure_action = a("&Copy Figure", self.export.copy_figure, "Ctrl+Shift+C", "Copy the annotated figure to the clipboard")
        self.quit_action = a("&Quit", self.close, "Ctrl+Q", "Quit GradFlip")
        self.explain_action = a("&Explain", self.explain, ["Ctrl+Return", "Ctrl+Enter"], "Explain the decision: change the photo step by step until the model sees something else", SP.SP_MediaPlay)
        self.cancel_action = a("&Cancel", lambda: (self.runs if self.runs.running else self.folders if self.folders.running
                                                   else self.difference).cancel(), "Esc",
                               "Stop the running explanation (or the folder run, or RISE)", SP.SP_MediaStop)
        self.cancel_action.setWhatsThis("Cancel: stop the explanation or the folder run; with neither, RISE's map in the "
                                        "Compare panel (its masks so far are kept)")  # Help ▸ Keyboard Shortcuts' words
        self.explain_why = say_why_disabled(self, (self.explain_action,), self.why_not_explain)  # disabled, its keys say why
        self.fit_action = a("Zoom to &Fit", self.views.fit, "Ctrl+0", "Show the whole image")
        self.zoom_in_action = a("Zoom &In", self.zoom_in, ["Ctrl++", "Ctrl+="], "Zoom in on all views")
        self.zoom_out_action = a("Zoom &Out", self.zoom_out, "Ctrl+-", "Zoom out of all views")
        self.load_model_action = a("Load &Model…", self.models.load_dialog, "Ctrl+M", "Explain your own classifier: a .pth/.pt state dict, TorchScript or ONNX file")
        self.compare_action = a("&Compare Methods", self.difference.set_compare_visible, "Ctrl+Shift+M", "Show Grad-CAM and gradient saliency next to GradFlip's map")
        self.compare_action.setCheckable(True)
        self.shortcuts_action = a("&Keyboard Shortcuts", self.show_shortcuts, None, "Every key the window knows")
        self.how_action = a("&How GradFlip Works", self.show_how_it_works, "F1", "What the views, the plot and the numbers mean")
        self.about_action = a("&About GradFlip", self.about, None, "Versions of GradFlip, PyTorch, Qt and the model")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self.images.fill_recent_menu)
        menus = {  # None: a separator
            "&File": (self.open_action, self.open_folder_action, self.recent_menu, self.open_sample_action, None, self.load_model_action, None,
                      self.export_action, self.export_all_action, None, self.folders.ask_close_action, self.quit_action),
            "&Edit": (self.paste_action, self.copy_figure_action),
            "&Run": (self.explain_action, self.cancel_action),
            "&View": (self.fit_action, self.zoom_in_action, self.zoom_out_action, None, self.compare_action,
                      self.gallery_dock.toggleViewAction()),
            "&Help": (self.how_action, self.shortcuts_action, None, self.about_action),
        }
        for title, items in menus.items():
            menu = self.menuBar().addMenu(title)
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

    def _export_all(self) -> None:
        if not self.folders.panel.export_button.isEnabled():  # as the panel's button, which says when it can
            return self.set_status("Export All: no folder results to export now (File ▸ Open Folder…, Ctrl+Shift+O; "
                                   "a folder run exports once it has stopped)")
        self.folders.show_panel()
        self.folders.export_all()

    def _connect(self) -> None:
        self.controls.explain_clicked.connect(self.explain)
        self.controls.cancel_clicked.connect(lambda: self.runs.cancel() if self.runs.running else  # or RISE, as Esc
                                             self.difference.cancel() if self.difference.rise_running else None)
        self.controls.device_changed.connect(self.models.device_changed)
        self.controls.model_chosen.connect(self.models.chosen)
        self.controls.load_model_clicked.connect(self.models.load_dialog)
        self.controls.message.connect(self.show_warning)
        self.controls.working_size_changed.connect(self.images.set_working_size)
        self.controls.reset_button.clicked.connect(self.runs.one_off.forget)  # a link's choice: the defaults' now
        self.views.diff_settings_changed.connect(self.difference.settings_changed)
        self.views.mode_box.currentIndexChanged.connect(self.runs.refresh_summary)
        self.views.key_count_changed.connect(self.difference.key_count_changed)
        self.views.summary.linkActivated.connect(self.runs.follow_link)
        self.controls.style.currentIndexChanged.connect(self._name_key_set)
        # a run is watched live and a new photo seen on the views' tab; a photo of the folder's gallery keeps Compare
        self.run_started.connect(lambda *_: self.view_tabs.setCurrentWidget(self.views))
        self.view_tabs.currentChanged.connect(lambda *_: self.difference.tab_changed())  # the comparison while shown
        self.image_opened.connect(lambda *_: self.gallery_dock.isHidden() and self.view_tabs.setCurrentWidget(self.views))
        self.models.follow_settings(self.controls)  # the words before a run, and the note after one, follow them
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- entry points (menus, tests, tools) --------------------------------------------------------------------
    def start(self, path: str | None = None) -> None:
        """Load the model (in the engine thread) and open ``path`` or the bundled sample photo."""
        self.models.load(None)
        if path and is_model_path(path):  # `gradflip model.pt` (or a Hugging Face folder): Load Model, as a drop
            self.images.open_sample()
            self.models.open_file(os.path.abspath(path))
        elif path and os.path.isdir(path):  # `gradflip photos/`: the gallery; its first explanation opens (folders)
            self.folders.open_folder(os.path.abspath(path))
        elif path:
            self.images.open_path(path)
        else:
            self.images.open_sample()

    def open_path(self, path: str, remember: bool = True) -> int:
        return self.images.open_path(path, remember)

    def paste(self) -> None:
        self.images.paste()

    def explain(self) -> None:
        self.runs.explain()

    def why_not_explain(self) -> None:
        """Ctrl+Return while Explain is disabled: the status bar says what it waits for."""
        self.set_status(
            "An explanation is running; Cancel (Esc) stops it." if self.runs.running else
            "The photo is still opening; Explain (Ctrl+Return) works once it is shown." if self.images.loading else
            "Open a photo first (Ctrl+O, a drop, or Ctrl+V); then Explain (Ctrl+Return)." if self.image is None else
            "The model is still loading; Explain (Ctrl+Return) works once it is ready." if self.models.loading else
            "No model is loaded: choose one in File ▸ Load Model…; then Explain (Ctrl+Return).")

    def export_to(self, folder: str, force: bool = False) -> None:
        self.export.export_to(folder, force)

    def open_model_file(self, path: str) -> int:
        return self.models.open_file(path)

    def load_model_spec(self, spec) -> None:
        self.models.load_spec(spec)

    def set_compare_visible(self, visible: bool) -> None:
        self.difference.set_compare_visible(visible)

    def clear_result(self) -> None:
        """Forget the shown result (a new image or model): views, plot and comparison show the plain image, the
        Difference mode names the style's key set again, the column scrolls back to the sentence and the photo."""
        self.result = None
        self.difference.clear()
        self.views.clear_result()
        self.views.set_summary("")
        self.plot.clear()
        self.controls.reset_progress()
        self._name_key_set()
        self.views_scroll.verticalScrollBar().setValue(0)

    # -- messages, About, state ------------------------------------------------------------------------------
    def set_status(self, rich_text: str, tip: str = "") -> None:
        self.status_label.setText(rich_text)
        self.status_label.setToolTip(tip or rich_text)  # the whole message: a long one ends with "…" in the bar

    def show_warning(self, message: str) -> None:
        """A warning in the status bar only (no box): for things the user just did, e.g. a refused value."""
        self.set_status(f"<span style='color:#c0392b'>{html.escape(message)}</span>")

    def show_error(self, title: str, message: str, box: bool = True) -> None:
        """A window-modal, non-blocking message box (``box``) and the status bar; the app stays usable."""
        if box:
            if self.last_error_box is not None:
                self.last_error_box.close()
            shown = message if len(message) <= BOX_CHARS else message[:BOX_CHARS - 1] + "…"  # on the screen, OK too
            dialog = QMessageBox(QMessageBox.Icon.Warning, title, sentence_case(shown), QMessageBox.StandardButton.Ok, self)
            dialog.setWindowModality(Qt.WindowModality.WindowModal)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
            dialog.open()
            self.last_error_box = dialog
        self.set_status(f"<span style='color:#c0392b'>{html.escape(title)}:</span> {html.escape(message)}")
        self.error_shown.emit(title, message)

    def ask_overwrite(self, question: str) -> bool | str:
        """Overwrite (True), choose another folder (``CHOOSE_ANOTHER``) or cancel (False)?"""
        box = QMessageBox(QMessageBox.Icon.Question, "Overwrite results?", question, QMessageBox.StandardButton.NoButton, self)
        overwrite = box.addButton("Overwrite", QMessageBox.ButtonRole.DestructiveRole)
        other = box.addButton("Choose Another Folder…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(other)
        box.exec()
        clicked = box.clickedButton()
        return True if clicked is overwrite else CHOOSE_ANOTHER if clicked is other else False

    def about_text(self) -> str:
        return about_html(self.models.info, self.models.error)

    def about(self) -> None:
        QMessageBox.about(self, "About GradFlip", self.about_text())

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, what) of every action with a shortcut: the one source of Help ▸ Keyboard Shortcuts."""
        return shortcut_rows(self.actions())

    def show_shortcuts(self) -> None:
        self.help_dialog = show_help(self, "Keyboard Shortcuts", shortcuts_html(self.shortcut_rows()))

    def show_how_it_works(self) -> None:
        self.help_dialog = show_help(self, "How GradFlip Works", HOW_IT_WORKS_HTML)

    def zoom_in(self) -> None:
        self.views.zoom(1.25)

    def zoom_out(self) -> None:
        self.views.zoom(0.8)

    def update_actions(self) -> None:
        has_image, running = self.image is not None, self.runs.running
        # not while another photo is opening: a run started then explained the photo being replaced, and the
        # new photo's arrival stopped it, so the press of Explain was lost without a word
        ready = has_image and self.models.info is not None and not self.models.loading and not self.images.loading
        self.explain_action.setEnabled(ready)
        self.cancel_action.setEnabled(running or self.folders.running or self.difference.rise_running)  # and RISE
        self.controls.set_run_state(ready, running, running or self.difference.rise_running)
        has_result = self.result is not None
        self.export_action.setEnabled(has_result)
        self.copy_figure_action.setEnabled(has_result)
        for action in (self.fit_action, self.zoom_in_action, self.zoom_out_action):
            action.setEnabled(has_image)

    def _apply_palette(self) -> None:
        pal = self.palette()
        window_bg = pal.color(QPalette.ColorRole.Window)
        fg = pal.color(QPalette.ColorRole.WindowText)
        self.views.set_background(window_bg.darker(108), fg, window_bg)
        self.compare.set_background(window_bg.darker(108))
        self.plot.set_colors(pal.color(QPalette.ColorRole.Base), fg)
        # the style's play icon is drawn black whatever the palette (black on a dark toolbar); its stop read as a checkbox
        play = self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self.explain_action.setIcon(tinted_icon(play, pal.color(QPalette.ColorRole.ButtonText)))
        self.cancel_action.setIcon(stop_icon(pal))
        # a link's colour is fixed when its rich text is parsed: a theme switched while a result is shown left
        # the summary's links (and the status bar's export link) dark blue on a dark window
        for label in (self.views.summary, self.status_label):
            text = label.text()
            if "<a " in text:
                label.setText("")
                label.setText(text)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_palette()
        super().changeEvent(event)

    # -- drag and drop (the images controller decides) -------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        self.images.drag_enter(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.images.drag_enter(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self.images.drop(event)

    # -- closing ------------------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel any run and wait for both worker threads to end (never terminate them)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.runs.stop()
        self.engine.shutdown()
        self.background.shutdown()
        self.folders.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.folders.may_close():  # a folder run's explanations, never exported: export them first?
            return event.ignore()
        try:
            self.runs.one_off.to_save(self.controls.settings()).save(self.settings)  # a link's choice: not saved
            window_layout.save(self)
            self.settings.sync()
        finally:
            # gone from the screen at once: the wait below (a run's current step, an export finishing its
            # files: 0.8-5.8 s) showed a window that no longer answered, with no word why
            self.hide()
            QGuiApplication.sync()
            self.shutdown()
        super().closeEvent(event)
