"""The GradFlip explanation: follow the normalised gradient until the decision flips.

``explain(classifier, image, options)`` is a generator. It yields one :class:`Step` per gradient
evaluation (and a :class:`.Progress` per forward pass of the key region and of the map's feature regions) and returns
an :class:`ExplainResult` (``StopIteration.value``). :func:`run` consumes it.

Passes (each its own module): the search (:mod:`.search`, in the space of :mod:`.coordinates`, on the
score of :mod:`.objective`); after the flip, forward passes only: *minimise* (:mod:`.minimise`), the
*8-bit check* (:mod:`.quantise`) and *key pixels* (:mod:`.key_pixels`). The region style (the default,
:mod:`.mask`) replaces the key pixels by a flip-back search, its importance map and the *key region*
(:mod:`.key_region`).
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Generator

import numpy as np
import torch
from PIL import Image

from ..errors import ModelError
from ..images import ImageData, to_uint8
from ..models import Classifier, Prediction
from ..models.input_notes import with_input_notes
from ..models.files.safety import error_line
from ..options import ExplainOptions, Status
from ..results import FOUND_BY_SEARCH, ExplainResult, KeyPixels, KeyRegion, Progress, Step
from ..summary import NO_DETAIL_FLIP, any_of
from . import feature_groups, sums
from .arguments import as_image, callers_errors_raised, check_arguments, pixels_of
from .coordinates import BlurCoordinates, Coordinates, FreeCoordinates, coordinates_for
from .key_pixels import key_pixels
from .key_region import find_key_region
from .mask import MaskCoordinates, unit_scaled
from .restore import only_seen, restore_search
from .. import cpu_share
from .minimise import boundary_walk, minimise_alpha, ray_boundary
from .objective import Objective, RunEnded, probabilities
from .quantise import eight_bit, lattice, quantize_tensor
from .search import FREE_ADVICE, Point, SearchContext, SearchParams, search


@dataclass
class RunState:
    """Everything one run knows: fixed after the first classification, then where it has got to."""

    classifier: Classifier
    options: ExplainOptions
    pixels: np.ndarray  # the original, H x W x 3 float32
    x0: torch.Tensor
    z0: torch.Tensor
    p0: np.ndarray
    original: Prediction
    explained: list[int]
    explained_name: str
    target: int | None
    objective: Objective
    coords: Coordinates
    t_start: float
    steps: list[Step] = field(default_factory=list)
    timings: dict[str, float] = field(
        default_factory=lambda: {"flip": 0.0, "minimise": 0.0, "eight_bit": 0.0, "key_pixels": 0.0}
    )
    # where the run has got to
    x: torch.Tensor | None = None  # current adjusted image (None: x0)
    z: torch.Tensor | None = None  # logits at x (None: z0)
    alpha: float = 1.0
    key: KeyPixels | None = None
    search_done: bool = False
    region_map: np.ndarray | None = None  # region style: the importance map
    region: KeyRegion | None = None  # region style: the key region
    region_fill: torch.Tensor | None = None  # region style: what the key region is filled with (None: coords.fill)
    l2_minimal_float: float | None = None  # the smallest flipping float change found, before 8-bit saving

    def __post_init__(self) -> None:
        if self.x is None:
            self.x = self.x0
        if self.z is None:
            self.z = self.z0


def _start(clf: Classifier, pixels: np.ndarray, opts: ExplainOptions, t_start: float) -> RunState:
    """First classification (no gradient): which class is explained, what counts as a flip."""
    x0 = clf.image_tensor(pixels)
    # in the blur and free styles the search's first gradient is at the photo: the first classification
    # keeps its graph for it (a forward pass costs the same with its graph; the backward runs only when the
    # search starts). The region style first tries its fill-ins, so it classifies without a graph.
    keep = opts.style != "region" and not getattr(clf.module, "pairs_backward", False)
    xg = x0.detach().requires_grad_(True) if keep else x0
    try:
        with torch.set_grad_enabled(keep):
            z_graph = clf.module(xg)
        z0 = z_graph.detach() if isinstance(z_graph, torch.Tensor) else z_graph
    except Exception as exc:  # noqa: BLE001 - any model failure becomes a status
        raise ModelError(f"the model failed on this image: {error_line(exc)}") from None
    if z0.ndim != 2 or z0.shape[0] != 1 or z0.shape[1] != clf.num_classes:
        raise ModelError(f"the model returned logits of shape {tuple(z0.shape)}, expected (1, {clf.num_classes})")
    if not bool(torch.isfinite(z0).all()):  # as Classifier.classify says it: no class to explain, so no result
        raise ModelError("the model produced non-finite outputs (NaN or infinity) for this image")
    p0 = probabilities(z0)
    top0 = _top(z0, p0)
    original = Prediction(top0, clf.label(top0), float(p0[top0]))
    target_idx = None if opts.target is None else clf.find_class(opts.target)
    if opts.group is not None:
        explained_name, explained = clf.find_group(opts.group)
    else:
        explained_name, explained = clf.label(top0), [top0]
    obj = Objective(clf, explained, target_idx, x0)
    if keep and bool(torch.isfinite(z0).all()):
        obj.keep_pass(x0, xg, z_graph)
    coords = coordinates_for(x0, opts)
    obj.fwd_evals = 1
    return RunState(
        classifier=clf, options=opts, pixels=pixels, x0=x0, z0=z0, p0=p0, original=original,
        explained=list(explained), explained_name=explained_name, target=target_idx,
        objective=obj, coords=coords, t_start=t_start,
    )


def _top(z: torch.Tensor, p: np.ndarray) -> int:
    """The top class by the logits (as the flip test and Classifier.top order them; the float32
    probabilities can tie where the logits do not)."""
    return int(torch.argmax(z[0])) if bool(torch.isfinite(z).all()) else int(np.argmax(p))


SATURATED = ("the gradient is zero: the model's own output is saturated (its final sigmoid or softmax gives "
             "exactly 100 % in float32, which has no gradient), so no change of the photo can be found; export the "
             "model without its final sigmoid/softmax (returning its logits) to explain this image")


def _saturated(s: RunState) -> bool:
    """The model outputs probabilities (module ``probabilities``) and the photo's top one is 1 to float32 precision."""
    return bool(getattr(s.classifier.module, "probabilities", False)) and float(np.max(s.p0)) >= 1.0 - 2.0 ** -24


