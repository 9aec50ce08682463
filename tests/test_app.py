"""``gradflip`` (app.py) before any window: its arguments, its start-up checks and the exact words and exit status of
each refusal. No Qt here (the window's own start is tested in tests/ui). Each test was written for a mutant of app.py
that the other tests let through (hand-made mutation audit "mutF", 2026-12-06)."""

from __future__ import annotations

import pytest

from gradflip_desktop import app


@pytest.fixture
def no_window(monkeypatch):
    """``run_gui`` replaced: the paths it is called with."""
    calls = []
    monkeypatch.setattr(app, "run_gui", lambda path=None: calls.append(path) or 0)
    return calls


# APP-02 (the last unknown option named), APP-17 (-h not taken for --help)
def test_help_and_an_unknown_option(capsys, no_window):
    assert app.main(["-h"]) == 0
    assert capsys.readouterr().out == app.GUI_HELP + "\n"
    assert app.main(["photo.jpg", "--bogus", "--worse"]) == 2
    assert capsys.readouterr().err == f"gradflip: unknown option --bogus\n\n{app.GUI_HELP}\n"
    assert no_window == []


# APP-03 (a looser match): "chess" is no typo of "check"; APP-04 ("or"): "photo.jpg" is a missing file, not a command;
# APP-19 (a name with a dot taken for a typo): "classify.png" is a missing photo, not "gradflip classify" mistyped
def test_a_missing_photo_is_named_as_a_file_and_a_plain_word_as_a_command(capsys, tmp_path, monkeypatch, no_window):
    monkeypatch.chdir(tmp_path)
    assert app._mistyped_command("chess") is None and app._mistyped_command("chek") == "check"
    assert app.main(["photo.jpg"]) == 2
    assert capsys.readouterr().err == "gradflip: no such file or folder: photo.jpg\n"
    assert app._mistyped_command("classify.png") is None
    assert app.main(["classify.png"]) == 2
    assert capsys.readouterr().err == "gradflip: no such file or folder: classify.png\n"
    assert app.main(["chess"]) == 2
    assert capsys.readouterr().err == "gradflip: unknown command 'chess' (the commands: classify, explain, models, check; gradflip --help)\n"
    assert no_window == []


# APP-05 (two photos opened the first): the window opens one photo; two are refused with the way to explain several
def test_two_photos_are_refused_with_the_command_for_several(capsys, tmp_path, no_window):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(b"")
    b.write_bytes(b"")
    assert app.main([str(a), str(b)]) == 2
    assert capsys.readouterr().err == ("gradflip: give at most one image (the window opens one; gradflip explain A B … "
                                       "explains several)\n")
    assert no_window == []
    assert app.main([str(a)]) == 0 and no_window == [str(a)]


# APP-06 (exit 1): Ctrl+C while the window's modules load ends with 130 (128 + SIGINT) and one line
def test_ctrl_c_before_the_window_ends_with_130(capsys, monkeypatch):
    def interrupted(path=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "run_gui", interrupted)
    assert app.main([]) == 130
    assert capsys.readouterr().err == "\ngradflip: interrupted\n"


# APP-07 (POSIX kept), APP-08 (LC_ALL=POSIX kept, which overrides LC_CTYPE): a bare locale becomes C.UTF-8
@pytest.mark.parametrize("env, expected", [
    ({"LANG": "POSIX"}, {"LANG": "POSIX", "LC_CTYPE": "C.UTF-8"}),
    ({"LC_ALL": "POSIX"}, {"LC_CTYPE": "C.UTF-8"}),
    ({"LC_ALL": "C", "LANG": "de_DE.UTF-8"}, {"LANG": "de_DE.UTF-8", "LC_CTYPE": "C.UTF-8"}),
    ({"LANG": "de_DE.UTF-8"}, {"LANG": "de_DE.UTF-8"}),
])
def test_a_bare_c_or_posix_locale_becomes_c_utf8(monkeypatch, env, expected):
    names = ("LC_ALL", "LC_CTYPE", "LANG")
    for name in names:  # recorded first, so that what _utf8_locale sets is undone after the test
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app._utf8_locale()
    import os

    assert {n: os.environ[n] for n in names if n in os.environ} == expected


