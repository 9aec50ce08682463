"""The desktop bundle (PyInstaller) and the programs it starts: the environment as it was before the bundle's launch.

PyInstaller's start-up puts the bundle's library folder first in ``LD_LIBRARY_PATH`` (the user's own value kept in
``LD_LIBRARY_PATH_ORIG``) and its Qt hook points ``QT_PLUGIN_PATH`` and ``QML2_IMPORT_PATH`` into the bundle. A
program the app starts (the file manager that the export folder's link opens) inherited them and so loaded the
bundle's Qt libraries and plugins instead of its own: a file manager built on another Qt then fails to start, or
starts without its plugins. Changing the app's own environment is no cure: Qt reads its plugin path when it needs a
plugin, so only the started program gets the user's environment back.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

LIBRARY_PATHS = ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "LIBPATH")  # the bootloader's, with an ``_ORIG`` copy
BUNDLE_PATHS = ("QT_PLUGIN_PATH", "QML2_IMPORT_PATH")  # set by PyInstaller's Qt hook, no copy kept


def bundle_folder() -> str | None:
    """The folder of the desktop bundle this process runs from, ``None`` when it is not one."""
    return getattr(sys, "_MEIPASS", None) if getattr(sys, "frozen", False) else None


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(path), os.path.abspath(folder)]) == os.path.abspath(folder)
    except ValueError:  # another drive (Windows), or a relative and an absolute path mixed
        return False


def child_environment(environ: Mapping[str, str] | None = None, folder: str | None = None) -> dict[str, str] | None:
    """The environment for a program the app starts, ``None`` outside a bundle (the app's own is the user's).

    Each library path gets its value from before the launch back (or goes, when it had none); each of the Qt
    hook's paths loses the entries inside the bundle (and goes when none is left); the ``_ORIG`` copies go."""
    folder = bundle_folder() if folder is None else folder
    if not folder:
        return None
    env = dict(os.environ if environ is None else environ)
    for name in (*LIBRARY_PATHS, *BUNDLE_PATHS):
        original = env.pop(name + "_ORIG", None) if name in LIBRARY_PATHS else None
        if original is not None:
            env[name] = original
        elif name in env:  # no copy: the bundle's entries go (all of them: the variable goes)
            kept = [p for p in env[name].split(os.pathsep) if p and not _inside(p, folder)]
            if kept:
                env[name] = os.pathsep.join(kept)
            else:
                del env[name]
    return env
