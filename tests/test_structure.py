"""The code's shape: no import cycle among the project's modules, and no module so long that it
needs a reason without giving one.

An import cycle means two modules cannot be read, tested or moved one without the other; a
function-level import (the usual way to make a cycle run) hides it from Python but not from this
test, and so does `if TYPE_CHECKING:`. A module over `MAX_LINES` lines must say why in a
`# size:` comment in its first `HEADER_LINES` lines, so that length is a decision, not a drift.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("components", "dataops", "policies")
MAX_LINES = 350
HEADER_LINES = 30
SIZE_NOTE = "# size:"


def modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every module of `packages` (a package is its __init__)."""
    out = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module `import name` (or `from name import ...`) loads code from: `name` itself, or
    the nearest enclosing package (`components.config.X` is an attribute of components.config)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `module` imports anywhere in its file (module level, in functions,
    in `try`/`if` blocks), each resolved to a module file or a package's __init__."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def qualified(name: str) -> str:
        # A package run as a script has its own folder on sys.path (the policy pack's
        # `from rules import ...`), so a bare name may be a sibling module.
        top = name.partition(".")[0]
        return f"{package}.{name}" if top not in known and f"{package}.{top}" in known else name

    found: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {_resolve(qualified(alias.name), known) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, `level - 1` packages up
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = qualified(node.module or "")
            for alias in node.names:
                # `from p import m` loads the module p.m where there is one; otherwise it reads
                # the attribute m of p, and so depends on p (a package: its __init__).
                member = f"{base}.{alias.name}"
                found.add(member if member in known else _resolve(base, known))
    return {m for m in found if m is not None and m != module}


def import_graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    known = modules(root, packages)
    return {module: imports(module, path, known) for module, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one module (Tarjan),
    as a path `[a, b, ..., a]`."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first within it)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & component):
            if w == start:
                return [*paths[v], start]
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")  # a component has one


def _describe(cycle: list[str]) -> str:
    return " -> ".join(cycle)


def oversized(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """The modules over MAX_LINES lines with no `# size:` reason in their first lines."""
    out = []
    for path in modules(root, packages).values():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(line.startswith(SIZE_NOTE) for line in lines[:HEADER_LINES]):
            out.append(f"{path.relative_to(root).as_posix()}: {len(lines)} lines")
    return out


def test_the_project_has_no_import_cycle():
    found = cycles(import_graph(ROOT))
    assert found == [], "import cycles (break each, e.g. move what both need into a third module):\n" + (
        "\n".join(map(_describe, found))
    )


def test_no_module_is_long_without_a_reason():
    found = oversized(ROOT)
    assert found == [], (
        f"modules over {MAX_LINES} lines: split each by concern, or say why not in a line starting "
        f"with {SIZE_NOTE!r} in its first {HEADER_LINES} lines:\n" + "\n".join(found)
    )


# --- the checks themselves, on a small package made for them ---------------------------------


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            # A lazy import is still a cycle: it runs as soon as the function is called.
            "pkg/b.py": "def thing():\n    from pkg import a\n    return a\n",
            "pkg/c.py": "import pkg.a\n",  # reaches the cycle, is not part of it
        },
    )
    assert cycles(import_graph(root, ("pkg",))) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_a_cycle_through_a_package_init_and_a_relative_import_is_found(tmp_path):
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/config/__init__.py": "from .model import Model\n",
            "pkg/config/model.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.user import User\n",
            "pkg/user.py": "from pkg.config import Model\n",
        },
    )
    assert cycles(import_graph(root, ("pkg",))) == [
        ["pkg.config", "pkg.config.model", "pkg.user", "pkg.config"]
    ]


def test_a_bare_import_of_a_sibling_resolves_like_a_script_folder_on_sys_path(tmp_path):
    root = _package(
        tmp_path,
        {
            "pack/__init__.py": "",
            "pack/main.py": "from rules import R\n",
            "pack/rules.py": "import pack.main\n",
        },
    )
    assert cycles(import_graph(root, ("pack",))) == [["pack.main", "pack.rules", "pack.main"]]


def test_an_acyclic_package_passes(tmp_path):
    root = _package(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/a.py": "import json\nfrom pkg import b\n", "pkg/b.py": "import pkg\n"},
    )
    assert cycles(import_graph(root, ("pkg",))) == []


def test_a_long_module_needs_a_size_reason(tmp_path):
    body = "x = 1\n" * (MAX_LINES + 1)
    root = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/long.py": body,
            "pkg/explained.py": '"""Doc."""\n\n# size: one table, read top to bottom\n' + body,
            "pkg/late.py": body + "# size: too late to count\n",
            "pkg/short.py": "x = 1\n" * MAX_LINES,
        },
    )
    assert sorted(oversized(root, ("pkg",))) == [
        f"pkg/late.py: {MAX_LINES + 2} lines",
        f"pkg/long.py: {MAX_LINES + 1} lines",
    ]
