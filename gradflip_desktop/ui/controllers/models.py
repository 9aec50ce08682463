"""Which classifier the window explains: loading it (default, picker entry, model file), the Load model
dialog, device changes, and classifying the shown image. The classifier lives in
:class:`~.model_session.ModelSession`, touched only by the engine-thread tasks of :mod:`.model_session`; the window
learns what it needs from :class:`~.model_session.ModelInfo` (plain Python, no torch objects).
"""

from __future__ import annotations

import html
import stat
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog

from ..widgets.model_dialog import MODEL_FILTER, LoadModelDialog
from ..worker import TaskSlot, error_message
from .answer import window_words
from .folder_model import same_model
from .hint import explain_hint
from .images import status_name
from .model_session import (
    Classification, ModelFileFacts, ModelInfo, ModelSession, classify_task, inspect_model_task, load_model_task,
)

if TYPE_CHECKING:
    from ..main_window import MainWindow

MAX_MODEL_FILES = 8  # model files remembered in the picker


def gui_remedy(exc: BaseException) -> str:
    """What to do about a model setting, in the window's terms (the core's message states the problem)."""
    from gradflip_desktop.core.errors import ModelSettingError

    if not isinstance(exc, ModelSettingError):
        return ""
    text = str(exc)
    stop = "" if text.endswith((".", "?", "!", "…")) else "."  # "… The weights fit resnet18" ended without one
    named = exc.suggestions and any(f"{said} {exc.suggestions[0]}" in text  # the core's message names it
                                    for said in ("The weights fit", "they fit"))
    first = f" ({exc.suggestions[0]} fits)" if exc.suggestions and not named else ""
    choose = f"Choose the architecture in File ▸ Load Model…{first + '.' if first else ''}"  # not "…."
    if "fit none of them" in text:  # no torchvision architecture fits: choosing one cannot help, a timm name can
        choose = "File ▸ Load Model… also takes a timm architecture's name (timm:NAME)."
    remedy = {
        "architecture": f"\n\n{choose}",
        "preprocessing": "\n\nSet the input size and channels in File ▸ Load Model…",
        "device": "\n\nChoose the CPU as the device.",
    }.get(exc.setting, "")
    return stop + remedy if remedy else ""


# ---- the controller (GUI thread) -------------------------------------------------------------------------

NOTE_START = "Settings changed"


def _made_with(result) -> list[tuple[str, str]]:
    """(field, words) for what a result was made with, as the settings note names it."""
    from gradflip_desktop.core.options import STYLE_NAMES
    from gradflip_desktop.core.summary import any_of

    o = result.options
    style = str(getattr(o, "style", ""))
    target = getattr(result, "target", None)  # its label: the options may hold an index ("--target 282")
    aim = (f"target {getattr(target, 'label', o.target)}" if getattr(o, "target", None) is not None else
           f"the group {any_of(result.explained_name)}" if getattr(o, "group", None) is not None else "the top class")
    smooth = float(getattr(o, "smoothing", 0) or 0)
    return [("style", f"the {STYLE_NAMES.get(style, style)} style"), ("aim", aim),
            ("mode", f"{getattr(o, 'mode', '')} steps"), ("epsilon", f"ε {getattr(o, 'epsilon', 0):g}"),
            ("max_steps", f"a budget of {getattr(o, 'max_steps', '')} steps"),
            ("smoothing", f"smoothing σ {smooth:g} px" if smooth else "no smoothing"),
            ("coarse", f"coarse-to-fine {getattr(o, 'coarse', 1)}" if int(getattr(o, "coarse", 1) or 1) > 1 else "no coarse-to-fine")]


def _differs(field: str, now, result) -> bool:
    was = result.options
    if field == "aim":
        if now.group != getattr(was, "group", None) or (now.target is None) != (getattr(was, "target", None) is None):
            return True
        target = getattr(result, "target", None)
        if now.target is None or target is None:
            return now.target != getattr(was, "target", None)
        said = str(now.target).strip().lstrip("#").casefold()  # the panel's name, or an index as the CLI takes it
        return said not in (str(target.label).casefold(), str(target.index))
    return getattr(now, field) != getattr(was, field)


