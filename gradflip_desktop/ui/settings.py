"""Run settings chosen in the controls panel, and their persistence in QSettings.

:class:`RunSettings` is plain Python (no torch): the window builds it, the engine thread turns it into
:class:`gradflip_desktop.core.explain.ExplainOptions` with :meth:`RunSettings.to_options`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping

from PySide6.QtCore import QSettings

TARGET_TOP = "top"
TARGET_CLASS = "class"
TARGET_GROUP = "group"
TARGET_MODES = (TARGET_TOP, TARGET_CLASS, TARGET_GROUP)

ORGANIZATION = "GradFlip"
APPLICATION = "GradFlip"
MAX_RECENT = 10


# RunSettings fields whose defaults belong to the core's ExplainOptions (None = "the core's default")
CORE_FIELDS = ("style", "mode", "epsilon", "max_steps", "smoothing", "coarse")
# the type of every RunSettings field (QSettings may hand values back as strings)
_KINDS = {"target_mode": str, "target_class": str, "group": str, "style": str, "mode": str, "epsilon": float,
          "max_steps": int, "smoothing": float, "coarse": int, "device": str}


@dataclass
class RunSettings:
    """What the user chose for the next run.

    target_mode: ``"top"`` (push the top class down until another wins), ``"class"`` (push
    ``target_class`` up until it wins) or ``"group"`` (push the group ``group`` down, e.g. "any cat").
    mode: ``"adaptive"`` or ``"fixed"``; epsilon: step length in RMS pixel units; max_steps:
    gradient-evaluation budget; smoothing: Gaussian σ (px) applied to the gradient; coarse:
    coarse-to-fine factor (1 = off); style: ``"free"`` or ``"blur"`` (ExplainOptions.style); device: ``"cpu"``, ``"cuda"``, ...

    The explanation settings (:data:`CORE_FIELDS`) default to ``None``, which means the core's default
    (``ExplainOptions()``): their values live in one place, the core. The panel shows them once the
    engine thread has reported them (:meth:`with_defaults`).
    """

    target_mode: str = TARGET_TOP
    target_class: str = ""
    group: str = "cat"
    style: str | None = None
    mode: str | None = None
    epsilon: float | None = None
    max_steps: int | None = None
    smoothing: float | None = None
    coarse: int | None = None
    device: str = "cpu"

    def with_defaults(self, defaults: Mapping[str, Any]) -> "RunSettings":
        """A copy with every unset explanation setting taken from ``defaults`` (``asdict(ExplainOptions())``)."""
        return replace(self, **{k: defaults[k] for k in CORE_FIELDS if getattr(self, k) is None and k in defaults})

    def to_options(self):
        """The core's ExplainOptions (imports torch: call it in the engine thread)."""
        from gradflip_desktop.core.explain import ExplainOptions

        target = group = None
        if self.target_mode == TARGET_CLASS:
            if not self.target_class.strip():
                raise ValueError("choose the class to reach (Target: a chosen class)")
            target = self.target_class.strip()
        elif self.target_mode == TARGET_GROUP:
            if not self.group.strip():
                raise ValueError("choose a class group (Target: a class group)")
            group = self.group.strip()
        chosen = {k: _KINDS[k](getattr(self, k)) for k in CORE_FIELDS if getattr(self, k) is not None}
        return ExplainOptions(target=target, group=group, **chosen)

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, settings: QSettings) -> None:
        for key, value in asdict(self).items():
            if value is None:
                settings.remove(f"run/{key}")
            else:
                settings.setValue(f"run/{key}", value)

    @classmethod
    def load(cls, settings: QSettings) -> "RunSettings":
        """The saved settings; missing or invalid explanation settings are None (the core's default)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = settings.value(f"run/{f.name}", None)
            if raw is None:
                continue
            try:
                values[f.name] = _KINDS[f.name](raw)
            except (TypeError, ValueError):
                pass
        out = cls(**values)
        if out.target_mode not in TARGET_MODES:
            out.target_mode = TARGET_TOP
        checks = {
            "style": lambda v: v in ("free", "blur"),
            "mode": lambda v: v in ("adaptive", "fixed"),
            "epsilon": lambda v: 0 < v <= 0.25,
            "max_steps": lambda v: 1 <= v <= 100_000,
            "smoothing": lambda v: 0 <= v <= 100,
            "coarse": lambda v: 1 <= v <= 64,
        }
        for key, ok in checks.items():
            v = getattr(out, key)
            if v is not None and not (ok(v) and (not isinstance(v, float) or math.isfinite(v))):
                setattr(out, key, None)
        return out


def app_settings() -> QSettings:
    """The application's settings store (per user)."""
    return QSettings(ORGANIZATION, APPLICATION)


def recent_files(settings: QSettings) -> list[str]:
    value = settings.value("recent/files", [])
    if isinstance(value, str):
        value = [value] if value else []
    return [str(v) for v in (value or [])][:MAX_RECENT]


def add_recent_file(settings: QSettings, path: str) -> list[str]:
    files = [p for p in recent_files(settings) if p != path]
    files.insert(0, path)
    files = files[:MAX_RECENT]
    settings.setValue("recent/files", files)
    return files
