"""Render the application icon (resources/icons/gradflip.svg) to the PNG sizes, a Windows .ico and a
macOS .icns. The outputs are committed; run this again only after editing the SVG:

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256, 512)


def render_png(svg: Path, size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"cannot write {out}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts/painting need it
    svg = ICONS / "gradflip.svg"
    for size in SIZES:
        render_png(svg, size, ICONS / f"gradflip-{size}.png")
        print(f"wrote {ICONS / f'gradflip-{size}.png'}")
    big = Image.open(ICONS / "gradflip-256.png").convert("RGBA")
    big.save(ICONS / "gradflip.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    Image.open(ICONS / "gradflip-512.png").convert("RGBA").save(ICONS / "gradflip.icns")
    print(f"wrote {ICONS / 'gradflip.ico'} and {ICONS / 'gradflip.icns'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
