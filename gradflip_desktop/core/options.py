"""Settings of one explanation, the statuses a run ends with, and every limit on the settings.

Torch-free and Qt-free: the CLI's argument parser and the GUI's controls read their ranges from here,
so each limit is defined once.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from enum import Enum


class Status(str, Enum):
    """How a run ended. ``FLIPPED`` is the only success.

    A ``str`` subclass whose values are the strings written to records (``"flipped"``, ...), so
    ``Status.FLIPPED == "flipped"`` and ``json.dumps`` / f-strings give the plain value.
    """

    FLIPPED = "flipped"
    ALREADY = "nothing_to_flip"
    BUDGET = "budget_exhausted"
    CANCELLED = "cancelled"
    ZERO_GRADIENT = "zero_gradient"
    NONFINITE_GRADIENT = "nonfinite_gradient"
    NONFINITE_OUTPUT = "nonfinite_output"
    STALLED = "stalled"
    MODEL_ERROR = "model_error"

    __str__ = str.__str__
    __format__ = str.__format__


# module-level names kept for existing callers (``ex.FLIPPED`` ...)
FLIPPED = Status.FLIPPED
ALREADY = Status.ALREADY
BUDGET = Status.BUDGET
CANCELLED = Status.CANCELLED
ZERO_GRADIENT = Status.ZERO_GRADIENT
NONFINITE_GRADIENT = Status.NONFINITE_GRADIENT
NONFINITE_OUTPUT = Status.NONFINITE_OUTPUT
STALLED = Status.STALLED
MODEL_ERROR = Status.MODEL_ERROR
STATUSES = tuple(Status)

# ---- limits (each defined once; the CLI and the GUI take their ranges from here) -------------------
EPS_MIN = 1e-7  # step length, RMS pixel units; also the adaptive mode's floor (below it: stalled)
EPS_MAX = 0.25
MAX_STEPS_MIN = 1
MAX_STEPS_MAX = 100_000
SMOOTHING_MIN = 0.0  # Gaussian sigma of the gradient, working-image px
SMOOTHING_MAX = 100.0
BLUR_SIGMA_MAX = 500.0  # blur style's sigma, working-image px, in (0, BLUR_SIGMA_MAX]
COARSE_MIN = 1
COARSE_MAX = 64
WORKING_SIZE_DEFAULT = 1024  # long side of the working image, px
WORKING_SIZE_MIN = 64
WORKING_SIZE_MAX = 4096
# A key region above this share of the image is "most of the image": no small region flips the decision.
# Outlined and dimmed outside like a small one, it reads inverted (the few unneeded areas are the only closed
# outlines, islands of dim), so the figure, the app and the gallery hatch it too and the words say so
# (``viz.maps.key_region_layer``, ``summary``, ``report.key_region_caption``, the app's key-set answer).
LARGE_REGION = 0.5
# A key region above this share (and at most LARGE_REGION) is outlined as usual, but the words say that no small
# region flips the decision: 47 % of the sample cat in 5 areas is not "the key part" a person looks for.
BROAD_REGION = 0.25
# A key region below this share of the image (a few blobs of some pixels, e.g. 18 px at 224 px) is hard to find
# in the figure, the app and the gallery: a dashed box is drawn round it too (``viz.maps.key_region_layer``).
SMALL_REGION = 0.01


def is_large_region(fraction: float) -> bool:
    """A key region of this share of the image is "most of it" (above :data:`LARGE_REGION`): hatched, and said so."""
    return float(fraction) > LARGE_REGION


def is_broad_region(fraction: float) -> bool:
    """A key region too broad to be called small (above :data:`BROAD_REGION`): "no small region flips it"."""
    return float(fraction) > BROAD_REGION

MODES = ("adaptive", "fixed")
STYLES = ("region", "free", "blur")
# what each style is called where people read it (GUI, CLI help, figure)
STYLE_NAMES = {"region": "key region", "free": "smallest change", "blur": "blur per pixel"}


@dataclass
class ExplainOptions:
    """Settings of one explanation.

    target: ``None`` (untargeted: push the top class down until another wins) or a class (index or
        label) to reach (targeted: push that class up until it wins).
    group: explain a class group instead of the single top class, by name (``"cat"``) or index ranges
        (``"281-285"``) or a list of indices; the run flips when no class of the group is the arg-max.
    mode: ``"adaptive"`` (trust-region step length) or ``"fixed"`` (ε as given, the textbook method).
    epsilon: step length in RMS pixel units (a step changes the image by ε·√n in L2, n = H·W·3).
    max_steps: step budget of the search until the flip (its gradient evaluations); the region style's steps past
        the flip, its flip-back search (at most 30 steps) and the passes after it (the 8-bit pass, the key region)
        come on top, so a run makes more evaluations than this (``ExplainResult.gradient_evaluations``).
    smoothing: Gaussian σ in working-image pixels applied to the gradient (0 = raw gradient).
    style: ``"region"`` (default: a smooth low-resolution mask removes detail, the mask is the importance
        map and the result names the key region; :mod:`gradflip_desktop.core.explain.mask`), ``"free"``
        ("smallest change", the textbook method: any pixel may move in any direction) or ``"blur"``
        (each pixel may only move toward a blurred copy of the image, by its own amount in [0, 1]:
        the change removes detail, and the blur amount per pixel is the importance map).
    blur_sigma: Gaussian σ (working-image px) of the blurred copy for ``style="blur"``; ``None`` uses
        1/24 of the long side.
    coarse: coarse-to-fine factor f >= 1: each step is the gradient averaged over f x f blocks of the
        search's coordinates (pixels; in style ``"region"`` the mask's cells) and upsampled bilinearly, so the
        change lives at 1/f resolution (a smooth, readable change at a larger L2; 1 = full resolution).
    minimise / eight_bit / key_pixels: the post passes (see :mod:`gradflip_desktop.core.explain`).
    refine: after the straight-line minimise, walk the change along the decision boundary toward the
        original (:func:`~gradflip_desktop.core.explain.minimise.refine`); the textbook change only
        (style ``"free"``, no smoothing, coarse 1), where the smallest change is the point.
    lattice: make the 8-bit PNG flip by moving few values by one level each, chosen by the gradient
        (:func:`~gradflip_desktop.core.explain.quantise.lattice`), instead of rounding the float change to
        the nearest level; the textbook change only, falls back to the rounding pass when it finds nothing.
    extra_steps: extra gradient steps allowed to make the flip survive 8-bit quantisation.
    """

    target: int | str | None = None
    group: str | list[int] | None = None
    mode: str = "adaptive"
    epsilon: float = 0.0002
    max_steps: int = 200
    smoothing: float = 0.0
    style: str = "region"
    blur_sigma: float | None = None
    coarse: int = 1
    minimise: bool = True
    eight_bit: bool = True
    key_pixels: bool = True
    extra_steps: int = 50
    refine: bool = True
    lattice: bool = True

    def __post_init__(self) -> None:
        # refused where it is written (``ExplainOptions(max_steps=-5)`` was accepted and refused only by run());
        # run() checks again, for fields set after construction
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` (a message for the user) when a setting is out of range or not a number."""
        for name, whole in (("epsilon", False), ("max_steps", True), ("smoothing", False), ("blur_sigma", False),
                            ("coarse", True), ("extra_steps", True)):  # epsilon="0.01" was Python's "must be real number, not str"
            value = getattr(self, name)
            if value is None and name == "blur_sigma":
                continue
            if isinstance(value, (bool, str, bytes)) or not isinstance(value, numbers.Real) or (
                    whole and not float(value).is_integer()):
                raise ValueError(f"{name} must be {'a whole number' if whole else 'a number'}, not {value!r}")
        for name in ("minimise", "eight_bit", "key_pixels", "refine", "lattice"):  # minimise="no" ran as True
            value = getattr(self, name)
            if not (isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"):  # numpy's too
                raise ValueError(f"{name} must be True or False, not {value!r}")
        if self.mode not in MODES:
            raise ValueError(f"step mode must be 'adaptive' or 'fixed', not {self.mode!r}")
        if not (math.isfinite(self.epsilon) and EPS_MIN <= self.epsilon <= EPS_MAX):
            raise ValueError(f"epsilon must be in [{EPS_MIN:g}, {EPS_MAX}], not {self.epsilon}")
        if not (MAX_STEPS_MIN <= int(self.max_steps) <= MAX_STEPS_MAX):
            raise ValueError(f"max_steps must be between {MAX_STEPS_MIN} and {MAX_STEPS_MAX}, not {self.max_steps}")
        if not (math.isfinite(self.smoothing) and SMOOTHING_MIN <= self.smoothing <= SMOOTHING_MAX):
            raise ValueError(f"smoothing must be between {SMOOTHING_MIN:g} and {SMOOTHING_MAX:g} px, not {self.smoothing}")
        if self.style not in STYLES:
            raise ValueError(f"style must be 'region', 'free' or 'blur', not {self.style!r}")
        if self.blur_sigma is not None and not (math.isfinite(self.blur_sigma) and 0 < self.blur_sigma <= BLUR_SIGMA_MAX):
            raise ValueError(f"blur_sigma must be in (0, {BLUR_SIGMA_MAX:g}] px, not {self.blur_sigma}")
        if not (COARSE_MIN <= int(self.coarse) <= COARSE_MAX):
            raise ValueError(f"coarse factor must be between {COARSE_MIN} and {COARSE_MAX}, not {self.coarse}")
        if int(self.extra_steps) < 0:
            raise ValueError(f"extra_steps must be 0 or more, not {self.extra_steps}")
        if self.target is not None and self.group is not None:
            raise ValueError("choose either a target class or a class group, not both")

    def to_dict(self) -> dict:
        return asdict(self)

    def unused(self) -> set[str]:
        """The options this style does not use (the CLI notes them as ignored; ``--resume`` does not compare
        them): ``blur_sigma`` outside the blur style, ``refine`` and ``lattice`` outside the smallest change."""
        return ({"blur_sigma"} if self.style != "blur" else set()) | ({"refine", "lattice"} if not self.textbook else set())

    @property
    def textbook(self) -> bool:
        """The free style at full resolution, unsmoothed: the change whose size is the point."""
        return self.style == "free" and int(self.coarse) == 1 and self.smoothing == 0
