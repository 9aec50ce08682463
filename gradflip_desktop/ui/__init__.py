"""The GradFlip desktop app (PySide6 + pyqtgraph). Everything that imports Qt lives in this package."""

from __future__ import annotations

import sys


def _guard_bool_refcount() -> bool:
    """Work around a PySide6 reference-count bug that crashes Python 3.11 after enough signals.

    In PySide6 6.12.0 ``SignalInstance.emit()`` returns ``True`` without taking a reference, so every
    emit (pyqtgraph emits on every paint and resize) lowers ``True``'s reference count by one. On
    Python < 3.12 (where ``True`` is not immortal) the app aborts with "Fatal Python error:
    bool_dealloc: deallocating True or False" once the count reaches zero, after some thousands of
    repaints. When the bug is detected, ``True`` and ``False`` get a very large reference count, which
    makes them effectively immortal as they are on Python 3.12+. Returns True when it was applied.
    """
    if sys.version_info >= (3, 12):
        return False
    try:
        from PySide6.QtCore import QObject, Signal

        class _Probe(QObject):
            ping = Signal()

        probe = _Probe()
        before = sys.getrefcount(True)
        for _ in range(16):
            probe.ping.emit()
        leaked = before - sys.getrefcount(True)
        if leaked < 16:
            return False
        import ctypes

        for obj in (True, False):  # ob_refcnt is the first field of every CPython object
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
        return True
    except Exception:  # noqa: BLE001 - never stop the app from starting over a work-around
        return False


BOOL_REFCOUNT_GUARD = _guard_bool_refcount()
