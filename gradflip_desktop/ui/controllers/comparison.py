"""The Compare Methods panel's engine task: GradFlip's map next to Grad-CAM, gradient saliency and (when its box
is ticked) RISE of the same photo, then the maps' deletion and insertion check (used by :mod:`.difference`)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gradflip_desktop.core.summary import any_of, no_change_reason
from gradflip_desktop.core.viz.difference import map_name

from ..worker import error_message

if TYPE_CHECKING:
    from gradflip_desktop.core.faithfulness import FaithfulnessCheck
    from gradflip_desktop.core.results import ExplainResult

    from .model_session import ModelSession


@dataclass
class ComparePanel:
    """One map of the comparison panel: H x W x 3 uint8 heat overlay (None: not available) and caption."""

    title: str
    rgb: np.ndarray | None
    caption: str
    values: np.ndarray | None = None  # the H x W float32 map


@dataclass
class Comparison:
    target: int
    panels: list[ComparePanel]
    # the maps' deletion and insertion curves on this photo (core.faithfulness), once measured
    check: "FaithfulnessCheck | None" = None
    check_note: str = ""  # why there is no check (a targeted run, stopped, failed), or "" while it is measured
    measured: str = ""  # while the check runs: how far it is ("2 of 4 maps"; tens of seconds at 1,024 px)


def no_check_note(result) -> str:
    """Why the map of a run that did not end flipped is not checked: a run cancelled after its flip did flip
    (the summary says so); "the run did not flip" under it contradicted the sentence above."""
    if result.flip_step is not None:  # cancelled (or stopped) after the decision flipped
        return "the run was stopped before its map was finished: the map is not checked"
    return "the run did not flip: its map is not checked"


def _is_group(result) -> bool:
    return getattr(result, "target", None) is None and len(getattr(result, "explained", []) or []) > 1


def explained_label(result, target: int) -> str:
    """What every map of the comparison explains: class ``target``, or a group run's group ("any cat"), whose
    Grad-CAM and saliency are of the group too (they were of its top class, and the check named a winner among maps
    of two different questions)."""
    return any_of(result.explained_name) if _is_group(result) else result.label(target)


def compare_task(task, session: "ModelSession", result: "ExplainResult", target: int, rise: bool = False,
                 rise_known: np.ndarray | None = None, rise_state: dict | None = None, checked: dict | None = None):
    """GradFlip's importance map, Grad-CAM and gradient saliency of the same image and class (a group run's: of the
    group, :func:`explained_label`) (engine thread).
    A generator: yields the :class:`Comparison` with its maps, then returns it with the maps' deletion and
    insertion curves on this photo (:func:`~gradflip_desktop.core.faithfulness.check_maps`; stops between
    model calls when the task is cancelled). ``rise``: RISE's map of the explained classes too, before the
    check (1,000 model calls; yielded again every 100 masks with its progress in its caption), or
    ``rise_known``, the map an earlier comparison of this result made. ``checked``: each map's check so far of this
    result with this model (title -> FaithfulnessCheck), filled here: a map measured before is not measured again
    (RISE stopped, then the other three maps again: ~20 s of the same model calls)."""
    from gradflip_desktop.core.attributions import feature_layer, gradcam_map, no_evidence, saliency_map
    from gradflip_desktop.core.figure import difference_overlay
    from gradflip_desktop.core.viz import maps
    from gradflip_desktop.core.viz.display import display_uint8

    clf = session.classifier
    original = result.original_pixels
    label = explained_label(result, target)  # a group run: the group, for Grad-CAM and saliency too
    asked = list(result.explained) if _is_group(result) else target
    importance = result.importance_map()
    why = no_change_reason(result)  # nothing was changed: no map (it read "… (smoothed magnitude, L2 0.000)")
    # a key-region run's map ranks how much restoring each part's detail mattered, not where its change went
    ranks = ("how much each part mattered" if getattr(result, "region_map", None) is not None
             else "where the flipping change concentrates" if result.flipped or result.flip_step is not None
             else "where the change concentrates, though it did not flip")  # no flipping change (cancelled after
    # its flip, it flipped: the progress bar says "flipped at step 5")
    panels = [
        ComparePanel("GradFlip", None, f"no map: {html.escape(why)}", None) if why else ComparePanel(
            "GradFlip",
            display_uint8(difference_overlay(result, importance)),  # as in the exported figure
            # the saved change's L2, as the Difference caption under it (not the float change's: two L2s in one window)
            f"{ranks} ({map_name(result)}; the saved change's L2 {result.l2_saved:.3f})", importance,
        )
    ]
    if clf is None or clf.labels != result.labels:
        note = "the model that made this result is no longer loaded"
        return Comparison(target, panels + [ComparePanel(t, None, note) for t in ("Grad-CAM", "Gradient saliency")
                                            + (("RISE",) if rise else ())], check_note=note)
    try:
        name, _ = feature_layer(clf.module)
        cam = gradcam_map(clf, original, asked)  # NaN: a ModelError, a failed panel, not a failed check
        blank = no_evidence(cam)  # a blank panel that was still scored
        how = (": zero everywhere (no positive evidence at this layer), so it is not checked" if blank
               else " (coarse: the layer's grid, upsampled)")
        panels.append(ComparePanel("Grad-CAM", display_uint8(maps.heat_overlay(original, cam)),
                                   f"of <b>{html.escape(label)}</b> at layer {html.escape(name)}{how}",
                                   None if blank else cam))
    except Exception as exc:  # noqa: BLE001
        panels.append(ComparePanel("Grad-CAM", None, html.escape(error_message(exc, "Grad-CAM failed"))))
    try:
        sal = saliency_map(clf, original, asked)
        panels.append(ComparePanel(
            "Gradient saliency", display_uint8(maps.heat_overlay(original, maps.magnitude_map(sal[..., None]))),
            f"|∂z/∂x| of <b>{html.escape(label)}</b> (shown smoothed like GradFlip's map; scored unsmoothed)", sal,
        ))
    except Exception as exc:  # noqa: BLE001
        panels.append(ComparePanel("Gradient saliency", None, html.escape(error_message(exc, "saliency failed"))))
    comparison = Comparison(target, panels)
    if rise:
        panels.append(ComparePanel("RISE", None, "computing: its masks"))
    if result.target is not None:  # its map ranks what brings the target on top, not the explained class's evidence
        comparison.check_note = "a targeted run's map is not checked by deletion and insertion of the explained class"
    elif not result.flipped:
        comparison.check_note = no_check_note(result)
    if comparison.check_note:
        if rise:
            panels[-1].caption = "the run's map is not checked"
        return comparison
    yield comparison  # the maps now; the curves take a few seconds more
    if rise:
        cam = yield from _rise_panel(task, clf, result, panels[-1], comparison, rise_known, rise_state)
        if cam is None:
            comparison.check_note = "stopped" if task is not None and task.cancelled else panels[-1].caption
            return comparison
    from gradflip_desktop.core.faithfulness import FaithfulnessCheck, check_maps

    group = len(result.explained) > 1
    measure = [(p.title, p.values) for p in panels if p.values is not None]
    curves: list = []
    try:  # map by map, each map's curves as check_maps measures them together; yielded between maps with the count
        for i, (title, values) in enumerate(measure):
            one = (checked or {}).get(title)
            if one is None:
                if i:
                    comparison.measured = f"{i} of {len(measure)} maps"
                    yield comparison
                one = check_maps(clf, original, {title: values}, list(result.explained),
                                 explained_name=any_of(result.explained_name) if group else result.label(result.explained[0]),
                                 stop=lambda: task.cancelled)
                if one is None:
                    break
                if checked is not None:
                    checked[title] = one
            curves += one.curves
        else:
            if measure:  # (GradFlip's map always has values: never empty today)
                comparison.check = FaithfulnessCheck(one.fill, one.explained, tuple(curves))
    except Exception as exc:  # noqa: BLE001 - the maps stay; the check says why it has no numbers
        comparison.check_note = error_message(exc, "the deletion and insertion check failed")
    comparison.measured = ""
    if comparison.check is None and not comparison.check_note:
        comparison.check_note = "the deletion and insertion check was stopped"
    return comparison


def _rise_panel(task, clf, result, panel: ComparePanel, comparison: Comparison, known: np.ndarray | None,
                state: dict | None = None):
    """Fills ``panel`` with RISE's map of the explained classes (``known``: made before), yielding the comparison
    every 100 masks with the count in the caption; returns the map, or None (stopped, or failed: the caption
    says why)."""
    from gradflip_desktop.core import attributions
    from gradflip_desktop.core.viz import maps
    from gradflip_desktop.core.viz.display import display_uint8

    cam = known
    if cam is None:
        steps = attributions.rise_steps(clf, result.original_pixels, list(result.explained), attributions.RISE_MASKS,
                                        stop=lambda: task is not None and task.cancelled, state=state)
        shown = (state or {}).get("done", 0) // 100 * 100
        try:
            while True:
                done, total = next(steps)
                if done - shown >= 100 and done < total:
                    shown = done
                    panel.caption = f"computing: {done:,}/{total:,} masks"
                    yield comparison
        except StopIteration as end:
            cam = end.value
        except Exception as exc:  # noqa: BLE001 - the other maps stay; the panel says why it has none
            panel.caption = html.escape(error_message(exc, "RISE failed"))
            return None
        if cam is None:
            panel.caption = "stopped"
            return None
    what = html.escape(any_of(result.explained_name) if len(result.explained) > 1 else result.label(result.explained[0]))
    # shown from its lowest value up: RISE's values are probabilities around the class's mean (0.56-0.76 on the cat)
    panel.rgb, panel.values = display_uint8(maps.heat_overlay(result.original_pixels, rise_shown(cam))), cam
    panel.caption = f"of <b>{what}</b>: {attributions.RISE_MASKS:,} random 7×7 masks, black elsewhere (Petsiuk et al. 2018)"
    yield comparison
    return cam


def rise_shown(cam: np.ndarray) -> np.ndarray:
    """RISE's map as the panel draws it: from its lowest value up (its values are probabilities around the class's
    mean, 0.56-0.76 on the cat), the lowest of the part the model sees (a cropping model's map is 0 outside its crop,
    and from 0 up the whole crop showed near the top of the scale)."""
    seen = cam[cam > 0] if bool((cam > 0).any()) else cam
    return np.clip(cam - float(seen.min()), 0.0, None)


__all__ = ["ComparePanel", "Comparison", "compare_task", "explained_label", "no_check_note", "rise_shown"]
