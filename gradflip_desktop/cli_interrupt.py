"""What ``gradflip explain`` says when Ctrl+C stops it: the result sets that are complete (those reported, and
those being written when it came: they are finished first, but were neither counted nor listed), how to go on,
in one line, after which the command line's own "interrupted" is not said again."""

from __future__ import annotations

import sys

from . import cli_process


def late_sets(out, inputs, reported: set[str], began: float) -> list:
    """The inputs not reported whose result set in ``out`` was completed during this run (``began``:
    ``time.time()`` at its start): a set being written when the interrupt came is finished first (a folder's last set
    was on disk, in summary.csv and kept by --resume, while the line said "2 of 3 result sets are complete")."""
    from .core.dataset.summary import written_since  # noqa: PLC0415 - core.dataset imports numpy

    seen, late = {inp.name for inp in inputs if str(inp.path) in reported}, []  # (the caller leaves out files given
    for inp in inputs:  # twice under two spellings; a set's name is counted once in any case)
        if str(inp.path) in reported or inp.name in seen:
            continue
        seen.add(inp.name)
        if written_since(out, inp.name, began):
            late.append(inp)
    return late


def say_interrupted(out, late: list, written: int, once: int, summary: bool, single: bool, sigterm: bool = False) -> None:
    """The interrupt's lines: each late set, then one line of what is complete and how to go on, which says
    "interrupted" (marked as said: :func:`.cli_process.interrupt_said`); for one photo whose set is complete, its line
    alone, and the command line's "interrupted" follows."""
    say = lambda text: print(text, file=sys.stderr)  # noqa: E731
    stopped = "interrupted (SIGTERM)" if sigterm else "interrupted"
    print(file=sys.stderr)  # after the terminal's "^C" (and a progress line ended by "\r")
    if single and late:
        say(f"gradflip: {late[0].display}: its result set was being written when the interrupt came and is complete, in {out}")
        return  # (the handler's "interrupted" follows)
    for inp in late:
        say(f"gradflip: {inp.display}: its result set was being written when the interrupt came and is complete")
    written += len(late)
    if written == 0 and summary:  # the summary is written all the same: "nothing to keep" beside a new summary.csv
        say(f"gradflip: {stopped} before any result set was complete: {out} holds only summary.csv and index.html, "
            "which list the inputs as not run")
    elif written == 0:  # "0 of 1 result sets are complete in int6; … --resume": a folder never made, nothing to keep
        say(f"gradflip: {stopped} before any result set was complete; nothing to keep")
    else:
        rest = ("; the same command with --resume explains the rest" if written < once else  # else a summary's rewrite
                "; the same command with --resume writes the summary again" if summary else "")
        say(f"gradflip: {stopped}: {written} of {once} result sets are complete in {out}{rest}")
    cli_process.interrupt_said()
