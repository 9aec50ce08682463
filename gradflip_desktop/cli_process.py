"""The process around a command: its standard streams, its current folder, Ctrl+C and SIGTERM, a reader that
goes away. Shared by the command line (cli.py) and the app's entry point (app.py)."""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import sys
import time
from typing import Callable

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # Ctrl+C, SIGTERM: 128 + the signal, as a shell reports it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that went away
SAME_SIGNAL_S = 0.3  # a second interrupt this soon after the first is the same one, delivered twice


ESCAPE = "gradflip-json-escape"


def _json_escape(exc: UnicodeError) -> tuple[str, int]:
    """A character stdout's encoding lacks, as JSON's own escape: "\\u732b", and a character beyond U+FFFF as its
    surrogate pair ("\\ud83d\\udc31" for 🐱). backslashreplace wrote \\U0001f431 and, on an ASCII stdout, \\xe9:
    not JSON escapes, so `--json` output failed to parse."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    parts = []
    for ch in exc.object[exc.start:exc.end]:
        n = ord(ch)
        if n > 0xFFFF:
            n -= 0x10000
            parts.append(f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}")
        else:
            parts.append(f"\\u{n:04x}")
    return "".join(parts), exc.end


codecs.register_error(ESCAPE, _json_escape)


def std_streams_open() -> None:
    """Started with stdin, stdout or stderr closed (``2>&-``, a launcher or scheduler that closes them), the program
    gets /dev/null there. Else each progress line fails (``sys.stderr`` is None, or the number was reused by a file
    opened read-only, e.g. a launcher script: EBADF), which failed every explanation, and the next file opened (a
    result file) would take the number and receive the lines written to that stream."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        if _usable(fd, mode) and getattr(sys, name) is not None:
            continue
        if not _usable(fd, mode):
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError:
                continue
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:  # Python found it closed at start-up: print() would write to stdout
            setattr(sys, name, open(fd, mode, encoding="utf-8", errors="backslashreplace", closefd=False))
    # stdout in an encoding that lacks a file name's or label's characters (a Latin-1 terminal, PYTHONIOENCODING,
    # Windows' ANSI code page when redirected to a file): "猫.png" failed the whole command ("'latin-1' codec can't
    # encode character", exit 2, nothing printed); it is written as \u732b instead, as stderr already does
    out = sys.stdout
    if out is not None and (getattr(out, "encoding", None) or "utf-8").lower().replace("_", "-") not in ("utf-8", "utf8"):
        try:
            out.reconfigure(errors=ESCAPE)
        except (AttributeError, ValueError, OSError):
            pass


def _usable(fd: int, mode: str) -> bool:
    """Whether file descriptor ``fd`` is open for reading (``mode`` "r") or writing ("w")."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    try:
        import fcntl  # noqa: PLC0415 - not on Windows
    except ImportError:
        return True
    access = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    return access == os.O_RDWR or access == (os.O_RDONLY if mode == "r" else os.O_WRONLY)


def cwd_gone() -> str:
    """Why the program cannot run in its current folder (deleted since the shell entered it), else "". Importing
    torch there ended the process with "Intel oneMKL FATAL ERROR: Cannot load .../libtorch_cpu.so", which reads as
    a broken installation; and ``--out``'s default, ./gradflip-results, would have no place to go."""
    try:
        os.getcwd()
    except FileNotFoundError:
        return "the current folder no longer exists (deleted since the shell entered it): cd to a folder that exists, then run it again"
    except OSError:
        pass
    return ""


def _plain_ctrl_c(code: int | None = None) -> None:
    """After the command (its files written, its last line printed) Ctrl+C ends the process at once with the
    command's own exit status ``code``, without Python's KeyboardInterrupt: pressed while the interpreter shut down
    (torch's clean-up), that printed a traceback from an exit handler (or from the handler being put back); and
    ended by SIGINT as any program is, a finished run exited 130 with nothing said, which a script reads as a run
    cut short (its sets complete). ``None`` (the command did not return): as any program, SIGINT's own end."""
    def finished(signum, frame):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):  # closed, or a reader gone
                pass
        os._exit(code)

    try:
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # `cmd &`, nohup: ignored it stays
            signal.signal(signal.SIGINT, signal.SIG_DFL if code is None else finished)
    except (ValueError, OSError):  # not the main thread
        pass


_INTERRUPT_SAID: list = []  # set when a command's own Ctrl+C lines said "interrupted" (cli_interrupt.py)


def interrupt_said() -> None:
    """The command said what its interrupt kept, "interrupted" included: :func:`take_interrupt_said` tells the
    command line's handler not to say it again (after a blank line)."""
    _INTERRUPT_SAID.append(True)


