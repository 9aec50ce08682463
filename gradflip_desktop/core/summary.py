"""One plain-language sentence about a result, for the window (above the views) and the exported figure.

Torch-free and Qt-free: it reads an :class:`~gradflip_desktop.core.results.ExplainResult` (or anything
with the same fields) and returns plain text, e.g.

    Changing pixels by at most 3/255 (invisible) turns Egyptian cat (79 %) into tiger cat (31 %): the bright areas show where.

With a key region (the ``region`` style), the sentence names it: "Removing detail in the outlined 3 %
of the image turns Egyptian cat (79 %) into tabby (41 %): ...". The numbers are the saved 8-bit image's (``result.final``, ``result.linf_saved``): what is exported is
what is described. The sentence adapts to the style (free / blur), the target (top class, a chosen
class, a group), and to runs that did not flip (budget, nothing to flip, cancelled, stopped).
"""

from __future__ import annotations

from .options import Status, is_broad_region, is_large_region
from .percent import (  # noqa: F401 - the number words are imported from here too
    INVISIBLE_LEVELS, SUBTLE_LEVELS, _digits_apart, _pct_digits, _whole_percent, apart, class_range, count_text,
    levels_text, pct, pct1, steps_text, visibility,
)
from .results import FOUND_BY_SEARCH

# in the message of a region run whose fully detail-removed photo keeps the class (explain/runner.py)
NO_DETAIL_FLIP = "removing all the detail does not flip it either"


def _explained_text(result) -> tuple[str, float]:
    """What was explained and its probability in the original: ``("any cat", 0.97)`` or ``("Egyptian cat", 0.79)``."""
    explained = list(result.explained)
    probs = result.original_probabilities
    if len(explained) > 1:
        return any_of(result.explained_name), float(sum(float(probs[i]) for i in explained))
    return result.original.label, float(result.original.probability)


def _grouped(result) -> bool:
    """A group run ("any cat"): its numbers are the group's sum, never set beside one class's share in the photo."""
    return len(list(result.explained)) > 1


def _explained_now(result) -> float:
    explained = list(result.explained) or [result.original.index]
    return float(sum(float(result.final_probabilities[i]) for i in explained))


def _now(result, name: str) -> str:
    """The flipped-to class's probability in the saved image, and what the explained class (a group: its sum)
    still has there when that is close (a near tie: "37.1 %; espresso now 37.0 %") or a group ("21 %; any cat
    now 52 %": a group flips when a class outside it is the top one, while the group's sum may stay higher)."""
    top, now = float(result.final.probability), _explained_now(result)
    if _grouped(result):
        return _group_now(top, now, name)
    if top - now < 0.02:
        return _tie(top, now, name)
    return pct(top)


def _group_now(top: float, now: float, name: str) -> str:
    """A group run's new class beside the group's sum. A group flips when a class outside it is the top single
    class, while the sum can stay far ahead: "hyena (4.4 %; any dog now 39 %)" read as if the dogs were gone, so
    then the words say which lead the new class has ("4.4 %, the top single class; any dog still 39 % in all")."""
    if now > top:
        a, b = apart(top, now) if now - top < 0.02 else (pct(top), pct(now))  # "30 % ... still 30 %" read as no lead
        return f"{a}, the top single class; {name} still {b} in all"
    if top - now < 0.02:  # a near tie told apart, as a single class's ("30 %; any dog now 30 %" showed no flip)
        return _tie(top, now, name)
    return f"{pct(top)}; {name} now {pct(now)}"


def any_of(group: str) -> str:
    """How a group run names what it explained: "any cat", and "any of classes 281-285" for index ranges (whose
    name is "classes …": "any classes 281-285" read wrong); a range of one class, `--group 281`, is "class 281"
    ("any of classes 281" read as several)."""
    if group.startswith("classes "):
        rest = group[len("classes "):].strip()
        return f"class {rest}" if rest.isdigit() else f"any of {group}"
    return f"any {group}"


def _tie(top: float, now: float, name: str) -> str:
    """The new class's probability and the explained class's, told apart ("4.75 %; French horn now 4.69 %";
    equal to two decimals: "13.33 %; ballpoint just below it")."""
    a, b = apart(top, now)
    return f"{a}; {name} just below it" if a == b else f"{a}; {name} now {b}"


