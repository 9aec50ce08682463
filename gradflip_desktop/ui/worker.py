"""The one way the GUI runs work off its thread: tasks, executors and task slots.

After superqt's ``GeneratorWorker`` and Orange3's ``ConcurrentMixin``:

- :class:`Task`: one call of a function in a worker thread. The function gets the task as its first
  argument (``task.cancelled`` says whether to stop). A generator function's yielded values are sent to
  the GUI as *partial results*; its return value (or a plain function's) is the task's result.
- :class:`Executor`: a worker ``QThread`` that runs tasks one after another, at a lower CPU priority
  than the GUI thread. A task cancelled while it waits in the queue is not run (a fast slider or a
  stream of previews never builds a queue). Shutting down cancels everything and waits; never
  ``terminate()``.
- :class:`TaskSlot`: at most one current task for one purpose (opening an image, a run, the Difference
  map, ...). Starting a task cancels the previous one and disconnects it, so its results can never
  arrive. The owner handles three callbacks only: ``on_partial(value)``, ``on_done(value)``,
  ``on_error(exception)``; they run on the GUI thread. A task cancelled before it started finishes
  with ``None``.
"""

from __future__ import annotations

import inspect
import itertools
import os
import sys
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

WORKER_NICE = 5  # how much lower the worker threads' CPU priority is than the GUI thread's (Linux)

_ids = itertools.count(1)


def lower_thread_priority() -> None:
    """Run the calling worker thread (and the threads it starts later, e.g. torch's) at a lower CPU
    priority than the GUI thread, so that on a machine with few cores painting is not starved.

    Linux: nice values are per thread (``setpriority`` with the thread's id). Elsewhere QThread's
    priority does this (``QThread.start(priority)``); this is then a no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICE))
    except (AttributeError, OSError):
        pass


def error_message(exc: BaseException, context: str) -> str:
    """A one-line message for the user: GradFlip's own errors (and ValueError) as they are, anything
    else prefixed with ``context`` and its type."""
    from gradflip_desktop.core.errors import GradFlipError

    if isinstance(exc, (GradFlipError, ValueError)):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"{context}: a required package is missing or broken ({exc})"
    from gradflip_desktop.core.models.files.safety import error_line  # noqa: PLC0415

    # one line: a TorchScript model's error carries its tracebacks (dozens of lines) with the real error last; the
    # Compare panel's caption showed only their start ("torch.jit.Error: The following operation failed …")
    return f"{context}: {error_line(exc, 1000).rstrip(': ')}"  # (a bare AssertionError ended in ":")


class Task(QObject):
    """One call of ``fn(task, *args)`` in an executor's thread. Created and connected on the GUI thread."""

    partial = Signal(object, object)  # task, a value the generator yielded
    done = Signal(object, object)  # task, the return value (None: cancelled before it started)
    failed = Signal(object, object)  # task, the exception

    def __init__(self, fn: Callable[..., Any], args: tuple = ()) -> None:
        super().__init__()
        self.fn = fn
        self.args = args
        self.id = next(_ids)
        self._cancelled = False  # a bool write is atomic under the GIL: any thread may cancel

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Ask the task to stop (thread-safe). A long function checks :attr:`cancelled` between steps."""
        self._cancelled = True

    def run(self) -> None:
        """Run in the worker thread; report through the signals."""
        if self._cancelled:
            self.done.emit(self, None)
            return
        try:
            out = self.fn(self, *self.args)
            if inspect.isgenerator(out):
                gen = out
                while True:
                    try:
                        value = next(gen)
                    except StopIteration as stop:
                        out = stop.value
                        break
                    self.partial.emit(self, value)
        except Exception as exc:  # noqa: BLE001 - the owner turns it into a message for the user
            self.failed.emit(self, exc)
            return
        self.done.emit(self, out)


class _Runner(QObject):
    """Lives in the executor's thread; runs each task it is sent."""

    finished_task = Signal(object)

    @Slot(object)
    def run(self, task: Task) -> None:
        try:
            task.run()
        finally:
            self.finished_task.emit(task)


class Executor(QObject):
    """A named worker thread that runs tasks in the order they were submitted."""

    _submit = Signal(object)

    def __init__(self, name: str, priority: QThread.Priority = QThread.Priority.InheritPriority,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.priority = priority
        self._runner = _Runner()
        self.thread = QThread()
        self.thread.setObjectName(name)
        self._runner.moveToThread(self.thread)
        self.thread.finished.connect(self._runner.deleteLater)
        self.thread.started.connect(lower_thread_priority, Qt.ConnectionType.DirectConnection)
        self._submit.connect(self._runner.run)
        self._lock = threading.Lock()
        self._pending: set[Task] = set()
        self._runner.finished_task.connect(self._forget, Qt.ConnectionType.DirectConnection)
        self._closed = False

    def submit(self, task: Task) -> Task:
        if self._closed:
            task.cancel()
            return task
        if not self.thread.isRunning():
            self.thread.start(self.priority)
        with self._lock:
            self._pending.add(task)
        self._submit.emit(task)
        return task

    def _forget(self, task: Task) -> None:  # any thread
        with self._lock:
            self._pending.discard(task)

    def shutdown(self) -> None:
        """Cancel every task, let the running one end at its next check, and wait. Never terminates."""
        self._closed = True
        with self._lock:
            tasks = list(self._pending)
        for task in tasks:
            task.cancel()
        if self.thread.isRunning():
            self.thread.quit()
            self.thread.wait()


class TaskSlot(QObject):
    """At most one current task of one kind; its results go to the three callbacks (GUI thread)."""

    def __init__(
        self,
        executor: Executor,
        on_done: Callable[[Any], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.executor = executor
        self.on_done, self.on_partial, self.on_error = on_done, on_partial, on_error
        self.task: Task | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None

    def start(self, fn: Callable[..., Any], *args: Any) -> Task:
        """Run ``fn(task, *args)``; the previous task of this slot is cancelled and disconnected."""
        self.discard()
        task = Task(fn, args)
        task.partial.connect(self._partial)
        task.done.connect(self._done)
        task.failed.connect(self._failed)
        self.task = task
        return self.executor.submit(task)

    def cancel(self) -> None:
        """Ask the current task to stop and keep listening: it reports what it reached (``on_done``)."""
        if self.task is not None:
            self.task.cancel()

    def discard(self) -> None:
        """Cancel the current task and stop listening to it: nothing more of it arrives."""
        task, self.task = self.task, None
        if task is None:
            return
        task.cancel()
        for signal, slot in ((task.partial, self._partial), (task.done, self._done), (task.failed, self._failed)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):  # already disconnected
                pass

    # results: queued from the worker thread; a task that is no longer current is ignored (a queued
    # event posted before the disconnect may still be delivered)
    @Slot(object, object)
    def _partial(self, task: Task, value: Any) -> None:
        if task is self.task and self.on_partial is not None:
            self.on_partial(value)

    @Slot(object, object)
    def _done(self, task: Task, value: Any) -> None:
        if task is self.task:
            self.task = None
            if self.on_done is not None:
                self.on_done(value)

    @Slot(object, object)
    def _failed(self, task: Task, exc: BaseException) -> None:
        if task is self.task:
            self.task = None
            if self.on_error is not None:
                self.on_error(exc)