IGNORES_PIXELS = ("the gradient is zero for every pixel: the model's score has no gradient with respect to the photo "
                  "here (a model that ignores its input or detaches it, or a constant one), so no style can flip it")


def _ignores_pixels(s: RunState, stop: Callable[[], bool]) -> bool:
    """Whether the margin's gradient at the photo is zero for every pixel (one gradient evaluation, when removing
    detail changed nothing): then the "smallest change" style, which the message advised, stops at once too."""
    if stop():
        return False
    try:
        _, _, g = s.objective.margin_and_grad(s.x0)
    except Exception:  # noqa: BLE001 - the advice stays as it was
        return False
    return bool(torch.isfinite(g).all()) and not bool(g.abs().gt(0).any())


SMALL_BLUR = 1.0  # a blur-style sigma (px) below which a run that ends without a flip names the blur as the cause
DEFAULT_BLUR = "(the default is the long side / 24)"  # BlurCoordinates' sigma when none is given


def _no_region_flip(s: RunState, outcome, reachable: bool, stop: Callable[[], bool]) -> str:
    """The message of a search that ended without a flip; for a region run where no fill-in flips the decision
    applied everywhere (a model that does not go by detail), it says which style can. A zero gradient of a model
    whose own output is a probability that has rounded to 100 % (a final sigmoid or softmax, read through its
    logarithm) says so: no style can change that, only a model file that returns its logits."""
    if outcome.status == Status.ZERO_GRADIENT and _saturated(s):
        return SATURATED
    if isinstance(s.coords, BlurCoordinates) and (sigma := s.options.blur_sigma) is not None and sigma < SMALL_BLUR \
            and outcome.status in (Status.STALLED, Status.BUDGET, Status.ZERO_GRADIENT):  # the blur chosen, not the photo
        return f"{outcome.message}; blurring with sigma {sigma:g} px removes little detail: a larger blur sigma may flip it {DEFAULT_BLUR}"
    if not isinstance(s.coords, MaskCoordinates) or reachable or outcome.status not in (
            Status.STALLED, Status.BUDGET, Status.ZERO_GRADIENT):
        return outcome.message
    if outcome.status == Status.ZERO_GRADIENT and _ignores_pixels(s, stop):
        return IGNORES_PIXELS
    first = ("the gradient is zero: removing detail does not change the model's score here (a model that does not "
             "go by detail, or a flat one)" if outcome.status == Status.ZERO_GRADIENT
             else outcome.message.removesuffix(FREE_ADVICE))  # MASK_AT_LIMIT's advice: given once, below
    return (f"{first}; {NO_DETAIL_FLIP} (blurred, or the mean colour): try the "
            "“smallest change” style (--style free), which can change any pixel")


