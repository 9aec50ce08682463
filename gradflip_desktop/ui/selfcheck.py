"""The GUI stage of ``gradflip --self-test``: the Qt stack works offscreen.

QApplication on the ``offscreen`` platform, the application icon (SVG and PNG sizes), pyqtgraph
drawing a plot and an image into a pixmap. This is what usually breaks in a frozen bundle (platform
plugins, image format plugins, pyqtgraph's dynamically imported modules).

``gradflip --self-test`` (:mod:`gradflip_desktop.app`) runs :func:`check_gui` in its own process. The
command-line tool never imports this package: it runs ``python -m gradflip_desktop.ui.selfcheck``,
which prints one line (``Qt 6.11.3 offscreen``, or ``FAILED: reason``) and exits 0 or 1.
"""

from __future__ import annotations

import os
import sys


class GuiCheckFailure(Exception):
    """A GUI check did not hold; the message is the user-facing reason."""


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise GuiCheckFailure(reason)


def check_gui() -> str:
    """Qt offscreen: application, icon, pyqtgraph rendering. Returns e.g. ``"Qt 6.12.0 offscreen"``."""
    saved_env = {"QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM")}
    try:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import QSize
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is None:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            lc_var = "LC_ALL" if os.environ.get("LC_ALL") else "LC_CTYPE"
            current = os.environ.get("LC_ALL") or os.environ.get("LC_CTYPE") or os.environ.get("LANG") or "C"
            if "utf8" not in current.lower().replace("-", ""):
                # e.g. under `env -i`: spare the user Qt's warning about the C locale (Qt switches anyway)
                saved_env.setdefault(lc_var, os.environ.get(lc_var))
                os.environ[lc_var] = "C.UTF-8"
            app = QApplication(["gradflip-self-test"])
        platform = app.platformName()

        from .branding import APP_ID, app_icon, apply_branding

        apply_branding(app)
        _check(app.desktopFileName() == APP_ID, f"desktop file name is {app.desktopFileName()!r}, not {APP_ID!r}")
        icon = app_icon()
        _check(not icon.isNull(), "the application icon did not load")
        for size in (16, 48, 256):
            pm = icon.pixmap(QSize(size, size))
            _check(not pm.isNull() and pm.width() == size, f"the application icon has no {size} px image")
        _check(_render_svg_icon(64), "the SVG icon did not render (QtSvg missing?)")

        import numpy as np
        import pyqtgraph as pg

        widget = pg.GraphicsLayoutWidget()
        try:
            widget.resize(320, 200)
            plot = widget.addPlot()
            plot.plot(np.linspace(0, 1, 20), np.sin(np.linspace(0, 6, 20)), pen="r")
            view = widget.addViewBox()
            view.addItem(pg.ImageItem(np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)))
            widget.show()
            app.processEvents()
            image = widget.grab().toImage()
            _check(not image.isNull() and image.width() > 0, "pyqtgraph could not draw into a pixmap")
        finally:
            widget.close()
            widget.deleteLater()
            app.processEvents()
        return f"Qt {pyside_version} {platform}"
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _render_svg_icon(size: int) -> bool:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from .branding import icon_path

    renderer = QSvgRenderer(str(icon_path("svg")))
    if not renderer.isValid():
        return False
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image.pixelColor(size // 2, size // 2).alpha() > 0


def main() -> int:
    """``python -m gradflip_desktop.ui.selfcheck``: one line on stdout, exit 0 (works) or 1."""
    try:
        print(check_gui(), flush=True)
    except Exception as exc:  # noqa: BLE001 - the verdict must name any failure in one line
        own = isinstance(exc, GuiCheckFailure)
        reason = str(exc) if own else f"{type(exc).__name__}: {exc}"
        print("FAILED: " + (" ".join(reason.split()) or type(exc).__name__), flush=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
