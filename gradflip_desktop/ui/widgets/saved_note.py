"""What the probability plot's saved point says the saved change is (its read-out's "saved (8-bit; …)").

A key-region run's saved change is its flipping step scaled ("step 3's change × 0.62"); a textbook run's is the
smallest change that flips, a near tie (its class back near the new one read as a near failure); and a run that did
not flip says when rounding to 8 bits undid part of its change (espresso 59.8 % at step 1 and 76.8 % saved, with
nothing said, beside the sentence's "fell from 82 % to 77 %", which is the saved image's).
"""

from __future__ import annotations

import numpy as np

ROUNDED_BACK = 0.01  # a run that did not flip whose saved image gives the explained class this much more than its last step


def saved_note(result, explained: list[int]) -> str:
    """``"; …"`` after "8-bit" in the saved point's read-out, or ``""``."""
    alpha, style = float(getattr(result, "alpha", 1.0) or 1.0), getattr(getattr(result, "options", None), "style", "")
    if result.flipped and style == "free":
        return "; the smallest change that flips: a near tie"
    if result.flipped and getattr(result, "flip_step", None) is not None and alpha < 0.995:
        return f"; step {result.flip_step}'s change × {alpha:.2f}"
    steps = list(getattr(result, "steps", None) or [])
    if not result.flipped and steps and explained:  # a change of a level or less per value mostly rounds away
        last = float(np.asarray(steps[-1].probabilities, dtype=np.float64)[explained].sum())
        if float(np.asarray(result.final_probabilities, dtype=np.float64)[explained].sum()) - last >= ROUNDED_BACK:
            return "; rounding undid part of the change"
    return ""


__all__ = ["ROUNDED_BACK", "saved_note"]
