"""The app's scratch folders for a folder run (its result sets and its views' copies), in the system's temporary
folder: named after the app's process, and those of an app that was killed swept when the next one opens a folder.

A window closes its own (closing asks about results never exported); ``kill -9``, a crash or a power cut left
them for good (11-37 MB each, a new pair with every restart).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time

from ..images.writing import left_behind

PREFIX = "gradflip-folder-"
_NAMED = re.compile(r"gradflip-folder-(?:views-)?(?:(\d+)-)?\w+")


def scratch_folder(kind: str = "") -> str:
    """A new scratch folder, ``gradflip-folder-[KIND-]<pid>-<random>`` in the temporary folder."""
    return tempfile.mkdtemp(prefix=f"{PREFIX}{kind + '-' if kind else ''}{os.getpid()}-")


def sweep_dead(folder: str | None = None) -> int:
    """Remove the scratch folders of app processes that are gone (:func:`~..images.writing.left_behind`); returns how
    many went. A live process's folders, another user's and anything else are never touched; errors leave a folder be."""
    folder, removed, now = folder or tempfile.gettempdir(), 0, time.time()
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(PREFIX)]
    except OSError:
        return 0
    for e in entries:
        m = _NAMED.fullmatch(e.name)
        if m is None:
            continue
        try:
            if not e.is_dir(follow_symlinks=False) or e.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            if left_behind(None if m.group(1) is None else int(m.group(1)), now - e.stat(follow_symlinks=False).st_mtime):
                shutil.rmtree(e.path)
                removed += 1
        except (OSError, ValueError, AttributeError):  # AttributeError: no getuid off POSIX
            continue
    return removed
