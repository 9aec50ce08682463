"""The package's boundaries, checked from the source and by importing in a fresh interpreter.

- the core is Qt-free (no import of PySide6/shiboken6/pyqtgraph, not even in a function);
- the CLI's import closure, function-level imports included, reaches no ``gradflip_desktop.ui`` module,
  no ``gradflip_desktop.app`` and no Qt;
- building the CLI parser and ``--help`` import no torch;
- no import cycles between the package's modules (function-level imports count: a lazy import hides a
  cycle, it does not remove it; ``if TYPE_CHECKING:`` imports do not run and do not count);
- no module is longer than ``MAX_LINES`` lines unless its docstring says why (a line with ``LONG_REASON``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import gradflip_desktop

PACKAGE = "gradflip_desktop"
ROOT = Path(gradflip_desktop.__file__).resolve().parent
QT = ("PySide6", "shiboken6", "pyqtgraph")
MAX_LINES = 500
LONG_REASON = "Why this module is long:"


# ---- a static import graph of the package --------------------------------------------------------------

def _module_files() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = [PACKAGE, *rel.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _module_files()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers of statements under ``if TYPE_CHECKING:`` (never executed)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for sub in node.body:
                    for n in ast.walk(sub):
                        if hasattr(n, "lineno"):
                            lines.add(n.lineno)
    return lines


def imports_of(module: str) -> set[str]:
    """Every module ``module`` imports, at any depth of its code (absolute names, third-party included).

    ``from X import name`` counts as importing ``X.name`` when that is a module of the package, else ``X``.
    """
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _type_checking_lines(tree)
    package = module if _is_package(module) else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
        elif isinstance(node, ast.Call):  # importlib.import_module("gradflip_desktop.x") with a literal name
            f = node.func
            if getattr(f, "attr", getattr(f, "id", None)) == "import_module" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and not arg.value.startswith("."):
                    found.add(arg.value)
    found.discard(module)
    return found


def package_imports(module: str) -> set[str]:
    """The package's own modules that ``module`` imports (a submodule import also runs its parents)."""
    out = set()
    for name in imports_of(module):
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            while name not in MODULES and "." in name:  # `import a.b.c` where c is a name, not a module
                name = name.rpartition(".")[0]
            out.add(name)
    out.discard(module)
    return out


def closure(start: str) -> set[str]:
    """Every package module reachable from ``start``, with the parent packages that importing them runs."""
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m in seen or m not in MODULES:
            continue
        seen.add(m)
        parts = m.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parents' __init__ run first
        todo.extend(package_imports(m))
    return seen


# ---- the graph helpers find what they are meant to find (so the boundary tests can fail) ---------------

def test_import_graph_sees_function_level_and_relative_imports():
    cli_imports = package_imports(f"{PACKAGE}.cli")
    # cli.py imports the core inside its command functions only: those must be seen
    assert f"{PACKAGE}.core.images" in cli_imports
    assert f"{PACKAGE}.core.options" in cli_imports
    # a relative import inside a subpackage resolves to the absolute module
    assert f"{PACKAGE}.core.errors" in package_imports(f"{PACKAGE}.core.images.loading")
    assert f"{PACKAGE}.core.images.pixels" in package_imports(f"{PACKAGE}.core.images.loading")
    # `from . import loading` in a package __init__ is an import of the submodule
    assert f"{PACKAGE}.core.images.loading" in package_imports(f"{PACKAGE}.core.images")
    # the app imports the ui (inside main): the closure must reach it, or the CLI test below proves nothing
    assert any(m.startswith(f"{PACKAGE}.ui") for m in closure(f"{PACKAGE}.app"))


