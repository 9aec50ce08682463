"""The GradFlip explanation: follow the normalised gradient until the decision flips.

``explain(classifier, image, options)`` is a generator. It yields one :class:`Step` per gradient
evaluation and returns an :class:`ExplainResult` (``StopIteration.value``). :func:`run` consumes it.

Score: the log-odds of the explained class t (or group G) from the logits z,
``S = logsumexp(z[G]) - logsumexp(z[not G])``; ``C_t = sigmoid(S)``, so ``∇S`` points the same way as
``∇C_t`` but stays exact in float32 when ``C_t`` ≈ 1.

One step: ``g = ∇S(X)``; optionally Gaussian-smoothed; ``N = g / |g|``; ``X ← clip(X − ε√n · N, 0, 1)``
with ε in RMS pixel units (n = number of values). Untargeted runs stop when the explained class (group) is
no longer the arg-max; targeted runs ascend the target's log-odds until the target is the arg-max.

After the flip (forward passes only): *minimise* bisects α ∈ (0, 1] for the smallest α·δ that still
flips; the *8-bit check* makes sure the change survives saving as an 8-bit PNG (stepping further if
not); *key pixels* bisects k for the smallest set of top-|δ| pixels whose change alone flips.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Generator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from . import maps
from .filters import gaussian_blur
from .images import ImageData, to_uint8
from .models import Classifier, ModelError, Prediction

# Statuses a run ends with. ``flipped`` is the only success.
FLIPPED = "flipped"
ALREADY = "nothing_to_flip"
BUDGET = "budget_exhausted"
CANCELLED = "cancelled"
ZERO_GRADIENT = "zero_gradient"
NONFINITE_GRADIENT = "nonfinite_gradient"
NONFINITE_OUTPUT = "nonfinite_output"
STALLED = "stalled"
MODEL_ERROR = "model_error"

STATUSES = (FLIPPED, ALREADY, BUDGET, CANCELLED, ZERO_GRADIENT, NONFINITE_GRADIENT, NONFINITE_OUTPUT, STALLED, MODEL_ERROR)

EPS_MIN = 1e-7
EPS_MAX = 0.25


@dataclass
class ExplainOptions:
    """Settings of one explanation.

    target: ``None`` (untargeted: push the top class down until another wins) or a class (index or
        label) to reach (targeted: push that class up until it wins).
    group: explain a class group instead of the single top class, by name (``"cat"``) or index ranges
        (``"281-285"``) or a list of indices; the run flips when no class of the group is the arg-max.
    mode: ``"adaptive"`` (trust-region step length) or ``"fixed"`` (ε as given, the textbook method).
    epsilon: step length in RMS pixel units (a step changes the image by ε·√n in L2, n = H·W·3).
    max_steps: gradient-evaluation budget of the search.
    smoothing: Gaussian σ in working-image pixels applied to the gradient (0 = raw gradient).
    style: ``"free"`` (default, the textbook method: any pixel may move in any direction) or ``"blur"``
        (each pixel may only move toward a blurred copy of the image, by its own amount in [0, 1]:
        the change removes detail, and the blur amount per pixel is the importance map).
    blur_sigma: Gaussian σ (working-image px) of the blurred copy for ``style="blur"``; ``None`` uses
        1/24 of the long side.
    coarse: coarse-to-fine factor f >= 1: each step is the gradient averaged over f x f blocks and
        upsampled bilinearly, so the change lives at 1/f resolution (a smooth, readable change at a
        larger L2; 1 = full resolution).
    minimise / eight_bit / key_pixels: the post passes (see module doc).
    extra_steps: extra gradient steps allowed to make the flip survive 8-bit quantisation.
    """

    target: int | str | None = None
    group: str | list[int] | None = None
    mode: str = "adaptive"
    epsilon: float = 0.0002
    max_steps: int = 200
    smoothing: float = 0.0
    style: str = "free"
    blur_sigma: float | None = None
    coarse: int = 1
    minimise: bool = True
    eight_bit: bool = True
    key_pixels: bool = True
    extra_steps: int = 50

    def validate(self) -> None:
        if self.mode not in ("adaptive", "fixed"):
            raise ValueError(f"step mode must be 'adaptive' or 'fixed', not {self.mode!r}")
        if not (math.isfinite(self.epsilon) and EPS_MIN <= self.epsilon <= EPS_MAX):
            raise ValueError(f"epsilon must be in [{EPS_MIN:g}, {EPS_MAX}], not {self.epsilon}")
        if not (1 <= int(self.max_steps) <= 100_000):
            raise ValueError(f"max_steps must be between 1 and 100000, not {self.max_steps}")
        if not (math.isfinite(self.smoothing) and 0 <= self.smoothing <= 100):
            raise ValueError(f"smoothing must be between 0 and 100 px, not {self.smoothing}")
        if self.style not in ("free", "blur"):
            raise ValueError(f"style must be 'free' or 'blur', not {self.style!r}")
        if self.blur_sigma is not None and not (math.isfinite(self.blur_sigma) and 0 < self.blur_sigma <= 500):
            raise ValueError(f"blur_sigma must be in (0, 500] px, not {self.blur_sigma}")
        if not (1 <= int(self.coarse) <= 64):
            raise ValueError(f"coarse factor must be between 1 and 64, not {self.coarse}")
        if self.target is not None and self.group is not None:
            raise ValueError("choose either a target class or a class group, not both")

    def to_dict(self) -> dict:
        return asdict(self)


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

    def image(self) -> np.ndarray | None:
        if self._pixels is None:
            return None
        return self._pixels[0].permute(1, 2, 0).detach().cpu().numpy().copy()

    def top(self, k: int = 5) -> list[tuple[int, float]]:
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return [(int(i), float(self.probabilities[i])) for i in order]


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

    @property
    def changed(self) -> int:
        """How many pixels the saved change touches at all (the largest possible set)."""
        return int((self.ranking >= 0).sum())

    def mask_for(self, k: int) -> np.ndarray:
        """H x W bool: the k pixels with the largest |change| (``mask_for(count)`` is ``mask``)."""
        return (self.ranking >= 0) & (self.ranking < int(k))

    def to_dict(self) -> dict:
        return {"count": self.count, "fraction": self.fraction, "flips": self.flips, "prediction": self.prediction.to_dict()}


@dataclass
class ExplainResult:
    """Everything the views and the report need about one run. Arrays are at working resolution."""

    status: str
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
    blur_amount: np.ndarray | None = field(default=None, repr=False)  # H x W in [0, 1], style "blur" only

    @property
    def flipped(self) -> bool:
        return self.status == FLIPPED

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

    def label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else f"class {index}"

    def importance_map(self) -> np.ndarray:
        """H x W float32 importance derived from the flipping change, smoothed with
        :func:`maps.default_sigma`: the blur amount per pixel for the ``blur`` style, otherwise the
        |change| summed over channels (:func:`maps.magnitude_map`)."""
        if self.blur_amount is not None:
            return maps.smoothed(self.blur_amount)
        return maps.magnitude_map(self.delta)

    def key_pixel_image(self, k: int | None = None) -> np.ndarray:
        """The original with only the top-k changed pixels (by |saved change|) changed; k defaults to the key set.

        This is exactly the image the key-pixel search classified. Float32 H x W x 3 in [0, 1].
        """
        if self.key_pixels is None:
            raise ValueError("this run has no key pixels")
        mask = self.key_pixels.mask_for(self.key_pixels.count if k is None else k)
        return np.clip(self.original_pixels + self.saved_delta * mask[..., None], 0.0, 1.0).astype(np.float32)


class _Objective:
    """Log-odds score of a class set, the flip test, and counters."""

    def __init__(self, clf: Classifier, explained: Sequence[int], target: int | None, x0: torch.Tensor):
        self.clf = clf
        self.x0 = x0
        self.last_x = x0  # the last good image of the search (kept when the model fails mid-run)
        c = clf.num_classes
        self.explained_mask = torch.zeros(c, dtype=torch.bool, device=clf.device)
        self.explained_mask[list(explained)] = True
        self.target = target
        if target is not None:
            self.target_mask = torch.zeros(c, dtype=torch.bool, device=clf.device)
            self.target_mask[target] = True
        self.grad_evals = 0
        self.fwd_evals = 0

    @staticmethod
    def log_odds(z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        inside = z.masked_fill(~mask, float("-inf")).logsumexp(-1)
        outside = z.masked_fill(mask, float("-inf")).logsumexp(-1)
        return inside - outside

    def score(self, z: torch.Tensor) -> torch.Tensor:
        """Log-odds of the explained class (group)."""
        return self.log_odds(z, self.explained_mask)

    def loss(self, z: torch.Tensor) -> torch.Tensor:
        """What the search decreases."""
        if self.target is not None:
            return -self.log_odds(z, self.target_mask)
        return self.score(z)

    def flipped(self, z: torch.Tensor) -> bool:
        top = int(torch.argmax(z[0]))
        if self.target is not None:
            return top == self.target
        return not bool(self.explained_mask[top])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.fwd_evals += 1
        with torch.no_grad():
            z = self.clf.module(x)
        return self._check(z)

    def value_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        self.grad_evals += 1
        xg = x.detach().requires_grad_(True)
        with torch.enable_grad():
            z = self._check(self.clf.module(xg))
            loss = self.loss(z)[0]
            (g,) = torch.autograd.grad(loss, xg)
        return z.detach(), loss.detach(), g.detach()

    def _check(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[0] != 1 or z.shape[1] != self.clf.num_classes:
            raise _RunEnded(
                MODEL_ERROR,
                f"the model returned logits of shape {tuple(z.shape)}, expected (1, {self.clf.num_classes})",
            )
        if not torch.isfinite(z).all():
            raise _RunEnded(NONFINITE_OUTPUT, "the model produced non-finite outputs (NaN or infinity)")
        return z


class _RunEnded(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _probs(z: torch.Tensor) -> np.ndarray:
    return torch.softmax(z[0].double(), 0).float().cpu().numpy()


def explain(
    classifier: Classifier,
    image: ImageData | np.ndarray,
    options: ExplainOptions | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Generator[Step, None, ExplainResult]:
    """Explain the classifier's decision on ``image`` (H x W x 3 float32 in [0, 1], or ImageData).

    Yields a :class:`Step` per gradient evaluation; returns an :class:`ExplainResult`.
    ``should_stop()`` is polled before every model evaluation; when it returns True the run ends with
    status ``cancelled`` and the state reached so far.
    Raises ``ValueError``/``ModelError`` only for invalid options (bad target or group names).
    """
    opts = options or ExplainOptions()
    opts.validate()
    stop = should_stop or (lambda: False)
    clf = classifier
    pixels = image.pixels if isinstance(image, ImageData) else np.asarray(image, dtype=np.float32)
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"image must be H x W x 3, got {pixels.shape}")
    if pixels.size == 0:
        raise ValueError(f"image is empty (shape {pixels.shape})")
    if not np.all(np.isfinite(pixels)) or pixels.min() < 0 or pixels.max() > 1:
        raise ValueError("image pixels must be finite and lie in [0, 1]")
    t_start = time.perf_counter()
    timings = {"flip": 0.0, "minimise": 0.0, "eight_bit": 0.0, "key_pixels": 0.0}
    x0 = clf.image_tensor(pixels)

    # first classification (no gradient): which class is explained, what counts as a flip
    try:
        with torch.no_grad():
            z0 = clf.module(x0)
    except Exception as exc:  # noqa: BLE001 - any model failure becomes a status
        raise ModelError(f"the model failed on this image: {type(exc).__name__}: {exc}") from None
    if z0.ndim != 2 or z0.shape[0] != 1 or z0.shape[1] != clf.num_classes:
        raise ModelError(f"the model returned logits of shape {tuple(z0.shape)}, expected (1, {clf.num_classes})")
    p0 = _probs(z0)
    top0 = int(np.argmax(p0))
    original = Prediction(top0, clf.label(top0), float(p0[top0]))
    target_idx = None if opts.target is None else clf.find_class(opts.target)
    if opts.group is not None:
        explained_name, explained = clf.find_group(opts.group)
    else:
        explained_name, explained = clf.label(top0), [top0]
    obj = _Objective(clf, explained, target_idx, x0)
    param = _BlurCoordinates(x0, opts) if opts.style == "blur" else _FreeCoordinates(x0)
    obj.fwd_evals = 1
    steps: list[Step] = []
    state = {"x": x0, "z": z0, "alpha": 1.0, "key": None}

    def finish(status: str, message: str, x_final: torch.Tensor | None = None, z_final=None) -> ExplainResult:
        x = state["x"] if x_final is None else x_final
        adj = x[0].permute(1, 2, 0).detach().cpu().numpy().astype(np.float32)
        adj_u8 = to_uint8(adj)
        delta = (adj - pixels).astype(np.float32)
        if z_final is None:
            try:
                z_final = obj.forward(clf.image_tensor(adj_u8.astype(np.float32) / 255.0))
                pf = _probs(z_final)
            except Exception:  # noqa: BLE001 - the model may fail again here; keep the last known output
                pf = _probs(state["z"])
        else:
            pf = _probs(z_final)
        top = int(np.argmax(pf))
        return ExplainResult(
            status=status,
            message=message,
            original=original,
            final=Prediction(top, clf.label(top), float(pf[top])),
            explained=list(explained),
            explained_name=explained_name,
            target=None if target_idx is None else Prediction(target_idx, clf.label(target_idx), float(p0[target_idx])),
            steps=steps,
            gradient_evaluations=obj.grad_evals,
            forward_evaluations=obj.fwd_evals,
            original_pixels=pixels,
            adjusted_pixels=adj,
            adjusted_uint8=adj_u8,
            delta=delta,
            original_probabilities=p0.astype(np.float32),
            final_probabilities=pf.astype(np.float32),
            alpha=float(state["alpha"]),
            key_pixels=state["key"],
            blur_amount=param.blur_amount(x),
            timings=timings,
            seconds=time.perf_counter() - t_start,
            options=opts,
            model_name=clf.name,
            labels=list(clf.labels),
        )

    if not torch.isfinite(z0).all():
        return finish(NONFINITE_OUTPUT, "the model produced non-finite outputs (NaN or infinity) for this image", x0, z0)
    if obj.flipped(z0):
        if target_idx is not None:
            msg = f"the model already predicts the target “{clf.label(target_idx)}”; nothing to change"
        else:
            msg = f"the top class “{original.label}” is not in the group “{explained_name}”; nothing to flip"
        return finish(ALREADY, msg, x0, z0)

    # ---- search -----------------------------------------------------------------------------------
    budget = int(opts.max_steps)
    eps = float(opts.epsilon)
    try:
        z, loss, grad = obj.value_and_grad(x0)
        search = _search(obj, opts, param, param.start(), x0, z, loss, grad, eps, budget, steps, stop,
                         lambda zn, xn: obj.flipped(zn))
        outcome = yield from search
        state["x"], state["z"] = outcome.x, outcome.z
        state["search_done"] = True
        timings["flip"] = time.perf_counter() - t_start
        if outcome.status != FLIPPED:
            return finish(outcome.status, outcome.message)

        # ---- minimise: smallest alpha*delta that still flips ----------------------------------------
        t = time.perf_counter()
        delta = outcome.x - x0
        if opts.minimise:
            lo, hi = 0.0, 1.0
            for _ in range(14):
                if stop():
                    break
                mid = 0.5 * (lo + hi)
                if obj.flipped(obj.forward(x0 + mid * delta)):
                    hi = mid
                else:
                    lo = mid
                if hi - lo < 2e-3:
                    break
            state["alpha"] = hi
        x_min = x0 + state["alpha"] * delta
        timings["minimise"] = time.perf_counter() - t
        if stop():
            state["x"] = x_min
            return finish(CANCELLED, "cancelled after the decision flipped, before the final checks")

        # ---- 8-bit check: the saved PNG must flip too -----------------------------------------------
        t = time.perf_counter()
        x_final = x_min
        if opts.eight_bit:
            x_final = yield from _eight_bit(obj, opts, param, outcome.c, x0, x_min, delta, state, steps, stop)
        state["x"] = x_final
        timings["eight_bit"] = time.perf_counter() - t
        xq = _quantize_tensor(x_final) if opts.eight_bit else x_final
        zq = obj.forward(xq)
        if not obj.flipped(zq):
            timings["eight_bit"] = time.perf_counter() - t
            if stop():
                return finish(CANCELLED, "cancelled while making the change survive 8-bit saving")
            return finish(
                BUDGET,
                "the decision flipped, but the change did not survive 8-bit quantisation within the extra step budget",
            )

        # ---- key pixels -------------------------------------------------------------------------------
        t = time.perf_counter()
        if opts.key_pixels and not stop():
            state["key"] = _key_pixels(obj, x0, xq - x0, stop)
        timings["key_pixels"] = time.perf_counter() - t
    except _RunEnded as ended:
        if not state.get("search_done"):
            state["x"] = obj.last_x
        return finish(ended.status, ended.message)
    except Exception as exc:  # noqa: BLE001 - a model raising in forward/backward ends the run clearly
        if not state.get("search_done"):
            state["x"] = obj.last_x
        return finish(MODEL_ERROR, f"the model failed during the run: {type(exc).__name__}: {exc}")
    if stop() and state["key"] is None and opts.key_pixels:
        return finish(CANCELLED, "cancelled after the decision flipped, before the key pixels were found")
    res = finish(FLIPPED, "", z_final=zq)
    res.message = f"“{res.original.label}” flipped to “{res.final.label}”"
    return res


def _quantize_tensor(x: torch.Tensor) -> torch.Tensor:
    """What saving as 8-bit PNG and loading back gives: rounds exactly like :func:`images.to_uint8`
    (x·255 in float64; in float32 a few values per million round to the other level, so the image
    tested would differ from the PNG saved)."""
    if x.device.type == "mps":  # no float64 on Apple GPUs
        return _quantize_tensor(x.cpu()).to(x.device)
    levels = torch.round(x.double() * 255.0).clamp_(0.0, 255.0)
    return levels.to(x.dtype) / 255.0


@dataclass
class _SearchOutcome:
    status: str
    message: str
    x: torch.Tensor
    z: torch.Tensor
    c: torch.Tensor | None = None  # the search coordinates at x


class _FreeCoordinates:
    """The textbook search space: the pixels themselves, clipped to [0, 1]."""

    def __init__(self, x0: torch.Tensor):
        self.x0 = x0
        self.scale = math.sqrt(x0.numel())  # a step of eps RMS pixel units has L2 eps*sqrt(n)

    def start(self) -> torch.Tensor:
        return self.x0

    def image(self, c: torch.Tensor) -> torch.Tensor:
        return c

    def grad(self, g: torch.Tensor) -> torch.Tensor:
        return g

    def blur_amount(self, x: torch.Tensor) -> None:
        return None


class _BlurCoordinates:
    """x = x0 + m * (blur(x0) - x0) with one amount m in [0, 1] per pixel: the change can only remove detail."""

    def __init__(self, x0: torch.Tensor, opts: "ExplainOptions"):
        h, w = x0.shape[-2:]
        sigma = opts.blur_sigma if opts.blur_sigma is not None else max(1.0, max(h, w) / 24.0)
        self.x0 = x0
        self.d = (gaussian_blur(x0, sigma).clamp(0.0, 1.0) - x0).detach()
        rms = float(self.d.pow(2).mean().sqrt())
        # eps keeps its meaning (RMS pixel change per step): a step of eps/rms(d) in m changes pixels by ~eps RMS
        self.scale = math.sqrt(h * w) / rms if rms > 0 else math.sqrt(h * w)
        self.d_sq = self.d.pow(2).sum(1, keepdim=True)

    def start(self) -> torch.Tensor:
        return torch.zeros_like(self.x0[:, :1])

    def image(self, m: torch.Tensor) -> torch.Tensor:
        return self.x0 + m * self.d

    def grad(self, g: torch.Tensor) -> torch.Tensor:
        return (g * self.d).sum(1, keepdim=True)

    def blur_amount(self, x: torch.Tensor) -> np.ndarray:
        """Per-pixel amount m recovered from any image on the path (least squares over the channels)."""
        m = ((x - self.x0) * self.d).sum(1, keepdim=True) / self.d_sq.clamp_min(1e-12)
        m = torch.where(self.d_sq > 1e-12, m, torch.zeros_like(m)).clamp(0.0, 1.0)
        return m[0, 0].detach().cpu().numpy().astype(np.float32)


def _search(obj, opts, param, c, x, z, loss, grad, eps, budget, steps, stop, success, phase="search"):
    """Gradient steps from coordinates ``c`` (image ``x``) until ``success(z_new, x_new)``.

    Yields Steps; returns a _SearchOutcome. ``param`` maps coordinates to images and gradients back.
    """
    adaptive = opts.mode == "adaptive"
    x0 = obj.x0
    for _ in range(budget):
        if stop():
            return _SearchOutcome(CANCELLED, "cancelled by the user", x, z, c)
        g = _direction(param.grad(grad), opts)
        if not torch.isfinite(g).all():
            return _SearchOutcome(NONFINITE_GRADIENT, "the gradient is not finite (NaN or infinity); the model is numerically unstable here", x, z, c)
        norm = float(g.norm())
        if norm == 0.0 or not math.isfinite(norm):
            return _SearchOutcome(
                ZERO_GRADIENT,
                "the gradient is zero: the model's score does not change with any pixel here (a flat or saturated model)",
                x, z, c,
            )
        used = eps
        c_new = (c - (eps * param.scale / norm) * g).clamp_(0.0, 1.0)
        x_new = param.image(c_new)
        if torch.equal(x_new, x):
            return _SearchOutcome(STALLED, "every pixel the gradient points at is already at its limit; the image cannot change further", x, z, c)
        z_new, loss_new, grad_new = obj.value_and_grad(x_new)
        flipped = success(z_new, x_new)
        accepted = True
        if adaptive and not flipped:
            predicted = float(-(grad * (x_new - x)).sum())
            actual = float(loss - loss_new)
            if actual <= 0.0:
                accepted = False
                eps *= 0.5
            elif predicted > 0 and actual / predicted > 0.75:
                eps = min(eps * 1.5, EPS_MAX)
            elif predicted > 0 and actual / predicted < 0.25:
                eps *= 0.7
        if accepted:
            c, x, z, loss, grad = c_new, x_new, z_new, loss_new, grad_new
            obj.last_x = x
        d = x - x0
        step = Step(
            index=len(steps) + 1,
            epsilon=used,
            score=float(obj.score(z)[0]),
            probabilities=_probs(z),
            l2=float(d.norm()),
            linf=float(d.abs().max()),
            flipped=flipped,
            accepted=accepted,
            phase=phase,
            _pixels=x,
        )
        steps.append(step)
        try:
            yield step
        finally:
            step._pixels = None
        if flipped:
            return _SearchOutcome(FLIPPED, "", x, z, c)
        if eps < EPS_MIN:
            return _SearchOutcome(STALLED, "the adaptive step length shrank to nothing without a flip (a local optimum)", x, z, c)
    return _SearchOutcome(BUDGET, f"the decision did not flip within {budget} steps; raise the step budget or epsilon", x, z, c)


def _direction(grad: torch.Tensor, opts: ExplainOptions) -> torch.Tensor:
    """The gradient as the step uses it: Gaussian-smoothed and/or projected to 1/coarse resolution."""
    g = gaussian_blur(grad, opts.smoothing) if opts.smoothing > 0 else grad
    f = int(opts.coarse)
    if f > 1:
        h, w = g.shape[-2:]
        low = F.adaptive_avg_pool2d(g, (max(1, math.ceil(h / f)), max(1, math.ceil(w / f))))
        g = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    return g


def _eight_bit(obj, opts, param, c_full, x0, x_min, delta, state, steps, stop):
    """Make sure the 8-bit quantised change still flips: grow alpha, then keep stepping. Returns float x."""
    if obj.flipped(obj.forward(_quantize_tensor(x_min))):
        return x_min
    alpha = state["alpha"]
    while alpha < 1.0 and not stop():
        alpha = min(1.0, alpha * 1.25 + 0.01)
        x = x0 + alpha * delta
        if obj.flipped(obj.forward(_quantize_tensor(x))):
            state["alpha"] = alpha
            return x
    if stop() or opts.extra_steps <= 0:
        return x0 + delta
    state["alpha"] = 1.0
    x = x0 + delta
    z, loss, grad = obj.value_and_grad(x)
    outcome = yield from _search(
        obj, opts, param, c_full, x, z, loss, grad, opts.epsilon, int(opts.extra_steps), steps, stop,
        success=lambda z_new, x_new: obj.flipped(obj.forward(_quantize_tensor(x_new))),
        phase="eight_bit",
    )
    return outcome.x


def _key_pixels(obj, x0, dq, stop) -> KeyPixels:
    """Smallest k such that changing only the k pixels with the largest |dq| (summed over channels) flips."""
    h, w = dq.shape[-2:]
    flat = dq.abs().sum(1)[0].flatten()
    m = int((flat > 0).sum())
    order = torch.argsort(flat, descending=True, stable=True)
    ranks = torch.full((h * w,), -1, dtype=torch.int64, device=flat.device)
    ranks[order[:m]] = torch.arange(m, device=flat.device)
    ranks = ranks.view(1, 1, h, w)

    def image(k: int) -> torch.Tensor:
        mask = (ranks >= 0) & (ranks < k)
        return x0 + dq * mask

    lo, hi = 0, m
    while hi - lo > 1 and not stop():
        mid = (lo + hi) // 2
        if obj.flipped(obj.forward(image(mid))):
            hi = mid
        else:
            lo = mid
    z = obj.forward(image(hi))
    top = int(torch.argmax(z[0]))
    p = _probs(z)
    rank_np = ranks[0, 0].cpu().numpy().astype(np.int32)
    return KeyPixels(
        count=hi,
        fraction=hi / float(h * w),
        mask=(rank_np >= 0) & (rank_np < hi),
        ranking=rank_np,
        prediction=Prediction(top, obj.clf.label(top), float(p[top])),
        flips=obj.flipped(z),
    )


def run(
    classifier: Classifier,
    image: ImageData | np.ndarray,
    options: ExplainOptions | None = None,
    on_step: Callable[[Step], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ExplainResult:
    """Run :func:`explain` to the end and return its result, calling ``on_step`` for every step."""
    gen = explain(classifier, image, options, should_stop=should_stop)
    while True:
        try:
            step = next(gen)
        except StopIteration as done:
            return done.value
        if on_step is not None:
            on_step(step)
