"""The one worker pattern: tasks on executors, one current task per slot, stale results never arrive."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from gradflip_desktop.ui.worker import Executor, TaskSlot, error_message

pytestmark = pytest.mark.gui


class Recorder:
    def __init__(self):
        self.partial, self.done, self.errors = [], [], []

    def slot(self, executor) -> TaskSlot:
        return TaskSlot(executor, self.done.append, self.partial.append, self.errors.append)


@pytest.fixture
def executor(qapp):
    ex = Executor("test-worker")
    yield ex
    ex.shutdown()
    assert ex.thread.isFinished() or not ex.thread.isRunning()


def counting(task, n, delay=0.0):
    for i in range(n):
        if task.cancelled:
            return "stopped"
        time.sleep(delay)
        yield i
    return "all"


def test_generator_partials_then_done_on_the_gui_thread(qtbot, executor):
    rec = Recorder()
    slot = rec.slot(executor)
    threads = []
    slot.on_partial = lambda v: (threads.append(threading.current_thread()), rec.partial.append(v))
    slot.start(counting, 5)
    qtbot.waitUntil(lambda: bool(rec.done), timeout=10_000)
    assert rec.partial == [0, 1, 2, 3, 4] and rec.done == ["all"] and rec.errors == []
    assert set(threads) == {threading.main_thread()}  # callbacks run on the GUI thread
    assert not slot.busy


def test_starting_a_task_cancels_and_disconnects_the_previous_one(qtbot, executor):
    rec = Recorder()
    slot = rec.slot(executor)
    first = slot.start(counting, 1000, 0.002)
    qtbot.waitUntil(lambda: bool(rec.partial), timeout=10_000)
    seen = list(rec.partial)
    second = slot.start(counting, 3)
    assert first.cancelled and not second.cancelled
    qtbot.waitUntil(lambda: bool(rec.done), timeout=10_000)
    qtbot.wait(100)  # anything late of the first task would arrive now
    assert rec.done == ["all"]  # the first task's "stopped" never arrived
    assert rec.partial == seen + [0, 1, 2]  # nothing of the first task arrived after the switch
    assert slot.task is None


def test_a_task_cancelled_while_queued_is_not_run(qtbot, executor):
    ran = []
    rec = Recorder()
    blocker = TaskSlot(executor)
    release = threading.Event()
    blocker.start(lambda task: release.wait(10))
    slot = rec.slot(executor)
    slot.start(lambda task: ran.append(1) or "ran")
    slot.cancel()  # still queued behind the blocker: cancelled before it started
    release.set()
    qtbot.waitUntil(lambda: bool(rec.done), timeout=10_000)
    assert rec.done == [None] and ran == []


def test_many_requests_in_a_row_run_only_the_newest(qtbot, executor):
    """A fast slider: each move replaces the last request; queued ones are skipped."""
    ran = []
    rec = Recorder()
    release = threading.Event()
    TaskSlot(executor).start(lambda task: release.wait(10))
    slot = rec.slot(executor)
    for k in range(50):
        slot.start(lambda task, k=k: ran.append(k) or k)
    release.set()
    qtbot.waitUntil(lambda: bool(rec.done), timeout=10_000)
    qtbot.wait(50)
    assert rec.done == [49] and ran == [49]


def test_errors_reach_on_error(qtbot, executor):
    rec = Recorder()
    slot = rec.slot(executor)

    def boom(task):
        raise RuntimeError("out of\nmemory")

    slot.start(boom)
    qtbot.waitUntil(lambda: bool(rec.errors), timeout=10_000)
    assert isinstance(rec.errors[0], RuntimeError) and rec.done == []
    assert error_message(rec.errors[0], "the run failed") == "the run failed: RuntimeError: out of memory"  # one line
    # a TorchScript model's error: its tracebacks, the real error last (the Compare caption showed only their start)
    scripted = RuntimeError("The following operation failed in the TorchScript interpreter.\nTraceback of TorchScript "
                            "(most recent call last):\n  File \"code/__torch__.py\", line 9, in forward\n    _0 = "
                            "torch.linear(x)\nRuntimeError: simulated failure in backward\n")
    assert error_message(scripted, "saliency failed") == "saliency failed: RuntimeError: simulated failure in backward"
    assert error_message(AssertionError(), "the run failed") == "the run failed: AssertionError"
    from gradflip_desktop.core.errors import ImageError

    assert error_message(ImageError("x.png is not an image"), "ctx") == "x.png is not an image"
    assert error_message(ValueError("epsilon must be positive"), "ctx") == "epsilon must be positive"
    assert error_message(ImportError("no torch"), "ctx").startswith("ctx: a required package is missing")


def test_shutdown_cancels_and_waits_without_terminate(qtbot, qapp):
    ex = Executor("test-shutdown")
    rec = Recorder()
    slot = rec.slot(ex)
    task = slot.start(counting, 100_000, 0.001)
    qtbot.waitUntil(lambda: bool(rec.partial), timeout=10_000)
    t0 = time.perf_counter()
    ex.shutdown()
    assert task.cancelled and ex.thread.isFinished()
    assert time.perf_counter() - t0 < 2.0  # ended at its next check
    later = TaskSlot(ex).start(lambda task: 1)
    assert later.cancelled  # a closed executor runs nothing more


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_worker_threads_run_at_a_lower_priority(qtbot, executor):
    rec = Recorder()
    slot = rec.slot(executor)  # kept: a slot that is gone hears nothing
    slot.start(lambda task: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    qtbot.waitUntil(lambda: bool(rec.done), timeout=10_000)
    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert rec.done[0] > gui or rec.done[0] == 19


def _stale_result(executor, end: str) -> tuple[Recorder, TaskSlot]:
    """A task posts a partial (and with ``end`` its result or error) to the GUI thread and, before the GUI thread
    takes them, a new task starts in the slot (a new photo opened, Cancel then Run): they are stale."""
    from PySide6.QtCore import Qt

    rec = Recorder()
    slot = rec.slot(executor)
    yielded, finished = threading.Event(), threading.Event()
    executor._runner.finished_task.connect(lambda task: finished.set(), Qt.ConnectionType.DirectConnection)

    def old(task):
        yield "old partial"
        yielded.set()
        if end == "error":
            raise RuntimeError("old failure")
        return "old result"

    slot.start(old)
    # the GUI thread blocks here without running its event loop: what the task posted is still queued
    assert (finished if end else yielded).wait(10)
    slot.start(lambda task: "new")
    return rec, slot  # the slot kept: a slot that is gone hears nothing


@pytest.mark.parametrize("end", ["", "result", "error"])
def test_what_a_replaced_task_posted_before_the_switch_never_arrives(qtbot, executor, end):
    rec, _slot = _stale_result(executor, end)
    qtbot.waitUntil(lambda: bool(rec.done), timeout=10_000)  # posted after the stale ones: they were delivered first
    assert rec.partial == [] and rec.done == ["new"] and rec.errors == []


def test_an_error_frees_the_slot(qtbot, executor):
    rec = Recorder()
    slot = rec.slot(executor)

    def boom(task):
        raise RuntimeError("out of memory")

    slot.start(boom)
    qtbot.waitUntil(lambda: bool(rec.errors), timeout=10_000)
    assert not slot.busy and slot.task is None  # the window's Run/Cancel state reads busy


def test_a_finished_task_and_its_arguments_are_let_go(qtbot, executor):
    """The executor forgets a task once it ran: its arguments (a photo, a model's tensors) are not kept alive."""
    import gc
    import weakref

    class Payload:
        pass

    rec = Recorder()
    slot = rec.slot(executor)
    payload = Payload()
    gone = weakref.ref(payload)
    slot.start(lambda task, p: "ran", payload)
    del payload
    qtbot.waitUntil(lambda: bool(rec.done), timeout=10_000)
    qtbot.waitUntil(lambda: gc.collect() >= 0 and gone() is None, timeout=5_000)
