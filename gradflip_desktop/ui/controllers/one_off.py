"""A choice made by a link of the answer ("Explain “any cat”", "Textbook change", "Key region", "Explain the top
class"): for this photo only.

The link sets its one setting in the panel, which then shows what ran, and explains again. The user's own choice
is what is saved (at every run and at close), and the next photo starts from it again, unless the user has since
set that field to something else in the panel. A link that changed a setting for good surprised twice: the next photo,
an espresso, was explained as "any cat" ("nothing to flip"), and the next session started in the textbook style.
Qt-free (plain ``RunSettings``), so it is tested without a window.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..settings import RunSettings


class OneOffChoice:
    def __init__(self) -> None:
        self._before: dict[str, Any] = {}  # field -> the user's value before the first link changed it
        self._chosen: dict[str, Any] = {}  # field -> the value the last link set

    def apply(self, current: RunSettings, **changes: Any) -> RunSettings:
        """``current`` with a link's ``changes``; the values they replace are remembered (the first link's)."""
        for name, value in changes.items():
            self._before.setdefault(name, getattr(current, name))
            self._chosen[name] = value
        return replace(current, **changes)

    def _held(self, settings: RunSettings) -> dict[str, Any]:
        """The user's values of the fields that still hold a link's choice (a field changed since is the user's)."""
        return {k: self._before[k] for k, v in self._chosen.items() if getattr(settings, k) == v}

    def to_save(self, settings: RunSettings) -> RunSettings:
        """What is saved for the next session: ``settings`` without the links' choices."""
        return replace(settings, **self._held(settings))

    def next_photo(self, settings: RunSettings) -> RunSettings | None:
        """Another photo opened: the settings it starts from (``None``: unchanged); the choices are forgotten."""
        held = self._held(settings)
        self._before.clear()
        self._chosen.clear()
        restored = replace(settings, **held)
        return None if restored == settings else restored
