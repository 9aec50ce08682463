"""How torch's CPU threads wait: sleep at a barrier instead of spinning (set before torch is imported).

torch's CPU kernels run on an OpenMP pool. OpenMP's default lets a waiting thread spin for a while before it
sleeps, which is fastest on an idle machine and several times slower as soon as another program uses one of
the cores: the spinning thread burns its time slice while the thread it waits for is not running. Measured
on 2 cores with one other busy process, one default explanation took 12–32 s spinning and 4–8 s with
``OMP_WAIT_POLICY=PASSIVE`` (``benchmarks/thread_wait.py``; docs/benchmarks.md). A desktop always runs other
programs, so the app and the command line choose PASSIVE, unless the user set the variable.
"""

from __future__ import annotations

import os
import sys

__all__ = ["sleep_when_waiting"]


def sleep_when_waiting(environ: dict | None = None) -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless it is set already or torch is already imported (OpenMP reads it
    once, when torch loads it). Call it first thing in an entry point. True when it set the variable."""
    env = os.environ if environ is None else environ
    if "OMP_WAIT_POLICY" in env or "torch" in sys.modules:
        return False
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    return True