def file_stamp(path: str) -> str:
    """A model file's size and time of change ("" for a folder or a file gone): a changed file is loaded through the
    dialog again."""
    try:
        st = Path(path).stat()
    except OSError:
        return ""
    return "" if stat.S_ISDIR(st.st_mode) else f"{st.st_size}:{st.st_mtime_ns}"


def input_words(pre) -> str:
    """The model line's tooltip on what the network's input is: "input 32×32 px (squashed to it), RGB, mean [0.49,
    0.48, 0.45], std [0.25, 0.24, 0.26]" (settings set in the dialog were said nowhere in the window)."""
    if pre is None:
        return ""
    h, w = pre.input_size
    side = pre.resize_size or max(h, w)
    how = {"squash": "squashed to it", "center-crop": f"shorter side to {side} px, centre crop",
           "squash-crop": f"squashed to {side}×{side}, centre crop"}.get(pre.resize, pre.resize)
    def nums(v) -> str:
        return "[" + ", ".join(f"{x:.3g}" for x in v) + "]"
    return (f"input {w}×{h} px ({how}), {'grayscale' if pre.channels == 1 else 'RGB'}, mean {nums(pre.mean)}, "
            f"std {nums(pre.std)}")


class ModelsController(QObject):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.w = window
        self.session = ModelSession()
        self.info: ModelInfo | None = None
        self.error: str | None = None
        self.loading = False
        self.classification: Classification | None = None
        self.dialog: LoadModelDialog | None = None
        self.sidecar_note = ""
        self._before_note = ""  # the status the settings note replaced
        self.nothing_to_flip = False  # the settings' target or group has nothing to flip in this photo
        self._load_notes: list[str] = []  # the load's notes (grayscale input, …): the next classification's status says them
        self._specs: dict[str, object] = {}  # path -> ModelSpec loaded through the dialog this session
        self._pending_spec = None  # the dialog's spec being loaded: saved as the sidecar once it has loaded
        self._requested = None  # the source of the last load started
        self._failed_specs: dict[str, object] = {}  # resolved path -> settings whose load failed (this session only)
        self._names: dict[str, str] = {}  # picker key -> the name the model loaded as (this session only)
        self._changed: str | None = None  # the file the picker found changed: its dialog's status line says so
        self._load = TaskSlot(window.engine, self._on_loaded, on_error=self._on_load_failed, parent=self)
        self._classify = TaskSlot(window.engine, self._on_classified, on_error=self._on_classify_failed, parent=self)
        self._inspect = TaskSlot(window.background, self._on_inspected, on_error=self._on_inspect_failed, parent=self)

    @property
    def classifier(self):
        """The loaded classifier (for tests and tools; the GUI thread never calls it)."""
        return self.session.classifier

    # -- loading --------------------------------------------------------------------------------------
    def load(self, source, device: str | None = None) -> None:
        """Load ``source`` (None: the default; a picker key, a model file path or a ModelSpec) in the engine
        thread. A running explanation is cancelled first; the current image is classified again with
        the new model. If loading fails, the previous model stays and an error says why."""
        w = self.w
        self._pending_spec = None  # a newer load replaces the one whose settings were waiting to be saved
        cancelled = w.runs.running
        if cancelled:
            w.runs.stop()
            w.clear_result()
            w.set_status("Cancelled the run to change the model.")
        w.difference.pause_compare()  # RISE holds the engine for a minute: the load goes first, the comparison after
        self.loading = True
        if self.info is not None or source is not None:  # not the first load at start-up
            name = Path(getattr(source, "path", source) or "").name or "the default model"
            w.controls.show_model(f"Loading {html.escape(name)} …")
            # the cancel said too: "Cancelled the run …" above was replaced within 50 ms, never seen
            w.set_status(f"Loading the model {html.escape(name)} …" + (" (the run was cancelled)" if cancelled else ""))
        self._requested = source  # the load in flight (a device change while it loads moves that one)
        self._load.start(load_model_task, self.session, source, device or w.controls.settings().device)
        if w.image is not None:  # queued after the load: classified by whichever model is loaded then
            self.classify(w.image.pixels)
        w.update_actions()

    def classifying_text(self) -> str:
        """What the class list and the Original's caption say while the photo is classified: behind a folder run's image
        on the engine thread, that it waits for it (seconds, more with slow settings, of an empty list without a word)."""
        return "classifying after the folder run's current photo …" if self.w.folders.explaining else "classifying …"

    def classify(self, pixels: np.ndarray) -> None:
        """Classify the shown image (engine thread); a previous request is dropped."""
        self.classification = None
        self.w.controls.show_predictions_placeholder(self.classifying_text())
        self._classify.start(classify_task, self.session, pixels)

    def _on_loaded(self, info: ModelInfo | None) -> None:
        if info is None:  # cancelled (the window closing): the engine kept the model it had
            self.loading = False
            return
        w = self.w
        old = self.info
        changed = old is not None and (info.key != old.key or info.labels != old.labels or not same_model(old.identity, info))
        self.info, self.error, self.loading = info, None, False
        note = self._save_loaded_spec() if self._pending_spec is not None else ""
        w.controls.set_model(info.labels, list(info.groups), info.devices, info.device, members=info.groups)
        self._names[info.key] = info.name
        w.controls.set_model_choices(self._picker_entries(info), info.key)
        notes = [window_words(n) for n in info.warnings]  # the Load Model dialog, not the command line's flags
        w.controls.show_model(f"Model: {html.escape(info.name)} on {info.device}",  # what it sees: settings given too
                              "\n".join([info.key, *filter(None, [input_words(info.preprocessing)]), *notes]))
        self._load_notes = notes
        if changed:  # the shown result belongs to the previous model
            w.clear_result()
            w.set_status(f"Loaded {html.escape(info.name)} ({len(info.labels)} classes, {info.seconds:.1f} s)"
                         + (": " + html.escape("; ".join(notes)) if notes else "."))
        elif notes:
            w.set_status(html.escape("; ".join(notes)))
        if note:
            w.set_status(f"Loaded {html.escape(info.name)}; {html.escape(note)}.")
        w.update_actions()
        w.difference.resume_compare()  # paused for the load (a result of another model was cleared above)
        w.model_ready.emit(info)

    def _on_load_failed(self, exc: BaseException) -> None:
        w = self.w
        message = error_message(exc, "the model could not be loaded") + gui_remedy(exc)
        self.loading = False
        if self._pending_spec is not None:  # nothing is saved for a model that did not load; a retry of the
            spec, self._pending_spec = self._pending_spec, None  # dialog starts from these settings
            self._failed_specs[str(Path(spec.path).resolve())] = spec
        loaded = getattr(exc, "still_loaded", None)  # the engine's model: another than shown when a replaced load
        if loaded is not None and (self.info is None or (loaded.key, loaded.device) != (self.info.key, self.info.device)
                                   or not same_model(self.info.identity, loaded)):  # finished unheard
            self._on_loaded(loaded)
        self.error = message
        info = self.info
        if info is not None:  # the previous model stays loaded
            w.controls.show_model(f"Model: {html.escape(info.name)} on {info.device}")
            w.controls.select_model(info.key)
            w.controls.select_device(info.device)
            stop = "" if message.endswith((".", "?", "!", "…")) else "."  # the status bar joins the lines into one
            w.show_error("The model could not be loaded", message + f"{stop}\n\nStill using {info.name}.")
        else:
            w.controls.show_model("No model: " + html.escape(message))
            w.controls.show_predictions_placeholder("no model")
            w.show_error("The model could not be loaded", message)
        w.update_actions()
        w.difference.resume_compare()  # paused for the load: the previous model stays, so does the comparison
        w.model_failed.emit(message)

    # -- classification -------------------------------------------------------------------------------
    def _on_classified(self, result: Classification | None) -> None:
        w = self.w
        if result is None:
            return
        self.classification = result
        w.controls.show_predictions(result.top)
        top = result.top[0]
        pct = f"{100 * top.probability:.1f} %"
        # the loading notes (alpha on white, first frame, colour profile) outlived only the status line of the
        # load, which the classification replaced at once: a washed-out RGBA photo got no word on why
        from gradflip_desktop.core.models.input_notes import ENLARGED_START, SQUASHED_START

        loading = w.images.loading_notes(w.image)
        # what the model's input does to the photo first: after the size note, a panorama's "the model squashes its
        # shapes 6× narrower … crop the photo" lay past the caption's 3 lines and the status bar's end
        seen = "; ".join(n for n in loading if n.startswith((ENLARGED_START, SQUASHED_START)))
        notes = "; ".join([*(n for n in loading if not n.startswith((ENLARGED_START, SQUASHED_START))),
                           *filter(None, [w.images.take_drop_note()])])
        size = w.images.size_note(w.image)  # (after the notes: the model's enlargement note may say it instead)
        model_notes, self._load_notes = self._load_notes, []  # said once, after the load
        w.views.set_caption(
            w.views.original, f"<b>{html.escape(top.label)}</b> — {pct}"
            + "".join(f"<br>{html.escape(n)}" for n in (seen, size, notes) if n),
            "What the model sees in the photo (the top class and its probability)."
            + (" Large photos are explained at the working size (Explanation settings)."
               if getattr(w.image, "scaled", False) else "")
            + (f" The model's input: {seen}." if seen else "") + (f" The file: {notes}." if notes else ""),
        )
        self.show_hint()
        # a shown result (e.g. from the gallery) keeps its status; so does an open Load model dialog's line
        # ("changed since it was loaded …"), which a classification landing just after it replaced
        if not w.runs.running and w.result is None and not (self.dialog is not None and self.dialog.isVisible()):
            stopped = w.images.take_stopped_note()  # (HTML already) first: a long status line is cut at its end, and
            # "… was cleared" is what the user's own action (a new working size, another photo) did
            w.set_status(
                (f"{stopped} " if stopped else "")
                + f"{status_name(w.image.name if w.image else '')}: the model sees "
                f"<b>{html.escape(top.label)}</b> ({pct})"
                + "".join(f"; {html.escape(n)}" for n in (seen, size, notes) if n)
                + (": nothing to flip with the chosen target." if self.nothing_to_flip else ". Press Explain (Ctrl+Return).")
                + (f" Model: {html.escape('; '.join(model_notes))}." if model_notes else "")  # one "Model:", its notes
            )
        w.update_actions()
        w.classified.emit(result.top)

    def show_hint(self, *_args) -> None:
        """Before a run: the sentence and the Adjusted caption say what Explain will look for, from the settings
        as they are now. They were written once, when the photo was classified: a style or target chosen after
        that left "find the smallest change that makes it see something else" above a key-region or targeted
        run (and "flips this decision" when the chosen class already wins, where there is nothing to flip)."""
        w = self.w
        if w.result is not None and not w.runs.running:
            self.settings_note(w.result)
            return
        if w.runs.running or self.classification is None or not self.classification.top:
            return
        from gradflip_desktop.core.summary import START_TIE, _pct_digits, apart, class_range, flat_digits, hardly_apart

        top, *rest = self.classification.top
        pct = f"{100 * top.probability:.1f} %"
        grouped = w.controls.target_mode.currentData() == "group"  # a group run's answer weighs the group's sum
        # a random-weights model: as the answer will say it ("a near tie with sunflower" before, "every class is
        # between 19.7 % and 20.3 %" after, for the same photo and model)
        spread = class_range(getattr(self.classification, "probabilities", None))
        flat = hardly_apart(spread)
        if flat and not grouped:  # in the range's decimals, as the answer will say it ("0.24 %", not "0.2 %")
            pct = f"{_pct_digits(top.probability, flat_digits(spread))}; {html.escape(flat)}"
        elif rest and not grouped and top.probability - rest[0].probability < START_TIE:  # as the answer will say
            a, b = apart(top.probability, rest[0].probability)
            pct = f"{a}, a near tie with <b>{html.escape(rest[0].label)}</b> at {b}"
        info = w.model_info
        group = w.controls.group.currentData()
        hint, goal, self.nothing_to_flip = explain_hint(  # the status line says it too, not "Press Explain"
            top, w.controls.target_mode.currentData(), w.controls.target_class.currentText().strip(),
            w.controls.target_class.findText(w.controls.target_class.currentText().strip()) >= 0,
            w.controls.group.currentText(), set(info.groups.get(group, ())) if info is not None else set(),
            w.controls.style.currentData())
        w.views.set_caption(w.views.adjusted, hint)
        w.views.set_summary(
            f"The model sees <b>{html.escape(top.label)}</b> ({pct}). {goal}"
        )

    def follow_settings(self, controls) -> None:
        """The words before a run follow the settings (they said "the smallest change" after Key region was chosen),
        and so does the note over a result made with others (also once a run ends that they changed during)."""
        for combo in (controls.style, controls.target_mode, controls.group, controls.mode):
            combo.currentIndexChanged.connect(self.show_hint)
        controls.target_class.currentTextChanged.connect(self.show_hint)
        for box in (controls.epsilon, controls.max_steps, controls.smoothing, controls.coarse):
            box.valueChanged.connect(self.show_hint)
        self.w.run_finished.connect(self._after_run)
        self.w.run_cancelled.connect(self._after_run)

    def _after_run(self, result) -> None:
        if result is not None:  # settings changed while it ran: the panel and the views disagreed in silence
            self.settings_note(result, during=True)

    def settings_note(self, result, during: bool = False) -> None:
        """A result is shown and a setting it was made with was changed: the views still show the result of the
        earlier settings, so the status bar says so, naming what the result was made with where it differs (it named
        the style when the target had changed, and nothing for the budget or ε); set back as they were, the status
        the note replaced comes back (retyping 200 passed through 2 and 20 and left the note on)."""
        w = self.w
        try:
            now = w.controls.settings().to_options()
        except Exception:  # noqa: BLE001 - a half-typed class: Explain will say what is wrong
            return
        old = [words for field, words in _made_with(result) if _differs(field, now, result)]
        shown = w.status_label.text()
        noted = shown.startswith(NOTE_START)
        if old:
            if not noted:
                self._before_note = shown
            w.set_status(html.escape(f"{NOTE_START}{' during the run' if during else ''}: the result shown was made "
                                     f"with {', '.join(old)}. Explain (Ctrl+Return) applies the new ones."))
        elif noted:
            w.set_status(self._before_note)

    def _on_classify_failed(self, exc: BaseException) -> None:
        w = self.w
        w.controls.show_predictions_placeholder("classification failed")
        w.views.set_caption(w.views.original, "")
        w.show_error("Classification failed", error_message(exc, "the model failed on this image"))

    # -- the picker ---------------------------------------------------------------------------------------
    def model_files(self) -> list[str]:
        value = self.w.settings.value("model/files", [])
        if isinstance(value, str):
            value = [value] if value else []
        # a Hugging Face model is a folder: it was dropped here (is_file), so it never showed in the picker
        return [str(v) for v in (value or []) if Path(str(v)).exists()][:MAX_MODEL_FILES]

    def _remember_model_file(self, path: str) -> None:
        files = [path] + [f for f in self.model_files() if f != path]
        self.w.settings.setValue("model/files", files[:MAX_MODEL_FILES])
        stamps = {**self._stamps(), path: file_stamp(path)}
        self.w.settings.setValue("model/stamps", [f"{f}\t{stamps[f]}" for f in files[:MAX_MODEL_FILES] if f in stamps])

    def _picker_entries(self, info: ModelInfo) -> list[tuple[str, str, str]]:
        entries = list(info.choices)
        keys = {e[0] for e in entries}
        for path in self.model_files():
            if path not in keys:
                # the name it loaded as this session ("Fruit net", "resnet18 (3 classes, r18.pth)"), else the file's;
                # "(file)" unless the name says it already (it read "resnet18 (3 classes, r18.pth) (file)")
                name, file = self._names.get(path, ""), Path(path).name
                kind = "folder" if Path(path).is_dir() else "file"
                entries.append((path, name if file in name and name != file else f"{name or file} ({kind})", f"model {kind} {path}"))
                keys.add(path)
        if info.key not in keys:
            entries.append((info.key, info.name, info.key))
        return entries

    def chosen(self, key: str) -> None:
        """A picker entry was chosen. A model file that changed since it was loaded (TorchScript swapped for other
        code ran at once, the trust given to the first file standing for it) opens the Load model dialog again."""
        if self.info is not None and key == self.info.key and not self.loading:  # loading: back to the loaded one
            return
        stamps = self._stamps()
        if key in stamps and stamps[key] != file_stamp(key):
            self.open_file(key, changed=True)
            return
        self.load(self._specs.get(key, key))

    def _stamps(self) -> dict[str, str]:
        """Each remembered model file's size and time of change when it was last loaded (settings "model/stamps")."""
        value = self.w.settings.value("model/stamps", [])
        lines = [value] if isinstance(value, str) else list(value or [])
        return dict(line.rsplit("\t", 1) for line in map(str, lines) if "\t" in line)

    def device_changed(self, device: str) -> None:
        if self.loading:  # another model is loading: that one, on this device (not the one it replaces)
            spec = self._pending_spec
            self.load(self._requested)
            self._pending_spec = spec  # the dialog's settings are still saved once it has loaded
        elif self.info is not None and device != self.info.device:
            self.load(self.info.source)

    # -- model files: File ▸ Load Model… ---------------------------------------------------------------------
    def load_dialog(self) -> None:
        """Choose a file, then its settings in :class:`LoadModelDialog`."""
        start = str(self.w.settings.value("model/folder", ""))  # gone since (unplugged): home, not the working dir
        path, _ = QFileDialog.getOpenFileName(self.w, "Load Model", start if start and Path(start).is_dir() else str(Path.home()), MODEL_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str, changed: bool = False) -> int:
        """Inspect ``path`` in the background; the Load model dialog opens when that is done (``changed``: chosen in
        the picker, the file changed since it was loaded: the dialog's status line says so)."""
        self._changed = str(path) if changed else None
        self.w.settings.setValue("model/folder", str(Path(path).parent))
        self.w.set_status(f"Reading {html.escape(Path(path).name)} …")
        unsaved = self._failed_specs.get(str(Path(path).resolve()))
        return self._inspect.start(inspect_model_task, str(path), unsaved).id

    def _on_inspect_failed(self, exc: BaseException) -> None:
        from gradflip_desktop.core.errors import GradFlipError

        message = str(exc) if isinstance(exc, GradFlipError) else f"{type(exc).__name__}: {exc}"
        info = self.info  # titled and ended as a failed load's dialog (two titles, and only one said what stays)
        stop = "" if message.endswith((".", "?", "!", "…")) else "."
        self.w.show_error("The model could not be loaded",
                          message + (f"{stop}\n\nStill using {info.name}." if info is not None else ""))
        self.w.model_failed.emit(message)

    def _on_inspected(self, facts: ModelFileFacts | None) -> None:
        if facts is None:
            return
        if self.dialog is not None:
            self.dialog.close()
        dlg = LoadModelDialog(facts, self.w)
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.accepted.connect(self._on_dialog_accepted)
        name = html.escape(Path(str(facts.info.path)).name)
        dlg.rejected.connect(lambda: self.w.set_status(f"{name} was not loaded (cancelled)."))  # the line below stayed
        self.dialog = dlg
        dlg.open()
        changed, self._changed = self._changed == str(facts.info.path), None
        self.w.set_status(f"{name} changed since it was loaded: check its settings and press Load." if changed
                          else f"Settings of {name}: check them and press Load.")
        self.w.model_dialog_shown.emit(dlg)

    def _on_dialog_accepted(self) -> None:
        dlg = self.dialog
        if dlg is not None and dlg.result_spec is not None:
            self.load_spec(dlg.result_spec)

    def load_spec(self, spec) -> None:
        """Load ``spec`` (the Load model dialog's settings); once it has loaded, save it as the model's sidecar
        (a failure to write is only a status message) and list the file in the picker. A model that fails to
        load leaves nothing behind: no sidecar next to the file, no picker entry."""
        self.load(spec)
        self._pending_spec = spec  # after load(), which forgets any earlier pending spec
        self.sidecar_note = ""

    def _save_loaded_spec(self) -> str:
        """The pending spec has loaded: write its sidecar, remember the file; returns the note for the status."""
        from gradflip_desktop.core.errors import ModelError
        from gradflip_desktop.core.models import files

        spec, self._pending_spec = self._pending_spec, None
        self._failed_specs.pop(str(Path(spec.path).resolve()), None)
        if spec.preprocessing is None and self.info is not None and self.info.preprocessing is not None and \
                any(w.startswith("no preprocessing settings") for w in self.info.warnings):
            # the preprocessing the load assumed (the dialog showed it: confirmed by Load), so the command line reads
            # it from the sidecar instead of warning "no preprocessing settings" at every use; what the file itself
            # gives (torchvision weights found from the tensors, timm, an ONNX input shape) is not pinned
            spec = replace(spec, preprocessing=self.info.preprocessing)
        try:
            note = f"settings saved to {files.write_sidecar(spec).name}"
        except ModelError as exc:
            note = f"the settings were not saved ({exc}); the model is still loaded"
        self._specs[str(spec.path)] = spec
        self._remember_model_file(str(spec.path))
        self.sidecar_note = note
        return note
