"""Is a map faithful on *this* photo and model? Its deletion and insertion curves, next to other maps'.

An importance map claims an order of the pixels. The deletion curve replaces the map's top pixels by a
fill-in, more and more of them, and reads the explained class's probability; a faithful map makes it fall
fast (a small area under the curve). The insertion curve starts from the fill-in and puts the top pixels
back; a faithful map makes the class return fast (a large area). Petsiuk et al. 2018 (RISE) defined them;
``benchmarks/faithfulness.py`` measures the same curves over many photos (this module's numbers equal its
own for the same map, fill-in and points: ``tests/core/test_faithfulness.py``).

Fill-ins: ``"blur"`` (the photo blurred with σ = 10/224 of the long side: 10 px at 224 px, the benchmark's),
``"mean"`` (the photo's mean colour) and ``"black"``. Only the map's *order* counts: ties are broken by
one fixed random order, so a flat map is a random one. The probability is the explained set's: the class,
or the sum over a group ("any cat").

    check = check_maps(classifier, pixels, {"GradFlip": result.importance_map(), "Grad-CAM": cam}, result.explained)
    print(check.sentence())
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

FILLS = ("blur", "mean", "black")
FILL_NAMES = {"blur": "the blurred photo", "mean": "the mean colour", "black": "black"}
BLUR_SHARE = 10.0 / 224.0  # the blur fill-in's sigma as a share of the long side (10 px at 224 px)
POINTS = 21  # points per curve: 0 %, 5 %, ..., 100 % of the pixels
# per curve: every 0.01 %; more only costs model calls (--points 1e9 took 10 GB for its pixel counts before any call)
MAX_POINTS = 10_001
BATCH_VALUES = 8 * 3 * 224 * 224  # images per model call: as many as fit in this many float values (at least 1)


def fill_in(pixels: np.ndarray, kind: str = "blur") -> np.ndarray:
    """The image that replaces deleted pixels: H x W x 3 float32 in [0, 1]."""
    x = np.asarray(pixels, dtype=np.float32)
    if kind == "blur":
        from .viz.filters import blur_array

        return np.clip(blur_array(x, BLUR_SHARE * max(x.shape[:2])), 0.0, 1.0).astype(np.float32)
    if kind == "mean":
        return np.ascontiguousarray(np.broadcast_to(x.mean(axis=(0, 1)), x.shape), dtype=np.float32)
    if kind == "black":
        return np.zeros_like(x)
    raise ValueError(f"fill-in must be one of {', '.join(FILLS)}, not {kind!r}")


def ranking(importance: np.ndarray) -> np.ndarray:
    """H x W int64: each pixel's rank (0 = most important). Ties, and NaN (least important), in one fixed
    random order, so equal values never favour the image's top rows."""
    v = np.nan_to_num(np.asarray(importance, dtype=np.float64), nan=-np.inf).ravel()
    tie = np.random.default_rng(0).random(v.size)
    order = np.lexsort((tie, -v))
    ranks = np.empty(v.size, np.int64)
    ranks[order] = np.arange(v.size)
    return ranks.reshape(np.shape(importance))


AREA_DIGITS = 3  # areas are printed (window, `gradflip check`'s lines and table) and compared to this many decimals


def area_text(area: float) -> str:
    return f"{area:.{AREA_DIGITS}f}"


def same_area(a: float, b: float) -> bool:
    """Areas that print alike are a tie: no map leads. A tolerance (5e-4) crowned "GradFlip 0.020" over
    "Grad-CAM 0.020" (0.0196 against 0.0203) and called 0.037 and 0.038 a tie; equal printed numbers say what the reader
    sees."""
    return area_text(a) == area_text(b)


FLAT = 0.05  # curves whose probabilities all lie within this share of their largest name no winner (25.1 % vs 24.9 %)
LOW = 0.05  # nor curves that never reach this probability: a class the model hardly sees (a random-weights ResNet's
# top class at 2.9 %) named a winner by areas 0.001 apart


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class Curve:
    """One map's two curves: the explained probability at each share of the pixels changed."""

    name: str
    fractions: tuple[float, ...]
    deletion: tuple[float, ...]  # the top pixels replaced by the fill-in
    insertion: tuple[float, ...]  # the top pixels put back into the fill-in

    @property
    def deletion_auc(self) -> float:
        """Area under the deletion curve (lower = more faithful)."""
        return float(np.trapezoid(self.deletion, self.fractions))

    @property
    def insertion_auc(self) -> float:
        """Area under the insertion curve (higher = more faithful)."""
        return float(np.trapezoid(self.insertion, self.fractions))

    def to_dict(self) -> dict:
        return {"name": self.name, "deletion_auc": round(self.deletion_auc, 6), "insertion_auc": round(self.insertion_auc, 6),
                "fractions": [round(f, 6) for f in self.fractions], "deletion": [round(p, 6) for p in self.deletion],
                "insertion": [round(p, 6) for p in self.insertion]}