FLAT_SPREAD = 0.01  # every class within this of the others: the model hardly depends on the photo, and the words say so
HARDLY = "the model hardly tells them apart on this photo"
FLAT_TOP = 0.02  # or no class above this (50 classes or more): a random 1,000-class model's top at ~1 % got no such words
START_TIE = 0.02  # a top class this close to the runner-up at the start: any change may flip it, and the words say so


def hardly_apart(spread) -> str:
    """For a [lowest, highest] within :data:`FLAT_SPREAD`, or a highest under :data:`FLAT_TOP` (every class about as
    likely: a random-weights model):
    ``"every class is between 9.9 % and 10.1 %: the model hardly tells them apart on this photo"``, as the
    sentence says it (the CLI's line for the record's ``original_range`` too); "" otherwise."""
    if not spread or len(spread) != 2 or None in spread:
        return ""
    if not float(spread[1]) - float(spread[0]) < FLAT_SPREAD:
        # the threshold, not the top itself: "tench (1.0 %; no class is above 1.0 %" read as a tautology
        return f"no class reaches {100 * FLAT_TOP:g} %: {HARDLY}" if float(spread[1]) < FLAT_TOP else ""
    digits = flat_digits(spread)
    a, b = _pct_digits(float(spread[0]), digits), _pct_digits(float(spread[1]), digits)
    return f"every class is {f'at about {b}' if a == b else f'between {a} and {b}'}: {HARDLY}"


def flat_digits(spread) -> int:
    """Decimals for a flat model's [lowest, highest]: :func:`apart`'s, two where the highest is under 1 % (a random
    1,000-class model's "between 0.0 % and 0.2 %" read as if some class had none), three where the lowest still reads
    0 with two (0.003 %)."""
    low, high = float(spread[0]), float(spread[1])
    digits = max(_digits_apart(low, high), 2 if high < 0.01 else 1)
    return 3 if digits == 2 and 0 < low < 0.00005 else digits


def _before(result, before: float, beside: float | None = None) -> str:
    """The explained class's share in the photo, and the runner-up beside it when the two were a near tie from
    the start ("8.5 %, a near tie with oil filter at 7.8 %"): such a photo flips at the first step by a change no
    one can see, and without the runner-up the answer read as if the model had been sure. ``beside``: the class
    the sentence turns it into; within 2 points of it, one decimal as that class has ("barbell (13 %) into
    bearskin (12.9 %)" read as a drop, beside the 12.7 % of the title, the caption and the class table)."""
    probs = getattr(result, "original_probabilities", None)
    explained = set(int(i) for i in (list(result.explained) or [result.original.index]))
    near = beside is not None and abs(before - float(beside)) < START_TIE
    head = apart(before, float(beside))[0] if near else pct(before)
    if probs is None or len(probs) < 2:
        return head
    others = [(float(p), i) for i, p in enumerate(probs) if i not in explained]
    if not others:
        return head
    runner, index = max(others)
    spread = class_range(probs)
    flat = hardly_apart(spread)  # single classes (a group's sum is not one)
    if flat:  # a random-weights model: its "flip" says nothing about the photo
        if spread[1] - spread[0] < FLAT_SPREAD and not near:  # "0.11 %; … between 0.07 % and 0.11 %", not "0.1 %; …"
            head = _pct_digits(before, flat_digits(spread))
        return f"{head}; {flat}"
    if before - runner >= START_TIE:
        return head
    label = result.label(index) if hasattr(result, "label") else str(index)
    a, b = apart(before, runner)
    return f"{a}, a near tie with {label} at {b}"


def _other_group(result, named) -> str:
    """A group run's clause on the first class ``named`` (the sentence's predictions) that is in another of the
    model's groups: "; lynx is in the group “any big cat”, not in “any cat”" ("any cat" into lynx read as a
    contradiction; the groups are named as the Target's list and the sentence name them: "not in “cat”" read oddly)."""
    groups, mine = getattr(result, "groups", None) or {}, set(result.explained)
    for pred in named:
        if pred.index in mine:
            continue
        other = next((g for g, idx in groups.items() if g != result.explained_name and pred.index in idx), None)
        if other is not None:
            return f"; {pred.label} is in the group “{any_of(other)}”, not in “{any_of(result.explained_name)}”"
    return ""


def _alone(region, name: str, group: bool = False, before: float | None = None) -> str:
    """:func:`_alone_words` of a key region (its ``prediction`` and ``explained_probability``)."""
    return _alone_words(float(region.prediction.probability), getattr(region, "explained_probability", None), name, group, before)