def _linux(monkeypatch, **env):
    monkeypatch.setattr(app.sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


# APP-09 (a relative socket name read as a path): WAYLAND_DISPLAY's socket is looked for in XDG_RUNTIME_DIR
def test_the_wayland_socket_is_looked_for_in_the_runtime_folder(monkeypatch, tmp_path):
    _linux(monkeypatch, WAYLAND_DISPLAY="wayland-9", XDG_RUNTIME_DIR=str(tmp_path))
    assert app._display_problem() == (
        f"gradflip: the window cannot open: the Wayland display 'wayland-9' (WAYLAND_DISPLAY) cannot be reached (no "
        f"{tmp_path / 'wayland-9'}).\n{app.USE_THE_COMMAND_LINE}")
    (tmp_path / "wayland-9").write_bytes(b"")  # there: the window can open
    assert app._display_problem() is None


# APP-10 (a platform list or plugin options not read), APP-11 (a Wayland session read as X11)
@pytest.mark.parametrize("env, xcb", [
    ({"QT_QPA_PLATFORM": "xcb:nomitshm"}, True),
    ({"QT_QPA_PLATFORM": "xcb;wayland"}, True),
    ({"QT_QPA_PLATFORM": "wayland;xcb"}, False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11"}, True),
    ({"DISPLAY": ":0"}, True),
])
def test_which_platform_qt_will_use(monkeypatch, env, xcb):
    _linux(monkeypatch, **env)
    assert app._platform_is_xcb() is xcb


# APP-12 (Arch given Fedora's names), APP-13 (a package named once per library)
def test_the_install_lines_name_each_package_once_in_each_distributions_words():
    rows = [row for row in app.XCB_LIBRARIES if row[0] in ("libX11-xcb.so.1", "libxcb-randr.so.0", "libxcb-shm.so.0")]
    assert app.xcb_problem(rows).splitlines()[1:5] == [
        "Install them, then start gradflip again:",
        "  Debian/Ubuntu: sudo apt install libx11-xcb1 libxcb-randr0 libxcb-shm0",
        "  Fedora:        sudo dnf install libX11-xcb libxcb",
        "  Arch:          sudo pacman -S libx11 libxcb",
    ]


# APP-16 (a deleted current folder not checked): said before anything else is tried, exit 2
def test_a_deleted_current_folder_is_said_before_the_window_starts(monkeypatch, capsys):
    _linux(monkeypatch, QT_QPA_PLATFORM="offscreen")
    monkeypatch.setattr(app, "cwd_gone", lambda: "the current folder no longer exists")

    def went_on():
        raise AssertionError("the start-up went on")

    monkeypatch.setattr(app, "_utf8_locale", went_on)
    assert app.run_gui(None) == 2
    assert capsys.readouterr().err == "gradflip: the current folder no longer exists\n"


class _FakeXcb:
    """libxcb's three calls that x_display_problem makes, answering as an X server that does or does not let us in."""

    def __init__(self, connection: int, error: int):
        self.disconnected = []
        self.xcb_connect = lambda display, screen: connection
        self.xcb_connection_has_error = lambda c: error
        self.xcb_disconnect = lambda c: self.disconnected.append(c)


# APP-15 (the connection's error not asked): a display that lets us in is no problem; one that refuses is named;
# each connection made is closed again
def test_an_x_display_is_a_problem_only_when_its_connection_fails(monkeypatch):
    import ctypes

    _linux(monkeypatch, DISPLAY=":4711")
    for connection, error, expected in ((1234, 0, None), (1234, 1, (
            "gradflip: the window cannot open: the X display ':4711' (DISPLAY) cannot be reached or refuses this user "
            f"(no X server there, or no authorisation: XAUTHORITY).\n{app.USE_THE_COMMAND_LINE}")), (0, 0, None)):
        xcb = _FakeXcb(connection, error)
        monkeypatch.setattr(ctypes, "CDLL", lambda name: xcb)
        assert app.x_display_problem() == expected
        assert xcb.disconnected == ([connection] if connection else [])
