"""Before a run: what Explain will look for, in words (the Adjusted caption and the sentence above the views)."""

from __future__ import annotations

import html


def explain_hint(top, mode: str | None, target: str, target_known: bool, group: str, group_members: set[int],
                 style: str | None) -> tuple[str, str, bool]:
    """(the caption's hint, the sentence after "The model sees X (p)." : HTML, whether there is nothing to flip) for
    the settings as they are now.

    ``top``: the photo's top class (``.label``, ``.index``); ``mode``: the target mode ("top", "class",
    "group"); ``target``: the class field's text and ``target_known`` whether it names a class (not half-typed);
    ``group``: the group's name as shown and ``group_members`` its class indices (empty: unknown); ``style``:
    the explanation style. A class the model already sees, or a group it does not see, has nothing to flip:
    the words say so before Explain ends at once (they invited Explain: "Press Explain to find what makes it stop
    seeing any dog, which it does not see")."""
    if mode == "class" and target and target_known and target == top.label:
        return ("The model already sees this class: choose another class to reach, or another target.",
                "That is the class Explain would reach: nothing to flip.", True)
    if mode == "group" and group_members and top.index not in group_members:  # the run would end at once
        return (f"The model does not see {group} here: choose Top class to explain {top.label}, or another group.",
                f"It does not see <b>{html.escape(group)}</b>: nothing to flip.", True)
    caption, goal = _hint(top, mode, target, target_known, group, style)
    return caption, f"Press <b>Explain</b> (Ctrl+Return) to find {goal}.", False


def _hint(top, mode, target, target_known, group, style) -> tuple[str, str]:
    if mode == "class" and target and target_known:
        return (f"Explain changes the photo until the model sees {target}.",
                f"the change that makes it see <b>{html.escape(target)}</b>")
    if mode == "group":
        return (f"Explain changes the photo until no class of {group} wins.",
                f"what makes it stop seeing <b>{html.escape(group)}</b>")
    if style == "region":
        return ("Explain finds where the decision's detail lies: removing it there flips this decision.",
                "the regions whose detail the decision depends on")
    if style == "blur":  # pixels only move toward a blurred copy: the result says "Removing detail (blurring …)"
        return ("Explain blurs the photo pixel by pixel, only where it must, until this decision flips.",
                "the pixels whose detail the decision depends on (blurring only those)")
    return ("Explain finds the smallest change that flips this decision.",
            "the smallest change that makes it see something else")


__all__ = ["explain_hint"]
