"""Explain many images with one batched forward/backward pass per step.

Each image runs the ordinary :func:`~.runner.run` in its own worker thread, on a copy of the classifier
whose ``module`` is a :class:`_BatchedModule`: every model call of every run (the first classification,
the search's forward+backward, the minimise / 8-bit / key-pixel forward passes) is sent to one model
thread, which waits until every live run has asked for something, then evaluates all same-shaped
requests as one batch. So each image keeps its own step length, flip test and early exit, finished
images leave the batch and the next ones enter, and the answers are those of single runs (up to the
float rounding of a batched convolution). A run busy with work of its own between model calls (the
key region's connected components, the end of a run) does not hold the others back for long: once the
model thread has waited :data:`PATIENCE_S` (or half its last evaluation, if longer) for it, the requests
that are there are evaluated, so that work overlaps the model's on a second core (never between a
gradient pass and its backward: the backward rows of one graph are always evaluated together). A model
that refuses a batch (fixed batch size 1, e.g. some ONNX exports) is evaluated one request at a time.

    for job, outcome in explain_batched(classifier, jobs, options, batch_size=8):
        ...  # outcome: ExplainResult, or the exception that job raised (ImageError, ModelError, ...)

``jobs`` yields :class:`BatchJob` (a key and a ``load()`` returning the image); images are loaded in the
worker threads, overlapping the model's work. Results come back as they finish, not in input order.
"""

from __future__ import annotations

import copy
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import torch

from ..options import ExplainOptions
from ..results import ExplainResult, Progress, Step
from .objective import require_gradient

__all__ = ["BatchJob", "explain_batched"]

PATIENCE_S = 0.05  # how long the model thread waits for runs still busy, at least (see _Batcher._loop)


@dataclass
class BatchJob:
    """One image of a batched run: ``key`` identifies it to the caller, ``load()`` returns the image."""

    key: Any
    load: Callable[[], Any]
    info: dict | None = None  # an engine that loads the image elsewhere (Ray) puts ImageData.to_dict() here


class _Request:
    __slots__ = ("kind", "x", "handle", "dz", "result", "error", "done", "since", "run")

    def __init__(self, kind: str, x=None, handle=None, dz=None):
        self.kind, self.x, self.handle, self.dz = kind, x, handle, dz
        self.result = self.error = None
        self.done = False
        self.since = time.perf_counter()
        self.run = threading.get_ident()  # each run has its own thread


class _Graph:
    """The autograd graph of one batched forward pass, kept until each of its rows has had its backward or
    its run has moved on (a new gradient forward, or the run ended): ``open`` maps those rows to their runs.
    A run may ask for plain forwards between its gradient forward and its backward (the 8-bit search tests
    the rounded image there), so another row's backward can come first: the graph is then retained for it."""

    def __init__(self, xs: torch.Tensor, z: torch.Tensor, runs: list[int]):
        self.xs, self.z = xs, z
        self.open = dict(enumerate(runs))

    def close(self, row: int) -> None:
        """Row ``row`` needs the graph no more; the last one releases it (call with the batcher's lock)."""
        self.open.pop(row, None)
        if not self.open:
            self.xs = self.z = None


