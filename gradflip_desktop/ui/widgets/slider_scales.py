"""How the views' sliders map to values: the gain's logarithmic scale and the key-set slider's quadratic one.

The key-set slider is quadratic in k/total: the found set (a few % of the pixels) sits left of the middle, and every
k up to all changed pixels (the whole image for a key region) is reachable.
"""

from __future__ import annotations

import math

KEY_SLIDER_STEPS = 1000


def gain_to_slider(gain: float) -> int:
    """×1 to ×1000 on 0–100, logarithmic."""
    return int(round(100 * math.log10(max(1.0, min(1000.0, gain))) / 3))


def slider_to_gain(value: int) -> float:
    return float(10 ** (3 * value / 100))


def count_to_slider(k: int, total: int) -> int:
    if k <= 0 or total <= 0:
        return 0
    return int(round(KEY_SLIDER_STEPS * math.sqrt(min(1.0, k / total))))


def slider_to_count(v: int, total: int) -> int:
    """At least 1 pixel once the slider is off 0, at most ``total``."""
    if v <= 0 or total <= 0:
        return 0
    return max(1, min(total, int(round(total * (v / KEY_SLIDER_STEPS) ** 2))))


__all__ = ["KEY_SLIDER_STEPS", "count_to_slider", "gain_to_slider", "slider_to_count", "slider_to_gain"]