def _alone_words(top: float, now: float | None, name: str, group: bool = False, before: float | None = None) -> str:
    """The probability of the class the key region alone turns the photo into (``top``), and what the explained class
    (a group: its sum) still has there (``now``): "15 %; espresso now 12 %", one decimal on a near tie (under 2 points:
    "13.8 %; espresso now 12.4 %"). The smallest region that flips leaves the photo near the boundary, so the explained
    class is rarely far. ``before`` (the photo's share), within 2 points of ``top``: its digits ("brain coral (13.4 %) into wool (14 %" hid 13.6 %);
    not for a group (its sum stands beside no single class's share)."""
    head = _beside(None if group else before, top)
    if now is None:  # a record written before the field existed
        return head
    if group:
        return _group_now(top, float(now), name)
    if abs(top - now) < 0.02:  # a near tie, as the whole photo's clause (_now) words it: one decimal, or two
        # ("bobsled (14 %; crash helmet now 12 %)" stood beside "(12.3 %; crash helmet now 12.1 %)" and a panel's
        # 13.8 %); equal to two decimals: "just below it", not "10.44 %; class 2 now 10.44 %"
        return _tie(top, now, name)
    return f"{head}; {name} now {pct(now)}"


def _beside(before: float | None, p: float) -> str:
    """``p`` as the sentence writes it next to ``before`` (the explained class's share in the photo): within 2 points,
    the digits that tell the two apart, as :func:`_before` gives ``before``."""
    return apart(before, p)[1] if before is not None and abs(before - p) < START_TIE else pct(p)


def alone_text(result) -> str | None:
    """What the key region alone turns the photo into, as the sentence words it: "prairie chicken (5.7 %;
    Egyptian cat now 3.7 %)" (the figure's "Key region alone" panel); None without a region that flips."""
    region = answer_region(result)
    if region is None:
        return None
    name, before = _explained_text(result)
    return f"{region.prediction.label} ({_alone(region, name, _grouped(result), before)})"


def alone_probabilities(result, prediction, explained_probability: float | None) -> str:
    """The key region's parenthetical as the sentence words it, for any region the user sets: "26 %; drilling platform
    now 18 %" (``prediction``: the top class there; ``explained_probability``: the explained class's, a group's sum;
    None: the top class's alone)."""
    name, before = _explained_text(result)
    return _alone_words(float(prediction.probability), explained_probability, name, _grouped(result), before)


def _same_answer(a, b) -> bool:
    """Two predictions read as one answer: the same class within half a point (the whole photo's clause repeated
    the key region's class for 30.1 % beside 30.3 %)."""
    return a.index == b.index and abs(float(a.probability) - float(b.probability)) < 0.005


def _from_to(before: float, now: float) -> tuple[str, str]:
    """Two probabilities as the sentence writes them ("fell from 82.2 % to 81.7 %")."""
    return pct(before), pct(now)


def _fell(before: float, now: float) -> str:
    """``"fell from 82.2 % to 81.7 %"``; ``"rose from …"`` or ``"stayed at 82.2 %"`` when it did not fall."""
    a, b = _from_to(before, now)
    if a == b:
        return f"stayed at {b}"
    return f"{'fell' if now < before else 'rose'} from {a} to {b}"


def _share(fraction: float) -> str:
    """``"3 %"``, ``"0.4 %"`` of the image; never "100 %" for less than all of it (99.8 % is not the whole
    image) nor "0 %" for more than none."""
    v = 100.0 * float(fraction)
    if v >= 10:
        return _whole_percent(v)
    return f"{v:.1g} %" if v < 1 else f"{v:.1f} %".replace(".0 %", " %")


share = _share  # the share of the image as the sentence writes it (the figure's caption and the CLI use it too)


WINDOW = "found by trying ninths of the photo alone: the map's brightest parts needed over a quarter"  # KeyRegion.window
OFF_MAP = "away from the map's brightest parts: the flip does not need them"  # KeyRegion.off_map


