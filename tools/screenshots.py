"""Save screenshots of the real window before and after Explain (docs/screenshot-*.png).

    python tools/screenshots.py [OUT_DIR] [--dark] [--size WxH]      (offscreen by default)
    xvfb-run -a -s "-screen 0 1920x1200x24" python tools/screenshots.py docs --size 1024x700   (a real X server)

Without --size the window is 1360×860 and the files are docs/screenshot-{before,after,compare,load-model}.png
(and screenshot-compare-rise.png: the Compare panel with its RISE box ticked, and screenshot-key-region-alone.png, light only);
with --size WxH they are screenshot-{before,after,compare}-WxH-{light|dark}.png. The window uses the
default explanation settings (the core's), so the screenshots show what a new user sees.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def wait_for(signal, timeout_ms: int = 120_000) -> list:
    loop = QEventLoop()
    got: list = []
    signal.connect(lambda *a: (got.extend(a), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return got


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def dark_palette() -> QPalette:
    p = QPalette()
    for role, c in {
        QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#2f2f2f",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.Highlight: "#3d7bd9",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#353535",
        QPalette.ColorRole.ToolTipText: "#e6e6e6", QPalette.ColorRole.PlaceholderText: "#9a9a9a",
        QPalette.ColorRole.Link: "#7ab8ff", QPalette.ColorRole.LinkVisited: "#c39bff",
    }.items():
        p.setColor(role, QColor(c))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))  # as a real dark theme greys them
    return p


def main() -> int:
    argv = sys.argv[1:]
    size = None
    if "--size" in argv:
        i = argv.index("--size")
        size = tuple(int(v) for v in argv[i + 1].lower().split("x"))
        del argv[i:i + 2]
    unknown = [a for a in argv if a.startswith("-") and a != "--dark"]
    if unknown or len([a for a in argv if not a.startswith("-")]) > 1:
        print(__doc__.strip(), file=sys.stderr)
        return 0 if any(a in ("-h", "--help") for a in unknown) else 2
    args = [a for a in argv if not a.startswith("--")]
    dark = "--dark" in argv
    out = Path(args[0] if args else "docs")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    if dark:
        app.setPalette(dark_palette())
    from gradflip_desktop.ui.main_window import MainWindow

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    w.resize(*(size or (1360, 860)))
    w.show()
    QTimer.singleShot(0, w.start)
    wait_for(w.classified)
    settle()
    suffix = "-dark" if dark else ""
    if size is not None:
        suffix = f"-{size[0]}x{size[1]}-{'dark' if dark else 'light'}"
    w.grab().save(str(out / f"screenshot-before{suffix}.png"))
    w.explain()
    wait_for(w.run_finished)
    wait_for(w.difference_shown, 10_000)
    w.plot.show_readout(w.plot.point_count() - 1)
    settle()
    w.grab().save(str(out / f"screenshot-after{suffix}.png"))
    if size is None and not dark:  # Difference ▸ Key region alone: the image the key-region line is about
        from gradflip_desktop.core.viz.difference import KEY_PIXELS, MAGNITUDE

        w.views.mode_box.setCurrentIndex(w.views.mode_box.findData(KEY_PIXELS))
        wait_for(w.difference_shown, 10_000)
        settle()
        w.grab().save(str(out / "screenshot-key-region-alone.png"))
        w.views.mode_box.setCurrentIndex(w.views.mode_box.findData(MAGNITUDE))
        wait_for(w.difference_shown, 10_000)
        settle()
    # View ▸ Compare Methods: Grad-CAM and gradient saliency next to GradFlip's map
    w.compare_action.trigger()
    wait_for(w.faithfulness_shown, 60_000)  # the maps, then their deletion and insertion areas
    settle()
    w.grab().save(str(out / f"screenshot-compare{suffix}.png"))
    if size is None and not dark:  # with RISE too (1,000 model calls: half a minute)
        w.compare.rise_box.setChecked(True)
        wait_for(w.faithfulness_shown, 240_000)
        settle()
        w.grab().save(str(out / "screenshot-compare-rise.png"))
        w.compare.rise_box.setChecked(False)
    w.compare_action.trigger()
    if size is not None:
        w.close()
        print("saved", *(out / f"screenshot-{n}{suffix}.png" for n in ("before", "after", "compare")))
        return 0
    # File ▸ Load Model…: the settings dialog of a (tiny, scripted) model file
    import torch
    from torch import nn

    net = torch.jit.script(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10)))
    model = Path(tempfile.mkdtemp()) / "digits.pt"
    torch.jit.save(net, str(model))
    w.open_model_file(str(model))
    dialog = wait_for(w.model_dialog_shown)[0]
    dialog.height_box.setValue(28)
    dialog.width_box.setValue(28)
    dialog.channels_box.setCurrentIndex(dialog.channels_box.findData(1))
    dialog.mean_edit.setText("0.1307")
    dialog.std_edit.setText("0.3081")
    dialog.groups_edit.setText("odd: 1,3,5,7,9; small: 0-4")
    settle()
    dialog.grab().save(str(out / f"screenshot-load-model{suffix}.png"))
    dialog.reject()
    w.close()
    print("saved", *(out / f"screenshot-{n}{suffix}.png" for n in ("before", "after", "compare", "load-model")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