def stops_every_style(result: ExplainResult) -> bool:
    """The model itself ended ``result``'s run, so no other style could do better: it failed or gave NaN, carries no
    gradient (a constant model: class scores that never change), is saturated (:data:`SATURATED`), ignores its pixels
    (:data:`IGNORES_PIXELS`: a region run checks them), or a textbook run's first gradient was zero (the pixels'
    gradient, which every style's goes through). The window then offers no other run (it offered "Key region" to a
    constant model, which has none to find)."""
    status = str(result.status)
    if status in (Status.MODEL_ERROR, Status.NONFINITE_OUTPUT, Status.NONFINITE_GRADIENT) or any(
            words in result.message for words in (SATURATED, IGNORES_PIXELS)):
        return True
    return status == Status.ZERO_GRADIENT and not result.steps and getattr(result.options, "style", None) == "free"


def _with_feature_groups(s: RunState, stop):
    """The searches' map blended with the feature-group half (:mod:`.feature_groups`), each min-max scaled;
    the searches' map alone when the model has no such half (a generator: yields the half's Progress)."""
    if feature_groups.SHARE <= 0:
        return s.region_map
    obj = s.objective
    pre = getattr(s.classifier, "preprocessing", None)
    box = None if pre is None else pre.visible_box(*s.x0.shape[-2:])

    def counted(grads: int, forwards: int) -> None:
        obj.grad_evals += grads
        obj.fwd_evals += forwards

    half = yield from feature_groups.feature_group_map(s.classifier.module, s.x0, s.coords.fill, obj.explained_mask,
                                                       stop, box, counted)
    return feature_groups.blend(s.region_map, half)


def _hwc(x: torch.Tensor) -> np.ndarray:
    """1 x 3 x H x W tensor -> H x W x 3 float32 numpy."""
    return x[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)


def _not_in_group(clf, s) -> str:
    """Why a group run has nothing to flip; a group of one class (`--group 281`) names that class."""
    if len(s.explained) == 1:
        only = s.explained[0]
        return (f"the top class “{s.original.label}” is not the group's one class, “{clf.label(only)}” ({only}); "
                "nothing to flip")
    return f"the top class “{s.original.label}” is not in the group “{any_of(s.explained_name)}”; nothing to flip"


