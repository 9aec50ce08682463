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


def test_the_bundle_keeps_the_metadata_of_the_packages_whose_versions_a_record_names():
    """The bundle's records and About box said Pillow and the weights package were "not installed": the spec copied
    neither package's metadata, which importlib.metadata reads the versions from."""
    from gradflip_desktop.core.models.registry import BUNDLED_VERSIONS

    spec = (ROOT / "packaging" / "gradflip.spec").read_text()
    assert "copy_metadata(_pkg)" in spec
    listed = spec.split("for _pkg in (", 1)[1].split(")", 1)[0]
    assert {p.strip().strip('"') for p in listed.split(",") if p.strip()} == set(BUNDLED_VERSIONS)


def test_the_bundle_build_starts_from_the_checkout_as_it_is():
    """pip left ./build and *.egg-info in the checkout: a file deleted there stayed in the next bundle."""
    build = (ROOT / "packaging" / "build.sh").read_text()
    clean = build.index('rm -rf "${SOURCE:-$ROOT}/build" "${SOURCE:-$ROOT}"/*.egg-info')
    assert clean < build.index('pip install --quiet --no-deps --force-reinstall "${SOURCE:-$ROOT}"')
