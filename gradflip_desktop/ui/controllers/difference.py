"""The Difference view, the key-pixel explorer and the comparison panel (View ▸ Compare Methods).

Maps are drawn by :func:`gradflip_desktop.core.viz.difference.render_difference` in the background
thread; key-pixel checks and Grad-CAM/saliency run in the engine thread, which owns the classifier
(a Grad-CAM hook must never see the forward passes of a running explanation).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from gradflip_desktop.core.options import is_broad_region, is_large_region
from gradflip_desktop.core.summary import alone_probabilities, any_of, fill_base, region_action, share
from gradflip_desktop.core.viz.difference import (
    KEY_PIXELS, KEY_TINT_MAX_FRACTION, SMOOTHED_MAGNITUDE, DiffImage, DiffRequest, blur_name, map_name,
)

from ..worker import TaskSlot, error_message
from .comparison import Comparison, compare_task, explained_label, no_check_note  # noqa: F401 - re-exported

if TYPE_CHECKING:
    from gradflip_desktop.core.results import ExplainResult, KeyPixels, KeyRegion

    from ..main_window import MainWindow
    from .model_session import ModelSession

# The live Difference view (during a run) is redrawn at most this often: a 1024 px map is ~70 ms of
# CPU in the background thread, which on a small machine competes with the model and the GUI thread.
LIVE_DIFF_INTERVAL_S = 0.3


@dataclass
class DiffSource:
    """What the Difference view shows: a finished result (``delta``, key pixels, blur amount) or a live
    preview during a run (``adjusted``; the change is computed when drawn)."""

    original: np.ndarray
    delta: np.ndarray | None = None
    adjusted: np.ndarray | None = None
    key_pixels: "KeyPixels | KeyRegion | None" = None  # the key set: anything with mask_for(k)
    blur_amount: np.ndarray | None = None
    importance: np.ndarray | None = None  # the region style's map
    blur_name: str = "blur amount"  # the region style's mask: "detail removed"
    name: str = SMOOTHED_MAGNITUDE  # what the magnitude mode shows (core.viz.difference.map_name); a preview: the change
    fill: np.ndarray | None = None  # the key region's fill-in: its mode shows the photo with only the region replaced

    @property
    def live(self) -> bool:
        return self.adjusted is not None


@dataclass
class KeyPixelAnswer:
    count: int
    top: list  # list[Prediction], top-3
    explained: float | None = None  # the explained class's probability there (a group's: its sum)


# ---- tasks ----------------------------------------------------------------------------------------------

def render_task(task, request: DiffRequest) -> DiffImage:
    from gradflip_desktop.core.viz.difference import render_difference

    return render_difference(request)


def outline_task(task, mask: np.ndarray, kind: str = "pixels", dark: bool = False) -> np.ndarray:
    """The layer over the Original (background thread), H x W x 4 uint8: the key region as the figure draws
    it (yellow line, the rest dimmed; lifted on a ``dark`` photo), or the outline around the key pixels."""
    if kind == "region":
        from gradflip_desktop.core.viz.maps import key_region_layer, outline_scale

        # a small photo's layer is drawn larger (ImagePanel.set_overlay lays it over the photo at its size)
        return key_region_layer(mask, outline_scale(mask.shape), dark)
    from gradflip_desktop.core.viz.difference import key_outline

    return key_outline(mask)


@dataclass
class KeySet:
    """What the key explorer works on: the key region (region style) or the key pixels.

    ``found``: the smallest set that flips (where the slider starts); ``total``: the largest set;
    ``mask_for(k)`` and ``image_for(k)`` come from the core (the image its own search classified)."""

    kind: str  # "region" or "pixels"
    found: int
    total: int
    flips: bool
    prediction: object  # Prediction
    source: object  # KeyRegion or KeyPixels

    def mask_for(self, k: int) -> np.ndarray:
        return self.source.mask_for(k)


def key_set(result: "ExplainResult") -> KeySet | None:
    region = getattr(result, "key_region", None)
    if region is not None and getattr(result, "fill_pixels", None) is not None:
        h, w = result.original_pixels.shape[:2]
        return KeySet("region", region.pixels, h * w, region.flips, region.prediction, region)
    kp = result.key_pixels
    if kp is not None:
        return KeySet("pixels", kp.count, kp.changed, kp.flips, kp.prediction, kp)
    return None


def key_answer_text(kind: str, k: int, n: int, prediction, flips: bool, fill: str = "blur",
                    target: str | None = None, dark: bool = False, smallest_flip: int | None = None,
                    paren: str | None = None) -> str:
    """The explorer's answer for the top ``k`` of ``n`` pixels (rich text): ``key pixels: 412 pixels, 0.3 % of
    the image, flip it to tiger cat (51.0 %; Egyptian cat now 22.3 %)``; for a key region ``key region: 3.1 % of the
    image (4,210 pixels), removing its detail flips it to tabby (41.2 %; Egyptian cat now 30.1 %)``; ``smallest_flip``: the pixels of the smallest region
    the run found to flip (a broad slider choice says "no small region does it" only when that one is broad too).
    Worded as the figure's caption: a region filled with its ``fill`` (e.g. the mean colour, when blurring could
    not flip) says so, and a targeted run's set that does not reach ``target`` says it does not make it that class.
    ``dark``: the photo is dark, so the veil over the rest lightens it (:func:`core.viz.maps.is_dark`), and the
    words say so. ``paren``: the class's probabilities as the sentence words them ("26.2 %; drilling platform now 18.4 %":
    the explained class's there too, which the window showed nowhere else), instead of the class's alone ("51.2 %":
    a set that does not flip, or one read from a record written before its ``explained_probability``)."""
    label = f"<b>{html.escape(prediction.label)}</b> ({class_share(prediction, paren)})"
    plural = "s" if k != 1 else ""
    miss = f"make it {html.escape(target)}" if target else "flip it"
    if kind == "region":
        # the layer over the Original dims all but the region (core.viz.maps.key_region_layer): beside the Adjusted
        # view a dimmed Original read as a large change (the caption said "invisible")
        dimmed = f"; the Original is {'lightened' if dark else 'dimmed'} outside it" if 0 < k < n else ""
        what = f"key region: {share(k / max(1, n))} of the image ({k:,} pixel{plural}{dimmed})"
        if is_large_region(k / max(1, n)) and k < n:  # drawn hatched (core.viz.maps.key_region_layer), as in the figure
            what = f"key region: {share(k / max(1, n))} of the image, hatched: most of it ({k:,} pixels)"
        base, found = fill_base(fill)  # worded as the figure's caption (a search's fade toward the mean colour too)
        verb = ("removing its detail" if base.startswith("blur") else f"fading it toward the {html.escape(base)}" if found
                else f"filling it with the {html.escape(base)}")
        if flips:
            # over a quarter of the image: not called a small part, as the sentence and the figure say it
            smallest = k if smallest_flip is None else min(k, smallest_flip)  # a 1.7 % region that flips: a small region does it
            broad = ("no small region does it: " if is_broad_region(smallest / max(1, n))
                     and not is_large_region(k / max(1, n)) else "")
            return f"{what}, {broad}{verb} flips it to {label}"
        return f"{what}, {verb} does not {miss}: {label}"
    what = f"key pixels: {k:,} pixel{plural}, {share(k / max(1, n))} of the image"
    if k > KEY_TINT_MAX_FRACTION * n:  # not tinted on the Original (key_outline): spread out, only a few marks showed
        what += " (Difference ▸ Key-pixel outline shows each)"
    if flips:
        return f"{what}, flip it to {label}"
    return f"{what}, do not {miss}: {label}"


def class_share(prediction, paren: str | None = None) -> str:
    """A class's probability as the explorer's answer and the Key region alone caption write it (rich text): ``paren``,
    the sentence's words, when given, else its own ("51.2 %")."""
    return html.escape(paren) if paren else f"{100 * prediction.probability:.1f} %"