def _finish(s: RunState, status: Status, message: str, x_final: torch.Tensor | None = None, z_final=None) -> ExplainResult:
    clf, obj = s.classifier, s.objective
    x = s.x if x_final is None else x_final
    adj = x[0].permute(1, 2, 0).detach().cpu().numpy().astype(np.float32)
    adj_u8 = to_uint8(adj)
    delta = (adj - s.pixels).astype(np.float32)
    if status in (Status.ALREADY, Status.STALLED) and z_final is not None and not np.array_equal(adj_u8.astype(np.float32) / 255.0, adj):
        z_final = None  # the float photo's output: ``final`` is the saved 8-bit image's (a cancel skips this pass)
    if z_final is None:
        try:
            z_final = obj.forward(clf.image_tensor(adj_u8.astype(np.float32) / 255.0))
        except Exception:  # noqa: BLE001 - the model may fail again here; keep the last known output
            z_final = s.z
    pf = probabilities(z_final)
    top = _top(z_final, pf)
    return ExplainResult(
        status=Status(status),
        message=message,
        original=s.original,
        final=Prediction(top, clf.label(top), float(pf[top])),
        explained=list(s.explained),
        explained_name=s.explained_name,
        target=None if s.target is None else Prediction(s.target, clf.label(s.target), float(s.p0[s.target])),
        steps=s.steps,
        gradient_evaluations=obj.grad_evals,
        forward_evaluations=obj.fwd_evals,
        original_pixels=s.pixels,
        adjusted_pixels=adj,
        adjusted_uint8=adj_u8,
        delta=delta,
        original_probabilities=s.p0.astype(np.float32),
        final_probabilities=pf.astype(np.float32),
        alpha=float(s.alpha),
        key_pixels=s.key,
        blur_amount=s.coords.blur_amount(x),
        timings=s.timings,
        seconds=time.perf_counter() - s.t_start,
        options=s.options,
        model_name=clf.name,
        model_settings=clf.settings() if hasattr(clf, "settings") else {},
        run_on={"device": str(getattr(clf, "device", "cpu")), "batch_size": str(getattr(clf, "batch_size", 1)),
                "torch_threads": s.objective.threads_text()},  # this thread's: a record may be written on another
        labels=list(clf.labels),
        groups={k: list(v) for k, v in getattr(clf, "groups", {}).items()} if len(s.explained) > 1 else {},
        region_map=s.region_map,
        key_region=s.region,
        fill_pixels=(_hwc(s.coords.fill if s.region_fill is None else s.region_fill)
                     if isinstance(s.coords, MaskCoordinates) else None),
        l2_minimal_float=s.l2_minimal_float,
    )


