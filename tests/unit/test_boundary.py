"""The core must stay Qt-free: importing it (and the CLI) must not import PySide6 or pyqtgraph."""

import subprocess
import sys


def test_core_and_cli_do_not_import_qt():
    code = (
        "import sys\n"
        "import gradflip_desktop.core.models, gradflip_desktop.core.images, gradflip_desktop.core.explain\n"
        "import gradflip_desktop.core.report, gradflip_desktop.core.maps, gradflip_desktop.cli\n"
        "import gradflip_desktop.core\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_core_sources_never_mention_qt():
    from pathlib import Path

    import gradflip_desktop.core as core

    for path in Path(core.__file__).parent.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "PySide6" not in text and "pyqtgraph" not in text, path.name