def alone_caption(fill: str, seen: str = "") -> str:
    """The Difference panel's caption while it shows the key region alone, worded by the region's fill-in as the
    figure's caption is (:func:`~gradflip_desktop.core.summary.region_action`); ``seen`` (rich text): what the model
    sees in that image, first, as the other two panels' captions name their class ("<b>jigsaw puzzle</b> — 6.2 %")."""
    what = html.escape(region_action(fill, 'only the outlined region'))
    # (what the image is for, the tooltip says: with a class that wraps, "…: the image the key-region line classifies"
    # went past the caption's 3 lines)
    return f"{seen}<br>{what}" if seen else f"{what}: the image the key-region line classifies"


def key_pixels_task(task, session: "ModelSession", result: "ExplainResult", count: int) -> KeyPixelAnswer:
    """Classify the image with only the ``count`` top pixels of the key set changed
    (``result.key_region_image(count)`` or ``result.key_pixel_image(count)``: the image the core's own
    search classifies; engine thread)."""
    if session.classifier is None:
        raise ValueError("no model is loaded")
    keys = key_set(result)
    if keys is not None and keys.kind == "region":  # the 8-bit image, as KeyRegion.prediction's answer
        image = result.key_region_image(count)
    else:
        image = result.key_pixel_image(count)
    clf = session.classifier
    probs = clf.probabilities(image)
    top = clf.classify(image, 3) if not np.all(np.isfinite(probs)) else clf.top(probs, 3)  # classify says what is wrong
    return KeyPixelAnswer(count, top, float(probs[list(result.explained)].sum()))


