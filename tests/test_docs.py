"""The README's commands and the CLI's help cannot rot."""

import re
from pathlib import Path

import click

from jira_chase.cli.commands import main

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_two_commands_and_ci_runs_the_test_one():
    install_and_demo, install_and_test = quick_start_commands()
    assert install_and_demo.endswith("jira-chase demo")
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line
        and not line.startswith("#")
        # the system browser the report's test drives is installed apart (see README)
        and not line.startswith(("set ", "cd ", "command -v chromium"))
    ]
    assert ci_lines == [install_and_test]


def test_every_command_and_option_is_documented():
    undocumented = []
    for name, command in main.commands.items():
        if not command.help:
            undocumented.append(name)
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                undocumented.append(f"{name} {param.opts[0]}")
    assert not undocumented
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in main.commands if f"jira-chase {name}" not in readme]
    assert not missing, f"commands missing from the README: {missing}"


def test_one_python_version_everywhere():
    pyproject = (ROOT / "pyproject.toml").read_text()
    (required,) = re.findall(r'requires-python = ">=(3\.\d+)"', pyproject)
    (mypy_target,) = re.findall(r'python_version = "(3\.\d+)"', pyproject)
    stated = set(
        re.findall(
            r"Python (3\.\d+)\+? or newer|Python (3\.\d+)\+", (ROOT / "README.md").read_text()
        )
    )
    versions = {v for pair in stated for v in pair if v}
    assert versions == {required} and mypy_target == required
