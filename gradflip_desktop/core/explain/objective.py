"""The score the search moves and the flip test.

Score: the log-odds of the explained class t (or group G) from the logits z,
``S = logsumexp(z[G]) - logsumexp(z[not G])``; ``C_t = sigmoid(S)``, so ``∇S`` points the same way as
``∇C_t`` but stays exact in float32 when ``C_t`` ≈ 1. Targeted runs decrease ``-S_target``.

Groups ("any cat"): once the group holds less than half of the probability (S < 0) but one of its classes
is still on top, lowering S further mostly spreads probability over the many other classes without any
of them overtaking the group's best class (the bundled cat, "any cat": S went from 2.4 to −0.9 over
190 steps with a cat still on top at 224 px; no flip within the 200-step budget). When such a search is
stuck (search.py's rescue) it decreases the decision margin instead (best group logit − best other logit,
:meth:`Objective.margin`), the quantity the flip test reads: the same photo flips in 15 steps
(docs/benchmarks.md, "Group runs"). Single classes keep the log-odds throughout.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from .. import cpu_share
from ..models import Classifier
from ..options import Status


NO_GRADIENT = ("the model's class scores ({dtype}) carry no gradient with respect to the image (integer outputs, scores "
               "that do not depend on the image, or .detach() / torch.no_grad() inside the model); GradFlip follows "
               "the gradient, so it cannot explain this model")


class RunEnded(Exception):
    """Raised inside a run when the model misbehaves; ends the run with ``status``."""

    def __init__(self, status: Status, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def require_gradient(z: torch.Tensor) -> torch.Tensor:
    """``z`` (logits computed with gradients enabled), or :class:`RunEnded` when they carry no gradient."""
    if not (z.is_floating_point() and z.requires_grad):
        raise RunEnded(Status.MODEL_ERROR, NO_GRADIENT.format(dtype=str(z.dtype).replace("torch.", "")))
    return z


def probabilities(z: torch.Tensor) -> np.ndarray:
    """Softmax of a 1 x C logit tensor as float32 numpy (computed in float64, on the CPU: Apple GPUs have none)."""
    return torch.softmax(z[0].detach().cpu().double(), 0).float().numpy()


TINY_LOGITS = 1e-2  # logits spread less than this are scored in float64 (see Objective.log_odds)


class Objective:
    """Log-odds score of a class set, the flip test, and the evaluation counters."""

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
        self.by_margin = False  # a group run that switched to the margin (see the module doc)
        # the last forward pass with its graph whose backward has not run (a flipping point the next pass
        # may need the margin's gradient at): :meth:`margin_and_grad` at that very image reuses it
        self._kept: _Taped | None = None
        # a batched run's model thread pairs every forward with a graph with its backward: nothing is kept
        self._batched = bool(getattr(clf.module, "pairs_backward", False))
        self._can_keep = not self._batched
        # the app's and the command line's thread count, chosen again before every pass from the cores other programs
        # leave free (core/cpu_share.py): a program that got busy mid-run took 3-15x the time from two spinning threads
        self._share = not self._batched and torch.device(clf.device).type == "cpu"
        self.threads: set[int] = set()  # the thread counts its passes ran with (the record's torch_threads)
        # the last image evaluated, its version (in-place changes bump it) and its logits: a forward pass at
        # the very same image (a search's last test, checked again by the next pass) is not run twice. A
        # reference, not a copy: copying every image churned the allocator (+60-100 MiB peak at 1,024 px)
        self._last: tuple[torch.Tensor, int, torch.Tensor] | None = None

    @staticmethod
    def log_odds(z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # next to logsumexp ~ log(C) (6.9 for 1000 classes) float32 resolves only ~5e-7, and a freshly
        # initialised network's logits can all be ~1e-9 (torchvision's MobileNetV3): no step would change the
        # score, every one would be rejected and the run would stall at L2 = 0. Such logits are scored in
        # float64; logits that differ by more than TINY_LOGITS keep float32, so a trained model's run is the
        # same bit for bit (the searches circle the boundary: another summation order moves the map)
        if z.dtype != torch.float64 and z.device.type != "mps" and float((z.max() - z.min()).detach()) < TINY_LOGITS:
            z = z.double()
        inside = z.masked_fill(~mask, float("-inf")).logsumexp(-1)
        outside = z.masked_fill(mask, float("-inf")).logsumexp(-1)
        return inside - outside

    def explained_share(self, p: np.ndarray) -> float:
        """The explained class's probability in ``p`` (:func:`probabilities`); a group's: the sum of its classes'."""
        return float(p[self.explained_mask.cpu().numpy()].sum())

    def score(self, z: torch.Tensor) -> torch.Tensor:
        """Log-odds of the explained class (group)."""
        return self.log_odds(z, self.explained_mask)

    def loss(self, z: torch.Tensor) -> torch.Tensor:
        """What the search decreases."""
        if self.target is not None:
            return -self.log_odds(z, self.target_mask)
        if self.by_margin:
            return self.margin(z)
        return self.score(z)

    def switch_to_margin(self, z: torch.Tensor) -> bool:
        """For an untargeted group run at logits ``z`` (not yet flipped) whose score has fallen below 0:
        from now on :meth:`loss` is the margin (module doc). True when it switched now (the caller must
        re-evaluate the loss and gradient at its current point)."""
        if self.by_margin or self.target is not None or int(self.explained_mask.sum()) < 2:
            return False
        if float(self.score(z)[0]) < 0.0 and not self.flipped(z):
            self.by_margin = True
            return True
        return False

    def flipped(self, z: torch.Tensor) -> bool:
        top = int(torch.argmax(z[0]))
        if self.target is not None:
            return top == self.target
        return not bool(self.explained_mask[top])

    def margin(self, z: torch.Tensor) -> torch.Tensor:
        """The decision margin: < 0 exactly when the run counts as flipped (ties aside), per batch row.

        Untargeted: the best explained logit minus the best other one; targeted: the best non-target
        logit minus the target's. Its zero set is the decision boundary the refinement walks on."""
        if self.target is not None:
            keep, lose = self.target_mask, ~self.target_mask
        else:
            keep, lose = ~self.explained_mask, self.explained_mask
        return z.masked_fill(~lose, float("-inf")).amax(-1) - z.masked_fill(~keep, float("-inf")).amax(-1)

    def margin_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(logits, margin, gradient of the margin) at ``x``: one gradient evaluation, whose forward pass is
        the kept one (:meth:`forward` with ``keep_if``, a flipping search step) when that was at this very
        image."""
        kept = self._take(x)
        if kept is None:
            z, m, grad = self.value_then_grad(x, self.margin)
            return z, m, grad()
        with torch.enable_grad():
            m = self.margin(require_gradient(kept.z))[0]
        return kept.z.detach(), m.detach(), self._backward(kept, m)

    def forward(
        self, x: torch.Tensor, keep_if: Callable[[torch.Tensor], bool] | None = None
    ) -> torch.Tensor:
        """The logits at ``x`` (one forward pass). With ``keep_if``, the pass keeps its graph when
        ``keep_if(logits)`` holds (replacing the one kept before), so that the margin's gradient at ``x``
        costs only the backward pass: the boundary searches keep their flipping points, one of which the
        next pass starts from. Same logits, bit for bit."""
        if keep_if is None or not self._can_keep:
            if self._is_last(x):
                return self._last[2]  # the image just evaluated (a search's last test, checked again)
            self.fwd_evals += 1
            self._before_pass()
            with torch.no_grad():
                z = self._check(self.clf.module(x))
            self._remember(x, z)
            return z
        taped = self._tape(x)
        z = taped.z.detach()
        if taped.z.requires_grad and keep_if(z):
            self._kept = taped
        return z

    def keep_pass(self, x: torch.Tensor, xg: torch.Tensor, z: torch.Tensor) -> None:
        """Adopt a forward pass made with its graph elsewhere (the run's first classification, ``z`` traced
        from ``xg``, a leaf that requires grad, equal to ``x``): the search's first gradient at the photo
        then costs only the backward pass."""
        if self._can_keep and z.requires_grad:
            self._kept = _Taped(x, xg, z)
            self._remember(x, z.detach())

    def drop_kept(self) -> None:
        """Free the kept graph (a run's searches on the boundary are over)."""
        self._kept = None

    def value_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z, loss, grad = self.value_then_grad(x)
        return z, loss, grad()

    def value_then_grad(
        self, x: torch.Tensor, of: Callable[[torch.Tensor], torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, Callable[[], torch.Tensor]]:
        """(logits, loss, ``grad()``) for :meth:`loss` (or ``of``, e.g. :meth:`margin`): the forward pass
        with its graph; the backward runs when ``grad()`` is
        called, at most once. A caller that learns from the logits that it needs no gradient (the step that
        flips, when nothing after it uses that gradient) saves the backward; the evaluation then counts as a
        forward pass, and its graph stays kept for :meth:`margin_and_grad` at the same image."""
        taped = self._take(x) or self._tape(x)
        with torch.enable_grad():
            loss = (of or self.loss)(require_gradient(taped.z))[0]
        if self._can_keep:
            self._kept = taped

        def grad() -> torch.Tensor:
            return self._backward(taped, loss)

        return taped.z.detach(), loss.detach(), grad

    def _tape(self, x: torch.Tensor) -> "_Taped":
        self.fwd_evals += 1
        self._before_pass()
        xg = x.detach().requires_grad_(True)
        with torch.enable_grad():
            z = self._check(self.clf.module(xg))
        self._remember(x, z.detach())
        return _Taped(x, xg, z)

    def threads_text(self) -> str:
        """The thread count the passes had ("2"), or its range where it was chosen again mid-run ("1-2")."""
        seen = sorted(self.threads) or [torch.get_num_threads()]
        return str(seen[0]) if len(seen) == 1 else f"{seen[0]}-{seen[-1]}"

    def _before_pass(self) -> None:
        if self._share:
            cpu_share.choose()
        self.threads.add(torch.get_num_threads())

    def _remember(self, x: torch.Tensor, z: torch.Tensor) -> None:
        self._last = (x, x._version, z)

    def _is_last(self, x: torch.Tensor) -> bool:
        if self._last is None:
            return False
        last, version, _ = self._last
        return last._version == version and last.shape == x.shape and torch.equal(last, x)

    def _take(self, x: torch.Tensor) -> "_Taped | None":
        kept, self._kept = self._kept, None
        if kept is None or kept.x._version != kept.version or kept.x.shape != x.shape or not torch.equal(kept.x, x):
            return None
        return kept

    def _backward(self, taped: "_Taped", of: torch.Tensor) -> torch.Tensor:
        """The gradient of ``of`` (a function of ``taped``'s logits) with respect to its image; the pass
        now counts as a gradient evaluation, and its graph is freed."""
        if self._kept is taped:
            self._kept = None
        self.fwd_evals -= 1
        self.grad_evals += 1
        with torch.enable_grad():
            if not self._batched:
                (g,) = torch.autograd.grad(of, taped.xg)
            else:  # a batched run: the logits are a leaf, the model's backward is the batcher's (batch.py)
                (dz,) = torch.autograd.grad(of, taped.z)
                g = self.clf.module.input_gradient(taped.z, dz)
        return g.detach()

    def _check(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[0] != 1 or z.shape[1] != self.clf.num_classes:
            raise RunEnded(
                Status.MODEL_ERROR,
                f"the model returned logits of shape {tuple(z.shape)}, expected (1, {self.clf.num_classes})",
            )
        if not torch.isfinite(z).all():
            raise RunEnded(Status.NONFINITE_OUTPUT, "the model produced non-finite outputs (NaN or infinity)")
        return z


class _Taped:
    """A forward pass with its graph: the image ``x``, the input it was traced from, the logits."""

    __slots__ = ("x", "version", "xg", "z")

    def __init__(self, x: torch.Tensor, xg: torch.Tensor, z: torch.Tensor):
        self.x, self.version, self.xg, self.z = x, x._version, xg, z
