"""The deployment examples in examples/ parse (cron, systemd, GitHub Actions, GitLab CI)
and every jira-chase command line in them is accepted by the CLI, so they cannot rot."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from jira_chase.cli.commands import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CRON_FIELDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def invocations(text: str) -> list[list[str]]:
    """Every `jira-chase COMMAND ...` in a text, up to a quote or a redirection."""
    found = []
    for match in re.finditer(r"jira-chase ((?:sync|plan|check|runs|explain)\b[^'\n>]*)", text):
        found.append(shlex.split(match.group(1)))
    return found


def assert_accepted(args: list[str]) -> None:
    """The CLI parses these arguments (unknown options and bad values raise)."""
    name, *rest = args
    command = main.commands[name]
    with click.Context(main) as parent:
        command.make_context(name, list(rest), parent=parent)


def cron_field_ok(field: str, low: int, high: int) -> bool:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            return False
        if base == "*":
            continue
        bounds = base.split("-")
        if not all(b.isdigit() and low <= int(b) <= high for b in bounds) or len(bounds) > 2:
            return False
    return True


def test_cron_example_is_a_valid_cron_d_file():
    text = (EXAMPLES / "cron" / "jira-chase").read_text()
    jobs = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        fields = line.split(None, 6)
        assert len(fields) == 7, line  # five schedule fields, the user, the command
        for field, (low, high) in zip(fields[:5], CRON_FIELDS):
            assert cron_field_ok(field, low, high), (field, line)
        assert "%" not in fields[6]  # cron would turn it into a newline
        jobs.append(fields[6])
    (job,) = jobs
    assert 'JIRA_CHASE_JIRA__TOKEN="$(vault kv get' in job
    (args,) = invocations(job)
    assert args[0] == "sync" and "--quiet" in args
    assert_accepted(args)


def read_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((EXAMPLES / "systemd" / name).read_text())
    return parser


def test_systemd_service_and_timer_parse():
    service = read_unit("jira-chase.service")
    assert service.sections() == ["Unit", "Service"]
    assert service["Service"]["Type"] == "oneshot"
    credential = service["Service"]["LoadCredentialEncrypted"]
    assert credential.startswith("jira-token:")
    start = service["Service"]["ExecStart"]
    assert start.startswith("/") and "%d/jira-token" in start and "$$(" in start
    (args,) = invocations(start)
    assert_accepted(args)
    timer = read_unit("jira-chase.timer")
    assert timer.sections() == ["Unit", "Timer", "Install"]
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"


def test_github_actions_workflow_parses():
    doc = yaml.safe_load((EXAMPLES / "github-actions" / "jira-chase.yml").read_text())
    triggers = doc[True]  # YAML 1.1 reads the key `on` as true
    (schedule,) = triggers["schedule"]
    assert all(cron_field_ok(f, lo, hi) for f, (lo, hi) in zip(schedule["cron"].split(),
                                                                CRON_FIELDS))  # fmt: skip
    steps = doc["jobs"]["sync"]["steps"]
    sync = next(s for s in steps if s.get("name") == "Sync")
    assert sync["env"]["JIRA_CHASE_JIRA__TOKEN"] == "${{ secrets.JIRA_CHASE_TOKEN }}"
    (args,) = invocations(sync["run"])
    assert_accepted(args)


def test_gitlab_ci_job_parses():
    doc = yaml.safe_load((EXAMPLES / "gitlab-ci" / ".gitlab-ci.yml").read_text())
    job = doc["jira-chase"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    (line,) = [s for s in job["script"] if "jira-chase" in s]
    assert 'JIRA_CHASE_JIRA__TOKEN="$JIRA_CHASE_TOKEN"' in line
    (args,) = invocations(line)
    assert_accepted(args)


def test_a_bad_option_in_an_example_would_be_caught():
    with pytest.raises(click.UsageError):
        assert_accepted(["sync", "--no-such-option"])
