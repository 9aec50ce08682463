"""What an explanation produces: one :class:`Step` per gradient evaluation (a :class:`Progress` per pass
of a phase without steps), the :class:`KeyPixels` and the final :class:`ExplainResult` the views and the
report read."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .options import ExplainOptions, Status, is_large_region
from .percent import class_range

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from .models import Prediction


@dataclass
class Step:
    """One gradient evaluation of the search.

    ``probabilities``: softmax (float32, length C) at the current image after this step.
    ``score``: log-odds of the explained class (group) at the current image.
    ``accepted``: False when the adaptive mode rejected an overshooting step (the image did not change).
    ``image()``: the current adjusted image (H x W x 3 float32); only valid while the step is the
    generator's latest output (the reference is dropped when the generator resumes).
    """

    index: int
    epsilon: float
    score: float
    probabilities: np.ndarray
    l2: float
    linf: float
    flipped: bool
    accepted: bool = True
    phase: str = "search"
    _pixels: torch.Tensor | None = field(default=None, repr=False, compare=False)
    logits: np.ndarray | None = field(default=None, repr=False, compare=False)  # orders ties of the float32 probabilities

    def image(self) -> np.ndarray | None:
        if self._pixels is None:
            return None
        return self._pixels[0].permute(1, 2, 0).detach().cpu().numpy().copy()

    def note(self) -> str:
        """What kind of step this was, when its curve alone would mislead ("" for a plain step): a rejected one
        (the image stayed, so the curve is flat) or one of a stalled search's even steps (ε 0) toward the fully
        detail-removed image (see :mod:`.explain.search`)."""
        if not self.accepted:
            return "rejected: the score did not fall, so the image stays and ε halves"
        if self.phase == "search" and self.epsilon == 0.0:
            return "evenly toward the fully detail-removed image: the search had stalled"
        return ""

    def top(self, k: int = 5) -> list[tuple[int, float]]:
        """The k most probable classes, ordered by the logits when known: a softmax in float32 ties classes whose
        logits differ, and the record's top class is the logits' (steps.csv named another at such a tie)."""
        z = self.logits
        key = z if z is not None and z.shape == self.probabilities.shape and np.all(np.isfinite(z)) else self.probabilities
        order = np.argsort(-np.asarray(key, dtype=np.float64), kind="stable")[:k]
        return [(int(i), float(self.probabilities[i])) for i in order]


@dataclass
class Progress:
    """A pass of a phase that takes no gradient steps (the key region's forward passes, the importance map's
    feature-region passes): ``passes`` done so far in ``phase``. The run's generator yields these between its Steps so that progress stays live; they
    are not recorded."""

    phase: str
    passes: int


@dataclass
class KeyPixels:
    """The smallest set of top-|δ| pixels whose change alone flips the decision.

    ``mask``: H x W bool; ``ranking``: H x W int32 rank of each pixel by |δ| (0 = largest; -1 unchanged).
    """

    count: int
    fraction: float
    mask: np.ndarray
    ranking: np.ndarray
    prediction: Prediction
    flips: bool
    explained_probability: float | None = None  # the explained class's (a group's: its sum) with only these changed

    @property
    def changed(self) -> int:
        """How many pixels the saved change touches at all (the largest possible set)."""
        return int((self.ranking >= 0).sum())

    def mask_for(self, k: int) -> np.ndarray:
        """H x W bool: the k pixels with the largest |change| (``mask_for(count)`` is ``mask``)."""
        return (self.ranking >= 0) & (self.ranking < int(k))

    def to_dict(self) -> dict:
        return {"count": self.count, "fraction": self.fraction, "flips": self.flips, "prediction": self.prediction.to_dict(),
                "explained_probability": self.explained_probability}


# A key region's fill-in when no fill-in flips the decision applied everywhere but the search's partial change
# does: the region gets the change the search found, e.g. "blur amount found by the search" or, for a search
# that faded toward the photo's mean colour, "mean colour amount found by the search" (said "fading", not "removing detail").
FOUND_BY_SEARCH = " amount found by the search"


@dataclass
class KeyRegion:
    """The smallest top-ranked region of the importance map whose change alone flips the decision, less
    the blobs the flip does not need (region style: inside it the detail is removed, outside the photo is
    untouched).

    ``mask``: H x W bool; ``ranking``: H x W int32 rank of each pixel by importance (0 = most important;
    the region's pixels first), so ``ranking < pixels`` is ``mask``; ``components``: number of connected blobs of ``mask``;
    ``prediction``: the model's top class on the 8-bit image with only the region changed.
    """

    pixels: int
    fraction: float
    components: int
    flips: bool
    prediction: Prediction
    mask: np.ndarray = field(repr=False)  # print(result.key_region) printed both arrays whole
    ranking: np.ndarray = field(repr=False)
    fill: str = "blur"  # what replaces the region: "blur sigma = long side / 24", ..., "mean colour"
    explained_probability: float | None = None  # the explained class's (a group's: its sum) there, region alone
    # found inside one of the windows tried alone (a ninth of the photo each), because along the map's order it took
    # over a quarter of the photo: the map's order inside that window, so it need not lie on the map's brightest parts
    window: bool = False
    # under a tenth of it lies in the map's top pixels of its size (the pruning dropped the blobs around the map's
    # peak: the flip does not need them); said with it, as the region is not where the map is brightest
    off_map: bool = False

    @property
    def large(self) -> bool:
        """Most of the image (more than :data:`~.options.LARGE_REGION`): no small region flips it."""
        return is_large_region(self.fraction)

    def mask_for(self, k: int) -> np.ndarray:
        """H x W bool: the first k pixels of the ranking (``mask_for(pixels)`` is ``mask``). Up to ``pixels``
        these are the region's, most important first; beyond, the others by importance (the blobs the
        pruning dropped among them)."""
        return self.ranking < int(k)

    def to_dict(self) -> dict:
        return {"fraction": self.fraction, "pixels": self.pixels, "components": self.components,
                "flips": self.flips, "prediction": self.prediction.to_dict(), "fill": self.fill,
                "explained_probability": self.explained_probability, "window": self.window,
                "off_map": self.off_map}


@dataclass
class ExplainResult:
    """Everything the views and the report need about one run. Arrays are at working resolution."""

    status: Status
    message: str
    original: Prediction
    final: Prediction
    explained: list[int]
    explained_name: str
    target: Prediction | None
    steps: list[Step]
    gradient_evaluations: int
    forward_evaluations: int
    original_pixels: np.ndarray
    adjusted_pixels: np.ndarray  # float32, X0 + delta
    adjusted_uint8: np.ndarray  # what is saved as NAME.adjusted.png
    delta: np.ndarray  # float32 change, H x W x 3
    original_probabilities: np.ndarray
    final_probabilities: np.ndarray  # of the saved 8-bit adjusted image
    alpha: float
    key_pixels: KeyPixels | None
    timings: dict[str, float]
    seconds: float
    options: ExplainOptions
    model_name: str
    labels: list[str] = field(default_factory=list, repr=False)
    # a group run's: the classifier's class groups (the sentence says so when the class it flips to is in another one:
    # "any cat" turned into lynx, a big cat, read as a contradiction)
    groups: dict[str, list[int]] = field(default_factory=dict, repr=False)
    blur_amount: np.ndarray | None = field(default=None, repr=False)  # H x W in [0, 1], style "blur" only
    # region style: the importance map (H x W in [0, 1], smooth) and the key region ranked by it
    region_map: np.ndarray | None = field(default=None, repr=False)
    key_region: KeyRegion | None = None
    fill_pixels: np.ndarray | None = field(default=None, repr=False)  # region style: the detail-removed copy
    # L2 of the smallest float change found that flips, before 8-bit saving (None: the run did not flip)
    l2_minimal_float: float | None = None
    # the classifier's settings besides its weights (Classifier.settings(): input size, mean, std, labels digest, ...)
    model_settings: dict = field(default_factory=dict, repr=False)
    # the ``image`` entry of the record (ImageData.to_dict()) when run() was given an ImageData: the Python API's
    # write_result_set then names the photo as the CLI's does (gradflip check and --resume need its source)
    image_info: dict | None = field(default=None, repr=False)
    # how the run ran: {"device": "cuda:0", "batch_size": "8", "torch_threads": "1"} (the record's ``versions``):
    # another device or a batched pass rounds floats otherwise, and the key region moves with that (README, Reproducibility)
    run_on: dict = field(default_factory=dict, repr=False)

    @property
    def flipped(self) -> bool:
        return self.status == Status.FLIPPED

    def __repr__(self) -> str:
        """One line: what became of which class (the dataclass's own repr printed every array of the run, thousands
        of lines in a notebook or a log). ``summary.summary_sentence(result)`` says it in words."""
        status = getattr(self.status, "value", self.status)
        region = f", key region {self.key_region.fraction:.1%}" if self.key_region is not None else ""
        return (f"<ExplainResult {status}: {self.original.label} ({self.original.probability:.1%}) -> {self.final.label} "
                f"({self.final.probability:.1%}){region}, {len(self.steps)} steps, {self.seconds:.1f} s, {self.model_name}>")


    @property
    def flip_step(self) -> int | None:
        """The search step at which the decision flipped (None if it did not); the steps after it sharpen
        the map, search the flip back or make the 8-bit image flip."""
        return next((s.index for s in self.steps if s.flipped and s.phase == "search"), None)
    @property
    def l2(self) -> float:
        return float(np.linalg.norm(self.delta.astype(np.float64)))

    @property
    def linf(self) -> float:
        return float(np.abs(self.delta).max()) if self.delta.size else 0.0

    @property
    def rms(self) -> float:
        return self.l2 / math.sqrt(max(1, self.delta.size))

    @property
    def saved_delta(self) -> np.ndarray:
        """The change as saved: 8-bit adjusted image minus the original (float32, H x W x 3)."""
        return self.adjusted_uint8.astype(np.float32) / np.float32(255.0) - self.original_pixels

    @property
    def l2_saved(self) -> float:
        return float(np.linalg.norm(self.saved_delta.astype(np.float64)))

    @property
    def linf_saved(self) -> float:
        return float(np.abs(self.saved_delta).max()) if self.delta.size else 0.0

    @property
    def rms_saved(self) -> float:
        """The saved change per value, ``l2_saved`` / √(H·W·3), as the record and the figure have it (photos of other
        sizes compare by it)."""
        return self.l2_saved / math.sqrt(max(1, self.delta.size))

    @property
    def original_range(self) -> list[float] | None:
        """[lowest, highest] probability of a single class in the photo, as the record's ``original_range``: within a
        point of each other, the model hardly tells its classes apart."""
        return class_range(self.original_probabilities)

    def is_flip(self, index: int) -> bool:
        """Would class ``index`` as the top class count as a flip of this run? (the core's flip rule:
        targeted runs flip when the target is on top, untargeted ones when no explained class is)"""
        if self.target is not None:
            return int(index) == self.target.index
        return int(index) not in self.explained

    def label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else f"class {index}"

    def importance_map(self) -> np.ndarray:
        """H x W float32 importance: for the ``region`` style (default) the smooth mask map of the run
        (:mod:`gradflip_desktop.core.explain.mask`); otherwise derived from the flipping change, smoothed
        with :func:`maps.default_sigma`: the blur amount per pixel for the ``blur`` style, the |change|
        summed over channels (:func:`maps.magnitude_map`) for ``free``."""
        from .viz import maps

        if self.region_map is not None:
            return self.region_map
        if self.blur_amount is not None:
            return maps.smoothed(self.blur_amount)
        return maps.magnitude_map(self.delta)

    def key_region_image(self, k: int | None = None) -> np.ndarray:
        """The original with only the key region (or the first k pixels of its ranking) replaced by the
        detail-removed copy, rounded to 8 bits: exactly the image the key-region search classified (the float
        composite can differ: the rounding of a blurred area moved a class by 1.6 points). Float32 H x W x 3 in
        [0, 1], on the 8-bit levels."""
        if self.key_region is None or self.fill_pixels is None:
            raise ValueError("this run has no key region")
        mask = self.key_region.mask_for(self.key_region.pixels if k is None else k)
        from .images import quantize  # noqa: PLC0415 - the images package loads Pillow; results stays light

        return quantize(np.where(mask[..., None], self.fill_pixels, self.original_pixels).astype(np.float32))

    def key_pixel_image(self, k: int | None = None) -> np.ndarray:
        """The original with only the top-k changed pixels (by |saved change|) changed; k defaults to the key set.

        This is exactly the image the key-pixel search classified: the other pixels keep the photo's own 8-bit
        rounding (the photo itself when it is 8-bit; a 16-bit photo differs from every 8-bit image everywhere).
        Float32 H x W x 3 in [0, 1].
        """
        if self.key_pixels is None:
            raise ValueError("this run has no key pixels")
        mask = self.key_pixels.mask_for(self.key_pixels.count if k is None else k)
        from .images import quantize  # noqa: PLC0415 - the images package loads Pillow; results stays light

        base = quantize(self.original_pixels)
        change = self.adjusted_uint8.astype(np.float32) / np.float32(255.0) - base
        return np.clip(base + change * mask[..., None], 0.0, 1.0).astype(np.float32)