def test_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(_find_cycle(graph)) == ["a", "b", "c"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


# ---- the boundaries --------------------------------------------------------------------------------------

def test_core_sources_import_no_qt():
    offenders = []
    for name, path in MODULES.items():
        if name == f"{PACKAGE}.core" or name.startswith(f"{PACKAGE}.core."):
            bad = sorted(m for m in imports_of(name) if m.split(".")[0] in QT)
            bad += sorted(m for m in package_imports(name) if m.startswith((f"{PACKAGE}.ui", f"{PACKAGE}.app")))
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {bad}")
    assert not offenders, offenders


def test_core_and_cli_do_not_import_qt():
    code = (
        "import sys\n"
        "import gradflip_desktop.core.models, gradflip_desktop.core.images, gradflip_desktop.core.explain\n"
        "import gradflip_desktop.core.report, gradflip_desktop.core.viz.maps, gradflip_desktop.cli\n"
        "import gradflip_desktop.core\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _code_mentions(text: str) -> set[str]:
    """Qt names in ``text``'s code: names, attributes and string constants, not comments or docstrings."""
    tree = ast.parse(text)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = set()
    for node in ast.walk(tree):
        words = []
        if isinstance(node, ast.Name):
            words = [node.id]
        elif isinstance(node, ast.Attribute):
            words = [node.attr]
        elif isinstance(node, ast.alias):
            words = [node.name]
        elif isinstance(node, ast.ImportFrom) and node.module:
            words = [node.module]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words = [node.value]
        found.update(q for w in words for q in QT if q in w)
    return found


def test_core_sources_never_mention_qt():
    import gradflip_desktop.core as core

    files = sorted(Path(core.__file__).parent.rglob("*.py"))
    assert len(files) > 10  # the subpackages are searched too
    assert _code_mentions("import PySide6.QtCore\nx = __import__('pyqtgraph')") == {"PySide6", "pyqtgraph"}
    assert _code_mentions('"""uses no PySide6"""\n# nor pyqtgraph\n') == set()
    for path in files:
        assert not _code_mentions(path.read_text(encoding="utf-8")), path.name


def test_cli_import_closure_reaches_no_ui_module():
    reached = closure(f"{PACKAGE}.cli")
    assert f"{PACKAGE}.core.images.loading" in reached  # sanity: the closure follows function-level imports
    bad = sorted(m for m in reached if m.startswith((f"{PACKAGE}.ui", f"{PACKAGE}.app")))
    assert not bad, f"the CLI reaches GUI modules: {bad}"
    qt = sorted({q for m in reached for q in imports_of(m) if q.split(".")[0] in QT})
    assert not qt, f"the CLI's modules import Qt: {qt}"


def test_cli_parser_and_help_import_no_torch():
    code = (
        "import sys\n"
        "from gradflip_desktop import app, cli\n"
        "p = cli.build_parser(); p.format_help()\n"
        "for argv in (['--help'], ['explain', '--help'], ['classify', '--help']):\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, (argv, e.code)\n"
        "assert app.main(['--help']) == 0\n"
        "print('LOADED', ','.join(sorted(m for m in ('torch', 'torchvision', 'PySide6', 'pyqtgraph') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "--max-steps" in out.stdout and "--epsilon" in out.stdout  # the help really was printed
    loaded = out.stdout.strip().splitlines()[-1]
    assert loaded == "LOADED", loaded


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (its nodes), or None. Iterative DFS with colours."""
    white, grey, black = 0, 1, 2
    colour = {n: white for n in graph}
    for start in sorted(graph):
        if colour[start] != white:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = grey
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = black
                stack.pop()
                path.pop()
                continue
            if nxt not in colour:
                continue
            if colour[nxt] == grey:
                return path[path.index(nxt):]
            if colour[nxt] == white:
                colour[nxt] = grey
                stack.append((nxt, iter(sorted(graph[nxt]))))
                path.append(nxt)
    return None


def test_no_import_cycles_between_package_modules():
    graph = {m: package_imports(m) & set(MODULES) for m in MODULES}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join([*cycle, cycle[0]])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_size(module):
    path = MODULES[module]
    text = path.read_text(encoding="utf-8")
    n = len(text.splitlines())
    if n <= MAX_LINES:
        return
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert LONG_REASON in doc, (
        f"{path.relative_to(ROOT.parent)} has {n} lines (> {MAX_LINES}); split it, or write "
        f"'{LONG_REASON} ...' in its docstring"
    )