@dataclass(frozen=True)
class FaithfulnessCheck:
    """The curves of several maps of one photo, same fill-in and points (see the module doc)."""

    fill: str
    explained: str  # what the probability is of: a class label, or "any cat"
    curves: tuple[Curve, ...] = field(default_factory=tuple)

    def curve(self, name: str) -> Curve | None:
        return next((c for c in self.curves if c.name == name), None)

    def best(self) -> tuple[str, str]:
        """The names of the maps with the lowest deletion and the highest insertion area (the first on a tie)."""
        dele = min(self.curves, key=lambda c: c.deletion_auc)
        ins = max(self.curves, key=lambda c: c.insertion_auc)
        return dele.name, ins.name

    def numbers(self) -> str:
        """"GradFlip 0.031 / 0.402 · Grad-CAM 0.070 / 0.153": deletion / insertion area per map."""
        return " · ".join(f"{c.name} {area_text(c.deletion_auc)} / {area_text(c.insertion_auc)}" for c in self.curves)

    def flat(self) -> bool:
        """Every point of every curve within :data:`FLAT` of the largest: the fill-in barely moves the class; or
        every point below :data:`LOW`: the model hardly sees the class. Either way no map wins (the verdict, the
        window's bold numbers and ``gradflip check``'s table all say so)."""
        values = [p for c in self.curves for p in (*c.deletion, *c.insertion)]
        return bool(values) and (max(values) - min(values) <= FLAT * max(values) or max(values) < LOW)

    def verdict(self) -> str:
        """Which map the curves favour on this photo, in words."""
        if len(self.curves) < 2:
            return ""
        values = [p for c in self.curves for p in (*c.deletion, *c.insertion)]
        if self.flat():  # a fill-in that does not move the class, or a class the model hardly sees: no winner
            span = f"({100 * min(values):.1f}–{100 * max(values):.1f} %)"
            if max(values) - min(values) > FLAT * max(values):
                return (f"{self.explained} stays below {100 * LOW:.0f} % under this fill-in {span}: the curves cannot tell "
                        "the maps apart")
            return f"{self.explained} barely moves under this fill-in {span}: the curves cannot tell the maps apart"
        dele, ins = self.best()
        tied_d = [c.name for c in self.curves if same_area(c.deletion_auc, self.curve(dele).deletion_auc)]
        tied_i = [c.name for c in self.curves if same_area(c.insertion_auc, self.curve(ins).insertion_auc)]
        if len(tied_d) > 1 or len(tied_i) > 1:  # never a winner by list order (e.g. --points 2: every area equal)
            if len(tied_d) == len(tied_i) == len(self.curves):
                return "the maps tie on both curves"
            d = f"{_names(tied_d)} tie on deletion" if len(tied_d) > 1 else f"{dele}'s map removes {self.explained} fastest"
            i = f"{_names(tied_i)} tie on insertion" if len(tied_i) > 1 else f"{ins}'s brings it back fastest"
            return f"{d}, {i}"
        if dele == ins:
            return f"{dele}'s map is the most faithful on both curves"
        return f"{dele}'s map removes {self.explained} fastest, {ins}'s brings it back fastest"

    def sentence(self) -> str:
        """One line for a person: the verdict, then the numbers and how they were made."""
        head = self.verdict()
        how = (f"deletion ↓ / insertion ↑ areas, {len(self.curves[0].fractions) if self.curves else 0} points, "
               f"{FILL_NAMES.get(self.fill, self.fill)} as fill-in")
        return (f"{head}: " if head else "") + f"{self.numbers()} ({how})"

    def to_dict(self) -> dict:
        return {"fill": self.fill, "explained": self.explained, "maps": [c.to_dict() for c in self.curves]}