def no_key_set_note(result, region: bool) -> str:
    """The status line when the key-set mode shows a finished run that has no key set: "the key region is
    found after the flip" was said of runs that had flipped and of runs that will never flip."""
    name = "key region" if region else "key pixels"
    if result.flip_step is None:
        return f"No {name}: the run did not flip" + (" (nothing to flip)" if result.status == "nothing_to_flip" else "")
    return f"No {name}: the run stopped after the flip, before {'it was' if region else 'they were'} found"


# ---- the controller ---------------------------------------------------------------------------------------

class DifferenceController(QObject):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.w = window
        self.source: DiffSource | None = None
        self.keys: KeySet | None = None
        self._dark = False  # the shown result's photo is dark: its key region's veil lifts (core.viz.maps.is_dark)
        self._target: str | None = None  # the targeted class of the shown result (None: untargeted)
        self._live_t = 0.0  # when the live Difference view was last requested
        self._render = TaskSlot(window.background, self._on_rendered, on_error=self._on_failed, parent=self)
        self._key = TaskSlot(window.engine, self._on_key_answer, on_error=self._on_failed, parent=self)
        self._compare = TaskSlot(window.engine, self._on_checked, self._on_compared, self._on_compare_failed, parent=self)
        self._outline = TaskSlot(window.background, self._on_outline, on_error=self._on_failed, parent=self)
        self._shown: Comparison | None = None  # the comparison whose maps are shown
        self._compare_paused = False  # its check gave way to a key-set answer: made again after it
        self._compare_due = False  # asked for while its tab was not shown: made when the tab is shown
        self._rise: tuple[object, np.ndarray] | None = None  # (result, RISE's map of it): not made twice
        self._rise_state: tuple[object, dict] | None = None  # (result, its RISE so far): a stopped RISE goes on
        self._checks: tuple[object, object, dict] | None = None  # (result, model, each map's check): not measured twice
        window.compare.set_rise_shown(str(window.settings.value("view/compare_rise", "false")).lower() in ("1", "true"))
        window.compare.rise_box.toggled.connect(self.set_rise)

    # -- what is shown -------------------------------------------------------------------------------------
    def set_result(self, result: "ExplainResult") -> None:
        """A finished (or cancelled) run: its change, key pixels and (when shown) the comparison."""
        from gradflip_desktop.core.summary import no_change_reason
        from gradflip_desktop.core.viz.maps import is_dark

        keys = self.keys = key_set(result)
        self.w.views.set_no_map(no_change_reason(result))  # no change, no map: no colour bar over an all-zero one
        self._dark = is_dark(result.original_pixels)  # the key region's veil lifts a dark photo (as the figure)
        target = getattr(result, "target", None)
        self._target = target.label if target is not None else None  # a targeted run's class (the answer names it)
        if keys is not None:
            self.w.views.set_key_pixels(keys.total, keys.found, "Key region" if keys.kind == "region" else "Key pixels")
            self.w.views.set_key_answer(self._key_text(keys.found, keys.prediction, keys.flips,
                                                       getattr(keys.source, "explained_probability", None)))
            self._outline.start(outline_task, keys.mask_for(keys.found), keys.kind, self._dark)
        self.request_compare()
        self.source = DiffSource(
            result.original_pixels, result.delta, key_pixels=keys.source if keys is not None else None,
            blur_amount=result.blur_amount, importance=getattr(result, "region_map", None), blur_name=blur_name(result),
            name=map_name(result), fill=result.fill_pixels if keys is not None and keys.kind == "region" else None,
        )
        self.request()

    def show_live(self, original: np.ndarray, adjusted: np.ndarray) -> None:
        """A preview during a run; redrawn at most every LIVE_DIFF_INTERVAL_S (the result always is)."""
        self.source = DiffSource(original, adjusted=adjusted)
        now = time.perf_counter()
        if now - self._live_t >= LIVE_DIFF_INTERVAL_S:
            self._live_t = now
            self.request()

    def clear(self, compare_text: str | None = None) -> None:
        self.source = None
        self.w.views.name_magnitude(None)
        self.keys = None
        self._target = None
        self._live_t = 0.0
        self._render.discard()
        self._key.discard()
        self._compare.discard()
        self._compare_paused = self._compare_due = False
        self._rise = self._rise_state = self._checks = None  # the shown result's: another result comes next
        self._outline.discard()
        if compare_text is None:
            self.w.compare.clear()
        else:
            self.w.compare.clear(compare_text)

    def settings_changed(self) -> None:
        self.w.settings.setValue("view/difference_mode", self.w.views.mode)
        self.w.settings.setValue("view/difference_opacity", self.w.views.opacity)  # restored as the mode is
        self.request()

    def request(self) -> None:
        src, views = self.source, self.w.views
        if src is None:
            return
        kp = src.key_pixels
        count = views.key_count if kp is not None else None
        self._render.start(render_task, DiffRequest(
            views.mode, src.original, src.delta, None, views.opacity,  # the mask: kp.mask_for(count), drawn there
            views.gain, src.adjusted, kp, count, src.blur_amount, importance=src.importance, blur_name=src.blur_name,
            name=src.name,
            reduce=views.original.display_factor() if src.live else 1, fill=src.fill,
        ))

    def _on_rendered(self, diff: DiffImage | None) -> None:
        if diff is None or self.source is None:
            return
        self.w.views.show_difference(diff)
        self.w.views.name_magnitude(self.source.name)  # the entry names the map as its colour bar (and the figure) do
        if diff.mode == KEY_PIXELS and diff.note:
            # the core's note names key pixels; a key-region run finds a region instead
            region = self.w.views.key_set_is_region
            if not self.source.live and self.w.result is not None:  # a finished run without a key set
                note = no_key_set_note(self.w.result, region)
                self.w.views.show_no_key_set(html.escape(note))
            else:
                note = ("The key region is found after the flip: until then the third panel shows the change so far"
                        if region else diff.note.replace("this panel", "the third panel"))
            self.w.set_status(html.escape(note))
        self.w.difference_shown.emit(diff)

    def _on_failed(self, exc: BaseException) -> None:
        self.w.set_status(html.escape(error_message(exc, "could not draw the difference")))

    # -- key-pixel explorer ------------------------------------------------------------------------------
    def _key_text(self, k: int, prediction, flips: bool, explained: float | None = None) -> str:
        image = self.w.image
        n = image.size[0] * image.size[1] if image is not None else 1
        kind = self.keys.kind if self.keys is not None else "pixels"
        fill = str(getattr(self.keys.source, "fill", "blur")) if kind == "region" else "blur"
        found = self.keys.found if self.keys is not None and self.keys.flips else None
        paren, result = None, self.w.result
        if flips and explained is not None and result is not None:  # as the sentence words a key region's
            paren = alone_probabilities(result, prediction, explained)
        if not flips and explained is not None and result is not None and len(result.explained) > 1:
            # a group run's set that does not flip it: the group stays on top ("any cat (95.1 %)", not its best member)
            from gradflip_desktop.core.models import Prediction

            prediction = Prediction(-1, any_of(result.explained_name), explained)  # the group, not a class (index -1)
        if kind == "region":  # the Key region alone panel names what the model sees there, as the line does
            seen = f"<b>{html.escape(prediction.label)}</b> — {class_share(prediction, paren)}"
            self.w.views.set_alone_caption(alone_caption(fill, seen))
        return key_answer_text(kind, k, n, prediction, flips, fill, self._target, self._dark, found, paren)

    def key_count_changed(self, k: int) -> None:
        self.request()
        result = self.w.result
        if result is None or self.keys is None or self.w.runs.running:
            return
        self._outline.start(outline_task, self.keys.mask_for(k), self.keys.kind, self._dark)
        what = "key region" if self.keys.kind == "region" else "key pixels"
        self.w.views.set_key_answer(f"{what}: {k:,} pixels → classifying …")
        self.pause_compare()  # the comparison holds the engine for seconds: the slider's answer first, then it again
        self._key.start(key_pixels_task, self.w.models.session, result, k)

    def _on_outline(self, rgba: np.ndarray | None) -> None:
        if rgba is not None and self.w.result is not None:
            self.w.views.original.set_overlay(rgba)
            self.w.outline_shown.emit(rgba)

    def _on_key_answer(self, answer: KeyPixelAnswer | None) -> None:
        result = self.w.result
        if answer is None or result is None:
            return
        top = answer.top[0]
        self.w.views.set_key_answer(self._key_text(answer.count, top, result.is_flip(top.index), answer.explained))
        self.w.key_answer_shown.emit(answer)
        self.resume_compare()

    # -- comparison panel ----------------------------------------------------------------------------------
    def set_compare_visible(self, visible: bool) -> None:
        """View ▸ Compare Methods: the comparison's tab beside the views', opened when it is added (the two one above
        the other left a 1366×768 laptop's photos 89 px tall); removed, its work stops."""
        w = self.w
        tabs, shown = w.view_tabs, w.view_tabs.indexOf(w.compare) >= 0
        w.compare_action.setChecked(bool(visible))
        w.settings.setValue("view/compare", bool(visible))
        if visible and not shown:
            tabs.addTab(w.compare, "Compare Methods")
            tabs.setCurrentWidget(w.compare)
        elif not visible and shown:
            tabs.setCurrentWidget(w.views)  # the focus leaves the page it hides (removeTab left it on a hidden box)
            tabs.removeTab(tabs.indexOf(w.compare))
            w.compare.hide()
        if visible:
            self.request_compare()
        else:  # its maps and check are seconds of engine time nobody sees; shown again, they are made again
            self._compare.discard()
            self._compare_due = False  # made when it is added again (not twice: by the tab and by this)
            self.w.update_actions()  # RISE stopped: Cancel (Esc) greyed again (it stayed on, and unticked RISE)

    def request_compare(self) -> None:
        """Make the comparison of the shown result, while its tab is the one shown: behind the Explanation tab RISE
        held the engine for up to a minute after each run, Cancel on and no progress in sight."""
        result = self.w.result
        if result is None or not self.w.compare_action.isChecked():
            return
        if self.w.view_tabs.currentWidget() is not self.w.compare:
            return self._defer_compare()
        self._compare_due = False
        target = result.target.index if result.target is not None else result.original.index
        self.w.compare.heading.setText(
            f"Computing Grad-CAM and gradient saliency of <b>{html.escape(explained_label(result, target))}</b> …"
        )
        rise = self.w.compare.rise_box.isChecked()
        known = self._rise[1] if rise and self._rise is not None and self._rise[0] is result else None
        if self._rise_state is None or self._rise_state[0] is not result:
            self._rise_state = (result, {})
        session = self.w.models.session
        if self._checks is None or self._checks[0] is not result or self._checks[1] is not session.classifier:
            self._checks = (result, session.classifier, {})  # another photo, result or model: measured anew
        self._compare.start(compare_task, session, result, target, rise, known, self._rise_state[1], self._checks[2])
        self.w.update_actions()  # Esc (Cancel) stops RISE while it computes

    def tab_changed(self) -> None:
        """The Compare Methods tab shown: its comparison, when one is due; left: its work stops (RISE keeps its masks)
        and goes on when it is shown again."""
        if self.w.view_tabs.currentWidget() is self.w.compare:
            if self._compare_due:
                self.request_compare()
        elif self._compare.busy:
            self._defer_compare()

    def _defer_compare(self) -> None:
        """The comparison is made when its tab is shown: any under way (another result's, or this one's) stops now,
        RISE keeping its masks, and Cancel greys."""
        self._compare_due = True
        if self._compare.busy:
            self._compare.discard()
            self.w.update_actions()

    @property
    def rise_running(self) -> bool:
        """RISE's map of the shown result is being made (1,000 model calls): Esc stops it (:meth:`cancel`)."""
        made = self._rise is not None and self._rise[0] is self.w.result
        return self._compare.busy and self.w.compare.rise_box.isChecked() and not made

    def cancel(self) -> None:
        """Esc (Cancel) while RISE computes: as unticking "RISE too" (the masks so far are kept; ticking it again
        goes on from them). Esc stopped runs only, and RISE held the engine for a minute."""
        self.w.compare.rise_box.setChecked(False)

    def pause_compare(self) -> None:
        """Another engine task must not wait behind the comparison (RISE holds the engine for a minute): it is
        stopped between model calls (RISE keeps its masks so far) and made again by :meth:`resume_compare`."""
        if self._compare.busy:
            self._compare.discard()
            self._compare_paused = True
            self.w.update_actions()

    def resume_compare(self) -> None:
        if self._compare_paused and not self._key.busy:
            self._compare_paused = False
            self.request_compare()

    def set_rise(self, on: bool) -> None:
        """The Compare panel's RISE box: remembered, its panel shown or hidden, the comparison made again (RISE's
        map is kept per result: ticking it again does not make it twice). Stopped mid-way (Esc, or the box), the
        status bar says so: the panel went away and the bar still said "Done: …", as if nothing had been stopped."""
        made = self._rise is not None and self._rise[0] is self.w.result
        stopped = not on and self._compare.busy and not made
        self.w.settings.setValue("view/compare_rise", bool(on))
        self.w.compare.set_rise_shown(on)
        self.request_compare()
        if stopped:
            from gradflip_desktop.core.attributions import RISE_MASKS

            done = int((self._rise_state[1] if self._rise_state is not None else {}).get("done", 0))
            self.w.set_status(f"RISE stopped after {done:,} of {RISE_MASKS:,} masks: they are kept, and ticking "
                              "“RISE too” goes on from them.")

    def _on_compare_failed(self, exc: BaseException) -> None:
        self.w.compare.heading.setText(html.escape(error_message(exc, "the comparison failed")))
        self.w.update_actions()

    def _on_compared(self, comparison: Comparison | None) -> None:
        if comparison is None or self.w.result is None:
            return
        result = self.w.result
        self.w.compare.show_comparison(comparison, html.escape(explained_label(result, comparison.target)))
        rise = next((p.values for p in comparison.panels if p.title == "RISE" and p.values is not None), None)
        if rise is not None:
            self._rise = (result, rise)
            self.w.update_actions()  # RISE is done: Esc has nothing of it to stop
        self._shown = comparison
        self.w.comparison_shown.emit(comparison)

    def _on_checked(self, comparison: Comparison | None) -> None:
        """The comparison with its deletion and insertion curves (or why it has none)."""
        if comparison is None or self.w.result is None:
            return
        if self._shown is not comparison:  # no partial arrived (the check was skipped): the maps too
            self._on_compared(comparison)
        self.w.compare.show_check(comparison.check, comparison.check_note)
        self.w.update_actions()
        self.w.faithfulness_shown.emit(comparison)
