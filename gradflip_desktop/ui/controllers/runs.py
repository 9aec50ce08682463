"""What the Explain button does: run the core's explanation in the engine thread and show it live.

The run task iterates :func:`gradflip_desktop.core.explain.explain` and sends, as partial results, one
:class:`RunStart` and then :class:`StepBatch` es (steps at most ~20 times a second, an adjusted-image
preview about 10 times a second). Cancel stops the run within one step; the state reached is shown.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from gradflip_desktop.core.options import Status
from gradflip_desktop.core.results import Progress
from gradflip_desktop.core.summary import class_range as spread, hardly_apart

from ..settings import TARGET_GROUP, RunSettings
from ..widgets.elision import LEGEND_CHARS, elide_end
from ..worker import TaskSlot, error_message
from .answer import answer_link, done_message, summary_html, window_words
from .one_off import OneOffChoice

if TYPE_CHECKING:
    from gradflip_desktop.core.results import ExplainResult, Step

    from ..main_window import MainWindow
    from .model_session import ModelSession

PHASE_TEXT = {  # what a step of each phase of the run is doing, for the progress bar (short: ~340 px, no wrapping)
    "eight_bit": "making it survive 8-bit saving",
    "sharpen": "sharpening the map past the flip",
    "restore": "importance map (restoring detail)",
    "feature_groups": "importance map (feature regions)",
    "key_region": "finding the key region",
}
PREVIEW_INTERVAL_S = 0.1  # adjusted-image previews: about 10 per second
BATCH_INTERVAL_S = 0.05  # step records are sent in batches at most 20 times per second


@dataclass
class RunStart:
    """Sent when a run starts: which classes are explained and which class is the target."""

    explained: list[int]  # empty: the top class of the image
    explained_name: str
    target: int | None
    budget: int


def cancelled_status(steps: int) -> str:
    """The status line of a cancelled run that had started: no "state reached" to show before its first step
    (Esc right after Explain said "Cancelled after 0 steps; the state reached is shown.")."""
    if steps:
        return f"Cancelled after {steps} step{'' if steps == 1 else 's'}; the state reached is shown."
    return "Cancelled before the first step; the photo is unchanged."


@dataclass
class StepBatch:
    """Steps reached since the last batch, and (at most ~10/s) the current adjusted image."""

    steps: list["Step"]
    preview: np.ndarray | None  # H x W x 3 float32 in [0, 1], or None
    budget: int
    phase: str = "search"
    preview_uint8: np.ndarray | None = None  # the same preview as 8-bit, ready to show
    # preview_uint8 reduced to about the Adjusted panel's size, by (x, y) factor (the GUI thread need not downsample
    # it when painting); the full-size preview_uint8 stays what is shown
    preview_reduced: dict[tuple[int, int], np.ndarray] | None = None


@dataclass
class RunOutcome:
    """A finished (or cancelled) run, and what the window says about it, computed off the GUI thread
    (the saved change's size takes a few full-image passes on a 1024 px photo)."""

    result: "ExplainResult"
    summary: str = ""
    linf_saved: float = 0.0
    l2_saved: float = 0.0

    @classmethod
    def of(cls, result: "ExplainResult") -> "RunOutcome":
        from gradflip_desktop.core.summary import summary_sentence

        return cls(result, window_words(summary_sentence(result)), result.linf_saved, result.l2_saved)


@dataclass
class PreviewSize:
    """The Adjusted panel's display factor, written by the window, read by the run (any thread)."""

    factor: int = 1


def explain_task(task, session: "ModelSession", pixels: np.ndarray, settings: RunSettings, size: PreviewSize):
    """The run (engine thread): yields a RunStart, then StepBatches; returns a RunOutcome."""
    from gradflip_desktop.core.explain import explain
    from gradflip_desktop.core.viz.display import box_downsample, display_uint8

    clf = session.classifier
    if clf is None:
        raise ValueError("no model is loaded")
    if settings.device and settings.device != str(clf.device):
        clf.to(settings.device)
    options = settings.to_options()
    gen = explain(clf, pixels, options, should_stop=lambda: task.cancelled)
    budget = int(options.max_steps)
    target = None if options.target is None else clf.find_class(options.target)
    # a group is resolved here; otherwise the explained class is the top class, which the window
    # already knows from classifying the image (explained stays empty)
    name, explained = clf.find_group(options.group) if options.group is not None else ("", [])
    yield RunStart(list(explained), name, target, budget)
    batch: list[Step] = []
    last_preview = last_emit = 0.0
    phase = ""  # the last Progress's phase: a new one is shown at once, whatever the interval
    while True:
        try:
            step = next(gen)
        except StopIteration as done:
            result = done.value
            break
        now = time.perf_counter()
        if isinstance(step, Progress):  # a key-region pass: no step, no image; its count, ~20 times a second
            if now - last_emit >= BATCH_INTERVAL_S or step.phase != phase:
                if batch:
                    yield StepBatch(batch, None, budget, batch[-1].phase)
                    batch = []
                yield step
                last_emit, phase = now, step.phase
            continue
        if batch and batch[-1].phase != step.phase:  # one phase per batch: the bar names it (3 "sharpen" steps sent
            yield StepBatch(batch, None, budget, batch[-1].phase)  # with the first "restore" ones read "restore")
            batch, last_emit = [], now
        preview = None
        # step.image() is only valid now, before the generator resumes
        if step.flipped or now - last_preview >= PREVIEW_INTERVAL_S:
            preview = step.image()
            last_preview = now
        batch.append(step)
        if preview is not None or now - last_emit >= BATCH_INTERVAL_S:
            u8 = None if preview is None else display_uint8(preview)
            f = size.factor
            reduced = {(f, f): box_downsample(u8, f)} if u8 is not None and f > 1 else None
            yield StepBatch(batch, preview, budget, step.phase, u8, reduced)
            batch, last_emit = [], now
    if batch:
        yield StepBatch(batch, None, budget, batch[-1].phase)
    return RunOutcome.of(result)


def _pct(p: float) -> str:
    return f"{100 * p:.1f} %"


def status_text(status) -> str:
    """``"budget exhausted"`` for the status ``budget_exhausted``."""
    return str(getattr(status, "value", status)).replace("_", " ")


def progress_text(result: "ExplainResult", flip_step: int | None) -> str:
    """The progress bar after a run: "flipped at step 3 · 19 steps in all · 5.4 s" when steps followed the
    flip (the region style's sharpen and flip-back search, the 8-bit check), so it agrees with the plot's
    flip line and the Adjusted caption; else "flipped · 3 steps · 1.2 s" or the status."""
    from gradflip_desktop.core.summary import steps_text

    n = len(result.steps)
    if result.flipped and flip_step is not None and flip_step < n:
        return f"flipped at step {flip_step} · {n} steps in all · {result.seconds:.1f} s"
    return f"{'flipped' if result.flipped else status_text(result.status)} · {steps_text(n)} · {result.seconds:.1f} s"


def progress_tip(result: "ExplainResult", flip_step: int | None) -> str:
    """The progress bar's tooltip after a run: what the steps after the flip were for (the plot draws the
    steps up to the saved image only; "19 steps in all" left 16 of them unexplained)."""
    n = len(result.steps)
    base = "Gradient steps taken of the step budget. Orange: the run ended without a flip."
    if flip_step is None or flip_step >= n:  # a run cancelled past its flip too: its later steps are not plotted
        return base
    later = {str(getattr(s, "phase", "")) for s in result.steps[flip_step:]}
    why = []
    if later & {"sharpen", "restore"}:
        why.append("sharpen the mask and search back from the detail-removed photo, to rank the areas of the "
                   "importance map and the key region")
    if "eight_bit" in later:
        why.append("make the saved 8-bit image flip too")
    what = " and ".join(why) or "refine the result"
    return (f"Steps 1–{flip_step} searched for the flip (the plot's curves); steps {flip_step + 1}–{n} {what} "
            "(not plotted). " + base)


class RunsController(QObject):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.w = window
        self._slot = TaskSlot(window.engine, self._on_done, self._on_partial, self._on_error, parent=self)
        self.preview = PreviewSize()
        self._start: RunStart | None = None
        self._summary: tuple | None = None  # (result, its sentence, the links after it)
        self.one_off = OneOffChoice()  # what the answer's links chose: for this photo only, never saved

    @property
    def running(self) -> bool:
        return self._slot.busy

    @property
    def task(self):
        """The current run's task (None: no run)."""
        return self._slot.task

    # -- requests ----------------------------------------------------------------------------------------
    def explain(self) -> None:
        """Start a run on the current image; a running one is cancelled first (and not heard from again)."""
        w = self.w
        if w.images.loading:  # another photo is opening (a link in the sentence, a key): not the one it replaces
            w.why_not_explain()
            return
        if w.image is None or w.models.info is None or w.models.loading:
            return
        settings = w.controls.settings()
        clf = getattr(w.models.session, "classifier", None)
        try:  # a target or group the model does not have: said now, the shown result untouched (string matching only)
            options = settings.to_options()
            if clf is not None and options.target is not None:
                label = clf.labels[clf.find_class(options.target)]  # a unique beginning ("cowboy h") shows its class:
                if settings.target_class != label and not settings.target_class.lstrip("#").isdigit():  # the box, the
                    w.controls.target_class.setEditText(label)  # gallery's title and the saved setting said "cowboy h"
                    settings = w.controls.settings()  # (the next start's model dropped it, no label being "cowboy h")
            if clf is not None and options.group is not None:
                clf.find_group(options.group)
        except Exception as exc:  # noqa: BLE001 - ModelError, ValueError: the message names the problem
            message = error_message(exc, "the settings do not fit this model")
            # the user just pressed Explain and reads the status bar; the field to fix gets the focus (a modal
            # box for a typo in the class name, then a click back into the field, was one step too many)
            w.show_error("Cannot explain", message, box=False)
            field = w.controls.group if settings.target_mode == TARGET_GROUP else w.controls.target_class
            field.setFocus()
            if field.lineEdit() is not None:
                field.lineEdit().selectAll()
            w.run_failed.emit(message)
            return
        self._slot.discard()
        self.one_off.to_save(settings).save(w.settings)
        w.result = None
        w.difference.clear("The maps appear here when the run has finished.")
        self._start = None
        self.preview.factor = w.views.original.display_factor()
        task = self._slot.start(explain_task, w.models.session, w.image.pixels, settings, self.preview)
        w.views.clear_result()
        w.views.name_key_set("Key region" if settings.style == "region" else "Key pixels")
        w.views.adjusted.set_image(w.image_u8)
        w.views.set_caption(w.views.adjusted, "starting …")
        w.views.reset_gain()
        w.plot.clear(w.models.info.labels)
        w.views.set_summary("Explaining … the probabilities appear below, step by step (Esc cancels).")
        w.controls.show_progress(0, settings.max_steps, "starting …")
        w.set_status("Explaining … (Esc cancels)")
        w.update_actions()
        w.run_started.emit(task.id)

    def cancel(self) -> None:
        """Stop the run at its next step; it reports the state reached."""
        if self.running:
            self._slot.cancel()
            self.w.controls.set_progress_text("cancelling …")
            self.w.set_status("Cancelling …")

    def stop(self) -> None:
        """Cancel the run and stop listening to it (a new image or model)."""
        self._slot.discard()
        self.w.update_actions()

    # -- partial results -----------------------------------------------------------------------------------
    def _on_partial(self, value) -> None:
        if isinstance(value, RunStart):
            self._on_started(value)
        elif isinstance(value, StepBatch) and value.steps:
            self._on_steps(value)
        elif isinstance(value, Progress):
            self.w.controls.show_progress(0, 0, f"{PHASE_TEXT.get(value.phase, value.phase)}: pass {value.passes} …")

    def _explained_now(self) -> tuple[list[int], str, int | None]:
        start = self._start
        classification = self.w.models.classification
        top = classification.top[0] if classification else None
        if start is not None and start.explained:
            return start.explained, start.explained_name, start.target
        if top is not None:
            return [top.index], top.label, start.target if start else None
        return [], "", None

    def _on_started(self, start: RunStart) -> None:
        w = self.w
        self._start = start
        explained, name, target = self._explained_now()
        classification = w.models.classification
        if classification is not None and explained:
            w.plot.start(w.models.info.labels, explained, name, classification.probabilities, target, target is not None)
        w.controls.show_progress(0, start.budget, f"step 0 / {start.budget}")

    def _on_steps(self, batch: StepBatch) -> None:
        w = self.w
        if w.plot.rows:
            w.plot.add_steps(batch.steps)
        last = batch.steps[-1]
        if last.phase == "search":
            w.controls.show_progress(
                min(last.index, batch.budget), batch.budget,
                f"step {last.index} / {batch.budget}" + (" – flipped, finishing …" if last.flipped else ""),
            )
        else:
            w.controls.show_progress(0, 0, f"step {last.index}: {PHASE_TEXT.get(last.phase, last.phase)} …")
        if last.phase not in ("search", "eight_bit"):  # steps on other images (the map's restore search)
            w.run_progress.emit(batch)
            return
        labels = w.models.info.labels if w.models.info else []
        top = int(np.argmax(last.probabilities))
        name = labels[top] if top < len(labels) else f"class {top}"
        w.views.set_caption(
            w.views.adjusted,
            f"step {last.index}: <b>{html.escape(name)}</b> — {_pct(float(last.probabilities[top]))}"
            + (" (flipped)" if last.flipped else ""),
        )
        w.views.set_change_caption(f"L2 {last.l2:.3f} · max {last.linf * 255:.1f}/255 (so far)")
        if batch.preview is not None and w.image is not None:
            w.views.adjusted.set_image(batch.preview_uint8, reduced=batch.preview_reduced)
            self.preview.factor = w.views.original.display_factor()
            w.difference.show_live(w.image.pixels, batch.preview)
        w.run_progress.emit(batch)

    # -- suggestions in the summary ------------------------------------------------------------------------
    def suggestions(self, result: "ExplainResult") -> list[str]:
        """Links after the summary: the whole built-in group when the flip stayed inside it (Egyptian cat → tiger cat:
        "Explain 'any cat'"); the textbook change after another style, the key region after a textbook run."""
        from gradflip_desktop.core.explain.runner import stops_every_style

        links = []
        if stops_every_style(result):  # a constant model: no other style or class has a key region to find either
            return links
        groups = self.w.models.info.groups if self.w.models.info is not None else {}
        if not result.flipped or result.target is not None or len(result.explained) != 1 or hardly_apart(
                spread(result.original_probabilities)):  # a model that hardly tells classes apart: nor groups
            groups = {}
        for name, members in groups.items():
            if result.original.index in members and result.final.index in members:
                links.append(answer_link(f"group:{name}", f"Explain “any {name}”"))
                break
        nothing = str(result.status) == Status.ALREADY  # no change was searched: another style cannot help
        if (getattr(result.options, "group", None) is not None and not result.flipped) or (
                nothing and result.target is not None):
            # a group chosen in the panel (a link's is for this photo only) on an espresso says "nothing to flip": the
            # way back is one click; a chosen class the model already sees: explaining why it sees it is one click too
            links.append(answer_link("target:top", "Explain the top class"))
        if nothing:
            return links
        if getattr(result.options, "style", "free") != "free":
            links.append(answer_link("style:free", "Textbook change"))
        else:  # and back: a textbook style chosen in the panel stays, so the way back is one click too
            links.append(answer_link("style:region", "Key region"))
        return links

    def follow_link(self, href: str) -> None:
        """A link of the summary: change the one setting it names, for this photo only, and explain again."""
        kind, _, value = href.partition(":")
        current = self.w.controls.settings()
        if kind == "group":
            current = self.one_off.apply(current, target_mode="group", group=value)
        elif kind == "style":
            current = self.one_off.apply(current, style=value)
        elif kind == "target" and value == "top":
            current = self.one_off.apply(current, target_mode="top")  # the group stays chosen in its box
        else:
            return
        self.w.controls.set_settings(current)
        self.explain()

    def refresh_summary(self) -> None:
        """Show the result's sentence, its last clause worded for the Difference mode shown ("the bright areas
        show …" is the importance map's; in the signed map white is no change)."""
        from gradflip_desktop.core.summary import summary_sentence
        from gradflip_desktop.core.viz.difference import MAGNITUDE

        if self._summary is None or self._summary[0] is not self.w.result:
            return
        result, sentence, links = self._summary
        if self.w.views.mode != MAGNITUDE:  # the run's sentence is the importance map's (the figure's too)
            sentence = window_words(summary_sentence(result, self.w.views.mode))
        self.w.views.set_summary(summary_html(sentence, links))

    # -- the end ----------------------------------------------------------------------------------------
    def _on_done(self, outcome: RunOutcome | None) -> None:
        w = self.w
        if outcome is not None and outcome.result.status != Status.CANCELLED:
            self._show_result(outcome.result, outcome)
            w.update_actions()
            w.run_finished.emit(outcome.result)
            return
        result = outcome.result if outcome is not None else None
        if outcome is not None:
            self._show_result(result, outcome)
            w.set_status(cancelled_status(len(result.steps)))
        else:  # cancelled before it started
            w.views.adjusted.set_image(None)
            w.views.set_caption(w.views.adjusted, "")
            w.set_status("Cancelled.")  # and the summary no longer says "Explaining … (Esc cancels)" (a folder run's turn)
            w.views.set_summary(cancelled_status(0))
        n, flip = (len(result.steps), result.flip_step) if result else (0, None)  # the plot's flip line is at `flip`
        # a flip at the last step taken is said too ("cancelled at step 6" beside a sentence saying it flipped there)
        w.controls.set_progress_text(f"cancelled at step {n}" if flip is None or flip > n else
                                     f"flipped at step {flip} · cancelled at step {n}")
        w.update_actions()
        w.run_cancelled.emit(result)

    def _on_error(self, exc: BaseException) -> None:
        w = self.w
        message = error_message(exc, "the explanation failed")
        w.controls.reset_progress("failed")
        # no result: the Adjusted panel kept the photo the run started from (or its last preview) under no caption,
        # as if a change had changed nothing, and the Difference panel the last preview's map under "… so far"
        w.difference.clear("The explanation failed: no maps to compare.")
        w.views.clear_result()
        # said once ("The explanation failed: the explanation failed: RuntimeError: …" where the message has it)
        context = "the explanation failed"
        said = "The explanation failed" + (message[len(context):] if message.startswith(context) else ": " + message)
        w.views.set_summary(html.escape(said))
        w.show_error("The explanation failed", message)
        w.update_actions()
        w.run_failed.emit(message)

    def _show_result(self, result: "ExplainResult", outcome: RunOutcome | None = None) -> None:
        """A finished or cancelled run. Every number shown is the saved 8-bit image's (``result.final``),
        the same as in the plot's saved point, the summary and the exported record."""
        from gradflip_desktop.core.summary import any_of, levels_text, no_change_reason, steps_text, visibility

        outcome = outcome or RunOutcome.of(result)
        w = self.w
        w.result = result
        w.difference.set_result(result)
        w.plot.show_result(result)
        w.views.adjusted.set_image(result.adjusted_uint8)
        self._summary = (result, outcome.summary, self.suggestions(result))
        self.refresh_summary()
        final, orig = result.final, result.original
        n = len(result.steps)
        flip_step = result.flip_step
        eight_bit = next((s.index for s in result.steps if s.phase == "eight_bit"), None)
        last_step = max((s.index for s in result.steps if s.phase in ("search", "eight_bit")), default=n)
        steps_8 = f"Step {eight_bit} made" if eight_bit == last_step else f"Steps {eight_bit}–{last_step} made"  # not "Steps 5–5"
        eight_bit_note = f" {steps_8} the flip survive 8-bit saving." if eight_bit is not None else ""
        # a group run flipped "any cat" (as the summary and the plot say), not only its top class
        explained = any_of(result.explained_name) if len(result.explained) > 1 else orig.label
        if result.flipped:
            verdict = f"flipped from {html.escape(explained)} at step {flip_step if flip_step is not None else n}"
        else:
            # no "after 0 steps" ("nothing to flip after 0 steps", "stalled after 0 steps")
            verdict = html.escape(status_text(result.status)) + (f" after {steps_text(n)}" if n else "")
        levels = 255.0 * outcome.linf_saved
        looks = visibility(levels)
        note = f" It looks the same: the change is {looks}; see Difference." if looks == "invisible" else ""
        w.views.set_caption(
            w.views.adjusted,
            f"<b>{html.escape(final.label)}</b> — {_pct(final.probability)} (saved image) · {verdict}",
            f"The saved image: the adjusted pixels rounded to 8 bits, as exported ({result.adjusted_uint8.shape[1]}"
            f"×{result.adjusted_uint8.shape[0]} px). Its probabilities are the plot's last point.{eight_bit_note}{note}",
        )
        rms = outcome.l2_saved / max(1.0, float(result.delta.size)) ** 0.5
        # each figure kept with its name ("· L2" at a line's end and "14.445" below it)
        sizes = (f"at most&nbsp;{levels:.1f}/255 per value ({looks}) · RMS&nbsp;{levels_text(255 * rms)}/255 · "
                 f"L2&nbsp;{outcome.l2_saved:.3f}")
        why = no_change_reason(result)  # nothing searched: a difference is only the 8-bit rounding of the photo
        w.views.set_change_caption(
            f"change: {sizes}" if why is None else f"no change ({why})"
            + ("" if outcome.l2_saved == 0.0 else f"; 8-bit rounding only: {sizes}"),
            "How large the change is, in 8-bit levels (0–255 is black to white):\n"
            "• at most: the largest change of any colour value of any pixel;\n"
            "• RMS: the typical change per value (root mean square);\n"
            "• L2: the length of the whole change (square root of the sum of squared changes, values in 0–1).\n"
            "Up to about 4/255 is invisible to the eye.",
        )
        budget = int(getattr(result.options, "max_steps", n) or n)
        text = progress_text(result, flip_step)
        w.controls.progress.setToolTip(progress_tip(result, flip_step))
        if result.flipped:
            w.controls.show_outcome(1, 1, text, ok=True)
        else:  # not a success: the bar shows the share of the budget used, in the warning colour
            w.controls.show_outcome(min(n, budget), max(1, budget), text, ok=False)
        msg = done_message(result)  # a group's names the group; the key region's class when it is another
        # a model's sentence-long class names are cut (the status bar does not wrap: uncut, "flipped to “dog”"
        # was pushed off the window); the tooltip has the whole message
        short = re.sub("“([^”]+)”", lambda m: f"“{elide_end(m.group(1), LEGEND_CHARS)}”", msg)
        w.set_status(("Done: " if result.flipped else "Finished: ") + html.escape(short) + f" ({result.seconds:.1f} s). "
                     "Export with Ctrl+E.", tip=msg if short != msg else "")
