"""The CPU share: how many torch threads an explanation gets, from the cores other programs leave free now.

torch's CPU threads wait for each other at every one of an explanation's thousands of barriers, spinning (OpenMP's
default). When another program holds one of the cores, the spinning thread burns its time slice while the one it
waits for is descheduled: beside one busy process on 2 cores an explanation took 11-17 s instead of 2-3 s, one
thread 4-5 s (docs/benchmarks.md, "How torch's threads wait"). So the app and the command line
(:func:`enable`) give each run (:func:`choose`, called as it starts and again before each of its searches' model
passes, on the thread that computes) the cores the other programs did not use since the last choice: all of them on
an idle machine (the speed of the default), one less per core another program keeps busy, also one that starts
mid-run. MKL's strict mode (``gradflip_desktop/__init__.py``) and the searches' one-thread sums
(``core/explain/sums.py``) make the default model's answer the same at any thread count: this changes the time, not
the answer.

Linux only (``/proc/stat``: the whole machine's busy time, less this process's own from ``/proc/self/stat``); a
thread count the user fixed (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) is kept, ``GRADFLIP_CPU_SHARE=0`` keeps torch's own, and so is
any count when the file cannot be read. A library user's own calls are left alone (nothing enabled).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

FIXED = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")  # set by the user: their count is kept
OFF = "GRADFLIP_CPU_SHARE"  # "0": every run keeps torch's own count
HELD = 0.5  # a core another program uses at least half of counts as held (rounded: 0.5-1.49 busy cores hold one)
MIN_INTERVAL = 0.05  # s: a shorter interval since the last sample says nothing; the last choice stands


@dataclass(frozen=True)
class Sample:
    t: float  # time.monotonic()
    busy: int  # the machine's busy clock ticks (all programs)
    own: int  # this process's clock ticks (all its threads)


def sample() -> Sample | None:
    """The machine's and this process's CPU time now; ``None`` where ``/proc`` cannot be read (not Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = fh.readline().split()
        with open("/proc/self/stat", encoding="ascii") as fh:
            own = fh.read().rsplit(")", 1)[1].split()
        if not fields or fields[0] != "cpu" or len(fields) < 8:
            return None
        user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
        steal = int(fields[8]) if len(fields) > 8 else 0
        mine = int(own[11]) + int(own[12])
    except (OSError, IndexError, ValueError, UnicodeDecodeError):
        return None
    return Sample(time.monotonic(), user + nice + system + irq + softirq + steal, mine)


def others_busy(a: Sample, b: Sample, tick: float | None = None) -> float:
    """Cores other programs kept busy between samples ``a`` and ``b`` (0 when the interval is too short)."""
    seconds = b.t - a.t
    if seconds < MIN_INTERVAL:
        return 0.0
    tick = tick or float(os.sysconf("SC_CLK_TCK"))
    return max(0.0, ((b.busy - a.busy) - (b.own - a.own)) / tick / seconds)


def threads_for(others: float, cores: int, base: int) -> int:
    """The thread count for a run: ``base`` (torch's own count) less one per core the others hold, at least 1."""
    free = cores - int(others + HELD)
    return max(1, min(base, free))


class CpuShare:
    """The app's or the command line's chooser: :meth:`choose` before each run. ``base``: the most threads a run
    gets (None: torch's own count, read at the first run on the thread that computes)."""

    def __init__(self, base: int | None = None, cores: int | None = None) -> None:
        self.base = None if base is None else max(1, int(base))
        self.cores = int(cores or os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._last = sample()
        self.threads: int | None = None
        self.others = 0.0

    def choose(self) -> int:
        """The thread count for the run about to start, or for its next pass (from the others' use since the previous
        call, or since :func:`enable`), set with ``torch.set_num_threads`` on the calling thread (the one that computes)."""
        import torch  # noqa: PLC0415 - core stays importable without torch

        now = sample()
        with self._lock:
            if self.base is None:
                self.base = max(1, torch.get_num_threads())
            if now is not None and self._last is not None and now.t - self._last.t >= MIN_INTERVAL:
                self.others = others_busy(self._last, now)
                self.threads = threads_for(self.others, self.cores, self.base)
                self._last = now
            elif self._last is None:
                self._last = now
            threads = self.threads or self.base
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return threads


_share: CpuShare | None = None


def enable() -> CpuShare | None:
    """From now on, :func:`choose` picks each run's thread count (the app and the command line call this at start;
    torch is not imported here); ``None`` (nothing changes) when the user fixed the count or ``/proc`` cannot be read."""
    global _share
    if any(os.environ.get(name) for name in FIXED) or os.environ.get(OFF, "").strip() == "0" or sample() is None:
        return None
    _share = CpuShare()
    return _share


def disable() -> None:
    global _share
    _share = None


def choose() -> int | None:
    """Before a run, on the thread that computes: its thread count (``None``: not enabled, nothing changed)."""
    share = _share
    return None if share is None else share.choose()


__all__ = ["CpuShare", "Sample", "choose", "disable", "enable", "others_busy", "sample", "threads_for"]
