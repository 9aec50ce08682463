"""The annotated figure of an explanation (``NAME.figure.png``): its panels, title, subtitle and captions.

Panels: original | adjusted | importance map | key region | key region alone (the photo with only the region's
detail removed: the image the key region's claim is about), or key pixels; the summary sentence above them.
:mod:`.report` writes it into the result set; the app's Export and Copy Figure and the gallery draw from here too."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .images import to_uint8
from .images.pixels import said_notes
from .models.prep_fields import CROPS
from .options import SMALL_REGION, is_broad_region
from .results import ExplainResult
from .summary import alone_probabilities, alone_text, any_of, apart, fill_verb, levels_text, no_change_reason, pct, pct1, share, steps_text, summary_sentence
from .viz import maps
from .viz.difference import SMOOTHED_MAGNITUDE, entry, map_name
from .viz.fonts import figure_font
from .viz.text import fit_lines as _fit, short_labels


def _fmt_pred(p) -> str:
    return f"{p.label} ({pct1(p.probability)})"


def difference_overlay(result: ExplainResult, importance: np.ndarray | None = None) -> np.ndarray:
    """``NAME.difference.png`` and the figure's third panel: the importance map as heat over the photo."""
    return maps.heat_overlay(result.original_pixels, result.importance_map() if importance is None else importance)


def describe_change(result: ExplainResult) -> str:
    """The size of the saved 8-bit change (the image whose class the figure names; the window's numbers too).
    The saved change is computed once here (``l2_saved`` and ``linf_saved`` would each compute it again)."""
    d = result.saved_delta.astype(np.float64)
    l2 = float(np.linalg.norm(d))
    linf = float(np.abs(d).max()) if d.size else 0.0
    rms = l2 / max(1.0, float(d.size)) ** 0.5
    sizes = f"L2 {l2:.3f} · max {linf * 255:.1f}/255 · RMS {levels_text(rms * 255)}/255"
    why = no_change_reason(result)
    if why is not None:  # nothing was searched: whatever differs is the saved image's 8-bit rounding
        return f"no change ({why})" if l2 == 0.0 else f"no change ({why}); 8-bit rounding only: {sizes}"
    return sizes


def key_region_caption(kr) -> str:
    """The figure's caption under the key region: what changing it alone gives, or, when no region flips
    alone (a targeted run whose target removing detail does not reach), what changing all of it gives."""
    verb = fill_verb(kr.fill)  # worded as the sentence: a blur, a fill-in, or the search's fade part-way
    if kr.flips and kr.large:  # hatched: most of the image, so no small region does it
        return f"no small region flips it; {verb} in {share(kr.fraction)} (hatched) → {kr.prediction.label}"
    if kr.flips and is_broad_region(kr.fraction):  # outlined, but too broad to call a small part (summary.py)
        return f"no small region flips it; {verb} in {share(kr.fraction)} → {kr.prediction.label}"
    if kr.flips:  # under 1 % the region is boxed (dashed) so that it can be found: the caption says what the box is
        boxes = maps.dashed_boxes(kr.mask) if 0.0 < kr.fraction < SMALL_REGION else 0  # far-apart blobs: a box each
        boxed = "" if not boxes else " (in the dashed box)" if boxes == 1 else " (in the dashed boxes)"
        found = (" (found by trying ninths of the photo alone)" if getattr(kr, "window", False) else  # may lie off the
                 " (away from the map's brightest parts)" if getattr(kr, "off_map", False) else "")  # map's bright parts
        return f"{verb} in {share(kr.fraction)}{boxed}{found} → {kr.prediction.label}"
    return f"no region alone flips it; {verb} everywhere gives {kr.prediction.label}"


def figure_title(result: ExplainResult) -> str:
    """The figure's first line: model, what was explained → what it became, and how the run ended. A group
    run names the group ("any cat (Egyptian cat 79.0 %)"), as the sentence and the CLI do."""
    verdict = "flipped" if result.flipped else result.status.replace("_", " ")
    # two decimals where one reads the same for both: a near tie flipped "binoculars (17.1 %) → tripod (17.1 %)"
    was, now = apart(result.original.probability, result.final.probability)
    before = f"{result.original.label} ({was})"
    group = sum(float(result.original_probabilities[i]) for i in result.explained) if len(result.explained) > 1 else 0
    if len(result.explained) > 1 and result.original.index in result.explained:
        # "any cat (97.2 %; Egyptian cat 79.0 %)": the group's sum first, as the sentence's "any cat (97 %)" below it
        before = f"{any_of(result.explained_name)} ({pct1(group)}; {result.original.label} {was})"
    elif len(result.explained) > 1:  # a group run on a photo of another class: never "any cat (military uniform …)"
        before = f"{result.original.label} ({was}; {any_of(result.explained_name)} {pct(group)})"
    kr = getattr(result, "key_region", None)  # as the CLI ends: the region alone gives another class (its panel)
    alone = f" · key region alone → {kr.prediction.label}" if kr and kr.flips and kr.prediction.index != result.final.index else ""
    return f"GradFlip · {result.model_name} · {before} → {result.final.label} ({now}) ({verdict}){alone}"