def take_interrupt_said() -> bool:
    """Whether :func:`interrupt_said` was called since the last call (then forgotten: one command, one answer)."""
    said = bool(_INTERRUPT_SAID)
    _INTERRUPT_SAID.clear()
    return said


def quiet_broken_pipe(main_fn: Callable[..., int]) -> Callable[..., int]:
    """``main_fn`` for a console script: a reader that goes away (``gradflip --help | head -1``) ends the
    program quietly with :data:`EXIT_BROKEN_PIPE` instead of a traceback."""

    def wrapper(argv: list[str] | None = None) -> int:
        std_streams_open()
        code = None
        try:
            code = main_fn(argv)
            return code
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            code = EXIT_BROKEN_PIPE
            return code
        except KeyboardInterrupt:  # Ctrl+C at start-up (numpy/Pillow/Qt imports, before the command's own handler)
            print("\ngradflip: interrupted", file=sys.stderr)
            code = EXIT_INTERRUPTED
            return code
        finally:
            if argv is None:  # the console script: the process exits next, and torch's clean-up takes a moment
                _plain_ctrl_c(code if isinstance(code, int) else None)

    wrapper.__doc__, wrapper.__name__, wrapper.__wrapped__ = main_fn.__doc__, main_fn.__name__, main_fn
    return wrapper


_JSON_OUT: list = []  # the stream --json's document goes to while json_stdout() holds stdout


@contextlib.contextmanager
def json_stdout(active: bool):
    """While a ``--json`` command runs, whatever else is written to stdout goes to stderr: a model's own prints
    (``print`` in its ``forward``, TorchScript's too; a native library's ``printf``) came before the document, and
    ``json.load`` / ``jq`` failed on it. The document itself is printed to :func:`json_out`."""
    if not active:
        yield
        return
    real = sys.stdout
    real.flush()
    fd = saved = None
    if real is sys.__stdout__:  # the process's own stdout (not one replaced in-process): C's prints are moved too
        try:
            fd = real.fileno()
            saved = os.dup(fd)
            os.dup2(sys.stderr.fileno(), fd)
        except (AttributeError, OSError, ValueError):
            fd = saved = None
    out = real if saved is None else open(os.dup(saved), "w", encoding=real.encoding, errors=real.errors)
    _JSON_OUT.append(out)
    sys.stdout = sys.stderr
    failed = None
    try:
        yield
    finally:
        sys.stdout = real
        _JSON_OUT.pop()
        if saved is not None:
            try:
                out.close()  # flushed: a reader gone away (`| head`) raises here, after the output is put back
            except OSError as exc:
                failed = exc
            _flush_c_stdout()  # a native library's output still in C's buffer goes to stderr, not after the document
            os.dup2(saved, fd)
            os.close(saved)
    if failed is not None:
        raise failed


def json_out():
    """Where ``--json``'s document is printed: the real stdout (:func:`json_stdout`), else ``sys.stdout``."""
    return _JSON_OUT[-1] if _JSON_OUT else sys.stdout


def _flush_c_stdout() -> None:
    try:
        import ctypes  # noqa: PLC0415

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library to ask (Windows): its buffer is flushed at exit
        pass


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a batch scheduler) stops a run as Ctrl+C does: finished result sets
    written whole, none half-written, the summary rebuilt."""


def _stop_on_signals() -> tuple[dict, Callable]:
    """While a command runs, SIGTERM interrupts as Ctrl+C does, and a second Ctrl+C or SIGTERM during the first
    one's clean-up ends the process at once (``os._exit``: a normal exit with torch threads still running would
    abort); one within :data:`SAME_SIGNAL_S` of the first is taken as the same (``timeout -s INT`` sends two). Returns the previous handlers and the handler (``done`` set: it does
    nothing); an ignored SIGINT (``nohup``, ``cmd &`` in a script) stays ignored."""
    def stop(signum, frame):
        if stop.done:
            return
        if stop.hit and time.monotonic() - stop.hit < SAME_SIGNAL_S:
            return  # the same interrupt delivered twice (`timeout -s INT` signals the process and its group)
        if stop.hit:
            try:
                print("\ngradflip: interrupted again: stopped at once", file=sys.stderr, flush=True)
            finally:
                os._exit(EXIT_TERMINATED if signum == signal.SIGTERM else EXIT_INTERRUPTED)
        stop.hit = time.monotonic()
        raise _Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    stop.hit, stop.done, previous = 0.0, False, {}
    for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        try:
            if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, stop)
        except (ValueError, OSError):  # not the main thread
            pass
    return previous, stop


__all__ = ["cwd_gone", "json_out", "json_stdout", "quiet_broken_pipe", "std_streams_open"]