@callers_errors_raised
def explain(
    classifier: Classifier,
    image: ImageData | np.ndarray,
    options: ExplainOptions | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Generator[Step | Progress, None, ExplainResult]:
    """Explain the classifier's decision on ``image`` (H x W x 3 float32 in [0, 1], an ImageData, or a path).

    Yields a :class:`Step` per gradient evaluation (and a :class:`.Progress` per key-region or feature-region pass);
    returns an :class:`ExplainResult`. ``should_stop()`` is polled before every model evaluation; when it returns True
    the run ends with status ``cancelled`` and the state reached so far (an exception it raises reaches the caller).
    Raises ``ValueError``/``ModelError`` only for invalid options (bad target or group names) and for a model
    that fails on the photo's first classification (an error, a wrong shape, NaN or infinity): no class to explain.
    """
    image = as_image(image)
    check_arguments(classifier, image, options)
    # a copy, kept by the result (a caller's loop setting opts.style rewrote earlier records); "2.0 steps" as 2
    opts = copy.deepcopy(options) if options is not None else ExplainOptions()
    opts.validate()
    opts.max_steps, opts.coarse, opts.extra_steps = int(opts.max_steps), int(opts.coarse), int(opts.extra_steps)
    if str(getattr(classifier, "device", "cpu")).startswith("cpu"):
        cpu_share.choose()  # the app and the command line: the cores other programs leave free now (no-op elsewhere)
    stop = should_stop  # guarded (callers_errors_raised): never None, its exceptions the caller's
    pixels = pixels_of(image)
    if isinstance(image, ImageData):  # a 10 x 10 icon: said with the image's notes (record, figure, CLI)
        with_input_notes(getattr(classifier, "preprocessing", None), image)
    t_start = time.perf_counter()
    s = _start(classifier, pixels, opts, t_start)
    clf, obj, x0, z0, timings = classifier, s.objective, s.x0, s.z0, s.timings

    if obj.flipped(z0):
        if s.target is not None:
            msg = f"the model already predicts the target “{clf.label(s.target)}”; nothing to change"
        else:
            msg = _not_in_group(clf, s)
        return _finish(s, Status.ALREADY, msg, x0, z0)

    ctx = SearchContext(objective=obj, options=opts, coords=s.coords, steps=s.steps, stop=stop)
    reachable = False  # region style, a flip within reach: a stuck adaptive search may go on in whole steps
    try:
        if isinstance(s.coords, MaskCoordinates):
            reachable = s.coords.choose_fill(obj, stop)  # the fully detail-removed image flips
        if stop():  # before the first gradient: with a slow model every evaluation spared counts
            return _finish(s, Status.CANCELLED, "cancelled by the user", x0, z0)
        if isinstance(s.coords, (MaskCoordinates, BlurCoordinates)) and float(s.coords.d.abs().max()) < 0.5 / 255:
            if isinstance(s.coords, BlurCoordinates) and float((x0.amax((-2, -1)) - x0.amin((-2, -1))).max()) >= 0.5 / 255:
                return _finish(s, Status.STALLED, f"blurring with sigma {opts.blur_sigma:g} px changes no pixel by half an 8-bit "
                               f"level: so small a blur removes no detail; give a larger blur sigma {DEFAULT_BLUR}", x0, z0)
            # a flat photo (or 1 x 1): its fill-ins (blurred copy, mean colour) are the photo itself
            how = "blurring it or replacing it by its mean colour" if isinstance(s.coords, MaskCoordinates) else "blurring it"
            return _finish(s, Status.STALLED, f"the photo has no detail to remove (it is flat: {how} gives the same "
                           f"image), so the {opts.style} style cannot change it; the “smallest change” style "
                           "(--style free) can", x0, z0)
        # ---- search -------------------------------------------------------------------------------
        start = Point.at(obj, s.coords.start(), x0)
        free = isinstance(s.coords, FreeCoordinates)  # any pixel can change: a stuck search goes on (search.py)
        outcome = yield from search(
            ctx,
            SearchParams(start=start, epsilon=float(opts.epsilon), budget=int(opts.max_steps),
                         success=lambda zn, xn: obj.flipped(zn), rescue=reachable or free, rescue_at_peak=free,
                         give_up=isinstance(s.coords, MaskCoordinates) and not reachable,
                         # a stalled region search goes on to the fully detail-removed image, which flips
                         fade_to=s.coords.full() if isinstance(s.coords, MaskCoordinates) and reachable else None,
                         # only the region style's restore search goes on from the flip's gradient; a batched
                         # run's model thread pairs every gradient forward with its backward
                         flip_gradient=isinstance(s.coords, MaskCoordinates)
                         or bool(getattr(clf.module, "pairs_backward", False))),
        )
        s.x, s.z = outcome.x, outcome.z
        s.search_done = True
        timings["flip"] = time.perf_counter() - t_start
        if outcome.status != Status.FLIPPED:
            return _finish(s, outcome.status, _no_region_flip(s, outcome, reachable, stop))

        # ---- minimise: smallest alpha*delta that still flips ------------------------------------
        t = time.perf_counter()
        delta = outcome.x - x0
        grad_min = None  # the margin's gradient near the smallest change, when the refinement has it
        if opts.minimise:  # the crossing on the line: regula falsi on the margin (bisection as the fallback)
            m0 = float(obj.margin(z0)[0])
            crossing = ray_boundary(obj, x0, delta, m0, stop, m1=float(obj.margin(outcome.z)[0]),
                                    keep=opts.textbook and opts.refine)
            s.alpha = minimise_alpha(obj, x0, delta, stop) if crossing is None else crossing
        x_min = x0 + s.alpha * delta
        if opts.minimise and opts.textbook and opts.refine and not stop():  # the smallest change is the point
            refined = boundary_walk(obj, x0, x_min - x0, m0, stop)
            x_min, grad_min = x0 + refined.change, refined.grad
        obj.drop_kept()
        s.l2_minimal_float = sums.norm((x_min - x0).double())
        timings["minimise"] = time.perf_counter() - t
        if stop():  # keep the smallest change when its saved (8-bit) image flips, else the search's flipping one
            zq = obj.forward(quantize_tensor(x_min)) if opts.eight_bit else None
            keep = zq is None or obj.flipped(zq)
            s.x = x_min if keep else outcome.x
            s.alpha = s.alpha if keep else 1.0  # the record's alpha is the kept image's (the plot's "change × alpha")
            return _finish(s, Status.CANCELLED, "cancelled after the decision flipped, before the final checks",
                           z_final=zq if keep else None)

        # ---- 8-bit check: the saved PNG must flip too -------------------------------------------
        t = time.perf_counter()
        x_final = x_min
        on_lattice = None
        if opts.eight_bit and opts.lattice and opts.textbook:
            on_lattice = lattice(ctx, x_min, grad_min, float(obj.margin(z0)[0]))
            obj.drop_kept()
        if on_lattice is not None:
            x_final = on_lattice
        elif opts.eight_bit:
            x_final = yield from eight_bit(ctx, s, outcome.c, delta)
        s.x = x_final
        timings["eight_bit"] = time.perf_counter() - t
        xq = quantize_tensor(x_final) if opts.eight_bit else x_final
        zq = obj.forward(xq)
        if not obj.flipped(zq):
            timings["eight_bit"] = time.perf_counter() - t
            if stop():
                return _finish(s, Status.CANCELLED, "cancelled while making the change survive 8-bit saving")
            return _finish(
                s,
                Status.BUDGET,
                "the decision flipped, but the change did not survive 8-bit quantisation within the extra step budget",
            )

        # ---- region style: flip back, the importance map, the key region -------------------------
        if isinstance(s.coords, MaskCoordinates):
            t = time.perf_counter()
            if s.target is None and not stop():
                s.region_map = yield from restore_search(ctx, s.explained, outcome.c, outcome.point)
                s.region_map = yield from _with_feature_groups(s, stop)
            else:
                s.region_map = unit_scaled(s.coords.weights(outcome.c)[0, 0]).cpu().numpy().astype(np.float32)
            s.region_map = only_seen(s.region_map, getattr(s.classifier, "preprocessing", None))
            timings["restore"] = time.perf_counter() - t
            t = time.perf_counter()
            if opts.key_pixels and not stop():  # ranked by the map shown: its outline is where the map is bright
                fill, fill_name = s.coords.fill, s.coords.fill_name
                if not reachable:  # no fill-in flips applied everywhere, the partial removal found does: its
                    # region would never flip with the fill-in, so the region is taken of the change found
                    base = "blur" if fill_name.startswith("blur") else fill_name  # what the search faded toward
                    fill, fill_name = x_final.detach(), f"{base}{FOUND_BY_SEARCH}"
                    s.region_fill = fill
                s.region = yield from find_key_region(obj, x0, fill, s.region_map, stop, fill_name)
                if reachable and not s.region.flips and not stop():
                    # the fill-in flipped applied everywhere in float, but not as the 8-bit image the region
                    # is tested as (a near tie, e.g. a fully blurred photo with no class above a few per
                    # cent): take the region of the change found, which flips as saved (checked above)
                    base = "blur" if fill_name.startswith("blur") else fill_name
                    fill, fill_name = x_final.detach(), f"{base}{FOUND_BY_SEARCH}"
                    s.region_fill = fill
                    s.region = yield from find_key_region(obj, x0, fill, s.region_map, stop, fill_name)
            timings["key_region"] = time.perf_counter() - t
        # ---- key pixels ---------------------------------------------------------------------------
        t = time.perf_counter()
        if opts.key_pixels and not stop() and not isinstance(s.coords, MaskCoordinates):
            # from the photo's own 8-bit rounding (the photo itself for an 8-bit one): a 16-bit or float photo
            # differs from any 8-bit image everywhere, and that rounding is not a change the flip needs
            base = quantize_tensor(x0)
            # pixels of equal saved |change| (whole 8-bit levels: many tie) are ordered by the float change: the
            # smallest change's after the lattice pass, else the float image behind the saved one (without a
            # tie-break they went in scan order: the key set took the tied pixels of the top rows, none of the bottom's)
            s.key = key_pixels(obj, base, xq - base, stop, tie=x_min - x0 if on_lattice is not None else x_final - base)
        timings["key_pixels"] = time.perf_counter() - t
    except RunEnded as ended:
        if not s.search_done:
            s.x = obj.last_x
        return _finish(s, ended.status, ended.message)
    except Exception as exc:  # noqa: BLE001 - a model raising in forward/backward ends the run clearly
        if not s.search_done:
            s.x = obj.last_x
        return _finish(s, Status.MODEL_ERROR, f"the model failed during the run: {error_line(exc)}")
    if stop() and opts.key_pixels:  # a Cancel during the key-set search (it stops early: its set is not the smallest)
        what, verb = ("the key region", "was") if isinstance(s.coords, MaskCoordinates) else ("the key pixels", "were")
        s.region, s.key = None, None
        return _finish(s, Status.CANCELLED, f"cancelled after the decision flipped, before {what} {verb} found")
    res = _finish(s, Status.FLIPPED, "", z_final=zq)
    named = any_of(res.explained_name) if len(res.explained) > 1 else res.original.label  # a group flips as a whole
    if named == res.final.label:  # two classes labelled alike (a labels file's repeat): their indices tell them apart
        res.message = f"“{named}” (class {res.original.index}) flipped to “{named}” (class {res.final.index})"
    else:
        res.message = f"“{named}” flipped to “{res.final.label}”"
    return res


def run(
    classifier: Classifier,
    image: ImageData | np.ndarray | torch.Tensor | Image.Image | str | os.PathLike,
    options: ExplainOptions | None = None,
    on_step: Callable[[Step], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> ExplainResult:
    """Run :func:`explain` to the end and return its result, calling ``on_step`` for every step and
    ``on_progress`` for every :class:`~..results.Progress` (the key region's and feature regions' passes, not steps).
    ``image``: an :class:`ImageData`, H x W x 3 floats in [0, 1] (a numpy array or a tensor), a Pillow image, or a
    path (``str`` or ``os.PathLike``), loaded as :func:`~..images.load_image` loads it (the working size: 1,024 px)."""
    image = as_image(image)
    info = image.to_dict() if isinstance(image, ImageData) else None
    loaded = getattr(image, "file_stat", None)  # (bytes, mtime_ns) of the file load_image read; None: not a file's
    if info is not None and image.source and loaded is not None:  # as the CLI and the app record it:
        from ..dataset.inputs import file_fingerprint  # noqa: PLC0415 - --resume and check see an edited photo

        now = file_fingerprint(image.source)  # the file as it is now: only when it is still the one loaded (a photo
        if now is not None and (now["bytes"], now["mtime_ns"]) == tuple(loaded):  # replaced since: no digest of it)
            info["file"] = now
    gen = explain(classifier, image, options, should_stop=should_stop)
    while True:
        try:
            step = next(gen)
        except StopIteration as done:
            result = done.value
            if info is not None and getattr(result, "image_info", None) is None:
                # the notes as the run left them: with a tiny photo's "the model enlarges it 22×" (it was missing)
                result.image_info = {**info, "warnings": image.to_dict()["warnings"]}
            return result
        if isinstance(step, Step):
            if on_step is not None:
                on_step(step)
        elif on_progress is not None and isinstance(step, Progress):
            on_progress(step)
