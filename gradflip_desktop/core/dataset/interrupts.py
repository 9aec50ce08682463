"""Interrupts held back while a run's summary is written: Ctrl+C or SIGTERM arriving then acts once it is whole.

An interrupt that landed while ``summary.csv`` and ``index.html`` were being written left the previous run's
summary (11 complete sets listed "not run") or, on a first run into a new folder, none at all, while the message
said the run had stopped normally. The summary takes well under a second; the signal is acted on right after it,
with the handler that was there (the command line's: its clean-up, or at once for a second interrupt).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

_HELD = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM are recorded, not acted on; after it, the first one recorded is raised
    again under the handlers that were there. Only in the main thread (signal handlers live there; a folder run
    of the app's, in a worker thread, has no interrupts to hold)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    previous = {}
    for sig in _HELD:
        try:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, lambda signum, frame: came.append(signum))
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if came:
            signal.raise_signal(came[0])
