"""File ▸ Open Folder… (or a dropped folder): explain every image of a folder (and its subfolders with "Include
subfolders") in the gallery panel; a click on a tile opens its explanation (read back by core/dataset/stored.py).

The run is the command line's (:mod:`gradflip_desktop.core.dataset`): result sets, thumbnail strips, ``summary.csv``
and ``index.html`` go to a session folder; Export All copies them to a folder the user picks; the title says how long
the rest takes (:class:`~gradflip_desktop.core.dataset.eta.RunClock`). Via :mod:`gradflip_desktop.ui.worker`:

- the ``background`` executor lists the folder (images recognised by content), decodes and shrinks the photos'
  thumbnails a few at a time (opening an image never waits on 500 thumbnails), writes the summary, does Export All;
- the ``engine`` executor (the only thread that runs the model) explains ONE image per task; the next image is started
  when the previous one is shown. So a click on a tile, or Explain on the main image, gets the model after at most
  the current image. Cancel stops the current image at its next step (its cancelled run writes nothing) and starts no other.

Each kind of work has its own :class:`TaskSlot`: a new folder drops the old one's tasks, so no stale result can arrive.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QAction

from gradflip_desktop.core.dataset.eta import RunClock
from gradflip_desktop.core.dataset.scratch import scratch_folder, sweep_dead
from gradflip_desktop.core.summary import count_text
from ..widgets.gallery import ERROR, FLIPPED, NOT_FLIPPED, RUNNING, WAITING, GalleryPanel
from ..widgets.folder_dialog import choose_export_folder, choose_folder_to_explain
from ..worker import TaskSlot, error_message
from . import folder_questions as questions
from .folder_model import FolderModelMark
from .images import IMAGE_FILTER
from .folder_tasks import (  # noqa: F401 - tests swap or call the tasks here
    FolderListing, ImageDone, RunModel, aim_text, explain_one_task, export_task, list_folder_task, listing_note, load_result_task,
    photo_thumbnails_task, remove_folders, settle, summary_task, summary_text)

if TYPE_CHECKING:
    from collections.abc import Callable
    from ..main_window import MainWindow

THUMBS_PER_TASK = 12  # photos decoded per background task: ~20-80 ms, then other work may run
ALL_KEY = "export/all_folder"  # where Export All went last (a single result's export keeps "export/folder")


class FoldersController(QObject):
    """Owns the gallery panel and the folder run (one folder at a time)."""

    def __init__(self, window: MainWindow, panel: GalleryPanel | None = None) -> None:
        super().__init__(window)
        self.w = window
        self.panel = panel or GalleryPanel()
        self.panel.count_unexported = self._unexported  # the close question counts on while the run goes on
        self.out: str | None = None
        self.views: str | None = None  # side files of the explanations a click shows again
        self.stored: dict[str, str] = {}  # tile key -> result set name, for tiles with a stored explanation
        self.recursive = False  # the shown folder's "Include subfolders"
        self.folder: str | None = None
        self.inputs: list = []
        self.queue: list = []  # the inputs to explain, in order
        self.outcomes: dict = {}  # Input -> Outcome of this run's errors (the summary lists them)
        self.next, self.cancelling = 0, False  # index of the next input to explain; Cancel pressed
        self.counts = {FLIPPED: 0, NOT_FLIPPED: 0, ERROR: 0}
        self.clock = RunClock()  # the Folder title's "about 6 min left": restarted with each run and each Continue
        self._options = None
        self._model: RunModel | None = None  # the run's model (explain_one_task reads its .classifier)
        self._max_side: int | None = None
        self._thumb_queue: list[tuple[str, str]] = []
        self._list = TaskSlot(window.background, self._on_listed, on_error=self._on_failed, parent=self)
        self._thumbs = TaskSlot(window.background, self._on_thumbnails, on_error=lambda exc: None, parent=self)
        self._run = TaskSlot(window.engine, self._on_image_done, on_error=self._on_failed, parent=self)
        self._summary = TaskSlot(window.background, self._on_summary, on_error=self._on_summary_failed, parent=self)
        self._export = TaskSlot(window.background, self._on_exported, on_error=self._on_export_failed, parent=self)
        self._show = TaskSlot(window.background, self._on_result_loaded, on_error=self._on_show_failed, parent=self)
        self.mark = FolderModelMark(self)  # results of a model no longer loaded: marked, Explain Again (folder_model.py)
        self.panel.subfolders.setChecked(self._recursive_setting())
        self.panel.subfolders_toggled.connect(self._subfolders_toggled)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.continue_requested.connect(lambda: self.mark.explain_again() or self.resume())  # Explain Again
        self.panel.export_requested.connect(lambda: self.export_all())
        self.panel.open_requested.connect(self._open)
        self._tile_path = self._shown_tile = None  # the tile whose photo a click is opening; whose photo is shown
        window.image_opened.connect(self._image_opened)
        # File menu: the close question's "Don't ask again" taken back (or given) without editing the settings file
        self.ask_close_action = QAction("As&k Before Closing With Unexported Folder Results", self, checkable=True)
        self.ask_close_action.setStatusTip("Closing with folder explanations that were never exported asks first")
        self.ask_close_action.setChecked(questions.asks_on_close(self))
        self.ask_close_action.toggled.connect(lambda on: self.w.settings.setValue("folders/ask_on_close", on))
        # the files exported (list[Path]); why an export failed (str); how many explanations that export copied
        self.exported, self.export_error, self.exported_done = None, None, 0
        self.summary_written, self._follow = False, False  # _follow: the run's first explanation opens in the views
        self._export_target, self._export_interactive = None, False  # its folder (str); asked for by the dialog
        self._export_when_stopped, self._after_export = False, None  # "Stop and Export All…" answered; what waits on it
        self.ask_on_close = True  # False: closed by Ctrl+C or SIGTERM (app.py), which must not wait on a question

    @property
    def running(self) -> bool:  # listing, explaining or writing the summary
        return self._list.busy or self._run.busy or self._summary.busy

    @property
    def explaining(self) -> bool:
        """A folder run's image is being explained on the engine thread: a photo's classification waits for it."""
        return self._run.busy

    # -- requests -----------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.w.settings.value("recent/folder", str(Path.home())))
        chosen = choose_folder_to_explain(self.w, start, self._recursive_setting(), IMAGE_FILTER)
        if chosen and self.may_drop_run(lambda: self.open_folder(*chosen)):
            self.open_folder(*chosen)

    def _unexported(self) -> int:
        return questions.unexported(self)

    def may_drop_run(self, then: Callable[[], None] | None = None) -> bool:
        return questions.may_drop_run(self, then)

    def _export_first(self) -> None:
        """Export All now, or once the run has stopped and written its summary (_on_summary)."""
        self.show_panel()
        self._export_when_stopped = self.running
        self.cancel()  # the subfolders Include subfolders is listing are left out at once; a run stops at its image's step
        if not self.running:
            self._export_when_stopped = False
            self.export_all()

    def _recursive_setting(self) -> bool:
        return str(self.w.settings.value("folders/recursive", "false")).lower() in ("true", "1")

    def _subfolders_toggled(self, checked: bool) -> None:
        """The panel's "Include subfolders", remembered: ticked, the subfolders' images join the run; cleared, it runs again."""
        if self._export.busy:  # listing again would drop the session folder the export is copying from
            self.panel.subfolders.setChecked(self.recursive)
            self.w.set_status("Export All is still copying the results: change Include subfolders once it is done.")
            return
        self.w.settings.setValue("folders/recursive", bool(checked))
        if self.folder is not None and bool(checked) != self.recursive:
            if checked and self.inputs and self.out is not None and not Path(self.folder).is_dir():  # gone since
                self.panel.subfolders.setChecked(False)  # (moved, unplugged): the run and its Export All stay
                return self.w.set_status(html.escape(f"{self.folder} is no longer a folder: its subfolders cannot be added"))
            if checked and self.inputs and self.out is not None:  # an ended run's Cancel is not this run's
                self.recursive, self.cancelling = True, self.cancelling and self._run.busy
                self._list.start(list_folder_task, self.folder, True, self.out, list(self.inputs))
                self.w.set_status(html.escape(f"Listing the subfolders of {self.folder} … (Esc leaves them out)"))
                return self.w.update_actions()  # Esc (the toolbar's Cancel) stops the listing: none of them is added
            self.open_folder(self.folder, bool(checked))

    def open_folder(self, folder: str, recursive: bool | None = None) -> None:
        """List ``folder`` (with its subfolders when ``recursive``; None: as last chosen) in the background,
        then explain its images one by one with the current settings."""
        for slot in (self._list, self._thumbs, self._run, self._summary, self._export, self._show):
            slot.discard()
        self._remove_session()
        recursive = self._recursive_setting() if recursive is None else bool(recursive)
        self.w.settings.setValue("folders/recursive", recursive)
        self.recursive = recursive
        self.panel.subfolders.setChecked(recursive)
        sweep_dead()  # a killed window's scratch folders (it named them after its process)
        self.out, self.views = scratch_folder(), scratch_folder("views")
        self.folder, self.inputs, self.queue, self.outcomes, self.next, self.stored = folder, [], [], {}, 0, {}
        self.cancelling, self.summary_written, self.exported, self.export_error = False, False, None, None
        self.exported_done = 0
        self._export_when_stopped, self._after_export, self._model = False, None, None
        self.counts, self.listing_note = dict.fromkeys(self.counts, 0), ""
        self._follow = self.w.result is None and (self.w.image is None or self.w.images.showing_sample())
        settings = self.w.controls.settings()
        self._options = settings.to_options()
        self._max_side = int(settings.working_size)
        self.panel.start(f"Listing {folder} …", [])
        self.show_panel()
        self.w.set_status(f"Opening the folder {html.escape(folder)} …")
        self._list.start(list_folder_task, folder, recursive, self.out)
        self.w.update_actions()

    def show_panel(self) -> None:
        dock = getattr(self.w, "gallery_dock", None)
        if dock is not None:
            dock.show()
            dock.raise_()
        elif self.panel.parent() is None:
            self.panel.show()

    def cancel(self) -> None:
        """Stop the run: the current image stops at its next step, no further image starts; a listing stops."""
        if self._list.busy:  # the folder's, or its subfolders' that Include subfolders adds (Esc): none is added
            self._list.discard()
            if self.inputs:  # the box cleared again: ticked afresh, the subfolders are listed again
                self.recursive = False
                self.panel.subfolders.setChecked(False)
            else:
                self.panel.finish("Cancelled while listing the folder", exportable=False)
            self.w.update_actions()
        if not self._run.busy:
            return
        self.cancelling = True
        self.panel.cancel_button.setEnabled(False)
        self.panel.set_title("Cancelling …")
        self._run.cancel()

    def resume(self) -> None:
        """Continue a cancelled run: explain the images it did not reach, into the same session folder, with the
        run's own settings; the finished ones are kept (before, only opening the folder again, which explained
        every image again into a new folder)."""
        if self._run.busy or self._list.busy or self.folder is None:
            return
        if self._export.busy:  # its results would count as exported when the copy (begun before them) ends
            return self.w.set_status("Export All is still copying the results: Continue once it is done")
        left = [i for i in self.inputs if (t := self.panel.tiles.get(str(i.path))) is not None and t.state == WAITING]
        if not left:
            return
        for inp in left:  # queued again: "waiting", no longer "not run"
            self.panel.set_state(str(inp.path), WAITING)
        self.queue, self.next, self.cancelling, self.exported = left, 0, False, None  # new results: not exported
        self.panel.cancel_button.setEnabled(True)
        self.panel.continue_button.setEnabled(False)
        self.panel.export_button.setEnabled(False)
        self.panel.set_title(self._summary_text() + f"; continuing with {count_text(len(left), 'image')} …")
        self.clock.start()
        self.w.set_status(html.escape(f"Folder {self.folder}: explaining the {count_text(len(left), 'image')} the run did not reach …"))
        self._start_next()
        self.w.update_actions()

    def may_close(self) -> bool:
        return questions.may_close(self)

    def shutdown(self) -> None:
        for slot in (self._list, self._thumbs, self._run, self._summary, self._export, self._show):
            slot.discard()
        self._remove_session()

    # -- the run --------------------------------------------------------------------------------------------
    def _on_listed(self, listing: FolderListing | None) -> None:
        if listing is None:
            return
        if listing.added is not None:
            return self._add_listed(listing)
        self.inputs = list(listing.inputs)
        entries = listing.entries
        self.listing_note = skipped = listing_note(listing, self.recursive)  # said again once the run ends (status bar)
        self.panel.start(f"{Path(listing.folder).name}: {count_text(len(entries), 'image')}{skipped}{aim_text(self._options)}", entries)
        self.w.settings.setValue("recent/folder", str(listing.folder))
        if not entries:
            self.panel.finish(f"{Path(listing.folder).name}: no images found{skipped}", exportable=False)
            self.w.set_status(f"No images in {html.escape(listing.folder)}")
            if self.w.image is None:
                self.w.views.set_summary("No images in this folder: open a photo (Ctrl+O) or another folder.")
            return self.w.update_actions()  # the toolbar's Cancel stayed red, for a listing long over
        settle(self.panel, self.outcomes, self.counts, listing.settled)
        failed = {o.input for o in listing.settled}
        self.queue = [i for i in self.inputs if i not in failed]
        # the status said "Opening the folder …" until the whole run had ended
        self.w.set_status(html.escape(f"Folder {listing.folder}: explaining {count_text(len(self.queue), 'image')}, one after "
                                      "another (progress and Cancel in the Folder panel) …"))
        self.panel.set_progress(self.counts[ERROR], len(self.inputs))
        if self.w.image is None:  # `gradflip FOLDER`: the views wait for the run's first explanation (_follow_run)
            self.w.views.set_summary(f"Explaining the {count_text(len(self.queue), 'image')} of <b>{html.escape(Path(listing.folder).name)}"
                                     "</b> one after another: the first explanation opens here; a click on a "
                                     "finished tile in the Folder panel opens its own.")
        self._thumb_queue = [(k, p) for k, p, _ in entries]
        self._next_thumbnails()
        # the run's model, as its options: a model chosen while it runs explained the rest of the folder, one
        # gallery and summary of two models (EfficientNet's barbell, then tiny10's truck), with no word
        self._model = RunModel(self.w.models.session)
        self.clock.start()
        self._start_next()
        self.w.update_actions()

    def _add_listed(self, listing: FolderListing) -> None:
        """The subfolders' images join the run: waiting tiles, explained after the images still queued."""
        self.listing_note = listing_note(listing, self.recursive)  # the subfolders' too; not "1 subfolder not included"
        if not listing.added and not listing.settled:  # none there: the run, its summary and its export stand
            self.w.set_status(html.escape(f"Folder {listing.folder}: its subfolders hold no other image"))
            return self.w.update_actions()
        known, self.inputs = {str(i.path) for i in self.inputs}, list(listing.inputs)
        self.panel.add(f"{Path(listing.folder).name}: {len(listing.added)} more {'image' if len(listing.added) == 1 else 'images'} from its subfolders", listing.entries)
        settle(self.panel, self.outcomes, self.counts, listing.settled)
        self._thumb_queue += [(k, p) for k, p, _ in listing.entries if k not in known]
        if not self._thumbs.busy:
            self._next_thumbnails()
        self._summary.discard()  # the summary of the run without them
        self.summary_written, self.exported = False, None
        self.queue, self.next = (self.queue[self.next:] if self._run.busy else []) + listing.added, 0
        self.panel.set_progress(sum(self.counts.values()), len(self.inputs))
        self.w.set_status(html.escape(f"Folder {listing.folder}: explaining {len(listing.added)} more {'image' if len(listing.added) == 1 else 'images'} …"))
        if not self._run.busy:  # a run that had ended: these images' own clock (not the hours since it ended)
            self.clock.start()
            self._start_next()
        self.w.update_actions()

    def _next_thumbnails(self) -> None:
        chunk, self._thumb_queue = self._thumb_queue[:THUMBS_PER_TASK], self._thumb_queue[THUMBS_PER_TASK:]
        if chunk:
            self._thumbs.start(photo_thumbnails_task, chunk, self.panel.devicePixelRatioF())

    def _on_thumbnails(self, images) -> None:
        if images:
            self.panel.set_thumbnails(images)
        self._next_thumbnails()

    def _start_next(self) -> None:
        if self.cancelling or self.next >= len(self.queue):
            self._write_summary()
            return
        inp, self.next = self.queue[self.next], self.next + 1
        self.panel.set_state(str(inp.path), RUNNING, "explaining …")
        self._run.start(explain_one_task, self._model, inp, self.out, self._options, self._max_side, self.views,
                        self.panel.devicePixelRatioF())

    def _on_image_done(self, done: ImageDone | None) -> None:
        if done is None:  # cancelled before it started
            self._write_summary()
            return
        if done.state in self.counts:
            self.counts[done.state] += 1
        if done.outcome is not None and done.state == ERROR:
            self.outcomes[done.outcome.input] = done.outcome
        if done.stored:
            self.stored[done.key] = done.stored
        self.panel.set_state(done.key, done.state, done.text, done.label, done.size)
        if done.strip is not None:
            self.panel.set_thumbnails([(done.key, done.strip)], strip=True)
        self.clock.tick(done.state != ERROR)  # an unreadable file took no time: not in the rate
        left = "" if self.cancelling else self.clock.left_text(len(self.queue) - self.next)  # the run's end: ""
        self.panel.set_progress(sum(self.counts.values()), len(self.inputs), self._summary_text() + (f" · {left}" * bool(left)))
        self._start_next()
        self.mark.refresh()  # the run's model is known once an image is done (marked after the next image started)
        if done.stored and (self._follow or done.key == self._shown_tile):
            self._follow_run(done.key)

    def _follow_run(self, key: str) -> None:
        """The run's first explanation opens in the views, as a click on its tile would, while they show nothing of
        the user's (nothing open, or the sample unexplained), once; and the explanation of a photo opened from its
        waiting tile, shown unexplained (walk38: it kept "Press Explain"). Never over a result, a run or a click."""
        self._follow = False
        if self.w.result is None and not self.w.runs.running and self._tile_path is None and not self.w.images.loading and (
                key == self._shown_tile or self.w.image is None or self.w.images.showing_sample()):
            self.panel.select(key)
            self._open(key)

    def _summary_text(self) -> str:
        return summary_text(self.counts, len(self.inputs)) + aim_text(self._options)

    def _write_summary(self) -> None:
        self._summary.start(summary_task, self.out, list(self.inputs), dict(self.outcomes))

    def _on_summary(self, out) -> None:
        self.summary_written = out is not None
        cancelled = sum(self.counts.values()) < len(self.inputs)
        text = self._summary_text() + (" (cancelled: Continue explains the rest)" if cancelled else "")
        self.panel.finish(text, resumable=cancelled)
        self.w.set_status(html.escape(f"Folder {self.folder}: {text}{self.listing_note}"))
        if self.w.image is None and not self.stored:  # the views promised "the first explanation opens here"
            self.w.views.set_summary("No image of this folder was explained" + (" yet (Continue explains the rest)"
                                     if cancelled else "") + ": a click on a tile opens its photo; or open a photo (Ctrl+O).")
        self.w.update_actions()
        if self._export_when_stopped and self.summary_written:
            self._export_when_stopped = False
            self.export_all()

    def _forget_export(self) -> None:
        """The run ended without a summary: "Stop and Export All…" cannot export now, and what waited on it (another
        folder) does not happen; left set, a later Continue exported by itself and then opened that folder."""
        self._export_when_stopped, self._after_export = False, None

    def _on_summary_failed(self, exc: BaseException) -> None:
        self._forget_export()
        self.panel.finish(self._summary_text() + " (the summary could not be written)")
        self.w.update_actions()
        self.w.show_error("Folder summary", error_message(exc, "the summary could not be written"), box=False)

    def _on_failed(self, exc: BaseException) -> None:
        self._forget_export()
        message = error_message(exc, "the folder run failed")
        self.panel.finish(message, exportable=False)
        self.w.update_actions()
        self.w.show_error("Open Folder", message)

    def _image_opened(self, _name: str) -> None:
        """A photo opened: the clicked tile's keeps its selection; any other (File ▸ Open, a drop, …) clears it."""
        source, (tile, self._tile_path) = self.w.images.source, (self._tile_path, None)
        self._shown_tile = tile if tile is not None and source and source[0] == tile else None
        if self._shown_tile is None:
            self.panel.clear_selection()
            self._follow = self._follow and self.w.images.showing_sample()  # the user opened a photo: theirs stays

    def _open(self, path: str) -> None:
        """A click on a tile: its explanation in the main views when it has one, else the photo."""
        self._tile_path = str(path)
        name = self.stored.get(path)
        if name is None or self.out is None or self.views is None:
            self.w.open_path(path, remember=False)  # tiles are not recent files: a folder's clicks flooded the menu
            return
        self.w.set_status(f"Opening the explanation of {html.escape(Path(path).name)} …")
        self._show.start(load_result_task, path, self.out, name, self.views, self._max_side)
        self.w.update_actions()  # Explain waits for it, as for any photo opening

    @property
    def opening_tile(self) -> bool:
        """A clicked tile's explanation is being read and will replace the shown photo and result."""
        return self._show.busy

    def _on_result_loaded(self, value) -> None:
        self.w.update_actions()
        if value is None:
            return
        (loaded, outcome, classes), w, path = value, self.w, str(self._tile_path)
        if note := self.mark.tile_note(outcome.result):  # made with a model no longer loaded: its captions disagreed
            w.open_path(path, remember=False)  # with the new model's
            return w.images.note_for_this_photo(note)
        w.images._on_loaded(loaded)  # the photo becomes the window's image (as File ▸ Open), then its result
        if classes is not None:  # the result's own (not the classification queued behind the run's current image)
            w.models._classify.discard()
            w.models._on_classified(classes)
        w.runs._show_result(outcome.result, outcome)
        w.models.settings_note(outcome.result)  # made with another budget, ε … than the panel's: said, as after a run
        w.update_actions()

    def _on_show_failed(self, exc: BaseException) -> None:
        self._tile_path = None
        self.w.update_actions()
        self.w.show_error("Open", error_message(exc, "the explanation could not be shown"), box=False)

    # -- Export All ------------------------------------------------------------------------------------------
    def export_all(self, folder: str | None = None, overwrite: bool = False) -> None:
        """Copy the run's result sets, summary.csv and index.html to ``folder`` (asked for when None), in the
        background; existing files are never overwritten unless the user says so."""
        if self.out is None or self.running:
            return
        self._export_interactive = folder is None and not overwrite
        if folder is None:
            # its own last folder, not a single result's (whose files it would have joined); first time, or gone since
            # (unplugged): the explained folder, never the process's working dir
            last = str(self.w.settings.value(ALL_KEY, ""))
            start = last if last and Path(last).is_dir() else self.folder or str(Path.home())
            folder = choose_export_folder(self.w, start, "Export All Results to Folder")  # a typed new folder is created
            if not folder:
                self._after_export = None  # no export: what waited on it (another folder) does not happen
                return
        self._export_target = folder
        self.exported, self.export_error = None, None
        self.panel.export_button.setEnabled(False)
        self.w.set_status(f"Exporting the folder's results to {html.escape(folder)} …")
        self._export.start(export_task, self.out, folder, overwrite)

    def _on_exported(self, paths: list[Path] | None) -> None:
        self.panel.export_button.setEnabled(True)
        then, self._after_export = self._after_export, None
        if paths is None:
            return
        self.exported = paths
        self.exported_done = self.counts[FLIPPED] + self.counts[NOT_FLIPPED]
        self.w.settings.setValue(ALL_KEY, str(self._export_target))
        shown = [p for p in paths if not p.name.startswith(".") and not p.parent.name.startswith(".")]  # not thumbnails
        # the folder a link, as a single export's is (it opens in the file manager)
        url = QUrl.fromLocalFile(str(self._export_target)).toString()
        self.w.set_status(f"Exported {len(shown)} files to <a href=\"{html.escape(url)}\">"
                          f"{html.escape(str(self._export_target))}</a>{html.escape(self.mark.export_note())}")
        if then is not None:  # "Export All…" before another folder: now that folder
            then()

    def _on_export_failed(self, exc: BaseException) -> None:
        from gradflip_desktop.core.errors import ResultExistsError
        self.panel.export_button.setEnabled(True)
        self.export_error = error_message(exc, "the results could not be exported")
        none = "Export All: nothing was exported"  # said once answered (until another export starts), not while asking
        if isinstance(exc, ResultExistsError) and self._export_interactive:
            self.w.set_status("Export All: the folder holds these results already (overwrite them?)")
            answer = self.w.ask_overwrite(f"{self.export_error}. Overwrite them?")
            self.w.set_status(none)
            if answer is True:
                self.export_all(self._export_target, overwrite=True)
            elif answer:  # choose another folder
                self.export_all()
            else:
                self._after_export = None
            return
        self.w.set_status(none)
        self._after_export = None
        self.w.show_error("Export All", self.export_error, box=not isinstance(exc, ResultExistsError))

    def _remove_session(self) -> None:
        remove_folders(self.out, self.views)
        self.out = self.views = None
