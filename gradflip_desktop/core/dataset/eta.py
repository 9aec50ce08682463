"""How long a folder run has left, in words: "about 6 min left" (the app's Folder panel; Qt-free).

The rate counts only the images explained since the run (or its Continue) started: an unreadable file takes no
time and a kept result set none, so neither makes the rest look faster. No estimate before the first image."""

from __future__ import annotations

import time
from typing import Callable


class RunClock:
    """``start()`` when a run (or its continuation) starts, ``tick(explained)`` when an image ends, then
    ``left_text(remaining)`` for the images not yet finished."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._explained = 0

    def start(self) -> None:
        self._started, self._explained = self._clock(), 0

    def tick(self, explained: bool = True) -> None:
        self._explained += bool(explained)

    def left_seconds(self, remaining: int) -> float | None:
        """Seconds for ``remaining`` more images at this run's rate; None before an image was explained."""
        if remaining <= 0:
            return 0.0
        if self._explained == 0:
            return None
        return remaining * max(self._clock() - self._started, 0.0) / self._explained

    def left_text(self, remaining: int) -> str:
        """"about 6 min left", "under a minute left", "about 1 h 40 min left"; "" when done or not known yet."""
        left = self.left_seconds(remaining)
        if not left:
            return ""
        if left < 60:
            return "under a minute left"
        minutes = round(left / 60)
        if minutes < 90:
            return f"about {minutes} min left"
        return f"about {minutes // 60} h {minutes % 60} min left"


__all__ = ["RunClock"]
