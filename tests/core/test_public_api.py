"""The public API of ``gradflip_desktop.core``: the docstring's example runs, the names resolve lazily."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import gradflip_desktop.core as core
from gradflip_desktop.core.resources import sample_image_path


def _example_code() -> str:
    doc = core.__doc__
    block = doc.split("::", 1)[1].split("\n\n", 2)[1]
    lines = [line[4:] for line in block.splitlines()]
    assert len(lines) == 5, lines
    return "\n".join(lines)


def test_every_public_name_resolves():
    for name in core.__all__:
        assert getattr(core, name) is not None, name
    with pytest.raises(AttributeError):
        core.no_such_name  # noqa: B018


def test_importing_core_and_options_imports_no_torch_nor_qt():
    code = (
        "import sys, gradflip_desktop.core, gradflip_desktop.core.options as o; o.ExplainOptions();"
        "bad = [m for m in ('torch', 'PySide6') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.e2e
def test_docstring_example_runs_on_the_sample(capsys):
    code = _example_code().replace('"cat.jpg"', repr(str(sample_image_path())))
    exec(compile(code, "<core docstring>", "exec"), {})
    out = capsys.readouterr().out.strip()
    status, rest = out.split(" ", 1)
    assert status == "flipped"
    original, final = rest.split(" -> ")
    assert original != final and re.search(r"cat", original)