class _Batcher:
    """Collects model requests from the live runs; evaluates them when every live run is waiting."""

    def __init__(self, module: torch.nn.Module):
        self.module = module
        self.cond = threading.Condition()
        self.live = 0
        self.pending: list[_Request] = []
        self.closed = False
        self.batches = 0  # number of batched evaluations (for tests and benchmarks)
        self.rows = 0  # requests evaluated
        self.early = 0  # evaluations started before every live run had asked (a run was busy elsewhere)
        self.free_since = time.perf_counter()  # when the model thread last finished an evaluation
        self.last_eval = 0.0  # seconds the last evaluation took
        # runs that got a row of a gradient graph and have not yet asked for its backward (or moved on):
        # no early evaluation while there are any, so every backward of a graph is evaluated together
        self.owing: set[int] = set()
        self.holding: dict[int, tuple[_Graph, int]] = {}  # run -> its latest gradient row still open
        self.thread = threading.Thread(target=self._loop, name="gradflip-batch-model", daemon=True)
        self.thread.start()

    # -- run threads ---------------------------------------------------------------------------------
    def enter(self) -> None:
        with self.cond:
            self.live += 1

    def leave(self) -> None:
        with self.cond:
            self.live -= 1
            self.owing.discard(threading.get_ident())
            self._let_go(threading.get_ident())
            self.cond.notify_all()

    def _let_go(self, run: int) -> None:
        """``run`` will not ask for the backward of its open gradient row (it ended, or took a new one)."""
        graph, row = self.holding.pop(run, (None, 0))
        if graph is not None:
            graph.close(row)

    def call(self, req: _Request):
        with self.cond:
            self.owing.discard(req.run)  # its backward, or it moved on
            if req.kind == "grad":
                self._let_go(req.run)
            elif req.kind == "backward":
                self.holding.pop(req.run, None)  # the model thread closes the row when it evaluates it
            self.pending.append(req)
            self.cond.notify_all()
            while not req.done:
                self.cond.wait()
        if req.error is not None:
            raise req.error
        return req.result

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        self.thread.join(30)

    # -- the model thread ----------------------------------------------------------------------------
    def _ready(self) -> bool:
        """Evaluate now? When every live run has asked, or when the first request (counted from the end of
        the last evaluation, so runs that just got their answers may come back) has waited long enough."""
        if not self.pending:
            return False
        if self.closed or len(self.pending) >= self.live:
            return True
        return not self.owing and self._left() <= 0.0

    def _left(self) -> float:
        patience = max(PATIENCE_S, 0.5 * self.last_eval)
        return patience - (time.perf_counter() - max(self.free_since, self.pending[0].since))

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not self._ready():
                    if self.closed and not self.pending:
                        return
                    self.cond.wait(max(self._left(), 0.001) if self.pending and not self.owing else None)
                todo, self.pending = self.pending, []
                self.early += len(todo) < self.live
            t = time.perf_counter()
            self._evaluate(todo)
            with self.cond:
                self.last_eval = time.perf_counter() - t
                self.free_since = time.perf_counter()
                for r in todo:
                    r.done = True
                    if r.kind == "grad" and r.error is None:
                        self.owing.add(r.run)
                        self.holding[r.run] = r.result[1]
                self.cond.notify_all()

    def _evaluate(self, todo: list[_Request]) -> None:
        # backward requests first: they close the graphs of the previous forward batch
        graphs: dict[int, tuple[_Graph, list[tuple[int, _Request]]]] = {}
        for r in todo:
            if r.kind == "backward":
                graph, row = r.handle
                graphs.setdefault(id(graph), (graph, []))[1].append((row, r))
        for graph, rows in graphs.values():
            self._backward(graph, rows)
        groups: dict[tuple, list[_Request]] = {}
        for r in todo:
            if r.kind != "backward":
                groups.setdefault((r.kind, tuple(r.x.shape), r.x.dtype, str(r.x.device)), []).append(r)
        for (kind, *_), reqs in groups.items():
            self._forward(kind, reqs)

    def _forward(self, kind: str, reqs: list[_Request]) -> None:
        try:
            xs = torch.cat([r.x for r in reqs])
            if kind == "forward":
                with torch.no_grad():
                    z = self.module(xs)
                self._check_rows(z, len(reqs))
                for i, r in enumerate(reqs):
                    r.result = z[i : i + 1]
            else:
                xs = xs.detach().requires_grad_(True)
                with torch.enable_grad():
                    z = self.module(xs)
                self._check_rows(z, len(reqs))
                require_gradient(z)
                graph = _Graph(xs, z, [r.run for r in reqs])
                for i, r in enumerate(reqs):
                    r.result = (z[i : i + 1].detach(), (graph, i))
            self.batches += 1
            self.rows += len(reqs)
        except Exception as exc:  # noqa: BLE001 - retried one by one, then given to each run
            if len(reqs) > 1:
                for r in reqs:  # a model that refuses batches: evaluate each request alone
                    self._forward(kind, [r])
            else:
                reqs[0].error = exc

    @staticmethod
    def _check_rows(z, n: int) -> None:
        if not isinstance(z, torch.Tensor) or z.ndim < 1 or z.shape[0] != n:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise RuntimeError(f"the model returned {shape} for a batch of {n}")

    def _backward(self, graph: _Graph, rows: list[tuple[int, _Request]]) -> None:
        with self.cond:  # the rows asked now are closed; rows still open keep the graph for a later backward
            xs, z = graph.xs, graph.z
            for row, _ in rows:
                graph.close(row)
            keep = bool(graph.open)
        try:
            if z is None:
                raise RuntimeError("the batched graph of this gradient was released before its backward")
            dz = torch.zeros_like(z)
            for row, r in rows:
                dz[row : row + 1] = r.dz
            (g,) = torch.autograd.grad(z, xs, grad_outputs=dz, retain_graph=keep)
            for row, r in rows:
                r.result = g[row : row + 1]
        except Exception as exc:  # noqa: BLE001 - handed to the runs, which end with a model error
            for _, r in rows:
                r.error = exc


