"""The process around a command (cli_process.py): which standard streams count as open, and which signals it takes."""

from __future__ import annotations

import os
import signal

from gradflip_desktop import cli_process


def test_a_stream_open_for_reading_and_writing_is_usable_both_ways(tmp_path):
    """A terminal is opened read-write (stdin, stdout and stderr are one tty): it must never count as closed and be
    swapped for /dev/null (the command's output would go nowhere)."""
    path = tmp_path / "f"
    path.write_bytes(b"")
    both, read, write = os.open(path, os.O_RDWR), os.open(path, os.O_RDONLY), os.open(path, os.O_WRONLY)
    try:
        assert [cli_process._usable(both, "r"), cli_process._usable(both, "w")] == [True, True]
        assert [cli_process._usable(read, "r"), cli_process._usable(read, "w")] == [True, False]
        assert [cli_process._usable(write, "r"), cli_process._usable(write, "w")] == [False, True]
    finally:
        for fd in (both, read, write):
            os.close(fd)


def test_an_ignored_ctrl_c_is_not_taken_while_the_command_runs():
    """Started with SIGINT ignored (``nohup``, ``cmd &`` in a script), a Ctrl+C meant for the shell's foreground job
    must not stop the run: only SIGTERM gets the command's handler."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        previous, stop = cli_process._stop_on_signals()
        assert list(previous) == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and signal.getsignal(signal.SIGTERM) is stop
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def test_a_command_called_in_process_leaves_ctrl_c_as_it_was():
    """Only the console script (no ``argv``: the process exits next) drops Python's Ctrl+C handling after the command;
    a caller's own ``main([...])`` keeps its KeyboardInterrupt."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert cli_process.quiet_broken_pipe(lambda argv: 0)(["--version"]) == 0
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)
