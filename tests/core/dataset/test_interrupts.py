"""Interrupts held back while a summary is written (core/dataset/interrupts.py)."""

from __future__ import annotations

import signal

import pytest

from gradflip_desktop.core.dataset.interrupts import interrupts_held


class _Terminated(Exception):
    pass


def test_the_first_interrupt_held_is_the_one_acted_on_under_the_handlers_that_were_there():
    """Ctrl+C, then SIGTERM, while held: once the block is done, the Ctrl+C acts (a KeyboardInterrupt), under the
    handlers restored; the block itself ran to its end."""

    def terminated(signum, frame):
        raise _Terminated

    before = signal.signal(signal.SIGTERM, terminated)
    before_int = signal.signal(signal.SIGINT, signal.default_int_handler)  # not ignored, as under `cmd &`
    try:
        finished = []
        with pytest.raises(KeyboardInterrupt):
            with interrupts_held():
                signal.raise_signal(signal.SIGINT)
                signal.raise_signal(signal.SIGTERM)
                finished.append(True)
        assert finished == [True] and signal.getsignal(signal.SIGTERM) is terminated
    finally:
        signal.signal(signal.SIGTERM, before)
        signal.signal(signal.SIGINT, before_int)
