"""Application identity for the desktop: name, version, desktop-file id and window icon.

Call :func:`apply_branding` once, right after creating the ``QApplication`` and before the first
window is shown. It sets the desktop file name (Wayland app id / X11 ``WM_CLASS`` hint that lets the
taskbar match windows to ``io.github.gradflip.GradFlip.desktop`` and its icon) and the default window
icon (all PNG sizes plus the SVG), so every window shows the GradFlip icon.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication, QIcon

from .. import __version__
from ..core.resources import resource_path
from .settings import APPLICATION as APP_NAME
from .settings import ORGANIZATION  # the QSettings location

#: Reverse-DNS application id: the name of the .desktop and .metainfo.xml files and the icon name.
APP_ID = "io.github.gradflip.GradFlip"
ORGANIZATION_DOMAIN = "gradflip.github.io"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def icon_path(kind: str | int = "svg") -> Path:
    """Path of a packaged icon file: ``"svg"``, ``"ico"``, ``"icns"`` or a PNG size (``256``)."""
    if isinstance(kind, int):
        return resource_path("icons", f"gradflip-{kind}.png")
    return resource_path("icons", f"gradflip.{kind}")


def app_icon() -> QIcon:
    """The application icon with every PNG size (crisp at 16–512 px) and the SVG for other sizes."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = icon_path(size)
        if path.is_file():
            icon.addFile(str(path), QSize(size, size))
    svg = icon_path("svg")
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


def apply_branding(app: QGuiApplication) -> QIcon:
    """Set application name, version, organisation, desktop file name and window icon; return the icon."""
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(ORGANIZATION)
    app.setOrganizationDomain(ORGANIZATION_DOMAIN)
    QGuiApplication.setDesktopFileName(APP_ID)
    icon = app_icon()
    if not icon.isNull():
        app.setWindowIcon(icon)
    return icon
