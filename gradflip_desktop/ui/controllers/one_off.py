"""A choice made by a link of the answer ("Explain “any cat”", "Textbook change", "Key region", "Explain the top
class"): for this photo only.

The link sets its setting in the panel, which then shows what ran, and explains again. The user's own choice is what
is saved (at every run and at close), and the next photo starts from it again. Once the user changes any field a
link chose (a style picked in the panel, "any bird" in the group box), the panel is theirs again: nothing is given
back. Reset forgets the links too. A link that changed a setting for good surprised twice: the next photo, an
espresso, was explained as "any cat" ("nothing to flip"), and the next session started in the textbook style.
Qt-free (plain ``RunSettings``), so it is tested without a window.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..settings import RunSettings


class OneOffChoice:
    def __init__(self) -> None:
        self._before: dict[str, Any] = {}  # field -> the user's value before a link changed it
        self._chosen: dict[str, Any] = {}  # field -> the value the last link set

    def _holds(self, settings: RunSettings) -> bool:
        """Every field a link chose still holds the link's value (else the user has taken the panel over)."""
        return bool(self._chosen) and all(getattr(settings, k) == v for k, v in self._chosen.items())

    def apply(self, current: RunSettings, **changes: Any) -> RunSettings:
        """``current`` with a link's ``changes``; the user's values they replace are remembered."""
        if not self._holds(current):  # the user's panel (or none chosen yet): its values are the ones to give back
            self.forget()
        for name, value in changes.items():
            self._before.setdefault(name, getattr(current, name))
            self._chosen[name] = value
        return replace(current, **changes)

    def forget(self) -> None:
        """No link's choice is pending (a new photo, Reset)."""
        self._before.clear()
        self._chosen.clear()

    def to_save(self, settings: RunSettings) -> RunSettings:
        """What is saved for the next session: ``settings`` without the links' choices."""
        return replace(settings, **self._before) if self._holds(settings) else settings

    def next_photo(self, settings: RunSettings) -> RunSettings | None:
        """Another photo opened: the settings it starts from (``None``: unchanged); the choices are forgotten."""
        restored = self.to_save(settings)
        self.forget()
        return None if restored == settings else restored