def region_share(fraction: float, components: int = 1, window: bool = False, off_map: bool = False) -> str:
    """A key region's size for a line of text (the CLI's): ``"6.4 % of the image (2 areas)"``, or, over most
    of the image (hatched in the figure), ``"78 % of the image (most of it: no small region flips it)"``; one found in
    a window (:attr:`~.results.KeyRegion.window`) says so (:data:`WINDOW`), one off the map's peak too (:data:`OFF_MAP`)."""
    if is_large_region(fraction):
        return f"{_share(fraction)} of the image (most of it: no small region flips it)"
    areas = _region_notes(components, window, off_map)
    if is_broad_region(fraction):
        return f"{_share(fraction)} of the image ({areas + '; ' if areas else ''}no small region flips it)"
    return f"{_share(fraction)} of the image" + (f" ({areas})" if areas else "")


def _region_notes(components: int, window: bool, off_map: bool = False) -> str:
    """What a key region's size is said with: "2 areas", :data:`WINDOW` or :data:`OFF_MAP`, both ("; "), or ""."""
    return "; ".join([f"{components} areas"] * (components > 1) + [WINDOW] * window + [OFF_MAP] * (off_map and not window))


def fill_base(fill: str) -> tuple[str, bool]:
    """What a key region's fill-in is made of, and whether it is the search's own partial change
    (:data:`~.results.FOUND_BY_SEARCH`): ``("mean colour", True)`` for "mean colour amount found by the search"."""
    return (fill[: -len(FOUND_BY_SEARCH)], True) if fill.endswith(FOUND_BY_SEARCH) else (fill, False)


def fill_verb(fill: str) -> str:
    """What changing a key region does, by its fill-in, without a place: ``"removing detail"``, ``"filling with
    the mean colour"`` or ``"fading toward the mean colour"`` (the search's own part-way change)."""
    base, found = fill_base(fill)
    return "removing detail" if base.startswith("blur") else f"fading toward the {base}" if found else f"filling with the {base}"


def region_action(fill: str, where: str) -> str:
    """What changing the key region ``where`` does, by its fill-in: ``"removing detail in WHERE"`` (a blur),
    ``"filling WHERE with its mean colour"``, or ``"fading WHERE toward its mean colour"`` (a search that found
    no fill-in that flips applied everywhere, and faded part-way toward the mean colour)."""
    base, found = fill_base(fill)
    if base.startswith("blur"):
        return f"removing detail in {where}"
    return f"fading {where} toward its {base}" if found else f"filling {where} with its {base}"


def answer_region(result):
    """The key region the answer speaks of (the sentence, the window's status line): one that flips alone and is
    neither empty nor the whole image; None otherwise."""
    region = getattr(result, "key_region", None)
    return region if region is not None and region.flips and 0 < region.fraction < 1 else None


def _change_text(result) -> str:
    levels = 255.0 * float(result.linf_saved)
    style = getattr(result.options, "style", "free")
    region = answer_region(result)
    if region is not None:
        fill = str(getattr(region, "fill", "blur"))
        if is_large_region(region.fraction):  # most of the image: hatched, not outlined, and no small region does it
            return f"No small region flips it: {region_action(fill, f'the hatched {_share(region.fraction)} of the image')}"
        notes = _region_notes(region.components, getattr(region, "window", False), getattr(region, "off_map", False))
        blobs = f" ({notes})" if notes else ""
        action = region_action(fill, f"the outlined {_share(region.fraction)} of the image{blobs}")
        if is_broad_region(region.fraction):  # outlined, but not a small part: the words say so
            return f"No small region flips it: {action}"
        return action[0].upper() + action[1:]
    fill, _ = fill_base(str(getattr(getattr(result, "key_region", None), "fill", "blur")))
    if style == "region" and not fill.startswith("blur"):  # no blur flipped it: the search blended toward e.g. the mean colour
        return f"Fading parts of the photo toward its {fill}"
    if style in ("blur", "region"):
        return "Removing detail (blurring parts of the photo)"
    return f"Changing pixels by at most {levels:.0f}/255 ({visibility(levels)})"


# what the Difference view shows, by its mode, for the sentence's last clause (the figure and the export
# show the importance map: "magnitude"); keys are the window's Difference modes (core.viz.difference)
_VIEW_SHOWS = {
    "signed": "red shows where the photo got brighter, blue where it got darker",
    "key": "the outline shows where",
    "amplified": "the colours away from grey show the change, amplified",
}


