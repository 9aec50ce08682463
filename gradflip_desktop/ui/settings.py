"""Run settings chosen in the controls panel, and their persistence in QSettings.

:class:`RunSettings` is plain Python (no torch): the window builds it, the engine thread turns it into
:class:`gradflip_desktop.core.explain.ExplainOptions` with :meth:`RunSettings.to_options`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from PySide6.QtCore import QSettings

TARGET_TOP = "top"
TARGET_CLASS = "class"
TARGET_GROUP = "group"
TARGET_MODES = (TARGET_TOP, TARGET_CLASS, TARGET_GROUP)

ORGANIZATION = "GradFlip"
APPLICATION = "GradFlip"
MAX_RECENT = 10


@dataclass
class RunSettings:
    """What the user chose for the next run.

    target_mode: ``"top"`` (push the top class down until another wins), ``"class"`` (push
    ``target_class`` up until it wins) or ``"group"`` (push the group ``group`` down, e.g. "any cat").
    epsilon: step length in RMS pixel units; max_steps: gradient-evaluation budget;
    smoothing: Gaussian σ (px) applied to the gradient; device: ``"cpu"``, ``"cuda"``, ...
    """

    target_mode: str = TARGET_TOP
    target_class: str = ""
    group: str = "cat"
    mode: str = "adaptive"
    epsilon: float = 0.001
    max_steps: int = 200
    smoothing: float = 0.0
    device: str = "cpu"

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
        return ExplainOptions(
            target=target,
            group=group,
            mode=self.mode,
            epsilon=float(self.epsilon),
            max_steps=int(self.max_steps),
            smoothing=float(self.smoothing),
        )

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, settings: QSettings) -> None:
        for key, value in asdict(self).items():
            settings.setValue(f"run/{key}", value)

    @classmethod
    def load(cls, settings: QSettings) -> "RunSettings":
        default = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = settings.value(f"run/{f.name}", getattr(default, f.name))
            try:
                kind = type(getattr(default, f.name))
                values[f.name] = kind(raw) if kind is not bool else str(raw).lower() in ("1", "true")
            except (TypeError, ValueError):
                values[f.name] = getattr(default, f.name)
        out = cls(**values)
        if out.target_mode not in TARGET_MODES:
            out.target_mode = TARGET_TOP
        if out.mode not in ("adaptive", "fixed"):
            out.mode = "adaptive"
        if not 0 < out.epsilon <= 0.25:
            out.epsilon = default.epsilon
        if not 1 <= out.max_steps <= 100_000:
            out.max_steps = default.max_steps
        if not 0 <= out.smoothing <= 100:
            out.smoothing = default.smoothing
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
