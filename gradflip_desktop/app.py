"""``gradflip``: the desktop app (and the door to the CLI).

``gradflip``                      opens the window on the bundled sample photo
``gradflip photo.jpg``            opens the window on that photo
``gradflip classify|explain ...`` and ``--version`` / ``--self-test`` run the command-line tool

Start-up stays fast: torch is imported in the engine thread after the window is shown. On X11, the
libraries Qt's platform plugin needs are checked first (:data:`XCB_LIBRARIES`): a missing one is named
with the install line for Debian/Ubuntu, Fedora and Arch (exit status 2), never Qt's abort.
Set ``GRADFLIP_TIMING=1`` to print start-up timestamps (seconds since the epoch) on stderr.
"""

from __future__ import annotations

import os
import sys
import time

from .cli_process import cwd_gone, quiet_broken_pipe

CLI_COMMANDS = ("classify", "explain", "models", "check")
CLI_FLAGS = ("--version", "--self-test")

GUI_HELP = """usage: gradflip [IMAGE]
       gradflip {classify,explain,models,check} ... (the command-line tool; see gradflip classify --help)

Open the GradFlip window on IMAGE (default: the bundled sample photo). IMAGE may be a folder:
every image in it is explained, one after another, in the gallery (as File > Open Folder). A model
file or a Hugging Face model folder opens in File > Load Model instead, on the sample photo.

options:
  -h, --help   show this help and exit
  --version    print the version and exit
  --self-test  check the install (model, sample photo, an explanation, the window) and exit
"""


def _timing(event: str) -> None:
    if os.environ.get("GRADFLIP_TIMING"):
        print(f"gradflip-timing {event} {time.time():.4f}", file=sys.stderr, flush=True)


def _run_cli(argv: list[str]) -> int:
    try:
        from gradflip_desktop import cli
    except ImportError:
        if argv and argv[0] == "--version":
            from gradflip_desktop import __version__

            print(f"gradflip {__version__}")
            return 0
        print("gradflip: the command-line tool is not available in this installation", file=sys.stderr)
        return 2
    return int(cli.main(argv) or 0)


def self_test() -> int:
    """``gradflip --self-test``: the core stages and, in this process, the GUI stage."""
    from .selftest import gui_available, run_self_test

    if not gui_available():  # no PySide6: the core stages, and the verdict says the GUI stage was skipped
        return run_self_test()
    from .ui.selfcheck import check_gui

    return run_self_test(gui_stage=check_gui)


@quiet_broken_pipe
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``gradflip``. Returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--self-test"]:
        return self_test()
    if args and (args[0] in CLI_COMMANDS or args[0] in CLI_FLAGS):
        return _run_cli(args)
    if args and args[0] in ("-h", "--help"):
        print(GUI_HELP)
        return 0
    paths = [a for a in args if not a.startswith("-")]
    unknown = [a for a in args if a.startswith("-")]
    if unknown:
        print(f"gradflip: unknown option {unknown[0]}\n\n{GUI_HELP}", file=sys.stderr)
        return 2
    typo = _mistyped_command(paths[0]) if paths else None
    if typo:  # "gradflip explian photo.jpg" said "give at most one image"; "gradflip clasify" opened the window
        print(f"gradflip: unknown command {paths[0]!r}: did you mean 'gradflip {typo}'? (gradflip --help)", file=sys.stderr)
        return 2
    missing = paths[0] if paths and not os.path.lexists(paths[0]) else None
    if missing is not None:  # "no display to open the window on", or a window with an error, for a typo in a name
        word = os.sep not in missing and "." not in missing  # "gradflip info x" said "give at most one image"
        print(f"gradflip: unknown command {missing!r} (the commands: {', '.join(CLI_COMMANDS)}; gradflip --help)" if word
              else f"gradflip: no such file or folder: {missing}", file=sys.stderr)
        return 2
    if len(paths) > 1:
        print("gradflip: give at most one image (the window opens one; gradflip explain A B … explains several)",
              file=sys.stderr)
        return 2
    try:
        return run_gui(paths[0] if paths else None)
    except KeyboardInterrupt:  # Ctrl+C while Qt and the window's modules load, before the window handles it
        print("\ngradflip: interrupted", file=sys.stderr)
        return 130


