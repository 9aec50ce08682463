"""Which model and settings a folder run's results come from, against the loaded model and the side panel's
settings (:mod:`.folders` asks it).

A folder run keeps its own model (:class:`.folder_tasks.RunModel`). Loading another model after it left the gallery's
tiles ("→ tabby cat"), its title and Export All as they were, read as the new model's answers. While the loaded model
is not the run's (its records' "model" entry: name, preprocessing, labels, the weights' digest; a device change is the
same model, so is a copy of the weights under another name):

- the finished tiles are dimmed with a badge naming the run's model; their tooltips and the panel's title say so;
- Continue becomes Explain Again: the folder explained with the loaded model, after the question Open Folder asks
  about results never exported (Export All first, or drop them);
- a click on a finished tile opens its photo, classified by the loaded model, not the other model's explanation;
- Export All still copies the run's results, whose records and summary.csv name their model; its status line says
  whose they are.

Loading the run's model again takes the mark away.

Choosing another style, target or group after a run (the same model) says so in the title ("… · explained with the
smallest change style, not with the key region style as now chosen") and Continue becomes Explain Again, with the
settings chosen now; the tiles are not dimmed: they are the run's answers, made with its settings.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from ..widgets.gallery import FLIPPED, NOT_FLIPPED
from ..widgets.gallery_mark import ask_explain_again, show_settings_mark

if TYPE_CHECKING:
    from .folders import FoldersController


def _plain(entry: dict) -> dict:
    return json.loads(json.dumps(entry, sort_keys=True, default=str))  # tuples as lists, as a record stores them


def _differences(run, now) -> tuple[str, str] | None:
    """How a run's style, target and group differ from the panel's, in words for "Explained {made}, not {now} as now
    chosen": ("with the key region style and for any cat", "with the smallest change style and for the top class");
    None when they do not."""
    from gradflip_desktop.core.options import STYLE_NAMES
    from gradflip_desktop.core.summary import any_of

    made, chosen = [], []
    for a, b, say in (
        (run.style or "region", now.style or "region", lambda v: f"with the {STYLE_NAMES.get(v, v)} style"),
        (run.target, now.target, lambda v: "without a target" if v is None else f"toward {v}"),
        (run.group or None, now.group or None, lambda v: "for the top class" if v is None else f"for {any_of(str(v))}"),
    ):
        if (None if a is None else str(a)) != (None if b is None else str(b)):
            made.append(say(a))
            chosen.append(say(b))
    return (" and ".join(made), " and ".join(chosen)) if made else None


def same_model(run: dict, info) -> bool:
    """Is the run's model (its records' ``model`` entry) the loaded one (a :class:`.model_session.ModelInfo`)?"""
    if not info.identity:  # a ModelInfo made by hand (tests, tools): its name
        return run.get("name") == info.name
    from gradflip_desktop.core.dataset.inputs import same_weights

    a, b = _plain(run), _plain(info.identity)
    alike = same_weights(a, b)  # the same weights under another file name (`cp model.pth copy.pth`)
    return all(a.get(k) == b.get(k) for k in set(a) | set(b) if k not in alike)


class FolderModelMark(QObject):
    def __init__(self, folders: FoldersController) -> None:
        super().__init__(folders)
        self.f = folders
        folders.w.model_ready.connect(lambda _info: self.refresh())
        c = folders.w.controls  # the settings a run was made with, against the panel's (style, target, group)
        for combo in (c.style, c.target_mode, c.group):
            combo.currentIndexChanged.connect(lambda *_: self.refresh())
        c.target_class.currentTextChanged.connect(lambda *_: self.refresh())

    @property
    def settings(self) -> tuple[str, str] | None:
        """(the run's settings, the panel's) in words while they differ in style, target or group
        (:func:`_differences`), once an image of the run is done and while no other model is loaded (that mark says
        more); None otherwise."""
        f, run = self.f, self.f._options
        done = any(t.state in (FLIPPED, NOT_FLIPPED) for t in f.panel.tiles.values())
        if run is None or not done or self.other is not None:
            return None
        try:  # the user's own choice: a link of one photo's answer ("Explain 'any cat'") is for that photo only
            now = f.w.runs.one_off.to_save(f.w.controls.settings()).to_options()
        except Exception:  # noqa: BLE001 - a half-typed class: Explain says what is wrong
            return None
        return _differences(run, now)

    @property
    def other(self) -> str | None:
        """The run's model's name while another model is loaded; None: the same model, or not known yet (no image of
        the run explained, no model loaded)."""
        run, info = getattr(self.f._model, "identity", None), self.f.w.model_info
        done = any(t.state in (FLIPPED, NOT_FLIPPED) for t in self.f.panel.tiles.values())  # none: nothing to mark
        if not run or info is None or not done or same_model(run, info):
            return None
        name = str(run.get("name") or "another model")
        if name == info.name:  # the same file, trained again or loaded with other settings: "first.pt, not the loaded first.pt"
            now = info.identity or {}
            return f"{'earlier weights' if run.get('file_sha256') != now.get('file_sha256') else 'other settings'} of {name}"
        return name

    def refresh(self) -> None:
        """The gallery marked, or not: after a model has loaded, the settings changed, or an image of the run done."""
        info = self.f.w.model_info
        self.f.panel.mark_other_model(self.other, info.name if info is not None else "", self.f.running)
        show_settings_mark(self.f.panel, self.settings, self.f.running)

    def tile_note(self, result) -> str:
        """Why a click on a finished tile opens its photo instead of ``result`` (its explanation): made with a model
        no longer loaded, whose captions and classes disagree with the loaded model's (empty: it is shown)."""
        info, other = self.f.w.model_info, self.other
        if info is not None and (other or info.name != result.model_name or list(info.labels) != list(result.labels)):
            return f"it was explained with {other or result.model_name}, not the loaded {info.name}"
        return ""

    def export_note(self) -> str:
        """Said after Export All: whose results were copied, while another model is loaded."""
        other, info = self.other, self.f.w.model_info
        return f" (explained with {other}, not the loaded {info.name})" if other and info is not None else ""

    def explain_again(self) -> bool:
        """Continue's button while the gallery is marked: the folder explained again with the loaded model, after the
        question about results never exported. False: not marked (the button continues the run)."""
        f, other, settings = self.f, self.other, self.settings
        if other is None and settings is None:
            return False
        if f.running or f.folder is None:
            return True
        folder, recursive, loaded = f.folder, f.recursive, f.w.model_info.name
        if other is None:  # other settings: the question names them
            other, loaded = f"the run's settings ({settings[0]})", f"the settings chosen now ({settings[1]})"
        if not Path(folder).is_dir():  # gone since (moved, unplugged): its results and their Export All stay
            f.w.set_status(html.escape(f"{folder} is no longer a folder: it cannot be explained again"))
            return True

        def again() -> None:
            f.open_folder(folder, recursive)

        if f._export.busy:  # the session folder Export All copies from: dropped once it is done
            f._after_export = again
            f.w.set_status("Export All is still copying the results: the folder is explained again once it is done")
            return True
        done = f._unexported()
        answer = ask_explain_again(f.panel, done, other, loaded) if done else "drop"
        if answer == "export":  # Export All first (its folder dialog), then explain again
            f._after_export = again
            f._export_first()
        elif answer == "drop":
            again()
        return True
