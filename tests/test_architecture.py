"""The package's folders are its architecture, and the imports keep to it.

`LAYERS` says which packages each package of `jira_chase/` may import; a package may
always import its own modules and the root package (the version). Every import counts
here, wherever it is — in a function, under `if TYPE_CHECKING:` — because the layers are
about what a module knows, not about import order (tests/test_imports.py checks cycles).
The table is stated three times and the three must agree: here, in each package's
`__init__` docstring ("May import: ..."), and in docs/architecture.md.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

import jira_chase
from tests.test_imports import import_targets, module_files

PACKAGE_DIR = Path(jira_chase.__file__).parent
DOC = PACKAGE_DIR.parent / "docs" / "architecture.md"

#: Package -> the packages (or single modules, dotted) it may import, top to bottom.
LAYERS: dict[str, set[str]] = {
    "cli": {"reports", "run", "store", "sources", "engine", "config", "jql", "errors"},
    "reports": {"run", "store", "sources", "engine", "config", "jql", "errors"},
    "run": {"store", "sources", "engine", "config", "jql", "errors"},
    "store": {"engine", "config", "errors"},
    "sources": {"engine", "config", "jql", "errors"},
    "engine": {"config", "jql", "errors"},
    "config": {"jql", "errors"},
    "jql": {"engine.model"},
    "errors": set(),
    "simulator": {"engine", "jql", "errors"},
}
#: Narrower than LAYERS: a source reads and writes the tracker, it never judges.
FORBIDDEN = {("sources", "engine.rules")}
#: Wider than LAYERS: the only modules that may import the simulator.
SIMULATOR_USERS = {"cli.demo", "cli.simulator_command"}
#: What may sit directly in jira_chase/ besides the packages.
TOP_LEVEL = {"__init__.py", "__main__.py", "errors.py"}
MAIN_MAY_IMPORT = {"cli"}


def _relative(module: str) -> str:
    """`jira_chase.engine.plan` -> `engine.plan`; the root package -> ``."""
    return module.partition(".")[2]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def all_imports(root: Path) -> dict[str, set[str]]:
    """Module -> every module of the package at `root` it imports, anywhere in it."""
    modules = module_files(root)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[module] = {
            target
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for target in import_targets(node, module, is_package, modules)
            if target in modules and target != module
        }
    return graph


def wrong_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import that crosses the layers the wrong way, as `importer -> imported (why)`."""
    wrong = []
    for module, targets in sorted(graph.items()):
        here = _relative(module)
        layer = here.split(".")[0]
        for target in sorted(targets):
            there = _relative(target)
            if not there:
                continue  # the root package: the version
            other = there.split(".")[0]
            if other == layer:
                continue
            if layer == "__main__":
                allowed = other in MAIN_MAY_IMPORT
            elif other == "simulator":
                allowed = any(_within(here, user) for user in SIMULATOR_USERS)
            else:
                allowed = any(_within(there, name) for name in LAYERS.get(layer, set()))
            if any(_within(here, a) and _within(there, b) for a, b in FORBIDDEN):
                allowed = False
            if not allowed:
                wrong.append(f"{module} -> {target} ({layer} may not import {there})")
    return wrong


def test_imports_go_down_the_layers() -> None:
    graph = all_imports(PACKAGE_DIR)
    assert graph["jira_chase.cli.commands"], "the walk found no import in cli/commands.py"
    wrong = wrong_imports(graph)
    assert not wrong, "imports against the architecture (see docs/architecture.md):\n" + (
        "\n".join(wrong)
    )


def test_the_folders_are_the_layers() -> None:
    entries = {p.name for p in PACKAGE_DIR.iterdir() if p.name != "__pycache__"}
    files = {name for name in entries if (PACKAGE_DIR / name).is_file()}
    assert files == TOP_LEVEL, "jira_chase/ holds packages only: move each module into one"
    packages = {name for name in entries if (PACKAGE_DIR / name).is_dir()}
    assert packages == set(LAYERS) - {"errors"}


def _may_import(text: str) -> set[str]:
    """The names after "May import:" up to the end of that sentence, parentheses aside."""
    found = re.search(r"May import:(.*?)(?:;|\.\s|\.$)", re.sub(r"\([^)]*\)", "", text), re.S)
    assert found, "no 'May import:' sentence"
    names = set(re.findall(r"[a-z_]+(?:\.[a-z_]+)*", found.group(1)))
    return set() if names == {"nothing"} else names


@pytest.mark.parametrize("package", sorted(set(LAYERS) - {"errors"}))
def test_each_package_says_what_it_owns_and_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE_DIR / package / "__init__.py").read_text()))
    assert doc, f"jira_chase/{package}/__init__.py has no docstring"
    assert _may_import(doc) == LAYERS[package], f"jira_chase/{package}/__init__.py"


def test_the_architecture_doc_lists_the_layers() -> None:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        first = re.fullmatch(r"`([a-z_]+)(?:/|\.py)`", cells[0]) if line.startswith("|") else None
        if first:
            rows[first.group(1)] = set(re.findall(r"`([a-z_.]+)`", cells[-1]))
    assert rows == LAYERS, "docs/architecture.md's table of packages differs from LAYERS"


def test_every_path_the_architecture_doc_names_exists() -> None:
    """A module that moves or goes takes its place in the doc with it."""
    named = set(re.findall(r"`([a-z_]+/[a-z_./]*)`", DOC.read_text(encoding="utf-8")))
    assert len(named) > 20
    missing = {
        path
        for path in named
        if not (PACKAGE_DIR / path).exists() and not (PACKAGE_DIR.parent / path).exists()
    }
    assert missing == set(), "docs/architecture.md names what is not there"


def test_a_wrong_import_is_named(tmp_path: Path) -> None:
    package = tmp_path / "jira_chase"
    files = {
        "__init__.py": "",
        "engine/__init__.py": "",
        "engine/plan.py": "def later():\n    from jira_chase.store.state import StateStore\n",
        "engine/rules/__init__.py": "",
        "store/__init__.py": "",
        "store/state.py": "from jira_chase.engine import plan\n",
        "sources/__init__.py": "",
        "sources/base.py": "from jira_chase.engine.rules import check\n",
        "run/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from jira_chase.cli import demo\n",
        "cli/__init__.py": "",
        "cli/demo.py": "import jira_chase.simulator\n",
        "cli/output.py": "import jira_chase.simulator\n",
        "simulator/__init__.py": "",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    assert wrong_imports(all_imports(package)) == [
        "jira_chase.cli.output -> jira_chase.simulator (cli may not import simulator)",
        "jira_chase.engine.plan -> jira_chase.store.state (engine may not import store.state)",
        "jira_chase.run -> jira_chase.cli.demo (run may not import cli.demo)",
        "jira_chase.sources.base -> jira_chase.engine.rules (sources may not import engine.rules)",
    ]


def test_no_public_name_means_two_things() -> None:
    """A public function or class is defined once outside the simulator; the rule
    families' `check` is one interface, not a name clash."""
    where = defaultdict(list)
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR)
        if relative.parts[0] == "simulator":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            is_def = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if is_def and not node.name.startswith("_"):
                where[node.name].append(str(relative))
    families = {
        str(p.relative_to(PACKAGE_DIR)) for p in (PACKAGE_DIR / "engine/rules").glob("*.py")
    }
    clashes = {
        name: paths
        for name, paths in where.items()
        if len(paths) > 1 and not (name == "check" and set(paths) <= families)
    }
    assert clashes == {}
