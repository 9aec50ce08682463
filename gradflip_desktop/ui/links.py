"""Links that leave the app (the status bar's "Exported … to FOLDER"): opened by the desktop's own program.

In the desktop bundle that program is started with the user's environment (:func:`core.bundle.child_environment`):
through ``QDesktopServices`` it inherited the bundle's library and Qt plugin paths."""

from __future__ import annotations

import sys

from PySide6.QtCore import QProcess, QProcessEnvironment, QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices

from gradflip_desktop.core.bundle import child_environment

OPENER = "xdg-open"  # Linux; macOS's `open` goes through LaunchServices and Windows' shell: neither inherits


def open_link(href: str) -> bool:
    """Open ``href`` (a URL, e.g. a folder's ``file://`` one) with the desktop's program; whether it was started."""
    url = QUrl(href)
    env = child_environment()
    linux = sys.platform.startswith("linux")
    program = QStandardPaths.findExecutable(OPENER) if env is not None and linux else ""
    if not program:
        return QDesktopServices.openUrl(url)
    process = QProcess()
    process.setProgram(program)
    # a folder as its path ("my results/é"), any other link encoded, as Qt's own opening hands them over
    process.setArguments([url.toLocalFile() if url.isLocalFile() else url.toString(QUrl.ComponentFormattingOption.FullyEncoded)])
    environment = QProcessEnvironment()
    for key, value in env.items():
        environment.insert(key, value)
    process.setProcessEnvironment(environment)
    started = process.startDetached()
    return bool(started[0] if isinstance(started, tuple) else started)
