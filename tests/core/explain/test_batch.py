"""The batched engine (core/explain/batch.py): same answers as single runs, real batches, fallbacks."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from gradflip_desktop.core.explain import run
from gradflip_desktop.core.explain.batch import BatchJob, explain_batched
from gradflip_desktop.core.models import Classifier
from gradflip_desktop.core.options import ExplainOptions

from helpers import make_tiny


def _images(n: int, shape=(6, 8)) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.kron(rng.uniform(0.3, 0.7, size=(*shape, 3)).astype(np.float32), np.ones((4, 4, 1), np.float32))
            for _ in range(n)]


class _Counting(torch.nn.Module):
    """Wraps a module; records the batch size of every call; optionally refuses batches > 1."""

    def __init__(self, inner, refuse_batches: bool = False):
        super().__init__()
        self.inner, self.refuse, self.sizes = inner, refuse_batches, []

    def forward(self, x):
        self.sizes.append(int(x.shape[0]))
        if self.refuse and x.shape[0] > 1:
            raise RuntimeError("this model takes one image at a time")
        return self.inner(x)


def _wrapped(refuse: bool = False) -> Classifier:
    t = make_tiny()
    return Classifier(module=_Counting(t.module, refuse), labels=t.labels, name="tiny", groups=t.groups,
                      preprocessing=t.preprocessing)


def _jobs(images):
    return [BatchJob(i, (lambda a=a: a)) for i, a in enumerate(images)]


def test_batched_results_match_single_runs_and_batches_happen(monkeypatch):
    from gradflip_desktop.core.explain import batch

    # the model thread waits 0.05 s for runs still busy: a starved CI machine's runs missed it (smaller batches)
    monkeypatch.setattr(batch, "PATIENCE_S", 1.0)
    images = _images(12)
    single = {i: run(make_tiny(), a, ExplainOptions(style="free")) for i, a in enumerate(images)}
    clf = _wrapped()
    batched = {job.key: r for job, r in explain_batched(clf, _jobs(images), ExplainOptions(style="free"), batch_size=4)}
    assert sorted(batched) == list(range(12))
    for i, s in single.items():
        b = batched[i]
        assert b.status == s.status and b.final.index == s.final.index and b.original.index == s.original.index
        assert b.l2 == pytest.approx(s.l2, rel=0.03)  # a batched convolution rounds differently
        if s.flipped:  # a flip is reached by the same steps; a stall may wander a few steps further
            # (a single run skips the backward pass of the step that flips; a batched run's model thread pairs
            # every gradient forward with its backward, so it takes exactly one gradient evaluation more)
            assert len(b.steps) == len(s.steps) and b.gradient_evaluations == s.gradient_evaluations + 1
    sizes = clf.module.sizes
    assert max(sizes) == 4 and sum(s > 1 for s in sizes) > len(sizes) / 2  # most passes are real batches


def test_mixed_sizes_are_batched_by_shape():
    images = _images(3) + _images(3, shape=(5, 5))
    clf = _wrapped()
    got = {job.key: r for job, r in explain_batched(clf, _jobs(images), ExplainOptions(style="free"), batch_size=6)}
    for i, a in enumerate(images):
        assert got[i].final.index == run(make_tiny(), a, ExplainOptions(style="free")).final.index
        assert got[i].delta.shape == a.shape


def test_a_model_that_refuses_batches_is_run_one_by_one():
    images = _images(4)
    clf = _wrapped(refuse=True)
    got = {job.key: r for job, r in explain_batched(clf, _jobs(images), ExplainOptions(style="free"), batch_size=4)}
    for i, a in enumerate(images):
        s = run(make_tiny(), a, ExplainOptions(style="free"))
        assert got[i].status == s.status and got[i].final.index == s.final.index
    assert 1 in clf.module.sizes


def test_errors_come_back_with_their_job_and_the_rest_runs():
    images = _images(3)

    def broken():
        raise ValueError("cannot read this one")

    jobs = _jobs(images) + [BatchJob("bad", broken)]
    got = {job.key: r for job, r in explain_batched(make_tiny(), jobs, ExplainOptions(style="free"), batch_size=2)}
    assert isinstance(got["bad"], ValueError) and str(got["bad"]) == "cannot read this one"
    assert all(not isinstance(got[i], BaseException) for i in range(3))
    bad_target = {job.key: r for job, r in explain_batched(make_tiny(), _jobs(images), ExplainOptions(style="free", target="zebra"),
                                                             batch_size=2)}
    assert all("zebra" in str(r) for r in bad_target.values())


def test_interrupt_in_a_step_callback_stops_the_batch():
    seen = []

    def on_step(key, step):
        seen.append(key)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(explain_batched(make_tiny(), _jobs(_images(8)), ExplainOptions(style="free"), batch_size=4, on_step=on_step))


def test_a_busy_run_does_not_hold_the_others_back_and_answers_stay_those_of_single_runs(monkeypatch):
    import time

    from gradflip_desktop.core.explain import batch

    made = []
    real_init = batch._Batcher.__init__
    monkeypatch.setattr(batch._Batcher, "__init__", lambda self, m: (made.append(self), real_init(self, m))[1])
    images = _images(4)
    opts = ExplainOptions(style="free")
    single = {i: run(make_tiny(), a, opts) for i, a in enumerate(images)}
    busy_steps = []

    def on_step(key, step):  # image 0's run is busy with work of its own after every step
        if key == 0:
            busy_steps.append(step.index)
            time.sleep(0.25)

    t0 = time.perf_counter()
    got = {job.key: r for job, r in explain_batched(_wrapped(), _jobs(images), opts, batch_size=4, on_step=on_step)}
    seconds = time.perf_counter() - t0
    (b,) = made
    assert b.early > 0  # the others were evaluated without waiting for the busy run
    for i, s in single.items():
        assert got[i].status == s.status and got[i].final.index == s.final.index
        assert got[i].l2 == pytest.approx(s.l2, rel=0.03)
        if s.flipped:
            assert len(got[i].steps) == len(s.steps)
    # the busy run's sleeps dominate; the other runs finished alongside, not after them
    assert seconds < 0.25 * len(busy_steps) + 5


def test_a_forward_between_a_gradient_and_its_backward_does_not_lose_the_graph():
    """A run may ask for a plain forward between a gradient forward and its backward (the 8-bit search tests
    the rounded image's flip there). The other run's backward of the same batched graph, evaluated meanwhile,
    must not release the graph under it: its backward gets its own row's gradient, not a model error."""
    import threading

    from gradflip_desktop.core.explain import batch

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    batcher = batch._Batcher(module)
    proxy = batch._BatchedModule(module, batcher)
    xs = [torch.rand(1, 3, 2, 2) for _ in range(2)]
    got: dict[str, object] = {}
    fw_done = threading.Event()
    entered = threading.Barrier(2)  # both runs are live before either asks: their gradient rows share one graph

    def run_a():  # gradient forward, a plain forward, then the backward
        batcher.enter()
        entered.wait(10)
        try:
            x = xs[0].clone().requires_grad_(True)
            with torch.enable_grad():
                z = proxy(x)
                with torch.no_grad():
                    proxy(xs[0] + 0.5)
                fw_done.set()
                got["a"] = proxy.input_gradient(z, torch.eye(3)[1:2])
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            got["a"] = exc
        finally:
            batcher.leave()

    def run_b():  # gradient forward and its backward, then it leaves
        batcher.enter()
        entered.wait(10)
        try:
            x = xs[1].clone().requires_grad_(True)
            with torch.enable_grad():
                z = proxy(x)
                got["b"] = proxy.input_gradient(z, torch.eye(3)[2:3])
        except Exception as exc:  # noqa: BLE001
            got["b"] = exc
        finally:
            fw_done.wait(10)
            batcher.leave()

    threads = [threading.Thread(target=f) for f in (run_a, run_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    batcher.close()
    assert not any(t.is_alive() for t in threads)
    for key, x, cls in (("a", xs[0], 1), ("b", xs[1], 2)):
        assert isinstance(got[key], torch.Tensor), f"run {key}: {got[key]!r}"
        xr = x.clone().requires_grad_(True)
        (want,) = torch.autograd.grad(module(xr)[0, cls], xr)
        assert torch.allclose(got[key], want, atol=1e-6)


def test_batched_runs_ask_for_their_backwards_from_their_own_threads(monkeypatch):
    """On a GPU, autograd runs every backward pass on one thread per device: a backward that waits there
    for the batch (the other runs' backwards) waits for ever, since they queue behind it on that thread
    (a folder on CUDA with --batch-size 8 hung). Modelled here: every ``torch.autograd.grad`` runs on one
    shared thread, as a GPU's would. The batched runs must finish with the answers of an unpatched run:
    each asks the model thread for its backward from its own thread, never from inside autograd."""
    import queue
    import threading

    images = _images(4)
    plain = {job.key: r for job, r in explain_batched(make_tiny(), _jobs(images), ExplainOptions(style="free"), 2)}

    real_grad = torch.autograd.grad
    tasks: queue.Queue = queue.Queue()

    def device_thread():
        while True:
            fn, box, done = tasks.get()
            try:
                box.append(fn())
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                box.append(exc)
            done.set()

    threading.Thread(target=device_thread, name="autograd-device", daemon=True).start()

    def grad_on_the_device_thread(*args, **kwargs):
        box, done = [], threading.Event()
        tasks.put((lambda: real_grad(*args, **kwargs), box, done))
        if not done.wait(20):
            raise RuntimeError("autograd's device thread is blocked: a backward waits inside it")
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]

    monkeypatch.setattr(torch.autograd, "grad", grad_on_the_device_thread)
    asked_from: list[str] = []
    real_call = __import__("gradflip_desktop.core.explain.batch", fromlist=["_Batcher"])._Batcher.call

    def call(self, req):
        if req.kind == "backward":
            asked_from.append(threading.current_thread().name)
        return real_call(self, req)

    monkeypatch.setattr("gradflip_desktop.core.explain.batch._Batcher.call", call)
    for style in ("free", "region"):
        got = {job.key: r for job, r in explain_batched(make_tiny(), _jobs(images), ExplainOptions(style=style), 2)}
        assert sorted(got) == list(range(4))
        assert all(not isinstance(r, BaseException) for r in got.values()), got
        if style == "free":
            for i, r in got.items():
                assert r.status == plain[i].status and r.final.index == plain[i].final.index
    # from a run's own thread ("gradflip-batch-0"), neither autograd's nor the model thread's ("gradflip-batch-model")
    assert asked_from and all(re.fullmatch(r"gradflip-batch-\d+", name) for name in asked_from), set(asked_from)


def test_the_record_says_the_device_and_batch_size_that_made_it():
    """A batched pass (or another device) rounds floats otherwise and moves the key region (README, Reproducibility:
    copies of the cat got 54 % and 57 % in one batch of 8), but the record named only the thread count: a set made with
    --batch-size 8 or --device cuda could not be told from a plain CPU run's, nor reproduced."""
    from gradflip_desktop.core.report import record

    images = _images(2)
    single = record(run(make_tiny(), images[0], ExplainOptions(style="free")))
    assert single["versions"]["device"] == "cpu" and single["versions"]["batch_size"] == "1"
    assert "torch_threads" in single["versions"]
    batched = [record(r) for _, r in explain_batched(_wrapped(), _jobs(images), ExplainOptions(style="free"), batch_size=2)]
    assert [r["versions"]["batch_size"] for r in batched] == ["2", "2"]
    assert all(r["versions"]["device"] == "cpu" for r in batched)


def test_batch_size_one_is_the_plain_engine_step_for_step():
    """``batch_size=1`` runs the plain engine: the same steps and evaluations as ``run`` (the batched engine pairs
    every gradient forward with a backward, one gradient evaluation more)."""
    images = _images(2)
    opts = ExplainOptions(style="free")
    got = {job.key: r for job, r in explain_batched(make_tiny(), _jobs(images), opts, batch_size=1)}
    for i, a in enumerate(images):
        s = run(make_tiny(), a, opts)
        assert got[i].gradient_evaluations == s.gradient_evaluations and len(got[i].steps) == len(s.steps)
        assert got[i].l2 == s.l2


@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_stop_between_images_starts_no_more_of_them(batch_size):
    """Once ``should_stop`` says so (here at the first step), no further image is loaded or run (each would come back
    as a "cancelled" result the folder run then writes and lists)."""
    images = _images(6)
    loaded, stopped = [], []

    def jobs():
        for i, a in enumerate(images):
            yield BatchJob(i, (lambda i=i, a=a: (loaded.append(i), a)[1]))

    got = [job.key for job, _ in explain_batched(make_tiny(), jobs(), ExplainOptions(style="free"), batch_size=batch_size,
                                                 on_step=lambda key, step: stopped.append(key),
                                                 should_stop=lambda: bool(stopped))]
    assert sorted(got) == sorted(loaded) and len(loaded) <= batch_size  # the runs under way end, "cancelled"


def test_the_runs_cancelled_by_an_interrupt_are_not_handed_back():
    """A KeyboardInterrupt in one run's callback stops the others ("cancelled" at their next model call): those
    half-done results are never yielded as if they were answers."""
    seen, got = [], []

    def on_step(key, step):
        seen.append(key)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        for _, r in explain_batched(make_tiny(), _jobs(_images(8)), ExplainOptions(style="free", max_steps=200),
                                    batch_size=4, on_step=on_step):
            got.append(r)
    assert [str(r.status) for r in got if str(r.status) == "cancelled"] == []


def test_a_model_that_answers_a_batch_with_one_row_is_run_one_by_one():
    """A fixed-batch export may answer a batch of 4 with one row: each image is then evaluated alone, never handed
    an empty or another image's row."""

    class _OneRow(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x[:1])

    t = make_tiny()
    clf = Classifier(module=_OneRow(t.module), labels=t.labels, name="tiny", groups=t.groups, preprocessing=t.preprocessing)
    images = _images(4)
    got = {job.key: r for job, r in explain_batched(clf, _jobs(images), ExplainOptions(style="free"), batch_size=4)}
    for i, a in enumerate(images):
        s = run(make_tiny(), a, ExplainOptions(style="free"))
        assert (got[i].status, got[i].final.index) == (s.status, s.final.index)
        assert got[i].l2 == pytest.approx(s.l2, rel=0.03)
