"""pyproject lists every package of the tree, so a wheel or non-editable install is complete."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_lists_every_package():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "gradflip_desktop").rglob("__init__.py")
    }
    assert found - listed == set(), "packages missing from pyproject.toml"
    stale = {name for name in listed - found if not name.startswith("gradflip_desktop.resources")}
    assert stale == set(), "pyproject.toml lists packages that no longer exist"
