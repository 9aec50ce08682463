"""Spin boxes that say when they refuse a typed value (instead of silently keeping the old one)."""

from __future__ import annotations

from PySide6.QtCore import QLocale, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QWidget


class _SaysWhenRefused:
    """Mixin for spin boxes: a typed value outside the range is not dropped silently; ``refused`` says
    what was typed, the range, and the value kept (the box keeps its previous value, as Qt does)."""

    refused = Signal(str)

    def _watch(self) -> None:
        # the digits and "." decimal of every other number in the window, the command line and the exported files,
        # whatever the locale (LANG=ar_EG.UTF-8 showed the step budget as "٢٠٠" next to ε "0.0002")
        self.setLocale(QLocale.c())
        self._typed: str | None = None
        self.lineEdit().textEdited.connect(self._edited)
        self.editingFinished.connect(self._finished)

    def _edited(self, text: str) -> None:
        self._typed = text

    def _finished(self) -> None:
        typed, self._typed = self._typed, None
        if typed is None:
            return
        raw = typed.strip()
        for fix in (self.prefix(), self.suffix()):
            raw = raw.replace(fix.strip(), "") if fix.strip() else raw
        # a whole-number box reads "1,024" as 1024 (a group separator; it said "'1,024 px' is outside 64–4096" after
        # taking it), the decimal box's "," is its "." (validate)
        raw = raw.replace(",", "") if isinstance(self, QSpinBox) else raw.replace(",", ".")
        try:
            value = float(raw.strip())
        except ValueError:
            value = None
        if value is not None and self.minimum() <= value <= self.maximum():
            return
        lo, hi = self.textFromValue(self.minimum()), self.textFromValue(self.maximum())
        self.refused.emit(f"{typed.strip()!r} is outside {lo}–{hi}; kept {self.textFromValue(self.value())}")


class CheckedSpinBox(_SaysWhenRefused, QSpinBox):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._watch()


class CheckedDoubleSpinBox(_SaysWhenRefused, QDoubleSpinBox):
    """Shows its value without trailing zeros (``0.0002``, not ``0.0002000``) and says when it refuses one.

    It reads what it shows, a "." decimal, in every locale, and takes a typed "," for one: under LANG=de_DE.UTF-8
    Qt's own reading (the locale's "," decimal, "." a group separator) dropped the "." of "0.0003" and refused
    the "7" of "0.0007" typed after the box's own "0.000", then said "'0000' is outside 0.0000001–0.25"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._watch()

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt API: the text as checked is the one the box keeps
        return super().validate(text.replace(",", "."), pos)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt API
        return f"{value:.{self.decimals()}f}".rstrip("0").rstrip(".") if value else "0"
