"""Print the tree with one line per file (the first line of each module's docstring): the package, benchmarks/, tools/, packaging/.

    python tools/architecture_tree.py        # paste into docs/architecture.md

tests/test_docs.py checks that docs/architecture.md names every module of the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def first_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    line = doc.strip().split("\n\n", 1)[0].replace("\n", " ")
    return line.split(". ", 1)[0].rstrip(".")


FOLDERS = ("gradflip_desktop", "benchmarks", "tools", "packaging")  # the code whose files the page lists
BUILT = ("packaging/build", "packaging/dist")  # what packaging/build.sh writes (git ignores it): not the project's code


def files(folder: str) -> list[Path]:
    found = (p for p in (ROOT / folder).rglob("*.py") if not p.relative_to(ROOT).as_posix().startswith(BUILT))
    return sorted(found, key=lambda p: (p.parent.relative_to(ROOT).parts, p.name))


def tree(folders: tuple[str, ...] = FOLDERS) -> list[str]:
    lines = []
    for folder in folders:
        for path in files(folder):
            rel = path.relative_to(ROOT).as_posix()
            lines.append(f"{rel:<48} {first_line(path)}")
    return lines


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:  # --help, or anything else: it takes no arguments (it printed the tree for --help)
        print(__doc__.strip())
        sys.exit(0 if sys.argv[1] in ("-h", "--help") else 2)
    print("\n".join(tree()))