def _mistyped_command(word: str) -> str | None:
    """The command line's command that ``word`` is a typo of, when no file or folder of that name exists."""
    import difflib  # noqa: PLC0415

    if os.path.lexists(word) or os.sep in word or "." in word:
        return None
    close = difflib.get_close_matches(word.lower(), sorted(CLI_COMMANDS), n=1, cutoff=0.75)
    return close[0] if close else None


def _utf8_locale() -> None:
    """Under a bare C/POSIX locale (e.g. ``env -i``) Qt warns and mis-decodes file names: use C.UTF-8."""
    current = os.environ.get("LC_ALL") or os.environ.get("LC_CTYPE") or os.environ.get("LANG") or ""
    if current in ("", "C", "POSIX"):
        os.environ["LC_CTYPE"] = "C.UTF-8"
        if os.environ.get("LC_ALL") in ("C", "POSIX"):
            del os.environ["LC_ALL"]


def _display_problem() -> str | None:
    """Why no window can be shown here (Linux without X11/Wayland and no Qt platform chosen), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    wayland = os.environ.get("WAYLAND_DISPLAY", "")
    if wayland and not os.environ.get("DISPLAY"):  # Qt aborted (exit 134) on a Wayland socket that is not there
        socket = wayland if os.path.isabs(wayland) else os.path.join(os.environ.get("XDG_RUNTIME_DIR", ""), wayland)
        if not os.path.exists(socket):
            return (f"gradflip: the window cannot open: the Wayland display {wayland!r} (WAYLAND_DISPLAY) cannot be "
                    f"reached (no {socket}).\n{USE_THE_COMMAND_LINE}")
    if os.environ.get("DISPLAY") or wayland:
        return None
    return f"gradflip: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set).\n{USE_THE_COMMAND_LINE}"


USE_THE_COMMAND_LINE = ("Run it in a desktop session, or use the command line: gradflip classify IMAGE, "
                        "gradflip explain IMAGE --out DIR (see gradflip explain --help).")


# The system libraries Qt's X11 platform plugin (xcb) loads, with the package that has each one:
# (soname, Debian/Ubuntu, Fedora, Arch). Qt aborts with a core dump when one is missing.
XCB_LIBRARIES = (
    ("libxcb.so.1", "libxcb1", "libxcb", "libxcb"),
    ("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb", "libx11"),
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image", "xcb-util-image"),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    ("libxcb-util.so.1", "libxcb-util1", "xcb-util", "xcb-util"),
    ("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    ("libxcb-randr.so.0", "libxcb-randr0", "libxcb", "libxcb"),
    ("libxcb-render.so.0", "libxcb-render0", "libxcb", "libxcb"),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb", "libxcb"),
    ("libxcb-shm.so.0", "libxcb-shm0", "libxcb", "libxcb"),
    ("libxcb-sync.so.1", "libxcb-sync1", "libxcb", "libxcb"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb", "libxcb"),
    ("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb", "libxcb"),
)


def _library_loads(soname: str) -> bool:
    import ctypes

    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _platform_is_xcb() -> bool:
    """Will Qt use its X11 plugin here? (Linux; QT_QPA_PLATFORM, else X11 unless a Wayland session.)"""
    if not sys.platform.startswith("linux"):
        return False
    chosen = os.environ.get("QT_QPA_PLATFORM", "").strip().lower()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    wayland = os.environ.get("WAYLAND_DISPLAY") and os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    return bool(os.environ.get("DISPLAY")) and not wayland


def missing_xcb_libraries() -> list[tuple[str, str, str, str]]:
    """The XCB_LIBRARIES rows whose library does not load (empty when all do, or when X11 is not used)."""
    if not _platform_is_xcb():
        return []
    return [row for row in XCB_LIBRARIES if not _library_loads(row[0])]


def x_display_problem() -> str | None:
    """Why the X server named by DISPLAY cannot be reached (a stale DISPLAY after an SSH session, no
    authorisation: `sudo gradflip`), or None. Qt would abort (exit 134) with a message that asks to install
    libxcb-cursor0, which is installed."""
    if not _platform_is_xcb():
        return None
    import ctypes

    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return None  # missing_xcb_libraries names it
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(None, None)
    try:
        if not connection or xcb.xcb_connection_has_error(connection) == 0:
            return None
    finally:
        if connection:
            xcb.xcb_disconnect(connection)
    display = os.environ.get("DISPLAY", "")
    return (
        f"gradflip: the window cannot open: the X display {display!r} (DISPLAY) cannot be reached or refuses "
        f"this user (no X server there, or no authorisation: XAUTHORITY).\n{USE_THE_COMMAND_LINE}"
    )


def xcb_problem(missing: list[tuple[str, str, str, str]]) -> str:
    """What to install, for Debian/Ubuntu, Fedora and Arch: one command line each."""

    def unique(items):
        return " ".join(dict.fromkeys(items))

    return (
        "gradflip: the window cannot open: Qt's X11 platform plugin needs libraries that are not installed: "
        + ", ".join(row[0] for row in missing)
        + ".\nInstall them, then start gradflip again:\n"
        f"  Debian/Ubuntu: sudo apt install {unique(r[1] for r in missing)}\n"
        f"  Fedora:        sudo dnf install {unique(r[2] for r in missing)}\n"
        f"  Arch:          sudo pacman -S {unique(r[3] for r in missing)}\n"
        "The command-line tool needs none of them: gradflip classify IMAGE, gradflip explain IMAGE --out DIR."
    )


def run_gui(path: str | None = None) -> int:
    _timing("main")
    gone = cwd_gone()  # torch's import would end the app with an MKL error there
    problem = f"gradflip: {gone}" if gone else _display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    missing = missing_xcb_libraries()
    if missing:  # Qt would abort with "could not load the Qt platform plugin" and a core dump
        print(xcb_problem(missing), file=sys.stderr)
        return 2
    unreachable = x_display_problem()
    if unreachable:
        print(unreachable, file=sys.stderr)
        return 2
    _utf8_locale()
    from .core import cpu_share

    cpu_share.enable()  # each run's threads: the cores other programs leave free now (core/cpu_share.py)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .ui.branding import apply_branding

    app = QApplication.instance() or QApplication(sys.argv[:1])
    # name, version, organisation (QSettings location), desktop file id io.github.gradflip.GradFlip
    # (taskbar match) and window icon
    apply_branding(app)

    from .ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    _timing("shown")

    if os.environ.get("GRADFLIP_TIMING"):
        window.classified.connect(lambda _top: _timing("top5"))
        window.model_ready.connect(lambda _info: _timing("model"))
        window.run_finished.connect(lambda _result: _timing("explained"))
        QTimer.singleShot(0, lambda: _timing("painted"))  # runs after the first expose/paint
        if os.environ.get("GRADFLIP_TIMING_QUIT"):
            window.classified.connect(lambda _top: QTimer.singleShot(0, window.close))
    # the first paint happens before the engine thread starts importing torch
    QTimer.singleShot(0, lambda: window.start(path))
    stopped = _close_on_signals(window)
    code = int(app.exec())
    return 128 + stopped[0] if stopped else code


def _close_on_signals(window) -> list[int]:
    """Ctrl+C in the terminal that started the app, or SIGTERM (``kill``, a session ending), closes the window as
    its close button does: the settings are saved, a run stops within a step, an export finishes its set. Python's
    own Ctrl+C raised KeyboardInterrupt inside whichever Qt handler ran next (a traceback at the next mouse move,
    the app going on, the handler cut short); SIGTERM killed the app at once. Python runs a signal's handler only
    when it runs code, so a timer lets it run four times a second. Returns the list that gets the signal's number."""
    import signal

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    stopped: list[int] = []

    def close(signum, frame):
        if not stopped:
            stopped.append(signum)
            window.folders.ask_on_close = False  # a session ending must not wait on "Export them first?"
            # a question already open (inside closeEvent: the window's own close() is then ignored as re-entrant)
            # is answered "no": may_close sees ask_on_close and lets that close go on
            modal = QApplication.activeModalWidget()
            if modal is not None:
                modal.reject() if hasattr(modal, "reject") else modal.close()
            QTimer.singleShot(0, window.close)

    for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        try:
            if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, close)
        except (ValueError, OSError):  # not the main thread
            pass
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return stopped


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
