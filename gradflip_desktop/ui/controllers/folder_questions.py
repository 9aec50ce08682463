"""The questions over a folder run's explanations never exported (kept in a session folder until GradFlip closes):
before another folder replaces the run, before the window closes; and how many there are (those the last Export All
copied are exported). Functions of the :class:`~.folders.FoldersController` ``f``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..widgets.gallery import FLIPPED, NOT_FLIPPED

if TYPE_CHECKING:
    from collections.abc import Callable
    from .folders import FoldersController


def unexported(f: FoldersController) -> int:
    """The run's finished explanations that were never exported (0: none, or exported, or being exported)."""
    done = f.counts[FLIPPED] + f.counts[NOT_FLIPPED]
    # less those the last Export All copied (2 more from Include subfolders: all 21 were "never exported")
    return 0 if f.out is None or f.exported is not None or f._export.busy else max(0, done - f.exported_done)


def may_drop_run(f: FoldersController, then: Callable[[], None] | None = None) -> bool:
    """Another folder replaces the run's session folder, as closing the window removes it: with finished
    explanations never exported, only after the user agrees. "Export All…" exports first (the run stopped)
    and calls ``then`` once the export is done; False is returned then, as for Cancel."""
    if f._export.busy and then is not None:  # Export All still copying (this question's, or the button's):
        f._after_export = then  # opened now, it discarded the export and deleted the folder it copied from
        f.w.set_status("Export All is still copying the results: the other folder opens once it is done")
        return False
    if not (done := unexported(f)):
        return True
    answer = f.panel.ask_drop(done, f.running)
    if answer == "export":
        f._after_export = then
        f._export_first()
    return answer == "drop"


def may_close(f: FoldersController) -> bool:
    """Closing the window removes the session folder: first ask whether finished explanations that were
    never exported should be (Export All; mid-run after stopping the run), unless told not to ask; while Export
    All copies, whether to close anyway."""
    if f._export.busy and f.ask_on_close:
        target = f._export_target

        def question() -> str:  # the copy can end while the question is open: it then said "still copying" over
            if f._export.busy:  # a status bar that read "Exported 106 files"
                return (f"Export All is still copying the results to {target}. Close anyway? "
                        "The copy stops unfinished; wait, and close once the status bar says it is done.")
            if f.exported is not None:
                return f"Export All has finished: the results are in {target}. Close GradFlip?"
            return f"Export All has stopped: {f.export_error or 'see the status bar'}. Close GradFlip?"
        return f.panel.confirm(question(), "Close GradFlip", live=question)
    done = unexported(f)
    if not done or not f.ask_on_close or not asks_on_close(f):
        return True
    answer, quiet = f.panel.ask_close(done, f.running)
    if not f.ask_on_close:  # Ctrl+C or SIGTERM while the question was open: the session is ending
        return True
    if quiet and answer:
        f.w.settings.setValue("folders/ask_on_close", False)
        f.ask_close_action.setChecked(False)
    if answer == "export":  # once exported the window closes, as asked (no folder chosen, or a failure: it stays)
        f._after_export = f.w.close
        f._export_first()
        if not f.ask_on_close:  # ended while Export All's folder dialog was open
            return True
    return answer == "close"


def asks_on_close(f: FoldersController) -> bool:
    return str(f.w.settings.value("folders/ask_on_close", "true")).lower() in ("true", "1")
