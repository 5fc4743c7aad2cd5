"""What a tracker user writes reaches the operator's terminal and the markdown report
shown, never obeyed: no raw control character, no forged line."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.engine.safe_text import one_line, printable
from tests.factories import demo_config, write_toml
from tests.security.hostile import (
    FORGED,
    HOSTILE_STATUS_ISSUE,
    hostile_dataset,
    raw_controls,
)

NOW = "2026-11-20T16:00:00Z"


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def assert_shown_not_obeyed(text: str) -> None:
    assert raw_controls(text) == []
    assert not [line for line in text.splitlines() if line.lstrip().startswith(FORGED)]


def test_one_line_and_printable_escape_what_a_terminal_would_obey():
    assert one_line("a\x1b[2J\r\nb\x07\u202e") == "a\\x1b[2J⏎b\\x07\\u202e"
    assert printable("two\nlines\tand\x9b") == "two\nlines\tand\\x9b"


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_jira_data_reaches_no_terminal_raw(raw_sim, tmp_path, deployment):
    sim = raw_sim(hostile_dataset(deployment), deployment)
    data = demo_config(sim.url, str(tmp_path / "s.sqlite"))
    data["jira"]["deployment"] = deployment
    config = str(write_toml(tmp_path / "c.toml", data))
    check = run("check", "--config", config, "--now", NOW)
    assert HOSTILE_STATUS_ISSUE in check.output or "Blocked" in check.output, check.output
    plan = run("plan", "--details", "--config", config, "--now", NOW)
    assert plan.exit_code == 0, plan.output
    assert "\\x1b]0;pwned" in plan.stdout  # shown, escaped
    explain = run("explain", "APP-108", "--config", config, "--now", NOW)
    assert explain.exit_code == 0, explain.output
    report = tmp_path / "r.md"
    made = run("report", "--config", config, "--now", NOW, "--out", str(report),
               "--format", "markdown")  # fmt: skip
    assert made.exit_code == 0, made.output
    for result in (check, plan, explain, made):
        assert_shown_not_obeyed(result.stdout + result.stderr)
    assert_shown_not_obeyed(report.read_text())