class _BatchedModule:
    """Stands in for ``classifier.module`` inside one run: every call goes through the batcher.

    A call with gradients returns the batch row's logits as a leaf that requires grad, holding its row of the
    batch's graph (``gradflip_row``); the run asks for the gradient at its input with :meth:`input_gradient`,
    from its own thread. (Not through an autograd Function: on a GPU, autograd runs every backward on one
    thread per device, so a backward that waits there for the other runs' backwards would wait for ever.)"""

    pairs_backward = True  # a gradient forward must be followed by its backward (the runner reads this)

    def __init__(self, module: torch.nn.Module, batcher: _Batcher):
        self._module, self._batcher = module, batcher

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            z, handle = self._batcher.call(_Request("grad", x=x.detach()))
            z = z.detach().requires_grad_(True)
            z.gradflip_row = handle
            return z
        return self._batcher.call(_Request("forward", x=x.detach()))

    def input_gradient(self, z: torch.Tensor, dz: torch.Tensor) -> torch.Tensor:
        """The gradient at the input of the pass that gave ``z`` (a gradient call's logits), for ``dz`` at ``z``."""
        return self._batcher.call(_Request("backward", handle=z.gradflip_row, dz=dz.detach()))

    @property
    def unbatched(self) -> torch.nn.Module:
        """The real module, for work a run does in its own thread (:mod:`.feature_groups`' hooked passes)."""
        return self._module

    def __getattr__(self, name):  # parameters(), eval(), ... of the real module
        return getattr(self._module, name)


def explain_batched(
    classifier,
    jobs: Iterable[BatchJob],
    options: ExplainOptions | None = None,
    batch_size: int = 8,
    on_step: Callable[[Any, Step | Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[tuple[BatchJob, ExplainResult | BaseException]]:
    """Explain every job's image, ``batch_size`` at a time in one batched model pass per step.

    Yields ``(job, result)`` as each finishes; ``result`` is the exception when loading or explaining
    that image raised (an ``ImageError``, a ``ModelError`` for a bad target ...). ``on_step(key, item)``
    is called from the worker threads, with each :class:`Step` and each :class:`~..results.Progress` (the
    key region's passes) of that image's run. ``batch_size=1`` runs the plain, unbatched engine in this thread.
    """
    from .runner import run  # noqa: PLC0415 - the runner imports the models (torch)

    opts = options or ExplainOptions()
    stop = should_stop or (lambda: False)
    if int(batch_size) <= 1:
        for job in jobs:
            if stop():
                return
            try:
                image = job.load()
                cb = (lambda s, k=job.key: on_step(k, s)) if on_step else None
                result = run(classifier, image, opts, on_step=cb, should_stop=stop, on_progress=cb)
            except Exception as exc:  # noqa: BLE001 - handed to the caller with its job
                yield job, exc
                continue
            yield job, result
        return

    batcher = _Batcher(classifier.module)
    proxy = copy.copy(classifier)
    proxy.module = _BatchedModule(classifier.module, batcher)
    proxy.batch_size = int(batch_size)  # the records say so: a batched pass rounds floats otherwise (ExplainResult.run_on)
    it = iter(jobs)
    it_lock = threading.Lock()
    done: queue.Queue = queue.Queue()
    stopping = threading.Event()  # the caller stopped (Ctrl+C, closed the generator) or a run raised
    raised: list[BaseException] = []  # BaseExceptions from the runs (KeyboardInterrupt in on_step)

    def halted() -> bool:
        return stopping.is_set() or stop()

    def next_job() -> BatchJob | None:
        with it_lock:
            return None if halted() else next(it, None)

    def worker() -> None:
        try:
            while (job := next_job()) is not None:
                try:
                    image = job.load()
                except Exception as exc:  # noqa: BLE001
                    done.put((job, exc))
                    continue
                batcher.enter()
                try:
                    cb = (lambda s, k=job.key: on_step(k, s)) if on_step else None
                    done.put((job, run(proxy, image, opts, on_step=cb, should_stop=halted, on_progress=cb)))
                except Exception as exc:  # noqa: BLE001
                    done.put((job, exc))
                except BaseException as exc:  # noqa: BLE001 - e.g. KeyboardInterrupt from on_step: stop all
                    raised.append(exc)
                    stopping.set()
                finally:
                    batcher.leave()
        finally:
            done.put(None)  # this worker has finished

    workers = [threading.Thread(target=worker, name=f"gradflip-batch-{i}", daemon=True) for i in range(int(batch_size))]
    for w in workers:
        w.start()
    running = len(workers)
    try:
        while running:
            item = done.get()
            if item is None:
                running -= 1
            elif not stopping.is_set():
                yield item
    finally:
        stopping.set()  # runs still going end as "cancelled" at their next model call; never yielded
        for w in workers:
            w.join(60)
        batcher.close()
    if raised:
        raise raised[0]
