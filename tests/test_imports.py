"""No import cycles inside `jira_chase/`.

The graph is read from the source with `ast`, so a cycle is found even when today's
import order happens to work. An edge A -> B means: importing A runs an import of B.
The rule for which imports count:

- Statements that run when the module is imported: the module body and class bodies,
  including everything nested in `if`, `try`, `with` and loops, plus the bodies of the
  module's own functions that those statements call (a decorator or a module-level
  call such as `TABLE = build()`).
- Imports inside other function bodies do not count: they run only when the function is
  called, after every module has finished importing, which is exactly how a deferred
  import breaks a cycle.
- Imports under `if TYPE_CHECKING:` do not count: they never run, they only feed the
  type checker, so they cannot make an import fail or see a half-initialised module.
- `from package import name` is an edge to `package.name` when that is a module of the
  package, else to the package itself (its `__init__`). Importing a submodule is not an
  edge to its parent packages: Python runs a package's `__init__` before its submodules
  anyway, and a package that imports its own submodules is not a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import jira_chase

PACKAGE_DIR = Path(jira_chase.__file__).parent


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package at `root`."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements among `body` that run when it runs, nested blocks included,
    function bodies and `if TYPE_CHECKING:` blocks excluded."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_time_statements(node.orelse)
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None) or []
            for child in children:
                if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    yield from _import_time_statements(child.body)
                elif isinstance(child, ast.stmt):
                    yield from _import_time_statements([child])


def _evaluated_expressions(node: ast.stmt) -> Iterator[ast.AST]:
    """The expressions of one statement that are evaluated when it runs (for a def:
    its decorators and defaults, not its body)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield from node.decorator_list
        yield from node.args.defaults
        yield from (d for d in node.args.kw_defaults if d is not None)
        return
    if isinstance(node, ast.ClassDef):
        yield from node.decorator_list
        yield from node.bases
        yield from node.keywords
        return
    for field, value in ast.iter_fields(node):
        if field in ("body", "orelse", "finalbody", "handlers", "cases"):
            continue
        values = value if isinstance(value, list) else [value]
        yield from (v for v in values if isinstance(v, ast.AST))


def _called_names(node: ast.stmt) -> set[str]:
    """Names called (or used as decorators) by the statement as it runs."""
    names = set()
    for expr in _evaluated_expressions(node):
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                names.add(sub.func.id)
        if isinstance(expr, ast.Name) and isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(expr.id)  # a bare decorator is called with the definition
    return names


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name of the module an `ImportFrom` names."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_targets(
    node: ast.stmt, module: str, is_package: bool, modules: dict[str, Path]
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        source = _resolve(module, is_package, node)
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            yield submodule if submodule in modules else source


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports at import time (see the rule above)."""
    modules = module_files(root)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        functions = {
            node.name: node
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        statements = list(_import_time_statements(tree.body))
        pending = set().union(*(_called_names(s) for s in statements)) & set(functions)
        ran: set[str] = set()
        while pending:
            name = pending.pop()
            ran.add(name)
            body = list(_import_time_statements(functions[name].body))
            statements += body
            pending |= (set().union(*(_called_names(s) for s in body)) & set(functions)) - ran
        edges = set()
        for statement in statements:
            for target in import_targets(statement, module, is_package, modules):
                if target in modules and target != module:
                    edges.add(target)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (first module repeated at the end) per strongly connected group of
    modules that import each other, in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(_cycle_in(group, graph) for group in groups)


def _cycle_in(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest way from the group's first module back to itself."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a strongly connected group has one


def test_jira_chase_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE_DIR)
    assert graph["jira_chase.cli.commands"], (
        "the walk found no import in jira_chase/cli/commands.py"
    )
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in jira_chase/:\n" + "\n".join(
        " -> ".join(cycle) for cycle in cycles
    )


def write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def test_a_cycle_is_named_module_by_module(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg.b import B\n",
            "b.py": "import pkg.c\nB = 1\n",
            "c.py": "from pkg import a\n",
            "d.py": "from pkg.a import *\n",
        },
    )
    assert find_cycles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_relative_imports_and_package_names_resolve(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "from .sub import thing\nVERSION = 1\n",
            "top.py": "from . import VERSION\n",
            "sub/__init__.py": "from . import leaf\nthing = 1\n",
            "sub/leaf.py": "from .. import top\nfrom ..sub.other import X\n",
            "sub/other.py": "X = 1\n",
        },
    )
    graph = import_graph(package)
    assert graph["pkg"] == {"pkg.sub"}
    assert graph["pkg.top"] == {"pkg"}
    assert graph["pkg.sub"] == {"pkg.sub.leaf"}
    assert graph["pkg.sub.leaf"] == {"pkg.top", "pkg.sub.other"}
    assert find_cycles(graph) == [["pkg", "pkg.sub", "pkg.sub.leaf", "pkg.top", "pkg"]]


def test_deferred_and_type_checking_imports_make_no_cycle(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "import pkg.b\n",
            "b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.a import A\nelse:\n    import pkg.c\n"
                "def later():\n    from pkg import a\n"
            ),
            "c.py": "",
        },
    )
    graph = import_graph(package)
    assert graph["pkg.b"] == {"pkg.c"}
    assert find_cycles(graph) == []


def test_imports_in_functions_run_at_import_time_count(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "import pkg.b\n",
            "b.py": (
                "def build():\n    return helper()\n"
                "def helper():\n    from pkg import a\n    return a\n"
                "def register(f):\n    import pkg.c\n    return f\n"
                "class Table:\n    rows = build()\n"
                "@register\ndef rule():\n    import pkg.d\n"
            ),
            "c.py": "",
            "d.py": "",
        },
    )
    graph = import_graph(package)
    assert graph["pkg.b"] == {"pkg.a", "pkg.c"}
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]