def where_clause(result, view: str = "magnitude") -> str:
    """The sentence's last clause, which points at the Difference view: ``"the bright areas show where"`` for
    its default (smoothed magnitude) mode; ``view`` names another mode (signed, key, amplified), whose bright
    areas mean something else (in the signed map white is no change), so the window can keep the sentence true."""
    shows = _VIEW_SHOWS.get(view)
    region = answer_region(result)
    if region is not None:
        if view == "key" and is_large_region(region.fraction):  # drawn hatched, as the sentence says
            return "the hatching shows where"
        return shows or "the bright areas show how much each part mattered"
    kp = result.key_pixels
    if kp is not None and kp.flips and 0 < kp.fraction < 0.5:
        if kp.count >= kp.changed:  # the sparse 8-bit change needs every pixel it touches: "alone" named no subset
            return (f"it touches only {_share(kp.fraction)} of the pixels, all of them needed, "
                    + (shows or "the bright areas show where"))
        # the marked pixels are those changed most; the smoothed magnitude is bright where the change is densest,
        # which can be elsewhere (a helper read "show where" as "the marked pixels are the bright areas")
        return (f"the marked {_share(kp.fraction)} of the pixels alone do it, "
                + (shows or "the bright areas show where the change is densest"))
    if shows:
        return shows
    if getattr(result.options, "style", "free") in ("blur", "region"):
        return "the bright areas show where the detail mattered"
    return "the bright areas show where"


def no_change_reason(result) -> str | None:
    """Why a result holds no change at all ("nothing to flip", "no step was taken"), or None when the
    search moved the image: then any difference of the saved image is only its 8-bit rounding of the photo,
    which the window and the figure must not present as the explanation's change."""
    if result.status == Status.ALREADY:
        return "nothing to flip"
    if not result.steps and result.status != Status.FLIPPED:
        return "no step was taken"
    return None


