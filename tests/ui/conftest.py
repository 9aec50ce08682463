"""Fixtures for the desktop-app tests (pytest-qt, offscreen, the real default model)."""

from __future__ import annotations

import pytest
from helpers import STARTUP_TIMEOUT_MS
from PySide6.QtCore import QSettings, QStandardPaths

QStandardPaths.setTestModeEnabled(True)

@pytest.fixture
def settings(tmp_path) -> QSettings:
    s = QSettings(str(tmp_path / "gradflip-test.ini"), QSettings.Format.IniFormat)
    s.clear()
    s.setValue("folders/ask_on_close", False)  # closing after a folder run would ask (a modal dialog); one test asks
    return s


@pytest.fixture
def window(qtbot, settings):
    """The main window on the bundled sample photo, model loaded and top-5 shown."""
    from gradflip_desktop.ui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.classified, timeout=STARTUP_TIMEOUT_MS):
        w.start()
    yield w
    w.close()
    assert not w.engine.thread.isRunning()
    assert not w.background.thread.isRunning()


@pytest.fixture
def shown_plot(qtbot):
    """``shown_plot(width, height)``: a ProbabilityPlot of that size, shown (closed after the test)."""
    from gradflip_desktop.ui.widgets.plot import ProbabilityPlot

    def make(width: int, height: int) -> ProbabilityPlot:
        plot = ProbabilityPlot()
        qtbot.addWidget(plot)
        plot.resize(width, height)
        plot.show()
        return plot

    return make


@pytest.fixture
def folder_window(qtbot, settings):
    """The main window with the tests' tiny model (seed 1) and quick free-style settings, shown: folder runs in
    seconds (test_gallery.py, controllers/test_folders.py)."""
    from helpers import make_tiny

    from gradflip_desktop.ui.main_window import MainWindow
    from gradflip_desktop.ui.settings import RunSettings

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.models.session.classifier = make_tiny(seed=1)  # before any engine task: no other thread holds it
    w.controls.set_settings(RunSettings(style="free", max_steps=60))
    w.show()
    yield w
    w.close()
    assert not w.engine.thread.isRunning() and not w.background.thread.isRunning()