def figure_subtitle(result: ExplainResult) -> str:
    """The figure's second line: steps, model evaluations, time and step settings ("1 step", not "1 steps")."""
    g, f = result.gradient_evaluations, result.forward_evaluations
    chosen = "" if result.target is None else f"target chosen: {result.target.label} · "  # a targeted run says so
    return chosen + (
        f"{steps_text(len(result.steps))}, {g} gradient + {f} forward evaluation{'' if g + f == 1 else 's'}, "
        f"{result.seconds:.1f} s · mode {result.options.mode}, epsilon {result.options.epsilon:g}"
    )


MIN_SLOT = 220  # px: the narrowest panel column (a tall photo's heading and caption still fit beside the next)
PANORAMA_ASPECT = 5  # wider than this many times its height: the panels go one per row
ROW_WIDTH = 1040  # px: a panorama's panel width (one per row)


def original_caption(result: ExplainResult, notes: list[str] | None = None) -> str:
    """The Original panel's caption: the prediction, then how the file became what the model saw (the
    loading notes: scaled to the working size, composited on white, the first of several frames)."""
    told = [n for n in said_notes(notes) if n.strip()]
    return " · ".join([_fmt_pred(result.original), *told])


def render_figure(result: ExplainResult, panel_height: int = 360, importance: np.ndarray | None = None,
                  notes: list[str] | None = None) -> np.ndarray:
    """Annotated figure: original | adjusted | difference | key pixels, with captions. uint8 H x W x 3.
    A panorama (wider than :data:`PANORAMA_ASPECT` times its height) has one panel per row instead of
    panels squashed to a strip; a tall, narrow photo sits in a column at least :data:`MIN_SLOT` wide.

    ``importance``: ``result.importance_map()`` when the caller has it already (computed here otherwise);
    ``notes``: the image's loading notes, under the Original (:func:`original_caption`).
    """
    result = short_labels(result)  # a model's sentence-long labels: cut, the numbers after them kept
    orig = result.original_pixels
    h, w = orig.shape[:2]
    scale = min(1.0, panel_height / h) if h > panel_height else panel_height / h
    pw, ph = max(1, round(w * scale)), max(1, round(h * scale))
    rows = w > PANORAMA_ASPECT * h  # a panorama: one panel per row, wide enough to see something
    if rows:
        scale = ROW_WIDTH / w
        pw, ph = ROW_WIDTH, max(1, round(h * scale))
    elif pw > 520:  # keep very wide images readable
        pw, ph = 520, max(1, round(h * 520 / w))
    slot = max(pw, MIN_SLOT)  # a tall, narrow image sits in a column wide enough for its heading and caption
    adjusted = result.adjusted_uint8.astype(np.float32) / 255.0
    changed = describe_change(result)
    mattered = result.region_map is not None  # the region style's map is its search's importance, not the change
    crops = str((result.model_settings or {}).get("resize", "")).split(" ")[0] in CROPS  # a map of the crop only
    panels = [
        (orig, "Original", original_caption(result, notes)),
        # the change's size goes with the image it measures (it sat under the map, in other units than the map's)
        (adjusted, "Adjusted", f"{_fmt_pred(result.final)} · change: {changed}" if changed.startswith("L2")
         else f"{_fmt_pred(result.final)} · {changed}"),
        # headed as the window's third panel: a run's map by its name, the textbook change's "Difference", its
        # caption naming the mode the window's Difference box shows ("Smoothed magnitude" was the figure's heading)
        (difference_overlay(result, importance), "Difference" if (plain := map_name(result) == SMOOTHED_MAGNITUDE)
         else entry(map_name(result)),
         f"no map: {why}, so the photo was not changed" if (why := no_change_reason(result)) else  # no 0.5 % scale
         ("smoothed magnitude: " if plain else "") + f"bright = {'mattered' if mattered else 'changed'} most, dark = "
         f"{'not at all' if mattered else 'unchanged'} (full brightness: this photo's top 0.5 %)"
         + ("; none outside the centre the model crops: it never sees that" + ("" if mattered else ", so nothing changes there")
            if crops else "")),
    ]
    kp = result.key_pixels
    kr = result.key_region
    if kr is not None:
        # drawn at least at the panel's size: on a small photo's own grid the outline hid the region
        panels.append((maps.key_region_overlay(orig, kr.mask, maps.outline_scale(kr.mask.shape, max(pw, ph))),
                       "Key region", key_region_caption(kr)))
        said_alone = alone_text(result)
        if said_alone is not None and result.fill_pixels is not None:
            # the image the key region's claim is about (the app's Difference ▸ Key region alone): the photo with
            # only the region's detail removed, as the key-region search classified it (8-bit), outlined
            panels.append((maps.key_region_overlay(result.key_region_image(), kr.mask,
                                                   maps.outline_scale(kr.mask.shape, max(pw, ph)), veil=False),
                           "Key region alone", said_alone))
    if kp is not None:
        panels.append(
            (
                # drawn at least at the panel's size, as the key region is: on a small photo's own grid the
                # red outline covered whole pixels beside each key pixel
                maps.key_pixel_overlay(orig, kp.mask, maps.outline_scale(kp.mask.shape, max(pw, ph))),
                "Key pixels",
                # with the probabilities as the window's explorer words them: a set that wins by 0.02 points
                # ("37.28 %; espresso now 37.26 %") read as a clear flip under the class's name alone
                f"{kp.count:,} px ({share(kp.fraction)}) alone give {kp.prediction.label}"
                + (f" ({alone_probabilities(result, kp.prediction, kp.explained_probability)})" if kp.flips else ""),
            )
        )
    pad, cap_h, title_h = 12, 46, 58
    width = pad + (slot + pad if rows else len(panels) * (slot + pad))

    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    title = figure_title(result)
    sub_text = figure_subtitle(result)
    said = summary_sentence(result)
    font = figure_font([title, sub_text, said, *(head + caption for _, head, caption in panels)])
    f_title, f_cap, f_small = font(20), font(15), font(13)
    # every text fits its place (long class names wrap; never drawn over the next panel or off the figure)
    titles = _fit(measure, title, f_title, width - 2 * pad, 3)
    sub = _fit(measure, sub_text, f_small, width - 2 * pad, 3)
    sentence = _fit(measure, said, f_cap, width - 2 * pad, 8)
    heads = [_fit(measure, head, f_cap, slot, 1)[0] for _, head, _ in panels]
    captions = [_fit(measure, caption, f_small, slot, 4) for _, _, caption in panels]
    down = 24 * (len(titles) - 1) + 17 * (len(sub) - 1)
    title_h += down + 20 * len(sentence)
    cap_h += 17 * (max(len(c) for c in captions) - 1)
    height = title_h + (len(panels) * (ph + cap_h) if rows else ph + cap_h) + pad
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(titles):
        draw.text((pad, 10 + 24 * i), line, fill=(20, 20, 20), font=f_title)
    for i, line in enumerate(sub):
        draw.text((pad, 34 + 24 * (len(titles) - 1) + 17 * i), line, fill=(90, 90, 90), font=f_small)
    for i, line in enumerate(sentence):
        draw.text((pad, 54 + down + 20 * i), line, fill=(20, 20, 20), font=f_cap)
    for i, (img, _, _) in enumerate(panels):
        x, y = (pad, title_h + i * (ph + cap_h)) if rows else (pad + i * (slot + pad), title_h)
        im = Image.fromarray(to_uint8(img))  # (the key region's panel of a small photo is larger than the photo)
        im = im.resize((pw, ph), Image.Resampling.LANCZOS if im.width > pw else Image.Resampling.NEAREST)
        canvas.paste(im, (x + (slot - pw) // 2, y))
        # a thin grey frame: a photo whose transparency was composited on white had no visible edge on the white page
        draw.rectangle((x + (slot - pw) // 2 - 1, y - 1, x + (slot - pw) // 2 + pw, y + ph), outline=(200, 200, 200))
        draw.text((x, y + ph + 5), heads[i], fill=(20, 20, 20), font=f_cap)
        for j, line in enumerate(captions[i]):
            draw.text((x, y + ph + 25 + 17 * j), line, fill=(60, 60, 60), font=f_small)
    return np.asarray(canvas)
