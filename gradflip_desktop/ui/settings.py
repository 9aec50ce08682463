"""Run settings chosen in the controls panel, and their persistence in QSettings.

:class:`RunSettings` is plain Python: its explanation settings default to the core's
:class:`~gradflip_desktop.core.options.ExplainOptions` (torch-free, so the panel shows them at once), and
:meth:`RunSettings.to_options` turns the choice into ExplainOptions. Saved values are checked with the
core's own validation (one place for every range).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from PySide6.QtCore import QSettings

from gradflip_desktop.core import options as core_options
from gradflip_desktop.core.options import ExplainOptions

TARGET_TOP = "top"
TARGET_CLASS = "class"
TARGET_GROUP = "group"
TARGET_MODES = (TARGET_TOP, TARGET_CLASS, TARGET_GROUP)

ORGANIZATION = "GradFlip"
APPLICATION = "GradFlip"
MAX_RECENT = 10


# RunSettings fields that are ExplainOptions fields (their defaults and ranges are the core's)
_CORE = ExplainOptions()
SETTINGS_FORMAT = 2  # 2: the default style became the key region
CORE_FIELDS = ("style", "mode", "epsilon", "max_steps", "smoothing", "coarse")
# the type of every RunSettings field (QSettings may hand values back as strings)
_KINDS = {"target_mode": str, "target_class": str, "group": str, "style": str, "mode": str, "epsilon": float,
          "max_steps": int, "smoothing": float, "coarse": int, "device": str, "working_size": int}


@dataclass
class RunSettings:
    """What the user chose for the next run.

    target_mode: ``"top"`` (push the top class down until another wins), ``"class"`` (push
    ``target_class`` up until it wins) or ``"group"`` (push the group ``group`` down, e.g. "any cat").
    mode: ``"adaptive"`` or ``"fixed"``; epsilon: step length in RMS pixel units; max_steps:
    gradient-evaluation budget; smoothing: Gaussian σ (px) applied to the gradient; coarse:
    coarse-to-fine factor (1 = off); style: one of ``core.options.STYLES``; device: ``"cpu"``, ``"cuda"``, ...;
    working_size: the long side (px) photos are loaded at (not an ExplainOptions field: it is the image's).

    The explanation settings (:data:`CORE_FIELDS`) default to the core's ``ExplainOptions()`` values.
    """

    target_mode: str = TARGET_TOP
    target_class: str = ""
    group: str = "cat"
    style: str = _CORE.style
    mode: str = _CORE.mode
    epsilon: float = _CORE.epsilon
    max_steps: int = _CORE.max_steps
    smoothing: float = _CORE.smoothing
    coarse: int = _CORE.coarse
    device: str = "cpu"
    # long side of the working image (px): photos are loaded at this size (core.options.WORKING_SIZE_*)
    working_size: int = core_options.WORKING_SIZE_DEFAULT

    def to_options(self) -> ExplainOptions:
        """The core's ExplainOptions (validated as it is made: a ValueError names the setting)."""
        target = group = None
        if self.target_mode == TARGET_CLASS:
            if not self.target_class.strip():
                raise ValueError("choose the class to reach (Target: a chosen class)")
            target = self.target_class.strip()
        elif self.target_mode == TARGET_GROUP:
            if not self.group.strip():
                raise ValueError("choose a class group (Target: a class group)")
            group = self.group.strip()
        chosen = {k: _KINDS[k](getattr(self, k)) for k in CORE_FIELDS}
        return ExplainOptions(target=target, group=group, **chosen)

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, settings: QSettings) -> None:
        for key, value in asdict(self).items():
            settings.setValue(f"run/{key}", value)
        settings.setValue("run/format", SETTINGS_FORMAT)

    @classmethod
    def load(cls, settings: QSettings) -> "RunSettings":
        """The saved settings; missing or invalid explanation settings are the core's defaults
        (checked with :meth:`ExplainOptions.validate`, the one place the ranges live)."""
        values: dict[str, Any] = {}
        # settings saved before the key-region default (no format mark) hold the old default style "free",
        # which the user never chose: they start from the new default instead
        old_format = settings.value("run/format", None) is None
        for f in fields(cls):
            raw = settings.value(f"run/{f.name}", None)
            if raw is None or (old_format and f.name == "style"):
                continue
            try:
                value = _KINDS[f.name](raw)
                if f.name in CORE_FIELDS:
                    replace(_CORE, **{f.name: value})  # validated as it is made
                elif f.name == "working_size" and not (
                    core_options.WORKING_SIZE_MIN <= value <= core_options.WORKING_SIZE_MAX
                ):
                    continue
            except (TypeError, ValueError, OverflowError):
                continue
            values[f.name] = value
        out = cls(**values)
        # a new session explains the top class: a group or class chosen for one photo (often by the "Explain any
        # vehicle" link) started the next session on another photo with "nothing to flip"; the names stay in their boxes
        out.target_mode = TARGET_TOP
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


def unwritable(settings: QSettings) -> str:
    """Why ``settings`` cannot be saved ("" when they can): its folder cannot be made or written to (a read-only
    home, a file where the folder should be, a full disk). Checked by writing a scratch file there, as saving
    would; QSettings itself fails silently, so a user's choices were lost at every close without a word."""
    import os
    import sys
    import tempfile
    from pathlib import Path

    if sys.platform == "win32" and settings.format() != QSettings.Format.IniFormat:
        return ""  # the registry (fileName() is "\\HKEY_CURRENT_USER\\Software\\…"): no folder to make or probe
    folder = Path(settings.fileName()).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".gradflip-write-test-"):
            pass
    except OSError as exc:
        return f"{folder}: {exc.strerror or exc}"
    if Path(settings.fileName()).exists() and not os.access(settings.fileName(), os.W_OK):
        return f"{settings.fileName()}: read-only"
    return ""


def settings_warning(settings: QSettings):
    """A status-bar label saying that the settings will not be saved, with the reason in its tooltip; None when
    they can be saved."""
    from PySide6.QtWidgets import QLabel

    why = unwritable(settings)
    if not why:
        return None
    label = QLabel("⚠ Settings are not saved")
    label.setObjectName("settings-warning")
    label.setToolTip(f"GradFlip cannot write its settings ({why}). The window works, but the choices made here "
                     "(style, model, recent files, window size) are lost when it closes.")
    return label