def summary_sentence(result, view: str = "magnitude") -> str:
    """One sentence a person can read about ``result`` (plain text, no markup)."""
    status = getattr(result.status, "value", result.status)
    name, before = _explained_text(result)
    final = result.final
    if status == Status.FLIPPED.value:
        change = _change_text(result)
        region = answer_region(result)
        if result.target is not None:
            # a named key region: what changing it ALONE gives (as untargeted), the Adjusted image's when it differs
            seen = final if region is None else region.prediction
            now = _explained_now(result) if region is None else getattr(region, "explained_probability", None)
            # a near tie names what the explained class still has ("instead of Egyptian cat (79 %)" read as if it
            # were gone, at 34.7 % beside tiger cat's 34.8 %)
            seen_text = (_tie(float(seen.probability), float(now), name) if now is not None and float(seen.probability)
                         - float(now) < 0.02 else _beside(None if _grouped(result) else before, float(seen.probability)))
            text = f"{change} makes the model see {seen.label} ({seen_text}) instead of {name} ({_before(result, before, seen.probability)})"
            if region is not None and not _same_answer(seen, final):
                text += f"; over the whole photo (Adjusted) it sees {final.label} ({_now(result, name)})"
            return f"{text}: {where_clause(result, view)}."
        if region is not None:
            # the sentence is about the key region: what changing it ALONE makes of the photo; the Adjusted
            # image (the change over the whole photo) is named too when the model calls it something else
            alone = region.prediction
            shown = _alone(region, name, _grouped(result), before)
            text = f"{change} turns {name} ({_before(result, before, alone.probability)}) into {alone.label} ({shown})"
            if alone.index != final.index:
                text += f"; over the whole photo (Adjusted) it becomes {final.label} ({_now(result, name)})"
            elif not _same_answer(alone, final) or float(final.probability) - _explained_now(result) < 0.02:
                # the same class at another share (the Adjusted caption read 9.5 % beside the sentence's 20 %: the
                # search stops at the flip, the key region is changed in full), or the saved image's own near tie
                text += f"; over the whole photo (Adjusted) it is {final.label} ({_now(result, name)})"
            return f"{text}{_other_group(result, (alone, final))}: {where_clause(result, view)}."
        return (f"{change} turns {name} ({_before(result, before, final.probability)}) into {final.label} ({_now(result, name)})"
                f"{_other_group(result, (final,))}: {where_clause(result, view)}.")
    n = len(result.steps)
    if status == Status.ALREADY.value:
        message = str(result.message or "")
        if "nothing to " in message:  # "…; nothing to flip" already says it: not "Nothing to flip: …; nothing to flip."
            return f"{message[0].upper()}{message[1:]}."
        return f"Nothing to flip: {message}." if message else "Nothing to flip."
    if status == Status.CANCELLED.value:
        # a targeted run flips when its target is on top (a third class on top is not "after the decision flipped")
        if final.index == result.target.index if result.target is not None else _other_on_top(result):
            # cancelled past the flip (the region style sharpening or searching back): the saved image shows another
            # class ("before the decision flipped" would contradict the views); at which step: the plot's flip line
            at = "" if getattr(result, "flip_step", None) is None else f" at step {result.flip_step}"
            return (f"Cancelled after {steps_text(n)}, after the decision flipped{at}: the model now sees {final.label} "
                    f"({_now(result, name)}) instead of {name} ({_before(result, before, final.probability)}), but the "
                    "explanation was not finished.")
        was, now = _from_to(before, _explained_now(result))
        aim = f"; {result.target.label} {moved}{_on_top(result)}" if (moved := _target_moved(result)) else ""
        if getattr(result, "flip_step", None) is not None:
            # cancelled while minimising or making the 8-bit image flip: the search flipped (the plot marks it),
            # but the image kept, rounded to 8 bits, is back on the explained side of the boundary
            return (f"Cancelled after {steps_text(n)}, after the decision flipped at step {result.flip_step} but before "
                    f"the final checks: the saved (8-bit) image is back at {name} ({now}; was {was}).")
        if n == 0:  # Esc right after Explain: as the status line says it (not "after 0 steps … at 79 % (was 79 %)")
            return f"Cancelled before the first step: the photo is unchanged ({name} {was})."
        return f"Cancelled after {steps_text(n)}, before the decision flipped: {name} is at {now} (was {was}){aim}."
    if status == Status.BUDGET.value:
        budget = getattr(result.options, "max_steps", n)
        moved = f"{name} {_fell(before, _explained_now(result))}"
        if result.target is not None:
            # a targeted run is about its target: it was never named ("Egyptian cat fell from 68 % to 18 %" for a
            # run to "school bus", under a title ending "-> tiger cat (27.1 %)")
            moved = f"{result.target.label} {_target_moved(result)}{_on_top(result)} and {moved}"
        # a region run whose fully detail-removed photo does not flip either: a larger budget cannot help, and
        # the record's message says which style can (the sentence said "a larger budget or step may flip it")
        advice = ("removing all the detail does not flip it either: the “smallest change” style (--style free) can "
                  "change any pixel" if NO_DETAIL_FLIP in str(result.message or "") else "a larger budget or step may flip it")
        return f"No flip within the budget of {steps_text(budget)}: {moved}; {advice}."
    detail = f": {result.message}" if result.message else ""
    # a model that hardly tells the classes apart says so here too (the flipped sentences and the CLI's line did)
    flat = hardly_apart(class_range(getattr(result, "original_probabilities", None)))
    detail += f" ({name} at {_before(result, before)})" if flat else ""
    if n == 0:  # "The search stopped after 0 steps without a flip" (a flat or 1×1 photo)
        return f"The search could not take a first step{detail}."
    moved = _target_moved(result)
    if moved:  # named, as a run out of budget names it ("school bus rose from …")
        return (f"The search stopped after {steps_text(n)} without reaching {result.target.label} ({moved}"
                f"{_on_top(result)}){detail}.")
    return f"The search stopped after {steps_text(n)} without a flip{detail}."


def _other_on_top(result) -> bool:  # a class other than the explained one(s) leads the saved image
    return result.final.index not in (list(result.explained) or [result.original.index])


def _on_top(result) -> str:  # ", bobsled is on top (23 %)": a third class leads a targeted run short of its target
    return f", {result.final.label} is on top ({pct(result.final.probability)})" if _other_on_top(result) else ""


def _target_moved(result) -> str:
    """How a targeted run moved its target: "rose from 0.1 % to 2.3 %" ("" for another run): a run that stopped
    short of its target never named it ("bobsled is at 23 %" for a run to school bus)."""
    target, probs = result.target, getattr(result, "final_probabilities", None)
    if target is None or probs is None:
        return ""
    return _fell(float(target.probability), float(probs[target.index]))


__all__ = ["any_of", "apart", "fill_base", "fill_verb", "levels_text", "pct", "pct1", "region_action", "region_share", "share", "steps_text", "summary_sentence", "visibility",
           "where_clause"]
