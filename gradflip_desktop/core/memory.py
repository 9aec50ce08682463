"""Give freed heap memory back to the operating system between the images of a long run (glibc ``malloc_trim``).

PyTorch on the CPU allocates its tensors with the C library's ``malloc``. glibc keeps freed memory in its
heaps (one per thread that allocated) and raises its mmap threshold after large frees, so a long run over
thousands of photos can keep hundreds of MiB resident that no tensor uses any more: RSS grows in steps
although nothing is leaked. :func:`release_free_memory` asks glibc to return every free page of every
heap (``malloc_trim(0)``); a folder run calls it after each finished image. Elsewhere (macOS, Windows,
musl) it does nothing and returns ``False``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

_lock = threading.Lock()
_trim = None  # the C function, False where there is none, None before the first look


def _malloc_trim():
    global _trim
    if _trim is None:
        fn = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                fn = libc.malloc_trim
                fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                fn = False
        _trim = fn
    return _trim


def release_free_memory() -> bool:
    """Return the C heap's free pages to the OS; ``True`` where the platform can (glibc), else ``False``."""
    fn = _malloc_trim()
    if not fn:
        return False
    with _lock:
        fn(0)
    return True
