"""The command line's per-step progress line for a single image (stderr): rewritten in place on a terminal,
a line per phase and at most one a second in a log."""

from __future__ import annotations

import sys
import time
from typing import Callable

# how a step's phase reads in the progress line (the search itself needs no name)
# (short: a terminal line is rewritten in place only while it fits the terminal's width, and the fill-in is not
# always a blur: "mean colour" runs flip back too)
_PHASES = {"sharpen": " (past the flip)", "restore": " (flip-back: detail put back)", "eight_bit": " (8-bit pass)"}


class _Progress:
    """Per-step progress of a single image: one line, rewritten on a terminal; written to a file or a pipe, a line
    when a phase begins and then at most one a second (a log got every step: 200 lines for a run out of steps)."""

    EVERY_S = 1.0  # the least time between two lines of one phase when stderr is not a terminal

    def __init__(self, name: str, budget: int, quiet: bool, label: Callable[[int], str], target: int | None = None):
        self.name, self.budget, self.quiet, self.label = name, budget, quiet, label
        self.target = target  # a targeted run: the class it is to reach, said after the top class while another leads
        self.tty = sys.stderr.isatty()
        self._last: tuple[str, float] | None = None  # the phase and time of the last line (not a terminal)

    def __call__(self, step) -> None:
        if self.quiet:
            return
        if not hasattr(step, "top"):  # a Progress: the key region's and the map's forward passes have no step
            what = "scoring feature regions" if step.phase == "feature_groups" else "finding the key region"
            return self._line(f"{self.name}: {what}: pass {step.passes}", what)
        phase = _PHASES.get(step.phase, "")
        (i, p), = step.top(1)
        # the budget bounds the search only: the passes after the flip count on past it ("step 13/3" misled)
        of = "" if phase else f"/{self.budget}"
        # a targeted run's progress named only the class on top ("drilling platform 24.9 %"), not the one to reach
        aim = (f"  ({self.label(self.target)} {100 * float(step.probabilities[self.target]):.1f} %)"
               if self.target is not None and self.target != i else "")
        self._line(f"{self.name}: step {step.index}{of}{phase}  {self.label(i)} {100 * p:.1f} %{aim}  L2 {step.l2:.3f}", phase)

    def _line(self, line: str, phase: str = "") -> None:
        if not (self.tty or self._last is None or self._last[0] != phase or time.monotonic() - self._last[1] >= self.EVERY_S):
            return
        self._last = (phase, time.monotonic())
        if self.tty:  # within the terminal's width: a longer line wraps, and "\r" then rewrites only its last row
            width = _columns()
            line = line[:width].ljust(width)
        print("\r" + line if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def done(self, text: str) -> None:
        if not self.quiet:  # may wrap: nothing rewrites it; padded to blank out the progress line under it
            print(("\r" if self.tty else "") + f"{self.name}: {text}".ljust(_columns() if self.tty else 90),
                  file=sys.stderr, flush=True)


def _columns() -> int:
    """The progress line's width on a terminal: at most 90, and one less than the terminal's (the last column
    wraps on some terminals)."""
    import shutil  # noqa: PLC0415

    return max(20, min(90, shutil.get_terminal_size((91, 24)).columns - 1))
