"""The gradient step loop shared by the search and the 8-bit recovery.

One step: ``g = ∇S`` pulled back to the search coordinates, optionally Gaussian-smoothed and/or
projected to 1/coarse resolution; ``c ← clip(c − ε·scale·g/|g|, 0, 1)``. ``"fixed"`` mode keeps ε;
``"adaptive"`` compares the predicted (first-order) and actual decrease of the loss: ratio > 0.75 grows
ε ×1.5 (at most ``EPS_MAX``), ratio < 0.25 shrinks it ×0.7, and a step that does not decrease the loss
is rejected (the image stays) and ε halves. Below ``EPS_MIN`` the run has stalled. With
``SearchParams.rescue`` (the free style, which can change any pixel, and the region style's deletion search
when its fully detail-removed image flips: a flip is within reach), a search whose ε shrank below ``STUCK`` of
its start without a flip goes on in whole steps instead, of the run's ε (region) or of the longest ε an
adaptive step was accepted at (free, ``rescue_at_peak``), and a group run then lowers the margin once its
log-odds is below 0 (:meth:`.objective.Objective.switch_to_margin`). Whole steps that find no lower loss
than the lowest so far in ``PATIENCE`` steps end the search ``stalled`` at that lowest point; with
``SearchParams.fade_to`` (the region style whose fully detail-removed image flips) they go on instead in ``FADE``
steps from that point straight to it, removing the rest of the detail evenly, until the decision flips (the
bundled cat's run over the cats and big cats, ``--group 281-287``, stalled at a local optimum 100 steps in).

Why: the adaptive rule trusts the first-order prediction, which fails on a crease of a piecewise-linear
score (ReLU, max-pool). A small random-init ReLU net (a Hugging Face ResNet with 8/16 channels) drives
hundreds of units onto their kinks: at its "stall" |∇S| = 0.0084 predicted a fall of 7e-6 for ε = 1e-6, the
score rose 1e-6 (7e-7 in float64: no rounding), ε shrank ×0.7 step after step to ``EPS_MIN`` ("a local
optimum", 148 steps, L2 27), yet the score still fell toward the mean colour and whole steps flip it
(tests/core/explain/test_creases.py). A rough score in the region style did the same (the bundled cat's
"any cat" run crawled 192 steps; docs/benchmarks.md, "Group runs").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Generator

import torch
import torch.nn.functional as F

from ..options import EPS_MAX, EPS_MIN, ExplainOptions, Status
from ..results import Step
from ..summary import steps_text
from ..viz.filters import gaussian_blur
from .coordinates import Coordinates
from . import sums
from .objective import Objective, probabilities

AT_LIMIT = "every pixel the gradient points at is already at its limit; the image cannot change further"
# the key-region and blur styles step a mask of how much detail is removed, not the pixels
FREE_ADVICE = "; the “smallest change” style (--style free) can change any pixel"
MASK_AT_LIMIT = ("every area the gradient points at already has all of its detail removed, or none of it: removing "
                 "detail cannot change the photo further" + FREE_ADVICE)
GROW = 1.5  # adaptive: factor on ε when the step did better than GOOD_RATIO of its prediction
SHRINK = 0.7  # adaptive: factor on ε when it did worse than POOR_RATIO
REJECT = 0.5  # adaptive: factor on ε after a rejected step (the loss did not fall)
GOOD_RATIO = 0.75
POOR_RATIO = 0.25
STUCK = 0.125  # adaptive, SearchParams.rescue: below this fraction of the starting ε the steps become whole
PATIENCE = 25  # whole (rescued) steps without a new lowest loss: the search has stalled at that lowest point
FADE = 8  # SearchParams.fade_to: steps from that lowest point to the fully detail-removed image, which flips
GIVE_UP = 1 / 64  # adaptive, SearchParams.give_up: below this fraction of the starting ε the search ends
NO_STEP_HELPS = ("no step along the gradient lowered the score, not even the smallest: the model's gradient does not "
                 "describe its output here (its backward pass disagrees with its forward pass, or the output barely "
                 "depends on the image)")


@dataclass
class SearchContext:
    """What stays the same for every step loop of one run."""

    objective: Objective
    options: ExplainOptions
    coords: Coordinates
    steps: list[Step]  # every Step of the run is appended here
    stop: Callable[[], bool]


@dataclass
class Point:
    """A point of the search: coordinates ``c``, image ``x``, logits ``z``, loss and its image gradient."""

    c: torch.Tensor
    x: torch.Tensor
    z: torch.Tensor
    loss: torch.Tensor
    grad: torch.Tensor

    @classmethod
    def at(cls, obj: Objective, c: torch.Tensor, x: torch.Tensor) -> "Point":
        z, loss, grad = obj.value_and_grad(x)
        return cls(c, x, z, loss, grad)


@dataclass
class SearchParams:
    """One call of the step loop: where it starts, its ε and budget, what counts as success."""

    start: Point
    epsilon: float
    budget: int
    success: Callable[[torch.Tensor, torch.Tensor], bool]  # (z_new, x_new) -> done
    phase: str = "search"
    rescue: bool = False  # adaptive steps that shrank STUCK-fold without a flip continue as whole steps
    rescue_at_peak: bool = False  # ... of the longest ε an adaptive step was accepted at (else of ``epsilon``)
    flip_gradient: bool = True  # False: the step that flips skips its backward pass (nothing after uses it)
    # adaptive steps that shrank GIVE_UP-fold without a flip end the search: no flip is within reach (the region
    # style when no fill-in applied everywhere flips; a random ResNet at 99.99997 % crawled 200 steps, 63 s)
    give_up: bool = False
    fade_to: torch.Tensor | None = None  # coordinates that flip (the full mask): a stalled search goes there (FADE)


@dataclass
class SearchOutcome:
    status: Status
    message: str
    x: torch.Tensor
    z: torch.Tensor
    c: torch.Tensor | None = None  # the search coordinates at x
    point: Point | None = None  # x with its loss and gradient (success or budget): a continuation starts here


def direction(grad: torch.Tensor, opts: ExplainOptions) -> torch.Tensor:
    """The gradient as the step uses it: Gaussian-smoothed and/or projected to 1/coarse resolution."""
    g = gaussian_blur(grad, opts.smoothing) if opts.smoothing > 0 else grad
    f = int(opts.coarse)
    if f > 1:
        h, w = g.shape[-2:]
        low = F.adaptive_avg_pool2d(g, (max(1, math.ceil(h / f)), max(1, math.ceil(w / f))))
        g = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    return g


def adapt(eps: float, predicted: float, actual: float) -> tuple[float, bool]:
    """The adaptive rule: (next ε, whether the step is accepted) from the predicted and actual decrease."""
    if actual <= 0.0:
        return eps * REJECT, False
    if predicted > 0 and actual / predicted > GOOD_RATIO:
        return min(eps * GROW, EPS_MAX), True
    if predicted > 0 and actual / predicted < POOR_RATIO:
        return eps * SHRINK, True
    return eps, True


def _step(ctx: SearchContext, obj, x0, x, z, used: float, flipped: bool, accepted: bool, phase: str) -> Step:
    """The Step at image ``x`` (logits ``z``), appended to ``ctx.steps``."""
    d = x - x0
    step = Step(index=len(ctx.steps) + 1, epsilon=used, score=float(obj.score(z)[0]), probabilities=probabilities(z),
                l2=sums.norm(d), linf=float(d.abs().max()), flipped=flipped, accepted=accepted, phase=phase,
                _pixels=x, logits=z[0].detach().float().cpu().numpy())
    ctx.steps.append(step)
    return step


def _shown(step: Step) -> Generator[Step, None, None]:
    """Yield ``step``; its image is dropped once the consumer has seen it (a run keeps no 200 images)."""
    try:
        yield step
    finally:
        step._pixels = None


def _flipped(c, x, z, loss, grad, accepted: bool) -> SearchOutcome:
    """The outcome at a step that flipped; a continuation starts from its point when it has its gradient."""
    return SearchOutcome(Status.FLIPPED, "", x, z, c, Point(c, x, z, loss, grad) if accepted and grad is not None else None)


def search(ctx: SearchContext, params: SearchParams) -> Generator[Step, None, SearchOutcome]:
    """Gradient steps from ``params.start`` until ``params.success(z_new, x_new)``.

    Yields Steps (also appended to ``ctx.steps``); returns a :class:`SearchOutcome`.
    """
    obj, opts, param, stop = ctx.objective, ctx.options, ctx.coords, ctx.stop
    p = params.start
    c, x, z, loss, grad = p.c, p.x, p.z, p.loss, p.grad
    eps = float(params.epsilon)
    adaptive = opts.mode == "adaptive"
    rescued = False
    moved = False  # a step was accepted
    peak = eps  # the longest ε an adaptive step was accepted at
    # rescued: the lowest point so far (an accepted adaptive step always lowers the loss: until the rescue it is
    # the current one), the whole steps since it was reached, and whether any step lowered the loss
    best: Point | None = None
    since_best, improved = 0, False
    faded, fade_from = 0, None  # fade_to: the steps taken toward it, and the point they start from
    x0 = obj.x0
    for _ in range(int(params.budget)):
        if stop():
            return SearchOutcome(Status.CANCELLED, "cancelled by the user", x, z, c)
        if fade_from is not None:  # evenly toward the image that flips, exactly there at the last step
            faded += 1
            used = 0.0
            c_new = fade_from + (faded / FADE) * (params.fade_to - fade_from)
            x_new = param.image(c_new)
            z_new, loss_new, grad_of = obj.value_then_grad(x_new)
            flipped = params.success(z_new, x_new)
            grad_new = grad_of() if flipped and params.flip_gradient else None
            c, x, z, loss, grad = c_new, x_new, z_new, loss_new, grad_new
            obj.last_x = x
            yield from _shown(_step(ctx, obj, x0, x, z, used, flipped, True, params.phase))
            if flipped:
                return _flipped(c, x, z, loss, grad, True)
            if faded >= FADE:  # float rounding: the image that flipped when the fill-in was chosen no longer does
                return SearchOutcome(Status.STALLED, "the score stopped falling, and removing the rest of the detail "
                                     "evenly did not flip the decision either", x, z, c)
            continue
        g = direction(param.grad(grad), opts)
        if not torch.isfinite(g).all():
            return SearchOutcome(
                Status.NONFINITE_GRADIENT,
                "the gradient is not finite (NaN or infinity); the model is numerically unstable here",
                x, z, c,
            )
        norm = sums.norm(g)
        if norm == 0.0 or not math.isfinite(norm):
            return SearchOutcome(
                Status.ZERO_GRADIENT,
                "the gradient is zero: the model's score does not change with any pixel here (a flat or saturated model)",
                x, z, c,
            )
        used = eps
        c_new = (c - (eps * param.scale / norm) * g).clamp_(0.0, 1.0)
        x_new = param.image(c_new)
        if torch.equal(x_new, x):
            return SearchOutcome(Status.STALLED, AT_LIMIT if opts.style == "free" else MASK_AT_LIMIT, x, z, c)
        z_new, loss_new, grad_of = obj.value_then_grad(x_new)
        flipped = params.success(z_new, x_new)
        grad_new = grad_of() if params.flip_gradient or not flipped else None
        accepted = True
        if adaptive and not flipped:
            predicted = -sums.dot(grad, x_new - x)
            eps, accepted = adapt(eps, predicted, float(loss - loss_new))
        if accepted:
            if adaptive:
                peak = max(peak, used)
            c, x, z, loss, grad = c_new, x_new, z_new, loss_new, grad_new
            obj.last_x = x
            moved = True
            if rescued and not flipped:
                if float(loss) < float(best.loss):
                    best, since_best, improved = Point(c, x, z, loss, grad), 0, True
                else:
                    since_best += 1
        if params.rescue and adaptive and not flipped and eps < STUCK * float(params.epsilon):
            # stuck: the adaptive rule has shrunk ε 8x without a flip (a rough score, or a crease of a
            # piecewise-linear one: module doc): whole steps from here
            adaptive, rescued = False, True
            eps = peak if params.rescue_at_peak else float(params.epsilon)
            best, since_best, improved = Point(c, x, z, loss, grad), 0, moved
        if rescued and not flipped and obj.switch_to_margin(z):
            # a rescued group run whose score is below 0 decreases the margin from here (objective.py); the
            # gradient of the new loss at the current point is one evaluation without a Step of its own
            if stop():
                return SearchOutcome(Status.CANCELLED, "cancelled by the user", x, z, c)
            z, loss, grad = obj.value_and_grad(x)
            best, since_best = Point(c, x, z, loss, grad), 0  # another loss: its lowest starts here
        yield from _shown(_step(ctx, obj, x0, x, z, used, flipped, accepted, params.phase))
        if flipped:
            return _flipped(c, x, z, loss, grad, accepted)
        if rescued and since_best >= PATIENCE and params.fade_to is not None:
            fade_from = best.c  # the lowest point: from there, the rest of the detail goes evenly (module doc)
            continue
        if rescued and since_best >= PATIENCE:  # whole steps circle a low point they cannot leave: end there
            obj.last_x = best.x
            if not improved:
                return SearchOutcome(Status.STALLED, NO_STEP_HELPS, best.x, best.z, best.c)
            return SearchOutcome(Status.STALLED, f"the score stopped falling: neither shorter steps nor {PATIENCE} "
                                 "whole steps along the gradient lowered it further, and the decision did not flip "
                                 "(a local optimum)", best.x, best.z, best.c)
        if params.give_up and adaptive and eps < GIVE_UP * float(params.epsilon):
            if not moved:  # as below: not one step lowered the score
                return SearchOutcome(Status.STALLED, NO_STEP_HELPS, x, z, c)
            return SearchOutcome(Status.STALLED, "the adaptive step length shrank "
                                 f"{round(1 / GIVE_UP)}-fold without a flip (a local optimum)", x, z, c)
        if eps < EPS_MIN:
            if not moved:  # even the smallest step along -gradient raised the score: the gradient is not the output's
                return SearchOutcome(Status.STALLED, NO_STEP_HELPS, x, z, c)
            return SearchOutcome(Status.STALLED, "the adaptive step length shrank to nothing without a flip (a local optimum)", x, z, c)
    target = getattr(obj, "target", None)  # a targeted run: its class was not reached (it may have flipped to another)
    what = (f"“{obj.clf.label(target)}” was not reached" if target is not None and params.phase == "search"
            else "the decision did not flip")
    return SearchOutcome(
        Status.BUDGET,
        f"{what} within {steps_text(int(params.budget))}; raise the step budget or epsilon",
        x, z, c, Point(c, x, z, loss, grad),
    )
