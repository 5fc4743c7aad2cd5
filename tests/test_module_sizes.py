"""The package stays easy to walk: no module outside the simulator grows past 600 lines,
and the CLI stays a thin layer of option parsing and rendering."""

from pathlib import Path

import jira_chase

PACKAGE = Path(jira_chase.__file__).parent
LIMIT = 600
CLI_LIMIT = 300


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_outside_the_simulator_is_over_the_limit():
    too_long = {
        str(path.relative_to(PACKAGE)): _lines(path)
        for path in PACKAGE.rglob("*.py")
        if "simulator" not in path.relative_to(PACKAGE).parts and _lines(path) > LIMIT
    }
    assert too_long == {}, f"modules over {LIMIT} lines: split them by concern"


def test_the_cli_is_thin():
    assert _lines(PACKAGE / "cli" / "commands.py") < CLI_LIMIT