def check_maps(
    classifier,
    pixels: np.ndarray,
    maps: dict[str, np.ndarray],
    explained: list[int],
    fill: str = "blur",
    points: int = POINTS,
    explained_name: str | None = None,
    stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FaithfulnessCheck | None:
    """Deletion and insertion curves of each map in ``maps`` (name -> H x W importance, higher = more
    important) on ``pixels`` (H x W x 3 float32 in [0, 1], the photo the maps explain), for the probability
    of the classes ``explained`` (summed: a group), with ``fill`` (:data:`FILLS`) and ``points`` points per
    curve (>= 2). ``stop()`` is polled before each model call; returns ``None`` when it said stop.
    ``progress(done, total)`` is told the images measured so far after each model call (2 curves x ``points``
    images per map; one image per call at 1,024 px, so a check there takes a while). Raises
    :class:`~gradflip_desktop.core.errors.ModelError` when the model's outputs are not finite and
    ``ValueError`` for a map of another size or an unknown fill-in."""
    import torch

    from .attributions import batch_scores  # a network that takes one image at a time: image by image
    from .errors import ModelError
    from .models.labels import class_indices

    if not isinstance(maps, Mapping):  # a list of maps: "'list' object has no attribute 'items'"
        raise TypeError(f"maps must be a dict of name -> H x W map, e.g. {{'GradFlip': m}}, not {type(maps).__name__}")
    x = np.asarray(getattr(pixels, "pixels", pixels), dtype=np.float32)  # an ImageData too, as run() takes it
    h, w = x.shape[:2]
    for name, m in maps.items():
        if np.shape(m) != (h, w):
            raise ValueError(f"the map {name!r} is {np.shape(m)}, the photo {h} x {w}")
        if np.asarray(m).dtype.kind not in "biuf" or not np.all(np.isfinite(m)):  # NaN ranked as it came: a score
            raise ValueError(f"the map {name!r} holds values that are not finite real numbers (NaN, infinity)")
    if int(points) < 2:
        raise ValueError(f"a curve needs at least 2 points, not {points}")
    if int(points) > MAX_POINTS:
        raise ValueError(f"a curve takes at most {MAX_POINTS:,} points, not {points}")
    if isinstance(explained, str):  # a label: its class (was int() of each letter: "invalid literal ... 'E'")
        explained = [classifier.find_class(explained)]
    classes = class_indices(explained)  # [True] was class 1; None and 1.5 were TypeErrors, [99] an IndexError
    if not classes:
        raise ValueError("no class to explain")
    if not all(0 <= i < getattr(classifier, "num_classes", i + 1) for i in classes):
        raise ModelError(f"classes {classes} are not all among the model's {classifier.num_classes} classes")
    if not maps:
        raise ValueError("no map to check: give maps as {name: H x W importance}")
    n = h * w
    ks = np.linspace(0, n, int(points)).round().astype(np.int64)
    device = getattr(classifier, "device", "cpu")
    xt = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1).to(device)
    bt = torch.from_numpy(fill_in(x, fill)).permute(2, 0, 1).to(device)
    per_call = max(1, BATCH_VALUES // max(1, 3 * n))
    curves = []
    total, done = 2 * len(ks) * len(maps), 0
    for name, m in maps.items():
        r = torch.from_numpy(ranking(m)).to(device)
        dels: list[float] = []
        ins: list[float] = []
        for start in range(0, len(ks), per_call):
            masks = torch.stack([(r < int(k)) for k in ks[start:start + per_call]]).to(xt.dtype)[:, None]
            for kind, out in (("del", dels), ("ins", ins)):
                if stop is not None and stop():
                    return None
                batch = xt * (1 - masks) + bt * masks if kind == "del" else bt * (1 - masks) + xt * masks
                with torch.no_grad():
                    z = batch_scores(classifier.module, batch).double()
                if not bool(torch.isfinite(z).all()):
                    raise ModelError("the model produced non-finite outputs (NaN or infinity) while the map was checked")
                out += torch.softmax(z, 1)[:, classes].sum(1).clamp(0.0, 1.0).cpu().tolist()
                done += len(batch)
                if progress is not None:
                    progress(done, total)
        curves.append(Curve(name, tuple(float(k) / n for k in ks), tuple(dels), tuple(ins)))
    if explained_name is None:
        explained_name = classifier.label(classes[0]) if len(classes) == 1 else "the explained group"  # one thing: "...brings it back"
    return FaithfulnessCheck(fill, explained_name, tuple(curves))


__all__ = ["FILLS", "MAX_POINTS", "POINTS", "Curve", "FaithfulnessCheck", "check_maps", "fill_in", "ranking"]
