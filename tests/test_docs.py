"""The docs cite what exists: every test named in docs/*.md and README.md is a test in tests/, every
tests/, benchmarks/ or tools/ file they name is in the repository (a renamed test or a moved file makes
a claim that cites nothing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
TEST_NAME = re.compile(r"(?<![/\w])(test_\w+)(?!\w|\.py)")  # not file names (test_x.py)
FILE_PATH = re.compile(r"\b((?:tests|benchmarks|tools)/[\w/.-]+\.py)\b")


def _test_functions() -> set[str]:
    names = set()
    for f in (REPO / "tests").rglob("*.py"):
        names |= set(re.findall(r"^\s*(?:async\s+)?def (test_\w+)", f.read_text(encoding="utf-8"), re.M))
    return names


def _cited(pattern: re.Pattern, text: str) -> set[str]:
    # only inside `code` spans, where the docs name tests and files
    return {m for span in re.findall(r"`([^`]+)`", text) for m in pattern.findall(span)}


def test_citation_finder_sees_names_and_paths():
    text = "H `test_a`, `test_b[nan]`, `tests/test_c.py::test_d`; run `pytest tests/core/x.py -k y` and `python benchmarks/z.py --n 3`"
    assert _cited(TEST_NAME, text) == {"test_a", "test_b", "test_d"}
    assert _cited(FILE_PATH, text) == {"tests/test_c.py", "tests/core/x.py", "benchmarks/z.py"}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs_cite_existing_tests(doc):
    missing = sorted(_cited(TEST_NAME, doc.read_text(encoding="utf-8")) - _test_functions())
    assert not missing, f"{doc.name} cites tests that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs_cite_existing_files(doc):
    missing = sorted(p for p in _cited(FILE_PATH, doc.read_text(encoding="utf-8")) if not (REPO / p).is_file())
    assert not missing, f"{doc.name} cites files that do not exist: {missing}"


def test_architecture_page_names_every_module():
    """docs/architecture.md keeps the tree true: one line per file of the package, the benchmarks and the
    tools and the packaging scripts, none that is gone."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    folders = ("gradflip_desktop", "benchmarks", "tools", "packaging")
    modules = {p.relative_to(REPO).as_posix() for f in folders for p in (REPO / f).rglob("*.py")}
    modules = {m for m in modules if not m.startswith(("packaging/build/", "packaging/dist/"))}  # a built bundle's torch
    listed = set(re.findall(r"^((?:gradflip_desktop|benchmarks|tools|packaging)/\S+\.py)\s", text, re.M))
    assert modules - listed == set(), "modules missing from docs/architecture.md"
    assert listed - modules == set(), "docs/architecture.md lists files that no longer exist"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs_link_to_files_that_exist(doc):
    """A Markdown link or image to a file of the repository ([screenshot](docs/x.png)) leads somewhere."""
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8"))
    missing = sorted(u for u in links if "://" not in u and not u.startswith("mailto:") and not (doc.parent / u).exists())
    assert not missing, f"{doc.name} links to files that do not exist: {missing}"
